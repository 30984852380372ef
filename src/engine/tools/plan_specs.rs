//! The planning tools as the model sees them and how their arguments are checked: `todo` (the
//! task list it keeps, `agent::todo`) and `propose_plan` (plan mode's end: the plan the user
//! approves, edits or rejects, `agent::plan`).
//!
//! Invariants: a `todo` list and a plan's steps pass `protocol::todo::validate` before a tool
//! function sees them; a plan has a summary and at least one step; every error names the field
//! and says what is expected, so the model can send the call again.

use serde_json::{Value, json};

use super::ToolError;
use super::args::Args;
use crate::engine::llm::types::ToolSpec;
use crate::engine::protocol::plan::todo_items as pending_items;
use crate::engine::protocol::todo::{MAX_TODO_ITEMS, MAX_TODO_TEXT, TodoItem, TodoStatus, validate};

/// Most files or risks a plan lists.
pub const MAX_PLAN_LIST: usize = 50;
/// Most characters of a plan's summary.
pub const MAX_PLAN_SUMMARY: usize = 4000;

/// `propose_plan`'s arguments, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanArgs {
    pub summary: String,
    pub steps: Vec<String>,
    pub files: Vec<String>,
    pub risks: Vec<String>,
}

fn spec(name: &str, description: &str, input_schema: Value) -> ToolSpec {
    ToolSpec { name: name.to_string(), description: description.to_string(), input_schema }
}

pub(super) fn todo_spec() -> ToolSpec {
    spec(
        "todo",
        "Keep your plan for this session as a task list the user sees: send the WHOLE list every \
         time (it replaces the previous one), so adding, reordering and updating are one call. \
         Use it for work of three steps or more: write the steps first, mark one in_progress \
         when you start it and done as soon as it is finished. An empty list clears it. The \
         list stays word for word in your instructions, also after the conversation is \
         summarised. Changes no file.",
        json!({"type": "object", "properties": {
            "items": {"type": "array", "maxItems": MAX_TODO_ITEMS, "description": "The steps in order.", "items": {
                "type": "object", "properties": {
                    "text": {"type": "string", "maxLength": MAX_TODO_TEXT, "description": "One line: what the step does."},
                    "status": {"type": "string", "enum": ["pending", "in_progress", "done"], "description": "At most one step is in_progress."}
                }, "required": ["text", "status"], "additionalProperties": false}}
        }, "required": ["items"], "additionalProperties": false}),
    )
}

pub(super) fn propose_plan_spec() -> ToolSpec {
    let list = |what: &str| json!({"type": "array", "maxItems": MAX_PLAN_LIST, "items": {"type": "string"}, "description": what});
    spec(
        "propose_plan",
        "Plan mode: when you have read enough to know what to do, propose the plan to the user \
         with this tool — nothing may be changed before they approve it. If they approve, you can \
         make changes and the steps become your task list; if they reject it, revise it as they \
         say. Call it once per plan, at the end of your investigation.",
        json!({"type": "object", "properties": {
            "summary": {"type": "string", "maxLength": MAX_PLAN_SUMMARY, "description": "What the plan achieves and how, in a few sentences."},
            "steps": {"type": "array", "minItems": 1, "maxItems": MAX_TODO_ITEMS, "items": {"type": "string", "maxLength": MAX_TODO_TEXT}, "description": "The steps in order, one line each."},
            "files": list("The files you expect to change or create."),
            "risks": list("What could go wrong or needs the user's attention.")
        }, "required": ["summary", "steps"], "additionalProperties": false}),
    )
}

/// `todo`'s `items`: an array (or a JSON string holding one) of `{text, status}` objects that
/// passes `protocol::todo::validate`. Texts are trimmed.
pub(super) fn todo_items(a: &Args) -> Result<Vec<TodoItem>, ToolError> {
    let shape = "an array of {\"text\": \"…\", \"status\": \"pending|in_progress|done\"} objects";
    let Value::Array(raw) = array(a, "items", shape)? else { unreachable!("array() returns arrays") };
    let mut items = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(a.err(format!("items[{i}] must be an object with `text` and `status`")));
        };
        if let Some(k) = map.keys().find(|k| *k != "text" && *k != "status") {
            return Err(
                a.err(format!("items[{i}] has unknown field `{k}`; each item has `text` and `status`"))
            );
        }
        let Some(Value::String(text)) = map.get("text") else {
            return Err(a.err(format!("items[{i}].text must be a string")));
        };
        let status = match map.get("status") {
            Some(Value::String(s)) => TodoStatus::parse(s.trim()),
            _ => None,
        }
        .ok_or_else(|| {
            a.err(format!("items[{i}].status must be \"pending\", \"in_progress\" or \"done\""))
        })?;
        items.push(TodoItem { text: text.trim().to_string(), status });
    }
    match validate(&items) {
        Some(why) => Err(a.err(format!("{why}. Nothing was changed; send the whole list again."))),
        None => Ok(items),
    }
}

