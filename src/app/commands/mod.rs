//! Slash commands: the one table (`COMMANDS`) that parsing, the composer's completion popup,
//! `/help` and dispatch (`app::slash`) all read, and the lookup of a typed line in it.
//!
//! Each row owns its name, its argument synopsis, its help text and its handler. A handler
//! parses its own arguments from [`Args`]; a usage error is made by [`Args::usage`] from the
//! row, so no usage string is written twice.
//!
//! Custom commands (`custom`, announced by the engine) come after the table: a built-in name
//! always wins.
//!
//! Invariants (tested): names are unique and sorted (the popup lists matches in table order),
//! no alias shadows a name, and every row can report its own usage.

pub mod custom;
mod git;
mod project;
mod session;
mod template;
mod ui;

use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::Op;

use super::state::AppState;

/// Runs one command: parses `args` (returning [`Args::usage`] when they do not fit), then
/// changes the state and/or sends `Op`s, exactly as typing the command does.
pub type Handler = fn(&mut AppState, Args<'_>, &UnboundedSender<Op>) -> Result<(), CommandError>;

/// One row of the table.
pub struct SlashCommand {
    pub name: &'static str,
    /// Other names that run this row; not offered by completion or listed by `/help`.
    pub aliases: &'static [&'static str],
    /// The argument synopsis shown by `/help`, the popup and usage errors ("" for none).
    pub args: &'static str,
    pub description: &'static str,
    pub handler: Handler,
}

impl SlashCommand {
    /// `/name ARGS` (or `/name` when it takes none).
    pub fn synopsis(&self) -> String {
        if self.args.is_empty() { format!("/{}", self.name) } else { format!("/{} {}", self.name, self.args) }
    }
}

