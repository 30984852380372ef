//! The reports as text — one rendering shared by `kv1nt deps` / `kv1nt config-check`, the TUI's
//! `/deps` and `/config-check` notices and the agent's `dependencies` tool.
//!
//! Invariant: every string that came from the repository is printed without control
//! characters (a file name or package name cannot move the cursor or recolour the terminal).

use std::fmt::Write as _;

use super::config_check::ConfigReport;
use super::deps::DepsReport;

/// `text` with control characters shown as `?`.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn list(items: &[String], max: usize) -> String {
    let mut out: Vec<String> = items.iter().take(max).map(|s| printable(s)).collect();
    if items.len() > max {
        out.push(format!("… {} more", items.len() - max));
    }
    out.join(", ")
}

pub fn deps_text(r: &DepsReport) -> String {
    let mut out = String::new();
    let source = if r.source == "graph" {
        "imports from the knowledge graph"
    } else {
        "imports parsed from the files (no index)"
    };
    if r.manifests.is_empty() {
        let _ = writeln!(
            out,
            "No manifest found (Cargo.toml, pyproject.toml, requirements*.txt, package.json, go.mod)."
        );
    } else {
        let _ = writeln!(
            out,
            "Dependencies of {} manifest(s): {}; {source}.",
            r.manifests.len(),
            list(&r.manifests, 6)
        );
    }
    if !r.missing.is_empty() {
        let _ = writeln!(out, "\nmissing — imported but not declared:");
        for m in &r.missing {
            let via = if m.import != m.package {
                format!(" (imported as {})", printable(&m.import))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {:<6} {}{via} → {}   used in {}",
                m.ecosystem.as_str(),
                printable(&m.package),
                printable(&m.manifest),
                list(&m.files, 4)
            );
        }
    }
    if !r.unused.is_empty() {
        let _ = writeln!(out, "\nunused — declared but never imported:");
        for u in &r.unused {
            let _ = writeln!(
                out,
                "  {:<6} {}   {} [{}]",
                u.ecosystem.as_str(),
                printable(&u.package),
                printable(&u.manifest),
                printable(&u.section)
            );
        }
    }
    if !r.duplicates.is_empty() {
        let _ = writeln!(out, "\nduplicated — several versions in one lockfile:");
        for d in &r.duplicates {
            let _ = writeln!(
                out,
                "  {:<6} {} {}   ({})",
                d.ecosystem.as_str(),
                printable(&d.package),
                list(&d.versions, 6),
                printable(&d.lockfile)
            );
        }
    }
    if !r.conflicts.is_empty() {
        let _ = writeln!(out, "\nconflicting — requirements no single version meets:");
        for c in &r.conflicts {
            let reqs: Vec<String> = c
                .requirements
                .iter()
                .map(|q| format!("{} \"{}\"", printable(&q.manifest), printable(&q.requirement)))
                .collect();
            let _ = writeln!(
                out,
                "  {:<6} {}: {}",
                c.ecosystem.as_str(),
                printable(&c.package),
                reqs.join(" vs ")
            );
        }
    }
    if r.is_clean() && !r.manifests.is_empty() {
        let _ = writeln!(out, "\nNothing missing, unused, duplicated or conflicting.");
    }
    for p in &r.problems {
        let _ = writeln!(out, "problem: {}", printable(p));
    }
    if !r.missing.is_empty() {
        let _ = writeln!(
            out,
            "\nDeclare one with `/deps add NAME` (the manifest edit is shown for approval; installing it is your own command)."
        );
    }
    out
}

pub fn config_text(r: &ConfigReport) -> String {
    let mut out = String::new();
    let examples = if r.examples.is_empty() { "no .env.example".to_string() } else { list(&r.examples, 4) };
    let _ = writeln!(
        out,
        "Configuration: {} environment variable(s) read by the code; {examples}.",
        r.variables.len()
    );
    if !r.missing.is_empty() {
        let _ = writeln!(out, "\nmissing — read by the code, not in the example file:");
        for name in &r.missing {
            let at =
                r.variables.iter().find(|v| &v.name == name).map(|v| list(&v.read_in, 3)).unwrap_or_default();
            let _ = writeln!(out, "  {}   read in {at}", printable(name));
        }
    }
    if !r.unused.is_empty() {
        let _ = writeln!(out, "\nunused — defined, read nowhere in the code:");
        for u in &r.unused {
            let _ = writeln!(out, "  {}   in {}", printable(&u.name), list(&u.defined_in, 4));
        }
    }
    for v in &r.schemas {
        if v.errors.is_empty() {
            let _ = writeln!(out, "\n{} ✓ valid against {}", printable(&v.file), printable(&v.schema));
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} ✗ {} error(s) against {}:",
            printable(&v.file),
            v.errors.len(),
            printable(&v.schema)
        );
        for e in &v.errors {
            let _ = writeln!(out, "  {}: {}", printable(&e.path), printable(&e.reason));
        }
    }
    for p in &r.problems {
        let _ = writeln!(out, "problem: {}", printable(p));
    }
    if !r.missing.is_empty() {
        let _ = writeln!(
            out,
            "\n`/env-example` proposes the missing entries for .env.example (values left empty)."
        );
    }
    out
}
