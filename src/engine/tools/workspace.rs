//! The workspace root and the one gate every model-given path passes: [`Workspace::resolve`].
//!
//! Invariants:
//! - `root` is canonical (absolute, no symlinks, no `.`/`..`).
//! - A resolved path is physical: every existing component is canonicalized as it is met (so a
//!   symlink is followed exactly as the OS would follow it, and `..` after a symlink goes to the
//!   link target's parent), and the non-existing tail is appended lexically. The result must lie
//!   inside `root`, whatever the route (relative, absolute, `..`, symlinked dir or file).
//! - Writes are refused for the root itself and for anything with a `.git` component (any depth,
//!   any case), checked on the *resolved* path, so a symlink to `.git` does not get around it.
//! - The relative path returned uses `/` separators and has no `.`/`..` components.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::ToolError;

/// The directory the model works in.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// Opens `root`, which must be an existing directory; it is canonicalized.
    pub fn new(root: &Path) -> Result<Workspace, ToolError> {
        let canon = std::fs::canonicalize(root).map_err(|e| {
            ToolError::Invalid(format!("workspace root {} is not usable: {e}", root.display()))
        })?;
        if !canon.is_dir() {
            return Err(ToolError::Invalid(format!("workspace root {} is not a directory", root.display())));
        }
        Ok(Workspace { root: canon })
    }

    /// The canonical root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path the model gave (relative to the root, or absolute inside it) → (absolute path,
    /// workspace-relative path with `/` separators; `""` for the root itself).
    ///
    /// Refuses absolute paths outside the root, `..` that escapes, and symlinks (anywhere on the
    /// path) that lead outside; with `for_write`, also the root itself and anything in `.git/`.
    /// Paths that do not exist yet resolve through their longest existing ancestor.
    pub fn resolve(&self, path: &str, for_write: bool) -> Result<(PathBuf, String), ToolError> {
        if path.trim().is_empty() {
            return Err(ToolError::Invalid(
                "the path is empty; give a path relative to the workspace root, e.g. `src/main.rs`".into(),
            ));
        }
        if path.contains('\0') {
            return Err(ToolError::Invalid(format!("the path `{path}` contains a NUL byte")));
        }
        let given = Path::new(path);
        let joined = if given.is_absolute() { given.to_path_buf() } else { self.root.join(given) };

        // `cur` is canonical and exists; `tail` are the names below it that do not exist yet.
        let mut cur = PathBuf::new();
        let mut tail: Vec<OsString> = Vec::new();
        let mut via_symlink = false;
        for comp in joined.components() {
            match comp {
                Component::Prefix(_) | Component::RootDir => cur.push(comp.as_os_str()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if tail.pop().is_none() {
                        cur.pop();
                    }
                }
                Component::Normal(name) if !tail.is_empty() => tail.push(name.to_os_string()),
                Component::Normal(name) => {
                    let next = cur.join(name);
                    match std::fs::symlink_metadata(&next) {
                        Ok(meta) => {
                            if meta.file_type().is_symlink() {
                                via_symlink = true;
                            }
                            cur = std::fs::canonicalize(&next).map_err(|e| {
                                let shown = self.display(&next);
                                if e.kind() == ErrorKind::NotFound {
                                    ToolError::NotFound(format!(
                                        "`{shown}` is a symlink whose target does not exist; \
                                         use a different path"
                                    ))
                                } else {
                                    ToolError::Invalid(format!(
                                        "`{shown}` cannot be resolved: {e}; use a different path"
                                    ))
                                }
                            })?;
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => tail.push(name.to_os_string()),
                        Err(e) if e.kind() == ErrorKind::NotADirectory => {
                            return Err(ToolError::Invalid(format!(
                                "`{path}` goes through `{}`, which is a file, not a directory",
                                self.display(&cur)
                            )));
                        }
                        Err(e) => {
                            return Err(ToolError::Io(format!("cannot access `{path}`: {e}")));
                        }
                    }
                }
            }
        }
        let mut abs = cur;
        abs.extend(&tail);

        let Ok(inside) = abs.strip_prefix(&self.root) else {
            let how = if via_symlink { " (through a symlink)" } else { "" };
            return Err(ToolError::Invalid(format!(
                "`{path}` resolves{how} to {}, which is outside the workspace {}; \
                 only files inside the workspace can be used — give a path relative to it",
                abs.display(),
                self.root.display()
            )));
        };
        let parts: Vec<String> =
            inside.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let rel = parts.join("/");

        if for_write {
            if rel.is_empty() {
                return Err(ToolError::Invalid(format!(
                    "`{path}` is the workspace root itself; give the path of a file to write"
                )));
            }
            if parts.iter().any(|p| p.eq_ignore_ascii_case(".git")) {
                return Err(ToolError::Invalid(format!(
                    "`{path}` is inside a `.git` directory ({rel}); git's internal files must not \
                     be written — use git commands for repository changes"
                )));
            }
        }
        Ok((abs, rel))
    }

    /// `p` relative to the root when it is inside, else absolute; for messages.
    fn display(&self, p: &Path) -> String {
        match p.strip_prefix(&self.root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => p.display().to_string(),
        }
    }
}
