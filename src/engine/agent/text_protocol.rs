//! Tool calls written as text: the protocol taught to models without native tool calling, and
//! the recognition of calls that weak models write as text whatever the provider.
//!
//! Recognised, in the order they appear in the reply:
//! - Hermes/Qwen blocks, the protocol's own format and the one many local chat templates use:
//!   `<tool_call>{"name": "read_file", "arguments": {"path": "src/main.rs"}}</tool_call>`. Any
//!   name counts here (an unknown one gets the tool's "unknown tool" answer).
//! - A bare JSON object, or one in a fenced ```json block, with `"name"` of an offered tool and
//!   `"arguments"` (or `"parameters"`). Objects that describe a tool rather than call it (with a
//!   `"description"`, or whose arguments are a JSON schema) are not calls: a small model that
//!   recites its prompt recites the tool list.
//!
//! Parsing is forgiving because small models are sloppy: junk around the tags, a missing closing
//! tag, a JSON object with trailing text, `"parameters"` instead of `"arguments"`, arguments given
//! as a JSON string, and the same call repeated (kept once). A tagged or fenced call of an offered
//! tool whose JSON does not parse is still a call, with its raw arguments as a JSON string: the
//! agent then asks the model once to repair it (`repair.rs`) instead of silently doing nothing.

use serde_json::Value;

use crate::engine::llm::{ToolCall, ToolSpec};

const OPEN: &str = "<tool_call>";
const CLOSE: &str = "</tool_call>";
/// Longest call looked for.
const MAX_CALL_BYTES: usize = 256 * 1024;
/// Bytes the search for objects may scan in one reply: bounds the work on a long reply full of
/// unbalanced braces (calls after that point are not seen).
const SCAN_BUDGET: usize = 8 * 1024 * 1024;

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
    let mark = crate::engine::protocol::chat::TOOL_RESULT_MARK;
    format!("{mark} name=\"{name}\"{status}>\n{content}\n</tool_result>")
}

/// Every distinct tool call in `text`, in order, with ids `text_1`, `text_2`, … `tools` are the
/// tools offered this step (see the module doc for what counts as a call).
pub fn parse_calls(text: &str, tools: &[ToolSpec]) -> Vec<ToolCall> {
    let offered = |name: &str| tools.iter().any(|t| t.name == name);
    let regions = delimited_regions(text);
    let inside = |pos: usize| regions.iter().find(|r| r.start <= pos && pos < r.end);
    let mut found: Vec<(usize, String, Value)> = Vec::new();
    let (mut from, mut budget) = (0, SCAN_BUDGET);
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        if budget == 0 {
            break;
        }
        // A JSON object starts `{"` or `{}`: most braces in prose and code are skipped unparsed.
        if !text[start + 1..].trim_start().starts_with(['"', '}']) {
            from = start + 1;
            continue;
        }
        let region = inside(start);
        match balanced_object(text, start, &mut budget) {
            Some((value, end)) => match call_of(&value, region.is_some_and(|r| r.tagged)) {
                Some((name, arguments)) if region.is_some_and(|r| r.tagged) || offered(&name) => {
                    found.push((start, name, arguments));
                    from = end;
                }
                _ => from = start + 1,
            },
            None => from = start + 1,
        }
    }
    for region in &regions {
        let has_call = found.iter().any(|(pos, ..)| region.start <= *pos && *pos < region.end);
        if !has_call
            && let Some((name, arguments)) = malformed_call(&text[region.start..region.end])
            && offered(&name)
        {
            found.push((region.start, name, arguments));
        }
    }
    found.sort_by_key(|(pos, ..)| *pos);
    let mut calls: Vec<ToolCall> = Vec::new();
    for (_, name, arguments) in found {
        if !calls.iter().any(|c| c.name == name && c.arguments == arguments) {
            calls.push(ToolCall { id: format!("text_{}", calls.len() + 1), name, arguments });
        }
    }
    calls
}

