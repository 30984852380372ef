//! Conventions mined, not guessed: candidate rules for `KV1NT.md` with their evidence, from the
//! repository (entities of the knowledge graph, source text, config files, git history) and from
//! the user's corrections (the `modification` diffs of edited-then-approved proposals).
//!
//! Each miner is a pure function of a [`Corpus`] (unit-tested on small fixtures); [`gather`]
//! builds the corpus from the disk, git, the graph and the store, within [`Bounds`].
//!
//! Invariants:
//! - A rule is offered only when its evidence is strong: at least [`MIN_CASES`] cases of which at
//!   least [`MIN_SHARE`] agree ([`strong`]) — except a config file's presence (one file is the
//!   evidence) and a correction, which needs [`MIN_CORRECTIONS`] separate proposals.
//! - A rule whose text `AGENTS.md` or `KV1NT.md` already contains is not offered again.
//! - Nothing here writes anything; accepting a rule is an edit through the gate (`agent::learn`).

pub mod commits;
pub mod corrections;
pub mod errors;
pub mod gather;
pub mod imports;
pub mod naming;
pub mod testing;
pub mod tooling;

pub use crate::engine::protocol::learn::{Evidence, Rule, RuleCategory};
pub use gather::{Bounds, gather};

/// Fewest cases a share-based rule stands on.
pub const MIN_CASES: usize = 5;
/// Least share of the cases that must agree (80 %).
pub const MIN_SHARE: f64 = 0.8;
/// Separate proposals the same correction must be seen in.
pub const MIN_CORRECTIONS: usize = 2;
/// Examples kept per rule.
pub const MAX_EXAMPLES: usize = 3;

/// A source or config file's text, path relative to the repository root with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// A named code element from the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEntity {
    pub name: String,
    /// The graph's kind name (`function`, `struct`, …).
    pub kind: String,
    pub file: String,
    pub line: usize,
}

/// A commit of the history: short id and subject line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub subject: String,
}

/// A user's correction: the proposal's id and its proposed → approved unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub proposal_id: i64,
    pub diff: String,
}

/// Everything the miners read.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Every file path seen by the walk (text read or not).
    pub paths: Vec<String>,
    /// The text of the source and config files read.
    pub files: Vec<SourceFile>,
    pub entities: Vec<NamedEntity>,
    /// Newest first, merges left out.
    pub commits: Vec<CommitInfo>,
    pub corrections: Vec<Correction>,
    /// `AGENTS.md` and `KV1NT.md` as they are: rules they state are not offered.
    pub instructions: String,
}

/// The project's own code, not a vendored or fixture tree (`node_modules/`, `vendor/`,
/// `third_party/`, `tests/fixtures/`, `testdata/`): only that is evidence of its conventions.
pub fn ours(path: &str) -> bool {
    !path.split('/').any(|d| matches!(d, "node_modules" | "vendor" | "fixtures" | "testdata" | "third_party"))
}

/// Every miner's rules, strongest share first, without those the instructions already state.
pub fn mine(corpus: &Corpus) -> Vec<Rule> {
    let entities: Vec<NamedEntity> = corpus.entities.iter().filter(|e| ours(&e.file)).cloned().collect();
    let files: Vec<SourceFile> = corpus.files.iter().filter(|f| ours(&f.path)).cloned().collect();
    let mut rules = Vec::new();
    rules.extend(naming::mine(&entities));
    rules.extend(testing::mine(&files));
    rules.extend(errors::mine(&files));
    rules.extend(imports::mine(&files));
    rules.extend(tooling::mine(&corpus.paths, &files));
    rules.extend(commits::mine(&corpus.commits));
    rules.extend(corrections::mine(&corpus.corrections));
    for rule in &mut rules {
        rule.text = printable(&rule.text);
        rule.evidence.examples.iter_mut().for_each(|e| *e = shortened(&printable(e)));
    }
    let stated = normalize(&corpus.instructions);
    rules.retain(|r| !stated.contains(&normalize(&r.text)));
    let share = |r: &Rule| r.evidence.count as f64 / r.evidence.total.max(1) as f64;
    rules.sort_by(|a, b| {
        a.category
            .cmp(&b.category)
            .then(share(b).total_cmp(&share(a)))
            .then(b.evidence.total.cmp(&a.evidence.total))
    });
    rules
}

