//! The risk rules from `assets/risk_paths.toml`, compiled once: path globs, source trees,
//! command regexes, safe commands, secret patterns and placeholder words.
//!
//! Invariants: the data is compiled on first use and a broken rule file panics with the rule's
//! name (the unit tests compile it); globs are gitignore-like and case-insensitive (compiled by
//! `globset`: a glob without `/` matches a file name at any depth, a glob with `/` is anchored at
//! the root, `*` and `?` stay inside one segment, `**` spans segments); `{cmd}` and `{start}` in
//! command regexes expand to [`START`] (+ [`WRAPPERS`]).

use std::sync::OnceLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;

use crate::engine::approval::types::Risk;

const RULES_TOML: &str = include_str!("../../../../assets/risk_paths.toml");
/// The start of a command: line start or after a separator, then spaces.
const START: &str = r"(?:^|[;&|(\n`]|\$\()\s*";
/// Wrappers, variable assignments and a directory prefix that may precede the program name.
const WRAPPERS: &str = r"(?:(?:sudo|doas|env|command|exec|nohup|time|nice|xargs)(?:\s+-\S+)*\s+)*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*(?:[\w.~/-]*/)?";

#[derive(Deserialize)]
struct RulesFile {
    source_trees: Vec<String>,
    root_source_extensions: Vec<String>,
    path: Vec<PathDef>,
    command: Vec<CommandDef>,
    safe_commands: Vec<String>,
    placeholders: Vec<String>,
    secret: Vec<SecretDef>,
}

#[derive(Deserialize)]
struct PathDef {
    risk: Risk,
    reason: String,
    globs: Vec<String>,
    json_key: Option<String>,
}

#[derive(Deserialize)]
struct CommandDef {
    id: String,
    risk: Risk,
    reason: String,
    regex: String,
    #[serde(default)]
    always: bool,
}

#[derive(Deserialize)]
struct SecretDef {
    kind: String,
    regex: String,
    #[serde(default)]
    require_digit: bool,
}

pub(super) struct PathRule {
    pub(super) risk: Risk,
    pub(super) reason: String,
    pub(super) globs: GlobSet,
    pub(super) json_key: Option<String>,
}

pub(super) struct CommandRule {
    pub(super) risk: Risk,
    pub(super) reason: String,
    pub(super) regex: Regex,
    /// Reported even when its match lies inside a more severe rule's match.
    pub(super) always: bool,
}

pub(super) struct SecretRule {
    pub(super) kind: String,
    pub(super) regex: Regex,
    pub(super) require_digit: bool,
}

pub(super) struct Rules {
    pub(super) source_trees: GlobSet,
    pub(super) root_exts: Vec<String>,
    pub(super) paths: Vec<PathRule>,
    pub(super) commands: Vec<CommandRule>,
    pub(super) safe: Vec<Regex>,
    pub(super) placeholders: Vec<String>,
    pub(super) secrets: Vec<SecretRule>,
}

pub(super) fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::parse(RULES_TOML).unwrap_or_else(|e| panic!("assets/risk_paths.toml: {e}")))
}

impl Rules {
    fn parse(toml_text: &str) -> Result<Rules, String> {
        let file: RulesFile = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let re = |what: &str, pattern: &str| Regex::new(pattern).map_err(|e| format!("{what}: {e}"));
        let cmd = format!("{START}{WRAPPERS}");
        Ok(Rules {
            source_trees: glob_set(&file.source_trees).map_err(|e| format!("source_trees: {e}"))?,
            root_exts: file.root_source_extensions,
            paths: (file.path.into_iter())
                .map(|p| {
                    let globs = glob_set(&p.globs).map_err(|e| format!("{}: {e}", p.reason))?;
                    Ok(PathRule { risk: p.risk, reason: p.reason, globs, json_key: p.json_key })
                })
                .collect::<Result<_, String>>()?,
            commands: (file.command.into_iter())
                .map(|c| {
                    let regex = re(&c.id, &c.regex.replace("{cmd}", &cmd).replace("{start}", START))?;
                    Ok(CommandRule { risk: c.risk, reason: c.reason, regex, always: c.always })
                })
                .collect::<Result<_, String>>()?,
            safe: file
                .safe_commands
                .iter()
                .map(|s| re("safe_commands", &format!("^(?:{s})$")))
                .collect::<Result<_, _>>()?,
            placeholders: file.placeholders,
            secrets: (file.secret.into_iter())
                .map(|s| {
                    Ok(SecretRule {
                        regex: re(&s.kind, &s.regex)?,
                        kind: s.kind,
                        require_digit: s.require_digit,
                    })
                })
                .collect::<Result<_, String>>()?,
        })
    }

