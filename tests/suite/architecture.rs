//! The architecture's boundaries, checked on the source tree: the UI (`src/app`, `src/widgets`,
//! `src/text`) reaches the engine only through `engine::protocol` (and `engine::config` at
//! start-up); the engine names no terminal crate; `app` never imports a widget; `text` is a
//! leaf; the protocol imports no other engine module.

use std::path::{Path, PathBuf};

use regex::Regex;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The source without comments (line comments, doc comments and block comments), so a module
/// named in prose does not count; string literals are kept (a path in a string is not an import,
/// but none of the patterns below appear in one).
fn code_of(text: &str) -> String {
    let block = Regex::new(r"(?s)/\*.*?\*/").unwrap();
    let text = block.replace_all(text, "");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every `file:line: text` under `dir` whose code `offends`.
fn offences(dir: &str, offends: impl Fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let files = rust_files(&root);
    assert!(!files.is_empty(), "no Rust files under {}", root.display());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in code_of(&text).lines().enumerate() {
            if offends(line) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

/// The engine modules a line of code names: `engine::x`, and each item of `engine::{x::…, y}`.
fn engine_modules(line: &str) -> Vec<String> {
    let path = Regex::new(r"\bengine::(\{[^}]*\}?|[a-z_]+)").unwrap();
    let mut out = Vec::new();
    for cap in path.captures_iter(line) {
        let named = &cap[1];
        match named.strip_prefix('{') {
            Some(group) => out.extend(
                group
                    .trim_end_matches('}')
                    .split(',')
                    .filter_map(|item| item.trim().split("::").next())
                    .filter(|m| !m.is_empty())
                    .map(str::to_string),
            ),
            None => out.push(named.to_string()),
        }
    }
    out
}

/// A line that names an engine module other than `allowed`.
fn names_engine_except<'a>(allowed: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
    move |line| engine_modules(line).iter().any(|m| !allowed.contains(&m.as_str()))
}

#[test]
fn the_ui_reaches_the_engine_only_through_the_protocol() {
    let mut found = offences("src/app", names_engine_except(&["protocol", "config"]));
    found.extend(offences("src/widgets", names_engine_except(&["protocol", "config"])));
    found.extend(offences("src/text", names_engine_except(&["protocol"])));
    assert!(
        found.is_empty(),
        "the UI names engine modules other than protocol/config:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_engine_names_no_terminal_crate() {
    let terminal = Regex::new(r"\b(ratatui|crossterm)\b").unwrap();
    let found = offences("src/engine", |line| terminal.is_match(line));
    assert!(found.is_empty(), "terminal crates in the engine:\n{}", found.join("\n"));
}

#[test]
fn app_never_imports_a_widget_and_text_is_a_leaf() {
    let widgets = Regex::new(r"\bwidgets::").unwrap();
    let found = offences("src/app", |line| widgets.is_match(line));
    assert!(found.is_empty(), "app imports widgets (imports go widgets → app):\n{}", found.join("\n"));
    let ui = Regex::new(r"\b(app|widgets)::").unwrap();
    let found = offences("src/text", |line| ui.is_match(line));
    assert!(found.is_empty(), "text imports the UI:\n{}", found.join("\n"));
}

#[test]
fn the_protocol_imports_no_other_engine_module() {
    let outside = names_engine_except(&["protocol"]);
    let found = offences("src/engine/protocol", |line| outside(line) || line.contains("super::super"));
    assert!(found.is_empty(), "the protocol depends on the engine:\n{}", found.join("\n"));
}

#[test]
fn the_checks_catch_what_they_look_for() {
    let ui = names_engine_except(&["protocol", "config"]);
    for bad in [
        "use crate::engine::git::FileDiff;",
        "use crate::engine::{protocol::Op, llm::Role};",
        "let x = crate::engine::store::Store::open(p);",
    ] {
        assert!(ui(&code_of(bad)), "missed: {bad}");
    }
    for good in [
        "use crate::engine::protocol::{Op, Event};",
        "use crate::engine::config::KeyList;",
        "// engine::git in prose",
    ] {
        assert!(!ui(&code_of(good)), "false alarm: {good}");
    }
}
