//! `go test -json` (the event stream) and `go test -v` (`--- PASS/FAIL/SKIP:` lines).
//!
//! Only leaf tests are counted: `TestTable` fails because `TestTable/bad` did, which is one
//! failure, not two (a parent that fails with no failing subtest is counted itself). A package
//! that fails with no failing test (build failure, panic in `TestMain`, timeout) is one failure
//! named by the package; go 1.19–1.23 print build failures as text on stderr
//! (`FAIL\tpkg [build failed]`), 1.24+ as JSON `build-output`/`build-fail` events.
//!
//! Plain `go test` without `-v` prints failures but not passes, so its counts would be wrong:
//! it is not parsed.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{MAX_FAILURES, TestFailure, TestReport, TestRunner, file_line};

#[derive(Deserialize)]
struct GoEvent {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Package", alias = "ImportPath", default)]
    package: String,
    #[serde(rename = "Test", default)]
    test: Option<String>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
}

/// A test's outcome and what it logged.
#[derive(Default)]
struct TestRun {
    outcome: Option<Outcome>,
    output: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Skip,
}

impl Outcome {
    fn from_word(word: &str) -> Option<Outcome> {
        match word {
            "pass" | "PASS" => Some(Outcome::Pass),
            "fail" | "FAIL" => Some(Outcome::Fail),
            "skip" | "SKIP" => Some(Outcome::Skip),
            _ => None,
        }
    }
}

/// Tests by (package, name) in the order they started; packages' outcome and output.
#[derive(Default)]
struct Runs {
    tests: BTreeMap<(String, String), TestRun>,
    order: Vec<(String, String)>,
    packages: BTreeMap<String, TestRun>,
}

impl Runs {
    fn test(&mut self, package: &str, name: &str) -> &mut TestRun {
        let key = (package.to_string(), name.to_string());
        if !self.tests.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.tests.entry(key).or_default()
    }
}

static LOG_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+([^\s:]+\.go):(\d+): (.*)$").expect("static regex"));
static RESULT_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(").expect("static regex"));
static RUN_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^=== (?:RUN|CONT|NAME) +(\S+)").expect("static regex"));
static PACKAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(ok|FAIL)\s+(\S+)(?:\s+\[(build failed|setup failed)\]|\s+[\d.]+s)").expect("static regex")
});
static BUILD_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\s:]+\.go):(\d+):\d+: (.*)$").expect("static regex"));

pub(super) fn parse(text: &str) -> Option<TestReport> {
    let mut runs = Runs::default();
    let mut json = false;
    let mut verbose = false;
    let mut current: Option<(String, String)> = None;
    let mut package_start = 0; // verbose tests since the last package line have no package yet
    for line in text.lines() {
        if line.starts_with('{')
            && let Ok(event) = serde_json::from_str::<GoEvent>(line)
        {
            json = true;
            json_event(&mut runs, event);
            continue;
        }
        if let Some(c) = RUN_LINE.captures(line) {
            verbose = true;
            current = Some((String::new(), c[1].to_string()));
        } else if let Some(c) = RESULT_LINE.captures(line) {
            runs.test("", &c[2]).outcome = Outcome::from_word(&c[1]);
        } else if let Some(c) = PACKAGE_LINE.captures(line) {
            let package = c[2].to_string();
            for key in runs.order[package_start..].iter_mut().filter(|k| k.0.is_empty()) {
                if let Some(run) = runs.tests.remove(key) {
                    key.0 = package.clone();
                    runs.tests.insert(key.clone(), run);
                }
            }
            package_start = runs.order.len();
            let entry = runs.packages.entry(package).or_default();
            entry.outcome = Outcome::from_word(&c[1]);
            if let Some(why) = c.get(3) {
                entry.output.push(why.as_str().to_string());
            }
        } else if let Some((package, name)) = &current
            && !json
            && LOG_LINE.is_match(line)
        {
            let (package, name) = (package.clone(), name.clone());
            runs.test(&package, &name).output.push(line.to_string());
        } else if let Some(c) = BUILD_ERROR.captures(line) {
            // Compiler output (stderr) belongs to the next failed package; kept on the side.
            runs.packages.entry(String::new()).or_default().output.push(c[0].to_string());
        }
    }
    if !json && !verbose {
        return None;
    }
    Some(report(runs))
}

