//! Tool calls from weak models: calls written as text in a reply that made no native call
//! (recognised by `text_protocol::parse_calls`, whatever the provider), and the one repair
//! request a call with malformed arguments gets.
//!
//! Invariants: a native reply's text calls become its `tool_calls` (ids unique in the session,
//! so the next request pairs each result with its call on every wire) before the reply is stored;
//! a call whose arguments are not a JSON object matching its tool's schema is never run — the
//! first time in a turn for that tool the model is told what is wrong and given the schema, the
//! next time the call is reported as failed to the model and the user, with no further request.

use serde_json::{Map, Value};

use super::runtime::Engine;
use super::text_protocol;
use super::tool_calls::Outcome;
use crate::engine::llm::{Message, ToolCall, ToolSpec};
use crate::engine::protocol::{Event, LogLevel};
use crate::engine::tools;

impl Engine {
    /// A reply with no native tool calls on a native-tools provider: the calls its text holds
    /// become its calls.
    pub(super) fn recognise_text_calls(&self, reply: &mut Message) {
        if self.turn.text_tools || !reply.tool_calls.is_empty() || reply.text.is_empty() {
            return;
        }
        let calls = text_protocol::parse_calls(&reply.text, &self.offered_tools());
        if calls.is_empty() {
            return;
        }
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        self.log(LogLevel::Info, format!("tool calls written as text recognised: {}", names.join(", ")));
        let step = self.history.len();
        for mut call in calls {
            call.id = format!("{}_{step}", call.id);
            self.emit(Event::ToolCall(call.clone()));
            reply.tool_calls.push(call);
        }
    }

    /// `None` when `call`'s arguments suit its tool (or the tool is not one offered: running it
    /// says so); otherwise the result to give the model instead of running it.
    pub(super) fn malformed_arguments(&mut self, call: &ToolCall) -> Option<Outcome> {
        let spec = self.offered_tools().into_iter().find(|t| t.name == call.name)?;
        let problem = if self.mcp.tool(&call.name).is_some() {
            schema_problem(&spec, &call.arguments)
        } else {
            tools::parse_call(&call.name, &call.arguments).err().map(|e| e.to_string())
        }?;
        if self.turn.repaired.insert(call.name.clone()) {
            self.log(
                LogLevel::Info,
                format!("asking the model to repair its call of {}: {problem}", call.name),
            );
            let form = if self.turn.text_tools {
                format!("<tool_call>{{\"name\": \"{}\", \"arguments\": {{…}}}}</tool_call>", call.name)
            } else {
                "a tool call whose arguments are one JSON object".to_string()
            };
            return Some(Outcome::error(format!(
                "Not run: the arguments of {} are malformed: {problem}\nSend the call again, once, as \
                 {form} matching this schema: {}",
                call.name, spec.input_schema
            )));
        }
        let text = format!(
            "The model's call of {} failed: its arguments were still malformed after a repair request ({problem}).",
            call.name
        );
        self.log(LogLevel::Warn, text.clone());
        self.emit(Event::Notice { level: LogLevel::Warn, text });
        Some(Outcome::error(format!(
            "Failed: the arguments of {} were malformed again ({problem}). The call was not run; \
             do without it or answer the user.",
            call.name
        )))
    }
}

/// What is wrong with `arguments` for `spec`'s JSON schema, checked as far as a model's mistakes
/// go: one JSON object, its required fields present, the top-level fields of the declared types.
fn schema_problem(spec: &ToolSpec, arguments: &Value) -> Option<String> {
    let parsed;
    let object: &Map<String, Value> = match arguments {
        Value::Null => return None,
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => {
                parsed = map;
                &parsed
            }
            Ok(_) => return Some("the arguments must be a JSON object".into()),
            Err(e) => return Some(format!("the arguments are not valid JSON ({e})")),
        },
        Value::Object(map) => map,
        _ => return Some("the arguments must be a JSON object".into()),
    };
    let schema = &spec.input_schema;
    let required = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str);
    for field in required {
        if object.get(field).is_none_or(Value::is_null) {
            return Some(format!("missing required field `{field}`"));
        }
    }
    let properties = schema["properties"].as_object();
    for (field, value) in object {
        let Some(declared) = properties.and_then(|p| p.get(field)) else { continue };
        let types: Vec<&str> = match &declared["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        if !types.iter().any(|t| has_type(value, t)) {
            return Some(format!("field `{field}` must be {}", types.join(" or ")));
        }
    }
    None
}

fn has_type(value: &Value, json_type: &str) -> bool {
    match json_type {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> ToolSpec {
        ToolSpec {
            name: "notes__search".into(),
            description: "search notes".into(),
            input_schema: json!({
                "type": "object",
                "properties": {"query": {"type": "string"}, "limit": {"type": ["integer", "null"]}},
                "required": ["query"]
            }),
        }
    }

    #[test]
    fn well_formed_arguments_pass() {
        assert_eq!(schema_problem(&spec(), &json!({"query": "x", "limit": 3})), None);
        assert_eq!(schema_problem(&spec(), &json!("{\"query\": \"x\"}")), None);
        assert_eq!(schema_problem(&spec(), &json!({"query": "x", "extra": true})), None);
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        let problem = |args: Value| schema_problem(&spec(), &args).unwrap();
        assert!(problem(json!("{query: x}")).contains("not valid JSON"));
        assert!(problem(json!([1, 2])).contains("must be a JSON object"));
        assert!(problem(json!({"limit": 3})).contains("missing required field `query`"));
        assert!(problem(json!({"query": 7})).contains("field `query` must be string"));
        assert!(problem(json!({"query": "x", "limit": "many"})).contains("integer or null"));
    }
}
