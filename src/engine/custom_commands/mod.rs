//! Custom slash commands, Claude Code compatible: Markdown files whose body is a prompt, with an
//! optional YAML front matter (`description`, `argument-hint`, `allowed-tools`, `model`;
//! `front_matter`). `commands/review.md` is `/review`; `commands/git/log.md` is `/git:log`.
//!
//! [`Catalog::load`] reads, in this order: the user's `<config dir>/kv1nt/commands/` and
//! `~/.claude/commands/`, then the repository's `.kv1nt/commands/` and `.claude/commands/`.
//! The first file of a name wins; a later one is reported in `problems`. `expand` turns a
//! command and the typed arguments into the turn's prompt.
//!
//! Invariants: a repository's command is someone else's file — it is listed as `held` (never
//! run) unless the repository is trusted (`Config::repo_trusted`), and never replaces a user's
//! command of the same name. Loading is bounded (file size, file count, directory depth) and a
//! bad file becomes one line in `problems` while the others load; nothing panics on content.
//! Built-in slash commands win over a custom one of the same name: the front-ends look up the
//! built-in table first (`app::commands`, `cli::exec`).

use std::path::{Path, PathBuf};

use crate::engine::protocol::{CustomCommandInfo, ExtensionSource};

pub mod expand;
pub mod front_matter;

pub use expand::{expand, mentions};

/// A command file larger than this is refused rather than read.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// At most this many files are read from one directory tree.
const MAX_FILES: usize = 500;
/// Subdirectories deeper than this are not searched (`a:b:c:name` at most).
const MAX_DEPTH: usize = 3;

/// One loaded command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommand {
    pub info: CustomCommandInfo,
    /// The prompt, with `$ARGUMENTS`, `$1`…`$9` and `@path` still in it.
    pub body: String,
    /// `allowed-tools`, as written (Claude Code or kv1nt names); `None` when not restricted.
    pub allowed_tools: Option<Vec<String>>,
    /// `model`, as written.
    pub model: Option<String>,
    /// The file it came from, for messages.
    pub file: PathBuf,
}

/// The commands available in this workspace.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Sorted by name; one per name.
    pub commands: Vec<CustomCommand>,
    /// One line per file that could not be loaded or was shadowed.
    pub problems: Vec<String>,
}

impl Catalog {
    /// The commands from the user's directories (each holding a `commands/` folder: the kv1nt
    /// config directory and `~/.claude`) and the repository at `workspace`.
    pub fn load(user_dirs: &[PathBuf], workspace: &Path, repo_trusted: bool) -> Catalog {
        let mut catalog = Catalog::default();
        for dir in user_dirs {
            catalog.load_tree(&dir.join("commands"), ExtensionSource::User, false, None);
        }
        let inside = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
        for dir in [".kv1nt", ".claude"] {
            let root = workspace.join(dir).join("commands");
            catalog.load_tree(&root, ExtensionSource::Repository, !repo_trusted, Some(&inside));
        }
        catalog.commands.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        catalog
    }

    pub fn get(&self, name: &str) -> Option<&CustomCommand> {
        self.commands.iter().find(|c| c.info.name == name)
    }

    /// What crosses to the UI.
    pub fn infos(&self) -> Vec<CustomCommandInfo> {
        self.commands.iter().map(|c| c.info.clone()).collect()
    }

    /// `confine`: a repository's file must resolve inside it (a symlink to `~/.ssh/id_rsa` would
    /// otherwise send the key to the model as a prompt).
    fn load_tree(&mut self, root: &Path, source: ExtensionSource, held: bool, confine: Option<&Path>) {
        let mut files = Vec::new();
        walk(root, root, 0, &mut files);
        if files.len() > MAX_FILES {
            self.problems.push(format!(
                "{}: {} command files; only the first {MAX_FILES} were read",
                root.display(),
                files.len()
            ));
            files.truncate(MAX_FILES);
        }
        for (path, name) in files {
            let outside = confine.is_some_and(|inside| {
                std::fs::canonicalize(&path).map_or(true, |real| !real.starts_with(inside))
            });
            if outside {
                self.problems
                    .push(format!("{}: ignored: it resolves outside the repository", path.display()));
                continue;
            }
            match load_file(&path, &name, source, held) {
                Ok(command) => self.add(command),
                Err(e) => self.problems.push(format!("{}: {e}", path.display())),
            }
        }
    }

