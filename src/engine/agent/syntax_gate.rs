//! The syntax gate as the engine runs it, between a proposal and the approval gate: every
//! changed file is parsed (`checks::syntax`); a change that introduces errors goes back to the
//! model as a tool result naming line, column and the offending text, without asking the user;
//! after `checks.max_syntax_retries` send-backs for a path in this turn it goes to the dialog
//! marked "does not parse". Edits (`tool_calls`) and a command's change set (`run_changes`)
//! both pass through [`Engine::screen_syntax`]. A file the model reads is parsed into the
//! gate's tree cache off the critical path ([`remember_syntax`]), so its edit is re-parsed
//! incrementally.
//!
//! Invariants:
//! - Nothing reaches the approval dialog without its verdicts ([`Screened::Ask`] carries them
//!   into `Ask::syntax`), so a change that does not parse is never shown unmarked.
//! - Send-backs are bounded: each sends back only while a broken path of it has retries left,
//!   and counts one retry for every broken path; a path's count restarts once a proposal of it
//!   reached the gate.
//! - The proposal row records how often the change was sent back and whether what was shown
//!   parses ([`Engine::record_syntax`]).

use super::runtime::Engine;
use crate::engine::checks::{syntax, tree_cache};
use crate::engine::grammars::Grammar;
use crate::engine::protocol::{Event, FileSyntax, LogLevel, SyntaxVerdict};
use crate::engine::tools::Workspace;

/// The syntax gate's outcome for one proposal.
pub(super) enum Screened {
    /// Back to the model, with this message; the user is not asked.
    SentBack(String),
    /// On to the approval gate with these verdicts, after `retries` send-backs.
    Ask { syntax: Vec<FileSyntax>, retries: u32 },
}

impl Engine {
    /// Decide, for the verdicts of one proposal, whether it goes back to the model or on to
    /// the user (see the module's invariants).
    pub(super) fn screen_syntax(&mut self, syntax: Vec<FileSyntax>) -> Screened {
        let max = self.config.checks.max_syntax_retries;
        let counts = &mut self.turn.syntax_retries;
        let broken: Vec<&FileSyntax> = syntax.iter().filter(|f| f.verdict.is_broken()).collect();
        let retries_left = broken.iter().any(|f| counts.get(&f.path).copied().unwrap_or(0) < max);
        if retries_left {
            let mut attempt = 0;
            for file in &broken {
                let count = counts.entry(file.path.clone()).or_default();
                *count += 1;
                attempt = attempt.max(*count);
            }
            let message = send_back_message(&broken, attempt, max);
            self.log(LogLevel::Info, format!("syntax gate: sent back (attempt {attempt} of {max})"));
            return Screened::SentBack(message);
        }
        let retries = syntax.iter().filter_map(|f| counts.remove(&f.path)).max().unwrap_or(0);
        Screened::Ask { syntax, retries }
    }

    /// Record on the last verdict's proposal row how often the syntax gate sent it back and
    /// whether what was shown parses.
    pub(super) fn record_syntax(&self, syntax: &[FileSyntax], retries: u32) {
        let checked = syntax.iter().any(|f| !matches!(f.verdict, SyntaxVerdict::NotChecked { .. }));
        let (Some(store), Some(proposal)) = (&self.store, self.turn.proposal) else { return };
        if !checked {
            return;
        }
        let parsed = !syntax.iter().any(|f| f.verdict.is_broken());
        if let Err(e) = store.set_syntax(proposal, retries, parsed) {
            self.log(LogLevel::Warn, format!("could not record the proposal's syntax check: {e}"));
        }
    }

    /// A change that does not parse was applied anyway (the user approved it marked, or a
    /// policy did without asking): the user is told, and the returned note tells the model.
    pub(super) fn applied_broken(&self, syntax: &[FileSyntax]) -> String {
        let lines: Vec<String> = syntax
            .iter()
            .filter_map(|f| f.verdict.errors_line().map(|errors| format!("{}: {errors}", f.path)))
            .collect();
        if lines.is_empty() {
            return String::new();
        }
        let text = format!("Applied, although it does not parse: {}", lines.join("; "));
        self.log(LogLevel::Warn, text.clone());
        self.emit(Event::Notice { level: LogLevel::Warn, text });
        format!("\nIt does not parse: {}. Fix it next.", lines.join("; "))
    }
}

/// Parses a file the model just read into the syntax gate's tree cache, on a blocking thread
/// so the read's result is not delayed: its edit, proposed next, is then checked by an
/// incremental re-parse. Files the cache would not keep (no grammar, too large, not UTF-8, gone)
/// are skipped; this only ever saves time, so failures are silent.
pub(super) fn remember_syntax(workspace: Workspace, path: String) {
    if Grammar::from_path(&path).is_none() {
        return;
    }
    tokio::task::spawn_blocking(move || {
        let Ok((abs, rel)) = workspace.resolve(&path, false) else { return };
        let small = std::fs::metadata(&abs)
            .is_ok_and(|m| m.is_file() && m.len() <= tree_cache::MAX_KEPT_BYTES as u64);
        if let Some(content) = small.then(|| std::fs::read_to_string(&abs).ok()).flatten() {
            syntax::remember(&rel, &content);
        }
    });
}

/// What the model reads when its change does not parse: each broken file, its errors (line,
/// column, offending text), and how many tries remain before the user sees it marked.
fn send_back_message(broken: &[&FileSyntax], attempt: u32, max: u32) -> String {
    let names: Vec<String> = broken
        .iter()
        .map(|f| match &f.verdict {
            SyntaxVerdict::Broken { language, .. } => format!("{} ({language})", f.path),
            _ => f.path.clone(),
        })
        .collect();
    let mut text = format!(
        "Not applied: {} does not parse after this change, so it was not shown to the user.",
        names.join(", ")
    );
    for file in broken {
        if let SyntaxVerdict::Broken { errors, total, .. } = &file.verdict {
            let name = if broken.len() > 1 { format!("{}: ", file.path) } else { String::new() };
            for error in errors {
                text.push_str(&format!("\n{name}{error}"));
            }
            if *total > errors.len() {
                text.push_str(&format!("\n{name}…and {} more errors", total - errors.len()));
            }
        }
    }
    let left = max.saturating_sub(attempt);
    text.push_str(&format!(
        "\nFix the syntax and propose the change again (syntax check {attempt} of {max}; {})",
        if left == 0 {
            "the next attempt goes to the user, marked \"does not parse\"".to_string()
        } else {
            format!("{left} more before it goes to the user marked \"does not parse\"")
        }
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::{SyntaxError, SyntaxErrorKind};

    #[test]
    fn the_message_names_line_column_and_text() {
        let error = SyntaxError {
            line: 2,
            column: 5,
            text: "return (a + b".into(),
            kind: SyntaxErrorKind::Unexpected,
        };
        let file = FileSyntax {
            path: "calc.py".into(),
            verdict: SyntaxVerdict::Broken { language: "python".into(), errors: vec![error], total: 1 },
        };
        let text = send_back_message(&[&file], 1, 2);
        assert!(text.starts_with("Not applied: calc.py (python) does not parse after this change"), "{text}");
        assert!(text.contains("\nline 2 col 5: unexpected `return (a + b`\n"), "{text}");
        assert!(
            text.ends_with(
                "(syntax check 1 of 2; 1 more before it goes to the user marked \"does not parse\")"
            )
        );
        assert!(send_back_message(&[&file], 2, 2).contains("the next attempt goes to the user"));
    }
}
