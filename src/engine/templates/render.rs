//! Rendering a template: the target path and the skeleton with the parameter values substituted
//! (minijinja: `{{ name }}`, `{% if flag %}…{% endif %}`, and the case filters `pascal`,
//! `camel`, `snake`, `kebab`, `shouty`), and the prompt that asks the model to fill it in.
//!
//! Invariants: a placeholder that names no parameter is an error (strict undefined), not empty
//! text; the rendered target is a relative path inside the repository or an error.

use std::collections::BTreeMap;

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use minijinja::{Environment, UndefinedBehavior, Value};

use super::load::Template;
use crate::engine::protocol::ParamKind;
use crate::engine::protocol::templates::check;

/// A template with its values substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Where the file goes, relative to the repository.
    pub target: String,
    pub body: String,
}

/// The instructions one rendering may take: far more than any real skeleton needs.
const FUEL: u64 = 200_000;

/// The longest rendered body kept (the prompt carries it whole).
const MAX_BODY: usize = 64 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // A repository's template is untrusted: a loop of loops must end, not hang the engine.
    env.set_fuel(Some(FUEL));
    env.add_filter("pascal", |s: String| s.to_upper_camel_case());
    env.add_filter("camel", |s: String| s.to_lower_camel_case());
    env.add_filter("snake", |s: String| s.to_snake_case());
    env.add_filter("kebab", |s: String| s.to_kebab_case());
    env.add_filter("shouty", |s: String| s.to_shouty_snake_case());
    env
}

/// The values as minijinja sees them: booleans and integers typed, the rest strings.
fn context(template: &Template, values: &BTreeMap<String, String>) -> BTreeMap<String, Value> {
    template
        .info
        .params
        .iter()
        .filter_map(|p| {
            let text = values.get(&p.name)?;
            let value = match p.kind {
                ParamKind::Bool => Value::from(text == "true"),
                ParamKind::Integer => {
                    text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(text.clone()))
                }
                _ => Value::from(text.clone()),
            };
            Some((p.name.clone(), value))
        })
        .collect()
}

/// "line N: what" for an error in a text that starts on line `first` of its file.
fn describe(error: &minijinja::Error, what: &str, first: usize) -> String {
    let detail = error.detail().map(|d| format!(": {d}")).unwrap_or_default();
    match error.line() {
        Some(line) => format!("line {}: {what}: {}{detail}", first + line - 1, error.kind()),
        None => format!("{what}: {}{detail}", error.kind()),
    }
}

/// The built-in functions a template may call (not parameters).
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug", "loop"];

