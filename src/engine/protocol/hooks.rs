//! Hooks as the UI and `kv1nt exec --json` see them: one [`HookReport`] per hook that ran
//! (which event, whose hook, the command, how it answered).

/// Where a hook was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookSource {
    /// The user's own config (or a Claude Code settings file it points at): runs as the user.
    User,
    /// A trusted repository's `.kv1nt/config.toml`: runs in the sandbox, never skips the dialog.
    Repository,
}

impl HookSource {
    pub fn as_str(self) -> &'static str {
        match self {
            HookSource::User => "user",
            HookSource::Repository => "repository",
        }
    }
}

/// How one hook answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOutcome {
    /// Exit 0 with nothing to say.
    Ok,
    /// PreToolUse: `allow`.
    Allowed,
    /// PreToolUse: `ask`.
    Asked,
    /// PreToolUse: `deny` or exit 2.
    Denied,
    /// Other events: `decision: "block"` or exit 2 (a prompt refused, a stop refused, …).
    Blocked,
    /// Added context for the model.
    Context,
    /// `continue: false`: the turn stops.
    Stopped,
    /// A non-blocking error (another exit status, a hook that could not start).
    Failed,
    /// Killed at its time limit (a non-blocking error).
    TimedOut,
}

impl HookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOutcome::Ok => "ok",
            HookOutcome::Allowed => "allow",
            HookOutcome::Asked => "ask",
            HookOutcome::Denied => "deny",
            HookOutcome::Blocked => "block",
            HookOutcome::Context => "context",
            HookOutcome::Stopped => "stop",
            HookOutcome::Failed => "error",
            HookOutcome::TimedOut => "timeout",
        }
    }
}

/// One hook that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct HookReport {
    /// `PreToolUse`, `PostToolUse`, `UserPromptSubmit`, `Stop`, `SessionStart`, `Notification`.
    pub event: String,
    /// What it was about (the tool's name, `startup`…), empty when nothing.
    pub subject: String,
    pub source: HookSource,
    pub command: String,
    pub outcome: HookOutcome,
    /// The reason, context or error it gave (may be empty).
    pub message: String,
}

impl HookReport {
    /// "hook PreToolUse (edit_file) `./deny-lock.sh`: deny — lock files are generated".
    pub fn line(&self) -> String {
        let subject = if self.subject.is_empty() { String::new() } else { format!(" ({})", self.subject) };
        let message = self.message.lines().next().unwrap_or_default();
        let message = if message.is_empty() { String::new() } else { format!(" — {message}") };
        format!("hook {}{subject} `{}`: {}{message}", self.event, self.command, self.outcome.as_str())
    }
}