/// `propose_plan`'s arguments.
pub(super) fn plan_args(a: &Args) -> Result<PlanArgs, ToolError> {
    a.only(&[("summary", true), ("steps", true), ("files", false), ("risks", false)])?;
    let summary = a.text("summary", true)?.unwrap_or_default();
    if summary.chars().count() > MAX_PLAN_SUMMARY {
        return Err(
            a.err(format!("field `summary` is longer than {MAX_PLAN_SUMMARY} characters; shorten it"))
        );
    }
    let steps = strings(a, "steps", true)?;
    if steps.is_empty() {
        return Err(a.err("field `steps` is empty; give the plan's steps in order".into()));
    }
    if let Some(why) = validate(&pending_items(&steps)) {
        let why = why.replace("items[", "steps[").replace(".text", "");
        return Err(a.err(format!("{why}. Send the plan again.")));
    }
    let files = strings(a, "files", false)?;
    let risks = strings(a, "risks", false)?;
    Ok(PlanArgs { summary: summary.trim().to_string(), steps, files, risks })
}

/// The field `name` as an array (or a JSON string holding one).
fn array(a: &Args, name: &str, shape: &str) -> Result<Value, ToolError> {
    let raw = match a.get(name).cloned().unwrap_or(Value::Null) {
        Value::String(s) => serde_json::from_str::<Value>(&s).map_err(|e| {
            a.err(format!("field `{name}` must be {shape}; got a string that is not JSON ({e})"))
        })?,
        other => other,
    };
    match raw {
        Value::Array(_) => Ok(raw),
        _ => Err(a.err(format!("field `{name}` must be {shape}"))),
    }
}

/// The field `name` as a list of one-line strings, trimmed, blanks dropped; absent is empty
/// unless `required`.
fn strings(a: &Args, name: &str, required: bool) -> Result<Vec<String>, ToolError> {
    if a.get(name).is_none_or(Value::is_null) {
        return if required { Err(a.err(format!("field `{name}` is required"))) } else { Ok(Vec::new()) };
    }
    let Value::Array(raw) = array(a, name, "an array of strings")? else {
        unreachable!("array() returns arrays")
    };
    if raw.len() > MAX_PLAN_LIST.max(MAX_TODO_ITEMS) {
        return Err(a.err(format!("field `{name}` has {} entries; keep it to {MAX_PLAN_LIST}", raw.len())));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, v) in raw.iter().enumerate() {
        let Value::String(s) = v else {
            return Err(a.err(format!("{name}[{i}] must be a string")));
        };
        let s = s.trim();
        if s.chars().count() > MAX_TODO_TEXT {
            return Err(a.err(format!("{name}[{i}] is longer than {MAX_TODO_TEXT} characters; shorten it")));
        }
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::engine::tools::{ToolInput, parse_call};
    use serde_json::json;

    #[test]
    fn a_plan_needs_a_summary_and_valid_steps() {
        let ok = parse_call(
            "propose_plan",
            &json!({"summary": "Fix the parser.", "steps": [" Read it ", "", "Fix it"], "files": ["src/p.rs"]}),
        )
        .unwrap();
        let ToolInput::ProposePlan(plan) = ok else { panic!("{ok:?}") };
        assert_eq!(plan.steps, vec!["Read it", "Fix it"]);
        assert_eq!(plan.files, vec!["src/p.rs"]);
        assert!(plan.risks.is_empty());
        let err = |args| parse_call("propose_plan", &args).unwrap_err().to_string();
        assert!(err(json!({"steps": ["a"]})).contains("summary"));
        assert!(err(json!({"summary": "s", "steps": []})).contains("steps"));
        assert!(err(json!({"summary": "s", "steps": ["a\nb"]})).contains("steps[0]"));
        assert!(err(json!({"summary": "s", "steps": [1]})).contains("steps[0] must be a string"));
        assert!(err(json!({"summary": "s", "steps": ["a"], "extra": 1})).contains("extra"));
        // Steps given as a JSON string holding the array, as some models do.
        let s = parse_call("propose_plan", &json!({"summary": "s", "steps": "[\"a\", \"b\"]"})).unwrap();
        assert!(matches!(s, ToolInput::ProposePlan(p) if p.steps == ["a", "b"]));
    }
}
