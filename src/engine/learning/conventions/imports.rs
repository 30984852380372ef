//! Import style, where it is cheap to tell: Python imports of the project's own packages,
//! relative (`from .x import y`) versus absolute (`from pkg.x import y`).
//!
//! The project's packages are the top directories (at the root or under `src/`) that hold an
//! `__init__.py`; imports of anything else (the standard library, dependencies) are not counted.

use std::collections::BTreeSet;

use super::{Rule, RuleCategory, SourceFile, evidence, strong};

pub fn mine(files: &[SourceFile]) -> Vec<Rule> {
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
    fn relative_imports() {
        let text = "from .db import open_db\nfrom ..util import x\n";
        let mut files = vec![file("src/app/__init__.py", "")];
        files.extend((0..3).map(|i| file(&format!("src/app/m{i}.py"), text)));
        assert!(mine(&files)[0].text.contains("relatively"));
    }
}
