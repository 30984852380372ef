//! Temporary git repositories driven by the real `git` CLI, isolated from the machine's
//! configuration (HOME and XDG point at a temp dir, `GIT_CONFIG_NOSYSTEM=1`, and libgit2's
//! global/system/XDG search paths point at an empty directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Once, OnceLock};

use kv1nt::engine::git::Repo;
use tempfile::TempDir;

/// An empty directory that stands in for HOME (CLI) and libgit2's config search paths.
fn fake_home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kv1nt-git-home-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".config")).expect("create fake home");
        dir
    })
}

/// Points libgit2 away from ~/.gitconfig and /etc/gitconfig, once per process, before any
/// test touches libgit2.
fn isolate_libgit2() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let home = fake_home();
        for level in [git2::ConfigLevel::Global, git2::ConfigLevel::XDG, git2::ConfigLevel::System] {
            // SAFETY: runs inside `Once` before any test thread uses libgit2 (every test
            // creates its repository through this module first).
            unsafe { git2::opts::set_search_path(level, home).expect("set libgit2 search path") };
        }
    });
}

/// Runs git in `dir` with the isolated environment.
pub fn git_output(dir: &Path, args: &[&str]) -> Output {
    isolate_libgit2();
    let home = fake_home();
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("run git")
}

/// Runs git in `dir`, asserting success; its stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything the tests compare before and after an operation.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub head: String,
    pub status: String,
    pub diff: String,
    pub cached: String,
    /// Every file outside `.git`, path → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A repository in a temp dir with user.name/email set locally, on branch `main`.
pub struct TestRepo {
    pub dir: TempDir,
}

impl TestRepo {
    /// `git init -b main` with a local identity and no autocrlf.
    pub fn new() -> TestRepo {
        let repo = TestRepo::bare_identity();
        repo.git(&["config", "user.name", "Test User"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo
    }

    /// `git init -b main` without any identity configured.
    pub fn bare_identity() -> TestRepo {
        isolate_libgit2();
        let dir = tempfile::tempdir().expect("temp dir");
        git_in(dir.path(), &["init", "-q", "-b", "main"]);
        let repo = TestRepo { dir };
        repo.git(&["config", "core.autocrlf", "false"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn open(&self) -> Repo {
        Repo::open(self.path()).expect("open repo")
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    pub fn git_output(&self, args: &[&str]) -> Output {
        git_output(self.path(), args)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, bytes).expect("write file");
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path().join(rel)).expect("read file")
    }

    /// `git add -A && git commit -m msg`.
    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// HEAD, status, both diffs and every file's bytes.
    pub fn snapshot(&self) -> Snapshot {
        let mut files = BTreeMap::new();
        collect_files(self.path(), self.path(), &mut files);
        Snapshot {
            head: self.git(&["rev-parse", "HEAD"]),
            status: self.git(&["status", "--porcelain=v1", "-uall"]),
            diff: self.git(&["diff"]),
            cached: self.git(&["diff", "--cached"]),
            files,
        }
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        TestRepo::new()
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("dir entry");
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
            out.insert(rel, std::fs::read(&path).expect("read"));
        }
    }
}
