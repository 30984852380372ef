//! Re-indexing files the user saves while kv1nt runs: a `notify` watcher on the workspace feeds a
//! debounce thread that re-indexes each changed source file once things are quiet for 200 ms
//! (so a save lands in the graph well within a second).
//!
//! Invariants: `.git/` and files `.gitignore` ignores are not watched for; only files of an
//! indexed language and manifests (`depends_on`) go to the graph; dropping the returned
//! watcher stops it all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::{EventKind, RecursiveMode, Watcher};

use super::GraphWorker;
use crate::engine::grammars::Language;

const QUIET: Duration = Duration::from_millis(200);

/// Starts watching `root`; `None` (and a reason) when the platform watcher cannot start.
pub fn watch(root: &Path, graph: GraphWorker) -> Result<notify::RecommendedWatcher, String> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let ignore = gitignore(root);
    let root_owned = root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
            return;
        }
        for path in event.paths {
            if wanted(&root_owned, &ignore, &path) {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| e.to_string())?;
    watcher.watch(root, RecursiveMode::Recursive).map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("kv1nt-graph-watch".into())
        .spawn(move || debounce(rx, graph))
        .map_err(|e| e.to_string())?;
    Ok(watcher)
}

fn gitignore(root: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    let _ = builder.add(root.join(".gitignore"));
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

fn wanted(root: &Path, ignore: &Gitignore, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else { return false };
    if rel.components().any(|c| c.as_os_str() == ".git") {
        return false;
    }
    let name = path.file_name().and_then(|n| n.to_str());
    let source = name.is_some_and(|n| Language::from_path(n).is_some() || super::packages::is_manifest(n));
    source && !ignore.matched_path_or_any_parents(rel, false).is_ignore()
}

fn debounce(rx: mpsc::Receiver<PathBuf>, graph: GraphWorker) {
    let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
    loop {
        let next = if pending.is_empty() {
            rx.recv().map_err(|_| ())
        } else {
            rx.recv_timeout(QUIET).map_err(|_| ())
        };
        match next {
            Ok(path) => {
                pending.insert(path);
            }
            Err(()) if pending.is_empty() => return, // the watcher is gone
            Err(()) => {
                for path in std::mem::take(&mut pending) {
                    graph.reindex(path);
                }
            }
        }
    }
}
