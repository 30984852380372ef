//! Code templates (seed §2.2): skeletons with typed parameters that the model fills in against
//! the repository's conventions. A template is a TOML file (`load`): name, description,
//! language, a target path pattern, parameters, a body with placeholders and guidance for the
//! model; `render` substitutes validated values and builds the turn's prompt.
//!
//! [`Catalog::load`] gathers them: built in (`assets/templates/*.toml`, compiled into the
//! binary), then the user's (`<config dir>/kv1nt/templates/*.toml`, which may replace a built-in
//! one of the same name: the user wrote it), then the repository's (`.kv1nt/templates/*.toml`).
//!
//! Invariants: a repository's template is untrusted data — it reaches the model only as the
//! request of a user who picked it by name, is listed as `repository`, and never replaces a
//! built-in or user template of the same name (that file is reported and skipped). A bad file
//! becomes one line in `problems` (file, line, what is wrong) and the others still load;
//! nothing here panics on a file's content, and rendering one is bounded (`render`).

use std::path::Path;

use crate::engine::protocol::{TemplateList, TemplateSource};

pub mod load;
pub mod render;

pub use load::{Template, parse};
pub use render::{Rendered, prompt, render};

/// The built-in templates: (name, file text).
const BUILT_IN: &[(&str, &str)] = &[
    ("axum-handler", include_str!("../../../assets/templates/axum-handler.toml")),
    ("clap-subcommand", include_str!("../../../assets/templates/clap-subcommand.toml")),
    ("dataclass", include_str!("../../../assets/templates/dataclass.toml")),
    ("fastapi-endpoint", include_str!("../../../assets/templates/fastapi-endpoint.toml")),
    ("go-http-handler", include_str!("../../../assets/templates/go-http-handler.toml")),
    ("pytest-module", include_str!("../../../assets/templates/pytest-module.toml")),
    ("react-component", include_str!("../../../assets/templates/react-component.toml")),
];

/// A template file larger than this is refused rather than read.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// At most this many files are read from one directory (the rest are named as skipped).
const MAX_FILES: usize = 200;

/// The templates available in this workspace.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Sorted by name; one per name.
    pub templates: Vec<Template>,
    /// One line per file that could not be loaded (or was refused a built-in's name).
    pub problems: Vec<String>,
}

impl Catalog {
    /// The templates for `workspace`, with the user's from `user_dir`.
    pub fn load(user_dir: Option<&Path>, workspace: &Path) -> Catalog {
        let mut catalog = Catalog::default();
        for (name, text) in BUILT_IN {
            let file = format!("built-in {name}.toml");
            match parse(&file, name, text, TemplateSource::BuiltIn) {
                Ok(t) => catalog.add(t),
                Err(e) => catalog.problems.push(e),
            }
        }
        if let Some(dir) = user_dir {
            catalog.load_dir(dir, TemplateSource::User);
        }
        catalog.load_dir(&workspace.join(".kv1nt/templates"), TemplateSource::Repository);
        catalog.templates.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        catalog
    }

    fn add(&mut self, template: Template) {
        if template.info.source == TemplateSource::Repository
            && let Some(existing) = self.get(&template.info.name)
        {
            return self.problems.push(format!(
                "{}: ignored: a repository template cannot replace the {} template `{}` (rename it, \
                 or set `name = \"…\"` in the file)",
                template.file,
                existing.info.source.name(),
                template.info.name
            ));
        }
        self.templates.retain(|t| t.info.name != template.info.name);
        self.templates.push(template);
    }