    pub(super) fn is_source(&self, rel: &str) -> bool {
        let root_file = |ext: &str| self.root_exts.iter().any(|e| e.eq_ignore_ascii_case(ext));
        self.source_trees.is_match(rel)
            || (!rel.contains('/') && rel.rsplit_once('.').is_some_and(|(_, e)| root_file(e)))
    }

    /// Examples, templates, variable names, URLs and low-variety strings are not secrets.
    pub(super) fn is_placeholder(&self, value: &str) -> bool {
        let lower = value.to_lowercase();
        let mut distinct: Vec<char> = lower.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let identifier = |v: &str, case: fn(&char) -> bool| {
            v.contains(['_', '.', '-']) && v.chars().all(|c| case(&c) || matches!(c, '_' | '.' | '-'))
        };
        distinct.len() < 5
            || self.placeholders.iter().any(|p| lower.contains(p.as_str()))
            || value.contains("://")
            || value.starts_with(['/', '$', '%'])
            || identifier(value, char::is_ascii_lowercase)
            || identifier(value, char::is_ascii_uppercase)
    }
}

/// One case-insensitive set matching any of the gitignore-like `globs` against a whole
/// workspace-relative path: a glob without `/` may match at any depth, a leading `/` anchors.
fn glob_set(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        let anchored = glob.contains('/');
        let glob = glob.trim_start_matches('/');
        let pattern = if anchored { glob.to_string() } else { format!("**/{glob}") };
        set.add(GlobBuilder::new(&pattern).case_insensitive(true).literal_separator(true).build()?);
    }
    set.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_data_compiles() {
        let r = rules();
        assert!(!r.paths.is_empty() && !r.commands.is_empty() && !r.safe.is_empty() && !r.secrets.is_empty());
    }

    #[test]
    fn globs_are_gitignore_like() {
        let m = |glob: &str, path: &str| glob_set(&[glob.to_string()]).unwrap().is_match(path);
        assert!(
            m("Cargo.lock", "Cargo.lock")
                && m("Cargo.lock", "a/b/Cargo.lock")
                && m("Cargo.lock", "cargo.lock")
        );
        assert!(!m("Cargo.lock", "Cargo.lock.bak") && !m("Cargo.lock", "xCargo.lock"));
        assert!(m(".github/workflows/**", ".github/workflows/ci.yml"));
        assert!(!m(".github/workflows/**", "sub/.github/workflows/ci.yml"));
        assert!(m("*.gradle", "app/build.gradle") && !m("*.gradle", "app/build.gradle.bak"));
        assert!(m("crates/*/src/**", "crates/a/src/x/y.rs") && !m("crates/*/src/**", "crates/a/b/src/x.rs"));
        assert!(m("**/.ssh/**", ".ssh/config") && m("**/.ssh/**", "home/u/.ssh/id_rsa"));
        assert!(m(".env.*", ".env.local") && !m(".env.*", "x.env.local") && !m(".env", ".envrc"));
        assert!(m("src/**", "src/a.rs") && !m("src/**", "srcx/a.rs") && !m("src/**", "lib/src/a.rs"));
    }

    #[test]
    fn source_trees_and_root_files() {
        let r = rules();
        assert!(r.is_source("src/a.rs") && r.is_source("main.go") && r.is_source("cmd/x/main.go"));
        assert!(!r.is_source("docs/a.md") && !r.is_source("scripts/x.py") && !r.is_source("README.md"));
    }

    #[test]
    fn placeholders() {
        let r = rules();
        for p in [
            "changeme1234",
            "<your-api-key>",
            "xxxxxxxx",
            "aaaaaaaaaaaa",
            "${TOKEN}",
            "ACCESS_TOKEN",
            "user.password",
        ] {
            assert!(r.is_placeholder(p), "{p}");
        }
        for s in ["hunter2hunter2", "Zq93kfLm20xPw", "correcthorsebattery"] {
            assert!(!r.is_placeholder(s), "{s}");
        }
    }
}
