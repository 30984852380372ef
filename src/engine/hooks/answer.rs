//! How a hook answered, read as Claude Code reads it: exit 0 is success (stdout may be JSON:
//! `decision`, `reason`, `continue`, `stopReason`, `systemMessage`, `hookSpecificOutput` with
//! `permissionDecision` / `permissionDecisionReason` / `additionalContext`); exit 2 blocks
//! with stderr as the reason; any other status, a hook that could not start and one that timed
//! out are non-blocking errors, shown to the user.
//!
//! Invariant: pure — the same run always reads the same way; JSON is read only on exit 0.

use serde_json::Value;

use super::run::HookRun;

/// A PreToolUse hook's word on the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    Allow,
    Ask,
    Deny,
}

/// One hook's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// PreToolUse: allow / ask / deny, with the reason.
    pub permission: Option<(Permission, String)>,
    /// Other events: exit 2 or `decision: "block"` — the reason.
    pub block: Option<String>,
    /// `additionalContext` (or, for UserPromptSubmit and SessionStart, plain stdout).
    pub context: Option<String>,
    /// `continue: false`: the turn stops, with `stopReason`.
    pub stop: Option<String>,
    /// `systemMessage`: for the user.
    pub message: Option<String>,
    /// A non-blocking error for the user.
    pub error: Option<String>,
    pub timed_out: bool,
}

/// Reads `run` as the answer of an `event` hook.
pub fn interpret(event: &str, run: &HookRun) -> Answer {
    let mut answer = Answer::default();
    if let Some(why) = &run.not_started {
        answer.error = Some(format!("could not start: {why}"));
        return answer;
    }
    if run.timed_out {
        answer.timed_out = true;
        answer.error = Some(format!("timed out after {} s and was killed", run.limit_secs));
        return answer;
    }
    match run.exit_code {
        Some(0) => {}
        Some(2) => {
            let reason = run.stderr.trim();
            let reason = if reason.is_empty() { "(the hook gave no reason)" } else { reason }.to_string();
            if event == "PreToolUse" {
                answer.permission = Some((Permission::Deny, reason));
            } else {
                answer.block = Some(reason);
            }
            return answer;
        }
        other => {
            let status = other.map_or("killed by a signal".to_string(), |c| format!("exit {c}"));
            let detail = run.stderr.trim().lines().next().unwrap_or_default();
            let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
            answer.error = Some(format!("{status}{detail}"));
            return answer;
        }
    }
    let stdout = run.stdout.trim();
    let json = if stdout.starts_with('{') { serde_json::from_str::<Value>(stdout).ok() } else { None };
    let Some(json) = json else {
        if !stdout.is_empty() && matches!(event, "UserPromptSubmit" | "SessionStart") {
            answer.context = Some(stdout.to_string());
        }
        return answer;
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    if json.get("continue").and_then(Value::as_bool) == Some(false) {
        answer.stop = Some(text(&json, "stopReason").unwrap_or_else(|| "a hook stopped the turn".into()));
    }
    answer.message = text(&json, "systemMessage").filter(|m| !m.trim().is_empty());
    let reason = text(&json, "reason").unwrap_or_default();
    match text(&json, "decision").as_deref() {
        Some("block") if event == "PreToolUse" => answer.permission = Some((Permission::Deny, reason)),
        Some("approve") if event == "PreToolUse" => answer.permission = Some((Permission::Allow, reason)),
        Some("block") => {
            answer.block = Some(if reason.is_empty() { "(the hook gave no reason)".into() } else { reason })
        }
        _ => {}
    }
    let specific = json
        .get("hookSpecificOutput")
        .filter(|s| s.get("hookEventName").and_then(Value::as_str).is_none_or(|name| name == event));
    if let Some(specific) = specific {
        let why = text(specific, "permissionDecisionReason").unwrap_or_default();
        let permission = match text(specific, "permissionDecision").as_deref() {
            Some("allow") => Some(Permission::Allow),
            Some("ask") => Some(Permission::Ask),
            Some("deny") => Some(Permission::Deny),
            _ => None,
        };
        if let Some(permission) = permission.filter(|_| event == "PreToolUse") {
            answer.permission = Some((permission, why));
        }
        answer.context = text(specific, "additionalContext").filter(|c| !c.trim().is_empty());
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: i32, stdout: &str, stderr: &str) -> HookRun {
        HookRun { exit_code: Some(code), stdout: stdout.into(), stderr: stderr.into(), ..HookRun::default() }
    }

    #[test]
    fn exit_two_blocks_with_stderr() {
        let a = interpret("PreToolUse", &run(2, "{\"decision\":\"approve\"}", "lock files are generated\n"));
        assert_eq!(a.permission, Some((Permission::Deny, "lock files are generated".into())));
        let a = interpret("Stop", &run(2, "", ""));
        assert_eq!(a.block.as_deref(), Some("(the hook gave no reason)"));
    }

    #[test]
    fn other_statuses_and_timeouts_are_non_blocking_errors() {
        let a = interpret("PreToolUse", &run(1, "", "jq: not found\nmore"));
        assert_eq!((a.permission, a.error.as_deref()), (None, Some("exit 1: jq: not found")));
        let timed = HookRun { timed_out: true, limit_secs: 2, ..HookRun::default() };
        let a = interpret("PreToolUse", &timed);
        assert!(a.timed_out && a.permission.is_none() && a.error.unwrap().contains("2 s"));
    }

    #[test]
    fn json_decisions_on_exit_zero() {
        let deny = r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"no"}}"#;
        assert_eq!(
            interpret("PreToolUse", &run(0, deny, "")).permission,
            Some((Permission::Deny, "no".into()))
        );
        let ask = r#"{"hookSpecificOutput":{"permissionDecision":"ask"}}"#;
        assert_eq!(interpret("PreToolUse", &run(0, ask, "")).permission.map(|p| p.0), Some(Permission::Ask));
        let legacy = r#"{"decision":"block","reason":"old style"}"#;
        assert_eq!(
            interpret("PreToolUse", &run(0, legacy, "")).permission.map(|p| p.0),
            Some(Permission::Deny)
        );
        let post = r#"{"decision":"block","reason":"tests fail","hookSpecificOutput":{"hookEventName":"PostToolUse","additionalContext":"ran fmt"}}"#;
        let a = interpret("PostToolUse", &run(0, post, ""));
        assert_eq!((a.block.as_deref(), a.context.as_deref()), (Some("tests fail"), Some("ran fmt")));
        let stop = r#"{"continue":false,"stopReason":"enough","systemMessage":"bye"}"#;
        let a = interpret("Stop", &run(0, stop, ""));
        assert_eq!((a.stop.as_deref(), a.message.as_deref()), (Some("enough"), Some("bye")));
        // Another event's specific output is not this one's.
        let other = r#"{"hookSpecificOutput":{"hookEventName":"SessionStart","additionalContext":"x"}}"#;
        assert_eq!(interpret("PostToolUse", &run(0, other, "")).context, None);
    }

    #[test]
    fn plain_stdout_is_context_only_for_prompts_and_session_start() {
        assert_eq!(
            interpret("UserPromptSubmit", &run(0, "branch: main\n", "")).context.as_deref(),
            Some("branch: main")
        );
        assert_eq!(interpret("SessionStart", &run(0, "{not json", "")).context.as_deref(), Some("{not json"));
        assert_eq!(interpret("PostToolUse", &run(0, "formatted", "")), Answer::default());
    }
}