    fn add(&mut self, command: CustomCommand) {
        if let Some(existing) = self.get(&command.info.name) {
            return self.problems.push(format!(
                "{}: ignored: /{} is already defined by {}",
                command.file.display(),
                command.info.name,
                existing.file.display()
            ));
        }
        self.commands.push(command);
    }
}

/// The `*.md` files under `dir` (sorted, bounded depth), each with its command name.
fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if out.len() > MAX_FILES {
            return;
        }
        // `metadata` follows symlinks: a user may link their commands in from elsewhere.
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        if meta.is_dir() && depth < MAX_DEPTH {
            walk(root, &path, depth + 1, out);
        } else if meta.is_file() && path.extension().is_some_and(|x| x == "md") {
            let rel = path.strip_prefix(root).unwrap_or(&path).with_extension("");
            let parts: Vec<String> =
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push((path, parts.join(":")));
        }
    }
}

fn load_file(path: &Path, name: &str, source: ExtensionSource, held: bool) -> Result<CustomCommand, String> {
    if name.is_empty()
        || name.split(':').any(|part| {
            part.is_empty()
                || !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        })
    {
        return Err(format!(
            "the command name `{}` may use only letters, digits, - _ and . (rename the file)",
            front_matter::one_line(name, 80)
        ));
    }
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {} KiB", MAX_FILE_BYTES / 1024));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let doc = front_matter::parse(&text)?;
    let description = doc
        .text("description")
        .or_else(|| doc.body.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string))
        .unwrap_or_default();
    Ok(CustomCommand {
        info: CustomCommandInfo {
            name: name.to_string(),
            description: front_matter::one_line(&description, 120),
            argument_hint: front_matter::one_line(&argument_hint(&doc), 60),
            source,
            held,
        },
        allowed_tools: doc.list("allowed-tools"),
        model: doc.text("model"),
        body: doc.body,
        file: path.to_path_buf(),
    })
}

/// `argument-hint`: `[message]` is text to Claude Code but a list to YAML; either way it shows
/// as written.
fn argument_hint(doc: &front_matter::Document) -> String {
    match doc.fields.get("argument-hint") {
        Some(front_matter::Value::List(items)) => {
            items.iter().map(|i| format!("[{i}]")).collect::<Vec<_>>().join(" ")
        }
        _ => doc.text("argument-hint").unwrap_or_default(),
    }
}

