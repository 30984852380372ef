//! pytest's terminal output (the default, `-q`, `-rA`): counts from the last summary line
//! (`4 failed, 2 passed, 1 skipped, 1 xfailed, 1 error in 0.03s`), failures from the short test
//! summary (`FAILED tests/test_calc.py::test_add - assert 3 == 4`, shown by default), with the
//! location and the untruncated `E` line from the matching FAILURES/ERRORS section.
//!
//! Counts: errors are failures, xpassed are passes, xfailed are skipped. Without a short
//! summary (`-rN`) the sections' titles name the failures.

use std::sync::LazyLock;

use regex::Regex;

use super::{MAX_FAILURES, TestFailure, TestReport, TestRunner, file_line};

/// `===== 4 failed, 2 passed in 0.03s =====`, `2 passed in 1.20s (0:00:01)`, `no tests ran in 0.01s`.
static COUNTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^=*\s*((?:\d+ [a-z]+(?:, )?)+|no tests ran) in [\d.]+s(?: \([\d:.]+\))?\s*=*$")
        .expect("static regex")
});
static SHORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(FAILED|ERROR) (.+?)(?: - (.*))?$").expect("static regex"));
static SECTION_TITLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^_{2,} (.+?) _{2,}$").expect("static regex"));
static BANNER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^={3,} ?(.*?) ?={3,}$").expect("static regex"));
/// `tests/test_calc.py:6: AssertionError`, `test_broken.py:1: in <module>`.
static LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\s:]+\.py):(\d+): ").expect("static regex"));

pub(super) fn parse(text: &str) -> Option<TestReport> {
    let lines: Vec<&str> = text.lines().collect();
    let counts = lines.iter().rev().find_map(|l| COUNTS.captures(l))?;
    let mut report = TestReport::new(TestRunner::Pytest);
    if &counts[1] != "no tests ran" {
        for part in counts[1].split(", ") {
            let (n, word) = part.split_once(' ')?;
            let n: usize = n.parse().ok()?;
            match word {
                "passed" | "xpassed" => report.passed = report.passed.saturating_add(n),
                "failed" | "error" | "errors" => report.failed = report.failed.saturating_add(n),
                "skipped" | "xfailed" => report.skipped = report.skipped.saturating_add(n),
                _ => {} // deselected, warnings, rerun
            }
        }
    }
    let sections = sections(&lines);
    let short: Vec<(String, Option<String>)> = short_summary(&lines);
    report.failures = if short.is_empty() {
        sections.iter().take(MAX_FAILURES).map(|s| s.failure(s.title.clone(), None)).collect()
    } else {
        short
            .into_iter()
            .map(|(node_id, message)| match sections.iter().find(|s| s.is_for(&node_id)) {
                Some(section) => section.failure(node_id, message),
                None => TestFailure { name: node_id, location: None, message: message.unwrap_or_default() },
            })
            .collect()
    };
    Some(report)
}

/// `(node id, message)` of each FAILED/ERROR line of the short test summary.
fn short_summary(lines: &[&str]) -> Vec<(String, Option<String>)> {
    let Some(start) =
        lines.iter().position(|l| BANNER.captures(l).is_some_and(|c| &c[1] == "short test summary info"))
    else {
        return Vec::new();
    };
    lines[start + 1..]
        .iter()
        .take_while(|l| !BANNER.is_match(l))
        .filter_map(|l| SHORT.captures(l))
        .map(|c| short_entry(&c))
        .take(MAX_FAILURES)
        .collect()
}

fn short_entry(c: &regex::Captures<'_>) -> (String, Option<String>) {
    (c[2].to_string(), c.get(3).map(|m| m.as_str().to_string()))
}

/// One `____ title ____` section of the FAILURES or ERRORS block.
struct Section {
    title: String,
    /// The first `E   ` line: the exception, untruncated.
    error: Option<String>,
    location: Option<(String, u32)>,
}

impl Section {
    /// Whether this section reports `node_id` (`tests/test_calc.py::TestClass::test_method` is
    /// titled `TestClass.test_method`; errors `ERROR at setup of …` / `ERROR collecting …`).
    fn is_for(&self, node_id: &str) -> bool {
        let head = match node_id.split_once("::") {
            Some((_, rest)) => rest.replace("::", "."),
            None => return self.title == format!("ERROR collecting {node_id}"),
        };
        self.title == head
            || self
                .title
                .strip_prefix("ERROR at ")
                .and_then(|t| t.split_once(" of "))
                .is_some_and(|(_, t)| t == head)
    }

