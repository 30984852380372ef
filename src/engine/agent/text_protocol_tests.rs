//! Unit tests of `text_protocol`: one per recognised format, the sloppy variants small models
//! write, the broken calls that still count, and the text that must not count.

use serde_json::{Value, json};

use super::*;

fn tools() -> Vec<ToolSpec> {
    ["read_file", "list_dir", "grep", "write_file"]
        .into_iter()
        .map(|name| ToolSpec {
            name: name.into(),
            description: format!("the {name} tool"),
            input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        })
        .collect()
}

#[test]
fn hermes_tool_call_blocks_parse_in_order() {
    let text = "Let me look.\n<tool_call>\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.rs\"}}\n</tool_call>\n\
                <tool_call>{\"name\": \"grep\", \"arguments\": {\"pattern\": \"fn main\"}}</tool_call>";
    let calls = parse_calls(text, &tools());
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].name, "read_file");
    assert_eq!(calls[0].arguments, json!({"path": "a.rs"}));
    assert_eq!(calls[1].id, "text_2");
    assert_eq!(calls[1].arguments, json!({"pattern": "fn main"}));
}

#[test]
fn junk_missing_close_tags_strings_and_repeats_are_tolerated() {
    let text = "sure!! <tool_call> ok here: {\"name\":\"read_file\",\"parameters\":\"{\\\"path\\\": \\\"x}y.rs\\\"}\"} trailing \
                <tool_call>{\"name\":\"read_file\",\"parameters\":\"{\\\"path\\\": \\\"x}y.rs\\\"}\"}</tool_call>";
    let calls = parse_calls(text, &tools());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].arguments, json!({"path": "x}y.rs"}));
}

#[test]
fn a_tagged_call_may_name_any_tool_and_leave_out_arguments() {
    let calls = parse_calls("<tool_call>{\"name\": \"frobnicate\"}</tool_call>", &tools());
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].name.as_str(), &calls[0].arguments), ("frobnicate", &json!({})));
}

#[test]
fn a_bare_json_object_naming_an_offered_tool_is_a_call() {
    let text =
        "I will read it.\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"src/lib.rs\"}}\nThen answer.";
    let calls = parse_calls(text, &tools());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].name, "read_file");
    assert_eq!(calls[0].arguments, json!({"path": "src/lib.rs"}));
    // Nested in an OpenAI-like wrapper, it is found too.
    let wrapped = "{\"tool_calls\": [{\"function\": {\"name\": \"list_dir\", \"arguments\": \"{\\\"path\\\": \\\".\\\"}\"}}]}";
    let calls = parse_calls(wrapped, &tools());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].name.as_str(), &calls[0].arguments), ("list_dir", &json!({"path": "."})));
}

#[test]
fn a_fenced_json_call_is_a_call() {
    let text =
        "Here:\n```json\n{\n  \"name\": \"grep\",\n  \"parameters\": {\"pattern\": \"TODO\"}\n}\n```\n";
    let calls = parse_calls(text, &tools());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].name.as_str(), &calls[0].arguments), ("grep", &json!({"pattern": "TODO"})));
}

#[test]
fn bare_and_fenced_objects_must_name_an_offered_tool_with_arguments() {
    let tools = tools();
    for text in [
        "{\"name\": \"delete_everything\", \"arguments\": {}}",
        "{\"name\": \"read_file\"}",
        "```json\n{\"name\": \"Alice\", \"age\": 3}\n```",
        "I would call read_file but I won't. {\"name\": 1}",
        "<tool_call>not json at all</tool_call>",
        "fn main() { let x = {\"name\"; } }",
    ] {
        assert!(parse_calls(text, &tools).is_empty(), "{text}");
    }
}

#[test]
fn a_recited_tool_list_is_not_a_call() {
    // What a small model echoes from a chat template's tool section.
    let text = "<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"read_file\", \"description\": \"Read a file\", \
                \"parameters\": {\"type\": \"object\", \"properties\": {\"path\": {\"type\": \"string\"}}}}}\n</tools>\n\
                {\"name\": \"grep\", \"parameters\": {\"type\": \"object\", \"properties\": {}}}";
    assert!(parse_calls(text, &tools()).is_empty(), "{:?}", parse_calls(text, &tools()));
}

#[test]
fn a_broken_tagged_or_fenced_call_of_an_offered_tool_keeps_its_raw_arguments() {
    let tools = tools();
    // Bad JSON inside the arguments: the raw text comes back as a string for the repair request.
    let calls =
        parse_calls("<tool_call>{\"name\": \"read_file\", \"arguments\": {path: a.rs}}</tool_call>", &tools);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].name, "read_file");
    assert_eq!(calls[0].arguments, Value::String("{path: a.rs}".into()));
    // A missing closing brace: the arguments object itself is whole, so it is recovered.
    let calls =
        parse_calls("```json\n{\"name\": \"list_dir\", \"arguments\": {\"path\": \"src\"}\n```", &tools);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].arguments, json!({"path": "src"}));
    // Cut off before any arguments.
    let calls = parse_calls("<tool_call>{\"name\": \"grep\"", &tools);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].arguments.is_string());
    // A broken call of a tool that is not offered stays text.
    assert!(
        parse_calls("<tool_call>{\"name\": \"TOOL_NAME\", \"arguments\": {…}}</tool_call>", &tools)
            .is_empty()
    );
}

#[test]
fn long_replies_full_of_braces_parse_quickly() {
    let text = "{\"a\": \"".repeat(20_000) + &"{ x ".repeat(20_000);
    let started = std::time::Instant::now();
    assert!(parse_calls(&text, &tools()).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}