/// The kv1nt tool names a command's `allowed-tools` entry stands for: Claude Code's names map
/// to kv1nt's (`Read` → `read_file`, `Bash(git status:*)` → `run`, `mcp__srv__tool` →
/// `srv__tool`); kv1nt's own names stand for themselves. The pattern inside `Bash(…)` does not
/// narrow `run` further: every call still passes the gate.
pub fn tool_names(entry: &str) -> Vec<String> {
    let bare = entry.split('(').next().unwrap_or_default().trim();
    let names: &[&str] = match bare {
        "Read" | "NotebookRead" => &["read_file"],
        "Edit" | "MultiEdit" | "NotebookEdit" => &["edit_file"],
        "Write" => &["write_file"],
        "Grep" => &["grep", "search_code"],
        "Glob" | "LS" => &["list_dir"],
        "Bash" => &["run", "commit", "create_branch"],
        "Task" | "TodoWrite" | "WebFetch" | "WebSearch" => &[],
        other => {
            if let Some(rest) = other.strip_prefix("mcp__") {
                return vec![rest.to_string()];
            }
            return vec![other.to_string()];
        }
    };
    names.iter().map(|n| n.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn sources_namespaces_and_trust() {
        let home = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        let kv1nt = home.path().join("kv1nt");
        let claude = home.path().join(".claude");
        write(&kv1nt.join("commands/review.md"), "---\ndescription: Mine\n---\nReview $ARGUMENTS");
        write(&claude.join("commands/review.md"), "Claude's review");
        write(&claude.join("commands/git/log.md"), "Summarise the log\n");
        write(
            &repo.path().join(".claude/commands/deploy.md"),
            "---\nargument-hint: [env]\n---\nDeploy to $1",
        );
        write(&repo.path().join(".kv1nt/commands/review.md"), "theirs");
        write(&repo.path().join(".kv1nt/commands/bad name.md"), "x");
        std::fs::write(home.path().join("secret.txt"), "key").unwrap();
        std::os::unix::fs::symlink(
            home.path().join("secret.txt"),
            repo.path().join(".kv1nt/commands/leak.md"),
        )
        .unwrap();
        let dirs = [kv1nt.clone(), claude.clone()];
        let catalog = Catalog::load(&dirs, repo.path(), false);
        let names: Vec<&str> = catalog.commands.iter().map(|c| c.info.name.as_str()).collect();
        assert_eq!(names, ["deploy", "git:log", "review"]);
        assert_eq!(catalog.get("review").unwrap().info.description, "Mine");
        assert_eq!(catalog.get("git:log").unwrap().info.description, "Summarise the log");
        let deploy = catalog.get("deploy").unwrap();
        assert!(deploy.info.held && deploy.info.source == ExtensionSource::Repository);
        assert_eq!(deploy.info.argument_hint, "[env]");
        assert_eq!(catalog.problems.len(), 4, "{:?}", catalog.problems);
        assert!(
            catalog
                .problems
                .iter()
                .any(|p| p.contains("leak.md: ignored: it resolves outside the repository"))
        );
        assert!(catalog.problems.iter().any(|p| p.contains("bad name.md: the command name")));
        assert!(
            catalog.problems.iter().filter(|p| p.contains("ignored: /review is already defined")).count()
                == 2
        );
        assert!(!Catalog::load(&dirs, repo.path(), true).get("deploy").unwrap().info.held);
    }

    /// The README's examples load: the command expands, the skill has its name and description.
    #[test]
    fn the_readme_examples_load() {
        let readme = include_str!("../../../README.md");
        let example = |marker: &str| {
            let start = readme.find(marker).expect("the README's example") + marker.len();
            readme[start..start + readme[start..].find("```").unwrap()].to_string()
        };
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("commands/fix-issue.md"),
            &example("<!-- ~/.config/kv1nt/commands/fix-issue.md -->\n"),
        );
        let catalog = Catalog::load(&[dir.path().to_path_buf()], Path::new("/nonexistent"), false);
        let command = catalog.get("fix-issue").unwrap_or_else(|| panic!("{:?}", catalog.problems));
        assert_eq!(command.info.argument_hint, "[issue] [priority]");
        assert_eq!(command.allowed_tools.as_deref().unwrap(), ["Read", "Grep", "Edit"]);
        let text = expand(&command.body, "42 high", &mut |_| Ok(None)).unwrap();
        assert!(
            text.starts_with("Fix issue #42 (priority high). The team's notes are in @NOTES.md."),
            "{text}"
        );
        let skill = dir.path().join("skills/release-notes/SKILL.md");
        write(&skill, &example("<!-- ~/.config/kv1nt/skills/release-notes/SKILL.md -->\n"));
        let skills = crate::engine::skills::Catalog::load(
            &[dir.path().to_path_buf()],
            Path::new("/nonexistent"),
            false,
        );
        assert!(
            skills.prompt_section().contains("- release-notes: Write release notes from the git log"),
            "{:?}",
            skills.problems
        );
    }

    #[test]
    fn claude_tool_names_map_to_kv1nt_tools() {
        assert_eq!(tool_names("Bash(git add:*)"), ["run", "commit", "create_branch"]);
        assert_eq!(tool_names("Read"), ["read_file"]);
        assert_eq!(tool_names("mcp__github__search"), ["github__search"]);
        assert_eq!(tool_names("grep"), ["grep"]);
        assert!(tool_names("WebFetch").is_empty());
    }
}
