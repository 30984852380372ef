//! The one walk over a repository's files for [`super`]: ignore-aware (`.gitignore`), links
//! not followed, vendored and fixture trees left out (`learning::conventions::ours`), and
//! bounded — at most [`MAX_FILES`] files, each read only when under [`MAX_BYTES`].

use std::path::{Path, PathBuf};

/// At most this many files are looked at.
pub const MAX_FILES: usize = 50_000;
/// Larger files are skipped (a manifest, lockfile or config file is far smaller).
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// A file of the repository: its `/`-separated path relative to the root, and where it is.
#[derive(Clone, Debug)]
pub struct RepoFile {
    pub rel: String,
    pub abs: PathBuf,
}

/// Every file under `root` the project owns, sorted by path.
pub fn files(root: &Path) -> Vec<RepoFile> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root).follow_links(false).require_git(false).hidden(false).build();
    for entry in walker.flatten() {
        if out.len() >= MAX_FILES {
            break;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else { continue };
        let Some(rel) = rel.to_str().map(|s| s.replace('\\', "/")) else { continue };
        if rel.starts_with(".git/") || !crate::engine::learning::conventions::ours(&rel) {
            continue;
        }
        out.push(RepoFile { rel, abs: entry.path().to_path_buf() });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// The file's text, `None` when it is too large, unreadable or not UTF-8.
pub fn read(path: &Path) -> Option<String> {
    let md = std::fs::symlink_metadata(path).ok()?;
    if !md.is_file() || md.len() > MAX_BYTES {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}

/// The file name of a `/`-separated path.
pub fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// The directory of a `/`-separated path (`""` at the root).
pub fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Whether `file` lies in `dir` (`""` is the root, containing everything).
pub fn within(dir: &str, file: &str) -> bool {
    dir.is_empty() || file.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}
