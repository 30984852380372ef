//! jest and vitest: their default reporters' text and their shared `--json` object.
//!
//! - jest (stderr): `FAIL src/calc.test.js`, then `  ● adds wrong` blocks with the message and
//!   an `at … (src/calc.test.js:8:21)` frame; counts from `Tests: 2 failed, 1 skipped, 1 todo,
//!   3 passed, 7 total`. A `● Test suite failed to run` block is one more failure, named by
//!   its file (jest counts no test for it).
//! - vitest: counts from `Tests  2 failed | 3 passed | 1 skipped | 1 todo (7)` (stdout),
//!   failures from ` FAIL  src/calc.test.js > adds wrong` (stderr) and the message line below;
//!   `Failed Suites N` adds the files that did not load.
//! - `--json` (one line on stdout): `numPassedTests`, `numFailedTests`, `numPendingTests`,
//!   `numTodoTests`, and each suite's `assertionResults`; a suite with a `message` and no
//!   results failed to load. jest's object has `numRuntimeErrorTestSuites`, vitest's does not.
//!
//! todo and pending (skipped) tests are skipped.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{MAX_FAILURES, TestFailure, TestReport, TestRunner, first_lines, js_stack_location};

pub(super) fn parse(text: &str) -> Option<TestReport> {
    json(text).or_else(|| jest_text(text)).or_else(|| vitest_text(text))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport {
    num_passed_tests: usize,
    num_failed_tests: usize,
    #[serde(default)]
    num_pending_tests: usize,
    #[serde(default)]
    num_todo_tests: usize,
    num_runtime_error_test_suites: Option<usize>,
    #[serde(default)]
    test_results: Vec<JsonSuite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSuite {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    assertion_results: Vec<JsonTest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonTest {
    #[serde(default)]
    ancestor_titles: Vec<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    failure_messages: Vec<String>,
}

/// The `--json` object: the one line that parses as one.
fn json(text: &str) -> Option<TestReport> {
    let object = text
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"numTotalTests\""))
        .find_map(|l| serde_json::from_str::<JsonReport>(l).ok())?;
    let runner =
        if object.num_runtime_error_test_suites.is_some() { TestRunner::Jest } else { TestRunner::Vitest };
    let separator = if runner == TestRunner::Jest { " › " } else { " > " };
    let mut report = TestReport::new(runner);
    report.passed = object.num_passed_tests;
    report.failed = object.num_failed_tests;
    report.skipped = object.num_pending_tests.saturating_add(object.num_todo_tests);
    for suite in &object.test_results {
        if suite.assertion_results.is_empty() && !suite.message.trim().is_empty() {
            report.failed = report.failed.saturating_add(1);
            let location = js_stack_location(&suite.message);
            report.push_failure(TestFailure {
                name: suite.name.clone(),
                location,
                message: error_line(&suite.message),
            });
        }
        for test in suite.assertion_results.iter().filter(|t| t.status == "failed") {
            let mut name = test.ancestor_titles.clone();
            name.push(test.title.clone());
            let message = test.failure_messages.first().map(String::as_str).unwrap_or("");
            report.push_failure(TestFailure {
                name: name.join(separator),
                location: js_stack_location(message),
                message: error_line(message),
            });
        }
    }
    Some(report)
}

/// A JavaScript error's message: its first lines up to the stack, `Error: ` removed.
fn error_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .take_while(|l| !l.trim_start().starts_with("at "))
        .filter(|l| !l.trim_start().starts_with("● "))
        .collect();
    let text = first_lines(&lines.join("\n"), 1);
    text.strip_prefix("Error: ").map(str::to_string).unwrap_or(text)
}

static JEST_TESTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Tests:\s+((?:\d+ [a-z]+, )*)\d+ total$").expect("static regex"));
static JEST_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(FAIL|PASS) (\S+)").expect("static regex"));
static JEST_BULLET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^  ● (.+)$").expect("static regex"));

fn jest_text(text: &str) -> Option<TestReport> {
    let lines: Vec<&str> = text.lines().collect();
    let counts = lines.iter().rev().find_map(|l| JEST_TESTS.captures(l.trim_end()))?;
    let mut report = TestReport::new(TestRunner::Jest);
    for part in counts[1].split(", ").filter(|p| !p.is_empty()) {
        let (n, word) = part.split_once(' ')?;
        let n: usize = n.parse().ok()?;
        match word {
            "passed" => report.passed = report.passed.saturating_add(n),
            "failed" => report.failed = report.failed.saturating_add(n),
            "skipped" | "todo" | "pending" => report.skipped = report.skipped.saturating_add(n),
            _ => {}
        }
    }
    let mut file = "";
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(c) = JEST_FILE.captures(line) {
            file = c.get(2).map_or("", |m| m.as_str());
            continue;
        }
        let Some(c) = JEST_BULLET.captures(line) else { continue };
        let title = c.get(1).map_or("", |m| m.as_str());
        if !seen.insert((file, title)) {
            continue; // jest's closing "Summary of all failing tests" repeats them
        }
        let end = (i + 1..lines.len())
            .find(|&j| {
                JEST_BULLET.is_match(lines[j])
                    || JEST_FILE.is_match(lines[j])
                    || lines[j].starts_with("Test Suites:")
            })
            .unwrap_or(lines.len());
        let body = lines[i + 1..end].join("\n");
        let message = first_lines(&body, 1);
        let location = js_stack_location(&body);
        if title == "Test suite failed to run" {
            report.failed = report.failed.saturating_add(1);
            report.push_failure(TestFailure { name: file.to_string(), location, message });
        } else {
            report.push_failure(TestFailure { name: title.to_string(), location, message });
        }
        if report.failures.len() >= MAX_FAILURES {
            break;
        }
    }
    Some(report)
}

