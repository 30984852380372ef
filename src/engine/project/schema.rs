//! JSON Schema validation of the repository's JSON, YAML and TOML files, where a schema is
//! declared: by the file (`"$schema"` at the top, or YAML's `# yaml-language-server:
//! $schema=…` comment) or by `[project_config] schemas = { "GLOB" = "SCHEMA" }` in kv1nt's
//! config ([`ProjectConfigSettings`]). Validation is the `jsonschema` crate's, built without any
//! resolver: a schema is a local file, never fetched.
//!
//! Invariants: a schema must lie inside the repository (`..` or a link leading out is refused);
//! a URL schema is skipped, not fetched; an error names the file, the JSON pointer into it
//! (`/services/web/port`) and the reason with the offending value masked — a value of a
//! configuration file may be a secret.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::walk::{self, RepoFile};

/// `[project_config]`: which schema validates which files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectConfigSettings {
    /// Glob (relative to the repository root) → schema path (relative to the root).
    pub schemas: BTreeMap<String, String>,
}

/// One file checked against its schema.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Validation {
    pub file: String,
    pub schema: String,
    pub errors: Vec<SchemaError>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchemaError {
    /// JSON pointer into the file (`/` for the whole document).
    pub path: String,
    pub reason: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Json,
    Yaml,
    Toml,
}

fn format_of(rel: &str) -> Option<Format> {
    let ext = rel.rsplit_once('.')?.1;
    Some(match ext {
        "json" => Format::Json,
        "yaml" | "yml" => Format::Yaml,
        "toml" => Format::Toml,
        _ => return None,
    })
}

fn documents(format: Format, text: &str) -> Result<Vec<Value>, String> {
    match format {
        Format::Json => {
            serde_json::from_str(text).map(|v| vec![v]).map_err(|e| format!("not valid JSON: {e}"))
        }
        Format::Yaml => super::yaml::load(text),
        Format::Toml => toml::from_str::<Value>(text)
            .map(|v| vec![v])
            .map_err(|e| format!("not valid TOML: {}", e.message())),
    }
}

/// The schema the file itself names, relative to the file's directory (or a URL).
fn declared(format: Format, text: &str, docs: &[Value]) -> Option<String> {
    if format == Format::Yaml {
        for line in text.lines().take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            if let Some((_, s)) = line.split_once("$schema=") {
                return Some(s.trim().to_string());
            }
        }
    }
    docs.first()?.get("$schema")?.as_str().map(str::to_string)
}

/// Validates every file with a declared schema; problems (unreadable files, schemas outside
/// the repository or invalid) come back as lines.
pub fn validate(
    root: &Path,
    files: &[RepoFile],
    settings: &ProjectConfigSettings,
) -> (Vec<Validation>, Vec<String>) {
    let mut problems = Vec::new();
    let mut mapping: Vec<(globset::GlobMatcher, &String)> = Vec::new();
    for (glob, schema) in &settings.schemas {
        match globset::Glob::new(glob) {
            Ok(g) => mapping.push((g.compile_matcher(), schema)),
            Err(e) => problems.push(format!("[project_config] schemas: `{glob}` is not a glob: {e}")),
        }
    }
    let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut cache: BTreeMap<String, Result<jsonschema::Validator, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for f in files {
        let Some(format) = format_of(&f.rel) else { continue };
        let mapped = mapping.iter().find(|(m, _)| m.is_match(&f.rel)).map(|(_, s)| (*s).clone());
        let Some(text) = walk::read(&f.abs) else { continue };
        let docs = match documents(format, &text) {
            Ok(d) => d,
            Err(e) => {
                if mapped.is_some() {
                    problems.push(format!("{}: {e}", f.rel));
                }
                continue;
            }
        };
        let schema_rel = match mapped {
            Some(s) => s,
            None => match declared(format, &text, &docs) {
                Some(s) if s.contains("://") => continue,
                Some(s) => {
                    let dir = walk::dir_of(&f.rel);
                    if dir.is_empty() { s } else { format!("{dir}/{s}") }
                }
                None => continue,
            },
        };
        let schema_rel = normalise(&schema_rel);
        let validator =
            cache.entry(schema_rel.clone()).or_insert_with(|| load_schema(&canonical_root, &schema_rel));
        let validator = match validator {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{}: {e}", f.rel));
                continue;
            }
        };
        let mut errors = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            for e in validator.iter_errors(doc) {
                let path = e.instance_path().as_str();
                let reason = e.masked().to_string();
                let reason = if docs.len() > 1 { format!("document {}: {reason}", i + 1) } else { reason };
                errors.push(SchemaError {
                    path: if path.is_empty() { "/".into() } else { path.to_string() },
                    reason,
                });
            }
        }
        out.push(Validation { file: f.rel.clone(), schema: schema_rel, errors });
    }
    (out, problems)
}

/// `a/./b/../c` → `a/c` (a leading `..` is kept, and refused when loading).
fn normalise(rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn load_schema(root: &Path, rel: &str) -> Result<jsonschema::Validator, String> {
    let outside = || format!("schema {rel} is outside the repository; not read");
    if rel.starts_with("..") || Path::new(rel).is_absolute() {
        return Err(outside());
    }
    let path = std::fs::canonicalize(root.join(rel)).map_err(|_| format!("schema {rel} does not exist"))?;
    if !path.starts_with(root) {
        return Err(outside());
    }
    let text =
        walk::read(&path).ok_or_else(|| format!("schema {rel} is unreadable, too large or not UTF-8"))?;
    let format = format_of(rel).unwrap_or(Format::Json);
    let schema = documents(format, &text)
        .map_err(|e| format!("schema {rel}: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| format!("schema {rel} is empty"))?;
    jsonschema::validator_for(&schema)
        .map_err(|e| format!("schema {rel} is not a usable JSON Schema: {}", e.masked()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_declarations_are_found() {
        assert_eq!(normalise("deploy/./../schemas/a.json"), "schemas/a.json");
        assert_eq!(normalise("../x.json"), "../x.json");
        let yaml = "# yaml-language-server: $schema=../schemas/app.json\nport: 1\n";
        assert_eq!(declared(Format::Yaml, yaml, &[]).as_deref(), Some("../schemas/app.json"));
        let json: Value = serde_json::json!({"$schema": "./s.json"});
        assert_eq!(declared(Format::Json, "", &[json]).as_deref(), Some("./s.json"));
    }
}
