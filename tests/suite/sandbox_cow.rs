//! Transactional runs, judged from outside: a command that deletes one tracked file, rewrites
//! another and creates a third leaves the real tree untouched and reports exactly those three
//! effects (with their bytes before and after); a git-ignored `target/` it writes is written
//! for real (write-through, existing or new); a run that changes nothing reports nothing.
//! Where copy-on-write is unavailable (`sandbox.mode = "off"`) the effects land, and the change
//! set carries the pre-images that restore them.

use std::path::Path;

use kv1nt::engine::sandbox::{
    CancellationToken, ChangeSet, ChangeSetState, ExecutionResult, Program, RunDir, SandboxConfig,
    SandboxMode, execute,
};

use crate::support::git::git_in;

const COMMAND: &str = "rm b.txt && printf 'A\\r\\n' > a.txt && echo c > c.txt && mkdir -p target/deep \
                       && echo built > target/deep/out && echo log > debug.log && echo done";

fn repository(dir: &Path, with_target: bool) {
    std::fs::write(dir.join("a.txt"), b"a\xff\n").unwrap();
    std::fs::write(dir.join("b.txt"), "b\n").unwrap();
    std::fs::write(dir.join(".gitignore"), "target/\n*.log\n").unwrap();
    if with_target {
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("target/old"), "old\n").unwrap();
    }
    git_in(dir, &["init", "-q", "-b", "main"]);
    git_in(dir, &["add", "a.txt", "b.txt", ".gitignore"]);
    git_in(dir, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start"]);
}

async fn run(dir: &Path, command: &str, mode: SandboxMode, bubblewrap: bool) -> ExecutionResult {
    crate::support::sandbox::use_built_helper();
    let program = Program::Command { argv: vec!["sh".into(), "-c".into(), command.into()] };
    let config = SandboxConfig { mode, bubblewrap, ..SandboxConfig::default() };
    let ws = RunDir::Transaction(dir.to_path_buf());
    execute(program, ws, None, &config, CancellationToken::new(), |_, _| {}).await.expect("the run starts")
}

/// A changed file as (path, before, after).
type Effect<'a> = (&'a str, Option<&'a [u8]>, Option<&'a [u8]>);

fn paths(set: &ChangeSet) -> Vec<Effect<'_>> {
    set.files.iter().map(|f| (f.path.as_str(), f.before.as_deref(), f.after.as_deref())).collect()
}

const EXPECTED: [Effect<'static>; 3] = [
    ("a.txt", Some(b"a\xff\n"), Some(b"A\r\n")),
    ("b.txt", Some(b"b\n"), None),
    ("c.txt", None, Some(b"c\n")),
];

#[tokio::test]
async fn a_command_s_effects_come_back_as_a_change_set_and_ignored_build_output_writes_through() {
    for (bubblewrap, with_target) in [(false, true), (true, false)] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        repository(dir, with_target);
        let r = run(dir, COMMAND, SandboxMode::Enforce, bubblewrap).await;
        assert!(r.success && r.stdout.contains("done"), "{r:?}");
        assert!(r.layers_applied.iter().any(|l| l == "copy-on-write"), "{:?}", r.layers_applied);
        let set = r.changes.expect("a transactional run reports its changes");
        assert_eq!(set.state, ChangeSetState::Pending);
        assert_eq!(paths(&set), EXPECTED, "bwrap {bubblewrap}");
        assert!(set.not_carried.is_empty(), "{:?}", set.not_carried);
        // Nothing tracked or new reached the tree…
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"a\xff\n");
        assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), b"b\n");
        assert!(!dir.join("c.txt").exists());
        // …but git-ignored output did, in an existing or a new ignored directory.
        assert_eq!(std::fs::read_to_string(dir.join("target/deep/out")).unwrap(), "built\n");
        assert_eq!(std::fs::read_to_string(dir.join("debug.log")).unwrap(), "log\n");
        if with_target {
            assert_eq!(std::fs::read_to_string(dir.join("target/old")).unwrap(), "old\n");
        }
        assert!(set.ignored_written > usize::from(!with_target));
    }
}

#[tokio::test]
async fn a_run_that_changes_nothing_reports_an_empty_change_set() {
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path(), true);
    let r = run(
        tmp.path(),
        "cat a.txt > /dev/null && touch a.txt && cp b.txt b.txt.tmp && mv b.txt.tmp b.txt",
        SandboxMode::Enforce,
        false,
    )
    .await;
    assert!(r.success, "{r:?}");
    let set = r.changes.unwrap();
    assert!(set.is_empty(), "{set:?}");
}

#[tokio::test]
async fn without_copy_on_write_the_effects_land_and_the_change_set_holds_their_pre_images() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    repository(dir, true);
    let r = run(dir, COMMAND, SandboxMode::Off, false).await;
    assert!(r.success, "{r:?}");
    let set = r.changes.unwrap();
    assert_eq!(set.state, ChangeSetState::Recorded);
    assert_eq!(paths(&set), EXPECTED);
    assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"A\r\n");
    assert!(!dir.join("b.txt").exists());
}

#[tokio::test]
async fn a_deleted_directory_lists_each_of_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("docs/sub")).unwrap();
    std::fs::write(dir.join("docs/x.md"), "x\n").unwrap();
    std::fs::write(dir.join("docs/sub/y.md"), "y\n").unwrap();
    let r = run(dir, "rm -r docs && mkdir docs && echo z > docs/z.md", SandboxMode::Enforce, false).await;
    assert!(r.success, "{r:?}");
    let set = r.changes.unwrap();
    let expected: Vec<Effect> = vec![
        ("docs/sub/y.md", Some(b"y\n"), None),
        ("docs/x.md", Some(b"x\n"), None),
        ("docs/z.md", None, Some(b"z\n")),
    ];
    assert_eq!(paths(&set), expected);
    assert!(dir.join("docs/sub/y.md").exists());
}
