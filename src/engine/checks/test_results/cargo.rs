//! `cargo test` (libtest's human format): one `test result:` line per test binary (unit tests,
//! each integration test, doc-tests), summed; failures from the `---- NAME stdout ----` sections
//! and the closing `failures:` list.
//!
//! A binary that printed `running N tests` but no `test result:` (it crashed or was killed)
//! counts as one failure, so a crash never reads as a pass. No `test result:` line at all (the
//! build failed) is not a test report.

use std::sync::LazyLock;

use regex::Regex;

use super::{Runner, TestFailure, TestReport, file_line, first_lines};

static RESULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored; (\d+) measured;")
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
    let mut report = TestReport::new(Runner::Cargo);
    let mut results = 0;
    for c in RESULT.captures_iter(text) {
        results += 1;
        report.passed += c[1].parse::<usize>().ok()?;
        report.failed += c[2].parse::<usize>().ok()?;
        report.skipped += c[3].parse::<usize>().ok()?;
    }
    if results == 0 {
        return None;
    }
    report.failures = failures(text);
    let unfinished = RUNNING.find_iter(text).count().saturating_sub(results);
    if unfinished > 0 {
        report.failed += unfinished;
        let message = text
            .lines()
            .find(|l| l.contains("process didn't exit successfully"))
            .map(|l| l.trim().to_string())
            .unwrap_or_else(|| "a test binary stopped before reporting its results".into());
        report.failures.push(TestFailure { name: "test binary".into(), location: None, message });
    }
    Some(report)
}

/// Each `---- NAME stdout ----` section: where it panicked and the panic message.
fn failures(text: &str) -> Vec<TestFailure> {
    let lines: Vec<&str> = text.lines().collect();
    let mut failures: Vec<TestFailure> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(c) = SECTION.captures(lines[i]) else {
            i += 1;
            continue;
        };
        let name = c[1].to_string();
        let end = (i + 1..lines.len())
            .find(|&j| SECTION.is_match(lines[j]) || lines[j] == "failures:" || lines[j].starts_with("test result:"))
            .unwrap_or(lines.len());
        let body = &lines[i + 1..end];
        i = end;
        if failures.iter().any(|f| f.name == name) {
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
            return TestFailure { name, location: file_line(&c[1], &c[2]), message: first_lines(&rest.join("\n"), 3) };
        }
        if let Some(c) = OLD_PANIC.captures(line) {
            return TestFailure { name, location: file_line(&c[2], &c[3]), message: c[1].to_string() };
        }
    }
    // A doc-test or a test that returned Err: the section's first lines say what happened.
    TestFailure { name, location: None, message: first_lines(&body.join("\n"), 2) }
}