/// The text of the line a rule adds to `KV1NT.md`.
pub fn kv1nt_line(rule: &Rule) -> String {
    format!("- {}\n", rule.text)
}

/// The heading accepted rules go under in `KV1NT.md`.
pub const SECTION: &str = "## Conventions";

/// `KV1NT.md` (`before`, `None` when it does not exist) with the rule's line added at the end of
/// its [`SECTION`], which is appended first when missing. Everything else is kept as it was.
pub fn with_rule(before: Option<&str>, rule: &Rule) -> String {
    let line = kv1nt_line(rule);
    let text = before.unwrap_or("").replace("\r\n", "\n");
    let heading = text.lines().scan(0, |at, l| {
        let start = *at;
        *at += l.len() + 1;
        Some((start, l))
    });
    let found = heading.clone().find(|(_, l)| l.trim_end() == SECTION).map(|(start, _)| start);
    let Some(start) = found else {
        let mut out = text.trim_end().to_string();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        return format!("{out}{SECTION}\n\n{line}");
    };
    // The section ends at the next heading of the same or a higher level, or at the end.
    let end = heading
        .skip_while(|(s, _)| *s <= start)
        .find(|(_, l)| l.starts_with("# ") || l.starts_with("## "))
        .map_or(text.len(), |(s, _)| s);
    let body = text[..end].trim_end();
    let rest = &text[end..];
    let gap = if rest.is_empty() { "" } else { "\n" };
    format!("{body}\n{line}{gap}{rest}")
}

/// `count` of `total` is strong evidence: at least [`MIN_CASES`] cases, [`MIN_SHARE`] agreeing.
pub fn strong(count: usize, total: usize) -> bool {
    total >= MIN_CASES && count as f64 >= MIN_SHARE * total as f64
}

/// Evidence keeping the first [`MAX_EXAMPLES`] examples.
pub fn evidence(count: usize, total: usize, examples: impl IntoIterator<Item = String>) -> Evidence {
    Evidence { count, total, examples: examples.into_iter().take(MAX_EXAMPLES).collect() }
}

/// Longest example kept, in characters (a long commit subject is cut with `…`).
pub const MAX_EXAMPLE_CHARS: usize = 120;

fn shortened(text: &str) -> String {
    if text.chars().count() <= MAX_EXAMPLE_CHARS {
        return text.to_string();
    }
    text.chars().take(MAX_EXAMPLE_CHARS - 1).chain(['…']).collect()
}

/// Text from the repository or the store without control characters (terminal escapes).
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The language of a path by its extension, for rule texts ("Rust", "Python", …).
pub fn language(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "rs" => "Rust",
        "py" => "Python",
        "go" => "Go",
        "ts" | "tsx" => "TypeScript",
        "js" | "jsx" | "mjs" | "cjs" => "JavaScript",
        _ => return None,
    })
}

/// How an identifier is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Case {
    Snake,
    ScreamingSnake,
    Camel,
    Pascal,
}

