//! `list_dir` (a tree) and `grep` (regex search), both walking with the `ignore` crate.
//!
//! Invariants:
//! - Walks honour `.gitignore`, `.ignore`, git excludes and hidden-file rules (with or without a
//!   git repository), never descend into `.git/`, and never follow symlinks out of the walk.
//! - Output is deterministic: entries sorted by name at each level.
//! - Output is bounded: [`MAX_LIST_ENTRIES`] entries, `max_results` matches (≤
//!   [`MAX_GREP_RESULTS`]), matching lines cut to [`GREP_LINE_CHARS`] characters; every cut is
//!   announced with what to do instead.
//! - `grep` skips binary files (same rule as `read_file`) and files over [`MAX_FILE_BYTES`], and
//!   says how many it skipped.
//! - Paths in the output are workspace-relative with `/` separators, ready to pass to other tools.

use std::io::ErrorKind;
use std::path::Path;

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use regex::RegexBuilder;

use super::read::binary_reason;
use super::{
    DEFAULT_GREP_RESULTS, DEFAULT_LIST_DEPTH, GREP_LINE_CHARS, MAX_FILE_BYTES, MAX_GREP_RESULTS,
    MAX_LIST_DEPTH, MAX_LIST_ENTRIES, ToolError, Workspace,
};

/// Arguments of `list_dir`: a directory (default the root) and a depth (default 2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListArgs {
    pub path: Option<String>,
    pub depth: Option<usize>,
}

/// Arguments of `grep`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrepArgs {
    pub pattern: String,
    /// A file or directory to search (default the root).
    pub path: Option<String>,
    /// Only files matching this glob, e.g. `*.rs` or `src/**/*.ts`.
    pub glob: Option<String>,
    pub case_insensitive: bool,
    pub max_results: Option<usize>,
}

/// A tree of `path`, `depth` levels deep, directories suffixed with `/`, two spaces per level.
pub fn list_dir(ws: &Workspace, args: &ListArgs) -> Result<String, ToolError> {
    let given = args.path.as_deref().unwrap_or(".");
    let (abs, rel) = ws.resolve(given, false)?;
    let meta = std::fs::metadata(&abs).map_err(|e| missing(&e, given))?;
    if !meta.is_dir() {
        return Err(ToolError::Invalid(format!(
            "`{given}` is a file, not a directory; use read_file to read it"
        )));
    }
    let depth = args.depth.unwrap_or(DEFAULT_LIST_DEPTH);
    if depth == 0 || depth > MAX_LIST_DEPTH {
        return Err(ToolError::Invalid(format!("depth must be between 1 and {MAX_LIST_DEPTH}, got {depth}")));
    }
    let header = if rel.is_empty() { "./".to_string() } else { format!("{rel}/") };
    let mut out = vec![header];
    let mut count = 0;
    let mut truncated = false;
    for entry in walker(&abs).max_depth(Some(depth)).build().flatten() {
        if entry.depth() == 0 {
            continue;
        }
        if count == MAX_LIST_ENTRIES {
            truncated = true;
            break;
        }
        count += 1;
        let name = entry.file_name().to_string_lossy();
        let slash = if entry.file_type().is_some_and(|t| t.is_dir()) { "/" } else { "" };
        out.push(format!("{}{name}{slash}", "  ".repeat(entry.depth())));
    }
    if count == 0 {
        out.push("  (empty)".into());
    }
    if truncated {
        out.push(format!(
            "[truncated at {MAX_LIST_ENTRIES} entries: list a subdirectory, or use a smaller depth]"
        ));
    }
    Ok(out.join("\n"))
}

