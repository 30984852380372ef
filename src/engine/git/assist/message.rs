//! Commit messages written by the model from the staged diff, with a summary from the diff
//! itself whenever the model cannot be reached or its reply is not a usable message.
//!
//! Invariants:
//! - [`write_commit_message`] always returns a message; the second value says whether it is
//!   the model's ([`MessageSource::Model`]) or [`summarize_diff`]'s ([`MessageSource::Summary`]),
//!   and the third says why a summary was used.
//! - A diff in which the secret scanner finds anything (a private key, a token…) is never sent
//!   to a model: the summary is used instead, and the note says so.
//! - The model sees the complete diffstat and at most [`DIFF_CAP`] bytes of the diff, cut at a
//!   line boundary with a note saying how much was left out.
//! - No trailer is ever added here, and trailers the model wrote (Co-authored-by, Signed-off-by,
//!   "Generated with …") are removed: a trailer comes only from `[git] trailer`, added by
//!   [`super::commit()`].
//! - [`clean_message`] is pure: same reply, same style → same message or None.

use std::sync::LazyLock;

use regex::Regex;

use crate::engine::approval::risk;
use crate::engine::config::{Config, Secrets};
use crate::engine::git::commit::{CommitProposal, MessageSource, summarize_diff};
use crate::engine::git::settings::MessageStyle;
use crate::engine::llm::{LlmError, oneshot};

/// Bytes of the diff shown to the model.
pub const DIFF_CAP: usize = 24 * 1024;
/// Longest subject line kept.
pub const SUBJECT_MAX: usize = 72;
/// Output tokens asked for (room for a reasoning model's `<think>` block).
const MAX_TOKENS: u32 = 1024;

const SYSTEM: &str = include_str!("../../../../assets/prompts/commit.md");

/// The commit message for `proposal`: the model's (cleaned) or, failing that, a summary.
/// Returns (message, where it came from, why a summary was used).
pub async fn write_commit_message(
    config: &Config,
    secrets: &Secrets,
    client: &reqwest::Client,
    proposal: &CommitProposal,
) -> (String, MessageSource, Option<String>) {
    let summary = || summarize_diff(&proposal.diffstat, &proposal.files);
    let found = risk::find_secrets(&proposal.diff_text);
    if let Some(first) = found.first() {
        let note = format!("the diff contains a {} and was not sent to a model", first.kind);
        return (summary(), MessageSource::Summary, Some(note));
    }
    let style = config.git.message_style;
    let system = format!("{SYSTEM}\n{}", style_rules(style));
    let user = user_prompt(proposal);
    match oneshot::complete(config, secrets, client, &system, &user, MAX_TOKENS).await {
        Ok(raw) => match clean_message(&raw, style) {
            Some(message) => (message, MessageSource::Model, None),
            None => {
                (summary(), MessageSource::Summary, Some("the model's message was not usable".to_string()))
            }
        },
        Err(LlmError::NoAnswer(why)) => {
            (summary(), MessageSource::Summary, Some(format!("no model reachable: {why}")))
        }
        Err(e) => (summary(), MessageSource::Summary, Some(format!("no model reachable: {e}"))),
    }
}

fn style_rules(style: MessageStyle) -> &'static str {
    match style {
        MessageStyle::Conventional => {
            "Use the Conventional Commits form for the subject: `type(scope): description`, where type is \
             one of feat, fix, docs, style, refactor, perf, test, build, ci, chore, revert; the scope \
             is optional (a short module or area name); add `!` before the colon only for a breaking \
             change. Example: `fix(parser): accept empty tables`."
        }
        MessageStyle::Plain => {
            "Write a plain subject line (no `type:` prefix), starting with a capitalised imperative \
             verb. Example: `Accept empty tables in the parser`."
        }
    }
}

