//! Slash commands: one table, used by the composer's completion popup, `/help` and dispatch.

use crate::engine::protocol::Policy;
use crate::engine::protocol::ProviderKind;
use crate::engine::protocol::{GitOp, Intent};

pub struct SlashCommand {
    pub name: &'static str,
    pub args: &'static str,
    pub description: &'static str,
}

pub const COMMANDS: &[SlashCommand] = &[
    SlashCommand {
        name: "approval",
        args: "read-only|ask|auto-edit|auto",
        description: "what runs without asking",
    },
    SlashCommand {
        name: "branch",
        args: "NAME",
        description: "create feature/NAME from the base branch and switch",
    },
    SlashCommand { name: "commit", args: "", description: "propose a commit of what is staged (asks first)" },
    SlashCommand {
        name: "diff",
        args: "",
        description: "show the whole change (staged and unstaged) in Diff",
    },
    SlashCommand { name: "docs", args: "TEXT", description: "write documentation for code" },
    SlashCommand { name: "explain", args: "TEXT", description: "explain code (no changes)" },
    SlashCommand { name: "generate", args: "TEXT", description: "generate new code" },
    SlashCommand { name: "git", args: "", description: "open or close the Git view (Ctrl+G)" },
    SlashCommand { name: "graph", args: "", description: "search the code index (F3)" },
    SlashCommand { name: "help", args: "", description: "show keys and commands" },
    SlashCommand {
        name: "merge",
        args: "BRANCH",
        description: "merge BRANCH here, resolving conflicts with you",
    },
    SlashCommand { name: "model", args: "NAME", description: "use another model of the current provider" },
    SlashCommand { name: "models", args: "", description: "list the current provider's models (in Output)" },
    SlashCommand { name: "modify", args: "TEXT", description: "change existing code" },
    SlashCommand {
        name: "provider",
        args: "anthropic|ollama|openai [MODEL]",
        description: "switch provider",
    },
    SlashCommand { name: "pr", args: "", description: "open a pull request for this branch (GitHub)" },
    SlashCommand { name: "quit", args: "", description: "quit kv1nt" },
    SlashCommand { name: "rewind", args: "[N]", description: "list changes, or restore to after change N" },
    SlashCommand { name: "run", args: "", description: "run the code block shown in Code, sandboxed" },
    SlashCommand { name: "test", args: "TEXT", description: "write tests" },
    SlashCommand {
        name: "uncommit",
        args: "",
        description: "undo kv1nt's last commit (changes stay staged)",
    },
    SlashCommand { name: "undo", args: "", description: "restore the files of the last change" },
];

pub fn matching(prefix: &str) -> Vec<&'static SlashCommand> {
    COMMANDS.iter().filter(|c| c.name.starts_with(prefix)).collect()
}

/// A parsed slash command, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Quit,
    Model(String),
    Models,
    Provider(ProviderKind, Option<String>),
    Undo,
    Rewind(Option<i64>),
    Run,
    Git,
    Graph,
    Diff,
    GitFlow(GitOp),
    Approval(Policy),
    Intent(Intent, String),
}

/// Parse a prompt that starts with `/`. `Err` carries a message for the user.
pub fn parse(text: &str) -> Result<Command, String> {
    let mut words = text.trim().trim_start_matches('/').split_whitespace();
    let name = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match (name, rest.as_slice()) {
        ("help", []) => Ok(Command::Help),
        ("undo", []) => Ok(Command::Undo),
        ("run", []) => Ok(Command::Run),
        ("git", []) => Ok(Command::Git),
        ("graph", []) => Ok(Command::Graph),
        ("diff", []) => Ok(Command::Diff),
        ("commit", []) => Ok(Command::GitFlow(GitOp::Commit)),
        ("uncommit", []) => Ok(Command::GitFlow(GitOp::Uncommit)),
        ("pr", []) => Ok(Command::GitFlow(GitOp::PullRequest)),
        ("branch", [name]) => Ok(Command::GitFlow(GitOp::Branch { name: name.to_string() })),
        ("branch", _) => Err("usage: /branch NAME (creates feature/NAME from the base branch)".into()),
        ("merge", [branch]) => Ok(Command::GitFlow(GitOp::Merge { branch: branch.to_string() })),
        ("merge", _) => Err("usage: /merge BRANCH".into()),
        ("run", _) => Err("usage: /run (runs the code block shown in Code; pick one with [ and ])".into()),
        ("rewind", []) => Ok(Command::Rewind(None)),
        ("rewind", [n]) => n
            .trim_start_matches('#')
            .parse()
            .map(|n| Command::Rewind(Some(n)))
            .map_err(|_| "usage: /rewind [N]".into()),
        ("approval", [p]) => Policy::parse(p)
            .map(Command::Approval)
            .ok_or_else(|| format!("`{p}` is not a policy: use read-only, ask, auto-edit or auto")),
        ("approval", _) => Err("usage: /approval read-only|ask|auto-edit|auto".into()),
        (name, words) if Intent::parse(name).is_some() => {
            let rest = text.trim().trim_start_matches('/')[name.len()..].trim();
            match (Intent::parse(name), words.is_empty()) {
                (Some(intent), false) => Ok(Command::Intent(intent, rest.to_string())),
                _ => Err(format!("usage: /{name} WHAT (e.g. /{name} the config loader)")),
            }
        }
        ("quit" | "exit" | "q", []) => Ok(Command::Quit),
        ("models", []) => Ok(Command::Models),
        ("model", [model]) => Ok(Command::Model(model.to_string())),
        ("model", _) => Err("usage: /model NAME".into()),
        ("provider", [provider, model @ ..]) if model.len() <= 1 => match ProviderKind::parse(provider) {
            Some(kind) => Ok(Command::Provider(kind, model.first().map(|m| m.to_string()))),
            None => Err(format!("`{provider}` is not a provider: use anthropic, ollama or openai")),
        },
        ("provider", _) => Err("usage: /provider anthropic|ollama|openai [MODEL]".into()),
        _ => {
            let known: Vec<String> = COMMANDS.iter().map(|c| format!("/{}", c.name)).collect();
            Err(format!("unknown command `/{name}`; commands: {}", known.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_explains_mistakes() {
        assert_eq!(
            parse("/provider ollama llama3"),
            Ok(Command::Provider(ProviderKind::Ollama, Some("llama3".into())))
        );
        assert_eq!(parse("/model claude-sonnet-4-5"), Ok(Command::Model("claude-sonnet-4-5".into())));
        assert!(parse("/provider nope").unwrap_err().contains("not a provider"));
        assert!(parse("/frobnicate").unwrap_err().contains("/help"));
        assert_eq!(matching("mo").len(), 3);
        assert_eq!(
            parse("/explain  the\nparser"),
            Ok(Command::Intent(Intent::Explain, "the\nparser".into()))
        );
        assert_eq!(parse("/rewind 3"), Ok(Command::Rewind(Some(3))));
        assert_eq!(parse("/approval auto-edit"), Ok(Command::Approval(Policy::AutoEdit)));
        assert!(parse("/generate").unwrap_err().contains("usage"));
    }
}
