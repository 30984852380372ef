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

use std::sync::LazyLock;

use regex::Regex;

pub use crate::engine::protocol::test_report::MAX_FAILURES;
pub use crate::engine::protocol::{TestFailure, TestReport, TestRunner};

/// How much of each stream is read (its end: the summaries are there). A longer stream's
/// counts come only from runners that print a final summary; summed formats (libtest's one
/// line per binary, go's events) are not parsed from a part.
const MAX_SCAN_BYTES: usize = 4 << 20;

/// Parser families: jest and vitest share their JSON format (and are told apart by their text), so
/// they are one family.
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
/// tests gives `None` whatever it printed (`cat` of a saved log is not a test run). Output piped
/// through another program (`cargo test 2>&1 | tail`) may be a part: only final summaries count.
pub fn parse(command: Option<&str>, stdout: &str, stderr: &str) -> Option<TestReport> {
    let mut families = match command {
        None => ALL.to_vec(),
        Some(command) => from_command(command),
    };
    let (stdout, whole_stdout) = scanned(stdout);
    let (stderr, whole_stderr) = scanned(stderr);
    if !(whole_stdout && whole_stderr) || command.is_some_and(piped) {
        families.retain(|f| !matches!(f, Family::Cargo | Family::Go));
    }
    if families.is_empty() {
        return None;
    }
    let text = format!("{}\n{}", strip_ansi(stdout), strip_ansi(stderr));
    let mut reports = families.iter().filter_map(|family| match family {
        Family::Cargo => cargo::parse(&text),
        Family::Pytest => pytest::parse(&text),
        Family::Go => go::parse(&text),
        Family::Node => node::parse(&text),
        Family::Js => js::parse(&text),
    });
    let mut report = reports.next()?;
    // Two runners' summaries in one output: neither count is the run's.
    if reports.next().is_some() {
        return None;
    }
    report.failures.truncate(MAX_FAILURES);
    Some(report)
}

/// The last [`MAX_SCAN_BYTES`] of `text` (from a line start when there is one) and whether
/// that is all of it.
fn scanned(text: &str) -> (&str, bool) {
    if text.len() <= MAX_SCAN_BYTES {
        return (text, true);
    }
    let mut start = text.len() - MAX_SCAN_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let tail = &text[start..];
    (tail.find('\n').map_or(tail, |nl| &tail[nl + 1..]), false)
}

/// Which parsers a command line calls for.
fn from_command(command: &str) -> Vec<Family> {
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
    let mut families: Vec<Family> = Vec::new();
    for (family, pattern) in PATTERNS.iter() {
        if pattern.is_match(command) && !families.contains(family) {
            families.push(*family);
        }
    }
    if families.is_empty() && command.to_ascii_lowercase().contains("test") {
        families = ALL.to_vec();
    }
    families
}

/// Whether the command pipes output into another program (`a | tail`, not `a || b`).
fn piped(command: &str) -> bool {
    static PIPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|[^|])\|([^|]|$)").expect("static regex"));
    PIPE.is_match(command)
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

/// `file:line[:col]` → (file, line).
fn file_line(file: &str, line: &str) -> Option<(String, u32)> {
    Some((file.to_string(), line.parse().ok()?))
}

