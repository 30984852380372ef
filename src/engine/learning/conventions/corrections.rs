//! The user's corrections: recurring substitutions in what they changed before approving
//! (`proposals.modification`, a proposed → approved unified diff).
//!
//! Each removed line is paired with the added line at the same place in its hunk; the tokens
//! both share at the start and the end are cut off, leaving the substitution (`.unwrap()` → `?`).
//! An identifier that lost a prefix or suffix (`get_name` → `name`) is generalised to a pattern
//! (`get_(\w+)` → `$1`). A substitution seen in [`super::MIN_CORRECTIONS`] or more separate
//! proposals becomes a rule citing them.

use std::collections::BTreeMap;

use super::{Correction, MIN_CORRECTIONS, Rule, RuleCategory, evidence};

/// Longest line compared (longer ones are skipped).
const MAX_LINE: usize = 400;

/// A substitution, generalised.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Pattern {
    /// This text became that (either may be empty).
    Replace(String, String),
    /// Identifiers lost this prefix (`get_`).
    DropPrefix(String),
    /// Identifiers lost this suffix.
    DropSuffix(String),
}

impl Pattern {
    fn id(&self) -> String {
        let slug = |s: &str| {
            let raw = s.to_string();
            let s: String =
                s.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
            let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
            if !s.is_empty() {
                return s;
            }
            // Symbols only (`?`, `&`, …): named, so the id still says what it is.
            let named: Vec<&str> = symbol_names(&raw);
            if named.is_empty() { "empty".to_string() } else { named.join("-") }
        };
        match self {
            Pattern::Replace(a, b) => format!("correction-{}-to-{}", slug(a), slug(b)),
            Pattern::DropPrefix(p) => format!("correction-drop-prefix-{}", slug(p)),
            Pattern::DropSuffix(s) => format!("correction-drop-suffix-{}", slug(s)),
        }
    }

    fn text(&self) -> String {
        match self {
            Pattern::Replace(a, b) if b.is_empty() => format!("Do not write `{a}`."),
            Pattern::Replace(a, b) if a.is_empty() => {
                format!("Write `{b}` where it belongs (you add it in corrections).")
            }
            Pattern::Replace(a, b) => format!("Write `{b}` instead of `{a}`."),
            Pattern::DropPrefix(p) => format!("Do not prefix names with `{p}` (`{p}x` → `x`)."),
            Pattern::DropSuffix(s) => format!("Do not suffix names with `{s}` (`x{s}` → `x`)."),
        }
    }
}

/// The names of the symbols of `text`, for ids (`?` → `question-mark`).
fn symbol_names(text: &str) -> Vec<&'static str> {
    text.chars()
        .filter_map(|c| {
            Some(match c {
                '?' => "question-mark",
                '!' => "bang",
                '&' => "ref",
                '*' => "star",
                '.' => "dot",
                ';' => "semicolon",
                ':' => "colon",
                ',' => "comma",
                '(' | ')' => "paren",
                '[' | ']' => "bracket",
                '{' | '}' => "brace",
                '<' | '>' => "angle",
                '=' => "equals",
                '+' => "plus",
                '-' => "minus",
                '\'' | '"' => "quote",
                _ => return None,
            })
        })
        .collect()
}