    fn load_dir(&mut self, dir: &Path, source: TemplateSource) {
        let mut files = match toml_files(dir) {
            Ok(files) => files,
            Err(e) => return self.problems.push(format!("{}: cannot list templates: {e}", dir.display())),
        };
        if files.len() > MAX_FILES {
            self.problems.push(format!(
                "{}: {} template files; only the first {MAX_FILES} were read",
                dir.display(),
                files.len()
            ));
            files.truncate(MAX_FILES);
        }
        for path in files {
            let file = path.display().to_string();
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let text = match std::fs::metadata(&path) {
                Ok(m) if m.len() > MAX_FILE_BYTES => {
                    self.problems.push(format!("{file}: larger than {} KiB", MAX_FILE_BYTES / 1024));
                    continue;
                }
                _ => std::fs::read_to_string(&path),
            };
            match text {
                Ok(text) => match parse(&file, &stem, &text, source) {
                    Ok(t) => self.add(t),
                    Err(e) => self.problems.push(e),
                },
                Err(e) => self.problems.push(format!("{file}: cannot read: {e}")),
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.info.name == name)
    }

    /// What crosses to the UI.
    pub fn list(&self) -> TemplateList {
        TemplateList {
            templates: self.templates.iter().map(|t| t.info.clone()).collect(),
            problems: self.problems.clone(),
        }
    }

    /// "no template `x` (available: a, b)".
    pub fn unknown(&self, name: &str) -> String {
        let names: Vec<&str> = self.templates.iter().map(|t| t.info.name.as_str()).collect();
        format!("no template named `{name}` (available: {})", names.join(", "))
    }
}

/// The `*.toml` files of `dir`, sorted; none when it does not exist.
fn toml_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str =
        "description = \"mine\"\nlanguage = \"rust\"\ntarget = \"src/x.rs\"\nbody = \"fn x() {}\"\n";

    #[test]
    fn every_built_in_template_loads() {
        let catalog = Catalog::load(None, Path::new("/nonexistent"));
        assert!(catalog.problems.is_empty(), "{:?}", catalog.problems);
        let names: Vec<&str> = catalog.templates.iter().map(|t| t.info.name.as_str()).collect();
        let built_in: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, built_in);
        for t in &catalog.templates {
            assert_eq!(t.info.source, TemplateSource::BuiltIn);
            assert!(!t.info.description.is_empty() && !t.guidance.trim().is_empty(), "{}", t.info.name);
            assert!(t.info.params.iter().any(|p| p.required), "{} asks for nothing", t.info.name);
            for p in &t.info.params {
                assert!(!p.description.is_empty(), "{}.{} is undocumented", t.info.name, p.name);
            }
            // Leaving out a required parameter names it.
            let errors = t.info.validate(&Default::default()).unwrap_err();
            assert!(errors.iter().all(|e| e.message == "required"), "{errors:?}");
        }
    }

    #[test]
    fn the_readme_example_loads_and_renders() {
        let readme = include_str!("../../../README.md");
        let start =
            readme.find("# ~/.config/kv1nt/templates/rust-error.toml\n").expect("the README's example");
        let text = &readme[start..start + readme[start..].find("```").unwrap()];
        let t = parse("rust-error.toml", "rust-error", text, TemplateSource::User).unwrap();
        let values = t.info.validate(&[("module".to_string(), "config_file".to_string())].into()).unwrap();
        let rendered = render(&t, &values).unwrap();
        assert_eq!(rendered.target, "src/config_file/error.rs");
        assert!(rendered.body.contains("pub enum ConfigFileError {") && rendered.body.contains("Io(#[from]"));
    }

    #[test]
    fn a_bad_user_file_is_reported_and_the_others_load() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("templates");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mine.toml"), USER).unwrap();
        std::fs::write(dir.join("broken.toml"), "description = \"b\"\nlanguage = 3\n").unwrap();
        std::fs::write(dir.join("axum-handler.toml"), USER).unwrap();
        let catalog = Catalog::load(Some(&dir), home.path());
        assert_eq!(catalog.problems.len(), 1, "{:?}", catalog.problems);
        assert!(catalog.problems[0].contains("broken.toml: line 2: "), "{}", catalog.problems[0]);
        assert_eq!(catalog.get("mine").unwrap().info.source, TemplateSource::User);
        // A user template replaces the built-in one of the same name.
        assert_eq!(catalog.get("axum-handler").unwrap().info.description, "mine");
    }

    #[test]
    fn a_repository_template_loads_but_never_replaces_another() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join(".kv1nt/templates");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("repo-thing.toml"), USER).unwrap();
        std::fs::write(dir.join("pytest-module.toml"), USER).unwrap();
        let catalog = Catalog::load(None, repo.path());
        assert_eq!(catalog.get("repo-thing").unwrap().info.source, TemplateSource::Repository);
        assert_eq!(catalog.get("pytest-module").unwrap().info.source, TemplateSource::BuiltIn);
        assert_eq!(catalog.problems.len(), 1, "{:?}", catalog.problems);
        let problem = &catalog.problems[0];
        assert!(problem.contains("pytest-module.toml: ignored: a repository template cannot replace the built-in template `pytest-module`"), "{problem}");
    }
}
