//! Hooks compatible with Claude Code's JSON protocol: shell commands the user configures to run
//! at `PreToolUse`, `PostToolUse`, `UserPromptSubmit`, `Stop`, `SessionStart` and
//! `Notification`, matched by tool name, reading the event as JSON on stdin and answering with
//! an exit status or JSON. Not git's commit hooks (`git::hooks`, `agent/commit_hooks.rs`).
//!
//! The parts: `settings` (`[hooks]`, Claude Code settings files), `input` (the event JSON,
//! kv1nt's tools under Claude Code's names), `answer` (reading a hook's answer), `run` (the
//! process, or the sandbox for a repository's hooks). The engine's use is `agent/user_hooks.rs`.
//!
//! Invariants: the set is built once, at engine start after the trust question — a hook file
//! or config written during the session (by the model, a command) takes effect only at the next
//! start; a repository's hooks are in it only when the repository config is trusted
//! (`Config::repo_hooks`); identical commands of one event run once.

pub mod answer;
pub mod input;
pub mod run;
pub mod settings;

use std::path::Path;
use std::time::Duration;

pub use answer::{Answer, Permission, interpret};
pub use settings::HookSettings;

use crate::engine::protocol::HookSource;

/// A hook's time limit when it sets none (Claude Code's default).
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// The longest a hook may be given.
pub const MAX_TIMEOUT_SECS: u64 = 600;

/// Which names a matcher is tried against.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Empty or `*`.
    All,
    /// The whole name must match (`Edit|Write`, `mcp__memory__.*`).
    Regex(regex::Regex),
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(Matcher::All);
        }
        regex::Regex::new(&format!("^(?:{text})$"))
            .map(Matcher::Regex)
            .map_err(|e| format!("matcher `{text}` is not a regular expression: {e}"))
    }

    /// Whether any of `names` matches (a tool's Claude Code name and kv1nt's own).
    pub fn matches(&self, names: &[&str]) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Regex(re) => names.iter().any(|n| re.is_match(n)),
        }
    }
}

/// One configured hook.
#[derive(Debug, Clone)]
pub struct Hook {
    pub event: &'static str,
    pub matcher: Matcher,
    pub command: String,
    pub timeout: Duration,
    pub source: HookSource,
}

/// Every hook of the session.
#[derive(Debug, Clone, Default)]
pub struct HookSet {
    hooks: Vec<Hook>,
}