impl Case {
    pub fn as_str(self) -> &'static str {
        match self {
            Case::Snake => "snake_case",
            Case::ScreamingSnake => "SCREAMING_SNAKE_CASE",
            Case::Camel => "camelCase",
            Case::Pascal => "PascalCase",
        }
    }

    /// The case of `name` (leading/trailing underscores ignored), `None` when it cannot tell
    /// (one lowercase word fits both snake_case and camelCase; dunders; digits only).
    pub fn of(name: &str) -> Option<Case> {
        if name.starts_with("__") && name.ends_with("__") {
            return None;
        }
        let core = name.trim_matches('_');
        let first = core.chars().next()?;
        if !first.is_alphabetic() || !core.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let has_upper = core.chars().any(char::is_uppercase);
        let has_lower = core.chars().any(char::is_lowercase);
        let underscore = core.contains('_');
        match (first.is_uppercase(), has_upper, has_lower, underscore) {
            (_, true, false, _) if core.chars().filter(|c| c.is_alphabetic()).count() > 1 => {
                Some(Case::ScreamingSnake)
            }
            (false, false, true, true) => Some(Case::Snake),
            (false, true, true, false) => Some(Case::Camel),
            (true, _, true, false) => Some(Case::Pascal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_told_apart_and_ambiguous_names_are_not_counted() {
        assert_eq!(Case::of("parse_config"), Some(Case::Snake));
        assert_eq!(Case::of("parseConfig"), Some(Case::Camel));
        assert_eq!(Case::of("ParseConfig"), Some(Case::Pascal));
        assert_eq!(Case::of("Config"), Some(Case::Pascal));
        assert_eq!(Case::of("MAX_SIZE"), Some(Case::ScreamingSnake));
        assert_eq!(Case::of("_private_thing"), Some(Case::Snake));
        assert_eq!(Case::of("main"), None);
        assert_eq!(Case::of("__init__"), None);
        assert_eq!(Case::of("Mixed_Case"), None);
    }

    #[test]
    fn strong_needs_enough_cases_and_a_clear_majority() {
        assert!(strong(4, 5));
        assert!(!strong(3, 5));
        assert!(!strong(4, 4), "four cases are too few");
    }

    fn rule(text: &str) -> Rule {
        Rule {
            id: "x".into(),
            category: RuleCategory::Naming,
            text: text.into(),
            evidence: evidence(5, 5, []),
        }
    }

    #[test]
    fn a_rule_goes_at_the_end_of_the_conventions_section() {
        assert_eq!(with_rule(None, &rule("Use tabs.")), "## Conventions\n\n- Use tabs.\n");
        assert_eq!(
            with_rule(Some("Run make.\n"), &rule("Use tabs.")),
            "Run make.\n\n## Conventions\n\n- Use tabs.\n"
        );
        let before = "# Project\n\n## Conventions\n\n- Old rule.\n\n## Build\n\nRun make.\n";
        assert_eq!(
            with_rule(Some(before), &rule("New rule.")),
            "# Project\n\n## Conventions\n\n- Old rule.\n- New rule.\n\n## Build\n\nRun make.\n"
        );
        let last = "## Conventions\n- Old rule.";
        assert_eq!(with_rule(Some(last), &rule("New.")), "## Conventions\n- Old rule.\n- New.\n");
    }

    #[test]
    fn rules_the_instructions_state_are_not_offered_again() {
        let commits = (0..6).map(|i| CommitInfo { id: format!("c{i}"), subject: format!("fix: thing {i}") });
        let mut corpus = Corpus { commits: commits.collect(), ..Corpus::default() };
        let rules = mine(&corpus);
        let conventional = rules.iter().find(|r| r.id == "commits-conventional").expect("offered");
        corpus.instructions = format!("# Rules\n\n{}", kv1nt_line(conventional));
        assert!(mine(&corpus).iter().all(|r| r.id != "commits-conventional"));
    }

    #[test]
    fn fixture_and_vendored_trees_are_not_evidence() {
        let entity = |file: &str, name: &str| NamedEntity {
            name: name.into(),
            kind: "function".into(),
            file: file.into(),
            line: 1,
        };
        let names = ["get_a", "get_b", "get_c", "get_d", "get_e"];
        let fixtures = names.iter().map(|n| entity("tests/fixtures/app/a.py", n)).collect();
        assert!(mine(&Corpus { entities: fixtures, ..Corpus::default() }).is_empty());
        let own = names.iter().map(|n| entity("app/a.py", n)).collect();
        assert_eq!(mine(&Corpus { entities: own, ..Corpus::default() }).len(), 1);
    }

    #[test]
    fn examples_are_printable_and_short() {
        let subject = format!("fix: \u{1b}[31mred\u{1b}[0m {}", "x".repeat(300));
        let commits = (0..5).map(|i| CommitInfo { id: format!("c{i}"), subject: subject.clone() }).collect();
        let rules = mine(&Corpus { commits, ..Corpus::default() });
        let example = &rules[0].evidence.examples[0];
        assert!(!example.contains('\u{1b}'), "{example}");
        assert_eq!(example.chars().count(), MAX_EXAMPLE_CHARS);
        assert!(example.ends_with('…'));
    }
}