/// The diffstat (whole) and the diff (capped) for the model.
fn user_prompt(proposal: &CommitProposal) -> String {
    let (diff, left_out) = cap_at_line(&proposal.diff_text, DIFF_CAP);
    let mut text = format!("Diffstat:\n{}\nDiff:\n{diff}", proposal.diffstat.render());
    if left_out > 0 {
        text.push_str(&format!("\n[the diff is cut here: {left_out} more bytes not shown]\n"));
    }
    text
}

/// The longest prefix of `text` that ends at a line end and fits in `cap` bytes (a cut inside a
/// single overlong line falls back to a char boundary), and the number of bytes left out.
pub(crate) fn cap_at_line(text: &str, cap: usize) -> (&str, usize) {
    if text.len() <= cap {
        return (text, 0);
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(nl) = text[..end].rfind('\n') {
        end = nl + 1;
    }
    (&text[..end], text.len() - end)
}

static CONVENTIONAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?i:(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert))(\([^()\s][^()]*\))?(!)?: +(\S.*)$",
    )
    .expect("valid regex")
});

static TRAILER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*((co-authored-by|signed-off-by|generated-by|assisted-by|reviewed-by)\s*:|.*generated (with|by) )")
        .expect("valid regex")
});

/// A model's reply turned into a commit message, or None when it is not one.
///
/// Removes a `<think>` block, takes the content of a code fence if there is one, drops lead-ins
/// ("Here is the commit message:"), surrounding quotes or emphasis, trailers and trailing
/// spaces; collapses blank-line runs; cuts the subject to [`SUBJECT_MAX`] characters at a word;
/// puts a blank line between subject and body. With [`MessageStyle::Conventional`] the subject
/// must read `type(scope)!: description` with a known type (the type is lower-cased).
pub fn clean_message(raw: &str, style: MessageStyle) -> Option<String> {
    let text = strip_think(raw.replace("\r\n", "\n").as_str());
    let text = fenced_content(&text).unwrap_or(text);
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    drop_lead_ins(&mut lines);
    // Surrounding quotes around the whole message.
    let joined = lines.join("\n");
    let joined = joined.trim();
    let joined = unquote(joined);
    let mut lines: Vec<String> = joined.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.trim().is_empty() || TRAILER.is_match(l)) {
        lines.pop();
    }
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let subject = subject_line(&lines[first], style)?;
    let mut body: Vec<&str> = Vec::new();
    for line in &lines[first + 1..] {
        if line.is_empty() && body.last().is_none_or(|l| l.is_empty()) {
            continue; // leading blank lines and blank-line runs
        }
        body.push(line);
    }
    while body.last().is_some_and(|l| l.is_empty()) {
        body.pop();
    }
    if body.is_empty() { Some(subject) } else { Some(format!("{subject}\n\n{}", body.join("\n"))) }
}

/// Removes a leading `<think>…</think>` block (reasoning models); an unclosed one is all thought.
pub(crate) fn strip_think(text: &str) -> String {
    let trimmed = text.trim_start();
    if let Some(rest) = trimmed.strip_prefix("<think>") {
        return rest.split_once("</think>").map(|(_, after)| after.to_string()).unwrap_or_default();
    }
    text.to_string()
}

/// The content of the first ``` or ~~~ fence, if the text has one.
fn fenced_content(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with("```") || t.starts_with("~~~")
    })?;
    let marker = &lines[start].trim_start()[..3];
    let end = lines[start + 1..].iter().position(|l| l.trim() == marker || l.trim().starts_with(marker));
    let inner = match end {
        Some(e) => &lines[start + 1..start + 1 + e],
        None => &lines[start + 1..],
    };
    Some(inner.join("\n"))
}

