//! Check output → [`Diagnostic`]s, one parser per [`OutputFormat`]: the tools' JSON where they
//! have one (cargo, ruff), their compiler text otherwise (tsc, gcc-style, ESLint's stylish).
//!
//! Invariants: parsers never fail — lines they do not recognise are skipped (a check's raw
//! output is in the Output pane anyway); paths inside the workspace come out relative to it
//! (`./` stripped), others unchanged; line and column are 1-based, 0 when the tool gave none.

use std::path::Path;

use serde_json::Value;

use super::settings::OutputFormat;
use crate::engine::protocol::{Diagnostic, Severity};

/// Everything `check` reported in `stdout` and `stderr`, read as `format`.
pub fn parse(
    format: OutputFormat,
    check: &str,
    stdout: &str,
    stderr: &str,
    workspace: &Path,
) -> Vec<Diagnostic> {
    let mut out = match format {
        OutputFormat::CargoJson => cargo_json(stdout),
        OutputFormat::RuffJson => ruff_json(stdout),
        OutputFormat::Tsc => [stdout, stderr].iter().flat_map(|t| t.lines()).filter_map(tsc_line).collect(),
        OutputFormat::Gcc => [stdout, stderr].iter().flat_map(|t| t.lines()).filter_map(gcc_line).collect(),
        OutputFormat::Eslint => [stdout, stderr].iter().flat_map(|t| eslint(t)).collect(),
    };
    for d in &mut out {
        d.check = check.to_string();
        d.file = relative(&d.file, workspace);
    }
    out
}

fn diagnostic(
    file: &str,
    line: usize,
    col: usize,
    severity: Severity,
    code: Option<String>,
    message: &str,
) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line,
        col,
        severity,
        code,
        message: message.trim().to_string(),
        check: String::new(),
    }
}

/// `path` relative to `workspace` when it is inside it (`./` and the workspace prefix stripped).
pub fn relative(path: &str, workspace: &Path) -> String {
    let trimmed = path.trim_start_matches("./");
    let p = Path::new(trimmed);
    if p.is_absolute() {
        for root in [workspace.to_path_buf(), workspace.canonicalize().unwrap_or_default()] {
            if let Ok(rel) = p.strip_prefix(&root)
                && !root.as_os_str().is_empty()
            {
                return rel.to_string_lossy().into_owned();
            }
        }
    }
    trimmed.to_string()
}

fn severity_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        w if w.starts_with("error") || w == "fatal error" => Some(Severity::Error),
        "warning" | "warn" => Some(Severity::Warning),
        "note" | "help" | "info" | "failure-note" => Some(Severity::Note),
        _ => None,
    }
}

/// `cargo … --message-format=json`: `compiler-message` lines, at their primary span.
fn cargo_json(stdout: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let Ok(value) = serde_json::from_str::<Value>(line) else { continue };
        if value["reason"] != "compiler-message" {
            continue;
        }
        let message = &value["message"];
        let Some(severity) = message["level"].as_str().and_then(severity_word) else { continue };
        let spans = message["spans"].as_array().map(Vec::as_slice).unwrap_or_default();
        let Some(span) = spans.iter().find(|s| s["is_primary"] == true) else { continue };
        let number = |v: &Value| v.as_u64().unwrap_or(0) as usize;
        out.push(diagnostic(
            span["file_name"].as_str().unwrap_or_default(),
            number(&span["line_start"]),
            number(&span["column_start"]),
            severity,
            message["code"]["code"].as_str().map(str::to_string),
            message["message"].as_str().unwrap_or_default(),
        ));
    }
    out
}

