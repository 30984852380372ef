//! Skills, Claude Code compatible: a folder with a `SKILL.md` (front matter `name` and
//! `description`, then instructions) and any other files the instructions refer to. Only the
//! names and descriptions join the system prompt ([`Catalog::prompt_section`]); the model loads
//! a skill's instructions, or one of its files, with the `skill` tool when it applies ([`Skill::read`]).
//!
//! [`Catalog::load`] reads `skills/` of the user's directories (`<config dir>/kv1nt`,
//! `~/.claude`), then the repository's `.kv1nt/skills/` and `.claude/skills/` — the latter only
//! when the repository is trusted (`Config::repo_trusted`); an untrusted repository's skills
//! are counted in `held` and never offered. The first skill of a name wins.
//!
//! Invariants: a skill's file is read through the workspace guard rooted at the skill's folder
//! (`tools::Workspace`), so `../` and symlinks out of it are refused; files are size-capped and
//! must be text; loading is bounded (folders, files listed); nothing panics on content.

use std::path::{Path, PathBuf};

use crate::engine::custom_commands::front_matter::{self, one_line};
use crate::engine::protocol::ExtensionSource;
use crate::engine::tools::Workspace;

/// Most skills loaded from one directory.
const MAX_SKILLS: usize = 200;
/// A `SKILL.md` or skill file larger than this is refused.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Most files of one skill listed to the model.
const MAX_LISTED: usize = 100;

/// One skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub source: ExtensionSource,
    /// The skill's folder.
    pub dir: PathBuf,
}

/// The skills available in this workspace.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Sorted by name; one per name.
    pub skills: Vec<Skill>,
    /// How many of the repository's skills were held back (the repository is not trusted).
    pub held: usize,
    pub problems: Vec<String>,
}

impl Catalog {
    pub fn load(user_dirs: &[PathBuf], workspace: &Path, repo_trusted: bool) -> Catalog {
        let mut catalog = Catalog::default();
        for dir in user_dirs {
            catalog.load_dir(&dir.join("skills"), ExtensionSource::User, None);
        }
        for dir in [".kv1nt", ".claude"] {
            let skills = workspace.join(dir).join("skills");
            if repo_trusted {
                // A repository's skill folder must be its own (not a symlink out of it).
                let inside = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
                catalog.load_dir(&skills, ExtensionSource::Repository, Some(&inside));
            } else {
                catalog.held += skill_dirs(&skills).len();
            }
        }
        catalog.skills.sort_by(|a, b| a.name.cmp(&b.name));
        catalog
    }

    pub fn get(&self, name: &str) -> Option<&Skill> {
        self.skills.iter().find(|s| s.name == name)
    }

    fn load_dir(&mut self, dir: &Path, source: ExtensionSource, confine: Option<&Path>) {
        for folder in skill_dirs(dir).into_iter().take(MAX_SKILLS) {
            let outside = confine.is_some_and(|inside| {
                !std::fs::canonicalize(&folder).is_ok_and(|real| real.starts_with(inside))
            });
            if outside {
                self.problems
                    .push(format!("{}: ignored: it resolves outside the repository", folder.display()));
                continue;
            }
            let file = folder.join("SKILL.md");
            match load(&folder, source) {
                Ok(skill) if self.get(&skill.name).is_some() => self.problems.push(format!(
                    "{}: ignored: skill `{}` is already defined",
                    file.display(),
                    skill.name
                )),
                Ok(skill) => self.skills.push(skill),
                Err(e) => self.problems.push(format!("{}: {e}", file.display())),
            }
        }
    }

    /// The system prompt's section: one line per skill, and how to load one ("" without skills).
    pub fn prompt_section(&self) -> String {
        if self.skills.is_empty() {
            return String::new();
        }
        let lines: Vec<String> =
            self.skills.iter().map(|s| format!("- {}: {}", s.name, s.description)).collect();
        format!(
            "\n# Skills\n\nThese skills hold instructions for particular tasks. When one applies to the \
             request, call the `skill` tool with its name first and follow what it returns (it may \
             name files of the skill to load with `file`).\n\n{}\n",
            lines.join("\n")
        )
    }
}

/// The folders of `dir` that hold a `SKILL.md`, sorted.
fn skill_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("SKILL.md").is_file()).collect();
    dirs.sort();
    dirs
}

