//! The project checks as the UI sees them: diagnostics (`file:line:col`, severity, code,
//! message) and what each check run reported. The checks themselves are `engine::checks`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One problem a check reported. `file` is relative to the workspace when it is inside it;
/// `line` and `col` are 1-based (0 when the tool gave none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    /// The tool's rule or error code (`E0308`, `F401`, `TS2322`, `clippy::len_zero`).
    pub code: Option<String>,
    pub message: String,
    /// The check that reported it (`cargo check`).
    pub check: String,
}

impl Diagnostic {
    /// `file:line:col: severity[code]: message`, the compilers' one-line form.
    pub fn one_line(&self) -> String {
        let code = self.code.as_deref().map(|c| format!("[{c}]")).unwrap_or_default();
        format!(
            "{}:{}:{}: {}{code}: {}",
            self.file,
            self.line,
            self.col,
            self.severity.as_str(),
            self.message
        )
    }
}

/// How one check run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    /// `cargo check`, `ruff`, `tsc`, or the user's name for it.
    pub name: String,
    /// The tool exited 0.
    pub passed: bool,
    /// Stopped at the sandbox's wall time (`sandbox.timeout_secs`): its diagnostics are partial.
    pub timed_out: bool,
    /// Why it did not run or was stopped, or the sandbox's summary line.
    pub summary: String,
}

/// The result of running the project's checks once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub checks: Vec<CheckOutcome>,
    /// Errors first, then by file and line.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }

    /// A check failed, errored, or timed out, or an error was reported.
    pub fn failed(&self) -> bool {
        self.count(Severity::Error) > 0 || self.checks.iter().any(|c| !c.passed)
    }

    /// One line: `✗ 2 errors · 1 warning`, `checks ✓`, or `no checks for this repository`.
    pub fn summary(&self) -> String {
        if self.checks.is_empty() {
            return "no checks for this repository".into();
        }
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if errors > 0 {
            parts.push(plural(errors, "error"));
        }
        if warnings > 0 {
            parts.push(plural(warnings, "warning"));
        }
        let timed_out: Vec<&str> =
            self.checks.iter().filter(|c| c.timed_out).map(|c| c.name.as_str()).collect();
        if !timed_out.is_empty() {
            parts.push(format!("{} timed out", timed_out.join(", ")));
        }
        let broken = self.checks.iter().filter(|c| !c.passed && !c.timed_out).count() > 0 && errors == 0;
        if broken {
            let names: Vec<&str> =
                self.checks.iter().filter(|c| !c.passed && !c.timed_out).map(|c| c.name.as_str()).collect();
            parts.push(format!("{} failed", names.join(", ")));
        }
        match (parts.is_empty(), self.failed()) {
            (true, _) => "checks ✓".into(),
            (false, true) => format!("✗ {}", parts.join(" · ")),
            (false, false) => format!("⚠ {}", parts.join(" · ")),
        }
    }
}

/// What changed between two reports of the same workspace: what a turn broke, fixed, or added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckDelta {
    /// Checks that fail now and did not before (passed, or did not exist).
    pub broken: Vec<String>,
    /// Checks that failed before and pass now.
    pub fixed: Vec<String>,
    /// Errors reported now that were not before. Matched by check, file, code and message,
    /// not line: an edit above an old error moves it without making it new.
    pub new_errors: Vec<Diagnostic>,
}

impl CheckDelta {
    /// The later report is no worse than the earlier one.
    pub fn is_clean(&self) -> bool {
        self.broken.is_empty() && self.new_errors.is_empty()
    }
}

impl CheckReport {
    /// This report compared with `before` (the baseline of a turn, `Engine::checks_baseline`).
    pub fn since(&self, before: &CheckReport) -> CheckDelta {
        let failed_before = |name: &str| before.checks.iter().find(|c| c.name == name).map(|c| !c.passed);
        let broken = self
            .checks
            .iter()
            .filter(|c| !c.passed && failed_before(&c.name) != Some(true))
            .map(|c| c.name.clone())
            .collect();
        let fixed = self
            .checks
            .iter()
            .filter(|c| c.passed && failed_before(&c.name) == Some(true))
            .map(|c| c.name.clone())
            .collect();
        let key = |d: &Diagnostic| (d.check.clone(), d.file.clone(), d.code.clone(), d.message.clone());
        let old: std::collections::HashSet<_> =
            before.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(key).collect();
        let new_errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error && !old.contains(&key(d)))
            .cloned()
            .collect();
        CheckDelta { broken, fixed, new_errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, passed: bool) -> CheckOutcome {
        CheckOutcome { name: name.into(), passed, timed_out: false, summary: String::new() }
    }

    fn error(file: &str, line: usize, message: &str) -> Diagnostic {
        Diagnostic {
            file: file.into(),
            line,
            col: 1,
            severity: Severity::Error,
            code: Some("E0308".into()),
            message: message.into(),
            check: "cargo check".into(),
        }
    }

    #[test]
    fn since_tells_new_errors_from_old_ones_that_moved() {
        let before = CheckReport {
            checks: vec![outcome("cargo check", false), outcome("go vet", false)],
            diagnostics: vec![error("src/a.rs", 3, "mismatched types")],
        };
        let after = CheckReport {
            checks: vec![outcome("cargo check", false), outcome("go vet", true), outcome("tsc", false)],
            diagnostics: vec![
                error("src/a.rs", 9, "mismatched types"),
                error("src/b.rs", 2, "mismatched types"),
            ],
        };
        let delta = after.since(&before);
        assert_eq!(delta.broken, ["tsc"]);
        assert_eq!(delta.fixed, ["go vet"]);
        assert_eq!(delta.new_errors, [error("src/b.rs", 2, "mismatched types")]);
        assert!(!delta.is_clean());
        assert!(before.since(&before).is_clean());
        assert_eq!(after.summary(), "✗ 2 errors");
    }
}
