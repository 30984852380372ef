//! `/docs SYMBOL` and `/docs readme`: the facts the code index holds, written as the turn's
//! prompt so the documentation the model proposes (through the gate, like any edit) is grounded
//! in the code rather than guessed.
//!
//! - `/docs SYMBOL`: where the symbol is, its signature, current doc, callers, callees, the tests
//!   that reach it and its source (`explain`'s facts at `normal` detail), and the doc-comment
//!   convention of its language.
//! - `/docs readme`: the repository's areas (directories, with their module docs and most-used
//!   definitions), how many references go from one area to another, the command-line
//!   definitions it found, and the README's current headings.
//!
//! Invariants: every list is bounded, so the prompt does not grow with the repository; a name
//! the index does not know gives `None` (the turn then documents the text as typed); the facts
//! are data read from the repository, screened by the caller like every graph section.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::explain::{self, Detail, ExplainRequest};
use crate::engine::grammars::Language;
use crate::engine::graph::query::{ENTITY_COLUMNS, entity_from_row};
use crate::engine::graph::{EntityKind, GraphDb, Result};

/// Most areas, links between areas, command-line items and headings listed.
const MAX_AREAS: usize = 25;
const MAX_LINKS: usize = 30;
const MAX_CLI: usize = 30;
const MAX_HEADINGS: usize = 40;

/// What `/docs` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocsRequest {
    /// `/docs readme [words]`
    Readme(String),
    /// `/docs SYMBOL [words]`
    Symbol { symbol: String, rest: String },
}

/// `None`: free text (no symbol-like first word), documented as typed.
pub fn parse_request(text: &str) -> Option<DocsRequest> {
    let text = text.trim();
    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if first.eq_ignore_ascii_case("readme") {
        return Some(DocsRequest::Readme(rest.trim().to_string()));
    }
    let symbol_like = first.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && first.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '.'));
    symbol_like.then(|| DocsRequest::Symbol { symbol: first.to_string(), rest: rest.trim().to_string() })
}

/// The doc-comment convention for code in `file`.
pub fn convention(file: &str) -> &'static str {
    match Language::from_path(file) {
        Some(Language::Rust) => {
            "Rust: `///` lines directly above the item (`//!` for a module), a one-line summary, then \
             details; `# Errors` / `# Panics` sections where they apply; intra-doc links in backticks"
        }
        Some(Language::Python) => {
            "Python: a PEP 257 docstring as the first statement of the function/class, triple double \
             quotes, a one-line summary, then Args/Returns/Raises in the style the file already uses"
        }
        Some(Language::Go) => "Go: `//` comments directly above the declaration, starting with its name",
        Some(_) => "JSDoc: a `/** … */` block above the declaration with `@param` and `@returns`",
        None => "the convention the file already uses",
    }
}

/// The prompt section for `/docs SYMBOL` (`None`: the index does not know it).
pub fn symbol_facts(db: &GraphDb, root: &Path, symbol: &str, rest: &str) -> Result<Option<String>> {
    let req = ExplainRequest { symbol: symbol.to_string(), detail: Detail::Normal, rest: String::new() };
    let Some(facts) = explain::facts(db, root, &req)? else { return Ok(None) };
    let file = db.find_entities(symbol)?.into_iter().next().map(|e| e.file).unwrap_or_default();
    let body = facts.split_once('\n').map_or(facts.as_str(), |(_, body)| body);
    Ok(Some(format!(
        "Write the documentation of `{symbol}`{}: doc comments in the convention of its language — {} — \
         with edit_file, changing nothing but the comments. Describe what the code does (its callers \
         show how it is used); do not invent behaviour. Facts from kv1nt's code index:\n{body}",
        if rest.is_empty() { String::new() } else { format!(" ({rest})") },
        convention(&file)
    )))
}

/// A file's area: its directory, at most two levels deep (`src/app`, `tests/suite`, `.`).
fn area(file: &str) -> String {
    let dirs: Vec<&str> = file.split('/').collect();
    match dirs.len() {
        0 | 1 => ".".to_string(),
        2 => dirs[0].to_string(),
        _ => format!("{}/{}", dirs[0], dirs[1]),
    }
}

