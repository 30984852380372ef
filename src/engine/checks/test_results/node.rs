//! `node --test` (node's built-in runner): its TAP reporter (the default when output is not a
//! terminal, as under `npm test` here) and its spec reporter (`--test-reporter=spec`, a terminal).
//!
//! Counts from the closing totals, `# pass 3` (TAP) or `ℹ pass 3` (spec): `fail` and `cancelled`
//! are failures, `skipped` and `todo` are skipped; suites are not counted (their tests are). A
//! report needs the `tests`, `pass` and `fail` totals.
//!
//! Failures: TAP's `not ok N - name` with its YAML block (`error:`, `stack:`, `location:`),
//! named with its enclosing subtests (`math > nested fails`); a suite that failed only because
//! its subtests did (`failureType: 'subtestsFailed'`) is not a failure of its own. Spec: the
//! `✖ failing tests:` list node ≥ 20 prints at the end.

use std::sync::LazyLock;

use regex::Regex;

use super::{MAX_FAILURES, TestFailure, TestReport, TestRunner, first_lines, js_stack_location};

/// `# pass 3` / `ℹ pass 3`.
static TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:# |ℹ )(tests|pass|fail|cancelled|skipped|todo) (\d+)$").expect("static regex")
});
static NOT_OK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^( *)not ok \d+ - (.*?)(?: # (?:SKIP|TODO).*)?$").expect("static regex"));
static SUBTEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^( *)# Subtest: (.*)$").expect("static regex"));
/// `test at test/calc.test.js:8:1` in the spec reporter's failing tests list.
static TEST_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^test at (\S+?):(\d+):\d+$").expect("static regex"));
/// `✖ adds wrong (1.04ms)`.
static CROSS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*✖ (.*?)(?: \([\d.]+m?s\))?$").expect("static regex"));

pub(super) fn parse(text: &str) -> Option<TestReport> {
    let lines: Vec<&str> = text.lines().collect();
    let mut totals: [Option<usize>; 6] = [None; 6];
    for line in &lines {
        if let Some(c) = TOTAL.captures(line.trim_end()) {
            let slot =
                ["tests", "pass", "fail", "cancelled", "skipped", "todo"].iter().position(|k| *k == &c[1])?;
            totals[slot] = Some(c[2].parse().ok()?);
        }
    }
    let [Some(_tests), Some(pass), Some(fail), cancelled, skipped, todo] = totals else {
        return None;
    };
    let mut report = TestReport::new(TestRunner::Node);
    report.passed = pass;
    report.failed = fail.saturating_add(cancelled.unwrap_or(0));
    report.skipped = skipped.unwrap_or(0).saturating_add(todo.unwrap_or(0));
    report.failures = match lines.iter().position(|l| l.trim() == "✖ failing tests:") {
        Some(start) => spec_failures(&lines[start + 1..]),
        None => tap_failures(&lines),
    };
    Some(report)
}

/// Each `not ok` with its YAML diagnostics.
fn tap_failures(lines: &[&str]) -> Vec<TestFailure> {
    let mut failures = Vec::new();
    let mut subtests: Vec<(usize, &str)> = Vec::new(); // (indent, name), outermost first
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = SUBTEST.captures(line) {
            let indent = c[1].len();
            subtests.retain(|(depth, _)| *depth < indent);
            subtests.push((indent, c.get(2).map_or("", |m| m.as_str())));
            continue;
        }
        let Some(c) = NOT_OK.captures(line) else { continue };
        let indent = c[1].len();
        let yaml = yaml_block(&lines[i + 1..], indent);
        if yaml.iter().any(|l| l.trim() == "failureType: 'subtestsFailed'") {
            continue;
        }
        let mut name: Vec<&str> =
            subtests.iter().filter(|(depth, _)| *depth < indent).map(|(_, n)| *n).collect();
        name.push(c.get(2).map_or("", |m| m.as_str()));
        let stack = yaml_value(&yaml, "stack");
        let location =
            js_stack_location(&stack).or_else(|| js_stack_location(&yaml_value(&yaml, "location")));
        failures.push(TestFailure {
            name: name.join(" > "),
            location,
            message: first_lines(&yaml_value(&yaml, "error"), 3),
        });
        if failures.len() >= MAX_FAILURES {
            break;
        }
    }
    failures
}

