//! Turning a [`ChatRequest`] into the chat the built-in model reads, and reading stop sequences
//! out of what it writes. Pure functions: the inference thread applies the GGUF's own chat
//! template to [`chat_messages`], or [`plain_prompt`] when the file has none.
//!
//! The built-in provider has no native tool calling: the turn teaches the text protocol in the
//! system prompt (`agent/text_protocol.rs`), and any structured tool call or result still in the
//! history is rendered in that same text form here, so nothing the model did is lost.

use crate::engine::llm::types::{ChatRequest, Message, Role, ToolSpec};

/// Generation stops once the reply contains one of these: a complete text-protocol call (the
/// model must wait for its result), or the model starting to invent a result itself.
pub const STOP_AFTER: &str = "</tool_call>";
pub const STOP_BEFORE: &str = "<tool_result";

/// (role, content) pairs: `system` first when there is one, then the conversation with
/// consecutive same-role turns merged (chat templates expect user and assistant to alternate).
pub fn chat_messages(req: &ChatRequest) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if !req.system.trim().is_empty() {
        out.push(("system".into(), req.system.clone()));
    }
    for msg in &req.messages {
        let role = if msg.role == Role::Assistant { "assistant" } else { "user" };
        let text = message_text(msg);
        if text.trim().is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, content)) if last == role => {
                content.push_str("\n\n");
                content.push_str(&text);
            }
            _ => out.push((role.to_string(), text)),
        }
    }
    out
}

/// A message's text with its tool calls and results in the text protocol's form.
fn message_text(msg: &Message) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !msg.text.is_empty() {
        parts.push(msg.text.clone());
    }
    for call in &msg.tool_calls {
        let json = serde_json::json!({"name": call.name, "arguments": call.arguments});
        parts.push(format!("<tool_call>\n{json}\n</tool_call>"));
    }
    for result in &msg.tool_results {
        let status = if result.is_error { " error=\"true\"" } else { "" };
        parts.push(format!(
            "<tool_result id=\"{}\"{status}>\n{}\n</tool_result>",
            result.call_id, result.content
        ));
    }
    parts.join("\n")
}

/// The fallback when the GGUF carries no chat template (or llama.cpp does not know it): plain
/// labelled turns ending with the assistant's label.
pub fn plain_prompt(messages: &[(String, String)]) -> String {
    let mut text = String::new();
    for (role, content) in messages {
        let label = match role.as_str() {
            "system" => "System",
            "assistant" => "Assistant",
            _ => "User",
        };
        text.push_str(&format!("{label}: {content}\n\n"));
    }
    text.push_str("Assistant:");
    text
}

/// Where the streamed reply `text` must end, if a stop sequence appeared: the byte length to
/// keep. Only looks at the part after `from` (earlier text was already checked).
pub fn stop_at(text: &str, from: usize) -> Option<usize> {
    let start = floor_boundary(text, from.saturating_sub(STOP_BEFORE.len().max(STOP_AFTER.len())));
    let tail = &text[start..];
    let after = tail.find(STOP_AFTER).map(|i| start + i + STOP_AFTER.len());
    let before = tail.find(STOP_BEFORE).map(|i| start + i);
    match (after, before) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How many bytes at the end of `text` might be the start of a stop sequence (held back from
/// the stream until the next token decides).
pub fn pending_prefix(text: &str) -> usize {
    let mut longest = 0;
    for stop in [STOP_AFTER, STOP_BEFORE] {
        for n in 1..stop.len() {
            if n <= text.len() && text.is_char_boundary(text.len() - n) && text.ends_with(&stop[..n]) {
                longest = longest.max(n);
            }
        }
    }
    longest
}

/// A GBNF grammar whose only sentences are one text-protocol call of one of `names`, with a
/// JSON object as arguments: what a forced tool choice (`agent.tool_choice = "required"`) makes
/// the built-in model write.
pub fn tool_call_grammar<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    // Tool names are identifiers (MCP tools are `SERVER__TOOL`); anything else is left out
    // rather than escaped into the grammar.
    let names: Vec<String> =
        names.into_iter().filter(|n| safe_name(n)).map(|n| format!("\"\\\"{n}\\\"\"")).collect();
    if names.is_empty() {
        return None;
    }
    Some(format!(
        r#"root ::= "<tool_call>\n{{\"name\": " name ", \"arguments\": " object "}}\n</tool_call>"
name ::= {names}
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{{" ws ( string ":" ws value ( "," ws string ":" ws value )* )? ws "}}"
array ::= "[" ws ( value ( "," ws value )* )? ws "]"
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{{4}} ) )* "\""
number ::= "-"? ( [0-9] | [1-9] [0-9]{{0,15}} ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]{{1,3}} )?
ws ::= ( " " | "\n" [ \t]{{0,20}} )?
"#,
        names = names.join(" | ")
    ))
}