/// The first `at … (file:line:col)` frame of a JavaScript stack that is the project's own code
/// (not `node:` internals or `node_modules`).
fn js_stack_location(stack: &str) -> Option<(String, u32)> {
    static FRAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:at )?(?:.*? \()?(?:file://)?([^()\s]+?):(\d+):\d+\)?\s*$").expect("static regex")
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
pub(super) mod tests {
    use super::*;

    /// A captured run: `tests/fixtures/test_output/<stem>.stdout` then `.stderr` (either may be
    /// absent), ANSI colours removed as [`parse`] does.
    pub(crate) fn fixture(stem: &str) -> String {
        let (stdout, stderr) = streams(stem);
        strip_ansi(&format!("{stdout}\n{stderr}"))
    }

    /// A captured run's stdout and stderr as they came.
    pub(crate) fn streams(stem: &str) -> (String, String) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/test_output");
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{stem}.{ext}"))).unwrap_or_default();
        let (stdout, stderr) = (read("stdout"), read("stderr"));
        assert!(!stdout.is_empty() || !stderr.is_empty(), "no fixture {stem}");
        (stdout, stderr)
    }

    #[test]
    fn commands_name_their_runner() {
        assert_eq!(from_command("cargo test --lib"), vec![Family::Cargo]);
        assert_eq!(from_command("cd sub && python3 -m pytest -q"), vec![Family::Pytest]);
        assert_eq!(from_command("pytest"), vec![Family::Pytest]);
        assert_eq!(from_command("go test -json ./..."), vec![Family::Go]);
        assert_eq!(from_command("node --test test/"), vec![Family::Node]);
        assert_eq!(from_command("npx vitest run"), vec![Family::Js]);
        assert_eq!(from_command("npx jest --ci"), vec![Family::Js]);
        assert_eq!(from_command("npm test"), ALL.to_vec(), "mentions tests: sniff the output");
        assert!(from_command("cat log.txt").is_empty(), "not a test command");
        assert!(from_command("cargo build").is_empty());
    }

    #[test]
    fn ansi_is_removed() {
        assert_eq!(strip_ansi("\x1b[1m\x1b[31m2 failed\x1b[39m\x1b[22m | ok"), "2 failed | ok");
    }

    const STEMS: [&str; 19] = [
        "cargo/backtrace",
        "cargo/build_error",
        "cargo/no_fail_fast",
        "cargo/pass",
        "go/json",
        "go/json_build_failed",
        "go/plain",
        "go/verbose",
        "jest/default",
        "jest/json",
        "node/npm_test",
        "node/spec",
        "node/tap",
        "pytest/collect_error",
        "pytest/default",
        "pytest/pass",
        "pytest/q",
        "vitest/default_color",
        "vitest/json",
    ];

    #[test]
    fn each_real_output_is_read_as_its_own_runner_with_or_without_the_command() {
        let cases = [
            ("cargo test --no-fail-fast", "cargo/no_fail_fast", TestRunner::Cargo),
            ("python3 -m pytest -rA", "pytest/rA", TestRunner::Pytest),
            ("go test -json ./...", "go/json", TestRunner::Go),
            ("npm test", "node/npm_test", TestRunner::Node),
            ("node --test --test-reporter=spec", "node/spec", TestRunner::Node),
            ("npx jest", "jest/default", TestRunner::Jest),
            ("npx vitest run", "vitest/default_color", TestRunner::Vitest),
            ("npx vitest run --reporter=json", "vitest/json", TestRunner::Vitest),
        ];
        for (command, stem, runner) in cases {
            let (stdout, stderr) = streams(stem);
            for command in [Some(command), None] {
                let report = parse(command, &stdout, &stderr)
                    .unwrap_or_else(|| panic!("{stem} ({command:?}): a report"));
                assert_eq!(report.runner, runner, "{stem}");
                assert!(report.failed > 0 && !report.failures.is_empty(), "{stem}: {report:?}");
            }
        }
    }

    #[test]
    fn output_that_is_not_a_test_run_is_no_report() {
        let (stdout, stderr) = streams("cargo/build_error");
        assert_eq!(parse(Some("cargo test"), &stdout, &stderr), None, "the build failed: no counts");
        let (stdout, stderr) = streams("pytest/default");
        assert_eq!(parse(Some("cat log.txt"), &stdout, &stderr), None, "not a test command");
        assert_eq!(parse(Some("cargo test"), &stdout, &stderr), None, "cargo's parser does not read pytest");
        assert_eq!(parse(None, "hello\n", ""), None);
    }

    #[test]
    fn piped_output_counts_only_from_a_final_summary() {
        let (cargo, _) = streams("cargo/no_fail_fast");
        let last_binary = &cargo[cargo.rfind("running 1 test").unwrap()..];
        assert_eq!(
            parse(Some("cargo test 2>&1 | tail -8"), last_binary, ""),
            None,
            "tail shows the doc-tests' 1 passed only"
        );
        assert!(parse(Some("cargo test || echo failed"), &cargo, "").is_some(), "|| is not a pipe");
        let (pytest, _) = streams("pytest/default");
        let report =
            parse(Some("pytest 2>&1 | tail -40"), &pytest, "").expect("pytest's last line has every count");
        assert_eq!((report.passed, report.failed), (2, 5));
    }

    #[test]
    fn two_runners_in_one_output_is_no_report() {
        let (cargo, _) = streams("cargo/pass");
        let (pytest, _) = streams("pytest/pass");
        assert_eq!(parse(Some("make test"), &format!("{cargo}\n{pytest}"), ""), None);
    }

    /// Every fixture cut at many points, with lines shuffled and doubled, with huge numbers:
    /// the parsers answer (a report or none) and never panic.
    #[test]
    fn truncated_and_garbled_output_never_panics() {
        let commands = [
            None,
            Some("cargo test"),
            Some("pytest"),
            Some("go test -v"),
            Some("node --test"),
            Some("npx jest"),
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for stem in STEMS {
            let text = fixture(stem);
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            for cut in boundaries.iter().step_by(boundaries.len() / 60 + 1) {
                for command in commands {
                    let _ = parse(command, &text[..*cut], &text[*cut..]);
                }
            }
            let mut lines: Vec<&str> = text.lines().collect();
            for _ in 0..20 {
                let n = lines.len().max(1);
                let (a, b) = ((next() as usize) % n, (next() as usize) % n);
                if a < lines.len() && b < lines.len() {
                    lines.swap(a, b);
                    lines.insert(b, lines[a]);
                }
                let garbled = lines.join("\n");
                for command in commands {
                    let _ = parse(command, &garbled, "");
                }
            }
        }
        let huge = [
            "test result: FAILED. 18446744073709551615 passed; 18446744073709551615 failed; 1 ignored; 0 measured;",
            "test result: FAILED. 18446744073709551615 passed; 18446744073709551615 failed; 1 ignored; 0 measured;",
            "== 18446744073709551615 failed, 18446744073709551615 error in 0.1s ==",
            "# tests 1\n# pass 18446744073709551615\n# fail 18446744073709551615\n# cancelled 18446744073709551615",
            "Tests:       18446744073709551615 failed, 18446744073709551615 failed, 3 total",
            "      Tests  18446744073709551615 failed | 18446744073709551615 failed (1)",
            "---- \u{0} stdout ----\nthread 'x' panicked at a.rs:99999999999:1:",
            "  not ok 1 - x\n    ---\n    error: '\n    ...",
            "{\"numTotalTests\":1,\"numPassedTests\":-1,\"numFailedTests\":1}",
        ];
        for text in huge {
            for command in commands {
                let _ = parse(command, text, text);
                let _ = parse(command, &text.repeat(3), "");
            }
        }
    }

    #[test]
    fn huge_output_is_read_from_its_end_in_bounded_time() {
        let (stdout, _) = streams("pytest/default");
        let noise = "x".repeat(200) + "\n";
        let big = noise.repeat((20 << 20) / noise.len()) + &stdout;
        let started = std::time::Instant::now();
        let report = parse(Some("pytest"), &big, "").expect("the summary at the end is read");
        assert_eq!((report.passed, report.failed), (2, 5));
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
        // A summed format cut at its start would undercount: not parsed.
        let (cargo, _) = streams("cargo/no_fail_fast");
        assert_eq!(parse(Some("cargo test"), &(noise.repeat((5 << 20) / noise.len()) + &cargo), ""), None);
        // Many failures: counted all, named a bounded number.
        let many: String =
            (0..5000).map(|i| format!("FAILED t.py::test_{i} - assert {i} == 0\n")).collect::<String>();
        let text = format!("=== short test summary info ===\n{many}=== 5000 failed in 1.00s ===\n");
        let report = parse(Some("pytest"), &text, "").unwrap();
        assert_eq!((report.failed, report.failures.len()), (5000, MAX_FAILURES));
    }
}
