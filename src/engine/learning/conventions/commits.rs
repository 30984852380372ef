//! Commit message style, from the subjects of the history (merges left out): Conventional
//! Commits prefixes, subject length, trailing period, imperative mood, capitalisation.
//!
//! The imperative test is a heuristic on the first word of the description: `Added`, `Adding`,
//! `Adds` are not imperative; `Add`, `Fix`, `Process` are.

use regex::Regex;

use super::{CommitInfo, Rule, RuleCategory, evidence, strong};

fn conventional() -> Regex {
    Regex::new(r"^(feat|fix|docs|style|refactor|perf|test|tests|build|ci|chore|revert)(\([^)]+\))?!?: ")
        .expect("valid")
}

/// The subject without its Conventional Commits prefix.
fn description<'a>(re: &Regex, subject: &'a str) -> &'a str {
    re.find(subject).map_or(subject, |m| &subject[m.end()..])
}

fn imperative(word: &str) -> bool {
    let w = word.to_lowercase();
    let w = w.trim_end_matches(|c: char| !c.is_alphabetic());
    !(w.len() > 3 && (w.ends_with("ed") || w.ends_with("ing")))
        && !(w.len() > 3
            && w.ends_with('s')
            && !w.ends_with("ss")
            && !w.ends_with("us")
            && !w.ends_with("is"))
}

pub fn mine(commits: &[CommitInfo]) -> Vec<Rule> {
    let re = conventional();
    let total = commits.len();
    let mut rules = Vec::new();
    let mut rule = |id: &str, text: String, agree: Vec<&CommitInfo>| {
        if strong(agree.len(), total) {
            let examples = agree.iter().map(|c| format!("{} {}", c.id, c.subject));
            rules.push(Rule {
                id: id.into(),
                category: RuleCategory::Commits,
                text,
                evidence: evidence(agree.len(), total, examples),
            });
        }
    };
    let matching = |f: &dyn Fn(&CommitInfo) -> bool| commits.iter().filter(|c| f(c)).collect::<Vec<_>>();
    rule(
        "commits-conventional",
        "Write commit subjects as Conventional Commits (`feat: …`, `fix(scope): …`).".into(),
        matching(&|c| re.is_match(&c.subject)),
    );
    let short = matching(&|c| c.subject.chars().count() <= 50);
    let limit = if strong(short.len(), total) { 50 } else { 72 };
    rule(
        "commits-length",
        format!("Keep commit subjects to {limit} characters or fewer."),
        matching(&|c| c.subject.chars().count() <= limit),
    );
    rule(
        "commits-period",
        "End commit subjects without a period.".into(),
        matching(&|c| !c.subject.ends_with('.')),
    );
    rule(
        "commits-imperative",
        "Write commit subjects in the imperative mood (`Add …`, not `Added …`).".into(),
        matching(&|c| description(&re, &c.subject).split_whitespace().next().is_some_and(imperative)),
    );
    let first_upper = matching(&|c| description(&re, &c.subject).starts_with(char::is_uppercase));
    let first_lower = matching(&|c| description(&re, &c.subject).starts_with(char::is_lowercase));
    if first_upper.len() >= first_lower.len() {
        rule(
            "commits-capital",
            "Start the commit subject's description with a capital letter.".into(),
            first_upper,
        );
    } else {
        rule("commits-lowercase", "Start the commit subject's description in lowercase.".into(), first_lower);
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(subjects: &[&str]) -> Vec<CommitInfo> {
        subjects
            .iter()
            .enumerate()
            .map(|(i, s)| CommitInfo { id: format!("abc{i}"), subject: s.to_string() })
            .collect()
    }

    #[test]
    fn a_consistent_history_gives_its_style() {
        let history = commits(&[
            "feat: add the parser",
            "fix(store): close the database on drop",
            "docs: explain the config",
            "refactor: split the loader",
            "test: cover empty input",
        ]);
        let rules = mine(&history);
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "commits-conventional",
                "commits-length",
                "commits-period",
                "commits-imperative",
                "commits-lowercase"
            ]
        );
        assert_eq!(rules[0].evidence.examples[0], "abc0 feat: add the parser");
        assert_eq!(rules[1].text, "Keep commit subjects to 50 characters or fewer.");
    }

    #[test]
    fn past_tense_and_mixed_prefixes_are_not_a_convention() {
        let history = commits(&[
            "Added parser",
            "Fixed bug.",
            "feat: x",
            "Updating docs",
            "Removes cruft",
            "Process input",
        ]);
        let ids: Vec<String> = mine(&history).into_iter().map(|r| r.id).collect();
        assert!(!ids.contains(&"commits-conventional".to_string()));
        assert!(!ids.contains(&"commits-imperative".to_string()), "{ids:?}");
        assert!(imperative("Process") && imperative("Fix") && !imperative("Added") && !imperative("Adds"));
    }

    #[test]
    fn too_short_a_history_says_nothing() {
        assert!(mine(&commits(&["feat: a", "feat: b"])).is_empty());
    }
}
