//! "Add a missing dependency": the new content of the manifest that should declare it — never
//! the install, which needs the network and is the user's own command. The engine proposes the
//! content through the gate (`agent::project`), so the user sees the diff before anything is
//! written.
//!
//! Invariants: the rest of the manifest is kept as written (`toml_edit` for TOML, a text
//! insertion checked by re-parsing for `package.json`, line edits for `go.mod` and
//! requirement files); the version is the lockfile's when it pins one (Go needs one: without
//! it nothing is proposed); a package the manifest already declares is refused.

use serde_json::Value;

use super::{Declarations, DepsReport, Ecosystem, Manifest, python, walk};

/// A proposed manifest edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Addition {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub manifest: String,
    /// What is declared (`serde = "1.0.200"`), for the proposal's summary.
    pub declaration: String,
    /// The manifest's new content.
    pub content: String,
}

/// The manifest edit declaring `name`; `current` reads a manifest's present text.
pub fn plan(
    decl: &Declarations,
    report: &DepsReport,
    name: &str,
    current: &dyn Fn(&str) -> Option<String>,
) -> Result<Addition, String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\'))
    {
        return Err(format!("`{name}` is not a package name"));
    }
    let (eco, manifest, package) = match report.missing.iter().find(|m| m.package == name || m.import == name)
    {
        Some(m) => (m.ecosystem, m.manifest.clone(), m.package.clone()),
        None => {
            let ecos: std::collections::BTreeSet<Ecosystem> =
                decl.manifests.iter().filter(|m| !m.inherited_only).map(|m| m.ecosystem).collect();
            let [eco] = ecos.into_iter().collect::<Vec<_>>()[..] else {
                return Err(format!(
                    "`{name}` is not among the missing dependencies, and the repository has manifests of several ecosystems (or none): see `kv1nt deps`"
                ));
            };
            let m = decl
                .manifests
                .iter()
                .filter(|m| m.ecosystem == eco && !m.inherited_only)
                .min_by_key(|m| {
                    (
                        m.path.matches('/').count(),
                        walk::file_name(&m.path) != "pyproject.toml",
                        m.path.clone(),
                    )
                })
                .ok_or("no manifest")?;
            (eco, m.path.clone(), name.to_string())
        }
    };
    let target: &Manifest = decl
        .manifests
        .iter()
        .find(|m| m.path == manifest)
        .ok_or_else(|| format!("{manifest} is not a manifest"))?;
    let same = |p: &str| {
        if eco == Ecosystem::Python {
            python::normalise(p) == python::normalise(&package)
        } else {
            p == package
        }
    };
    if target.deps.iter().any(|d| same(&d.package)) {
        return Err(format!("{manifest} already declares {package}"));
    }
    let locked = decl
        .lockfiles
        .iter()
        .filter(|l| l.ecosystem == eco)
        .filter_map(|l| {
            let key = if eco == Ecosystem::Python { python::normalise(&package) } else { package.clone() };
            l.versions
                .get(&key)?
                .iter()
                .max_by_key(|v| {
                    super::versions::parse(&format!("={v}"), eco.syntax()).first().map(|c| c.version)
                })
                .cloned()
        })
        .next();
    let text = current(&manifest).ok_or_else(|| format!("{manifest} cannot be read"))?;
    let file = walk::file_name(&manifest);
    let (declaration, content) = match (eco, file) {
        (Ecosystem::Rust, _) => {
            let req = locked.unwrap_or_else(|| "*".into());
            (format!("{package} = \"{req}\""), toml_table_insert(&text, &["dependencies"], &package, &req)?)
        }
        (Ecosystem::Python, "pyproject.toml") => {
            let req = locked.map(|v| format!(">={v}")).unwrap_or_default();
            (format!("{package}{req}"), pyproject_insert(&text, &package, &req)?)
        }
        (Ecosystem::Python, _) => {
            let req = locked.map(|v| format!(">={v}")).unwrap_or_default();
            let mut content = text.clone();
            if !content.is_empty() && !content.ends_with('\n') {
                content.push('\n');
            }
            content.push_str(&format!("{package}{req}\n"));
            (format!("{package}{req}"), content)
        }
        (Ecosystem::Js, _) => {
            let req = locked.map(|v| format!("^{v}")).unwrap_or_else(|| "*".into());
            (format!("\"{package}\": \"{req}\""), package_json_insert(&text, &package, &req)?)
        }
        (Ecosystem::Go, _) => {
            let Some(v) = locked else {
                return Err(format!(
                    "no version of {package} is known here (go.sum has none): run `go get {package}` (it needs the network)"
                ));
            };
            (format!("require {package} {v}"), go_mod_insert(&text, &package, &v))
        }
    };
    Ok(Addition { ecosystem: eco, package, manifest, declaration, content })
}

fn toml_table_insert(text: &str, table: &[&str], key: &str, value: &str) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    let mut item = doc.as_item_mut();
    for part in table {
        let t = item.as_table_like_mut().ok_or("not a table")?;
        if t.get(part).is_none() {
            t.insert(part, toml_edit::Item::Table(toml_edit::Table::new()));
        }
        item = t.get_mut(part).ok_or("not a table")?;
    }
    item.as_table_like_mut()
        .ok_or_else(|| format!("[{}] is not a table", table.join(".")))?
        .insert(key, toml_edit::value(value));
    Ok(doc.to_string())
}

