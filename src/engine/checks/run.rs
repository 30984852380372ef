//! Running one check in the sandbox and reading its output: the library half of the project
//! checks, used by the engine (`agent/checks.rs`: after a turn or change, `/check`, and the
//! `Engine::run_checks` a fix loop builds on).
//!
//! Invariants: a check runs with `RunDir::Project` — in the workspace, writable (build output
//! such as `target/` is expected), never copy-on-write, so it produces no change set; with the
//! caller's sandbox settings (wall time `sandbox.timeout_secs`, no network unless configured)
//! plus the read-only toolchain paths of its [`CheckSpec`]. A check that cannot start is an
//! outcome (not passed, with the reason), never a panic or an error the caller must handle.

use std::path::Path;

use super::parse::parse;
use super::project::CheckSpec;
use crate::engine::protocol::{CheckOutcome, CheckReport, Diagnostic};
use crate::engine::sandbox::{self, CancellationToken, KilledBy, Program, RunDir, SandboxConfig, Stream};

/// The output cap of a check (per stream) is at least this: its output is what it reports.
const MIN_OUTPUT_BYTES: usize = 16 << 20;

/// One check's result.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub outcome: CheckOutcome,
    pub diagnostics: Vec<Diagnostic>,
}

/// Run `spec` in `workspace`, sandboxed; `on_output` sees its output as it arrives.
pub async fn run_check(
    spec: &CheckSpec,
    workspace: &Path,
    sandbox_config: &SandboxConfig,
    cancel: CancellationToken,
    on_output: impl FnMut(Stream, &[u8]) + Send,
) -> CheckRun {
    let mut config = sandbox_config.clone();
    // cargo's JSON repeats every message rendered: a warning-heavy crate passes the usual cap.
    config.max_output_bytes = config.max_output_bytes.max(MIN_OUTPUT_BYTES);
    config.read_paths.extend(spec.read_paths.iter().cloned());
    config.write_paths.extend(spec.write_paths.iter().cloned());
    let program = Program::Command { argv: spec.argv.clone() };
    let dir = RunDir::Project(workspace.to_path_buf());
    match sandbox::execute(program, dir, None, &config, cancel, on_output).await {
        Ok(result) => {
            let diagnostics = parse(spec.format, &spec.name, &result.stdout, &result.stderr, workspace);
            let timed_out = result.killed_by == KilledBy::Timeout;
            let mut summary = result.summary();
            if timed_out {
                summary = format!(
                    "timed out after {} s (sandbox.timeout_secs; a cold build may need more): {summary}",
                    config.wall_time.as_secs()
                );
            }
            let outcome =
                CheckOutcome { name: spec.name.clone(), passed: result.success, timed_out, summary };
            CheckRun { outcome, diagnostics }
        }
        Err(e) => CheckRun {
            outcome: CheckOutcome {
                name: spec.name.clone(),
                passed: false,
                timed_out: false,
                summary: format!("not run: {e}"),
            },
            diagnostics: Vec::new(),
        },
    }
}

/// The report of several runs: diagnostics errors first, then by file, line and column, each
/// reported once (cargo check and clippy repeat rustc's warnings).
pub fn report(runs: Vec<CheckRun>) -> CheckReport {
    let mut report = CheckReport::default();
    for run in runs {
        report.checks.push(run.outcome);
        for d in run.diagnostics {
            let seen = report.diagnostics.iter().any(|o: &Diagnostic| {
                (&o.file, o.line, o.col, &o.message, o.severity)
                    == (&d.file, d.line, d.col, &d.message, d.severity)
            });
            if !seen {
                report.diagnostics.push(d);
            }
        }
    }
    report
        .diagnostics
        .sort_by(|a, b| (a.severity, &a.file, a.line, a.col).cmp(&(b.severity, &b.file, b.line, b.col)));
    report
}