/// The prompt section for `/docs readme`.
pub fn readme_facts(db: &GraphDb, root: &Path, rest: &str) -> Result<String> {
    let conn = db.connection();
    let mut out = format!(
        "Propose README sections{}: an architecture overview (the areas below, what each owns and how \
         they depend on each other) and the commands a user runs (from the command-line definitions \
         below). Fit them to the README's existing headings; change or add only those sections, with \
         edit_file (or write_file when there is no README). Facts from kv1nt's code index:\n",
        if rest.is_empty() { String::new() } else { format!(" ({rest})") }
    );
    // Areas: files, definitions and the first module doc of each.
    let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities e ORDER BY e.file, e.start_line");
    let mut areas: BTreeMap<String, (usize, Option<String>)> = BTreeMap::new();
    let mut cli: Vec<String> = Vec::new();
    for e in conn.prepare(&sql)?.query_map([], entity_from_row)?.flatten() {
        let slot = areas.entry(area(&e.file)).or_default();
        slot.0 += 1;
        if e.kind == EntityKind::Module && slot.1.is_none() {
            slot.1 =
                e.doc.as_deref().and_then(|d| d.lines().find(|l| !l.trim().is_empty())).map(str::to_string);
        }
        let in_cli = e.file.split('/').any(|d| matches!(d, "cli" | "cmd" | "commands" | "bin"))
            || e.file.ends_with("main.rs")
            || e.file.ends_with("__main__.py");
        if in_cli && !matches!(e.kind, EntityKind::Module | EntityKind::Variable) && cli.len() < MAX_CLI {
            cli.push(format!(
                "{} {} — {}:{} {}",
                e.kind.as_str(),
                e.qualified_name,
                e.file,
                e.start_line,
                e.signature
            ));
        }
    }
    let mut ranked: Vec<_> = areas.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let _ = writeln!(out, "\n## Areas (directory: definitions indexed — its module doc)");
    for (name, (count, doc)) in ranked.iter().take(MAX_AREAS) {
        let _ = writeln!(
            out,
            "- {name}: {count}{}",
            doc.as_ref().map(|d| format!(" — {}", d.trim())).unwrap_or_default()
        );
    }
    // References between areas.
    let mut links: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut st = conn.prepare(
        "SELECT s.file, t.file, count(*) FROM relations r
         JOIN entities s ON s.id = r.source_id JOIN entities t ON t.id = r.target_id
         WHERE r.kind != 'contains' AND s.file != t.file GROUP BY s.file, t.file",
    )?;
    for row in
        st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
    {
        let (from, to, n) = row?;
        let (from, to) = (area(&from), area(&to));
        if from != to {
            *links.entry((from, to)).or_default() += n as usize;
        }
    }
    let mut links: Vec<_> = links.into_iter().collect();
    links.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = writeln!(out, "\n## References between areas (calls, imports, uses)");
    for ((from, to), n) in links.iter().take(MAX_LINKS) {
        let _ = writeln!(out, "- {from} → {to}: {n}");
    }
    let _ = writeln!(out, "\n## Command-line definitions");
    if cli.is_empty() {
        out.push_str("- (none found: no cli/, cmd/, commands/, bin/, main.rs or __main__.py)\n");
    }
    for item in &cli {
        let _ = writeln!(out, "- {item}");
    }
    let _ = writeln!(out, "\n## The README's headings now");
    match super::walk::read(&root.join("README.md")) {
        Some(text) => {
            let headings: Vec<&str> =
                text.lines().filter(|l| l.starts_with('#')).take(MAX_HEADINGS).collect();
            for h in &headings {
                let _ = writeln!(out, "{h}");
            }
            if headings.is_empty() {
                out.push_str("(README.md has no headings)\n");
            }
        }
        None => out.push_str("(there is no README.md)\n"),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_areas() {
        assert_eq!(parse_request("readme the commands"), Some(DocsRequest::Readme("the commands".into())));
        assert_eq!(
            parse_request("store::Store::open briefly"),
            Some(DocsRequest::Symbol { symbol: "store::Store::open".into(), rest: "briefly".into() })
        );
        assert_eq!(parse_request("  "), None);
        assert_eq!(parse_request("(the parser) please"), None);
        assert_eq!(area("src/engine/agent/turn.rs"), "src/engine");
        assert_eq!(area("src/main.rs"), "src");
        assert_eq!(area("build.rs"), ".");
        assert!(convention("a/b.py").contains("PEP 257"));
        assert!(convention("x.rs").contains("///"));
    }
}
