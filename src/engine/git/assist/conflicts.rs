//! Model-proposed resolutions of merge conflicts: the model sees one conflicted file's base,
//! ours and theirs and answers with the whole resolved file, which the user then approves,
//! edits or replaces by picking a side (the resolution is only a proposal; [`super::resolve()`]
//! writes whatever the user approved).
//!
//! Invariants:
//! - Nothing is sent for a file with a side that is absent (deleted), binary, larger than
//!   [`SIDE_CAP`], or in which the secret scanner finds anything: the error says to pick a side
//!   or resolve by hand.
//! - Each version is fenced with a run of backticks longer than any in the file, and the model is
//!   asked to use the same fence, so a file containing fences (Markdown) survives intact.
//! - [`parse_resolution`] accepts exactly one complete fenced block without conflict markers
//!   and with content; every refusal is a sentence a user reads.
//! - The proposal keeps the line endings (CRLF) and final-newline convention of OURS.

use crate::engine::approval::risk;
use crate::engine::config::{Config, Secrets};
use crate::engine::git::merge::Conflict;
use crate::engine::llm::{LlmError, oneshot};
use crate::engine::protocol::fences::extract_code_blocks;

/// Largest version of a file (bytes) sent to the model.
pub const SIDE_CAP: usize = 48 * 1024;

const SYSTEM: &str = include_str!("../../../../assets/prompts/resolve.md");

/// Asks the model for the resolved content of `conflict.path`. Err: why there is no proposal,
/// worded for the user (who can still pick a side or edit by hand).
pub async fn propose_resolution(
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    conflict: &Conflict,
) -> Result<String, String> {
    let path = &conflict.path;
    let (Some(ours), Some(theirs)) = (conflict.ours.as_deref(), conflict.theirs.as_deref()) else {
        return Err(format!(
            "`{path}` was deleted on one side; choose to keep a side or delete it (the model only merges edits)"
        ));
    };
    let base = conflict.base.as_deref();
    let sides = [Some(ours), Some(theirs), base];
    for text in sides.into_iter().flatten() {
        if text.contains('\0') {
            return Err(format!("`{path}` is binary; choose a side"));
        }
        if text.len() > SIDE_CAP {
            return Err(format!(
                "`{path}` is too large for a model resolution ({} KiB, at most {} KiB); resolve it by hand or choose a side",
                text.len() / 1024,
                SIDE_CAP / 1024
            ));
        }
        if let Some(found) = risk::find_secrets(text).first() {
            return Err(format!(
                "`{path}` contains what looks like a {}, so it is not sent to a model; resolve it by hand or choose a side",
                found.kind
            ));
        }
    }
    let fence = fence_for(&sides);
    let user = user_prompt(path, base, ours, theirs, &fence);
    // Room for the whole file (≈ 3 bytes a token) plus some slack.
    let max_tokens = (ours.len().max(theirs.len()) / 3 + 1024).min(32_768) as u32;
    let reply = match oneshot::complete(config, secrets, client, SYSTEM, &user, max_tokens).await {
        Ok(reply) => reply,
        Err(LlmError::NoAnswer(why)) => return Err(format!("no model reachable: {why}")),
        Err(e) => return Err(format!("no model reachable: {e}")),
    };
    let text = parse_resolution(&reply)?;
    Ok(match_conventions(text, ours))
}

/// A backtick fence longer than any backtick run in the texts (at least 4).
fn fence_for(texts: &[Option<&str>]) -> String {
    let longest = texts.iter().flatten().flat_map(|t| t.split(|c| c != '`').map(str::len)).max().unwrap_or(0);
    "`".repeat((longest + 1).max(4))
}

fn user_prompt(path: &str, base: Option<&str>, ours: &str, theirs: &str, fence: &str) -> String {
    let block = |text: &str| {
        let nl = if text.ends_with('\n') || text.is_empty() { "" } else { "\n" };
        format!("{fence}\n{text}{nl}{fence}\n")
    };
    let base = match base {
        Some(text) => block(text),
        None => "(none: both branches added this file independently)\n".to_string(),
    };
    format!(
        "File: {path}\n\nBASE (the common ancestor):\n{base}\nOURS (the current branch):\n{}\n\
         THEIRS (the branch being merged):\n{}\nReply with the whole resolved file in one block fenced \
         with {fence} (exactly that fence).\n",
        block(ours),
        block(theirs)
    )
}

