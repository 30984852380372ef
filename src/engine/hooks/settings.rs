//! The `[hooks]` settings: the TOML mirror of Claude Code's `"hooks"` JSON
//! (`[[hooks.PreToolUse]] matcher = "Edit|Write"` with `[[hooks.PreToolUse.hooks]] command = "…"`),
//! and reading the `hooks` of a Claude Code settings file (`claude_settings`).
//!
//! Invariants: only the six events kv1nt fires are accepted in TOML (a misspelt event is a
//! config error naming the file and line); a Claude Code file's other events and hook types
//! kv1nt does not run (`http`, `prompt`, …) are reported, never silently dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[hooks]` of one config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HookSettings {
    #[serde(rename = "PreToolUse")]
    pub pre_tool_use: Vec<MatcherGroup>,
    #[serde(rename = "PostToolUse")]
    pub post_tool_use: Vec<MatcherGroup>,
    #[serde(rename = "UserPromptSubmit")]
    pub user_prompt_submit: Vec<MatcherGroup>,
    #[serde(rename = "Stop")]
    pub stop: Vec<MatcherGroup>,
    #[serde(rename = "SessionStart")]
    pub session_start: Vec<MatcherGroup>,
    #[serde(rename = "Notification")]
    pub notification: Vec<MatcherGroup>,
    /// Claude Code settings files whose `hooks` apply too, e.g. `["~/.claude/settings.json"]`
    /// (absolute or `~/`; honoured in the user's own config only).
    pub claude_settings: Vec<String>,
}

/// Hooks that run when `matcher` matches (a regex over the tool name; empty or `*`: always).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatcherGroup {
    pub matcher: String,
    pub hooks: Vec<HookCommand>,
}

/// One hook: `type = "command"` (the only type kv1nt runs), the shell command, seconds allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookCommand {
    #[serde(rename = "type", default = "command_type")]
    pub kind: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub timeout: Option<u64>,
}

fn command_type() -> String {
    "command".into()
}

/// The events kv1nt fires, in settings order.
pub const EVENTS: [&str; 6] =
    ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SessionStart", "Notification"];

impl HookSettings {
    /// The groups of one event (by its Claude Code name).
    pub fn groups(&self, event: &str) -> &[MatcherGroup] {
        match event {
            "PreToolUse" => &self.pre_tool_use,
            "PostToolUse" => &self.post_tool_use,
            "UserPromptSubmit" => &self.user_prompt_submit,
            "Stop" => &self.stop,
            "SessionStart" => &self.session_start,
            "Notification" => &self.notification,
            _ => &[],
        }
    }

    fn groups_mut(&mut self, event: &str) -> Option<&mut Vec<MatcherGroup>> {
        Some(match event {
            "PreToolUse" => &mut self.pre_tool_use,
            "PostToolUse" => &mut self.post_tool_use,
            "UserPromptSubmit" => &mut self.user_prompt_submit,
            "Stop" => &mut self.stop,
            "SessionStart" => &mut self.session_start,
            "Notification" => &mut self.notification,
            _ => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        EVENTS.iter().all(|e| self.groups(e).is_empty()) && self.claude_settings.is_empty()
    }
}

/// A `claude_settings` entry as a path: `~/…` under `home`; relative paths are refused (they
/// would follow whatever repository kv1nt is started in).
pub fn settings_path(entry: &str, home: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(rest) = entry.strip_prefix("~/") {
        return home.map(|h| h.join(rest)).ok_or_else(|| format!("{entry}: no home directory"));
    }
    let path = PathBuf::from(entry);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(format!(
            "hooks.claude_settings: `{entry}` must be absolute or start with ~/ (a relative path \
             would read the hooks of whatever repository kv1nt starts in)"
        ))
    }
}

/// The `hooks` of a Claude Code settings file's text, and what of it kv1nt does not run.
pub fn from_claude_json(text: &str) -> Result<(HookSettings, Vec<String>), String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let mut settings = HookSettings::default();
    let mut skipped = Vec::new();
    let Some(hooks) = value.get("hooks") else { return Ok((settings, skipped)) };
    let events: BTreeMap<String, Vec<MatcherGroup>> =
        serde_json::from_value(hooks.clone()).map_err(|e| format!("`hooks`: {e}"))?;
    for (event, groups) in events {
        match settings.groups_mut(&event) {
            Some(slot) => slot.extend(groups),
            None => skipped.push(format!("{event} hooks (kv1nt does not fire {event})")),
        }
    }
    Ok((settings, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_mirrors_the_json_shape() {
        let text = "[[PreToolUse]]\nmatcher = \"Edit|Write\"\n[[PreToolUse.hooks]]\ntype = \"command\"\n\
                    command = \"./deny.sh\"\ntimeout = 5\n[[Stop]]\n[[Stop.hooks]]\ncommand = \"x\"\n";
        let s: HookSettings = toml::from_str(text).unwrap();
        assert_eq!(s.pre_tool_use[0].matcher, "Edit|Write");
        assert_eq!(s.pre_tool_use[0].hooks[0].command, "./deny.sh");
        assert_eq!(s.pre_tool_use[0].hooks[0].timeout, Some(5));
        assert_eq!(s.stop[0].hooks[0].kind, "command");
        let err = toml::from_str::<HookSettings>("[[PreToolUs]]\n").unwrap_err().to_string();
        assert!(err.contains("PreToolUse"), "{err}");
    }

    #[test]
    fn claude_settings_files_keep_known_events_and_say_what_is_skipped() {
        let text = r#"{"permissions": {"allow": []}, "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 30, "if": "Bash(rm *)"}]}],
            "SessionEnd": [{"hooks": [{"type": "command", "command": "bye"}]}]}}"#;
        let (s, skipped) = from_claude_json(text).unwrap();
        assert_eq!(s.pre_tool_use[0].hooks[0].command, "guard.sh");
        assert_eq!(skipped, ["SessionEnd hooks (kv1nt does not fire SessionEnd)"]);
        assert!(from_claude_json("{").is_err());
        assert!(from_claude_json("{}").unwrap().0.is_empty());
    }

    #[test]
    fn settings_paths_must_not_follow_the_repository() {
        let home = Path::new("/home/u");
        assert_eq!(
            settings_path("~/.claude/settings.json", Some(home)).unwrap(),
            home.join(".claude/settings.json")
        );
        assert_eq!(settings_path("/etc/x.json", None).unwrap(), PathBuf::from("/etc/x.json"));
        assert!(settings_path(".claude/settings.json", Some(home)).unwrap_err().contains("absolute"));
    }
}
