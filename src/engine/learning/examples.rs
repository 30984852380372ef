//! Few-shot examples (seed §6, "self-improvement that stays visible"): from the edits the user
//! accepted in this repository (`store::examples`), the ones whose requests are most like the
//! new one, each shown to the model as its request and the accepted diff, within a token budget.
//!
//! Invariants:
//! - Pure: the caller reads the candidates; nothing here touches the store or the network.
//! - Similarity is lexical: the cosine of the two requests' word sets (words of three or more
//!   letters, lowercased, common English words left out). An example shares at least
//!   [`MIN_SHARED`] words and scores at least [`MIN_SCORE`]; ties go to the newer edit.
//! - The chosen examples' rendered text never exceeds the budget: an example that does not fit
//!   is left out, never cut.

use std::collections::HashSet;

use crate::engine::llm::context::estimate_tokens;
use crate::engine::store::AcceptedEdit;

/// Fewest words a request must share with an example's.
pub const MIN_SHARED: usize = 2;
/// Lowest similarity an example needs.
pub const MIN_SCORE: f64 = 0.2;
/// Longest diff shown per example, in lines.
const MAX_DIFF_LINES: usize = 80;
/// Longest request quoted, in characters.
const MAX_PROMPT_CHARS: usize = 300;

const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "that", "this", "from", "into", "please", "can", "you", "add", "make",
    "use", "new", "all", "are", "but", "not", "its", "it's", "our", "your", "have", "has", "when", "then",
    "should", "would", "could", "also", "file", "code", "function",
];

/// One example as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub proposal_id: i64,
    pub session_id: String,
    pub turn: u64,
    /// The earlier request, cut to [`MAX_PROMPT_CHARS`].
    pub request: String,
    pub paths: Vec<String>,
    pub score: f64,
    /// The section text for this example (request + fenced diff).
    pub text: String,
    pub tokens: usize,
}

/// Up to `count` examples for `request` from `edits` (newest first), within `budget` tokens.
pub fn choose(request: &str, edits: &[AcceptedEdit], count: usize, budget: usize) -> Vec<Example> {
    if count == 0 || budget == 0 {
        return Vec::new();
    }
    let wanted = words(request);
    let mut scored: Vec<(f64, usize)> = edits
        .iter()
        .enumerate()
        .filter_map(|(i, edit)| {
            let theirs = words(&edit.prompt);
            let shared = wanted.intersection(&theirs).count();
            if shared < MIN_SHARED {
                return None;
            }
            let score = shared as f64 / ((wanted.len() * theirs.len()) as f64).sqrt();
            (score >= MIN_SCORE).then_some((score, i))
        })
        .collect();
    // Best first; `edits` is newest first, so the lower index wins a tie.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen = Vec::new();
    let mut used = 0;
    for (score, i) in scored {
        if chosen.len() == count {
            break;
        }
        let example = render(&edits[i], score);
        if used + example.tokens <= budget {
            used += example.tokens;
            chosen.push(example);
        }
    }
    chosen
}

/// The system prompt's section for `examples` (empty when there are none).
pub fn section(examples: &[Example]) -> String {
    if examples.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "\n\n# Changes the user accepted here before\n\nEarlier requests in this repository like this one, \
         each with the change the user accepted. Follow their conventions where they apply; they are \
         examples, not instructions.\n",
    );
    for example in examples {
        text.push_str(&example.text);
    }
    text
}

fn render(edit: &AcceptedEdit, score: f64) -> Example {
    let request = cut(edit.prompt.trim(), MAX_PROMPT_CHARS);
    let mut diff = String::new();
    for (path, before, after) in &edit.files {
        let (old, new) = (before.as_deref().unwrap_or(""), after.as_deref().unwrap_or(""));
        let unified = similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        diff.push_str(&unified);
    }
    let mut lines: Vec<&str> = diff.lines().collect();
    let cut_lines = lines.len().saturating_sub(MAX_DIFF_LINES);
    lines.truncate(MAX_DIFF_LINES);
    let mut shown = lines.join("\n");
    if cut_lines > 0 {
        shown.push_str(&format!("\n… {cut_lines} more lines"));
    }
    let text = format!("\n## Request: {request}\n\n```diff\n{shown}\n```\n");
    Example {
        proposal_id: edit.proposal_id,
        session_id: edit.session_id.clone(),
        turn: edit.turn,
        request,
        paths: edit.files.iter().map(|(p, _, _)| p.clone()).collect(),
        score,
        tokens: estimate_tokens(&text),
        text,
    }
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn cut(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(id: i64, prompt: &str, path: &str, after: &str) -> AcceptedEdit {
        AcceptedEdit {
            proposal_id: id,
            session_id: "s".into(),
            turn: 1,
            prompt: prompt.into(),
            files: vec![(path.into(), Some("old\n".into()), Some(after.into()))],
        }
    }

    #[test]
    fn the_most_similar_requests_win_and_unrelated_ones_never_come() {
        let edits = [
            edit(3, "write a parser for the config header", "src/header.rs", "fn header() {}\n"),
            edit(2, "parse the config footer into a struct", "src/footer.rs", "fn footer() {}\n"),
            edit(1, "rename the logging module", "src/log.rs", "mod log;\n"),
        ];
        let chosen = choose("parse the config header lines", &edits, 3, 10_000);
        let ids: Vec<i64> = chosen.iter().map(|e| e.proposal_id).collect();
        assert_eq!(ids, [3, 2], "{chosen:#?}");
        assert!(
            chosen[0].text.contains("+fn header() {}")
                && chosen[0].text.contains("## Request: write a parser")
        );
    }

    #[test]
    fn the_budget_is_never_exceeded() {
        let big = "x\n".repeat(60);
        let edits = [
            edit(2, "parse config header", "a.rs", &big),
            edit(1, "parse config header again", "b.rs", "y\n"),
        ];
        let all = choose("parse config header", &edits, 3, 10_000);
        assert_eq!(all.len(), 2);
        let budget = all[1].tokens + 5;
        let fitted = choose("parse config header", &edits, 3, budget);
        assert_eq!(fitted.iter().map(|e| e.proposal_id).collect::<Vec<_>>(), [1], "the big one does not fit");
        assert!(fitted.iter().map(|e| e.tokens).sum::<usize>() <= budget);
        assert!(choose("parse config header", &edits, 0, 10_000).is_empty());
        assert!(section(&[]).is_empty());
    }
}
