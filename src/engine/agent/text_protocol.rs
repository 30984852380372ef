//! Tool calls for models without native tool calling: the protocol is taught in the system
//! prompt and calls are parsed out of the reply text.
//!
//! The format is the one many local chat templates already use:
//! `<tool_call>{"name": "read_file", "arguments": {"path": "src/main.rs"}}</tool_call>`.
//! Parsing is forgiving because small models are sloppy: junk around the tags, a missing closing
//! tag, a JSON object with trailing text, `"parameters"` instead of `"arguments"`, arguments given
//! as a JSON string, and the same call repeated (kept once).

use serde_json::Value;

use crate::engine::llm::{ToolCall, ToolSpec};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";

/// The system-prompt section that teaches the protocol and lists the tools.
pub fn instructions(tools: &[ToolSpec]) -> String {
    let mut text = String::from(
        "\n# Tools\n\nYou can call tools. To call one, reply with exactly this, one call per block, and then stop \
         and wait for the result:\n<tool_call>\n{\"name\": \"TOOL_NAME\", \"arguments\": {…}}\n</tool_call>\n\
         Results come back in <tool_result> blocks. When you need no more tools, answer normally.\n\nAvailable tools:\n",
    );
    for tool in tools {
        text.push_str(&format!(
            "- {}: {}\n  arguments schema: {}\n",
            tool.name, tool.description, tool.input_schema
        ));
    }
    text
}

/// How a tool result is shown to a text-protocol model.
pub fn format_result(name: &str, content: &str, is_error: bool) -> String {
    let status = if is_error { " error=\"true\"" } else { "" };
    format!("<tool_result name=\"{name}\"{status}>\n{content}\n</tool_result>")
}

/// Every distinct tool call in `text`, in order, with ids `text_1`, `text_2`, …
pub fn parse_calls(text: &str) -> Vec<ToolCall> {
    let mut calls: Vec<ToolCall> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let body_end = after.find(CLOSE).unwrap_or(after.len());
        if let Some((name, arguments)) = first_object(&after[..body_end]).and_then(call_of) {
            let duplicate = calls.iter().any(|c| c.name == name && c.arguments == arguments);
            if !duplicate {
                calls.push(ToolCall { id: format!("text_{}", calls.len() + 1), name, arguments });
            }
        }
        rest = &after[body_end.min(after.len())..];
    }
    calls
}

/// The text before the first tool call (what the model said before acting).
pub fn prose_before_calls(text: &str) -> &str {
    text.find(OPEN).map_or(text, |i| &text[..i]).trim_end()
}

fn call_of(value: Value) -> Option<(String, Value)> {
    let name = value.get("name")?.as_str()?.trim().to_string();
    if name.is_empty() {
        return None;
    }
    let arguments =
        value.get("arguments").or_else(|| value.get("parameters")).cloned().unwrap_or(Value::Null);
    let arguments = match arguments {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    Some((name, arguments))
}

/// The first balanced `{…}` in `text` that parses as JSON (strings and escapes respected).
fn first_object(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut search_from = 0;
    while let Some(offset) = text[search_from..].find('{') {
        let start = search_from + offset;
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(start) {
            match b {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'{' if !in_string => depth += 1,
                b'}' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(value) = serde_json::from_str::<Value>(&text[start..=i]) {
                            return Some(value);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        search_from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clean_calls_parse_in_order() {
        let text = "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n</tool_call>\n\
                    <tool_call>{\"name\": \"grep\", \"arguments\": {\"pattern\": \"fn main\"}}</tool_call>";
        let calls = parse_calls(text);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "read_file");
        assert_eq!(calls[0].arguments, json!({"path": "a.rs"}));
        assert_eq!(calls[1].id, "text_2");
        assert_eq!(prose_before_calls(text), "Let me look.");
    }

    #[test]
    fn junk_missing_close_tags_strings_and_repeats_are_tolerated() {
        let text = "sure!! <tool_call> ok here: {\"name\":\"read_file\",\"parameters\":\"{\\\"path\\\": \\\"x}y.rs\\\"}\"} trailing \
                    <tool_call>{\"name\":\"read_file\",\"parameters\":\"{\\\"path\\\": \\\"x}y.rs\\\"}\"}</tool_call>\
                    <tool_call>{\"name\": \"list_dir\"";
        let calls = parse_calls(text);
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].arguments, json!({"path": "x}y.rs"}));
    }

    #[test]
    fn text_without_calls_has_none() {
        assert!(parse_calls("I would call read_file but I won't. {\"name\": 1}").is_empty());
        assert!(parse_calls("<tool_call>not json at all</tool_call>").is_empty());
    }
}
