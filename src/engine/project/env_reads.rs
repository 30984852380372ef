//! The environment variables the code reads, found in the syntax tree of each file (the
//! grammars and per-thread parsers of `engine::grammars`, as the graph uses them):
//! Rust `std::env::var`/`var_os`, `env!`, `option_env!`; Python `os.environ[…]`,
//! `os.environ.get`, `os.getenv`; JavaScript/TypeScript `process.env.X`, `process.env["X"]`,
//! `import.meta.env.X`; Go `os.Getenv`, `os.LookupEnv`.
//!
//! Invariant: only literal names count (`[A-Za-z_][A-Za-z0-9_]*`); a name built at run time
//! cannot be checked and is not guessed.

use rayon::prelude::*;
use tree_sitter::Node;

use super::walk::{self, RepoFile};
use crate::engine::grammars::{self, Grammar, Language};

/// One read of a variable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvRead {
    pub name: String,
    pub file: String,
    pub line: u32,
}

/// Every literal read in the code files among `files`, sorted by name, file and line.
pub fn reads(files: &[RepoFile]) -> Vec<EnvRead> {
    let mut out: Vec<EnvRead> = files
        .par_iter()
        .filter_map(|f| Language::from_path(&f.rel).map(|l| (f, l)))
        .flat_map_iter(|(f, lang)| {
            walk::read(&f.abs).map(|src| reads_in(lang, &f.rel, &src)).unwrap_or_default()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The reads in one file's source.
pub fn reads_in(lang: Language, file: &str, src: &str) -> Vec<EnvRead> {
    let Some(tree) = grammars::parse(Grammar::Code(lang), src) else { return Vec::new() };
    let mut out = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        if let Some(name) = read_at(lang, node, src) {
            out.push(EnvRead { name, file: file.to_string(), line: node.start_position().row as u32 + 1 });
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    out
}

fn text<'a>(node: Node, src: &'a str) -> &'a str {
    node.utf8_text(src.as_bytes()).unwrap_or("")
}

/// `text` without whitespace (`os . environ` is `os.environ`).
fn compact(node: Node, src: &str) -> String {
    text(node, src).chars().filter(|c| !c.is_whitespace()).collect()
}

/// A string literal's value when it is a plain variable name.
fn literal_name(node: Node, src: &str) -> Option<String> {
    let t = text(node, src).trim_start_matches(['r', 'b', 'u', 'R', 'B', 'U']);
    let q = t.chars().next().filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let inner = t.strip_prefix(q)?.strip_suffix(q)?;
    let valid = inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| inner.to_string())
}

fn first_arg<'a>(call: Node<'a>) -> Option<Node<'a>> {
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    args.named_children(&mut c).next()
}

fn read_at(lang: Language, node: Node, src: &str) -> Option<String> {
    match (lang, node.kind()) {
        (Language::Rust, "call_expression") => {
            let f = compact(node.child_by_field_name("function")?, src);
            let hit = ["env::var", "env::var_os"].iter().any(|n| f == *n || f.ends_with(&format!("::{n}")));
            hit.then(|| literal_name(first_arg(node)?, src)).flatten()
        }
        (Language::Rust, "macro_invocation") => {
            let m = compact(node.child_by_field_name("macro")?, src);
            if !matches!(m.as_str(), "env" | "option_env" | "std::env" | "core::env" | "std::option_env") {
                return None;
            }
            let mut c = node.walk();
            let tokens = node.named_children(&mut c).find(|n| n.kind() == "token_tree")?;
            let mut c = tokens.walk();
            let first = tokens.named_children(&mut c).next()?;
            (first.kind() == "string_literal").then(|| literal_name(first, src)).flatten()
        }
        (Language::Python, "call") => {
            let f = compact(node.child_by_field_name("function")?, src);
            let hit = matches!(
                f.as_str(),
                "os.getenv" | "getenv" | "os.environ.get" | "environ.get" | "os.environ.setdefault"
            );
            hit.then(|| literal_name(first_arg(node)?, src)).flatten()
        }
        (Language::Python, "subscript") => {
            let v = compact(node.child_by_field_name("value")?, src);
            if !matches!(v.as_str(), "os.environ" | "environ") {
                return None;
            }
            literal_name(node.child_by_field_name("subscript")?, src)
        }
        (Language::TypeScript | Language::Tsx | Language::JavaScript, "member_expression") => {
            let o = compact(node.child_by_field_name("object")?, src);
            let p = node.child_by_field_name("property")?;
            let env = matches!(o.as_str(), "process.env" | "import.meta.env");
            (env && p.kind() == "property_identifier").then(|| text(p, src).to_string())
        }
        (Language::TypeScript | Language::Tsx | Language::JavaScript, "subscript_expression") => {
            let o = compact(node.child_by_field_name("object")?, src);
            if !matches!(o.as_str(), "process.env" | "import.meta.env") {
                return None;
            }
            literal_name(node.child_by_field_name("index")?, src)
        }
        (Language::Go, "call_expression") => {
            let f = compact(node.child_by_field_name("function")?, src);
            matches!(f.as_str(), "os.Getenv" | "os.LookupEnv")
                .then(|| literal_name(first_arg(node)?, src))
                .flatten()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lang: Language, src: &str) -> Vec<(String, u32)> {
        reads_in(lang, "f", src).into_iter().map(|r| (r.name, r.line)).collect()
    }

    #[test]
    fn literal_reads_in_each_language() {
        assert_eq!(
            names(
                Language::Rust,
                "fn main() {\n let a = std::env::var(\"DATABASE_URL\");\n let b = env::var_os(\"B\");\n let v = env!(\"CARGO_PKG_VERSION\");\n let o = option_env!(\"BUILD\");\n let n = env::var(name);\n}\n"
            ),
            [
                ("DATABASE_URL".into(), 2),
                ("B".into(), 3),
                ("CARGO_PKG_VERSION".into(), 4),
                ("BUILD".into(), 5)
            ]
        );
        assert_eq!(
            names(
                Language::Python,
                "import os\na = os.environ['A']\nb = os.environ.get(\"B\", 'x')\nc = os.getenv('C')\nd = os.environ[k]\n"
            ),
            [("A".into(), 2), ("B".into(), 3), ("C".into(), 4)]
        );
        assert_eq!(
            names(
                Language::TypeScript,
                "const a = process.env.API_URL;\nconst b = process.env['B'] ?? 'x';\nconst c = import.meta.env.VITE_C;\n"
            ),
            [("API_URL".into(), 1), ("B".into(), 2), ("VITE_C".into(), 3)]
        );
        assert_eq!(
            names(
                Language::Go,
                "package main\nimport \"os\"\nfunc main() {\n\ta := os.Getenv(\"PORT\")\n\t_, ok := os.LookupEnv(\"DEBUG\")\n}\n"
            ),
            [("PORT".into(), 4), ("DEBUG".into(), 5)]
        );
    }
}