impl HookSet {
    /// The user's hooks (their config and the Claude Code files it names) and, when given, a
    /// trusted repository's; with what could not be used, one line each.
    pub fn build(
        user: &HookSettings,
        repo: Option<&HookSettings>,
        home: Option<&Path>,
    ) -> (HookSet, Vec<String>) {
        let mut set = HookSet::default();
        let mut problems = Vec::new();
        set.add(user, HookSource::User, "your config", &mut problems);
        for entry in &user.claude_settings {
            let path = match settings::settings_path(entry, home) {
                Ok(path) => path,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    problems.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            match settings::from_claude_json(&text) {
                Ok((settings, skipped)) => {
                    let name = path.display().to_string();
                    set.add(&settings, HookSource::User, &name, &mut problems);
                    problems.extend(skipped.into_iter().map(|s| format!("{name}: not run: {s}")));
                }
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        if let Some(repo) = repo {
            if !repo.claude_settings.is_empty() {
                problems.push(
                    "the repository's hooks.claude_settings is ignored: only your own config may name them"
                        .into(),
                );
            }
            set.add(repo, HookSource::Repository, "the repository config", &mut problems);
        }
        (set, problems)
    }

    fn add(&mut self, settings: &HookSettings, source: HookSource, origin: &str, problems: &mut Vec<String>) {
        for event in settings::EVENTS {
            for group in settings.groups(event) {
                let matcher = match Matcher::parse(&group.matcher) {
                    Ok(m) => m,
                    Err(e) => {
                        problems.push(format!("{origin}: {event}: {e}"));
                        continue;
                    }
                };
                for hook in &group.hooks {
                    if hook.kind != "command" {
                        problems
                            .push(format!("{origin}: {event}: `{}` hooks are not run by kv1nt", hook.kind));
                        continue;
                    }
                    if hook.command.trim().is_empty() {
                        problems.push(format!("{origin}: {event}: a hook without a command"));
                        continue;
                    }
                    let secs = hook.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS).clamp(1, MAX_TIMEOUT_SECS);
                    self.hooks.push(Hook {
                        event,
                        matcher: matcher.clone(),
                        command: hook.command.clone(),
                        timeout: Duration::from_secs(secs),
                        source,
                    });
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// The hooks of `event` whose matcher takes one of `names` (each command once: the user's
    /// wins over the repository's for the same command).
    pub fn matching(&self, event: &str, names: &[&str]) -> Vec<Hook> {
        let mut found: Vec<Hook> = Vec::new();
        for hook in self.hooks.iter().filter(|h| h.event == event && h.matcher.matches(names)) {
            if !found.iter().any(|f| f.command == hook.command) {
                found.push(hook.clone());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> HookSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn matchers_are_whole_name_regexes_over_either_name() {
        assert!(Matcher::parse("Edit|Write").unwrap().matches(&["Edit", "edit_file"]));
        assert!(!Matcher::parse("Edit").unwrap().matches(&["NotEdit", "x"]));
        assert!(Matcher::parse("edit_file").unwrap().matches(&["Edit", "edit_file"]));
        assert!(Matcher::parse("mcp__fs__.*").unwrap().matches(&["mcp__fs__read"]));
        assert!(Matcher::parse("*").unwrap().matches(&["anything"]));
        assert!(Matcher::parse("").unwrap().matches(&["anything"]));
        assert!(Matcher::parse("(").is_err());
    }

    #[test]
    fn builds_user_and_repository_hooks_and_reports_problems() {
        let user = settings(
            "[[PreToolUse]]\nmatcher = \"Edit\"\n[[PreToolUse.hooks]]\ncommand = \"a\"\n\
             [[PreToolUse.hooks]]\ntype = \"http\"\ncommand = \"x\"\n[[Stop]]\nmatcher = \"(\"\n",
        );
        let repo = settings(
            "[[PreToolUse]]\n[[PreToolUse.hooks]]\ncommand = \"a\"\n[[PreToolUse.hooks]]\ncommand = \"b\"\ntimeout = 9999\n",
        );
        let (set, problems) = HookSet::build(&user, Some(&repo), None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let found = set.matching("PreToolUse", &["Edit", "edit_file"]);
        let names: Vec<_> = found.iter().map(|h| (h.command.as_str(), h.source)).collect();
        assert_eq!(names, [("a", HookSource::User), ("b", HookSource::Repository)]);
        assert_eq!(found[1].timeout, Duration::from_secs(MAX_TIMEOUT_SECS));
        assert_eq!(set.matching("PreToolUse", &["Read", "read_file"]).len(), 2);
        assert!(set.matching("PostToolUse", &["Edit"]).is_empty());
    }

    #[test]
    fn claude_settings_files_named_by_the_user_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.json");
        std::fs::write(&file, r#"{"hooks":{"PostToolUse":[{"matcher":"Write","hooks":[{"type":"command","command":"fmt.sh"}]}]}}"#)
            .unwrap();
        let user = HookSettings {
            claude_settings: vec![file.display().to_string(), "~/missing.json".into()],
            ..Default::default()
        };
        let (set, problems) = HookSet::build(&user, None, Some(dir.path()));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(set.matching("PostToolUse", &["Write"])[0].command, "fmt.sh");
        assert_eq!(
            set.matching("PostToolUse", &["Write"])[0].timeout,
            Duration::from_secs(DEFAULT_TIMEOUT_SECS)
        );
    }
}