/// Identifier runs, and every other non-space character alone.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        let word = c.is_alphanumeric() || c == '_';
        match (word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(&line[s..i]);
                start = None;
            }
            _ => {}
        }
        if !word && !c.is_whitespace() {
            out.push(&line[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_numeric())
}

/// The substitution that turns `old` into `new`, if they differ in one place.
fn substitution(old: &str, new: &str) -> Option<Pattern> {
    if old.len() > MAX_LINE || new.len() > MAX_LINE {
        return None;
    }
    let (a, b) = (tokens(old), tokens(new));
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (removed, added) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    if removed.is_empty() && added.is_empty() {
        return None;
    }
    if let ([r], [n]) = (removed, added)
        && is_ident(r)
        && is_ident(n)
    {
        if let Some(p) = r.strip_suffix(n).filter(|p| !p.is_empty()) {
            return Some(Pattern::DropPrefix(p.to_string()));
        }
        if let Some(s) = r.strip_prefix(n).filter(|s| !s.is_empty()) {
            return Some(Pattern::DropSuffix(s.to_string()));
        }
    }
    if removed.len() + added.len() > 12 {
        return None; // a rewrite, not a substitution
    }
    Some(Pattern::Replace(removed.concat(), added.concat()))
}

/// Pairs of (removed, added) lines of a unified diff, positionally within each change block.
fn line_pairs(diff: &str) -> Vec<(&str, &str)> {
    fn flush<'a>(pairs: &mut Vec<(&'a str, &'a str)>, removed: &mut Vec<&'a str>, added: &mut Vec<&'a str>) {
        if removed.len() == added.len() {
            pairs.extend(removed.iter().copied().zip(added.iter().copied()));
        }
        removed.clear();
        added.clear();
    }
    let mut pairs = Vec::new();
    let (mut removed, mut added): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") {
            continue;
        }
        if let Some(r) = line.strip_prefix('-') {
            if !added.is_empty() {
                flush(&mut pairs, &mut removed, &mut added);
            }
            removed.push(r);
        } else if let Some(a) = line.strip_prefix('+') {
            added.push(a);
        } else {
            flush(&mut pairs, &mut removed, &mut added);
        }
    }
    flush(&mut pairs, &mut removed, &mut added);
    pairs
}

pub fn mine(corrections: &[Correction]) -> Vec<Rule> {
    // pattern → (proposal ids, examples)
    let mut seen: BTreeMap<Pattern, (Vec<i64>, Vec<String>)> = BTreeMap::new();
    for c in corrections {
        for (old, new) in line_pairs(&c.diff) {
            let Some(pattern) = substitution(old, new) else { continue };
            let entry = seen.entry(pattern).or_default();
            if entry.0.last() != Some(&c.proposal_id) {
                entry.0.push(c.proposal_id);
                entry.1.push(format!("proposal #{}: `{}` → `{}`", c.proposal_id, old.trim(), new.trim()));
            }
        }
    }
    seen.into_iter()
        .filter(|(_, (ids, _))| ids.len() >= MIN_CORRECTIONS)
        .map(|(pattern, (ids, examples))| Rule {
            id: pattern.id(),
            category: RuleCategory::Corrections,
            text: pattern.text(),
            evidence: evidence(ids.len(), corrections.len(), examples),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(old: &str, new: &str) -> String {
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(2)
            .header("proposed", "approved")
            .to_string()
    }

    fn correction(id: i64, old: &str, new: &str) -> Correction {
        Correction { proposal_id: id, diff: diff(old, new) }
    }

    #[test]
    fn unwrap_to_question_mark_twice_is_a_rule_citing_both_proposals() {
        let corrections = vec![
            correction(
                3,
                "fn a() {\n    let x = load().unwrap();\n    x\n}\n",
                "fn a() {\n    let x = load()?;\n    x\n}\n",
            ),
            correction(7, "let n = s.parse::<u32>().unwrap();\n", "let n = s.parse::<u32>()?;\n"),
            correction(9, "let a = 1;\n", "let a = 2;\n"),
        ];
        let rules = mine(&corrections);
        assert_eq!(rules.len(), 1, "{rules:?}");
        let rule = &rules[0];
        assert_eq!(rule.text, "Write `?` instead of `.unwrap()`.");
        assert_eq!(rule.id, "correction-unwrap-to-question-mark");
        assert_eq!((rule.evidence.count, rule.evidence.total), (2, 3));
        assert_eq!(rule.evidence.examples[0], "proposal #3: `let x = load().unwrap();` → `let x = load()?;`");
        assert!(rule.evidence.examples[1].starts_with("proposal #7"));
    }

    #[test]
    fn dropped_prefixes_generalise_across_names() {
        let corrections = vec![
            correction(1, "pub fn get_name(&self) -> &str {\n", "pub fn name(&self) -> &str {\n"),
            correction(2, "fn get_size(&self) -> u64 {\n", "fn size(&self) -> u64 {\n"),
        ];
        let rules = mine(&corrections);
        assert_eq!(rules[0].text, "Do not prefix names with `get_` (`get_x` → `x`).");
        assert_eq!(rules[0].evidence.count, 2);
    }

    #[test]
    fn one_proposal_repeating_a_change_counts_once() {
        let old = "a.unwrap();\nb.unwrap();\n";
        let new = "a?;\nb?;\n";
        assert!(mine(&[correction(1, old, new)]).is_empty());
    }
}
