//! `/explain SYMBOL [--detail brief|normal|deep]`: the facts the code index holds about a
//! symbol — where it is, its signature and doc, its callers and callees, the tests that reach
//! it (through at most [`TEST_DEPTH`] calls), and at `normal`/`deep` its source — written as
//! the turn's prompt so the explanation is grounded in them rather than in the model's guess.
//!
//! Invariants: a symbol the index does not know gives `None` (the turn then explains the text
//! as typed); lists are bounded ([`MAX_LISTED`]) and the source is cut at the detail's line
//! budget, so the prompt's size does not grow with the repository.

use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;

use crate::engine::graph::{Entity, EntityKind, GraphDb, Result};

/// How far up the call graph a test may be and still count as exercising the symbol.
pub const TEST_DEPTH: usize = 3;
/// Most callers, callees or tests listed.
pub const MAX_LISTED: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    Brief,
    Normal,
    Deep,
}

impl Detail {
    pub fn parse(s: &str) -> Option<Detail> {
        match s {
            "brief" => Some(Detail::Brief),
            "normal" => Some(Detail::Normal),
            "deep" => Some(Detail::Deep),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Brief => "brief",
            Detail::Normal => "normal",
            Detail::Deep => "deep",
        }
    }

    /// Source lines shown.
    fn source_lines(self) -> usize {
        match self {
            Detail::Brief => 0,
            Detail::Normal => 80,
            Detail::Deep => 300,
        }
    }

    pub fn instruction(self) -> &'static str {
        match self {
            Detail::Brief => "Explain it in two or three sentences: what it does and who relies on it.",
            Detail::Normal => {
                "Explain what it does, its inputs and outputs, how its callers use it, what it calls, and how the tests exercise it."
            }
            Detail::Deep => {
                "Explain it in depth: walk through the body step by step, its error paths and edge cases, the invariants it keeps, how each caller relies on it, and what the tests cover and miss."
            }
        }
    }
}

/// `/explain`'s text: the symbol (first word), the detail, and any further words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainRequest {
    pub symbol: String,
    pub detail: Detail,
    pub rest: String,
}

/// Reads `SYMBOL [--detail LEVEL] [more words]`; `Err` for a bad `--detail`.
pub fn parse_request(text: &str) -> Result<Option<ExplainRequest>, String> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut detail = Detail::Normal;
    let mut i = 0;
    while i < words.len() {
        let value = if let Some(v) = words[i].strip_prefix("--detail=") {
            words.remove(i);
            Some(v.to_string())
        } else if words[i] == "--detail" {
            words.remove(i);
            (i < words.len()).then(|| words.remove(i).to_string())
        } else {
            i += 1;
            continue;
        };
        let value = value.unwrap_or_default();
        detail = Detail::parse(&value).ok_or_else(|| {
            format!("--detail takes brief, normal or deep (not `{value}`): /explain SYMBOL --detail deep")
        })?;
    }
    let Some(symbol) = words.first() else { return Ok(None) };
    Ok(Some(ExplainRequest { symbol: symbol.to_string(), detail, rest: words[1..].join(" ") }))
}

/// Whether `e` is a test (by its file or its name).
pub fn is_test(e: &Entity) -> bool {
    let file = e.file.as_str();
    let name = file.rsplit('/').next().unwrap_or(file);
    file.split('/').any(|d| matches!(d, "tests" | "test" | "__tests__" | "spec"))
        || name.starts_with("test_")
        || name.ends_with("_test.go")
        || name.ends_with("_test.py")
        || [".test.", ".spec."].iter().any(|m| name.contains(m))
        || e.name.starts_with("test")
        || e.qualified_name.split([':', '.']).any(|s| s == "tests")
}

fn line(e: &Entity) -> String {
    format!("{} {} — {}:{}-{}", e.kind.as_str(), e.qualified_name, e.file, e.start_line, e.end_line)
}

/// Tests that call `start` directly or through at most [`TEST_DEPTH`] callers, with the path.
fn tests_reaching(db: &GraphDb, start: &Entity) -> Result<Vec<(Entity, Vec<String>)>> {
    let mut seen: BTreeSet<i64> = [start.id].into();
    let mut queue: VecDeque<(Entity, Vec<String>)> = [(start.clone(), Vec::new())].into();
    let mut out = Vec::new();
    while let Some((e, via)) = queue.pop_front() {
        if via.len() >= TEST_DEPTH || out.len() >= MAX_LISTED {
            continue;
        }
        for (caller, _) in db.find_callers(&e.qualified_name)? {
            if !seen.insert(caller.id) {
                continue;
            }
            if is_test(&caller) {
                out.push((caller, via.clone()));
            } else {
                let mut next = via.clone();
                next.push(caller.qualified_name.clone());
                queue.push_back((caller, next));
            }
        }
    }
    Ok(out)
}

