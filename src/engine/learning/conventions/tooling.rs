//! Formatter and linter configs present in the repository → "format with X before proposing".
//!
//! The evidence is the config file itself (1 of 1): a project that configured a tool means it,
//! so the share threshold does not apply here. A tool configured inside a shared file
//! (`[tool.ruff]` in `pyproject.toml`, `"prettier"` in `package.json`) counts when its section is
//! there.

use super::{Rule, RuleCategory, SourceFile, evidence, ours as counts};

struct Tool {
    id: &'static str,
    text: &'static str,
    /// File names (at any depth) that configure it.
    files: &'static [&'static str],
    /// Or: a file name and a text it contains.
    section: Option<(&'static str, &'static str)>,
}

const TOOLS: &[Tool] = &[
    Tool {
        id: "tooling-rustfmt",
        text: "Format Rust with `cargo fmt` (the repository's rustfmt.toml) before proposing a change.",
        files: &["rustfmt.toml", ".rustfmt.toml"],
        section: None,
    },
    Tool {
        id: "tooling-clippy",
        text: "Keep `cargo clippy` clean (the repository's clippy.toml).",
        files: &["clippy.toml", ".clippy.toml"],
        section: None,
    },
    Tool {
        id: "tooling-editorconfig",
        text: "Follow `.editorconfig` (indentation, line endings, final newline).",
        files: &[".editorconfig"],
        section: None,
    },
    Tool {
        id: "tooling-ruff",
        text: "Lint and format Python with ruff (`ruff check`, `ruff format`) before proposing a change.",
        files: &["ruff.toml", ".ruff.toml"],
        section: Some(("pyproject.toml", "[tool.ruff")),
    },
    Tool {
        id: "tooling-black",
        text: "Format Python with black before proposing a change.",
        files: &[],
        section: Some(("pyproject.toml", "[tool.black")),
    },
    Tool {
        id: "tooling-prettier",
        text: "Format with prettier (the repository's config) before proposing a change.",
        files: &[
            ".prettierrc",
            ".prettierrc.json",
            ".prettierrc.yaml",
            ".prettierrc.yml",
            ".prettierrc.js",
            ".prettierrc.cjs",
            ".prettierrc.mjs",
            ".prettierrc.toml",
            "prettier.config.js",
            "prettier.config.cjs",
            "prettier.config.mjs",
        ],
        section: Some(("package.json", "\"prettier\"")),
    },
    Tool {
        id: "tooling-eslint",
        text: "Keep eslint clean (the repository's config).",
        files: &[
            "eslint.config.js",
            "eslint.config.mjs",
            "eslint.config.cjs",
            "eslint.config.ts",
            ".eslintrc",
            ".eslintrc.js",
            ".eslintrc.cjs",
            ".eslintrc.json",
            ".eslintrc.yml",
            ".eslintrc.yaml",
        ],
        section: Some(("package.json", "\"eslintConfig\"")),
    },
    Tool {
        id: "tooling-golangci",
        text: "Keep golangci-lint clean (the repository's config) and format Go with gofmt.",
        files: &[".golangci.yml", ".golangci.yaml", ".golangci.toml"],
        section: None,
    },
];

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub fn mine(paths: &[String], files: &[SourceFile]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for tool in TOOLS {
        let by_file = paths.iter().filter(|p| counts(p)).find(|p| tool.files.contains(&file_name(p)));
        let by_section = tool.section.and_then(|(name, needle)| {
            files.iter().find(|f| counts(&f.path) && file_name(&f.path) == name && f.text.contains(needle))
        });
        let example = match (by_file, by_section) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => format!("{} ({})", f.path, tool.section.map_or("", |s| s.1)),
            (None, None) => continue,
        };
        rules.push(Rule {
            id: tool.id.into(),
            category: RuleCategory::Tooling,
            text: tool.text.into(),
            evidence: evidence(1, 1, [example]),
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_present_become_rules_and_vendored_ones_do_not() {
        let paths: Vec<String> =
            ["rustfmt.toml", "web/.prettierrc", "node_modules/x/.eslintrc", "pyproject.toml", "src/lib.rs"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let files = vec![SourceFile {
            path: "pyproject.toml".into(),
            text: "[tool.ruff]\nline-length = 100\n".into(),
        }];
        let ids: Vec<String> = mine(&paths, &files).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["tooling-rustfmt", "tooling-ruff", "tooling-prettier"]);
        let ruff = mine(&paths, &files).into_iter().find(|r| r.id == "tooling-ruff").unwrap();
        assert_eq!(ruff.evidence.examples, ["pyproject.toml ([tool.ruff)"]);
    }
}