/// Sorted by name (see the module's invariants).
pub const COMMANDS: &[SlashCommand] = &[
    row("approval", "read-only|ask|auto-edit|auto", "what runs without asking", session::approval),
    row("branch", "NAME", "create feature/NAME from the base branch and switch", git::branch),
    row(
        "check",
        "",
        "run the project's checks (cargo check, ruff, tsc, go vet…): Problems in Output",
        ui::check,
    ),
    row("commit", "", "propose a commit of what is staged (asks first)", git::commit),
    row(
        "compact",
        "[FOCUS]",
        "summarise the conversation so far into a summary you review (FOCUS: what it must keep)",
        session::compact,
    ),
    row(
        "config-check",
        "",
        "env variables the code reads vs .env.example; config files against their JSON Schema",
        project::config_check,
    ),
    row(
        "context",
        "",
        "what the next request carries: prompt, graph, examples, history (tokens)",
        session::context,
    ),
    row("copy", "", "copy the last answer (its markdown) to the clipboard", ui::copy),
    row(
        "deps",
        "[add NAME]",
        "dependencies missing, unused, duplicated or conflicting; add NAME proposes the manifest edit",
        project::deps,
    ),
    row("diff", "", "show the whole change (staged and unstaged) in Diff", ui::diff),
    row("docs", "TEXT", "write documentation for code", session::docs),
    row(
        "env-example",
        "",
        "propose .env.example with the variables the code reads (asks first)",
        project::env_example,
    ),
    row(
        "explain",
        "SYMBOL|TEXT [--detail brief|normal|deep]",
        "explain code from the index's facts: callers, callees, tests (no changes)",
        session::explain,
    ),
    row("fix", "[ERROR TEXT]", "fix the last failed run, or the pasted error", session::fix),
    row(
        "fork",
        "[N]",
        "go on in a new session: a copy of this one, or of what came before prompt #N (its text back in the composer)",
        session::fork,
    ),
    row("generate", "TEXT", "generate new code", session::generate),
    row("git", "", "open or close the Git view (Ctrl+G)", ui::git),
    row("graph", "", "search the code index (F3)", ui::graph),
    row("help", "", "show keys and commands", ui::help),
    row("learn", "", "conventions kv1nt noticed, with evidence; add one to KV1NT.md", session::learn),
    row("mcp", "", "list the MCP servers: state, tools, recent errors", session::mcp),
    row("merge", "BRANCH", "merge BRANCH here, resolving conflicts with you", git::merge),
    row(
        "model",
        "NAME|local:NAME",
        "use another model of the current provider, or a local GGUF",
        session::model,
    ),
    row("models", "", "list the current provider's models and the local GGUF models", session::models),
    row("modify", "TEXT", "change existing code", session::modify),
    row(
        "pin",
        "[WORDS]",
        "keep the latest prompt (or the latest message with WORDS) word for word: never summarised",
        session::pin,
    ),
    row("pr", "", "open a pull request for this branch (GitHub)", git::pull_request),
    row("provider", "anthropic|ollama|openai|local [MODEL]", "switch provider", session::provider),
    row(
        "pull",
        "NAME|hf:REPO/FILE|ollama:NAME",
        "download a model: NAME into Ollama when it is the provider; hf:/ollama: into kv1nt's store",
        session::pull,
    ),
    SlashCommand { aliases: &["exit", "q"], ..row("quit", "", "quit kv1nt", ui::quit) },
    row(
        "review",
        "[FOCUS]",
        "review the staged diff, or the branch against its base (no changes)",
        session::review,
    ),
    row("rewind", "[N]", "list changes, or restore to after change N", session::rewind),
    row("run", "", "run the code block shown in Code, sandboxed", ui::run),
    row(
        "stats",
        "[SPAN] [INTENT] [LANGUAGE]",
        "how often you accept what kv1nt proposes (e.g. /stats 7d fix rust)",
        session::stats,
    ),
    row(
        "template",
        "[NAME [key=value …]]",
        "list code templates, or fill one in through a form",
        template::template,
    ),
    row("test", "TEXT", "write tests", session::test),
    row(
        "think",
        "off|low|high",
        "extended thinking for the next requests (Ctrl+T shows or hides it)",
        session::think,
    ),
    row("uncommit", "", "undo kv1nt's last commit (changes stay staged)", git::uncommit),
    row("undo", "", "restore the files of the last change", session::undo),
    row(
        "unpin",
        "[WORDS]",
        "unpin the latest pinned prompt, or the pinned message with WORDS",
        session::unpin,
    ),
];

const fn row(
    name: &'static str,
    args: &'static str,
    description: &'static str,
    handler: Handler,
) -> SlashCommand {
    SlashCommand { name, aliases: &[], args, description, handler }
}

/// Why a typed slash command did not run; its `Display` is the message shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No row has this name or alias; `nearest` are the closest names, best first (maybe none).
    #[error("unknown command `/{typed}`; {}", suggest(.nearest))]
    Unknown { typed: String, nearest: Vec<&'static str> },
    /// The arguments do not fit the row; `synopsis` and `description` are the row's.
    #[error("usage: {synopsis} ({description})")]
    Usage { name: &'static str, synopsis: String, description: &'static str },
    #[error("`{0}` is not a policy: use read-only, plan, ask, auto-edit or auto")]
    NotAPolicy(String),
    #[error("`{0}` is not a provider: use anthropic, ollama, openai or local")]
    NotAProvider(String),
}

fn suggest(nearest: &[&str]) -> String {
    let names: Vec<String> = nearest.iter().map(|n| format!("/{n}")).collect();
    match names.as_slice() {
        [] => "/help lists every command".into(),
        [one] => format!("did you mean {one}? (/help lists every command)"),
        [init @ .., last] => {
            format!("did you mean {} or {last}? (/help lists every command)", init.join(", "))
        }
    }
}

/// The arguments typed after a command's name (trimmed, inner whitespace and newlines kept),
/// with the row they were typed for.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    pub command: &'static SlashCommand,
    pub raw: &'a str,
}

impl<'a> Args<'a> {
    /// The usage error of this row.
    pub fn usage(&self) -> CommandError {
        let c = self.command;
        CommandError::Usage { name: c.name, synopsis: c.synopsis(), description: c.description }
    }

