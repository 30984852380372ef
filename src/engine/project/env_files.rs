//! Where environment variables are defined: `.env`-style files (`.env`, `.env.local`, …), the
//! example file that documents them (`.env.example`, `.env.sample`, `.env.template`,
//! `.env.dist`, `example.env`), and deployment files — docker-compose `environment:`,
//! Dockerfile `ENV`, and Kubernetes-style `env: [{name: …}]` lists in any YAML file.
//!
//! Invariant: only names are kept. A value of any of these files is never stored, so no
//! report or proposal built from here can show one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::walk::{self, RepoFile};

/// Variable names by the file that defines them.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    /// The example files and their names, in path order.
    pub examples: BTreeMap<String, BTreeSet<String>>,
    /// `.env`-style files (examples excluded).
    pub dotenv: BTreeMap<String, BTreeSet<String>>,
    /// Deployment files.
    pub deploy: BTreeMap<String, BTreeSet<String>>,
    pub problems: Vec<String>,
}

impl Definitions {
    /// Every file that defines `name`.
    pub fn defined_in(&self, name: &str) -> Vec<String> {
        [&self.examples, &self.dotenv, &self.deploy]
            .iter()
            .flat_map(|m| m.iter().filter(|(_, names)| names.contains(name)).map(|(f, _)| f.clone()))
            .collect()
    }
}

pub fn is_example(name: &str) -> bool {
    matches!(name, ".env.example" | ".env.sample" | ".env.template" | ".env.dist" | "example.env")
}

fn is_dotenv(name: &str) -> bool {
    name == ".env" || name.starts_with(".env.") || name.ends_with(".env")
}

fn is_dockerfile(name: &str) -> bool {
    name == "Dockerfile" || name.starts_with("Dockerfile.") || name.ends_with(".Dockerfile")
}

pub fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The names a `.env`-style file defines (`KEY=value`, `export KEY=value`; comments skipped).
pub fn dotenv_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, _) = l.split_once('=')?;
            let k = k.trim();
            (!l.starts_with('#') && valid_name(k)).then(|| k.to_string())
        })
        .collect()
}

/// `ENV` names of a Dockerfile (`ENV A=1 B=2`, `ENV A 1`; continued lines joined).
pub fn dockerfile_names(text: &str) -> BTreeSet<String> {
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    let mut out = BTreeSet::new();
    for line in joined.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("ENV")) {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        if rest.first().is_some_and(|w| !w.contains('=')) {
            if valid_name(rest[0]) {
                out.insert(rest[0].to_string());
            }
            continue;
        }
        for w in rest {
            if let Some((k, _)) = w.split_once('=')
                && valid_name(k)
            {
                out.insert(k.to_string());
            }
        }
    }
    out
}

/// Names under compose `environment:` (list or mapping) and k8s `env:` lists, anywhere in `doc`.
pub fn yaml_names(doc: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match doc {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("environment", Value::Object(vars)) => {
                        out.extend(vars.keys().filter(|n| valid_name(n)).cloned());
                    }
                    ("environment", Value::Array(items)) => {
                        for item in items.iter().filter_map(Value::as_str) {
                            let name = item.split('=').next().unwrap_or("");
                            if valid_name(name) {
                                out.insert(name.to_string());
                            }
                        }
                    }
                    ("env", Value::Array(items)) => {
                        for item in items {
                            if let Some(name) =
                                item.get("name").and_then(Value::as_str).filter(|n| valid_name(n))
                            {
                                out.insert(name.to_string());
                            }
                        }
                    }
                    _ => yaml_names(v, out, depth + 1),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| yaml_names(i, out, depth + 1)),
        _ => {}
    }
}

/// The `.env`-style files at the root and beside each example file that the walk left out
/// (they are git-ignored, as they should be, but they are what the code runs with).
pub fn ignored_dotenv(root: &std::path::Path, files: &[RepoFile]) -> Vec<RepoFile> {
    let known: BTreeSet<&str> = files.iter().map(|f| f.rel.as_str()).collect();
    let mut dirs: BTreeSet<&str> =
        files.iter().filter(|f| is_example(walk::file_name(&f.rel))).map(|f| walk::dir_of(&f.rel)).collect();
    dirs.insert("");
    let mut out = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            let rel = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
            if is_dotenv(&name)
                && !known.contains(rel.as_str())
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                out.push(RepoFile { rel, abs: entry.path() });
            }
        }
    }
    out
}

/// Reads every definition among `files`.
pub fn definitions(files: &[RepoFile]) -> Definitions {
    let mut d = Definitions::default();
    for f in files {
        let name = walk::file_name(&f.rel);
        let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        if !(is_dotenv(name) || is_dockerfile(name) || yaml) {
            continue;
        }
        let Some(text) = walk::read(&f.abs) else {
            d.problems.push(format!("{}: unreadable, too large or not UTF-8", f.rel));
            continue;
        };
        if is_example(name) {
            d.examples.insert(f.rel.clone(), dotenv_names(&text));
        } else if is_dotenv(name) {
            d.dotenv.insert(f.rel.clone(), dotenv_names(&text));
        } else if is_dockerfile(name) {
            let names = dockerfile_names(&text);
            if !names.is_empty() {
                d.deploy.insert(f.rel.clone(), names);
            }
        } else if text.contains("environment:") || text.contains("env:") {
            match super::yaml::load(&text) {
                Ok(docs) => {
                    let mut names = BTreeSet::new();
                    docs.iter().for_each(|doc| yaml_names(doc, &mut names, 0));
                    if !names.is_empty() {
                        d.deploy.insert(f.rel.clone(), names);
                    }
                }
                Err(e) => d.problems.push(format!("{}: {e}", f.rel)),
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_each_kind_of_file() {
        let names = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
        assert_eq!(names(dotenv_names("# c\nexport A=1\nB = two\n C=\nnot a line\n1X=2\n")), ["A", "B", "C"]);
        assert_eq!(
            names(dockerfile_names("FROM x\nENV A=1 B=\"two\"\nenv C 3\nENV D=1 \\\n    E=2\n")),
            ["A", "B", "C", "D", "E"]
        );
        let compose = super::super::yaml::load(
            "services:\n  web:\n    environment:\n      - PORT=80\n      - DEBUG\n  db:\n    environment:\n      PGPASS: x\n",
        )
        .unwrap();
        let k8s = super::super::yaml::load(
            "spec:\n  containers:\n    - name: app\n      env:\n        - name: REDIS_URL\n          value: x\n",
        )
        .unwrap();
        let mut out = BTreeSet::new();
        yaml_names(&compose[0], &mut out, 0);
        yaml_names(&k8s[0], &mut out, 0);
        assert_eq!(names(out), ["DEBUG", "PGPASS", "PORT", "REDIS_URL"]);
    }
}