fn json_event(runs: &mut Runs, event: GoEvent) {
    match (event.test, event.action.as_str()) {
        (Some(test), "output") => runs.test(&event.package, &test).output.extend(event.output),
        (Some(test), action) => {
            if let Some(outcome) = Outcome::from_word(action) {
                runs.test(&event.package, &test).outcome = Some(outcome);
            } else {
                runs.test(&event.package, &test);
            }
        }
        (None, "output" | "build-output") => {
            runs.packages.entry(event.package).or_default().output.extend(event.output)
        }
        (None, action) => {
            let outcome =
                if action == "build-fail" { Some(Outcome::Fail) } else { Outcome::from_word(action) };
            if let Some(outcome) = outcome {
                runs.packages.entry(event.package).or_default().outcome = Some(outcome);
            }
        }
    }
}

fn report(mut runs: Runs) -> TestReport {
    let mut report = TestReport::new(TestRunner::Go);
    // Subtests sort right after their parent's `name/` prefix: a range, not a scan of all tests.
    let children = |runs: &Runs, package: &str, name: &str| -> Vec<Option<Outcome>> {
        let prefix = format!("{name}/");
        runs.tests
            .range((package.to_string(), prefix.clone())..)
            .take_while(|((p, n), _)| p == package && n.starts_with(&prefix))
            .map(|(_, r)| r.outcome)
            .collect()
    };
    let mut failed_packages: HashSet<&str> = HashSet::new();
    for key in &runs.order {
        let Some(run) = runs.tests.get(key) else { continue };
        let (package, name) = (key.0.as_str(), key.1.as_str());
        let below = children(&runs, package, name);
        let leaf = below.is_empty();
        match run.outcome {
            Some(Outcome::Pass) if leaf => report.passed = report.passed.saturating_add(1),
            Some(Outcome::Skip) if leaf => report.skipped = report.skipped.saturating_add(1),
            Some(Outcome::Fail) if !below.contains(&Some(Outcome::Fail)) => {
                report.failed = report.failed.saturating_add(1);
                failed_packages.insert(package);
                if report.failures.len() < MAX_FAILURES {
                    report.failures.push(test_failure(name, run));
                }
            }
            _ => {}
        }
    }
    let compiler = runs.packages.remove("").map(|r| r.output).unwrap_or_default();
    for (package, run) in &runs.packages {
        if run.outcome != Some(Outcome::Fail) || failed_packages.contains(&package.as_str()) {
            continue;
        }
        report.failed = report.failed.saturating_add(1);
        if report.failures.len() >= MAX_FAILURES {
            continue;
        }
        let build = run.output.iter().any(|l| l.contains("build failed") || l.contains("setup failed"));
        let (location, message) = match compiler.first().filter(|_| build) {
            Some(error) => {
                let c = BUILD_ERROR.captures(error.trim_end());
                let location = c.as_ref().and_then(|c| file_line(&c[1], &c[2]));
                (
                    location,
                    format!(
                        "build failed: {}",
                        c.map_or(error.as_str(), |c| c.get(3).map_or("", |m| m.as_str()))
                    ),
                )
            }
            None => (None, package_message(&run.output)),
        };
        report.failures.push(TestFailure { name: package.clone(), location, message });
    }
    report
}

