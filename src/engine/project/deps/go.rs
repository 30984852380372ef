//! Go: `go.mod` (`module`, `require` lines and blocks; `// indirect` requirements are kept apart
//! and never reported unused) and `go.sum`.
//!
//! Invariant: an import path belongs to the required module that is its longest prefix (at a
//! `/` boundary); one with no `.` in its first element is the standard library.

use std::collections::{BTreeMap, BTreeSet};

use super::{Declared, Ecosystem, Lockfile, Manifest};

pub const INDIRECT: &str = "require (indirect)";

pub fn go_mod(path: &str, text: &str) -> Manifest {
    let mut deps = Vec::new();
    let mut own = Vec::new();
    let mut in_require = false;
    for raw in text.lines() {
        let (code, comment) = raw.split_once("//").map_or((raw, ""), |(c, k)| (c, k));
        let line = code.trim();
        let indirect = comment.trim() == "indirect";
        if in_require {
            if line == ")" {
                in_require = false;
                continue;
            }
            push_require(line, indirect, &mut deps);
        } else if let Some(m) = line.strip_prefix("module ") {
            own.push(m.trim().trim_matches('"').to_string());
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest == "(" {
                in_require = true;
            } else {
                push_require(rest, indirect, &mut deps);
            }
        }
    }
    Manifest { ecosystem: Ecosystem::Go, path: path.into(), deps, own, inherited_only: false }
}

fn push_require(line: &str, indirect: bool, out: &mut Vec<Declared>) {
    let mut parts = line.split_whitespace();
    let (Some(module), Some(version)) = (parts.next(), parts.next()) else { return };
    let module = module.trim_matches('"');
    let section = if indirect { INDIRECT } else { "require" };
    out.push(Declared {
        package: module.into(),
        imports: vec![module.into()],
        requirement: version.into(),
        section: section.into(),
    });
}

pub fn go_sum(path: &str, text: &str) -> Lockfile {
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        if let (Some(m), Some(v)) = (parts.next(), parts.next()) {
            let v = v.strip_suffix("/go.mod").unwrap_or(v);
            versions.entry(m.into()).or_default().insert(v.into());
        }
    }
    Lockfile { ecosystem: Ecosystem::Go, path: path.into(), versions }
}

/// Whether `import` is in the standard library (`fmt`, `net/http`).
pub fn is_std(import: &str) -> bool {
    !import.split('/').next().unwrap_or("").contains('.')
}

/// Whether `import` is `module` or a package inside it.
pub fn in_module(import: &str, module: &str) -> bool {
    import == module || import.strip_prefix(module).is_some_and(|r| r.starts_with('/'))
}

/// The module to require for an import nobody declares: `host/owner/repo` for the hosts that
/// work that way, else the path itself.
pub fn module_for(import: &str) -> String {
    let parts: Vec<&str> = import.split('/').collect();
    if matches!(parts[0], "github.com" | "gitlab.com" | "bitbucket.org") && parts.len() > 3 {
        return parts[..3].join("/");
    }
    import.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_requires_and_sums() {
        let m = go_mod(
            "go.mod",
            "module example.com/app\n\ngo 1.22\n\nrequire github.com/a/b v1.2.0\nrequire (\n\tgithub.com/c/d v0.3.1 // indirect\n\tgolang.org/x/text v0.14.0\n)\n",
        );
        let got: Vec<_> =
            m.deps.iter().map(|d| (d.package.as_str(), d.requirement.as_str(), d.section.as_str())).collect();
        assert_eq!(
            got,
            [
                ("github.com/a/b", "v1.2.0", "require"),
                ("github.com/c/d", "v0.3.1", INDIRECT),
                ("golang.org/x/text", "v0.14.0", "require")
            ]
        );
        assert_eq!(m.own, ["example.com/app"]);
        let s = go_sum(
            "go.sum",
            "github.com/a/b v1.2.0 h1:x=\ngithub.com/a/b v1.2.0/go.mod h1:y=\ngithub.com/a/b v1.1.0/go.mod h1:z=\n",
        );
        assert_eq!(s.versions["github.com/a/b"].iter().collect::<Vec<_>>(), ["v1.1.0", "v1.2.0"]);
        assert!(is_std("net/http") && !is_std("golang.org/x/text"));
        assert!(
            in_module("github.com/a/b/c", "github.com/a/b")
                && !in_module("github.com/a/bc", "github.com/a/b")
        );
        assert_eq!(module_for("github.com/a/b/pkg/x"), "github.com/a/b");
    }
}
