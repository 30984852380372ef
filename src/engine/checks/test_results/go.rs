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

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Runner, TestFailure, TestReport, file_line};

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
static PACKAGE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(ok|FAIL)\s+(\S+)(?:\s+\[(build failed|setup failed)\]|\s+[\d.]+s)").expect("static regex"));
static BUILD_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\s:]+\.go):(\d+):\d+: (.*)$").expect("static regex"));

pub(super) fn parse(text: &str) -> Option<TestReport> {
    let mut runs = Runs::default();
    let mut json = false;
    let mut verbose = false;
    let mut current: Option<(String, String)> = None;
    let mut pending: Vec<(String, String)> = Vec::new(); // verbose results waiting for their package line
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
            let outcome = Outcome::from_word(&c[1]);
            runs.test("", &c[2]).outcome = outcome;
            pending.push((String::new(), c[2].to_string()));
        } else if let Some(c) = PACKAGE_LINE.captures(line) {
            let package = c[2].to_string();
            for (_, name) in pending.drain(..) {
                if let Some(run) = runs.tests.remove(&(String::new(), name.clone())) {
                    runs.tests.insert((package.clone(), name.clone()), run);
                    for key in runs.order.iter_mut().filter(|k| k.0.is_empty() && k.1 == name) {
                        key.0 = package.clone();
                    }
                }
            }
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
            runs.packages.entry(String::new()).or_default().output.push(format!("{}:{}: {}", &c[1], &c[2], &c[3]));
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
            let outcome = if action == "build-fail" { Some(Outcome::Fail) } else { Outcome::from_word(action) };
            if let Some(outcome) = outcome {
                runs.packages.entry(event.package).or_default().outcome = Some(outcome);
            }
        }
    }
}

fn report(mut runs: Runs) -> TestReport {
    let mut report = TestReport::new(Runner::Go);
    let failed_below = |runs: &Runs, package: &str, name: &str| {
        let prefix = format!("{name}/");
        runs.tests.iter().any(|((p, n), r)| p == package && n.starts_with(&prefix) && r.outcome == Some(Outcome::Fail))
    };
    let has_children = |runs: &Runs, package: &str, name: &str| {
        let prefix = format!("{name}/");
        runs.tests.keys().any(|(p, n)| p == package && n.starts_with(&prefix))
    };
    let mut failed_packages: Vec<&str> = Vec::new();
    for key in &runs.order {
        let run = &runs.tests[key];
        let (package, name) = (key.0.as_str(), key.1.as_str());
        let leaf = !has_children(&runs, package, name);
        match run.outcome {
            Some(Outcome::Pass) if leaf => report.passed += 1,
            Some(Outcome::Skip) if leaf => report.skipped += 1,
            Some(Outcome::Fail) if leaf || !failed_below(&runs, package, name) => {
                report.failed += 1;
                failed_packages.push(package);
                report.failures.push(test_failure(name, run));
            }
            _ => {}
        }
    }
    let compiler = runs.packages.remove("").map(|r| r.output).unwrap_or_default();
    for (package, run) in &runs.packages {
        if run.outcome != Some(Outcome::Fail) || failed_packages.contains(&package.as_str()) {
            continue;
        }
        report.failed += 1;
        let build = run.output.iter().any(|l| l.contains("build failed") || l.contains("setup failed"));
        let (location, message) = match compiler.first().filter(|_| build) {
            Some(error) => {
                let c = BUILD_ERROR.captures(error.trim_end());
                let location = c.as_ref().and_then(|c| file_line(&c[1], &c[2]));
                (location, format!("build failed: {}", c.map_or(error.as_str(), |c| c.get(3).map_or("", |m| m.as_str()))))
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
        Some(c) => TestFailure { name: name.to_string(), location: file_line(&c[1], &c[2]), message: c[3].to_string() },
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
