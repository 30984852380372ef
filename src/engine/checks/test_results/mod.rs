//! Structured test results: the output of a test run (`cargo test`, `pytest`, `go test`,
//! `node --test`, jest, vitest) turned into one [`TestReport`] — passed/failed/skipped counts and
//! each failure's name, location and message — for the run summary, the model's tool result and
//! the fix loop.
//!
//! [`parse`] decides which runner produced the output from the command line (`cargo test`,
//! `pytest`, `python -m pytest`, `go test`, `node --test`, `jest`, `vitest`) and, for a command
//! that only mentions tests (`npm test`, `make test`, `scripts/test`) or no command at all, by
//! trying every runner's parser on the output. Each parser recognises only its runner's own
//! summary (libtest's `test result:` lines, pytest's final `N passed in 0.1s` line, go's JSON
//! events or verbose `--- PASS` lines, node's `# cancelled N`/`ℹ cancelled N` counts, jest's
//! `Tests:` line, vitest's `Test Files`/`Tests` pair or the jest-compatible `--json` object).
//!
//! Invariant: never a wrong count. Output a parser does not recognise, output two runners
//! could claim, and output whose counts are incomplete (plain `go test` without `-v` does not
//! print passing tests) give `None`, and the caller shows the raw output as before.
//!
//! The text formats are parsed here rather than through a crate: there is no maintained Rust
//! crate for libtest's, pytest's, jest's or vitest's human output, and the TAP crates do not
//! read node's YAML diagnostics (location, error). ANSI colour codes are removed first.

mod cargo;
mod go;
mod js;
mod node;
mod pytest;

use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// How many failures [`TestReport::summary_line`] names (the rest are counted).
const LISTED_IN_SUMMARY: usize = 3;
/// How many failures [`TestReport::details`] lists, one a line.
const LISTED_IN_DETAILS: usize = 10;
/// A failure message is cut to this many characters in a summary.
const MESSAGE_CHARS: usize = 160;

/// The test runner whose output a [`TestReport`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Cargo,
    Pytest,
    Go,
    Node,
    Jest,
    Vitest,
}

impl Runner {
    pub fn name(self) -> &'static str {
        match self {
            Runner::Cargo => "cargo test",
            Runner::Pytest => "pytest",
            Runner::Go => "go test",
            Runner::Node => "node --test",
            Runner::Jest => "jest",
            Runner::Vitest => "vitest",
        }
    }
}

impl fmt::Display for Runner {
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
    pub runner: Runner,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub failures: Vec<TestFailure>,
}

impl TestReport {
    fn new(runner: Runner) -> TestReport {
        TestReport { runner, passed: 0, failed: 0, skipped: 0, failures: Vec::new() }
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
        let mut text = format!("{}: {}", self.runner, self.summary_line());
        for failure in self.failures.iter().take(LISTED_IN_DETAILS) {
            text.push_str("\n- ");
            text.push_str(&failure.name);
            if let Some((file, line)) = &failure.location {
                text.push_str(&format!(" ({file}:{line})"));
            }
            if !failure.message.is_empty() {
                text.push_str(" — ");
                text.push_str(&failure.message);
            }
        }
        let more = self.failed.max(self.failures.len()).saturating_sub(LISTED_IN_DETAILS);
        if self.failures.len() > LISTED_IN_DETAILS && more > 0 {
            text.push_str(&format!("\n…and {more} more"));
        }
        text
    }

    /// Locations under `dir` (node prints absolute paths) made relative to it.
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

/// Parser families: jest and vitest share their JSON format, so they are one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Cargo,
    Pytest,
    Go,
    Node,
    Js,
}

const ALL: [Family; 5] = [Family::Cargo, Family::Pytest, Family::Go, Family::Node, Family::Js];

/// The test report in a run's output, if it is one. `command` is the command line that ran
/// (`None`: unknown, every runner is tried). A command that names no runner and does not mention
/// tests gives `None` whatever it printed (`cat` of a saved log is not a test run).
pub fn parse(command: Option<&str>, stdout: &str, stderr: &str) -> Option<TestReport> {
    let (families, vitest) = match command {
        None => (ALL.to_vec(), false),
        Some(command) => from_command(command),
    };
    if families.is_empty() {
        return None;
    }
    let text = format!("{}\n{}", strip_ansi(stdout), strip_ansi(stderr));
    let mut reports = families.iter().filter_map(|family| match family {
        Family::Cargo => cargo::parse(&text),
        Family::Pytest => pytest::parse(&text),
        Family::Go => go::parse(&text),
        Family::Node => node::parse(&text),
        Family::Js => js::parse(&text, vitest),
    });
    let report = reports.next()?;
    // Two runners' summaries in one output: neither count is the run's.
    if reports.next().is_some() {
        return None;
    }
    Some(report)
}