/// The prompt section for `req` (`None`: the index has no entity of that name).
pub fn facts(db: &GraphDb, root: &Path, req: &ExplainRequest) -> Result<Option<String>> {
    let mut found = db.find_entities(&req.symbol)?;
    if found.len() > 1 {
        found.retain(|e| e.kind != EntityKind::Module);
    }
    if found.is_empty() {
        return Ok(None);
    }
    let mut out = format!(
        "Explain `{}` (detail: {}). Facts from kv1nt's code index — ground the explanation in them, and say so when something you need is not shown:\n",
        req.symbol,
        req.detail.as_str()
    );
    for e in found.iter().take(3) {
        let _ = writeln!(out, "\n## {}", line(e));
        if !e.signature.is_empty() {
            let _ = writeln!(out, "signature: {}", e.signature);
        }
        if let Some(doc) = e.doc.as_deref().filter(|d| !d.trim().is_empty()) {
            let _ = writeln!(out, "doc: {}", doc.lines().take(6).collect::<Vec<_>>().join(" "));
        }
        let list = |out: &mut String, title: &str, items: Vec<String>| {
            let _ = writeln!(out, "{title} ({}):", items.len());
            if items.is_empty() {
                out.push_str("  (none found in the index)\n");
            }
            for i in items.iter().take(MAX_LISTED) {
                let _ = writeln!(out, "  - {i}");
            }
            if items.len() > MAX_LISTED {
                let _ = writeln!(out, "  … {} more", items.len() - MAX_LISTED);
            }
        };
        let callers = db.find_callers(&e.qualified_name)?;
        list(
            &mut out,
            "called by",
            callers.iter().map(|(c, s)| format!("{} (link strength {s:.1})", line(c))).collect(),
        );
        let callees = db.find_callees(&e.qualified_name)?;
        list(&mut out, "calls", callees.iter().map(|(c, _)| line(c)).collect());
        let tests = tests_reaching(db, e)?;
        list(
            &mut out,
            "tests that exercise it",
            tests
                .iter()
                .map(|(t, via)| {
                    if via.is_empty() {
                        format!("{} (directly)", line(t))
                    } else {
                        format!("{} (via {})", line(t), via.join(" → "))
                    }
                })
                .collect(),
        );
        let budget = req.detail.source_lines();
        if budget > 0
            && let Some(text) = super::walk::read(&root.join(&e.file))
        {
            let lines: Vec<&str> = text.lines().collect();
            let start = (e.start_line as usize).saturating_sub(1).min(lines.len());
            let end = (e.end_line as usize).min(lines.len()).min(start + budget);
            let _ = writeln!(
                out,
                "source ({}:{}-{}):\n```\n{}\n```",
                e.file,
                start + 1,
                end,
                lines[start..end].join("\n")
            );
        }
    }
    if found.len() > 3 {
        let _ = writeln!(out, "\n({} more entities share the name `{}`.)", found.len() - 3, req.symbol);
    }
    let _ = writeln!(out, "\n{}", req.detail.instruction());
    if !req.rest.is_empty() {
        let _ = writeln!(out, "The user adds: {}", req.rest);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_with_the_detail_anywhere() {
        let r = parse_request("parse_config --detail deep and its errors").unwrap().unwrap();
        assert_eq!(
            (r.symbol.as_str(), r.detail, r.rest.as_str()),
            ("parse_config", Detail::Deep, "and its errors")
        );
        let r = parse_request("--detail=brief x").unwrap().unwrap();
        assert_eq!((r.symbol.as_str(), r.detail), ("x", Detail::Brief));
        assert_eq!(parse_request("x").unwrap().unwrap().detail, Detail::Normal);
        assert!(parse_request("x --detail huge").unwrap_err().contains("brief, normal or deep"));
        assert!(parse_request("x --detail").is_err());
        assert_eq!(parse_request("  ").unwrap(), None);
    }
}