    pub fn words(&self) -> Vec<&'a str> {
        self.raw.split_whitespace().collect()
    }

    /// For commands that take no arguments.
    pub fn none(&self) -> Result<(), CommandError> {
        if self.raw.is_empty() { Ok(()) } else { Err(self.usage()) }
    }

    /// Exactly one word.
    pub fn one(&self) -> Result<&'a str, CommandError> {
        match self.words().as_slice() {
            [word] => Ok(word),
            _ => Err(self.usage()),
        }
    }

    /// Free text, which must not be empty.
    pub fn text(&self) -> Result<&'a str, CommandError> {
        if self.raw.is_empty() { Err(self.usage()) } else { Ok(self.raw) }
    }
}

/// Rows whose name starts with `prefix`, in table order (the completion popup).
pub fn matching(prefix: &str) -> Vec<&'static SlashCommand> {
    COMMANDS.iter().filter(|c| c.name.starts_with(prefix)).collect()
}

/// The row named (or aliased) `name`.
pub fn find(name: &str) -> Option<&'static SlashCommand> {
    COMMANDS.iter().find(|c| c.name == name || c.aliases.contains(&name))
}

/// Split a line starting with `/` into its row and arguments.
pub fn parse(text: &str) -> Result<Args<'_>, CommandError> {
    let body = text.trim().trim_start_matches('/').trim_start();
    let (name, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    match find(name) {
        Some(command) => Ok(Args { command, raw: rest.trim() }),
        None => Err(CommandError::Unknown { typed: name.to_string(), nearest: nearest(name) }),
    }
}

/// Up to three names closest to a mistyped one: those it starts, then by edit distance.
pub fn nearest(typed: &str) -> Vec<&'static str> {
    if typed.is_empty() {
        return Vec::new();
    }
    let limit = (typed.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &'static str)> = COMMANDS
        .iter()
        .map(|c| (if c.name.starts_with(typed) { 1 } else { edit_distance(typed, c.name) }, c.name))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::Intent;

    #[test]
    fn names_are_unique_sorted_and_not_shadowed_by_aliases() {
        for pair in COMMANDS.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} must sort before {}", pair[0].name, pair[1].name);
        }
        for command in COMMANDS {
            for alias in command.aliases {
                assert!(COMMANDS.iter().all(|c| c.name != *alias), "alias {alias} shadows a name");
            }
            assert_eq!(find(command.name).map(|c| c.name), Some(command.name));
        }
        assert_eq!(find("exit").map(|c| c.name), Some("quit"));
        for intent in Intent::ALL {
            assert!(find(intent.name()).is_some(), "no row for /{}", intent.name());
        }
    }

    #[test]
    fn parse_splits_name_from_arguments() {
        let args = parse("/explain  the\nparser ").unwrap();
        assert_eq!((args.command.name, args.raw), ("explain", "the\nparser"));
        let args = parse("  /rewind").unwrap();
        assert_eq!((args.command.name, args.raw), ("rewind", ""));
        assert_eq!(matching("mo").iter().map(|c| c.name).collect::<Vec<_>>(), ["model", "models", "modify"]);
    }

    #[test]
    fn unknown_commands_suggest_the_nearest() {
        let err = parse("/comit").err().unwrap();
        assert_eq!(err, CommandError::Unknown { typed: "comit".into(), nearest: vec!["commit"] });
        assert_eq!(
            err.to_string(),
            "unknown command `/comit`; did you mean /commit? (/help lists every command)"
        );
        assert_eq!(nearest("mod"), ["model", "models", "modify"]);
        assert_eq!(nearest("modle"), ["model", "models"]);
        let far = parse("/frobnicate").err().unwrap();
        assert_eq!(far.to_string(), "unknown command `/frobnicate`; /help lists every command");
        assert!(nearest("").is_empty());
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ü", "u"), 1);
    }
}