/// Which parsers a command line calls for, and whether it names vitest.
fn from_command(command: &str) -> (Vec<Family>, bool) {
    static PATTERNS: LazyLock<[(Family, Regex); 6]> = LazyLock::new(|| {
        let re = |p: &str| Regex::new(p).expect("static regex");
        [
            (Family::Cargo, re(r"\bcargo\s+(\+\S+\s+)?(test|t)\b")),
            (Family::Pytest, re(r"(^|[\s/;&|(])(pytest|py\.test)\b|-m\s+pytest\b")),
            (Family::Go, re(r"\bgo\s+test\b")),
            (Family::Node, re(r"\bnode\b[^;&|]*\s--test\b")),
            (Family::Js, re(r"\bjest\b")),
            (Family::Js, re(r"\bvitest\b")),
        ]
    });
    let vitest = command.contains("vitest");
    let mut families: Vec<Family> = Vec::new();
    for (family, pattern) in PATTERNS.iter() {
        if pattern.is_match(command) && !families.contains(family) {
            families.push(*family);
        }
    }
    if families.is_empty() && command.to_ascii_lowercase().contains("test") {
        families = ALL.to_vec();
    }
    (families, vitest)
}

/// `text` without ANSI escape sequences (colour, cursor movement, OSC titles/links).
fn strip_ansi(text: &str) -> String {
    static ANSI: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]")
            .expect("static regex")
    });
    if text.contains('\x1b') { ANSI.replace_all(text, "").into_owned() } else { text.to_string() }
}

/// The first `max_lines` non-empty lines of `text`, trimmed and joined with spaces.
fn first_lines(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).take(max_lines).collect();
    lines.join(" ")
}

/// `text` cut to `max` characters, with `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// `file:line[:col]` → (file, line).
fn file_line(file: &str, line: &str) -> Option<(String, u32)> {
    Some((file.to_string(), line.parse().ok()?))
}

/// The first `at … (file:line:col)` frame of a JavaScript stack that is the project's own code
/// (not `node:` internals or `node_modules`).
fn js_stack_location(stack: &str) -> Option<(String, u32)> {
    static FRAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*at (?:.*? \()?(?:file://)?([^()\s]+?):(\d+):\d+\)?\s*$").expect("static regex")
    });
    stack.lines().find_map(|line| {
        let c = FRAME.captures(line)?;
        let file = c.get(1)?.as_str();
        if file.starts_with("node:") || file.contains("node_modules") || file.starts_with('<') {
            return None;
        }
        file_line(file, &c[2])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_their_runner() {
        assert_eq!(from_command("cargo test --lib").0, vec![Family::Cargo]);
        assert_eq!(from_command("cd sub && python3 -m pytest -q").0, vec![Family::Pytest]);
        assert_eq!(from_command("pytest").0, vec![Family::Pytest]);
        assert_eq!(from_command("go test -json ./...").0, vec![Family::Go]);
        assert_eq!(from_command("node --test test/").0, vec![Family::Node]);
        assert_eq!(from_command("npx vitest run"), (vec![Family::Js], true));
        assert_eq!(from_command("npm test").0, ALL.to_vec(), "mentions tests: sniff the output");
        assert!(from_command("cat log.txt").0.is_empty(), "not a test command");
        assert!(from_command("cargo build").0.is_empty());
    }

    #[test]
    fn ansi_is_removed() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[31m2 failed\x1b[39m\x1b[22m | ok"), "2 failed | ok");
    }

    #[test]
    fn summary_caps_the_failures_it_names() {
        let mut report = TestReport::new(Runner::Pytest);
        report.passed = 12;
        report.failed = 5;
        for i in 0..5 {
            report.failures.push(TestFailure {
                name: format!("t{i}"),
                location: Some(("a.py".into(), i)),
                message: "assert 3 == 4".into(),
            });
        }
        assert_eq!(
            report.summary_line(),
            "12 passed, 5 failed: t0 — assert 3 == 4; t1 — assert 3 == 4; t2 — assert 3 == 4; …and 2 more"
        );
        assert!(report.details().contains("\n- t4 (a.py:4) — assert 3 == 4"), "{}", report.details());
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
