//! Import style, where it is cheap to tell: Python imports of the project's own packages,
//! relative (`from .x import y`) versus absolute (`from pkg.x import y`); Rust imports of several
//! items of one module, grouped (`use a::{b, c};`) versus one `use` each.
//!
//! The project's Python packages are the top directories (at the root or under `src/`) that hold
//! an `__init__.py`; imports of anything else (the standard library, dependencies) are not
//! counted. A Rust case is a grouped `use`, or a module two or more single `use`s of one file
//! import from.

use std::collections::{BTreeMap, BTreeSet};

use super::{Rule, RuleCategory, SourceFile, evidence, strong};

pub fn mine(files: &[SourceFile]) -> Vec<Rule> {
    let mut rules = python(files);
    rules.extend(rust_grouping(files));
    rules
}

fn rust_grouping(files: &[SourceFile]) -> Option<Rule> {
    let (mut grouped, mut separate) = (Vec::new(), Vec::new());
    for f in files.iter().filter(|f| f.path.ends_with(".rs")) {
        let mut singles: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, line) in f.text.lines().enumerate() {
            let Some(path) = line.strip_prefix("use ").or_else(|| line.strip_prefix("pub use ")) else {
                continue;
            };
            let path = path.trim_end().trim_end_matches(';');
            if path.contains('{') {
                grouped.push(format!("{}:{}", f.path, i + 1));
            } else if let Some((parent, _)) = path.rsplit_once("::") {
                singles.entry(parent).or_default().push(i + 1);
            }
        }
        for lines in singles.values().filter(|l| l.len() >= 2) {
            separate.push(format!("{}:{}", f.path, lines[0]));
        }
    }
    let total = grouped.len() + separate.len();
    let (text, agree) = if grouped.len() >= separate.len() {
        ("Group Rust imports from one module in one `use` (`use a::{b, c};`).", grouped)
    } else {
        ("Import one Rust item per `use` line; do not group them in braces.", separate)
    };
    strong(agree.len(), total).then(|| Rule {
        id: "imports-rust-grouping".into(),
        category: RuleCategory::Imports,
        text: text.into(),
        evidence: evidence(agree.len(), total, agree),
    })
}

fn python(files: &[SourceFile]) -> Vec<Rule> {
    let packages: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| {
            let dir = f.path.strip_suffix("/__init__.py")?;
            let dir = dir.strip_prefix("src/").unwrap_or(dir);
            (!dir.contains('/')).then_some(dir)
        })
        .collect();
    let (mut relative, mut absolute) = (Vec::new(), Vec::new());
    for f in files.iter().filter(|f| f.path.ends_with(".py")) {
        for (i, line) in f.text.lines().enumerate() {
            let at = format!("{}:{}", f.path, i + 1);
            let module = if let Some(rest) = line.strip_prefix("from ") {
                rest.split_whitespace().next().unwrap_or("")
            } else if let Some(rest) = line.strip_prefix("import ") {
                rest.split([' ', ',']).next().unwrap_or("")
            } else {
                continue;
            };
            if module.starts_with('.') {
                relative.push(at);
            } else if packages.contains(module.split('.').next().unwrap_or("")) {
                absolute.push(at);
            }
        }
    }
    let total = relative.len() + absolute.len();
    let (text, agree) = if absolute.len() >= relative.len() {
        (
            "Import the project's own Python modules absolutely (`from pkg.mod import x`), not relatively.",
            absolute,
        )
    } else {
        (
            "Import the project's own Python modules relatively (`from .mod import x`) within a package.",
            relative,
        )
    };
    if !strong(agree.len(), total) {
        return Vec::new();
    }
    vec![Rule {
        id: "imports-python".into(),
        category: RuleCategory::Imports,
        text: text.into(),
        evidence: evidence(agree.len(), total, agree),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.into(), text: text.into() }
    }

    #[test]
    fn absolute_project_imports_and_stdlib_ignored() {
        let text = "import os\nfrom typing import Any\nfrom app.db import open_db\nimport app.util\n";
        let mut files = vec![file("app/__init__.py", "")];
        files.extend((0..3).map(|i| file(&format!("app/m{i}.py"), text)));
        let rules = mine(&files);
        assert_eq!(rules.len(), 1);
        assert!(rules[0].text.contains("absolutely"));
        assert_eq!((rules[0].evidence.count, rules[0].evidence.total), (6, 6));
    }

    #[test]
    fn grouped_rust_imports() {
        let text = "use std::{fs, io};\nuse crate::a::{b, c};\nuse serde::Serialize;\n";
        let files: Vec<_> = (0..3).map(|i| file(&format!("src/m{i}.rs"), text)).collect();
        let rules = mine(&files);
        let rule = rules.iter().find(|r| r.id == "imports-rust-grouping").expect("grouping rule");
        assert_eq!((rule.evidence.count, rule.evidence.total), (6, 6), "a lone single use is no case");
        assert!(rule.text.starts_with("Group"));
        let split = "use std::fs;\nuse std::io;\nuse a::b;\nuse a::c;\n";
        let files: Vec<_> = (0..3).map(|i| file(&format!("src/m{i}.rs"), split)).collect();
        assert!(mine(&files)[0].text.starts_with("Import one Rust item per"));
    }

    #[test]
    fn relative_imports() {
        let text = "from .db import open_db\nfrom ..util import x\n";
        let mut files = vec![file("src/app/__init__.py", "")];
        files.extend((0..3).map(|i| file(&format!("src/app/m{i}.py"), text)));
        assert!(mine(&files)[0].text.contains("relatively"));
    }
}
