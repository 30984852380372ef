//! Building a [`Corpus`] from what is on this machine: a bounded walk of the repository's files
//! (the `.gitignore`d ones left out), its git history, the graph's entities and the store's
//! corrections of this workspace's sessions.
//!
//! Invariants:
//! - Everything is bounded ([`Bounds`]): files read, bytes per file and in all, commits, entities
//!   and time; past a bound the corpus is what was gathered so far.
//! - Symbolic links are not followed; files that are not UTF-8 are skipped; nothing is written.
//! - A missing git repository, graph or store gives an empty part, not an error.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{CommitInfo, Corpus, Correction, NamedEntity, SourceFile};
use crate::engine::graph::GraphDb;
use crate::engine::store::{Store, StoreError};

/// How much is read at most.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub max_files: usize,
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    pub max_commits: usize,
    pub max_entities: usize,
    /// The walk stops after this long.
    pub time: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_files: 5_000,
            max_file_bytes: 256 * 1024,
            max_total_bytes: 32 * 1024 * 1024,
            max_commits: 300,
            max_entities: 50_000,
            time: Duration::from_secs(10),
        }
    }
}

/// Source extensions whose text the miners read.
const SOURCE: &[&str] = &["rs", "py", "go", "ts", "tsx", "js", "jsx", "mjs", "cjs"];
/// Config files whose text the miners read.
const CONFIG: &[&str] = &["pyproject.toml", "package.json"];

/// The corpus of the repository at `root`, with the graph's `entities` and the `corrections`
/// already read (they come from the engine's graph thread and store).
pub fn gather(
    root: &Path,
    entities: Vec<NamedEntity>,
    corrections: Vec<Correction>,
    bounds: &Bounds,
) -> Corpus {
    let (paths, files) = walk(root, bounds);
    Corpus {
        paths,
        files,
        entities,
        commits: commits(root, bounds.max_commits),
        corrections,
        instructions: instructions(root),
    }
}

/// Every path under `root` (not ignored), and the text of the source and config files.
pub fn walk(root: &Path, bounds: &Bounds) -> (Vec<String>, Vec<SourceFile>) {
    let started = Instant::now();
    let (mut paths, mut files, mut total) = (Vec::new(), Vec::new(), 0u64);
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some(".git" | "node_modules")))
        .build();
    for entry in walker.flatten() {
        if paths.len() >= bounds.max_files || started.elapsed() > bounds.time {
            break;
        }
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else { continue };
        let Some(rel) = rel.to_str().map(|s| s.replace('\\', "/")) else { continue };
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let wanted = SOURCE.contains(&ext) || CONFIG.contains(&name);
        let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        if wanted
            && size <= bounds.max_file_bytes
            && total + size <= bounds.max_total_bytes
            && let Ok(text) = std::fs::read_to_string(entry.path())
        {
            total += size;
            files.push(SourceFile { path: rel.clone(), text });
        }
        paths.push(rel);
    }
    (paths, files)
}

/// Subjects of up to `limit` commits reachable from HEAD, newest first, merges left out.
pub fn commits(root: &Path, limit: usize) -> Vec<CommitInfo> {
    let read = || -> Result<Vec<CommitInfo>, git2::Error> {
        let repo = git2::Repository::discover(root)?;
        let mut walk = repo.revwalk()?;
        walk.push_head()?;
        walk.set_sorting(git2::Sort::TIME)?;
        let mut out = Vec::new();
        for oid in walk.take(limit * 2) {
            let commit = repo.find_commit(oid?)?;
            if commit.parent_count() > 1 {
                continue;
            }
            let subject =
                String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).trim().to_string();
            if !subject.is_empty() {
                out.push(CommitInfo { id: commit.id().to_string()[..7].to_string(), subject });
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    };
    read().unwrap_or_default()
}

/// The corrections (modification diffs) of `workspace`'s sessions, oldest first.
pub fn corrections(store: &Store, workspace: &str) -> Result<Vec<Correction>, StoreError> {
    let sessions: std::collections::HashSet<String> =
        store.list_sessions(usize::MAX)?.into_iter().filter(|s| s.cwd == workspace).map(|s| s.id).collect();
    Ok(store
        .proposals(None)?
        .into_iter()
        .filter(|p| sessions.contains(&p.session_id))
        .filter_map(|p| Some(Correction { proposal_id: p.id, diff: p.modification? }))
        .collect())
}

/// Up to `limit` named entities of the graph.
pub fn entities(db: &GraphDb, limit: usize) -> Vec<NamedEntity> {
    let read = || -> rusqlite::Result<Vec<NamedEntity>> {
        let mut st = db.connection().prepare(
            "SELECT name, kind, file, start_line FROM entities ORDER BY file, start_line LIMIT ?1",
        )?;
        let rows = st.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(NamedEntity {
                name: r.get(0)?,
                kind: r.get(1)?,
                file: r.get(2)?,
                line: r.get::<_, i64>(3)? as usize,
            })
        })?;
        rows.collect()
    };
    read().unwrap_or_default()
}

/// `AGENTS.md` and `KV1NT.md` (`agent::prompt::INSTRUCTION_FILES`) as they are on disk.
pub fn instructions(root: &Path) -> String {
    crate::engine::agent::prompt::INSTRUCTION_FILES
        .iter()
        .filter_map(|name| std::fs::read_to_string(root.join(name)).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_reads_sources_and_configs_within_bounds_and_skips_ignored_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn a() {}\n").unwrap();
        std::fs::write(root.join("src/big.rs"), "x".repeat(2_000)).unwrap();
        std::fs::write(root.join("rustfmt.toml"), "max_width = 100\n").unwrap();
        std::fs::write(root.join(".gitignore"), "gen/\n").unwrap();
        std::fs::create_dir_all(root.join("gen")).unwrap();
        std::fs::write(root.join("gen/out.rs"), "fn g() {}\n").unwrap();
        std::fs::write(root.join("KV1NT.md"), "- Use tabs.\n").unwrap();
        let bounds = Bounds { max_file_bytes: 1_000, ..Bounds::default() };
        let corpus = gather(root, Vec::new(), Vec::new(), &bounds);
        assert!(corpus.paths.contains(&"rustfmt.toml".to_string()));
        assert!(corpus.paths.contains(&"src/big.rs".to_string()), "listed, not read");
        assert!(!corpus.paths.iter().any(|p| p.starts_with("gen/")), "{:?}", corpus.paths);
        let read: Vec<&str> = corpus.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(read, ["src/lib.rs"]);
        assert!(corpus.commits.is_empty(), "not a git repository");
        assert!(corpus.instructions.contains("Use tabs."));
    }
}