/// Drops lines before the message that talk about it ("Sure! Here's a commit message:").
fn drop_lead_ins(lines: &mut Vec<String>) {
    loop {
        let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else { return };
        let line = lines[first].trim().trim_matches(|c| c == '*' || c == '_' || c == '#').trim();
        let lower = line.to_lowercase();
        if let Some(rest) = ["commit message:", "commit:", "message:", "subject:"]
            .iter()
            .find_map(|p| lower.starts_with(p).then(|| line[p.len()..].trim().to_string()))
        {
            if rest.is_empty() {
                lines.drain(..=first);
            } else {
                lines[first] = rest;
                lines.drain(..first);
                return;
            }
            continue;
        }
        let lead_in =
            ["here is", "here's", "here are", "sure", "certainly", "okay", "ok,", "ok!", "below is"]
                .iter()
                .any(|p| lower.starts_with(p))
                && (lower.ends_with(':')
                    || lower.ends_with('!')
                    || lower.ends_with('.')
                    || lower.contains("commit"));
        if lead_in && !CONVENTIONAL.is_match(line) {
            lines.drain(..=first);
        } else {
            return;
        }
    }
}

/// The text without one pair of surrounding quotes or backticks.
fn unquote(text: &str) -> &str {
    for (open, close) in [("\"\"\"", "\"\"\""), ("\"", "\""), ("'", "'"), ("`", "`"), ("“", "”")] {
        if text.len() >= open.len() + close.len()
            && let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close))
        {
            return inner.trim();
        }
    }
    text
}

/// The subject cleaned, cut and checked against the style; None when unusable.
fn subject_line(line: &str, style: MessageStyle) -> Option<String> {
    let mut subject = line.trim();
    for mark in ["**", "__", "`", "\"", "'"] {
        if let Some(inner) = subject.strip_prefix(mark).and_then(|s| s.strip_suffix(mark)) {
            subject = inner.trim();
        }
    }
    let subject = subject.trim_start_matches(['#', '-', '*', ' ']).trim();
    let mut subject = subject.strip_suffix('.').filter(|s| !s.ends_with('.')).unwrap_or(subject).to_string();
    if style == MessageStyle::Conventional {
        let caps = CONVENTIONAL.captures(&subject)?;
        let kind = caps.get(1).map_or("", |m| m.as_str()).to_ascii_lowercase();
        let scope = caps.get(2).map_or("", |m| m.as_str());
        let bang = caps.get(3).map_or("", |m| m.as_str());
        let description = caps.get(4).map_or("", |m| m.as_str()).trim();
        subject = format!("{kind}{scope}{bang}: {description}");
    }
    let subject = cut_at_word(&subject, SUBJECT_MAX);
    (!subject.is_empty()).then_some(subject)
}