/// The resolved file from the model's reply: the content of its one fenced block.
pub fn parse_resolution(reply: &str) -> Result<String, String> {
    let reply = super::message::strip_think(reply);
    if reply.trim().is_empty() {
        return Err("the model's reply was empty".to_string());
    }
    let blocks = extract_code_blocks(&reply);
    let block = match blocks.as_slice() {
        [] => return Err("the model did not answer with the file in a code block".to_string()),
        [one] => one,
        many => {
            return Err(format!(
                "the model answered with {} code blocks instead of one file; resolve by hand or choose a side",
                many.len()
            ));
        }
    };
    if !block.complete {
        return Err(
            "the model's reply stopped before the end of the file (the code block is not closed)".to_string()
        );
    }
    if block.code.trim().is_empty() {
        return Err("the model proposed an empty file".to_string());
    }
    if let Some((n, line)) = block.code.lines().enumerate().find(|(_, l)| is_marker(l)) {
        let marker: String = line.chars().take(7).collect();
        return Err(format!(
            "the model's resolution still has conflict markers (line {}: `{marker}`); resolve by hand or choose a side",
            n + 1
        ));
    }
    Ok(block.code.clone())
}

fn is_marker(line: &str) -> bool {
    let line = line.trim_end();
    line.starts_with("<<<<<<<")
        || line.starts_with(">>>>>>>")
        || line.starts_with("|||||||")
        || line == "======="
}

/// Gives `text` OURS's line endings and final-newline convention.
fn match_conventions(text: String, ours: &str) -> String {
    let mut text = text.replace("\r\n", "\n");
    if !ours.is_empty() && !ours.ends_with('\n') {
        while text.ends_with('\n') {
            text.pop();
        }
    } else if !text.ends_with('\n') {
        text.push('\n');
    }
    if ours.contains("\r\n") { text.replace('\n', "\r\n") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_content_is_the_resolution() {
        let reply = "Here you go:\n````rust\nfn a() {}\nfn b() {}\n````\nBoth functions are kept.";
        assert_eq!(parse_resolution(reply).as_deref(), Ok("fn a() {}\nfn b() {}\n"));
        let md = "<think>merge both</think>\n`````markdown\n# T\n```sh\nls\n```\n`````";
        assert_eq!(parse_resolution(md).as_deref(), Ok("# T\n```sh\nls\n```\n"));
    }

    #[test]
    fn refusals_say_why() {
        let err = |r: &str| parse_resolution(r).unwrap_err();
        assert!(err("").contains("empty"));
        assert!(err("  \n").contains("empty"));
        assert!(err("just merge it").contains("code block"));
        assert!(err("```\nfn a() {}\n").contains("not closed"));
        assert!(err("```\n\n```").contains("empty file"));
        assert!(err("```\na\n```\n```\nb\n```").contains("2 code blocks"));
        for marked in ["<<<<<<< HEAD\na\n", "=======\nb\n", ">>>>>>> feature\n", "||||||| base\n"] {
            let e = err(&format!("````\nx\n{marked}````"));
            assert!(e.contains("conflict markers") && e.contains("line 2"), "{e}");
        }
        // `=======` inside a line, or longer, is content (e.g. a Markdown heading underline).
        assert!(parse_resolution("````\nTitle\n========\na ======= b\n````").is_ok());
    }

    #[test]
    fn the_fence_is_longer_than_any_in_the_file_and_conventions_follow_ours() {
        assert_eq!(fence_for(&[Some("a"), None]), "````");
        assert_eq!(fence_for(&[Some("````` x"), Some("```")]), "``````");
        assert_eq!(match_conventions("a\nb\n".into(), "x\r\ny\r\n"), "a\r\nb\r\n");
        assert_eq!(match_conventions("a\nb\n".into(), "x\ny"), "a\nb");
        assert_eq!(match_conventions("a\nb".into(), "x\ny\n"), "a\nb\n");
    }
}