    fn failure(&self, name: String, short_message: Option<String>) -> TestFailure {
        let message = self.error.clone().or(short_message).unwrap_or_default();
        TestFailure { name, location: self.location.clone(), message }
    }
}

/// The sections between the `FAILURES`/`ERRORS` banners and the next banner.
fn sections(lines: &[&str]) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut inside = false;
    for line in lines {
        if let Some(c) = BANNER.captures(line) {
            inside = matches!(&c[1], "FAILURES" | "ERRORS");
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(c) = SECTION_TITLE.captures(line) {
            sections.push(Section { title: c[1].to_string(), error: None, location: None });
            continue;
        }
        let Some(section) = sections.last_mut() else { continue };
        if section.error.is_none()
            && let Some(rest) = line.strip_prefix("E ")
            && !rest.trim().is_empty()
        {
            section.error = Some(rest.trim().to_string());
        }
        if let Some(c) = LOCATION.captures(line) {
            section.location = file_line(&c[1], &c[2]);
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checks::test_results::tests::fixture;

    fn expect_full_report(report: &TestReport) {
        // 4 failed + 1 error; 2 passed; 1 skipped + 1 xfailed.
        assert_eq!((report.passed, report.failed, report.skipped), (2, 5, 2));
        let names: Vec<&str> = report.failures.iter().map(|f| f.name.as_str()).collect();
        for name in [
            "tests/test_calc.py::test_add",
            "tests/test_calc.py::test_raises",
            "tests/test_calc.py::test_param[2-3]",
            "tests/test_calc.py::TestClass::test_method",
            "tests/test_err.py::test_uses_broken",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        let add = report.failures.iter().find(|f| f.name == "tests/test_calc.py::test_add").unwrap();
        assert_eq!(add.location, Some(("tests/test_calc.py".into(), 6)));
        assert_eq!(add.message, "assert 3 == 4");
        let method = report.failures.iter().find(|f| f.name.ends_with("TestClass::test_method")).unwrap();
        assert_eq!(
            method.message, "AssertionError: assert 'ABC' == 'ABD'",
            "the E line, not the cut short summary"
        );
        assert_eq!(method.location, Some(("tests/test_calc.py".into(), 34)));
        let err = report.failures.iter().find(|f| f.name.ends_with("test_uses_broken")).unwrap();
        assert_eq!(err.location, Some(("tests/test_err.py".into(), 5)));
        assert_eq!(err.message, "RuntimeError: fixture exploded");
    }

    #[test]
    fn default_quiet_and_report_all_outputs() {
        for stem in ["pytest/default", "pytest/q", "pytest/rA"] {
            expect_full_report(&parse(&fixture(stem)).unwrap_or_else(|| panic!("{stem}: a report")));
        }
    }

    #[test]
    fn summary_line_reads_as_the_issue_asks() {
        let report = parse(&fixture("pytest/default")).unwrap();
        assert!(
            report
                .summary_line()
                .starts_with("2 passed, 5 failed, 2 skipped: tests/test_calc.py::test_add — assert 3 == 4; "),
            "{}",
            report.summary_line()
        );
    }

    #[test]
    fn a_collection_error_is_a_failure_named_by_its_file() {
        let report = parse(&fixture("pytest/collect_error")).expect("a report");
        assert_eq!((report.passed, report.failed), (0, 1));
        assert_eq!(
            report.failures,
            vec![TestFailure {
                name: "test_broken.py".into(),
                location: Some(("test_broken.py".into(), 1)),
                message: "ModuleNotFoundError: No module named 'nosuchmodule'".into(),
            }]
        );
    }

    #[test]
    fn pytest_7_as_debian_ships_it() {
        let report = parse(&fixture("pytest/debian_7")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (1, 1, 1));
        assert_eq!(
            report.summary_line(),
            "1 passed, 1 failed, 1 skipped: tests/test_calc.py::test_add — assert 3 == 4"
        );
        assert_eq!(report.failures[0].location, Some(("tests/test_calc.py".into(), 13)));
    }

    #[test]
    fn a_passing_run() {
        let report = parse(&fixture("pytest/pass")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (2, 0, 0));
    }

    #[test]
    fn without_a_short_summary_the_sections_name_the_failures() {
        let text = "=== FAILURES ===\n___ test_x ___\n\nE   assert 1 == 2\n\nt.py:3: AssertionError\n=== 1 failed in 0.01s ===\n";
        let report = parse(text).expect("a report");
        assert_eq!(report.failures[0].name, "test_x");
        assert_eq!(report.failures[0].location, Some(("t.py".into(), 3)));
    }
}
