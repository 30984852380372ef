//! MCP prompts as slash commands: `/SERVER:PROMPT key=value …` (in the TUI and `kv1nt exec`;
//! the word is recognised by `protocol::mcp::slash_op`).
//! The words are parsed like `/template`'s, checked against the prompt's declared arguments
//! (an unknown or missing one is a clear message, nothing is sent), and the prompt's messages
//! become the text of the turn.
//!
//! Invariant: the turn's text is at most [`super::server::MAX_RESULT_BYTES`]; messages the
//! server marks as the assistant's are labelled, so the model does not take them for the user.

use std::collections::BTreeMap;

use rmcp::model::{GetPromptResult, Prompt, Role};

use super::server::{block_text, cap};
use crate::engine::protocol::templates::parse_invocation;

/// The arguments typed after `/SERVER:PROMPT`: `key=value`, quoted when a value has spaces.
pub fn parse_arguments(prompt: &str, args: &str) -> Result<BTreeMap<String, String>, String> {
    Ok(parse_invocation(&format!("{prompt} {args}"))?.map(|(_, values)| values).unwrap_or_default())
}

/// How `/mcp` shows a prompt: `/SERVER:PROMPT key=… [optional=…] — description`.
pub fn usage(server: &str, prompt: &Prompt) -> String {
    let mut out = format!("/{server}:{}", prompt.name);
    for arg in prompt.arguments.iter().flatten() {
        if arg.required == Some(true) {
            out.push_str(&format!(" {}=…", arg.name));
        } else {
            out.push_str(&format!(" [{}=…]", arg.name));
        }
    }
    if let Some(description) = prompt.description.as_deref().filter(|d| !d.trim().is_empty()) {
        let line = description.lines().next().unwrap_or_default();
        out.push_str(&format!(" — {}", line.chars().take(120).collect::<String>()));
    }
    out
}

/// Whether `arguments` fit what `prompt` declares: no unknown name, every required one given.
pub fn check_arguments(
    server: &str,
    prompt: &Prompt,
    arguments: &BTreeMap<String, String>,
) -> Result<(), String> {
    let declared: Vec<&str> = prompt.arguments.iter().flatten().map(|a| a.name.as_str()).collect();
    let unknown: Vec<&str> = arguments.keys().map(String::as_str).filter(|k| !declared.contains(k)).collect();
    let missing: Vec<&str> = prompt
        .arguments
        .iter()
        .flatten()
        .filter(|a| a.required == Some(true) && !arguments.contains_key(&a.name))
        .map(|a| a.name.as_str())
        .collect();
    if unknown.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        problems.push(format!("it takes no {}", unknown.join(", ")));
    }
    if !missing.is_empty() {
        problems.push(format!("{} missing", missing.join(", ")));
    }
    Err(format!("/{server}:{}: {}; usage: {}", prompt.name, problems.join("; "), usage(server, prompt)))
}

/// The prompt's messages as one turn's text.
pub fn as_turn(result: &GetPromptResult) -> String {
    let labelled = result.messages.iter().any(|m| m.role == Role::Assistant);
    let parts: Vec<String> = result
        .messages
        .iter()
        .map(|m| {
            let text = block_text(&m.content);
            match (labelled, m.role == Role::Assistant) {
                (false, _) => text,
                (true, true) => format!("[assistant]\n{text}"),
                (true, false) => format!("[user]\n{text}"),
            }
        })
        .collect();
    cap(parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::Op;
    use crate::engine::protocol::mcp::{slash_op, split_command};
    use rmcp::model::PromptArgument;

    fn review() -> Prompt {
        let mut prompt = Prompt::new("review", Some("Review a file for bugs"), None);
        let mut path = PromptArgument::new("path");
        path.required = Some(true);
        prompt.arguments = Some(vec![path, PromptArgument::new("focus")]);
        prompt
    }

    #[test]
    fn arguments_are_checked_against_the_declaration() {
        let p = review();
        assert_eq!(usage("fx", &p), "/fx:review path=… [focus=…] — Review a file for bugs");
        let args = parse_arguments("review", "path=src/a.rs focus=\"error handling\"").unwrap();
        assert_eq!(args["focus"], "error handling");
        assert!(check_arguments("fx", &p, &args).is_ok());
        let err = check_arguments("fx", &p, &parse_arguments("review", "colour=red").unwrap()).unwrap_err();
        assert!(
            err.contains("it takes no colour")
                && err.contains("path missing")
                && err.contains("usage: /fx:review"),
            "{err}"
        );
        assert!(parse_arguments("review", "loose").unwrap_err().contains("`loose` is not key=value"));
        assert_eq!(split_command("fx:review"), Some(("fx", "review")));
        assert_eq!(split_command("fx:"), None);
        assert_eq!(split_command("template"), None);
        let known = |s: &str| s == "fx";
        match slash_op("/fx:review path=a.rs", &known) {
            Some(Op::McpPrompt { server, prompt, args }) => {
                assert_eq!((server.as_str(), prompt.as_str(), args.as_str()), ("fx", "review", "path=a.rs"));
            }
            other => panic!("{other:?}"),
        }
        assert!(slash_op("/git:review", &known).is_none(), "not a server: someone else's command");
        assert!(slash_op("look at /fx:review", &known).is_none());
    }
}