fn load(folder: &Path, source: ExtensionSource) -> Result<Skill, String> {
    let doc = front_matter::parse(&read_text(&folder.join("SKILL.md"))?)?;
    let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name = doc.text("name").unwrap_or(folder_name);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!(
            "the skill's name `{}` may use only letters, digits, - and _",
            one_line(&name, 80)
        ));
    }
    let Some(description) = doc.text("description") else {
        return Err("the front matter needs a `description` (when the skill applies)".into());
    };
    Ok(Skill { name, description: one_line(&description, 300), source, dir: folder.to_path_buf() })
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} KiB", MAX_FILE_BYTES / 1024));
    }
    String::from_utf8(std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?)
        .map_err(|_| "not UTF-8 text".to_string())
}

impl Skill {
    /// What the `skill` tool returns: the instructions (SKILL.md without its front matter) and
    /// the skill's other files, or with `file` that file's text. `Err` says why not, for the model.
    pub fn read(&self, file: Option<&str>) -> Result<String, String> {
        let guard = Workspace::new(&self.dir).map_err(|e| e.to_string())?;
        if let Some(file) = file {
            let (abs, rel) = guard.resolve(file, false).map_err(|e| {
                format!("skill `{}`: {}", self.name, e.to_string().replace("workspace", "skill's folder"))
            })?;
            if abs.is_dir() {
                return Err(format!(
                    "skill `{}`: `{rel}` is a folder; give one of the files listed",
                    self.name
                ));
            }
            let text = read_text(&abs).map_err(|e| format!("skill `{}`: `{rel}`: {e}", self.name))?;
            return Ok(format!("[skill {} — {rel}]\n{text}", self.name));
        }
        let (skill_md, _) =
            guard.resolve("SKILL.md", false).map_err(|e| format!("skill `{}`: {e}", self.name))?;
        let doc = front_matter::parse(&read_text(&skill_md)?)?;
        let mut files = Vec::new();
        list_files(guard.root(), guard.root(), 0, &mut files);
        files.retain(|f| f != "SKILL.md");
        let mut out = format!("[skill {}]\n{}", self.name, doc.body.trim());
        if !files.is_empty() {
            out.push_str(&format!(
                "\n\n[files of this skill, loaded with skill(name, file): {}]",
                files.join(", ")
            ));
        }
        Ok(out)
    }
}

/// Relative paths of the files under `dir` (no symlinks followed, bounded).
fn list_files(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if out.len() >= MAX_LISTED {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() && depth < 4 {
            list_files(root, &path, depth + 1, out);
        } else if meta.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_load_list_and_read_inside_their_folder_only() {
        let home = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let skill = home.path().join("kv1nt/skills/pdf");
        std::fs::create_dir_all(skill.join("scripts")).unwrap();
        std::fs::write(
            skill.join("SKILL.md"),
            "---\nname: pdf-tools\ndescription: Work with PDF files\n---\n# Steps\nUse scripts/fill.py\n",
        )
        .unwrap();
        std::fs::write(skill.join("scripts/fill.py"), "print('fill')\n").unwrap();
        std::fs::write(home.path().join("secret.txt"), "secret").unwrap();
        let bad = home.path().join("kv1nt/skills/nodesc");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join("SKILL.md"), "no front matter").unwrap();
        let theirs = repo.path().join(".claude/skills/theirs");
        std::fs::create_dir_all(&theirs).unwrap();
        std::fs::write(theirs.join("SKILL.md"), "---\ndescription: x\n---\n").unwrap();

        let catalog = Catalog::load(&[home.path().join("kv1nt")], repo.path(), false);
        assert_eq!(catalog.skills.len(), 1);
        assert_eq!(catalog.held, 1);
        assert!(catalog.problems[0].contains("needs a `description`"), "{:?}", catalog.problems);
        assert!(catalog.prompt_section().contains("- pdf-tools: Work with PDF files"));
        let pdf = catalog.get("pdf-tools").unwrap();
        let body = pdf.read(None).unwrap();
        assert!(
            body.starts_with("[skill pdf-tools]\n# Steps") && body.contains("scripts/fill.py]"),
            "{body}"
        );
        assert!(!body.contains("description:"));
        assert_eq!(
            pdf.read(Some("scripts/fill.py")).unwrap(),
            "[skill pdf-tools — scripts/fill.py]\nprint('fill')\n"
        );
        let outside = pdf.read(Some("../../secret.txt")).unwrap_err();
        assert!(outside.contains("outside the skill's folder"), "{outside}");
        assert_eq!(Catalog::load(&[], repo.path(), true).skills[0].name, "theirs");
        std::os::unix::fs::symlink(&skill, repo.path().join(".claude/skills/linked")).unwrap();
        let trusted = Catalog::load(&[], repo.path(), true);
        assert_eq!(trusted.skills.len(), 1);
        assert!(
            trusted.problems[0].ends_with("linked: ignored: it resolves outside the repository"),
            "{:?}",
            trusted.problems
        );
    }
}