/// Every name the target and body use is a declared parameter: "line N: `x` is not a
/// parameter (it takes: a, b)" names the first line that uses an undeclared one.
pub(super) fn check_names(template: &Template) -> Result<(), String> {
    let env = environment();
    let declared: Vec<&str> = template.info.params.iter().map(|p| p.name.as_str()).collect();
    let parts = [("target", &template.info.target, None), ("body", &template.body, Some(template.body_line))];
    for (what, source, first) in parts {
        // A syntax error is reported by the rendering that follows, with its line.
        let Ok(compiled) = env.template_from_str(source) else { continue };
        let mut unknown: Vec<String> = compiled
            .undeclared_variables(false)
            .into_iter()
            .filter(|n| !declared.contains(&n.as_str()) && !GLOBALS.contains(&n.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            let at = match first {
                Some(first) => source
                    .lines()
                    .position(|l| l.contains(name.as_str()))
                    .map(|i| format!("line {}: ", first + i))
                    .unwrap_or_default(),
                None => String::new(),
            };
            return Err(format!(
                "{at}in `{what}`: `{name}` is not a parameter (it takes: {})",
                if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
            ));
        }
    }
    Ok(())
}

/// Substitute validated `values` (see `TemplateInfo::validate`) into the target and the body.
pub fn render(template: &Template, values: &BTreeMap<String, String>) -> Result<Rendered, String> {
    let env = environment();
    let ctx = context(template, values);
    let target = env
        .render_str(&template.info.target, &ctx)
        .map_err(|e| describe(&e, "in `target`", 1).replace("line 1: in `target`", "in `target`"))?;
    let target = target.trim().to_string();
    if target.is_empty() {
        return Err("the target path is empty".into());
    }
    check(&ParamKind::Path, &target).map_err(|e| format!("the target path: {e}"))?;
    let body =
        env.render_str(&template.body, &ctx).map_err(|e| describe(&e, "in `body`", template.body_line))?;
    if body.len() > MAX_BODY {
        return Err(format!("the rendered body is larger than {} KiB", MAX_BODY / 1024));
    }
    Ok(Rendered { target, body })
}

/// The prompt of the turn that fills the template in: the skeleton, where it goes and the
/// guidance, asking the model to follow the repository's conventions and write the file with
/// its tools (so the change passes the gate like any other).
pub fn prompt(template: &Template, values: &BTreeMap<String, String>, rendered: &Rendered) -> String {
    let info = &template.info;
    let params: Vec<String> = info
        .params
        .iter()
        .map(|p| format!("- {} = {}", p.name, values.get(&p.name).map(String::as_str).unwrap_or("")))
        .collect();
    let guidance = if template.guidance.trim().is_empty() {
        String::new()
    } else {
        format!("\nGuidance for this template:\n{}\n", template.guidance.trim_end())
    };
    format!(
        "Create `{target}` from the code template `{name}` ({language}: {description}).\n\n\
         Parameters:\n{params}\n{guidance}\n\
         First look at the repository's conventions where they matter (neighbouring files, naming, \
         error handling, imports, how modules are registered), then fill in the skeleton below: \
         replace every TODO with working code and adapt names and structure to what the \
         repository already does. Write it to `{target}` with write_file (if that file already \
         exists, read it and merge with edit_file instead of overwriting it), and register the \
         new code where the repository needs it (module declarations, routers, exports) with \
         edit_file. End with a short summary of what you wrote.\n\n\
         Skeleton for `{target}`:\n```{language}\n{body}\n```\n",
        target = rendered.target,
        name = info.name,
        language = info.language,
        description = info.description,
        params = params.join("\n"),
        body = rendered.body.trim_end(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::TemplateSource;

    fn template(body: &str, target: &str) -> String {
        format!(
            "description = \"d\"\nlanguage = \"python\"\ntarget = \"{target}\"\nbody = \"\"\"\n{body}\"\"\"\n\n\
             [[params]]\nname = \"name\"\ntype = \"identifier\"\n\n\
             [[params]]\nname = \"is_async\"\ntype = \"bool\"\n"
        )
    }

    fn load(body: &str, target: &str) -> Template {
        super::super::load::parse("t.toml", "t", &template(body, target), TemplateSource::BuiltIn).unwrap()
    }

    fn values(name: &str, is_async: bool) -> BTreeMap<String, String> {
        [("name".to_string(), name.to_string()), ("is_async".to_string(), is_async.to_string())].into()
    }

    #[test]
    fn placeholders_filters_and_conditions_render() {
        let t = load(
            "class {{ name | pascal }}:\n    {% if is_async %}async {% endif %}def run(self): ...\n",
            "app/{{ name | snake }}.py",
        );
        let r = render(&t, &values("user_profile", true)).unwrap();
        assert_eq!(r.target, "app/user_profile.py");
        assert_eq!(r.body, "class UserProfile:\n    async def run(self): ...\n");
        let r = render(&t, &values("user_profile", false)).unwrap();
        assert_eq!(r.body, "class UserProfile:\n    def run(self): ...\n");
        let p = prompt(&t, &values("user_profile", false), &r);
        assert!(p.contains("Create `app/user_profile.py` from the code template `t`"), "{p}");
        assert!(p.contains("- name = user_profile") && p.contains("```python\nclass UserProfile:"), "{p}");
        assert!(p.contains("write_file"), "{p}");
    }

    #[test]
    fn a_runaway_template_stops_with_an_error() {
        // Found when the file loads (it is rendered once with sample values), not when used.
        let body = "{% for a in range(1000) %}{% for b in range(1000) %}x{% endfor %}{% endfor %}\n";
        let text = template(body, "x.py");
        let err = super::super::load::parse("t.toml", "t", &text, TemplateSource::Repository).unwrap_err();
        assert!(err.starts_with("t.toml: line 5: in `body`"), "{err}");
    }

    #[test]
    fn a_target_outside_the_repository_is_refused() {
        let t = load("x\n", "{{ name }}/x.py");
        let mut v = values("ok", false);
        assert_eq!(render(&t, &v).unwrap().target, "ok/x.py");
        v.insert("name".into(), "..".into());
        assert!(render(&t, &v).unwrap_err().contains("no `..`"));
    }
}
