//! Reading a tool call's JSON arguments field by field, with errors that name the tool and the
//! field and say what is expected (see the invariants in `specs.rs`).

use serde_json::{Map, Value};

use super::{SearchReplace, ToolError};

/// The arguments as an object: an object, a string holding one, or null/"" for `{}`.
pub(super) fn object(tool: &str, arguments: &Value) -> Result<Map<String, Value>, ToolError> {
    let parsed;
    let value = match arguments {
        Value::Null => return Ok(Map::new()),
        Value::String(s) if s.trim().is_empty() => return Ok(Map::new()),
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| {
                ToolError::Invalid(format!(
                    "{tool}: the arguments are not valid JSON ({e}); send one JSON object with the \
                     fields of the tool's schema"
                ))
            })?;
            &parsed
        }
        other => other,
    };
    match value {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(ToolError::Invalid(format!(
            "{tool}: the arguments must be a JSON object, got {}",
            describe(other)
        ))),
    }
}

pub(super) struct Args<'a> {
    pub tool: &'a str,
    pub obj: Map<String, Value>,
}

impl Args<'_> {
    pub(super) fn err(&self, msg: String) -> ToolError {
        ToolError::Invalid(format!("{}: {msg}", self.tool))
    }

    /// Refuses unknown fields and missing required ones; `fields` are (name, required).
    pub(super) fn only(&self, fields: &[(&str, bool)]) -> Result<(), ToolError> {
        let list = || {
            fields
                .iter()
                .map(|(f, req)| if *req { format!("`{f}` (required)") } else { format!("`{f}`") })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(unknown) = self.obj.keys().find(|k| !fields.iter().any(|(f, _)| f == k)) {
            return Err(self.err(format!("unknown field `{unknown}`; the fields are {}", list())));
        }
        if let Some((missing, _)) = fields.iter().find(|(f, req)| *req && self.get(f).is_none()) {
            return Err(self.err(format!("missing required field `{missing}`; the fields are {}", list())));
        }
        Ok(())
    }

    /// The field's value; `null` counts as absent.
    pub(super) fn get(&self, field: &str) -> Option<&Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// A string field; `non_empty` refuses "" and whitespace.
    pub(super) fn text(&self, field: &str, non_empty: bool) -> Result<Option<String>, ToolError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if non_empty && s.trim().is_empty() => {
                Err(self.err(format!("field `{field}` is empty; give a non-empty string")))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.err(format!("field `{field}` must be a string, got {}", describe(other))))
            }
        }
    }

    /// An integer field in `min..=max` (an integral number or a numeric string).
    pub(super) fn uint(&self, field: &str, min: usize, max: usize) -> Result<Option<usize>, ToolError> {
        let Some(v) = self.get(field) else { return Ok(None) };
        let n = match v {
            Value::Number(n) => {
                n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
            }
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        let range = if max == usize::MAX {
            format!("an integer ≥ {min}")
        } else {
            format!("an integer from {min} to {max}")
        };
        match n.and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n >= min && n <= max => Ok(Some(n)),
            _ => Err(self.err(format!("field `{field}` must be {range}, got {}", describe(v)))),
        }
    }

    /// A boolean field (`true`/`false`, or those words as strings).
    pub(super) fn boolean(&self, field: &str) -> Result<Option<bool>, ToolError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(other) => {
                Err(self.err(format!("field `{field}` must be true or false, got {}", describe(other))))
            }
        }
    }

    /// `edits`: a non-empty array (or a JSON string holding one) of `{search, replace}` objects.
    pub(super) fn edits(&self) -> Result<Vec<SearchReplace>, ToolError> {
        let shape = "an array of {\"search\": \"exact old text\", \"replace\": \"new text\"} objects";
        let raw = self.get("edits").cloned().unwrap_or(Value::Null);
        let raw = match raw {
            Value::String(s) => serde_json::from_str::<Value>(&s).map_err(|e| {
                self.err(format!("field `edits` must be {shape}; got a string that is not valid JSON ({e})"))
            })?,
            other => other,
        };
        let Value::Array(items) = raw else {
            return Err(self.err(format!("field `edits` must be {shape}, got {}", describe(&raw))));
        };
        if items.is_empty() {
            return Err(self.err(format!("field `edits` is empty; it must be {shape}")));
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(map) = item else {
                return Err(self.err(format!("edits[{i}] must be an object, got {}", describe(item))));
            };
            if let Some(k) = map.keys().find(|k| *k != "search" && *k != "replace") {
                return Err(self.err(format!(
                    "edits[{i}] has unknown field `{k}`; each edit has exactly `search` and `replace`"
                )));
            }
            let field = |name: &str| match map.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                None | Some(Value::Null) => {
                    Err(self.err(format!("edits[{i}] is missing `{name}` (a string)")))
                }
                Some(other) => {
                    Err(self.err(format!("edits[{i}].{name} must be a string, got {}", describe(other))))
                }
            };
            let (search, replace) = (field("search")?, field("replace")?);
            if search.is_empty() {
                return Err(self.err(format!(
                    "edits[{i}].search is empty; it must be the exact existing text to replace \
                     (use write_file to replace a whole file)"
                )));
            }
            out.push(SearchReplace { search, replace });
        }
        Ok(out)
    }
}

/// "a string (\"abc\")", "a number (5)", "an array"… for error messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "…" } else { "" };
            format!("a string ({short:?}{more})")
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