/// `text` cut to at most `max` characters, at the last space before the limit when there is one
/// past the first third, without trailing punctuation left dangling.
pub(crate) fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max + 1).collect();
    let cut = match head.rfind(' ') {
        Some(at) if head[..at].chars().count() > max / 3 => head[..at].to_string(),
        _ => head.chars().take(max).collect(),
    };
    cut.trim_end_matches([' ', ',', ';', ':', '-', '(']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: MessageStyle = MessageStyle::Conventional;
    const P: MessageStyle = MessageStyle::Plain;

    #[test]
    fn a_clean_message_is_kept_as_it_is() {
        let msg = "feat(vcs): add commit messages\n\nThe model writes them from the staged diff.";
        assert_eq!(clean_message(msg, C).as_deref(), Some(msg));
        assert_eq!(clean_message("fix: handle empty input", C).as_deref(), Some("fix: handle empty input"));
        assert_eq!(clean_message("feat!: drop v1 API", C).as_deref(), Some("feat!: drop v1 API"));
        assert_eq!(clean_message("refactor(api)!: rename", C).as_deref(), Some("refactor(api)!: rename"));
    }

    #[test]
    fn fences_quotes_lead_ins_and_trailing_spaces_are_stripped() {
        let raw = "Here is the commit message:\n\n```\nfix(parser): accept empty tables   \n\nBody line.  \n```\n\nLet me know if you want changes.";
        assert_eq!(clean_message(raw, C).as_deref(), Some("fix(parser): accept empty tables\n\nBody line."));
        let raw = "Sure! Here's a commit message for your changes:\n\"docs: explain the gate\"";
        assert_eq!(clean_message(raw, C).as_deref(), Some("docs: explain the gate"));
        assert_eq!(clean_message("`chore: bump deps`", C).as_deref(), Some("chore: bump deps"));
        assert_eq!(clean_message("**feat: add x**", C).as_deref(), Some("feat: add x"));
        assert_eq!(clean_message("Commit message: test: cover CRLF", C).as_deref(), Some("test: cover CRLF"));
        assert_eq!(clean_message("```text\nci: cache cargo\n```", C).as_deref(), Some("ci: cache cargo"));
        assert_eq!(clean_message("feat: add x.", C).as_deref(), Some("feat: add x"));
        assert_eq!(clean_message("  \r\nperf: faster diff\r\n", C).as_deref(), Some("perf: faster diff"));
    }

    #[test]
    fn think_blocks_and_trailers_are_removed() {
        let raw = "<think>The diff adds a parser.</think>\nfeat: add a parser\n\nCo-authored-by: Bot <b@x>\nSigned-off-by: Bot <b@x>";
        assert_eq!(clean_message(raw, C).as_deref(), Some("feat: add a parser"));
        let raw = "fix: x\n\nExplains.\n\n🤖 Generated with an assistant";
        assert_eq!(clean_message(raw, C).as_deref(), Some("fix: x\n\nExplains."));
        assert_eq!(clean_message("<think>never finished", C), None);
    }

    #[test]
    fn body_gets_one_blank_line_and_no_blank_runs() {
        assert_eq!(clean_message("fix: a\nbody", C).as_deref(), Some("fix: a\n\nbody"));
        assert_eq!(clean_message("fix: a\n\n\n\nb1\n\n\n\nb2\n\n", C).as_deref(), Some("fix: a\n\nb1\n\nb2"));
    }

    #[test]
    fn the_subject_is_cut_at_a_word_within_72_chars() {
        let long = format!("feat(core): {}", "make everything considerably faster ".repeat(4));
        let cut = clean_message(&long, C).unwrap();
        assert!(cut.chars().count() <= SUBJECT_MAX, "{cut}");
        assert!(long.starts_with(&cut), "cut at a word: {cut}");
        assert!(long[cut.len()..].starts_with(' '), "a whole word: {cut}");
        let word = format!("fix: {}", "x".repeat(100));
        assert_eq!(clean_message(&word, C).unwrap().chars().count(), SUBJECT_MAX);
        let unicode = format!("docs: {}", "é ".repeat(60));
        assert!(clean_message(&unicode, C).unwrap().chars().count() <= SUBJECT_MAX);
    }

    #[test]
    fn conventional_style_requires_a_known_type() {
        assert_eq!(clean_message("Add a parser", C), None);
        assert_eq!(clean_message("feature: add a parser", C), None);
        assert_eq!(clean_message("feat:add", C), None);
        assert_eq!(clean_message("feat(): add", C), None);
        assert_eq!(clean_message("feat: ", C), None);
        assert_eq!(clean_message("Feat(Parser): add", C).as_deref(), Some("feat(Parser): add"));
        assert_eq!(clean_message("", C), None);
        assert_eq!(clean_message("```\n```", C), None);
        assert_eq!(clean_message("\"\"", C), None);
    }

    #[test]
    fn plain_style_takes_any_subject() {
        assert_eq!(clean_message("Add a parser\n\nWhy.", P).as_deref(), Some("Add a parser\n\nWhy."));
        assert_eq!(clean_message("Here is the message:\n'Add a parser'", P).as_deref(), Some("Add a parser"));
        assert_eq!(clean_message("   \n  ", P), None);
    }

    #[test]
    fn the_diff_is_capped_at_a_line_end() {
        let text = "abc\ndef\nghi\n";
        assert_eq!(cap_at_line(text, 100), (text, 0));
        assert_eq!(cap_at_line(text, 6), ("abc\n", 8));
        assert_eq!(cap_at_line("ééé", 3), ("é", 4));
    }
}
