//! What the model is told about the tools ([`tool_specs`]) and how its calls are checked
//! ([`parse_call`]).
//!
//! Invariants:
//! - The schemas and the parser agree: every property in a schema is accepted by the parser, every
//!   `required` property is required, and nothing else is accepted (unknown fields are refused,
//!   like serde's `deny_unknown_fields`, but field by field so each error names the field).
//! - Arguments may come as a JSON object, or as a JSON string holding the object (some models do
//!   that); `null` or an empty string means `{}`. Optional fields given as `null` count as absent.
//!   Integers may be given as integral numbers or numeric strings, booleans as `"true"`/`"false"`.
//! - Every error starts with the tool name and says what is expected, so the model can retry.
//! - Values are checked here (line numbers ≥ 1, ranges ordered, limits in bounds, non-empty
//!   path/pattern/search/question), so the tool functions receive sane arguments.

use serde_json::{Map, Value, json};

use super::{
    EditArgs, GrepArgs, ListArgs, MAX_GREP_RESULTS, MAX_LIST_DEPTH, ReadArgs, SearchReplace, ToolError,
    WriteArgs,
};
use crate::engine::llm::types::ToolSpec;

/// Every tool name, in the order of [`tool_specs`].
pub const TOOL_NAMES: [&str; 6] = ["read_file", "list_dir", "grep", "edit_file", "write_file", "ask_user"];

/// A tool call's arguments, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolInput {
    Read(ReadArgs),
    List(ListArgs),
    Grep(GrepArgs),
    Edit(EditArgs),
    Write(WriteArgs),
    AskUser { question: String },
}

impl ToolInput {
    /// Whether running it changes the workspace (and so goes through the approval gate).
    pub fn mutates(&self) -> bool {
        matches!(self, ToolInput::Edit(_) | ToolInput::Write(_))
    }

    /// The tool's name as the model calls it.
    pub fn name(&self) -> &'static str {
        match self {
            ToolInput::Read(_) => "read_file",
            ToolInput::List(_) => "list_dir",
            ToolInput::Grep(_) => "grep",
            ToolInput::Edit(_) => "edit_file",
            ToolInput::Write(_) => "write_file",
            ToolInput::AskUser { .. } => "ask_user",
        }
    }
}

/// The specs sent to the model, one per name in [`TOOL_NAMES`].
pub fn tool_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, input_schema: Value| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        input_schema,
    };
    let path = |what: &str| json!({"type": "string", "description": what});
    vec![
        spec(
            "read_file",
            "Read a text file of the workspace. Returns its lines numbered like \"   12\\tcode\" (the \
             number and tab are not part of the file). One call returns at most 2000 lines or 256 KiB; \
             when more remain it says which start_line to call next. Files over 10 MiB need a line \
             range. Read a file before editing it: edits are refused if the file changed since.",
            json!({"type": "object", "properties": {
                "path": path("File path relative to the workspace root, e.g. \"src/main.rs\"."),
                "start_line": {"type": "integer", "minimum": 1, "description": "First line to show (1-based). Default 1."},
                "end_line": {"type": "integer", "minimum": 1, "description": "Last line to show (inclusive). Default: to the end."}
            }, "required": ["path"], "additionalProperties": false}),
        ),
        spec(
            "list_dir",
            "List a directory of the workspace as an indented tree (directories end with '/'), \
             honouring .gitignore and skipping hidden files and .git. At most 1000 entries.",
            json!({"type": "object", "properties": {
                "path": path("Directory relative to the workspace root. Default \".\" (the root)."),
                "depth": {"type": "integer", "minimum": 1, "maximum": MAX_LIST_DEPTH, "description": "How many levels to descend. Default 2."}
            }, "additionalProperties": false}),
        ),
        spec(
            "grep",
            "Search file contents with a regular expression (Rust regex syntax; escape ( [ . * + ? \
             { | to match them literally). Returns matching lines as \"path:line: text\" (lines cut to \
             300 characters), honouring .gitignore and skipping binary files. Use it to find where \
             something is defined or used before reading files.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "description": "Regular expression, e.g. \"fn parse_\\\\w+\"."},
                "path": path("File or directory to search, relative to the workspace root. Default \".\"."),
                "glob": {"type": "string", "description": "Only search files matching this glob, e.g. \"*.rs\" or \"src/**/*.ts\"."},
                "case_insensitive": {"type": "boolean", "description": "Ignore case. Default false."},
                "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_GREP_RESULTS, "description": "Most matching lines to return. Default 200."}
            }, "required": ["pattern"], "additionalProperties": false}),
        ),
        spec(
            "edit_file",
            "Change an existing text file by search/replace blocks, applied in order. Each search \
             must match the current file text exactly once, character for character (whitespace and \
             indentation included, without read_file's line numbers): copy it from read_file output \
             and include a few surrounding lines so it is unique. replace is the new text for that \
             span (empty to delete it). If any block fails, nothing changes and the error says why. \
             The user may be asked to approve the change.",
            json!({"type": "object", "properties": {
                "path": path("File to edit, relative to the workspace root."),
                "edits": {"type": "array", "minItems": 1, "description": "Blocks applied in order.", "items": {
                    "type": "object", "properties": {
                        "search": {"type": "string", "description": "Exact existing text to replace; must occur exactly once."},
                        "replace": {"type": "string", "description": "Text to put in its place."}
                    }, "required": ["search", "replace"], "additionalProperties": false}}
            }, "required": ["path", "edits"], "additionalProperties": false}),
        ),
        spec(
            "write_file",
            "Create a new file (parent directories are created), or replace the whole content of an \
             existing one (read it first). Prefer edit_file for changes to part of a file. The user \
             may be asked to approve the change.",
            json!({"type": "object", "properties": {
                "path": path("File path relative to the workspace root."),
                "content": {"type": "string", "description": "The complete new content of the file."}
            }, "required": ["path", "content"], "additionalProperties": false}),
        ),
        spec(
            "ask_user",
            "Ask the user a question and wait for the answer. Use it when the request is ambiguous \
             or a decision is theirs to make; do not use it for things you can find out with the \
             other tools.",
            json!({"type": "object", "properties": {
                "question": {"type": "string", "description": "The question, self-contained."}
            }, "required": ["question"], "additionalProperties": false}),
        ),
    ]
}