/// Lines matching `pattern` under `path`, as `path:line: text`.
pub fn grep(ws: &Workspace, args: &GrepArgs) -> Result<String, ToolError> {
    if args.pattern.is_empty() {
        return Err(ToolError::Invalid("pattern is empty; give a regular expression to search for".into()));
    }
    let re =
        RegexBuilder::new(&args.pattern).case_insensitive(args.case_insensitive).build().map_err(|e| {
            ToolError::Invalid(format!(
                "invalid regex `{}`: {e}\n(the pattern uses Rust regex syntax; escape special \
                 characters such as ( [ . * + ? {{ with a backslash to match them literally)",
                args.pattern
            ))
        })?;
    let limit = args.max_results.unwrap_or(DEFAULT_GREP_RESULTS);
    if limit == 0 || limit > MAX_GREP_RESULTS {
        return Err(ToolError::Invalid(format!(
            "max_results must be between 1 and {MAX_GREP_RESULTS}, got {limit}"
        )));
    }
    let given = args.path.as_deref().unwrap_or(".");
    let (abs, _) = ws.resolve(given, false)?;
    std::fs::metadata(&abs).map_err(|e| missing(&e, given))?;

    let mut builder = walker(&abs);
    if let Some(glob) = args.glob.as_deref().filter(|g| !g.trim().is_empty()) {
        let bad = |e: ignore::Error| ToolError::Invalid(format!("invalid glob `{glob}`: {e}"));
        let mut ov = OverrideBuilder::new(&abs);
        ov.add(glob).map_err(bad)?;
        builder.overrides(ov.build().map_err(bad)?);
    }

    let mut out = Vec::new();
    let (mut files, mut binary, mut large) = (0usize, 0usize, 0usize);
    let mut hit_limit = false;
    'files: for entry in builder.build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        if entry.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
            large += 1;
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else { continue };
        if binary_reason(&bytes).is_some() {
            binary += 1;
            continue;
        }
        files += 1;
        let text = std::str::from_utf8(&bytes).expect("checked by binary_reason");
        let rel = rel_of(ws.root(), path);
        for (i, line) in text.lines().enumerate() {
            if re.is_match(line) {
                if out.len() == limit {
                    hit_limit = true;
                    break 'files;
                }
                out.push(format!("{rel}:{}: {}", i + 1, cut(line)));
            }
        }
    }

    let mut notes = Vec::new();
    if hit_limit {
        notes.push(format!(
            "[stopped at {limit} matches: narrow the pattern, path or glob, or raise max_results \
             (up to {MAX_GREP_RESULTS})]"
        ));
    }
    if binary > 0 {
        notes.push(format!("[{binary} binary file(s) skipped]"));
    }
    if large > 0 {
        notes.push(format!(
            "[{large} file(s) over {} skipped; read them with read_file and a line range]",
            super::read::human_size(MAX_FILE_BYTES)
        ));
    }
    if out.is_empty() {
        let filter = args.glob.as_deref().map(|g| format!(" matching `{g}`")).unwrap_or_default();
        let case = if args.case_insensitive { "" } else { " (case-sensitive; try case_insensitive)" };
        out.push(format!(
            "no matches for `{}` in `{given}`{filter}: {files} text file(s) searched{case}",
            args.pattern
        ));
    }
    out.extend(notes);
    Ok(out.join("\n"))
}

/// A walker over `root` with the standard ignore rules, sorted by name, never entering `.git`.
fn walker(root: &Path) -> WalkBuilder {
    let mut b = WalkBuilder::new(root);
    b.require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| e.file_name() != ".git");
    b
}

fn rel_of(root: &Path, path: &Path) -> String {
    let inside = path.strip_prefix(root).unwrap_or(path);
    inside.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// `line` without a trailing `\r`, cut to [`GREP_LINE_CHARS`] characters.
fn cut(line: &str) -> String {
    let line = line.trim_end_matches('\r');
    match line.char_indices().nth(GREP_LINE_CHARS) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

fn missing(e: &std::io::Error, given: &str) -> ToolError {
    if e.kind() == ErrorKind::NotFound {
        ToolError::NotFound(format!("`{given}` does not exist; use list_dir to see what is there"))
    } else {
        ToolError::Io(format!("cannot access `{given}`: {e}"))
    }
}
