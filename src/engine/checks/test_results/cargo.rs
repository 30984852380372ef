//! `cargo test` (libtest's human format): one `test result:` line per test binary (unit tests,
//! each integration test, doc-tests), summed; failures from the `---- NAME stdout ----` sections
//! and the closing `failures:` list.
//!
//! A binary that printed `running N tests` but no `test result:` (it crashed or was killed)
//! counts as one failure, so a crash never reads as a pass. No `test result:` line at all (the
//! build failed) is not a test report.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::{MAX_FAILURES, TestFailure, TestReport, TestRunner, file_line, first_lines};

static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured;",
    )
    .expect("static regex")
});
static RUNNING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^running \d+ tests?$").expect("static regex"));
static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^---- (.+) std(out|err) ----$").expect("static regex"));
/// `thread 'x' (123) panicked at src/lib.rs:9:23:` (Rust ≥ 1.73; the id since 1.88).
static PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^thread '.*?'(?: \(\d+\))? panicked at ([^\s:]+):(\d+):\d+:$").expect("static regex")
});
/// `thread 'x' panicked at 'message', src/lib.rs:9:5` (older Rust).
static OLD_PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^thread '.*?' panicked at '(.*)', ([^\s:]+):(\d+):\d+$").expect("static regex")
});

pub(super) fn parse(text: &str) -> Option<TestReport> {
    let mut report = TestReport::new(TestRunner::Cargo);
    let mut results = 0;
    for c in RESULT.captures_iter(text) {
        results += 1;
        report.passed = report.passed.saturating_add(c[1].parse::<usize>().ok()?);
        report.failed = report.failed.saturating_add(c[2].parse::<usize>().ok()?);
        report.skipped = report.skipped.saturating_add(c[3].parse::<usize>().ok()?);
    }
    if results == 0 {
        return None;
    }
    report.failures = failures(text);
    let unfinished = RUNNING.find_iter(text).count().saturating_sub(results);
    if unfinished > 0 {
        report.failed = report.failed.saturating_add(unfinished);
        let message = text
            .lines()
            .find(|l| l.contains("process didn't exit successfully"))
            .map(|l| l.trim().to_string())
            .unwrap_or_else(|| "a test binary stopped before reporting its results".into());
        report.push_failure(TestFailure { name: "test binary".into(), location: None, message });
    }
    Some(report)
}

/// Each `---- NAME stdout ----` section: where it panicked and the panic message.
fn failures(text: &str) -> Vec<TestFailure> {
    let lines: Vec<&str> = text.lines().collect();
    let mut failures: Vec<TestFailure> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut i = 0;
    while i < lines.len() && failures.len() < MAX_FAILURES {
        let Some(c) = SECTION.captures(lines[i]) else {
            i += 1;
            continue;
        };
        let name = c[1].to_string();
        let end = (i + 1..lines.len())
            .find(|&j| {
                SECTION.is_match(lines[j]) || lines[j] == "failures:" || lines[j].starts_with("test result:")
            })
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        i = end;
        if !seen.insert(name.clone()) {
            continue; // its stderr section after the stdout one
        }
        failures.push(section_failure(name, body));
    }
    failures
}

fn section_failure(name: String, body: &[&str]) -> TestFailure {
    for (k, line) in body.iter().enumerate() {
        if let Some(c) = PANIC.captures(line) {
            let rest: Vec<&str> = body[k + 1..]
                .iter()
                .copied()
                .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"))
                .collect();
            return TestFailure {
                name,
                location: file_line(&c[1], &c[2]),
                message: first_lines(&rest.join("\n"), 3),
            };
        }
        if let Some(c) = OLD_PANIC.captures(line) {
            return TestFailure { name, location: file_line(&c[2], &c[3]), message: c[1].to_string() };
        }
    }
    // A doc-test or a test that returned Err: the section's first lines say what happened.
    TestFailure { name, location: None, message: first_lines(&body.join("\n"), 2) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checks::test_results::tests::fixture;

    #[test]
    fn sums_every_test_binary_and_names_failures_where_they_panicked() {
        let report = parse(&fixture("cargo/no_fail_fast")).expect("a report");
        // lib: 1 passed, 2 failed, 2 ignored; tests/integration.rs: 1 + 1; doc-tests: 1.
        assert_eq!((report.passed, report.failed, report.skipped), (3, 3, 2));
        let names: Vec<&str> = report.failures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["tests::adds_wrong", "tests::panics_with_message", "integration_fails"]);
        assert_eq!(report.failures[0].location, Some(("src/lib.rs".into(), 9)));
        assert_eq!(report.failures[0].message, "assertion `left == right` failed left: 3 right: 4");
        assert_eq!(report.failures[1].message, "something broke second line");
        assert_eq!(report.failures[2].location, Some(("tests/integration.rs".into(), 4)));
        assert_eq!(report.failures[2].message, "two and two");
    }

    #[test]
    fn a_backtrace_is_not_the_message() {
        let report = parse(&fixture("cargo/backtrace")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (1, 2, 2));
        assert_eq!(report.failures[0].message, "assertion `left == right` failed left: 3 right: 4");
        assert_eq!(report.failures[1].message, "something broke second line");
    }

    #[test]
    fn a_passing_run() {
        let report = parse(&fixture("cargo/pass")).expect("a report");
        assert_eq!((report.passed, report.failed, report.skipped), (6, 0, 2));
        assert!(report.failures.is_empty());
    }

    #[test]
    fn a_build_failure_is_not_a_test_report() {
        assert_eq!(parse(&fixture("cargo/build_error")), None);
    }

    #[test]
    fn a_binary_that_crashed_before_its_result_is_a_failure() {
        let text = "\nrunning 2 tests\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\nrunning 3 tests\ntest b ... ok\nerror: test failed, to rerun pass `--test it`\n\nCaused by:\n  process didn't exit successfully: `target/debug/deps/it-1` (signal: 11, SIGSEGV: invalid memory reference)\n";
        let report = parse(text).expect("a report");
        assert_eq!((report.passed, report.failed), (1, 1));
        assert!(report.failures[0].message.contains("SIGSEGV"), "{:?}", report.failures);
    }

    #[test]
    fn old_panic_format() {
        let text = "running 1 test\ntest t ... FAILED\n\nfailures:\n\n---- t stdout ----\nthread 't' panicked at 'boom', src/x.rs:3:5\n\nfailures:\n    t\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";
        let report = parse(text).expect("a report");
        assert_eq!(
            report.failures[0],
            TestFailure { name: "t".into(), location: Some(("src/x.rs".into(), 3)), message: "boom".into() }
        );
    }
}
