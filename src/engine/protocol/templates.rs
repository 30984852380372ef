//! Code templates as they cross the boundary: what a template asks for ([`TemplateInfo`] with its
//! typed [`TemplateParam`]s), the catalogue `/template` lists ([`TemplateList`]), the ops that
//! list, open and run one ([`TemplateOp`]), and the one validation of parameter values
//! ([`TemplateInfo::validate`]) that the TUI's form, `kv1nt exec` and the engine all use, so a
//! value the form accepts is one the engine accepts.
//!
//! Invariant: validation is pure and total — every value, however odd, gives `Ok` or per-field
//! errors, never a panic. Loading templates from files and rendering them is the engine's
//! (`engine::templates`); this module only describes them.

use std::collections::BTreeMap;

/// The type of a parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    /// Any text.
    String,
    /// A name in code: a letter or `_`, then letters, digits or `_`.
    Identifier,
    /// A relative path inside the repository (no `..`, not absolute).
    Path,
    /// One of the listed choices.
    Choice(Vec<String>),
    /// `true` or `false` (`yes`/`no` accepted).
    Bool,
    /// A whole number.
    Integer,
}

impl ParamKind {
    /// The name used in template files: `string`, `identifier`, `path`, `enum`, `bool`, `integer`.
    pub fn name(&self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Identifier => "identifier",
            ParamKind::Path => "path",
            ParamKind::Choice(_) => "enum",
            ParamKind::Bool => "bool",
            ParamKind::Integer => "integer",
        }
    }
}

/// One parameter of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateParam {
    pub name: String,
    pub description: String,
    pub kind: ParamKind,
    /// A value must be given (there is no default).
    pub required: bool,
    /// The value used when none is given.
    pub default: Option<String>,
}

/// Where a template was loaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateSource {
    BuiltIn,
    /// `<config dir>/kv1nt/templates/`.
    User,
    /// The repository's `.kv1nt/templates/` (untrusted: never replaces another's name).
    Repository,
}

impl TemplateSource {
    pub fn name(self) -> &'static str {
        match self {
            TemplateSource::BuiltIn => "built-in",
            TemplateSource::User => "user",
            TemplateSource::Repository => "repository",
        }
    }
}

/// What a template is and asks for (its body and guidance stay in the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateInfo {
    pub name: String,
    pub description: String,
    pub language: String,
    /// The target path pattern, e.g. `src/handlers/{{ name }}.rs`.
    pub target: String,
    pub params: Vec<TemplateParam>,
    pub source: TemplateSource,
}

/// A parameter value that is missing or wrong; `field` is the parameter's name ("" for the
/// template as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// The templates `/template` lists, with the files that could not be loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateList {
    pub templates: Vec<TemplateInfo>,
    /// One line per bad file: file, line, what is wrong.
    pub problems: Vec<String>,
}

/// What the UI asks of the engine about templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOp {
    /// `Event::Templates`.
    List,
    /// The form for one template: `Event::TemplateForm`, or `Event::TemplateInvalid` when there
    /// is no such template.
    Open { name: String },
    /// Validate, render and start a turn that fills it in; `Event::TemplateInvalid` instead of a
    /// turn when the values do not fit.
    Run { name: String, values: BTreeMap<String, String> },
}

impl TemplateInfo {
    /// Check `values` (parameter name → text as typed) against the parameters: unknown names,
    /// missing required ones and values of the wrong type are errors, one per field, in
    /// parameter order. On success, every parameter has a value (defaults filled in; booleans
    /// as `true`/`false`).
    pub fn validate(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, Vec<FieldError>> {
        let mut errors = Vec::new();
        for name in values.keys() {
            if !self.params.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                errors.push(FieldError {
                    field: name.clone(),
                    message: format!(
                        "`{}` has no parameter `{name}` (it takes: {})",
                        self.name,
                        known.join(", ")
                    ),
                });
            }
        }
        let mut out = BTreeMap::new();
        for param in &self.params {
            let given = values.get(&param.name).map(|v| v.trim()).filter(|v| !v.is_empty());
            let value = match (given, &param.default) {
                (Some(v), _) => v.to_string(),
                (None, Some(default)) => default.clone(),
                (None, None) if param.required => {
                    errors.push(FieldError { field: param.name.clone(), message: "required".into() });
                    continue;
                }
                (None, None) if param.kind == ParamKind::Bool => "false".into(),
                (None, None) => {
                    out.insert(param.name.clone(), String::new());
                    continue;
                }
            };
            match check(&param.kind, &value) {
                Ok(value) => {
                    out.insert(param.name.clone(), value);
                }
                Err(message) => errors.push(FieldError { field: param.name.clone(), message }),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// A template's name and the values typed for it (`key=value`).
pub type Invocation = (String, BTreeMap<String, String>);

/// What follows `/template` (in the TUI or `kv1nt exec`): `NAME key=value …`, a value quoted
/// when it has spaces (`summary="list users"` or `'…'`). `Ok(None)` when nothing follows (list
/// the templates); `Err` says what is malformed.
pub fn parse_invocation(args: &str) -> Result<Option<Invocation>, String> {
    let words = split_words(args)?;
    let Some((name, rest)) = words.split_first() else { return Ok(None) };
    if name.contains('=') {
        return Err(format!("`{name}`: the template's name comes first (/template NAME key=value …)"));
    }
    let mut values = BTreeMap::new();
    for word in rest {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!("`{word}` is not key=value (e.g. name=calc)"));
        };
        if values.insert(key.to_string(), value.to_string()).is_some() {
            return Err(format!("`{key}` is given twice"));
        }
    }
    Ok(Some((name.clone(), values)))
}

/// Words separated by whitespace; quotes (`"` or `'`) group and are removed.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} is not closed"));
    }
    words.extend(word);
    Ok(words)
}

