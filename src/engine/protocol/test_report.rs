//! A test run's outcome as the UI, `exec` and the model see it: [`TestReport`] — the runner,
//! passed/failed/skipped counts and each failure's name, location and message — and its one-line
//! [`TestReport::summary_line`] (`12 passed, 1 failed: tests/test_calc.py::test_add — assert 3 == 4`).
//!
//! Reading a runner's output into a report is `engine::checks::test_results`; this module is
//! plain data and its rendering, so the UI needs nothing else from the engine.
//!
//! Invariant: `failed` counts every failure the runner reported; `failures` names at most
//! [`MAX_FAILURES`] of them (the rest are counted in the texts as "…and N more").

use std::fmt;
use std::path::Path;

/// How many failures a report keeps by name (a run with 10 000 failures keeps its first 50).
pub const MAX_FAILURES: usize = 50;
/// How many failures [`TestReport::summary_line`] names (the rest are counted).
const LISTED_IN_SUMMARY: usize = 3;
/// How many failures [`TestReport::details`] lists, one a line.
const LISTED_IN_DETAILS: usize = 10;
/// A failure message is cut to this many characters in a summary line.
const MESSAGE_CHARS: usize = 160;
/// …and to this many in the details (the model may want the whole assertion).
const DETAIL_CHARS: usize = 400;

/// The test runner whose output a [`TestReport`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestRunner {
    Cargo,
    Pytest,
    Go,
    Node,
    Jest,
    Vitest,
}

impl TestRunner {
    pub fn name(self) -> &'static str {
        match self {
            TestRunner::Cargo => "cargo test",
            TestRunner::Pytest => "pytest",
            TestRunner::Go => "go test",
            TestRunner::Node => "node --test",
            TestRunner::Jest => "jest",
            TestRunner::Vitest => "vitest",
        }
    }
}

impl fmt::Display for TestRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed test (or a test file/package that failed before its tests ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFailure {
    /// As the runner names it: `tests/test_calc.py::test_add`, `tests::adds`, `TestTable/bad`.
    pub name: String,
    /// File and line of the failure, when the output says.
    pub location: Option<(String, u32)>,
    /// The first line(s) of the failure's message, on one line.
    pub message: String,
}

/// A test run's outcome. `failed` counts errors too (pytest's errors, a test file that could
/// not load, a go package that did not build); `skipped` counts ignored, todo and expected
/// failures. `failures` may be shorter than `failed` when the output does not name them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub runner: TestRunner,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<TestFailure>,
}

impl TestReport {
    pub fn new(runner: TestRunner) -> TestReport {
        TestReport { runner, passed: 0, failed: 0, skipped: 0, failures: Vec::new() }
    }

    /// Keep a failure by name unless [`MAX_FAILURES`] are kept already.
    pub fn push_failure(&mut self, failure: TestFailure) {
        if self.failures.len() < MAX_FAILURES {
            self.failures.push(failure);
        }
    }

    /// The counts, then the first failures by name and message:
    /// `12 passed, 1 failed: tests/test_calc.py::test_add — assert 3 == 4`.
    pub fn summary_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        if self.failures.is_empty() {
            return line;
        }
        let named: Vec<String> = self
            .failures
            .iter()
            .take(LISTED_IN_SUMMARY)
            .map(|f| match f.message.as_str() {
                "" => f.name.clone(),
                message => format!("{} — {}", f.name, cut(message, MESSAGE_CHARS)),
            })
            .collect();
        line.push_str(": ");
        line.push_str(&named.join("; "));
        let more = self.failed.max(self.failures.len()).saturating_sub(named.len());
        if more > 0 {
            line.push_str(&format!("; …and {more} more"));
        }
        line
    }

    /// For the model: the runner and counts, then one failure a line with its location.
    pub fn details(&self) -> String {
        let mut text = format!("Test results ({}): {}", self.runner, self.summary_line());
        let listed = self.failures.len().min(LISTED_IN_DETAILS);
        for failure in &self.failures[..listed] {
            text.push_str("\n- ");
            text.push_str(&failure.name);
            if let Some((file, line)) = &failure.location {
                text.push_str(&format!(" ({file}:{line})"));
            }
            if !failure.message.is_empty() {
                text.push_str(" — ");
                text.push_str(&cut(&failure.message, DETAIL_CHARS));
            }
        }
        let more = self.failed.max(self.failures.len()).saturating_sub(listed);
        if listed > 0 && listed < self.failures.len().max(self.failed) && more > 0 {
            text.push_str(&format!("\n- …and {more} more"));
        }
        text
    }

    /// Locations under `dir` (node and jest print absolute paths) made relative to it.
    pub fn relative_to(&mut self, dir: &Path) {
        for failure in &mut self.failures {
            if let Some((file, _)) = &mut failure.location
                && let Ok(rest) = Path::new(file.as_str()).strip_prefix(dir)
            {
                *file = rest.to_string_lossy().into_owned();
            }
        }
    }
}

/// `text` cut to `max` characters, with `…` when it was longer.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(failed: usize, named: usize) -> TestReport {
        let mut report = TestReport::new(TestRunner::Pytest);
        report.passed = 12;
        report.failed = failed;
        for i in 0..named {
            report.push_failure(TestFailure {
                name: format!("t{i}"),
                location: Some(("a.py".into(), i as u32)),
                message: "assert 3 == 4".into(),
            });
        }
        report
    }

    #[test]
    fn summary_names_the_first_failures_and_counts_the_rest() {
        let report = sample(5, 5);
        assert_eq!(
            report.summary_line(),
            "12 passed, 5 failed: t0 — assert 3 == 4; t1 — assert 3 == 4; t2 — assert 3 == 4; …and 2 more"
        );
        assert_eq!(sample(1, 1).summary_line(), "12 passed, 1 failed: t0 — assert 3 == 4");
        let details = report.details();
        assert!(details.starts_with("Test results (pytest): 12 passed, 5 failed"), "{details}");
        assert!(details.contains("\n- t4 (a.py:4) — assert 3 == 4"), "{details}");
        assert!(!details.contains("\n- …and"), "all five are listed: {details}");
    }

    #[test]
    fn details_list_ten_and_count_the_rest() {
        let details = sample(1000, 1000).details();
        assert_eq!(details.lines().count(), 1 + 10 + 1, "{details}");
        assert!(details.ends_with("\n- …and 990 more"), "{details}");
    }

    #[test]
    fn a_report_keeps_a_bounded_number_of_failures() {
        assert_eq!(sample(1000, 1000).failures.len(), MAX_FAILURES);
    }

    #[test]
    fn counts_without_names_and_skips() {
        let mut report = sample(0, 0);
        report.skipped = 2;
        assert_eq!(report.summary_line(), "12 passed, 0 failed, 2 skipped");
    }

    #[test]
    fn long_messages_are_cut_on_char_boundaries() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééé", 2), "éé…");
    }
}
