//! What a hook reads on stdin: Claude Code's event JSON, with kv1nt's tools under Claude Code's
//! names and field names where they have one, so existing hook scripts work unchanged.
//!
//! Invariant: file paths in `tool_input` are absolute (as Claude Code gives them); kv1nt's own
//! tool name and arguments ride along as `kv1nt_tool` / `kv1nt_input`.

use std::path::Path;

use serde_json::{Map, Value, json};

/// Claude Code's name for a kv1nt tool: `edit_file` → `Edit`, an MCP tool `srv__t` →
/// `mcp__srv__t`; tools Claude Code has no counterpart of keep kv1nt's name.
pub fn claude_tool_name(tool: &str, is_mcp: bool) -> String {
    if is_mcp {
        return format!("mcp__{tool}");
    }
    match tool {
        "edit_file" => "Edit",
        "write_file" => "Write",
        "run" => "Bash",
        "read_file" => "Read",
        "grep" => "Grep",
        "list_dir" => "LS",
        other => other,
    }
    .to_string()
}

/// The call's arguments with Claude Code's field names (`file_path`, `old_string`/`new_string`,
/// `content`, `command`), the original fields kept where they do not clash.
pub fn tool_input(tool: &str, arguments: &Value, workspace: &Path) -> Value {
    let args = arguments.as_object().cloned().unwrap_or_default();
    let text = |key: &str| args.get(key).and_then(Value::as_str).map(str::to_string);
    let abs = |key: &str| text(key).map(|p| workspace.join(p).display().to_string());
    let mut out = Map::new();
    match tool {
        "edit_file" | "write_file" | "read_file" => {
            out.insert("file_path".into(), abs("path").into());
            if tool == "edit_file" {
                let edits: Vec<Value> = args
                    .get("edits")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|e| json!({"old_string": e.get("search"), "new_string": e.get("replace")}))
                    .collect();
                if let Some(first) = edits.first() {
                    out.insert("old_string".into(), first["old_string"].clone());
                    out.insert("new_string".into(), first["new_string"].clone());
                }
                out.insert("edits".into(), Value::Array(edits));
            }
            if tool == "read_file" {
                let start = args.get("start_line").and_then(Value::as_u64);
                let end = args.get("end_line").and_then(Value::as_u64);
                out.insert("offset".into(), start.into());
                out.insert("limit".into(), end.map(|e| e + 1 - start.unwrap_or(1).min(e)).into());
            }
        }
        "run" => {
            // A snippet's code stands in for the command, so a guard over `command` sees it.
            out.insert("command".into(), text("command").or_else(|| text("code")).into());
            if let Some(secs) = args.get("timeout_secs").and_then(Value::as_u64) {
                out.insert("timeout".into(), (secs * 1000).into());
            }
        }
        "grep" => {
            out.insert("path".into(), abs("path").unwrap_or_else(|| workspace.display().to_string()).into());
            if let Some(i) = args.get("case_insensitive") {
                out.insert("-i".into(), i.clone());
            }
        }
        "list_dir" => {
            out.insert("path".into(), abs("path").unwrap_or_else(|| workspace.display().to_string()).into());
        }
        _ => {}
    }
    for (key, value) in args {
        out.entry(key).or_insert(value);
    }
    Value::Object(out)
}

/// The fields every event carries.
pub struct Common<'a> {
    pub session_id: &'a str,
    pub cwd: &'a Path,
    /// Claude Code's name of kv1nt's approval policy (`default`, `acceptEdits`, …).
    pub permission_mode: &'a str,
}

/// An event's JSON: the common fields, `hook_event_name`, then the event's own.
pub fn payload(common: &Common, event: &str, fields: Value) -> Value {
    let mut out = json!({
        "session_id": common.session_id,
        "transcript_path": "",
        "cwd": common.cwd.display().to_string(),
        "permission_mode": common.permission_mode,
        "hook_event_name": event,
    });
    if let (Some(out), Value::Object(fields)) = (out.as_object_mut(), fields) {
        out.extend(fields);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_get_claude_code_names_and_fields() {
        let ws = Path::new("/w");
        assert_eq!(claude_tool_name("edit_file", false), "Edit");
        assert_eq!(claude_tool_name("fs__read", true), "mcp__fs__read");
        assert_eq!(claude_tool_name("commit", false), "commit");
        let edit = tool_input(
            "edit_file",
            &json!({"path": "Cargo.lock", "edits": [{"search": "a", "replace": "b"}]}),
            ws,
        );
        assert_eq!(edit["file_path"], "/w/Cargo.lock");
        assert_eq!((edit["old_string"].as_str(), edit["new_string"].as_str()), (Some("a"), Some("b")));
        assert_eq!(edit["path"], "Cargo.lock");
        let write = tool_input("write_file", &json!({"path": "a.txt", "content": "x"}), ws);
        assert_eq!((write["file_path"].as_str(), write["content"].as_str()), (Some("/w/a.txt"), Some("x")));
        let run = tool_input("run", &json!({"command": "ls", "timeout_secs": 3}), ws);
        assert_eq!((run["command"].as_str(), run["timeout"].as_u64()), (Some("ls"), Some(3000)));
        let snippet = tool_input("run", &json!({"language": "bash", "code": "rm -rf /"}), ws);
        assert_eq!(snippet["command"], "rm -rf /");
        let read = tool_input("read_file", &json!({"path": "a", "start_line": 3, "end_line": 5}), ws);
        assert_eq!((read["offset"].as_u64(), read["limit"].as_u64()), (Some(3), Some(3)));
    }

    #[test]
    fn payload_has_the_common_fields_first() {
        let common = Common { session_id: "s1", cwd: Path::new("/w"), permission_mode: "default" };
        let v = payload(&common, "UserPromptSubmit", json!({"prompt": "hi"}));
        assert_eq!(v["hook_event_name"], "UserPromptSubmit");
        assert_eq!(v["prompt"], "hi");
        assert_eq!(v["cwd"], "/w");
    }
}