/// A failed test's first `file.go:12: message` line.
fn test_failure(name: &str, run: &TestRun) -> TestFailure {
    let logged = run.output.iter().find_map(|l| LOG_LINE.captures(l.trim_end()));
    match logged {
        Some(c) => TestFailure {
            name: name.to_string(),
            location: file_line(&c[1], &c[2]),
            message: c[3].to_string(),
        },
        None => {
            let message = run
                .output
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty() && !l.starts_with("=== ") && !l.starts_with("--- "))
                .unwrap_or("")
                .to_string();
            TestFailure { name: name.to_string(), location: None, message }
        }
    }
}

/// Why a package failed without a failing test: a panic, a timeout, a build failure.
fn package_message(output: &[String]) -> String {
    let lines = || output.iter().map(|l| l.trim()).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.starts_with("panic:") || l.contains("build failed") || l.contains("setup failed"))
        .or_else(|| lines().find(|l| !l.starts_with("FAIL") && *l != "PASS"))
        .unwrap_or("package failed")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checks::test_results::tests::fixture;

    fn expect_calc(report: &TestReport) {
        // TestAdd fails, TestAddOK and TestOne pass, TestSkipped skips, TestTable/ok passes and
        // TestTable/bad fails (TestTable itself is not counted again).
        assert_eq!((report.passed, report.failed, report.skipped), (3, 2, 1));
        let names: Vec<&str> = report.failures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["TestAdd", "TestTable/bad"]);
        assert_eq!(report.failures[0].location, Some(("calc_test.go".into(), 7)));
        assert_eq!(report.failures[0].message, "Add(1, 2) = 3, want 4");
        assert_eq!(report.failures[1].location, Some(("calc_test.go".into(), 25)));
        assert_eq!(report.failures[1].message, "got 2 want 3");
    }

    #[test]
    fn json_events() {
        expect_calc(&parse(&fixture("go/json")).expect("a report"));
    }

    #[test]
    fn verbose_text() {
        expect_calc(&parse(&fixture("go/verbose")).expect("a report"));
    }

    #[test]
    fn plain_output_has_no_passes_so_no_counts() {
        assert_eq!(parse(&fixture("go/plain")), None);
    }

    #[test]
    fn a_package_that_did_not_build_is_one_failure_with_the_compiler_error() {
        let mut text = fixture("go/json");
        text.push_str(&fixture("go/json_build_failed"));
        text.push_str("FAIL\texample.com/calc/broken [build failed]\n");
        let report = parse(&text).expect("a report");
        assert_eq!(report.failed, 3);
        let broken =
            report.failures.iter().find(|f| f.name == "example.com/calc/broken").expect("the package");
        assert_eq!(broken.location, Some(("broken/b.go".into(), 3)));
        assert!(broken.message.starts_with("build failed: cannot use \"s\""), "{}", broken.message);
    }

    #[test]
    fn go_1_24_build_fail_events() {
        let text = concat!(
            r#"{"ImportPath":"x/b [x/b.test]","Action":"build-output","Output":"b.go:3:1: syntax error\n"}"#,
            "\n",
            r#"{"ImportPath":"x/b [x/b.test]","Action":"build-fail"}"#,
            "\n",
            r#"{"Action":"start","Package":"x/b"}"#,
            "\n",
            r#"{"Action":"output","Package":"x/b","Output":"FAIL\tx/b [build failed]\n"}"#,
            "\n",
            r#"{"Action":"fail","Package":"x/b","FailedBuild":"x/b [x/b.test]"}"#,
            "\n",
        );
        let report = parse(text).expect("a report");
        assert!(report.failed >= 1, "{report:?}");
        assert!(report.failures.iter().any(|f| f.message.contains("build failed")), "{report:?}");
    }

    #[test]
    fn many_tests_parse_in_linear_time() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("=== RUN   TestT{i}\n--- PASS: TestT{i} (0.00s)\n"));
        }
        text.push_str("ok  \tx\t0.1s\n");
        let started = std::time::Instant::now();
        let report = parse(&text).expect("a report");
        assert_eq!(report.passed, 20_000);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
