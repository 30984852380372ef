//! Commits kv1nt made, per repository: what `/uncommit` is allowed to undo (never a commit kv1nt
//! did not make).

use std::path::Path;

use super::audit::cap;
use super::sessions::now_rfc3339;
use super::{Result, Store};

/// A commit kv1nt made and has not undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeCommit {
    pub row: i64,
    pub commit_id: String,
    pub summary: String,
}

impl Store {
    pub fn record_commit(&self, session_id: &str, repo: &Path, commit_id: &str, summary: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO vcs_commits (time, session_id, repo, commit_id, summary) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((now_rfc3339(), session_id, repo.to_string_lossy(), commit_id, cap(summary)))?;
        Ok(())
    }

    /// The newest commit kv1nt made in `repo` that is not undone.
    pub fn last_commit(&self, repo: &Path) -> Result<Option<MadeCommit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, commit_id, summary FROM vcs_commits WHERE repo = ?1 AND undone = 0 ORDER BY id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query([repo.to_string_lossy()])?;
        match rows.next()? {
            Some(r) => Ok(Some(MadeCommit { row: r.get(0)?, commit_id: r.get(1)?, summary: r.get(2)? })),
            None => Ok(None),
        }
    }

    pub fn mark_uncommitted(&self, row: i64) -> Result<()> {
        self.conn.prepare_cached("UPDATE vcs_commits SET undone = 1 WHERE id = ?1")?.execute([row])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_commit_is_per_repository_and_undone_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (a, b) = (Path::new("/r/a"), Path::new("/r/b"));
        store.record_commit("s", a, "111", "feat: one").unwrap();
        store.record_commit("s", a, "222", "fix: two").unwrap();
        store.record_commit("s", b, "333", "docs: three").unwrap();
        let last = store.last_commit(a).unwrap().unwrap();
        assert_eq!(last.commit_id, "222");
        store.mark_uncommitted(last.row).unwrap();
        assert_eq!(store.last_commit(a).unwrap().unwrap().commit_id, "111");
        assert_eq!(store.last_commit(b).unwrap().unwrap().summary, "docs: three");
        assert_eq!(store.last_commit(Path::new("/r/c")).unwrap(), None);
    }
}
