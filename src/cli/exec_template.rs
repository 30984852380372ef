//! `/template` in `kv1nt exec`: `kv1nt exec '/template NAME key=value …'` fills a code template
//! headless (the same validation and turn as the TUI's form), `kv1nt exec /template` lists them.
//!
//! Invariant: a template that cannot run (unknown name, a missing or invalid parameter) starts
//! no turn; exec names every bad field on stderr and exits 2, before the model is asked anything.

use serde_json::{Value, json};

use crate::engine::protocol::templates::parse_invocation;
use crate::engine::protocol::{FieldError, Op, TemplateList, TemplateOp};

/// The exit status when a template cannot run (a usage error, as clap's).
pub const INVALID: i32 = 2;

/// The op for a prompt that is `/template …`; None for any other prompt; `Err` when what follows
/// `/template` is malformed.
pub fn op(prompt: &str) -> Option<Result<Op, String>> {
    let rest = prompt.trim_start().strip_prefix("/template")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(match parse_invocation(rest) {
        Ok(None) => Ok(Op::Template(TemplateOp::List)),
        Ok(Some((name, values))) => Ok(Op::Template(TemplateOp::Run { name, values })),
        Err(why) => Err(format!("/template: {why}")),
    })
}

/// The catalogue as text: one line per template (required parameters bare, optional ones in
/// brackets), then the files that could not be loaded, each on its own line.
pub fn list_text(list: &TemplateList) -> (String, Vec<String>) {
    let lines: Vec<String> = list
        .templates
        .iter()
        .map(|t| {
            let params: Vec<String> = t
                .params
                .iter()
                .map(|p| if p.required { format!("{}=", p.name) } else { format!("[{}=]", p.name) })
                .collect();
            format!(
                "{}  {} ({}, {})  {}",
                t.name,
                t.description,
                t.language,
                t.source.name(),
                params.join(" ")
            )
        })
        .collect();
    let problems = list.problems.iter().map(|p| format!("template not loaded: {p}")).collect();
    (lines.join("\n"), problems)
}

pub fn list_json(list: &TemplateList) -> Value {
    let templates: Vec<Value> = list
        .templates
        .iter()
        .map(|t| {
            let params: Vec<Value> = t
                .params
                .iter()
                .map(|p| {
                    json!({"name": p.name, "type": p.kind.name(), "required": p.required,
                    "default": p.default, "description": p.description})
                })
                .collect();
            json!({"name": t.name, "description": t.description, "language": t.language,
                "source": t.source.name(), "target": t.target, "params": params})
        })
        .collect();
    json!({"type": "templates", "templates": templates, "problems": list.problems})
}

/// "template `pytest-module` cannot run: subject: required; fixtures: `maybe` is not true or false".
pub fn invalid_text(name: &str, errors: &[FieldError]) -> String {
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("template `{name}` cannot run: {}", errors.join("; "))
}

pub fn invalid_json(name: &str, errors: &[FieldError]) -> Value {
    let errors: Vec<Value> = errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect();
    json!({"type": "template_invalid", "name": name, "errors": errors})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_template_command_is_taken() {
        assert!(op("explain this").is_none());
        assert!(op("/templates").is_none());
        assert_eq!(op(" /template").unwrap().unwrap(), Op::Template(TemplateOp::List));
        let Some(Ok(Op::Template(TemplateOp::Run { name, values }))) =
            op("/template pytest-module subject=add")
        else {
            panic!("not a run")
        };
        assert_eq!((name.as_str(), values["subject"].as_str()), ("pytest-module", "add"));
        assert_eq!(
            op("/template t oops").unwrap().unwrap_err(),
            "/template: `oops` is not key=value (e.g. name=calc)"
        );
    }
}