/// The JSON Schema of one forced call: an object whose `name` is one of `tools` and whose
/// `arguments` match that tool's input schema, with no properties the schema does not declare.
/// llama.cpp turns it into a grammar (`json_schema_to_grammar`), so a small model cannot misspell
/// an argument or invent one; `None` when no tool has a safe name.
pub fn forced_call_schema(tools: &[ToolSpec]) -> Option<String> {
    let variants: Vec<String> = tools
        .iter()
        .filter(|t| safe_name(&t.name))
        .map(|t| {
            let mut arguments = t.input_schema.clone();
            if let Some(object) = arguments.as_object_mut() {
                object.entry("additionalProperties").or_insert(serde_json::Value::Bool(false));
            }
            // Written by hand so `name` comes before `arguments`: the model picks the tool first.
            format!(
                r#"{{"type":"object","properties":{{"name":{{"const":{}}},"arguments":{}}},"required":["name","arguments"],"additionalProperties":false}}"#,
                serde_json::Value::String(t.name.clone()),
                arguments
            )
        })
        .collect();
    (!variants.is_empty()).then(|| format!(r#"{{"oneOf":[{}]}}"#, variants.join(",")))
}

/// `rules`, a grammar whose `root` is the call's JSON, wrapped in the text protocol's tags.
pub fn wrap_call_grammar(rules: &str) -> String {
    let renamed = rules
        .lines()
        .map(|l| {
            if let Some(rest) = l.strip_prefix("root ::=") {
                format!("tool-call-json ::={rest}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("root ::= \"<tool_call>\\n\" tool-call-json \"\\n</tool_call>\"\n{renamed}\n")
}

fn safe_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::llm::types::{ToolCall, ToolChoice, ToolResult};

    fn request(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            system: "Be brief.".into(),
            messages,
            tools: Vec::new(),
            max_tokens: 10,
            temperature: None,
            tool_choice: ToolChoice::Auto,
            thinking: Default::default(),
        }
    }

    #[test]
    fn tool_calls_and_results_become_protocol_text_and_roles_alternate() {
        let mut call = Message::assistant("Reading.");
        call.tool_calls.push(ToolCall {
            id: "c1".into(),
            name: "read_file".into(),
            arguments: serde_json::json!({"path": "a.rs"}),
        });
        let mut result = Message::text(Role::Tool, "");
        result.tool_results.push(ToolResult {
            call_id: "c1".into(),
            content: "fn a() {}".into(),
            is_error: false,
        });
        let chat = chat_messages(&request(vec![Message::user("hi"), call, result, Message::user("and?")]));
        let roles: Vec<&str> = chat.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert!(chat[2].1.contains("<tool_call>") && chat[2].1.contains("\"read_file\""));
        assert!(chat[3].1.starts_with("<tool_result") && chat[3].1.ends_with("and?"));
        let plain = plain_prompt(&chat);
        assert!(plain.starts_with("System: Be brief.") && plain.ends_with("Assistant:"));
    }

    #[test]
    fn stop_sequences_cut_the_reply_and_hold_back_partial_matches() {
        let text = "ok <tool_call>{\"name\":\"x\"}</tool_call> more";
        assert_eq!(stop_at(text, 0), Some(text.find(" more").unwrap()));
        assert_eq!(stop_at("a\n<tool_result name=\"x\">", 0), Some(2));
        assert_eq!(stop_at("plain text", 0), None);
        assert_eq!(pending_prefix("hello </tool_c"), "</tool_c".len());
        assert_eq!(pending_prefix("hello <tool_res"), "<tool_res".len());
        assert_eq!(pending_prefix("hello"), 0);
        assert_eq!(pending_prefix("é<"), 1);
    }

    #[test]
    fn the_forced_call_schema_holds_each_tool_to_its_own_arguments() {
        let tool = |name: &str, schema: serde_json::Value| ToolSpec {
            name: name.into(),
            description: String::new(),
            input_schema: schema,
        };
        let path = serde_json::json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]});
        let open = serde_json::json!({"type": "object", "additionalProperties": true});
        let schema = forced_call_schema(&[
            tool("read_file", path),
            tool("srv__t", open),
            tool("bad name", serde_json::json!({})),
        ])
        .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        let variants = schema["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), 2, "the unsafe name is left out: {schema}");
        assert_eq!(variants[0]["properties"]["name"]["const"], "read_file");
        assert_eq!(
            variants[0]["properties"]["arguments"]["additionalProperties"], false,
            "no invented arguments"
        );
        assert_eq!(variants[0]["properties"]["arguments"]["required"][0], "path");
        assert_eq!(
            variants[1]["properties"]["arguments"]["additionalProperties"], true,
            "a declared choice is kept"
        );
        let text = forced_call_schema(&[tool("read_file", serde_json::json!({"type": "object"}))]).unwrap();
        assert!(
            text.find("\"name\"").unwrap() < text.find("\"arguments\"").unwrap(),
            "the tool is chosen first"
        );
        assert_eq!(forced_call_schema(&[tool("x y", serde_json::json!({}))]), None);
    }

    #[test]
    fn a_call_grammar_wraps_the_json_rules_in_the_protocols_tags() {
        let g = wrap_call_grammar("root ::= object\nobject ::= \"{\" \"}\"");
        assert!(g.starts_with("root ::= \"<tool_call>\\n\" tool-call-json \"\\n</tool_call>\"\n"), "{g}");
        assert!(g.contains("\ntool-call-json ::= object\n") && g.contains("object ::= "), "{g}");
        assert_eq!(g.matches("root ::=").count(), 1, "{g}");
    }

    #[test]
    fn the_grammar_names_only_safe_tools() {
        let g = tool_call_grammar(["read_file", "srv__t", "bad\"name", ""]).unwrap();
        assert!(g.contains(r#"name ::= "\"read_file\"" | "\"srv__t\"""#), "{g}");
        assert!(!g.contains("bad"));
        assert_eq!(tool_call_grammar(["x y"]), None);
    }
}