/// Parses and checks a tool call's arguments.
pub fn parse_call(name: &str, arguments: &Value) -> Result<ToolInput, ToolError> {
    if !TOOL_NAMES.contains(&name) {
        return Err(ToolError::Invalid(format!(
            "unknown tool `{name}`; the available tools are: {}",
            TOOL_NAMES.join(", ")
        )));
    }
    let a = Args { tool: name, obj: object(name, arguments)? };
    let input = match name {
        "read_file" => {
            a.only(&[("path", true), ("start_line", false), ("end_line", false)])?;
            let start_line = a.uint("start_line", 1, usize::MAX)?;
            let end_line = a.uint("end_line", 1, usize::MAX)?;
            if let (Some(s), Some(e)) = (start_line, end_line)
                && e < s
            {
                return Err(a.err(format!("end_line ({e}) must not be before start_line ({s})")));
            }
            ToolInput::Read(ReadArgs {
                path: a.text("path", true)?.unwrap_or_default(),
                start_line,
                end_line,
            })
        }
        "list_dir" => {
            a.only(&[("path", false), ("depth", false)])?;
            ToolInput::List(ListArgs {
                path: a.text("path", true)?,
                depth: a.uint("depth", 1, MAX_LIST_DEPTH)?,
            })
        }
        "grep" => {
            a.only(&[
                ("pattern", true),
                ("path", false),
                ("glob", false),
                ("case_insensitive", false),
                ("max_results", false),
            ])?;
            ToolInput::Grep(GrepArgs {
                pattern: a.text("pattern", true)?.unwrap_or_default(),
                path: a.text("path", true)?,
                glob: a.text("glob", false)?,
                case_insensitive: a.boolean("case_insensitive")?.unwrap_or(false),
                max_results: a.uint("max_results", 1, MAX_GREP_RESULTS)?,
            })
        }
        "edit_file" => {
            a.only(&[("path", true), ("edits", true)])?;
            ToolInput::Edit(EditArgs { path: a.text("path", true)?.unwrap_or_default(), edits: a.edits()? })
        }
        "write_file" => {
            a.only(&[("path", true), ("content", true)])?;
            ToolInput::Write(WriteArgs {
                path: a.text("path", true)?.unwrap_or_default(),
                content: a.text("content", false)?.unwrap_or_default(),
            })
        }
        _ => {
            a.only(&[("question", true)])?;
            ToolInput::AskUser { question: a.text("question", true)?.unwrap_or_default() }
        }
    };
    Ok(input)
}

/// The arguments as an object: an object, a string holding one, or null/"" for `{}`.
fn object(tool: &str, arguments: &Value) -> Result<Map<String, Value>, ToolError> {
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

struct Args<'a> {
    tool: &'a str,
    obj: Map<String, Value>,
}

impl Args<'_> {
    fn err(&self, msg: String) -> ToolError {
        ToolError::Invalid(format!("{}: {msg}", self.tool))
    }

    /// Refuses unknown fields and missing required ones; `fields` are (name, required).
    fn only(&self, fields: &[(&str, bool)]) -> Result<(), ToolError> {
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
    fn get(&self, field: &str) -> Option<&Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// A string field; `non_empty` refuses "" and whitespace.
    fn text(&self, field: &str, non_empty: bool) -> Result<Option<String>, ToolError> {
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
    fn uint(&self, field: &str, min: usize, max: usize) -> Result<Option<usize>, ToolError> {
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
    fn boolean(&self, field: &str) -> Result<Option<bool>, ToolError> {
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
    fn edits(&self) -> Result<Vec<SearchReplace>, ToolError> {
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
