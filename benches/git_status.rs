//! Git engine cost on a 10,000-file repository with 20 changed files (10 staged, 10 not):
//! `status()` plus the staged and unstaged structured diffs of the changed files.

use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use kv1nt::engine::git::{self, Repo};

const DIRS: usize = 100;
const FILES_PER_DIR: usize = 100;
const CHANGED: usize = 20;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

fn file_text(d: usize, f: usize) -> String {
    (0..20).map(|l| format!("// dir {d} file {f} line {l}: some representative source text\n")).collect()
}

/// Builds the repository once: every file committed, then 20 files changed, half of them staged.
fn build_repo(root: &Path) -> Vec<String> {
    git(root, &["init", "-q", "-b", "main"]);
    for d in 0..DIRS {
        let dir = root.join(format!("src/mod{d:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES_PER_DIR {
            std::fs::write(dir.join(format!("file{f:03}.rs")), file_text(d, f)).expect("write");
        }
    }
    git(root, &["add", "-A"]);
    git(root, &["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "base"]);
    let mut changed = Vec::new();
    for i in 0..CHANGED {
        let (d, f) = (i * 5, i * 3);
        let rel = format!("src/mod{d:03}/file{f:03}.rs");
        let text = file_text(d, f).replace("line 10:", "line 10 (edited):");
        std::fs::write(root.join(&rel), text).expect("write");
        if i % 2 == 0 {
            git(root, &["add", &rel]);
        }
        changed.push(rel);
    }
    changed
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let changed = build_repo(dir.path());
    let paths: Vec<&str> = changed.iter().map(String::as_str).collect();
    let repo = Repo::open(dir.path()).expect("open");
    let mut group = c.benchmark_group("git");
    group.sample_size(20);
    group.bench_function("status_and_diffs_10k_files_20_changed", |b| {
        b.iter(|| {
            let status = git::status(&repo).expect("status");
            assert_eq!(status.len(), CHANGED);
            let staged = git::staged(&repo, &paths).expect("staged");
            let unstaged = git::unstaged(&repo, &paths).expect("unstaged");
            assert_eq!((staged.len(), unstaged.len()), (CHANGED / 2, CHANGED / 2));
        })
    });
    group.bench_function("status_only_10k_files_20_changed", |b| {
        b.iter(|| git::status(&repo).expect("status"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