/// A `<tool_call>` body or a fenced block: where a broken call is still recognised.
struct Region {
    start: usize,
    end: usize,
    tagged: bool,
}

/// The `<tool_call>` bodies (to `</tool_call>`, the next `<tool_call>` or the end) and the
/// fenced blocks of `text`, by byte range.
fn delimited_regions(text: &str) -> Vec<Region> {
    let mut regions = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(OPEN) {
        let start = from + offset + OPEN.len();
        let rest = &text[start..];
        let len = [rest.find(CLOSE), rest.find(OPEN)].into_iter().flatten().min().unwrap_or(rest.len());
        regions.push(Region { start, end: start + len, tagged: true });
        from = start + len;
    }
    let mut from = 0;
    while let Some(offset) = text[from..].find("```") {
        let open = from + offset + 3;
        let Some(line_end) = text[open..].find('\n').map(|i| open + i + 1) else { break };
        let Some(close) = text[line_end..].find("```").map(|i| line_end + i) else {
            regions.push(Region { start: line_end, end: text.len(), tagged: false });
            break;
        };
        regions.push(Region { start: line_end, end: close, tagged: false });
        from = close + 3;
    }
    regions
}

/// `(name, arguments)` when `value` is a call. `tagged`: inside `<tool_call>`, where the
/// arguments may be left out; elsewhere they must be there.
fn call_of(value: &Value, tagged: bool) -> Option<(String, Value)> {
    let name = value.get("name")?.as_str()?.trim().to_string();
    if name.is_empty() || value.get("description").is_some() {
        return None;
    }
    let arguments = value.get("arguments").or_else(|| value.get("parameters"));
    if arguments.is_none() && !tagged {
        return None;
    }
    let arguments = match arguments.cloned().unwrap_or(Value::Null) {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    let schema_like = arguments.get("type").is_some() && arguments.get("properties").is_some();
    (!schema_like).then_some((name, arguments))
}

/// A call in a region whose JSON does not parse: the `"name"` it gives, and its arguments —
/// the first object after `"arguments":` when that one parses, else the raw text as a string.
fn malformed_call(region: &str) -> Option<(String, Value)> {
    let name = string_after_key(region, "\"name\"")?;
    let key = region.find("\"arguments\"").or_else(|| region.find("\"parameters\""));
    let arguments = match key {
        Some(at) => {
            let rest = region[at..].split_once(':').map_or("", |(_, r)| r).trim();
            let recovered = rest.find('{').filter(|i| rest[..*i].trim().is_empty());
            let mut budget = MAX_CALL_BYTES;
            match recovered.and_then(|i| balanced_object(rest, i, &mut budget)) {
                Some((value, _)) => value,
                None => Value::String(rest.strip_suffix('}').unwrap_or(rest).trim().to_string()),
            }
        }
        None => Value::String(region.trim().to_string()),
    };
    Some((name, arguments))
}

/// The JSON string value after `key:` in `text` (no escapes; names have none).
fn string_after_key(text: &str, key: &str) -> Option<String> {
    let rest = text[text.find(key)? + key.len()..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    (!name.trim().is_empty()).then(|| name.trim().to_string())
}

/// The balanced `{…}` starting at byte `start` of `text` (strings and escapes respected), parsed,
/// with the byte just after it; `None` when it does not balance within [`MAX_CALL_BYTES`] or
/// does not parse. Each byte looked at is taken from `budget`.
fn balanced_object(text: &str, start: usize, budget: &mut usize) -> Option<(Value, usize)> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let end = text.len().min(start + MAX_CALL_BYTES).min(start + *budget);
    for (i, &b) in text.as_bytes()[..end].iter().enumerate().skip(start) {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b'{' if !in_string => depth += 1,
            b'}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    *budget -= i + 1 - start;
                    return serde_json::from_str::<Value>(&text[start..=i]).ok().map(|v| (v, i + 1));
                }
            }
            _ => {}
        }
    }
    *budget -= end - start;
    None
}

#[cfg(test)]
#[path = "text_protocol_tests.rs"]
mod tests;
