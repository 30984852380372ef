//! What the quality checks say about a proposed change, as the approval dialog shows it: the
//! syntax gate's verdict per file ([`FileSyntax`]). The checking itself is `engine::checks`.
//!
//! Invariant: a verdict blames only errors the change introduced ([`SyntaxVerdict::Broken`]);
//! errors the file already had leave it [`SyntaxVerdict::PreExisting`], and a file kv1nt has no
//! parser for is [`SyntaxVerdict::NotChecked`] — never "ok".

use std::fmt;

/// What is wrong at a place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// Text the grammar cannot place (a tree-sitter ERROR node).
    Unexpected,
    /// A token the grammar expected and did not find (a MISSING node), e.g. `)`.
    Missing(String),
}

/// One syntax error: where (1-based line and column, in characters) and the offending text
/// (one line, shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub text: String,
    pub kind: SyntaxErrorKind,
}

impl fmt::Display for SyntaxError {
    /// "line 3 col 9: unexpected `:`" / "line 4 col 1: missing `)` at `return x`".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} col {}: ", self.line, self.column)?;
        match &self.kind {
            SyntaxErrorKind::Unexpected => write!(f, "unexpected `{}`", self.text),
            SyntaxErrorKind::Missing(token) if self.text.is_empty() => write!(f, "missing `{token}`"),
            SyntaxErrorKind::Missing(token) => write!(f, "missing `{token}` at `{}`", self.text),
        }
    }
}

/// The syntax gate's verdict on one file's new content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxVerdict {
    /// Parses cleanly (`language` as the gate names it: "python", "toml", …).
    Ok { language: String },
    /// The change introduced these errors (the first few; `total` counts them all).
    Broken { language: String, errors: Vec<SyntaxError>, total: usize },
    /// The file has errors, but it had the same ones before the change.
    PreExisting { language: String, count: usize },
    /// No verdict: why ("no parser for .md files", "deleted").
    NotChecked { why: String },
}

impl SyntaxVerdict {
    pub fn is_broken(&self) -> bool {
        matches!(self, SyntaxVerdict::Broken { .. })
    }

    /// "line 3 col 9: unexpected `:` (and 2 more)", for a broken verdict.
    pub fn errors_line(&self) -> Option<String> {
        let SyntaxVerdict::Broken { errors, total, .. } = self else { return None };
        let first = errors.first()?;
        let more = total.saturating_sub(1);
        Some(if more > 0 { format!("{first} (and {more} more)") } else { first.to_string() })
    }
}

/// One file's verdict, for the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSyntax {
    pub path: String,
    pub verdict: SyntaxVerdict,
}

impl FileSyntax {
    /// The dialog's line: `syntax ✓`, `syntax ✗ does not parse: line 3 col 9: …`; the path is
    /// named when the request has several files.
    pub fn line(&self, name_path: bool) -> String {
        let path = if name_path { format!(" {}", self.path) } else { String::new() };
        match &self.verdict {
            SyntaxVerdict::Ok { language } => format!("syntax ✓{path} ({language})"),
            SyntaxVerdict::Broken { .. } => {
                format!("syntax ✗{path} does not parse: {}", self.verdict.errors_line().unwrap_or_default())
            }
            SyntaxVerdict::PreExisting { language, count } => {
                let errors = if *count == 1 { "1 error".to_string() } else { format!("{count} errors") };
                format!("syntax ✓{path} ({language}): no new errors; it already had {errors}")
            }
            SyntaxVerdict::NotChecked { why } => format!("syntax not checked{path}: {why}"),
        }
    }
}

/// The dialog's syntax lines for a request's verdicts (empty: nothing was parsed). One file: its
/// line. Several: every file with errors by name, then the clean and unchecked ones counted.
pub fn syntax_lines(files: &[FileSyntax]) -> Vec<String> {
    if let [only] = files {
        return vec![only.line(false)];
    }
    let mut lines: Vec<String> = files
        .iter()
        .filter(|f| matches!(f.verdict, SyntaxVerdict::Broken { .. } | SyntaxVerdict::PreExisting { .. }))
        .map(|f| f.line(true))
        .collect();
    let ok = files.iter().filter(|f| matches!(f.verdict, SyntaxVerdict::Ok { .. })).count();
    if ok > 0 {
        lines.push(if ok == 1 { "syntax ✓ 1 file".to_string() } else { format!("syntax ✓ {ok} files") });
    }
    let unchecked: Vec<&str> = files
        .iter()
        .filter(|f| matches!(f.verdict, SyntaxVerdict::NotChecked { .. }))
        .map(|f| f.path.as_str())
        .collect();
    if !unchecked.is_empty() {
        let mut named = unchecked.iter().take(4).copied().collect::<Vec<_>>().join(", ");
        if unchecked.len() > 4 {
            named.push_str(&format!(", …{} more", unchecked.len() - 4));
        }
        lines.push(format!("syntax not checked: {named}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let error = SyntaxError { line: 3, column: 9, text: ":".into(), kind: SyntaxErrorKind::Unexpected };
        let broken = SyntaxVerdict::Broken { language: "python".into(), errors: vec![error], total: 3 };
        let file = FileSyntax { path: "a.py".into(), verdict: broken };
        assert_eq!(file.line(false), "syntax ✗ does not parse: line 3 col 9: unexpected `:` (and 2 more)");
        let ok = FileSyntax { path: "b.rs".into(), verdict: SyntaxVerdict::Ok { language: "rust".into() } };
        assert_eq!(ok.line(true), "syntax ✓ b.rs (rust)");
        let missing = SyntaxError {
            line: 1,
            column: 5,
            text: String::new(),
            kind: SyntaxErrorKind::Missing(")".into()),
        };
        assert_eq!(missing.to_string(), "line 1 col 5: missing `)`");
    }

    #[test]
    fn several_files_name_the_broken_ones_and_count_the_rest() {
        let ok =
            |p: &str| FileSyntax { path: p.into(), verdict: SyntaxVerdict::Ok { language: "rust".into() } };
        let error = SyntaxError { line: 2, column: 1, text: "}".into(), kind: SyntaxErrorKind::Unexpected };
        let broken = FileSyntax {
            path: "src/b.rs".into(),
            verdict: SyntaxVerdict::Broken { language: "rust".into(), errors: vec![error], total: 1 },
        };
        let md =
            FileSyntax { path: "README.md".into(), verdict: SyntaxVerdict::NotChecked { why: "x".into() } };
        assert_eq!(
            syntax_lines(&[ok("a.rs"), broken, ok("c.rs"), md]),
            vec![
                "syntax ✗ src/b.rs does not parse: line 2 col 1: unexpected `}`".to_string(),
                "syntax ✓ 2 files".to_string(),
                "syntax not checked: README.md".to_string(),
            ]
        );
        assert_eq!(syntax_lines(&[ok("a.rs")]), vec!["syntax ✓ (rust)".to_string()]);
        assert!(syntax_lines(&[]).is_empty());
    }
}
