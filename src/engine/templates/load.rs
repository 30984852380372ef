//! Parsing one template file (TOML) into a [`Template`], checking everything that can be checked
//! before a user fills it in: the fields, each parameter's type, choices and default, and that
//! the body and target pattern are valid templates naming only declared parameters.
//!
//! Invariant: every problem is an `Err` with one line naming the line of the file and what is
//! wrong — never a panic — so one bad file is reported and the others still load.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use crate::engine::protocol::templates::check;
use crate::engine::protocol::{ParamKind, TemplateInfo, TemplateParam, TemplateSource};

/// A loaded template: what crosses to the UI (`info`) and what stays in the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub info: TemplateInfo,
    /// The skeleton, with `{{ param }}` placeholders (minijinja syntax).
    pub body: String,
    /// What the model should know when filling it in.
    pub guidance: String,
    /// Where it came from ("built-in" or the file's path), for messages.
    pub file: String,
    /// The line of the file the body starts on (to report errors in the body).
    pub(super) body_line: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: Option<String>,
    description: String,
    language: String,
    target: String,
    #[serde(default)]
    guidance: String,
    body: Spanned<String>,
    #[serde(default)]
    params: Vec<Spanned<RawParam>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
    required: Option<bool>,
    default: Option<toml::Value>,
    #[serde(default)]
    choices: Vec<String>,
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse `text` (the file `file`, named `stem` without `.toml`) from `source`.
pub fn parse(file: &str, stem: &str, text: &str, source: TemplateSource) -> Result<Template, String> {
    let raw: RawTemplate = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| format!("line {}: ", line_of(text, s.start))).unwrap_or_default();
        format!("{file}: {line}{}", e.message().trim())
    })?;
    let at = |offset: usize, what: String| format!("{file}: line {}: {what}", line_of(text, offset));
    let name = raw.name.clone().unwrap_or_else(|| stem.to_string());
    if name.is_empty()
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(format!(
            "{file}: line 1: the template's name `{name}` must be lower-case letters, digits, - or _"
        ));
    }
    let mut params = Vec::new();
    let mut seen = BTreeSet::new();
    for spanned in &raw.params {
        let start = spanned.span().start;
        let p = spanned.get_ref();
        let param = parameter(p).map_err(|what| at(start, format!("parameter `{}`: {what}", p.name)))?;
        if !seen.insert(param.name.clone()) {
            return Err(at(start, format!("parameter `{}` is declared twice", param.name)));
        }
        params.push(param);
    }
    let body_start = raw.body.span().start;
    let opens_block = text[body_start.min(text.len())..].starts_with("\"\"\"\n")
        || text[body_start.min(text.len())..].starts_with("'''\n");
    let template = Template {
        info: TemplateInfo {
            name,
            description: one_line(&raw.description),
            language: one_line(&raw.language),
            target: raw.target,
            params,
            source,
        },
        body: raw.body.into_inner(),
        guidance: raw.guidance,
        file: file.to_string(),
        body_line: line_of(text, body_start) + usize::from(opens_block),
    };
    // Render once with sample values: a syntax error or a placeholder naming no parameter is
    // found now, with its line, not when a user submits the form.
    super::render::check_names(&template).map_err(|e| format!("{file}: {e}"))?;
    super::render::render(&template, &sample_values(&template.info)).map_err(|e| format!("{file}: {e}"))?;
    Ok(template)
}

fn parameter(p: &RawParam) -> Result<TemplateParam, String> {
    let valid_name = check(&ParamKind::Identifier, &p.name).is_ok();
    if !valid_name {
        return Err("a parameter's name must be an identifier (letters, digits, _)".into());
    }
    let kind = match p.kind.as_str() {
        "string" => ParamKind::String,
        "identifier" => ParamKind::Identifier,
        "path" => ParamKind::Path,
        "enum" if p.choices.is_empty() => return Err("type `enum` needs `choices = [\"a\", \"b\"]`".into()),
        "enum" => ParamKind::Choice(p.choices.clone()),
        "bool" => ParamKind::Bool,
        "integer" | "int" => ParamKind::Integer,
        other => {
            return Err(format!(
                "unknown type `{other}` (use string, identifier, path, enum, bool or integer)"
            ));
        }
    };
    if p.choices.iter().any(|c| c.is_empty() || c.chars().any(char::is_control)) {
        return Err("a choice must be non-empty text without control characters".into());
    }
    if !p.choices.is_empty() && !matches!(kind, ParamKind::Choice(_)) {
        return Err(format!("`choices` apply only to type `enum`, not `{}`", p.kind));
    }
    let default = match &p.default {
        None => None,
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Boolean(b)) => Some(b.to_string()),
        Some(toml::Value::Integer(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(format!("a default must be a string, boolean or integer, not {}", other.type_str()));
        }
    };
    let default = match default {
        Some(value) => Some(check(&kind, &value).map_err(|e| format!("default: {e}"))?),
        None => None,
    };
    let required = match (p.required, &default) {
        (Some(true), Some(_)) => return Err("a required parameter cannot have a default".into()),
        (Some(required), _) => required,
        (None, default) => default.is_none() && kind != ParamKind::Bool,
    };
    Ok(TemplateParam { name: p.name.clone(), description: one_line(&p.description), kind, required, default })
}

/// Text shown on screen from a file that may be hostile: one line, control characters (escape
/// sequences) replaced, at most 200 characters.
fn one_line(text: &str) -> String {
    let line: String = text
        .trim()
        .chars()
        .map(|c| {
            if c == '\n' || c == '\t' {
                ' '
            } else if c.is_control() {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    line
}

/// A value of the right type for each parameter (its default where it has one).
fn sample_values(info: &TemplateInfo) -> std::collections::BTreeMap<String, String> {
    info.params
        .iter()
        .map(|p| {
            let value = p.default.clone().unwrap_or_else(|| match &p.kind {
                ParamKind::Choice(choices) => choices[0].clone(),
                ParamKind::Bool => "false".into(),
                ParamKind::Integer => "1".into(),
                ParamKind::String | ParamKind::Identifier | ParamKind::Path => "example".into(),
            });
            (p.name.clone(), value)
        })
        .collect()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