fn pyproject_insert(text: &str, package: &str, req: &str) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    if let Some(project) = doc.get_mut("project").and_then(|p| p.as_table_like_mut()) {
        if project.get("dependencies").is_none() {
            project.insert("dependencies", toml_edit::value(toml_edit::Array::new()));
        }
        let deps = project
            .get_mut("dependencies")
            .and_then(|d| d.as_array_mut())
            .ok_or("[project] dependencies is not an array")?;
        // A one-per-line array stays one per line: the new item takes the last one's indent.
        let prefix =
            deps.iter().last().and_then(|v| v.decor().prefix()).and_then(|p| p.as_str()).map(str::to_string);
        let entry = format!("{package}{req}");
        match prefix.filter(|p| p.contains('\n')) {
            Some(p) => {
                let mut item = toml_edit::Value::from(entry);
                item.decor_mut().set_prefix(p);
                deps.push_formatted(item);
            }
            None => deps.push(entry),
        }
        return Ok(doc.to_string());
    }
    if doc.get("tool").and_then(|t| t.get("poetry")).is_some() {
        let req = if req.is_empty() { "*".to_string() } else { req.to_string() };
        return toml_table_insert(text, &["tool", "poetry", "dependencies"], package, &req);
    }
    Err("pyproject.toml has neither [project] nor [tool.poetry]: add a requirements.txt entry instead".into())
}

/// Inserts into the top-level `"dependencies"` object as written, else rebuilds the JSON.
fn package_json_insert(text: &str, package: &str, req: &str) -> Result<String, String> {
    let mut json: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let entry = format!("{}: {}", Value::from(package), Value::from(req));
    if let Some(open) = top_level_object(text, "dependencies") {
        let indent = text[..open]
            .rsplit('\n')
            .next()
            .unwrap_or("")
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect::<String>();
        let unit = if indent.is_empty() { "  ".to_string() } else { indent.clone() };
        let empty = text[open + 1..].trim_start().starts_with('}');
        let insert = if empty {
            format!("\n{indent}{unit}{entry}\n{indent}")
        } else {
            format!("\n{indent}{unit}{entry},")
        };
        let candidate = format!("{}{insert}{}", &text[..=open], &text[open + 1..]);
        let ok = serde_json::from_str::<Value>(&candidate)
            .ok()
            .and_then(|v| v.get("dependencies")?.get(package).cloned());
        if ok.is_some() {
            return Ok(candidate);
        }
    }
    let obj = json.as_object_mut().ok_or("package.json is not an object")?;
    let deps = obj.entry("dependencies").or_insert_with(|| Value::Object(Default::default()));
    deps.as_object_mut().ok_or("\"dependencies\" is not an object")?.insert(package.into(), Value::from(req));
    Ok(serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n")
}

/// The byte offset of the `{` opening the top-level member `key`'s object.
fn top_level_object(text: &str, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    let mut last_string: Option<(usize, usize)> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                last_string = Some((start, i.min(bytes.len())));
            }
            b'{' | b'[' => {
                if depth == 1
                    && bytes[i] == b'{'
                    && let Some((s, e)) = last_string
                    && text.get(s + 1..e) == Some(key)
                    && text[e + 1..i].trim() == ":"
                {
                    return Some(i);
                }
                depth += 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn go_mod_insert(text: &str, module: &str, version: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(start) = lines.iter().position(|l| l.trim() == "require (")
        && let Some(end) = lines[start..].iter().position(|l| l.trim() == ")")
    {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        out.insert(start + end, format!("\t{module} {version}"));
        return out.join("\n") + "\n";
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("\nrequire {module} {version}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_the_rest_of_the_manifest() {
        let cargo = "[package]\nname = \"a\" # the name\n\n[dependencies]\nserde = \"1\"\n";
        let out = toml_table_insert(cargo, &["dependencies"], "regex", "1.10.2").unwrap();
        assert_eq!(
            out,
            "[package]\nname = \"a\" # the name\n\n[dependencies]\nserde = \"1\"\nregex = \"1.10.2\"\n"
        );
        let pkg = "{\n  \"name\": \"app\",\n  \"scripts\": {\"dependencies\": {}},\n  \"dependencies\": {\n    \"react\": \"^18.2.0\"\n  }\n}\n";
        let out = package_json_insert(pkg, "lodash", "*").unwrap();
        assert_eq!(
            out,
            "{\n  \"name\": \"app\",\n  \"scripts\": {\"dependencies\": {}},\n  \"dependencies\": {\n    \"lodash\": \"*\",\n    \"react\": \"^18.2.0\"\n  }\n}\n"
        );
        let none = package_json_insert("{\"name\": \"x\"}", "ms", "^2.1.3").unwrap();
        assert_eq!(serde_json::from_str::<Value>(&none).unwrap()["dependencies"]["ms"], "^2.1.3");
        let go =
            go_mod_insert("module m\n\nrequire (\n\tgithub.com/a/b v1.0.0\n)\n", "github.com/c/d", "v0.2.0");
        assert_eq!(go, "module m\n\nrequire (\n\tgithub.com/a/b v1.0.0\n\tgithub.com/c/d v0.2.0\n)\n");
        let py = pyproject_insert("[project]\nname = \"x\"\ndependencies = [\"flask\"]\n", "PyYAML", ">=6.0")
            .unwrap();
        assert_eq!(py, "[project]\nname = \"x\"\ndependencies = [\"flask\", \"PyYAML>=6.0\"]\n");
        let lines = pyproject_insert("[project]\ndependencies = [\n    \"flask\",\n]\n", "rich", "").unwrap();
        assert_eq!(lines, "[project]\ndependencies = [\n    \"flask\",\n    \"rich\",\n]\n");
    }
}