/// One value against its kind: the normalised value, or what is wrong with it.
pub fn check(kind: &ParamKind, value: &str) -> Result<String, String> {
    match kind {
        ParamKind::String => Ok(value.to_string()),
        ParamKind::Identifier => {
            let mut chars = value.chars();
            let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Ok(value.to_string())
            } else {
                Err(format!("`{value}` is not an identifier (a letter or _, then letters, digits or _)"))
            }
        }
        ParamKind::Path => {
            let path = std::path::Path::new(value);
            if value.chars().any(char::is_control) {
                Err("a path cannot contain control characters".into())
            } else if path.is_absolute() || value.starts_with('~') {
                Err(format!("`{value}` must be a path relative to the repository"))
            } else if path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                Err(format!("`{value}` must stay inside the repository (no `..`)"))
            } else {
                Ok(value.to_string())
            }
        }
        ParamKind::Choice(choices) => match choices.iter().find(|c| c.as_str() == value) {
            Some(c) => Ok(c.clone()),
            None => Err(format!("`{value}` is not one of: {}", choices.join(", "))),
        },
        ParamKind::Bool => match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "on" | "1" => Ok("true".into()),
            "false" | "no" | "n" | "off" | "0" => Ok("false".into()),
            _ => Err(format!("`{value}` is not true or false")),
        },
        ParamKind::Integer => value
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| format!("`{value}` is not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, kind: ParamKind, required: bool, default: Option<&str>) -> TemplateParam {
        TemplateParam {
            name: name.into(),
            description: String::new(),
            kind,
            required,
            default: default.map(Into::into),
        }
    }

    fn info() -> TemplateInfo {
        TemplateInfo {
            name: "handler".into(),
            description: String::new(),
            language: "rust".into(),
            target: "src/{{ name }}.rs".into(),
            params: vec![
                param("name", ParamKind::Identifier, true, None),
                param("method", ParamKind::Choice(vec!["get".into(), "post".into()]), false, Some("get")),
                param("auth", ParamKind::Bool, false, None),
                param("limit", ParamKind::Integer, false, Some("10")),
                param("dir", ParamKind::Path, false, None),
            ],
            source: TemplateSource::BuiltIn,
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_missing_required_parameter_is_named() {
        let errors = info().validate(&values(&[])).unwrap_err();
        assert_eq!(errors, [FieldError { field: "name".into(), message: "required".into() }]);
        let errors = info().validate(&values(&[("name", "  ")])).unwrap_err();
        assert_eq!(errors[0].to_string(), "name: required");
    }

    #[test]
    fn defaults_fill_in_and_values_are_normalised() {
        let ok = info().validate(&values(&[("name", "list_users"), ("auth", "yes")])).unwrap();
        assert_eq!(ok["method"], "get");
        assert_eq!(ok["auth"], "true");
        assert_eq!(ok["limit"], "10");
        assert_eq!(ok["dir"], "");
    }

    #[test]
    fn an_invocation_splits_into_name_and_quoted_values() {
        assert_eq!(parse_invocation("  ").unwrap(), None);
        let (name, values) = parse_invocation("fastapi-endpoint path=/users summary=\"list all users\" x=''")
            .unwrap()
            .unwrap();
        assert_eq!(name, "fastapi-endpoint");
        assert_eq!(values["path"], "/users");
        assert_eq!(values["summary"], "list all users");
        assert_eq!(values["x"], "");
        assert_eq!(parse_invocation("t calc").unwrap_err(), "`calc` is not key=value (e.g. name=calc)");
        assert_eq!(parse_invocation("t a=1 a=2").unwrap_err(), "`a` is given twice");
        assert!(parse_invocation("t a=\"open").unwrap_err().contains("not closed"));
        assert!(parse_invocation("name=calc").unwrap_err().contains("name comes first"));
    }

    #[test]
    fn wrong_values_are_reported_per_field_in_parameter_order() {
        let errors = info()
            .validate(&values(&[
                ("name", "2fast"),
                ("method", "patch"),
                ("auth", "maybe"),
                ("limit", "ten"),
                ("dir", "../etc"),
                ("colour", "red"),
            ]))
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["colour", "name", "method", "auth", "limit", "dir"]);
        assert!(errors[0].message.contains("has no parameter `colour`"), "{}", errors[0]);
        assert!(errors[1].message.contains("not an identifier"));
        assert_eq!(errors[2].message, "`patch` is not one of: get, post");
        assert!(check(&ParamKind::Path, "/etc/passwd").is_err());
        assert!(check(&ParamKind::Identifier, "").is_err());
        assert!(check(&ParamKind::Identifier, "ünï").is_err());
    }
}