/// `Tests  2 failed | 3 passed | 1 skipped | 1 todo (7)`.
static VITEST_TESTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*Tests\s+((?:\d+ [a-z]+(?: \| )?)+) \(\d+\)$").expect("static regex"));
static VITEST_FAILED_SUITES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^⎯+ Failed Suites (\d+) ⎯+$").expect("static regex"));
/// ` FAIL  src/calc.test.js > math > nested fails` or ` FAIL  src/broken.test.js [ src/broken.test.js ]`.
static VITEST_FAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ FAIL  (\S+?)(?: (>.*)| \[ .* \])?$").expect("static regex"));
/// ` ❯ src/calc.test.js:10:21` under an error (the code frame's location).
static VITEST_AT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*❯ (\S+):(\d+):\d+$").expect("static regex"));

fn vitest_text(text: &str) -> Option<TestReport> {
    let lines: Vec<&str> = text.lines().collect();
    let counts = lines.iter().rev().find_map(|l| VITEST_TESTS.captures(l.trim_end()))?;
    let mut report = TestReport::new(TestRunner::Vitest);
    for part in counts[1].split(" | ") {
        let (n, word) = part.split_once(' ')?;
        let n: usize = n.parse().ok()?;
        match word {
            "passed" => report.passed = report.passed.saturating_add(n),
            "failed" => report.failed = report.failed.saturating_add(n),
            "skipped" | "todo" => report.skipped = report.skipped.saturating_add(n),
            _ => {}
        }
    }
    if let Some(c) = lines.iter().find_map(|l| VITEST_FAILED_SUITES.captures(l.trim_end())) {
        report.failed = report.failed.saturating_add(c[1].parse().ok()?);
    }
    for (i, line) in lines.iter().enumerate() {
        let Some(c) = VITEST_FAIL.captures(line.trim_end()) else { continue };
        let name = match c.get(2) {
            Some(rest) => format!("{} {}", &c[1], rest.as_str()),
            None => c[1].to_string(),
        };
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .copied()
            .take_while(|l| !l.starts_with('⎯') && !VITEST_FAIL.is_match(l))
            .collect();
        let location =
            body.iter().find_map(|l| VITEST_AT.captures(l)).and_then(|c| super::file_line(&c[1], &c[2]));
        report.push_failure(TestFailure { name, location, message: error_line(&body.join("\n")) });
        if report.failures.len() >= MAX_FAILURES {
            break;
        }
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checks::test_results::tests::fixture;

    fn names(report: &TestReport) -> Vec<&str> {
        report.failures.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn jest_default_reporter() {
        let report = parse(&fixture("jest/default")).expect("a report");
        assert_eq!(report.runner, TestRunner::Jest);
        assert_eq!(
            (report.passed, report.failed, report.skipped),
            (3, 3, 2),
            "2 failed tests + 1 file that did not load"
        );
        assert_eq!(names(&report), ["adds wrong", "math › nested fails", "src/broken.test.js"]);
        assert_eq!(report.failures[0].message, "expect(received).toBe(expected) // Object.is equality");
        assert_eq!(report.failures[0].location, Some(("src/calc.test.js".into(), 8)));
        assert_eq!(report.failures[2].message, "Cannot find module './nope' from 'src/broken.test.js'");
        assert_eq!(report.failures[2].location, Some(("src/broken.test.js".into(), 1)), "not node_modules");
    }

    #[test]
    fn jest_json() {
        let report = parse(&fixture("jest/json")).expect("a report");
        assert_eq!(report.runner, TestRunner::Jest);
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        assert_eq!(names(&report), ["adds wrong", "math › nested fails", "/tmp/tr/jest/src/broken.test.js"]);
        assert_eq!(report.failures[0].location, Some(("/tmp/tr/jest/src/calc.test.js".into(), 8)));
        assert_eq!(report.failures[0].message, "expect(received).toBe(expected) // Object.is equality");
    }

    #[test]
    fn vitest_default_reporter() {
        for stem in ["vitest/default", "vitest/default_color"] {
            let report = parse(&fixture(stem)).expect("a report");
            assert_eq!(report.runner, TestRunner::Vitest);
            assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2), "{stem}");
            assert_eq!(
                names(&report),
                [
                    "src/broken.test.js",
                    "src/calc.test.js > adds wrong",
                    "src/calc.test.js > math > nested fails"
                ],
                "{stem}"
            );
            assert_eq!(
                report.failures[1].message,
                "AssertionError: expected 3 to be 4 // Object.is equality"
            );
            assert!(
                report.failures[0].message.starts_with("Cannot find module './nope.js'"),
                "{:?}",
                report.failures[0]
            );
        }
    }

    #[test]
    fn vitest_json() {
        let report = parse(&fixture("vitest/json")).expect("a report");
        assert_eq!(report.runner, TestRunner::Vitest);
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        assert_eq!(
            names(&report),
            ["/tmp/tr/vitest/src/broken.test.js", "adds wrong", "math > nested fails"]
        );
        assert_eq!(report.failures[1].location, Some(("/tmp/tr/vitest/src/calc.test.js".into(), 10)));
    }

    #[test]
    fn vitest_code_frame_location() {
        let text = " FAIL  src/a.test.ts > adds\nAssertionError: expected 3 to be 4\n ❯ src/a.test.ts:5:17\n⎯⎯⎯\n      Tests  1 failed (1)\n";
        let report = parse(text).expect("a report");
        assert_eq!(report.failures[0].location, Some(("src/a.test.ts".into(), 5)));
    }
}
