//! The git engine (`engine::git`) against real repositories made and checked with the `git` CLI.

use std::os::unix::fs::PermissionsExt;

use crate::support::git::{TestRepo, git_in};
use kv1nt::engine::approval::Risk;
use kv1nt::engine::git::{
    self, Change, CommitOptions, HeadInfo, Hunk, LineOrigin, MergeOutcome, MessageSource, Repo, RepoState,
    VcsError,
};

fn numbered(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

fn hunks(repo: &Repo, path: &str, staged: bool) -> Vec<Hunk> {
    let files = if staged { git::staged(repo, &[path]) } else { git::unstaged(repo, &[path]) };
    let files = files.expect("diff");
    assert_eq!(files.len(), 1, "one file diff for {path}: {files:?}");
    files.into_iter().next().map(|f| f.hunks).unwrap_or_default()
}

/// `git diff` output without the `index …` lines (their ids are not what is being compared).
fn without_index_lines(diff: &str) -> String {
    diff.split_inclusive('\n').filter(|l| !l.starts_with("index ")).collect()
}

fn write_hook(t: &TestRepo, name: &str, script: &str) {
    let path = t.path().join(".git/hooks").join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn fsck(t: &TestRepo) {
    t.git(&["fsck", "--strict", "--no-progress"]);
}

// ---- repository ----------------------------------------------------------------------------

#[test]
fn non_repo_bare_and_rebase_are_refused_with_messages() {
    let plain = tempfile::tempdir().unwrap();
    let err = Repo::open(plain.path()).unwrap_err();
    assert!(matches!(err, VcsError::NotARepo(_)), "{err:?}");
    assert_eq!(err.to_string(), format!("not a git repository: {}", plain.path().display()));

    let bare = tempfile::tempdir().unwrap();
    git_in(bare.path(), &["init", "-q", "--bare"]);
    let err = Repo::open(bare.path()).unwrap_err();
    assert!(err.to_string().starts_with("bare repositories are not supported"), "{err}");

    let t = TestRepo::new();
    t.write("f.txt", "base\n");
    t.commit_all("base");
    t.git(&["switch", "-q", "-c", "feature"]);
    t.write("f.txt", "feature\n");
    t.commit_all("feature");
    t.git(&["switch", "-q", "main"]);
    t.write("f.txt", "main\n");
    t.commit_all("main");
    t.git(&["switch", "-q", "feature"]);
    assert!(!t.git_output(&["rebase", "main"]).status.success(), "rebase should stop on the conflict");
    let repo = t.open();
    assert_eq!(repo.state(), RepoState::Rebase);
    let msg = "the repository is in the middle of a rebase; finish or abort it first \
               (git rebase --continue / --abort)";
    let err = git::commit(&repo, "x", &CommitOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), msg);
    assert_eq!(git::stage_paths(&repo, &["f.txt"]).unwrap_err().to_string(), msg);
    assert_eq!(git::switch_branch(&repo, "main").unwrap_err().to_string(), msg);
    assert_eq!(git::merge(&repo, "main").unwrap_err().to_string(), msg);
    // Reading still works.
    assert!(git::status(&repo).unwrap().iter().any(|f| f.path == "f.txt" && f.conflicted));
}

#[test]
fn empty_repository_status_and_first_commit() {
    let t = TestRepo::new();
    t.write("hello.txt", "hi\n");
    t.write("nested/dir/deep.txt", "deep\n");
    let repo = t.open();
    assert_eq!(repo.head().unwrap(), HeadInfo::Unborn { name: "main".into() });
    let st = git::status(&repo).unwrap();
    let paths: Vec<_> = st.iter().map(|f| (f.path.as_str(), f.worktree)).collect();
    assert_eq!(
        paths,
        [("hello.txt", Some(Change::Untracked)), ("nested/dir/deep.txt", Some(Change::Untracked))]
    );
    assert!(git::staged(&repo, &[]).unwrap().is_empty());
    assert!(matches!(git::commit(&repo, "nothing", &CommitOptions::default()), Err(VcsError::NothingStaged)));
    assert!(git::log(&repo, 10).unwrap().is_empty());

    git::stage_paths(&repo, &["hello.txt"]).unwrap();
    let staged = git::staged(&repo, &[]).unwrap();
    assert_eq!(staged.len(), 1);
    assert_eq!(staged[0].status, Change::Added);
    let proposal = git::prepare_commit(&repo, repo.workdir()).unwrap();
    assert_eq!(proposal.files, ["hello.txt"]);
    let out = git::commit(&repo, &proposal.message, &CommitOptions::default()).unwrap();
    assert_eq!(t.git(&["rev-list", "--count", "HEAD"]).trim(), "1");
    assert_eq!(t.head(), out.id);
    assert_eq!(t.git(&["status", "--porcelain", "-uall"]), "?? nested/dir/deep.txt\n");
    assert!(matches!(repo.head().unwrap(), HeadInfo::Branch { name, .. } if name == "main"));
    assert_eq!(git::log(&repo, 5).unwrap()[0].summary, out.summary);
    fsck(&t);
}

#[test]
fn detached_head_is_reported_and_commits_work() {
    let t = TestRepo::new();
    t.write("a.txt", "1\n");
    t.commit_all("one");
    t.write("a.txt", "2\n");
    t.commit_all("two");
    t.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let base = t.head();
    let repo = t.open();
    let head = repo.head().unwrap();
    assert_eq!(head, HeadInfo::Detached { id: base.clone() });
    assert!(head.describe().starts_with("detached HEAD at "));
    t.write("a.txt", "detached\n");
    git::stage_paths(&repo, &["a.txt"]).unwrap();
    let out = git::commit(&repo, "on detached head", &CommitOptions::default()).unwrap();
    assert_eq!(t.head(), out.id);
    assert_eq!(t.git(&["rev-parse", "HEAD~1"]).trim(), base);
    assert!(!t.git_output(&["symbolic-ref", "-q", "HEAD"]).status.success(), "HEAD stays detached");
    assert_eq!(t.git(&["rev-parse", "main~1"]).trim(), base, "main did not move");
    fsck(&t);
}

#[test]
fn submodule_is_listed_and_nothing_breaks() {
    let sub = TestRepo::new();
    sub.write("lib.txt", "library\n");
    sub.commit_all("lib");
    let t = TestRepo::new();
    t.write("main.txt", "main\n");
    t.commit_all("main");
    let url = sub.path().to_str().unwrap();
    t.git(&["-c", "protocol.file.allow=always", "submodule", "add", "-q", url, "vendor/lib"]);
    let repo = t.open();
    let st = git::status(&repo).unwrap();
    let entry = st.iter().find(|f| f.path == "vendor/lib").expect("submodule listed");
    assert!(entry.submodule);
    assert_eq!(entry.index, Some(Change::Added));
    assert!(st.iter().any(|f| f.path == ".gitmodules" && !f.submodule));
    git::commit(&repo, "add submodule", &CommitOptions::default()).unwrap();
    assert_eq!(t.git(&["status", "--porcelain"]), "");

    // A new commit inside the submodule: listed as modified, staged whole, never by hunk.
    std::fs::write(t.path().join("vendor/lib/lib.txt"), "changed\n").unwrap();
    git_in(
        &t.path().join("vendor/lib"),
        &["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-am", "inner"],
    );
    let st = git::status(&repo).unwrap();
    let entry = st.iter().find(|f| f.path == "vendor/lib").expect("submodule listed");
    assert_eq!((entry.submodule, entry.worktree), (true, Some(Change::Modified)));
    let diff = git::unstaged(&repo, &["vendor/lib"]).unwrap();
    assert_eq!(diff[0].new_mode, 0o160000);
    let h = diff[0].hunks.first().expect("a `Subproject commit` hunk");
    let err = git::stage_hunk(&repo, "vendor/lib", h).unwrap_err();
    assert!(err.to_string().contains("is a submodule; stage or unstage it as a whole"), "{err}");
    git::stage_paths(&repo, &["vendor/lib"]).unwrap();
    assert_eq!(t.git(&["status", "--porcelain"]), "M  vendor/lib\n");
    git::commit(&repo, "bump submodule", &CommitOptions::default()).unwrap();
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    fsck(&t);
}

// ---- status and diffs ----------------------------------------------------------------------

#[test]
fn status_respects_gitignore_and_reports_both_sides() {
    let t = TestRepo::new();
    t.write(".gitignore", "target/\n*.log\n");
    t.write("a.txt", "a\n");
    t.write("b.txt", "b\n");
    t.write("gone.txt", "x\n");
    t.commit_all("base");
    t.write("a.txt", "a2\n");
    t.git(&["add", "a.txt"]);
    t.write("a.txt", "a3\n");
    t.write("b.txt", "b2\n");
    std::fs::remove_file(t.path().join("gone.txt")).unwrap();
    t.write("target/debug/out.bin", "ignored");
    t.write("x.log", "ignored");
    t.write("new dir/new file.txt", "n\n");
    let repo = t.open();
    let codes: Vec<(String, String)> =
        git::status(&repo).unwrap().into_iter().map(|f| (f.code(), f.path)).collect();
    let expected = [("MM", "a.txt"), (" M", "b.txt"), (" D", "gone.txt"), ("??", "new dir/new file.txt")];
    assert_eq!(codes, expected.map(|(c, p)| (c.to_string(), p.to_string())));
}

#[test]
fn rendered_diff_matches_git_byte_for_byte() {
    let t = TestRepo::new();
    t.write("plain.txt", numbered(20));
    t.write("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    t.write("noeol.txt", "first\nlast");
    t.write("removed.txt", "bye\n");
    t.commit_all("base");
    t.write("plain.txt", numbered(20).replace("line 3\n", "line three\n").replace("line 18\n", ""));
    t.write("crlf.txt", "one\r\nTWO\r\nthree\r\n");
    t.write("noeol.txt", "first\nlast line\n");
    std::fs::remove_file(t.path().join("removed.txt")).unwrap();
    t.write("added.txt", "new\nfile");
    t.git(&["add", "-A"]);
    let repo = t.open();
    let files = git::staged(&repo, &[]).unwrap();
    assert_eq!(git::render_unified(&files), without_index_lines(&t.git(&["diff", "--cached"])));
    let stat = git::diffstat(&files);
    let numstat: Vec<String> =
        stat.per_file.iter().map(|f| format!("{}\t{}\t{}", f.insertions, f.deletions, f.path)).collect();
    assert_eq!(numstat.join("\n") + "\n", t.git(&["diff", "--cached", "--numstat"]));
    assert_eq!((stat.files, stat.insertions, stat.deletions), (5, 5, 5));
    assert!(stat.render().contains("5 files changed, 5 insertions(+), 5 deletions(-)"));
    let noeol = files.iter().find(|f| f.path == "noeol.txt").unwrap();
    let marked: Vec<_> = noeol.hunks[0].lines.iter().filter(|l| l.no_newline_at_eof).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!((marked[0].origin, marked[0].content.as_str()), (LineOrigin::Removed, "last"));

    t.git(&["commit", "-q", "-m", "second"]);
    t.git(&["mv", "plain.txt", "renamed.txt"]);
    t.git(&["commit", "-q", "-m", "rename"]);
    let between = git::between(&repo, "HEAD~2", "HEAD~1", &[]).unwrap();
    assert_eq!(git::render_unified(&between), git::render_unified(&files));
    let renamed = git::between(&repo, "HEAD~1", "HEAD", &[]).unwrap();
    assert_eq!(renamed[0].status, Change::Renamed);
    assert_eq!(
        (renamed[0].old_path.as_deref(), renamed[0].path.as_str()),
        (Some("plain.txt"), "renamed.txt")
    );
    assert!(git::between(&repo, "nope", "HEAD", &[]).unwrap_err().to_string().contains("unknown revision"));
}

// ---- staging -------------------------------------------------------------------------------

#[test]
fn staging_one_hunk_of_three_stages_exactly_that_hunk() {
    let t = TestRepo::new();
    t.write("f.txt", numbered(30));
    t.commit_all("base");
    let changed = numbered(30)
        .replace("line 2\n", "CHANGED 2\n")
        .replace("line 15\n", "CHANGED 15\n")
        .replace("line 28\n", "CHANGED 28\n");
    t.write("f.txt", &changed);
    let repo = t.open();
    let hs = hunks(&repo, "f.txt", false);
    assert_eq!(hs.len(), 3);
    git::stage_hunk(&repo, "f.txt", &hs[1]).unwrap();
    let expected = "diff --git a/f.txt b/f.txt\n--- a/f.txt\n+++ b/f.txt\n@@ -12,7 +12,7 @@ line 11\n \
                    line 12\n line 13\n line 14\n-line 15\n+CHANGED 15\n line 16\n line 17\n line 18\n";
    assert_eq!(without_index_lines(&t.git(&["diff", "--cached"])), expected);
    assert_eq!(t.git(&["diff"]).matches("\n@@ ").count(), 2, "the other two hunks stay unstaged");
    assert_eq!(t.read("f.txt"), changed.as_bytes(), "the working file is untouched");
    assert_eq!(t.git(&["status", "--porcelain"]), "MM f.txt\n");

    // The same hunk again is stale now.
    assert!(matches!(git::stage_hunk(&repo, "f.txt", &hs[1]), Err(VcsError::StaleHunk(_))));
    // The rest, one by one, ends with everything staged.
    for h in hunks(&repo, "f.txt", false) {
        let fresh = hunks(&repo, "f.txt", false);
        let same = fresh.into_iter().find(|x| x.lines == h.lines).unwrap();
        git::stage_hunk(&repo, "f.txt", &same).unwrap();
    }
    assert_eq!(t.git(&["diff"]), "");
    assert_eq!(t.git(&["show", ":f.txt"]), changed);
}

#[test]
fn staging_single_lines() {
    let t = TestRepo::new();
    t.write("f.txt", "a\nb\nc\nd\n");
    t.write("g.txt", "a\nd\n");
    t.commit_all("base");
    t.write("f.txt", "a\nB\nC\nd\n");
    t.write("g.txt", "a\nb\nc\nd\n");
    let repo = t.open();
    let h = &hunks(&repo, "f.txt", false)[0];
    let shape: Vec<(LineOrigin, &str)> = h.lines.iter().map(|l| (l.origin, l.content.as_str())).collect();
    use LineOrigin::*;
    assert_eq!(
        shape,
        [(Context, "a"), (Removed, "b"), (Removed, "c"), (Added, "B"), (Added, "C"), (Context, "d")]
    );
    git::stage_lines(&repo, "f.txt", h, &[1, 3]).unwrap();
    assert_eq!(t.git(&["show", ":f.txt"]), "a\nc\nB\nd\n");
    assert!(
        git::stage_lines(&repo, "g.txt", &hunks(&repo, "g.txt", false)[0], &[0]).is_err(),
        "context line"
    );

    let h = &hunks(&repo, "g.txt", false)[0];
    let c = h.lines.iter().position(|l| l.content == "c").unwrap();
    git::stage_lines(&repo, "g.txt", h, &[c]).unwrap();
    assert_eq!(t.git(&["show", ":g.txt"]), "a\nc\nd\n");
    assert_eq!(t.read("g.txt"), b"a\nb\nc\nd\n");
    fsck(&t);
}

#[test]
fn unstaging_a_hunk_and_lines() {
    let t = TestRepo::new();
    t.write("f.txt", numbered(30));
    t.commit_all("base");
    let changed =
        numbered(30).replace("line 2\n", "TWO\n").replace("line 15\n", "FIFTEEN\n").replace("line 28\n", "");
    t.write("f.txt", &changed);
    t.git(&["add", "f.txt"]);
    let repo = t.open();
    let hs = hunks(&repo, "f.txt", true);
    assert_eq!(hs.len(), 3);
    git::unstage_hunk(&repo, "f.txt", &hs[0]).unwrap();
    let cached = t.git(&["diff", "--cached"]);
    assert_eq!(cached.matches("\n@@ ").count(), 2);
    assert!(!cached.contains("TWO") && cached.contains("FIFTEEN") && cached.contains("-line 28"));
    let unstaged = without_index_lines(&t.git(&["diff"]));
    assert!(unstaged.contains("-line 2\n+TWO\n") && unstaged.matches("\n@@ ").count() == 1, "{unstaged}");
    assert_eq!(t.read("f.txt"), changed.as_bytes());

    // Unstage just the removed line of the FIFTEEN hunk: the index keeps both lines.
    let h = hunks(&repo, "f.txt", true)
        .into_iter()
        .find(|h| h.lines.iter().any(|l| l.content == "FIFTEEN"))
        .unwrap();
    let removed = h.lines.iter().position(|l| l.origin == LineOrigin::Removed).unwrap();
    git::unstage_lines(&repo, "f.txt", &h, &[removed]).unwrap();
    let index = t.git(&["show", ":f.txt"]);
    assert!(index.contains("line 14\nline 15\nFIFTEEN\nline 16\n"), "{index}");

    // Unstaging a whole new file makes it untracked again.
    t.write("new.txt", "fresh\n");
    t.git(&["add", "new.txt"]);
    git::unstage_hunk(&repo, "new.txt", &hunks(&repo, "new.txt", true)[0]).unwrap();
    assert!(t.git(&["status", "--porcelain"]).contains("?? new.txt"));
    git::unstage_paths(&repo, &["f.txt"]).unwrap();
    assert_eq!(t.git(&["diff", "--cached"]), "");
    assert_eq!(t.read("f.txt"), changed.as_bytes());
}

#[test]
fn whole_file_staging_of_new_deleted_and_untracked() {
    let t = TestRepo::new();
    t.write("keep.txt", "k\n");
    t.write("gone.txt", "g\n");
    t.commit_all("base");
    std::fs::remove_file(t.path().join("gone.txt")).unwrap();
    t.write("dir/new.txt", "n\n");
    t.write("keep.txt", "k2\n");
    let repo = t.open();
    git::stage_paths(&repo, &["gone.txt", "dir", "keep.txt"]).unwrap();
    assert_eq!(t.git(&["status", "--porcelain", "-uall"]), "A  dir/new.txt\nD  gone.txt\nM  keep.txt\n");
    git::unstage_paths(&repo, &["gone.txt", "dir/new.txt"]).unwrap();
    assert_eq!(t.git(&["status", "--porcelain", "-uall"]), " D gone.txt\nM  keep.txt\n?? dir/new.txt\n");
    assert!(git::stage_paths(&repo, &["missing.txt"]).unwrap_err().to_string().contains("no such file"));
}

#[test]
fn hunks_of_untracked_deleted_and_executable_files() {
    let t = TestRepo::new();
    t.write("gone.txt", "x\ny\n");
    t.write("run.sh", "#!/bin/sh\necho one\n");
    std::fs::set_permissions(t.path().join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    t.commit_all("base");
    std::fs::remove_file(t.path().join("gone.txt")).unwrap();
    t.write("run.sh", "#!/bin/sh\necho two\n");
    t.write("fresh.txt", "keep\nskip\nkeep too\n");
    let repo = t.open();

    // Untracked: chosen lines become a new index entry; the rest stays in the working file only.
    let h = &hunks(&repo, "fresh.txt", false)[0];
    let skip = h.lines.iter().position(|l| l.content == "skip").unwrap();
    let chosen: Vec<usize> = (0..h.lines.len()).filter(|&i| i != skip).collect();
    git::stage_lines(&repo, "fresh.txt", h, &chosen).unwrap();
    assert_eq!(t.git(&["show", ":fresh.txt"]), "keep\nkeep too\n");
    assert_eq!(t.git(&["ls-files", "-s", "fresh.txt"]).split_whitespace().next(), Some("100644"));

    // Deleted: the whole hunk removes the entry.
    git::stage_hunk(&repo, "gone.txt", &hunks(&repo, "gone.txt", false)[0]).unwrap();
    assert!(t.git(&["status", "--porcelain"]).contains("D  gone.txt"));

    // Executable: the mode is kept.
    git::stage_hunk(&repo, "run.sh", &hunks(&repo, "run.sh", false)[0]).unwrap();
    assert_eq!(t.git(&["ls-files", "-s", "run.sh"]).split_whitespace().next(), Some("100755"));
    assert_eq!(t.git(&["diff", "--", "run.sh", "gone.txt"]), "");
    fsck(&t);
}

#[test]
fn spaces_and_non_ascii_names_staged_by_hunk() {
    let name = "dir with space/ünïcode file.txt";
    let t = TestRepo::new();
    t.write(name, numbered(20));
    t.commit_all("base");
    let changed = numbered(20).replace("line 1\n", "première\n").replace("line 19\n", "dernière\n");
    t.write(name, &changed);
    let repo = t.open();
    let st = git::status(&repo).unwrap();
    assert_eq!(st.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), [name]);
    let hs = hunks(&repo, name, false);
    assert_eq!(hs.len(), 2);
    git::stage_hunk(&repo, name, &hs[1]).unwrap();
    assert_eq!(t.git(&["diff", "--cached", "--name-only", "-z"]), format!("{name}\0"));
    assert_eq!(t.git(&["show", &format!(":{name}")]), numbered(20).replace("line 19\n", "dernière\n"));
    let out = git::commit(&repo, "unicode", &CommitOptions::default()).unwrap();
    assert_eq!(t.git(&["show", "--name-only", "-z", "--format=", &out.id]), format!("{name}\0"));
    fsck(&t);
}

#[test]
fn crlf_and_missing_final_newline_survive_hunk_staging() {
    let t = TestRepo::new();
    let base: String = (1..=20).map(|i| format!("row {i}\r\n")).collect::<String>() + "tail";
    t.write("win.txt", &base);
    t.commit_all("base");
    let changed = base.replace("row 2\r\n", "ROW 2\r\n").replace("tail", "tail changed");
    t.write("win.txt", &changed);
    let repo = t.open();
    let hs = hunks(&repo, "win.txt", false);
    assert_eq!(hs.len(), 2);
    assert!(hs[0].lines.iter().any(|l| l.content == "ROW 2\r"));
    git::stage_hunk(&repo, "win.txt", &hs[1]).unwrap();
    let expected = base.replace("tail", "tail changed");
    assert_eq!(t.git(&["cat-file", "blob", ":win.txt"]).as_bytes(), expected.as_bytes());
    git::stage_hunk(&repo, "win.txt", &hunks(&repo, "win.txt", false)[0]).unwrap();
    assert_eq!(t.git(&["cat-file", "blob", ":win.txt"]).as_bytes(), changed.as_bytes());
    assert_eq!(t.git(&["diff"]), "");
}

// ---- branches ------------------------------------------------------------------------------

fn two_branches() -> TestRepo {
    let t = TestRepo::new();
    t.write("shared.txt", "shared\n");
    t.write("f.txt", "main\n");
    t.commit_all("base");
    t.git(&["switch", "-q", "-c", "other"]);
    t.write("f.txt", "other\n");
    t.write("only-other.txt", "other only\n");
    t.commit_all("other");
    t.git(&["switch", "-q", "main"]);
    t
}

#[test]
fn switching_over_conflicting_changes_refuses_and_changes_nothing() {
    let t = two_branches();
    t.write("f.txt", "local edit\n");
    t.write("only-other.txt", "untracked in the way\n");
    let before = t.snapshot();
    let repo = t.open();
    let err = git::switch_branch(&repo, "other").unwrap_err();
    match &err {
        VcsError::WouldOverwrite { paths, .. } => assert_eq!(paths, &["f.txt", "only-other.txt"]),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("would overwrite local changes to: f.txt, only-other.txt"), "{err}");
    assert_eq!(t.snapshot(), before);
    assert_eq!(t.git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
}

#[test]
fn switching_carries_non_conflicting_changes() {
    let t = two_branches();
    t.write("shared.txt", "edited locally\n");
    t.write("untracked.txt", "mine\n");
    t.write("staged-new.txt", "staged\n");
    t.git(&["add", "staged-new.txt"]);
    let repo = t.open();
    git::switch_branch(&repo, "other").unwrap();
    assert_eq!(t.git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/other");
    assert_eq!(t.read("shared.txt"), b"edited locally\n");
    assert_eq!(t.read("f.txt"), b"other\n");
    let status = t.git(&["status", "--porcelain", "-uall"]);
    assert_eq!(status, " M shared.txt\nA  staged-new.txt\n?? untracked.txt\n");

    let list = git::branches(&repo).unwrap();
    let names: Vec<(&str, bool)> = list.iter().map(|b| (b.name.as_str(), b.current)).collect();
    assert_eq!(names, [("main", false), ("other", true)]);
    assert!(matches!(git::create_branch(&repo, "bad..name", None), Err(VcsError::InvalidBranchName(_))));
    assert!(matches!(git::create_branch(&repo, "main", None), Err(VcsError::BranchExists(_))));
    let created = git::create_branch(&repo, "topic/x", Some("main")).unwrap();
    assert_eq!(created.id, t.git(&["rev-parse", "main"]).trim());
    assert_eq!(t.git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/other", "create does not switch");
    let log = git::log(&repo, 10).unwrap();
    assert_eq!(log.iter().map(|c| c.summary.as_str()).collect::<Vec<_>>(), ["other", "base"]);
    assert_eq!((log[0].author.as_str(), log[0].short_id.len()), ("Test User", 7));
}

// ---- merges --------------------------------------------------------------------------------

fn conflicting_branches() -> TestRepo {
    let t = TestRepo::new();
    t.write("f.txt", "1\n2\n3\n");
    t.commit_all("base");
    t.git(&["switch", "-q", "-c", "feature"]);
    t.write("f.txt", "1\ntwo (feature)\n3\n");
    t.write("added-by-feature.txt", "new\n");
    t.commit_all("feature");
    t.git(&["switch", "-q", "main"]);
    t.write("f.txt", "1\ntwo (main)\n3\n");
    t.commit_all("main");
    t
}

#[test]
fn merge_conflict_resolve_and_commit_with_two_parents() {
    let t = conflicting_branches();
    let repo = t.open();
    let MergeOutcome::Conflicts(conflicts) = git::merge(&repo, "feature").unwrap() else {
        panic!("conflicts")
    };
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(c.path, "f.txt");
    assert_eq!(c.base.as_deref(), Some("1\n2\n3\n"));
    assert_eq!(c.ours.as_deref(), Some("1\ntwo (main)\n3\n"));
    assert_eq!(c.theirs.as_deref(), Some("1\ntwo (feature)\n3\n"));
    assert_eq!(repo.state(), RepoState::Merge);
    assert!(matches!(
        git::merge_commit(&repo, "too early", &CommitOptions::default()),
        Err(VcsError::Unresolved(_))
    ));
    assert!(matches!(git::commit(&repo, "plain", &CommitOptions::default()), Err(VcsError::MergeInProgress)));

    git::resolve_file(&repo, "f.txt", Some("1\ntwo (both)\n3\n")).unwrap();
    assert!(git::conflicts(&repo).unwrap().is_empty());
    let out = git::merge_commit(&repo, "Merge feature", &CommitOptions::default()).unwrap();
    let parents = t.git(&["rev-list", "--parents", "-n", "1", "HEAD"]);
    assert_eq!(parents.split_whitespace().count(), 3, "{parents}");
    assert_eq!(parents.split_whitespace().next(), Some(out.id.as_str()));
    assert_eq!(repo.state(), RepoState::Clean);
    assert!(!t.path().join(".git/MERGE_HEAD").exists());
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    assert_eq!(t.read("f.txt"), b"1\ntwo (both)\n3\n");
    assert_eq!(t.read("added-by-feature.txt"), b"new\n");
    fsck(&t);
}

#[test]
fn merge_abort_restores_head_index_and_worktree_exactly() {
    let t = conflicting_branches();
    t.write("untracked.txt", "left alone\n");
    let before = t.snapshot();
    let repo = t.open();
    assert!(matches!(git::merge(&repo, "feature").unwrap(), MergeOutcome::Conflicts(_)));
    assert_ne!(t.snapshot(), before);
    git::abort_merge(&repo).unwrap();
    assert_eq!(t.snapshot(), before);
    assert_eq!(repo.state(), RepoState::Clean);
    assert!(matches!(git::abort_merge(&repo), Err(VcsError::NoMerge)));

    // An untracked file where the merge would write one refuses it, changing nothing.
    t.write("added-by-feature.txt", "mine, untracked\n");
    let in_the_way = t.snapshot();
    match git::merge(&repo, "feature") {
        Err(VcsError::WouldOverwrite { paths, .. }) => assert_eq!(paths, ["added-by-feature.txt"]),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(t.snapshot(), in_the_way);
    assert_eq!(repo.state(), RepoState::Clean);
    std::fs::remove_file(t.path().join("added-by-feature.txt")).unwrap();

    // Changes to tracked files refuse the merge before anything happens.
    t.write("f.txt", "dirty\n");
    let dirty = t.snapshot();
    let err = git::merge(&repo, "feature").unwrap_err();
    assert!(
        err.to_string().contains("needs a clean working tree") && err.to_string().contains("f.txt"),
        "{err}"
    );
    assert_eq!(t.snapshot(), dirty);
    assert_eq!(repo.state(), RepoState::Clean);
}

#[test]
fn merge_abort_after_modify_delete_and_add_add_conflicts() {
    let t = TestRepo::new();
    t.write("edited-vs-deleted.txt", "base\n");
    t.write("keep.txt", "keep\n");
    t.commit_all("base");
    t.git(&["switch", "-q", "-c", "feature"]);
    t.git(&["rm", "-q", "edited-vs-deleted.txt"]);
    t.write("both-added.txt", "feature version\n");
    t.write("dir/feature-only.txt", "feature\n");
    t.commit_all("feature");
    t.git(&["switch", "-q", "main"]);
    t.write("edited-vs-deleted.txt", "edited on main\n");
    t.write("both-added.txt", "main version\n");
    t.commit_all("main");
    let before = t.snapshot();
    let repo = t.open();
    let MergeOutcome::Conflicts(conflicts) = git::merge(&repo, "feature").unwrap() else {
        panic!("conflicts")
    };
    let shape: Vec<(&str, bool, bool, bool)> = conflicts
        .iter()
        .map(|c| (c.path.as_str(), c.base.is_some(), c.ours.is_some(), c.theirs.is_some()))
        .collect();
    assert_eq!(shape, [("both-added.txt", false, true, true), ("edited-vs-deleted.txt", true, true, false)]);
    git::abort_merge(&repo).unwrap();
    assert_eq!(t.snapshot(), before);

    // Resolving by deletion works too.
    let MergeOutcome::Conflicts(_) = git::merge(&repo, "feature").unwrap() else { panic!("conflicts") };
    git::resolve_file(&repo, "edited-vs-deleted.txt", None).unwrap();
    git::resolve_file(&repo, "both-added.txt", Some("merged\n")).unwrap();
    assert!(git::resolve_file(&repo, "keep.txt", Some("x")).is_err(), "not conflicted");
    git::merge_commit(&repo, "Merge feature", &CommitOptions::default()).unwrap();
    assert!(!t.path().join("edited-vs-deleted.txt").exists());
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    fsck(&t);
}

#[test]
fn merge_fast_forward_clean_and_up_to_date() {
    let t = TestRepo::new();
    t.write("a.txt", "a\n");
    t.commit_all("base");
    t.git(&["switch", "-q", "-c", "ahead"]);
    t.write("b.txt", "b\n");
    t.commit_all("ahead");
    t.git(&["switch", "-q", "main"]);
    let repo = t.open();
    let MergeOutcome::FastForward { id } = git::merge(&repo, "ahead").unwrap() else { panic!("ff") };
    assert_eq!((t.head(), t.read("b.txt")), (id, b"b\n".to_vec()));
    assert_eq!(git::merge(&repo, "ahead").unwrap(), MergeOutcome::UpToDate);

    t.git(&["switch", "-q", "-c", "side"]);
    t.write("c.txt", "c\n");
    t.commit_all("side");
    t.git(&["switch", "-q", "main"]);
    t.write("a.txt", "a2\n");
    t.commit_all("main moves");
    let MergeOutcome::Clean { message } = git::merge(&repo, "side").unwrap() else { panic!("clean") };
    assert!(message.contains("side"), "{message}");
    git::merge_commit(&repo, &message, &CommitOptions::default()).unwrap();
    assert_eq!(t.git(&["rev-list", "--parents", "-n", "1", "HEAD"]).split_whitespace().count(), 3);
    assert_eq!(t.git(&["status", "--porcelain"]), "");
    fsck(&t);
}

// ---- commits -------------------------------------------------------------------------------

#[test]
fn commit_leaves_unrelated_unstaged_changes_untouched() {
    let t = TestRepo::new();
    t.write("staged.txt", "one\n");
    t.write("unstaged.txt", "two\n");
    t.write("crlf.txt", "a\r\nb\r\n");
    t.commit_all("base");
    t.write("staged.txt", "one changed\n");
    t.git(&["add", "staged.txt"]);
    t.write("unstaged.txt", "two changed\nno newline");
    t.write("crlf.txt", "a\r\nB\r\n");
    t.write("untracked.txt", "new\n");
    let before = t.snapshot();
    let repo = t.open();
    let out = git::commit(&repo, "change staged.txt  \n\n\n\nbody\n", &CommitOptions::default()).unwrap();
    let after = t.snapshot();
    assert_eq!(after.files, before.files, "worktree bytes unchanged");
    assert_eq!(after.diff, before.diff, "`git diff` unchanged");
    assert_eq!(after.cached, "");
    assert_eq!(after.status, " M crlf.txt\n M unstaged.txt\n?? untracked.txt\n");
    assert_eq!(t.git(&["log", "-1", "--format=%B"]), "change staged.txt\n\nbody\n\n");
    assert_eq!(t.git(&["show", "--name-only", "--format=", "HEAD"]), "staged.txt\n");
    assert_eq!(out.summary, "change staged.txt");
    assert!(!out.signed);
    assert_eq!(t.git(&["log", "-1", "--format=%an <%ae>"]), "Test User <test@example.com>\n");
    fsck(&t);

    t.git(&["add", "unstaged.txt"]);
    let trailer = CommitOptions {
        trailer: Some("Co-authored-by: kv1nt <kv1nt@example.com>".into()),
        ..Default::default()
    };
    git::commit(&repo, "with trailer", &trailer).unwrap();
    assert_eq!(
        t.git(&["log", "-1", "--format=%B"]),
        "with trailer\n\nCo-authored-by: kv1nt <kv1nt@example.com>\n\n"
    );
}

#[test]
fn missing_identity_is_a_clear_error() {
    let t = TestRepo::bare_identity();
    t.write("a.txt", "a\n");
    t.git(&["add", "a.txt"]);
    let err = git::commit(&t.open(), "x", &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, VcsError::NoIdentity), "{err:?}");
    assert!(err.to_string().contains("user.email"));
}

#[test]
fn failing_pre_commit_hook_stops_the_commit() {
    let t = TestRepo::new();
    t.write("a.txt", "a\n");
    t.commit_all("base");
    let head = t.head();
    write_hook(&t, "pre-commit", "#!/bin/sh\necho 'lint: a.txt is ugly'\necho 'on stderr' >&2\nexit 3\n");
    t.write("a.txt", "ugly\n");
    t.git(&["add", "a.txt"]);
    let repo = t.open();
    let err = git::commit(&repo, "should not happen", &CommitOptions::default()).unwrap_err();
    let VcsError::HookFailed { hook, status, output } = &err else { panic!("{err:?}") };
    assert_eq!((hook.as_str(), *status), ("pre-commit", Some(3)));
    assert_eq!(output, "lint: a.txt is ugly\non stderr\n");
    assert!(err.to_string().starts_with("pre-commit hook failed (exit status 3)"));
    assert_eq!(t.head(), head);
    assert_eq!(t.git(&["status", "--porcelain"]), "M  a.txt\n");

    // A hook leaving a process in the background that holds its output does not hang us.
    write_hook(&t, "pre-commit", "#!/bin/sh\necho started\nsleep 30 &\nexit 0\n");
    let started = std::time::Instant::now();
    let out = git::commit(&repo, "background child", &CommitOptions::default()).unwrap();
    assert_eq!(out.hook_output, "started\n");
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "waited for the background child");
    t.write("a.txt", "ugly again\n");
    t.git(&["add", "a.txt"]);

    // --no-verify skips it; a non-executable hook is not run.
    let no_verify = CommitOptions { no_verify: true, ..Default::default() };
    git::commit(&repo, "skipped hooks", &no_verify).unwrap();
    std::fs::set_permissions(t.path().join(".git/hooks/pre-commit"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    t.write("a.txt", "again\n");
    t.git(&["add", "a.txt"]);
    git::commit(&repo, "hook not executable", &CommitOptions::default()).unwrap();
}

#[test]
fn commit_msg_hook_rewrites_the_message_and_hooks_path_is_honoured() {
    let t = TestRepo::new();
    t.write("a.txt", "a\n");
    t.git(&["add", "a.txt"]);
    write_hook(
        &t,
        "commit-msg",
        "#!/bin/sh\necho 'commit-msg ran'\nsed -i 's/^feat/[PROJ-7] feat/' \"$1\"\n",
    );
    let repo = t.open();
    let out = git::commit(&repo, "feat: start", &CommitOptions::default()).unwrap();
    assert_eq!(out.summary, "[PROJ-7] feat: start");
    assert_eq!(out.hook_output, "commit-msg ran\n");
    assert_eq!(t.git(&["log", "-1", "--format=%s"]), "[PROJ-7] feat: start\n");

    std::fs::create_dir_all(t.path().join(".githooks")).unwrap();
    std::fs::rename(t.path().join(".git/hooks/commit-msg"), t.path().join(".githooks/pre-commit")).unwrap();
    std::fs::write(t.path().join(".githooks/pre-commit"), "#!/bin/sh\necho from hooksPath; exit 1\n")
        .unwrap();
    t.git(&["config", "core.hooksPath", ".githooks"]);
    t.write("a.txt", "b\n");
    t.git(&["add", "a.txt"]);
    let err = git::commit(&repo, "x", &CommitOptions::default()).unwrap_err();
    assert!(matches!(&err, VcsError::HookFailed { output, .. } if output == "from hooksPath\n"), "{err:?}");
}

#[test]
fn gpgsign_commits_through_the_users_git() {
    let t = TestRepo::new();
    let fake_gpg = t.path().join(".git/fake-gpg");
    std::fs::write(
        &fake_gpg,
        "#!/bin/sh\ncat >/dev/null\necho >&2\necho '[GNUPG:] SIG_CREATED D 1 8 00 1700000000 ABCDEF' >&2\n\
         printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake_gpg, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.git(&["config", "gpg.program", fake_gpg.to_str().unwrap()]);
    t.git(&["config", "user.signingkey", "ABCDEF"]);
    t.git(&["config", "commit.gpgsign", "true"]);
    t.write("a.txt", "a\n");
    t.git(&["add", "a.txt"]);
    let repo = t.open();
    let first = git::commit(&repo, "signed root", &CommitOptions::default()).unwrap();
    assert!(first.signed);
    t.write("a.txt", "b\n");
    t.git(&["add", "a.txt"]);
    let second = git::commit(&repo, "signed child", &CommitOptions::default()).unwrap();
    assert_eq!(t.head(), second.id);
    assert_eq!(t.git(&["rev-parse", "HEAD~1"]).trim(), first.id);
    assert!(t.git(&["cat-file", "-p", "HEAD"]).contains("gpgsig -----BEGIN PGP SIGNATURE-----"));
    assert_eq!(t.git(&["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    assert!(t.git(&["reflog", "-1"]).contains("commit: signed child"));

    t.git(&["config", "gpg.program", "/bin/false"]);
    t.write("a.txt", "c\n");
    t.git(&["add", "a.txt"]);
    let err = git::commit(&repo, "unsigned?", &CommitOptions::default()).unwrap_err();
    assert!(matches!(err, VcsError::CannotSign(_)), "{err:?}");
    assert_eq!(t.head(), second.id);
}

// ---- proposals and risk --------------------------------------------------------------------

fn fake_rsa_key() -> String {
    // Key-shaped base64 (64-char lines, RSA DER prefix); not a real key.
    let mut body = String::from("MIIEowIBAAKCAQEA");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    while body.len() < 64 * 25 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        body.push(alphabet[(x % 64) as usize] as char);
    }
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n", lines.join("\n"))
}

#[test]
fn prepare_commit_flags_a_private_key_as_critical() {
    let t = TestRepo::new();
    t.write("src/lib.rs", "pub fn a() {}\n");
    t.commit_all("base");
    let repo = t.open();
    assert!(matches!(git::prepare_commit(&repo, repo.workdir()), Err(VcsError::NothingStaged)));
    t.write("src/deploy_key.txt", fake_rsa_key());
    git::stage_paths(&repo, &["src/deploy_key.txt"]).unwrap();
    let p = git::prepare_commit(&repo, repo.workdir()).unwrap();
    assert_eq!(p.assessment.risk, Risk::Critical);
    assert!(p.assessment.reasons.iter().any(|r| r.contains("private key")), "{:?}", p.assessment.reasons);
    assert_eq!(p.message_source, MessageSource::Summary);
    assert_eq!(p.files, ["src/deploy_key.txt"]);
    assert!(p.diff_text.contains("+-----BEGIN RSA PRIVATE KEY-----"));
    let p = p.with_message("feat: deploy".into(), MessageSource::Model, repo.workdir());
    assert_eq!((p.assessment.risk, p.message_source), (Risk::Critical, MessageSource::Model));
}

#[test]
fn lockfile_and_ci_changes_are_high_risk() {
    let t = TestRepo::new();
    t.write("Cargo.lock", "# lock\n[[package]]\nname = \"a\"\n");
    t.write("src/main.rs", "fn main() {}\n");
    t.commit_all("base");
    t.write("Cargo.lock", "# lock\n[[package]]\nname = \"b\"\n");
    t.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    let repo = t.open();
    git::stage_paths(&repo, &["Cargo.lock", ".github/workflows/ci.yml"]).unwrap();
    let p = git::prepare_commit(&repo, repo.workdir()).unwrap();
    assert_eq!(p.assessment.risk, Risk::High);
    let reasons = p.assessment.reasons.join("\n");
    assert!(reasons.contains("lockfile") && reasons.contains("CI"), "{reasons}");
    assert!(p.message.starts_with("build: ") || p.message.starts_with("ci: "), "{}", p.message);
    assert!(
        p.message.contains("\n\n- .github/workflows/ci.yml (+2/-0)\n- Cargo.lock (+1/-1)\n"),
        "{}",
        p.message
    );
}

#[test]
fn summaries_follow_conventional_commits() {
    let t = TestRepo::new();
    t.write("README.md", "# x\n");
    t.write("src/engine/vcs/a.rs", "fn a() {}\n");
    t.commit_all("base");
    let repo = t.open();
    let summary = |paths: &[&str]| {
        git::stage_paths(&repo, paths).unwrap();
        let p = git::prepare_commit(&repo, repo.workdir()).unwrap();
        git::commit(&repo, &p.message, &CommitOptions::default()).unwrap();
        p.message.lines().next().unwrap().to_string()
    };
    t.write("README.md", "# x\nmore docs\n");
    assert_eq!(summary(&["README.md"]), "docs: update README.md");
    t.write("tests/engine/it.rs", "#[test] fn t() {}\n");
    assert_eq!(summary(&["tests/engine/it.rs"]), "test(engine): add it.rs");
    t.write("src/engine/vcs/b.rs", "fn b() {}\n");
    t.write("src/engine/vcs/c.rs", "fn c() {}\n");
    assert_eq!(summary(&["src/engine/vcs/b.rs", "src/engine/vcs/c.rs"]), "feat(vcs): add b.rs and c.rs");
    t.write("src/engine/vcs/a.rs", "fn a() { fixed() }\n");
    assert_eq!(summary(&["src/engine/vcs/a.rs"]), "fix(vcs): update a.rs");
    t.write("Cargo.toml", "[package]\nname = \"x\"\n");
    assert_eq!(summary(&["Cargo.toml"]), "build: add Cargo.toml");
}

// ---- uncommit ------------------------------------------------------------------------------

#[test]
fn uncommit_soft_resets_and_refuses_pushed_commits() {
    let t = TestRepo::new();
    t.write("a.txt", "a\n");
    let repo = t.open();
    git::stage_paths(&repo, &["a.txt"]).unwrap();
    let root = git::commit(&repo, "root", &CommitOptions::default()).unwrap();
    t.write("a.txt", "a2\n");
    git::stage_paths(&repo, &["a.txt"]).unwrap();
    let second = git::commit(&repo, "second", &CommitOptions::default()).unwrap();
    t.write("a.txt", "a3 unstaged\n");

    assert!(git::uncommit(&repo, &root.id).unwrap_err().to_string().contains("HEAD has moved on"));
    git::uncommit(&repo, &second.id).unwrap();
    assert_eq!(t.head(), root.id);
    assert_eq!(t.git(&["show", ":a.txt"]), "a2\n", "the change stays staged");
    assert_eq!(t.read("a.txt"), b"a3 unstaged\n");
    assert_eq!(t.git(&["status", "--porcelain"]), "MM a.txt\n");

    // The root commit: the branch goes back to unborn, everything staged.
    git::uncommit(&repo, &root.id).unwrap();
    assert!(matches!(repo.head().unwrap(), HeadInfo::Unborn { .. }));
    assert_eq!(t.git(&["status", "--porcelain"]), "AM a.txt\n");

    // Pushed: refused.
    let remote = tempfile::tempdir().unwrap();
    git_in(remote.path(), &["init", "-q", "--bare"]);
    t.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    let pushed = git::commit(&repo, "pushed", &CommitOptions::default()).unwrap();
    t.git(&["push", "-q", "-u", "origin", "main"]);
    t.git(&["fetch", "-q", "origin"]);
    let err = git::uncommit(&repo, &pushed.id).unwrap_err();
    assert_eq!(err.to_string(), "cannot undo the commit: it is already pushed to origin/main");
    assert_eq!(t.head(), pushed.id);
    fsck(&t);
}