/// `ruff check --output-format=json`. Ruff calls everything an error; kv1nt keeps that for
/// syntax errors and undefined names (the code cannot run) and reads other lints as warnings.
fn ruff_json(stdout: &str) -> Vec<Diagnostic> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(stdout.trim()) else { return Vec::new() };
    items
        .iter()
        .map(|item| {
            let code = item["code"].as_str().map(str::to_string);
            let severity = match code.as_deref() {
                None | Some("invalid-syntax") => Severity::Error,
                Some(c) if c.starts_with("E9") || c.starts_with("F82") => Severity::Error,
                _ => Severity::Warning,
            };
            let number = |v: &Value| v.as_u64().unwrap_or(0) as usize;
            diagnostic(
                item["filename"].as_str().unwrap_or_default(),
                number(&item["location"]["row"]),
                number(&item["location"]["column"]),
                severity,
                code,
                item["message"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// `src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.`
fn tsc_line(line: &str) -> Option<Diagnostic> {
    let (file, rest) = line.split_once('(')?;
    let (position, rest) = rest.split_once("): ")?;
    let (l, c) = position.split_once(',')?;
    let (head, message) = rest.split_once(": ")?;
    let (word, code) = head.split_once(' ').unwrap_or((head, ""));
    let severity = severity_word(word)?;
    let code = Some(code.to_string()).filter(|c| !c.is_empty());
    Some(diagnostic(file, l.trim().parse().ok()?, c.trim().parse().ok()?, severity, code, message))
}

/// `file:line[:col]: [severity:] message` (gcc, clang, go vet, pyflakes, mypy, kv1nt's Python
/// compile check). A line without a severity word is an error when it says the code cannot
/// run (syntax errors, undefined names, type errors) and a warning otherwise.
fn gcc_line(line: &str) -> Option<Diagnostic> {
    let line = line.strip_prefix("vet: ").unwrap_or(line);
    let mut parts = line.splitn(4, ':');
    let file = parts.next()?;
    if file.is_empty() || file.contains(' ') && !file.contains('/') {
        return None;
    }
    let l: usize = parts.next()?.trim().parse().ok()?;
    let third = parts.next()?;
    let (col, rest) = match third.trim().parse::<usize>() {
        Ok(col) => (col, parts.next().unwrap_or_default().to_string()),
        Err(_) => (0, [third, parts.next().unwrap_or_default()].join(":")),
    };
    let rest = rest.trim();
    let (severity, message) = match rest.split_once(':').and_then(|(w, m)| Some((severity_word(w)?, m))) {
        Some((severity, message)) => (severity, message),
        None => (implied_severity(rest), rest),
    };
    if message.trim().is_empty() {
        return None;
    }
    let (message, code) = trailing_code(message);
    Some(diagnostic(file, l, col, severity, code, &message))
}

fn implied_severity(message: &str) -> Severity {
    let m = message.to_ascii_lowercase();
    let fatal =
        ["syntax", "undefined name", "cannot use", "undefined:", "not defined", "invalid", "expected"];
    if fatal.iter().any(|w| m.contains(w)) { Severity::Error } else { Severity::Warning }
}

/// mypy and clang end a message with `[code]`.
fn trailing_code(message: &str) -> (String, Option<String>) {
    let message = message.trim();
    if let Some(open) = message.rfind("  [").or_else(|| message.rfind(" ["))
        && message.ends_with(']')
    {
        let code = &message[open..].trim()[1..];
        let code = &code[..code.len() - 1];
        if !code.is_empty() && !code.contains(' ') {
            return (message[..open].trim().to_string(), Some(code.to_string()));
        }
    }
    (message.to_string(), None)
}

/// ESLint "stylish": a file name on its own line, then `  3:7  error  message  rule`.
fn eslint(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut file: Option<&str> = None;
    for line in text.lines() {
        if let Some(d) = gcc_line(line) {
            out.push(d);
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            let name = line.trim();
            file = (!name.is_empty() && !name.starts_with('✖')).then_some(name);
            continue;
        }
        let Some(file) = file else { continue };
        let fields: Vec<&str> = line.trim().split("  ").map(str::trim).filter(|f| !f.is_empty()).collect();
        let [position, word, message, rest @ ..] = fields.as_slice() else { continue };
        let Some((l, c)) = position.split_once(':') else { continue };
        let (Ok(l), Ok(c), Some(severity)) = (l.parse(), c.parse(), severity_word(word)) else { continue };
        out.push(diagnostic(file, l, c, severity, rest.last().map(|r| r.to_string()), message));
    }
    out
}

/// Longest unfinished line [`Display`] holds back before showing it as it is.
const MAX_PENDING: usize = 1 << 20;

/// What of a check's stdout a person sees in the Output pane: cargo's JSON lines become their
/// `rendered` text (what cargo prints without `--message-format=json`) and its build-progress
/// records are dropped; other formats pass through. The full stdout is still parsed.
#[derive(Debug)]
pub struct Display {
    cargo: bool,
    pending: Vec<u8>,
}

impl Display {
    pub fn new(format: OutputFormat) -> Self {
        Self { cargo: format == OutputFormat::CargoJson, pending: Vec::new() }
    }

    /// The text to show for the next chunk of stdout (possibly empty).
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        if !self.cargo {
            return String::from_utf8_lossy(bytes).into_owned();
        }
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            out.push_str(&Self::cargo_line(&String::from_utf8_lossy(&line)));
        }
        if self.pending.len() > MAX_PENDING {
            out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut self.pending)));
        }
        out
    }

    fn cargo_line(line: &str) -> String {
        let Ok(value) = serde_json::from_str::<Value>(line.trim()) else { return line.to_string() };
        match value["reason"].as_str() {
            Some("compiler-message") => value["message"]["rendered"].as_str().unwrap_or_default().to_string(),
            Some(_) => String::new(),
            None => line.to_string(),
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