/// The `---` … `...` block right after a `not ok` line at `indent`.
fn yaml_block<'a>(lines: &[&'a str], indent: usize) -> Vec<&'a str> {
    let open = format!("{}  ---", " ".repeat(indent));
    let close = format!("{}  ...", " ".repeat(indent));
    if lines.first().map(|l| l.trim_end()) != Some(open.as_str()) {
        return Vec::new();
    }
    lines[1..].iter().take_while(|l| l.trim_end() != close).copied().collect()
}

/// A key's value in a YAML block: `key: 'quoted'`, `key: plain`, or a `key: |-` block of the
/// more-indented lines below it.
fn yaml_value(yaml: &[&str], key: &str) -> String {
    let prefix = format!("{key}:");
    let Some(at) = yaml.iter().position(|l| l.trim_start().starts_with(&prefix)) else {
        return String::new();
    };
    let line = yaml[at];
    let indent = line.len() - line.trim_start().len();
    let value = line.trim_start()[prefix.len()..].trim();
    if value.starts_with('|') || value.starts_with('>') || value.is_empty() {
        let block: Vec<&str> = yaml[at + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .map(|l| l.trim())
            .collect();
        return block.join("\n");
    }
    match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(quoted) => quoted.replace("''", "'"),
        None => value.trim_matches('"').to_string(),
    }
}

/// The spec reporter's closing list: `test at FILE:L:C`, `✖ name (…ms)`, then the error and
/// its stack, indented.
fn spec_failures(lines: &[&str]) -> Vec<TestFailure> {
    let mut failures = Vec::new();
    let mut i = 0;
    while i < lines.len() && failures.len() < MAX_FAILURES {
        let Some(cross) = CROSS.captures(lines[i]) else {
            i += 1;
            continue;
        };
        let defined_at = i.checked_sub(1).and_then(|p| TEST_AT.captures(lines[p]));
        let end = (i + 1..lines.len())
            .find(|&j| TEST_AT.is_match(lines[j]) || CROSS.is_match(lines[j]))
            .unwrap_or(lines.len());
        let body = lines[i + 1..end].join("\n");
        let message: Vec<&str> =
            lines[i + 1..end].iter().copied().take_while(|l| !l.trim_start().starts_with("at ")).collect();
        let location =
            js_stack_location(&body).or_else(|| defined_at.and_then(|c| super::file_line(&c[1], &c[2])));
        failures.push(TestFailure {
            name: cross.get(1).map_or("", |m| m.as_str()).to_string(),
            location,
            message: first_lines(&message.join("\n"), 3),
        });
        i = end;
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checks::test_results::tests::fixture;

    fn names(report: &TestReport) -> Vec<&str> {
        report.failures.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn tap_counts_and_failures() {
        let report = parse(&fixture("node/tap")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        assert_eq!(
            names(&report),
            ["adds wrong", "throws", "math > nested fails"],
            "the suite is not a failure of its own"
        );
        let first = &report.failures[0];
        assert_eq!(
            first.location,
            Some(("/tmp/tr/node/test/calc.test.js".into(), 9)),
            "the failing line, from the stack"
        );
        assert_eq!(first.message, "Expected values to be strictly equal: 3 !== 4");
        assert_eq!(report.failures[1].message, "bad value");
        assert_eq!(report.failures[2].location, Some(("/tmp/tr/node/test/calc.test.js".into(), 23)));
    }

    #[test]
    fn npm_test_prints_tap_after_its_banner() {
        let report = parse(&fixture("node/npm_test")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        assert_eq!(report.failures.len(), 3);
    }

    #[test]
    fn spec_counts_and_failing_tests_list() {
        let report = parse(&fixture("node/spec")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        assert_eq!(names(&report), ["adds wrong", "throws", "nested fails"]);
        assert_eq!(
            report.failures[0].message,
            "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal: 3 !== 4"
        );
        assert_eq!(report.failures[0].location, Some(("/tmp/tr/node/test/calc.test.js".into(), 9)));
        assert_eq!(report.failures[1].message, "Error: bad value");
    }

    #[test]
    fn quoted_yaml_values_are_unescaped() {
        assert_eq!(yaml_value(&["  error: 'it''s broken'"], "error"), "it's broken");
        assert_eq!(yaml_value(&["  error: |-", "    a", "    b", "  code: 'X'"], "error"), "a\nb");
    }
}
