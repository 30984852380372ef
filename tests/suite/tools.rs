//! Integration tests for the model's file tools, on real temporary directories: path confinement
//! (`..`, absolute paths, symlinks, `.git/`), bounded and streamed reads, listing and grep with
//! ignore rules, search/replace proposals, atomic apply with stale checks, and argument parsing.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use kv1nt::engine::approval::FileChange;
use kv1nt::engine::store::sha256_hex;
use kv1nt::engine::tools::*;
use serde_json::json;

/// A workspace in a fresh temp dir (plus an "outside" sibling dir), with the tempdir kept alive.
struct Fixture {
    _tmp: tempfile::TempDir,
    ws: Workspace,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ws");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    let ws = Workspace::new(&root).unwrap();
    let root = ws.root().to_path_buf();
    Fixture { _tmp: tmp, ws, root, outside }
}

fn put(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn read(f: &Fixture, ledger: &mut ReadLedger, path: &str) -> Result<String, ToolError> {
    read_file(&f.ws, ledger, &ReadArgs { path: path.into(), start_line: None, end_line: None })
}

fn read_range(f: &Fixture, path: &str, s: Option<usize>, e: Option<usize>) -> Result<String, ToolError> {
    read_file(&f.ws, &mut ReadLedger::default(), &ReadArgs { path: path.into(), start_line: s, end_line: e })
}

fn edit(path: &str, blocks: &[(&str, &str)]) -> EditArgs {
    EditArgs {
        path: path.into(),
        edits: blocks
            .iter()
            .map(|(s, r)| SearchReplace { search: s.to_string(), replace: r.to_string() })
            .collect(),
    }
}

fn invalid(r: Result<impl std::fmt::Debug, ToolError>) -> String {
    match r {
        Err(ToolError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------- workspace

#[test]
fn resolve_relative_absolute_and_new_paths() {
    let f = fixture();
    put(&f.root, "src/a.rs", "a\n");
    let (abs, rel) = f.ws.resolve("src/a.rs", false).unwrap();
    assert_eq!((abs, rel.as_str()), (f.root.join("src/a.rs"), "src/a.rs"));
    let (_, rel) = f.ws.resolve(f.root.join("src/./a.rs").to_str().unwrap(), true).unwrap();
    assert_eq!(rel, "src/a.rs");
    let (_, rel) = f.ws.resolve("src/../src/a.rs", false).unwrap();
    assert_eq!(rel, "src/a.rs");
    // A new file in new subdirectories.
    let (abs, rel) = f.ws.resolve("new/deeper/file.rs", true).unwrap();
    assert_eq!((abs, rel.as_str()), (f.root.join("new/deeper/file.rs"), "new/deeper/file.rs"));
    assert_eq!(f.ws.resolve(".", false).unwrap().1, "");
}

#[test]
fn resolve_refuses_escapes() {
    let f = fixture();
    let m = invalid(f.ws.resolve("../outside/secret.txt", false));
    assert!(m.contains("outside the workspace"), "{m}");
    assert!(invalid(f.ws.resolve("a/../../x", true)).contains("outside the workspace"));
    let m = invalid(f.ws.resolve(f.outside.join("secret.txt").to_str().unwrap(), false));
    assert!(m.contains("outside the workspace"), "{m}");
    invalid(f.ws.resolve("/etc/passwd", false));

    // A symlinked dir inside pointing out, for reads, writes and new files below it.
    symlink(&f.outside, f.root.join("link")).unwrap();
    let m = invalid(f.ws.resolve("link/secret.txt", false));
    assert!(m.contains("through a symlink") && m.contains("outside the workspace"), "{m}");
    invalid(f.ws.resolve("link/new.txt", true));
    invalid(f.ws.resolve("link", false));
    // `..` after a symlink goes to the target's parent, as the OS would.
    invalid(f.ws.resolve("link/../outside/secret.txt", false));

    // A symlinked file pointing out.
    symlink(f.outside.join("secret.txt"), f.root.join("secret_link")).unwrap();
    assert!(invalid(f.ws.resolve("secret_link", false)).contains("through a symlink"));
    let mut ledger = ReadLedger::default();
    assert!(matches!(read(&f, &mut ledger, "secret_link"), Err(ToolError::Invalid(_))));
}

#[test]
fn resolve_follows_symlinks_that_stay_inside() {
    let f = fixture();
    put(&f.root, "real/a.txt", "a\n");
    symlink(f.root.join("real"), f.root.join("alias")).unwrap();
    let (abs, rel) = f.ws.resolve("alias/a.txt", true).unwrap();
    assert_eq!((abs, rel.as_str()), (f.root.join("real/a.txt"), "real/a.txt"));
}

#[test]
fn git_dir_is_readable_not_writable() {
    let f = fixture();
    put(&f.root, ".git/config", "[core]\n");
    put(&f.root, "sub/.git/config", "[core]\n");
    assert_eq!(f.ws.resolve(".git/config", false).unwrap().1, ".git/config");
    let mut ledger = ReadLedger::default();
    assert!(read(&f, &mut ledger, ".git/config").unwrap().contains("[core]"));
    assert!(invalid(f.ws.resolve(".git/config", true)).contains(".git"));
    invalid(f.ws.resolve("sub/.git/config", true));
    invalid(f.ws.resolve(".git/new_hook", true));
    // A symlink to .git does not get around it.
    symlink(f.root.join(".git"), f.root.join("g")).unwrap();
    invalid(f.ws.resolve("g/config", true));
    // Nor is the root writable.
    invalid(f.ws.resolve(".", true));
    let m = invalid(propose_write(
        &f.ws,
        &ledger,
        &WriteArgs { path: ".git/config".into(), content: "x".into() },
    ));
    assert!(m.contains(".git"), "{m}");
}

// ---------------------------------------------------------------- read_file

#[test]
fn read_numbers_lines_and_ranges() {
    let f = fixture();
    put(&f.root, "a.txt", "one\ntwo\r\nthree\nfour");
    let mut ledger = ReadLedger::default();
    let out = read(&f, &mut ledger, "a.txt").unwrap();
    assert_eq!(out, "    1\tone\n    2\ttwo\n    3\tthree\n    4\tfour");
    assert_eq!(ledger.seen("a.txt"), Some(sha256_hex(b"one\ntwo\r\nthree\nfour").as_str()));

    let out = read_range(&f, "a.txt", Some(2), Some(3)).unwrap();
    assert_eq!(out, "    2\ttwo\n    3\tthree\n[showing lines 2–3 of 4]");
    let out = read_range(&f, "a.txt", Some(3), None).unwrap();
    assert!(out.starts_with("    3\tthree\n    4\tfour"), "{out}");
    let out = read_range(&f, "a.txt", None, Some(1)).unwrap();
    assert!(out.starts_with("    1\tone\n[showing lines 1–1 of 4]"), "{out}");
    assert!(invalid(read_range(&f, "a.txt", Some(9), None)).contains("only 4 lines"));
    invalid(read_range(&f, "a.txt", Some(0), None));
    invalid(read_range(&f, "a.txt", Some(3), Some(2)));

    assert!(
        matches!(read(&f, &mut ledger, "nope.txt"), Err(ToolError::NotFound(m)) if m.contains("nope.txt"))
    );
    assert!(invalid(read(&f, &mut ledger, ".")).contains("directory"));
    put(&f.root, "empty.txt", "");
    assert!(read(&f, &mut ledger, "empty.txt").unwrap().contains("empty"));
}

#[test]
fn read_caps_lines_and_says_how_to_continue() {
    let f = fixture();
    let text: String = (1..=2500).map(|i| format!("line {i}\n")).collect();
    put(&f.root, "long.txt", &text);
    let mut ledger = ReadLedger::default();
    let out = read(&f, &mut ledger, "long.txt").unwrap();
    assert_eq!(out.lines().count(), 2001);
    assert!(out.contains(" 2000\tline 2000\n"));
    assert!(out.ends_with("call read_file with start_line=2001]"), "{out}");
    assert!(out.contains("[lines 2001–2500 not shown"), "{out}");
    let rest = read_range(&f, "long.txt", Some(2001), None).unwrap();
    assert!(rest.starts_with(" 2001\tline 2001\n") && rest.contains(" 2500\tline 2500"));

    // The byte cap: 100 lines of 4 KiB each is over 256 KiB.
    let wide: String = (0..100).map(|_| format!("{}\n", "x".repeat(4096))).collect();
    put(&f.root, "wide.txt", &wide);
    let out = read(&f, &mut ledger, "wide.txt").unwrap();
    assert!(out.len() <= MAX_READ_BYTES + 300);
    assert!(out.contains("not shown") && out.contains("call read_file with start_line="), "{out:.100}");

    // One line longer than a whole call: its head is shown, then the lines after it.
    put(&f.root, "one.txt", &format!("{}\nnext\n", "z".repeat(300 * 1024)));
    let out = read(&f, &mut ledger, "one.txt").unwrap();
    assert!(out.len() < MAX_READ_BYTES + 400 && out.contains("[line 1 is 307200 bytes long"));
    assert!(out.ends_with("\n    2\tnext"), "{}", &out[out.len() - 200..]);
}

#[test]
fn read_refuses_binary_and_non_utf8() {
    let f = fixture();
    fs::write(f.root.join("bin"), b"abc\0def").unwrap();
    fs::write(f.root.join("latin1.txt"), b"caf\xe9\n").unwrap();
    let mut ledger = ReadLedger::default();
    assert!(invalid(read(&f, &mut ledger, "bin")).contains("binary file"));
    assert!(invalid(read(&f, &mut ledger, "latin1.txt")).contains("binary file"));
    assert_eq!(ledger.seen("bin"), None);
    // Multi-byte UTF-8 straddling the 64 KiB chunk boundary is fine.
    let mut s = "a".repeat(64 * 1024 - 1);
    s.push_str("é\n");
    put(&f.root, "utf8.txt", &s);
    assert!(read(&f, &mut ledger, "utf8.txt").unwrap().ends_with("é"));
}

#[test]
fn read_huge_file_needs_a_range() {
    let f = fixture();
    let path = f.root.join("huge.log");
    let mut w = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    let mut lines = 0;
    while lines * 64 < 50 * 1024 * 1024 {
        let line = format!("log line number {:08} with some padding text to make it long\n", lines + 1);
        assert_eq!(line.len(), 64);
        w.write_all(line.as_bytes()).unwrap();
        lines += 1;
    }
    drop(w);
    let mut ledger = ReadLedger::default();
    let m = invalid(read(&f, &mut ledger, "huge.log"));
    assert!(m.contains("start_line") && m.contains("MiB"), "{m}");
    let out = read_file(
        &f.ws,
        &mut ledger,
        &ReadArgs { path: "huge.log".into(), start_line: Some(500_000), end_line: Some(500_002) },
    )
    .unwrap();
    assert!(out.starts_with("500000\tlog line number 00500000"), "{out}");
    assert!(out.contains("500002\tlog line number 00500002 "), "{out}");
    assert!(out.contains(&format!("of {lines}]")), "{out}");
    let whole = fs::read(&path).unwrap();
    assert_eq!(ledger.seen("huge.log"), Some(sha256_hex(&whole).as_str()));
}

// ---------------------------------------------------------------- list_dir, grep

fn ignored_tree() -> Fixture {
    let f = fixture();
    put(&f.root, ".gitignore", "target/\n*.log\n");
    put(&f.root, "src/main.rs", "fn main() {\n    println!(\"Hello\");\n}\n");
    put(&f.root, "src/lib/deep/x.rs", "fn hello() {}\n");
    put(&f.root, "target/out.rs", "fn main() {}\n");
    put(&f.root, "debug.log", "fn main\n");
    put(&f.root, ".hidden", "fn main\n");
    put(&f.root, ".git/HEAD", "fn main\n");
    fs::write(f.root.join("blob.bin"), b"fn main\0").unwrap();
    f
}

#[test]
fn list_dir_respects_ignores_and_depth() {
    let f = ignored_tree();
    let out = list_dir(&f.ws, &ListArgs::default()).unwrap();
    assert_eq!(out, "./\n  blob.bin\n  src/\n    lib/\n    main.rs");
    let out = list_dir(&f.ws, &ListArgs { path: Some("src".into()), depth: Some(5) }).unwrap();
    assert_eq!(out, "src/\n  lib/\n    deep/\n      x.rs\n  main.rs");
    invalid(list_dir(&f.ws, &ListArgs { path: Some("src/main.rs".into()), depth: None }));
    assert!(matches!(
        list_dir(&f.ws, &ListArgs { path: Some("nope".into()), depth: None }),
        Err(ToolError::NotFound(_))
    ));
    invalid(list_dir(&f.ws, &ListArgs { path: Some("..".into()), depth: None }));
}

#[test]
fn list_dir_truncates() {
    let f = fixture();
    for i in 0..1005 {
        put(&f.root, &format!("f{i:04}"), "");
    }
    let out = list_dir(&f.ws, &ListArgs::default()).unwrap();
    assert_eq!(out.lines().count(), 1 + 1000 + 1);
    assert!(out.ends_with("use a smaller depth]"));
}

fn grep_args(pattern: &str) -> GrepArgs {
    GrepArgs { pattern: pattern.into(), ..GrepArgs::default() }
}

#[test]
fn grep_finds_and_respects_ignores() {
    let f = ignored_tree();
    let out = grep(&f.ws, &grep_args(r"fn \w+")).unwrap();
    assert_eq!(
        out,
        "src/lib/deep/x.rs:1: fn hello() {}\nsrc/main.rs:1: fn main() {\n[1 binary file(s) skipped]"
    );
    let out = grep(&f.ws, &GrepArgs { case_insensitive: true, ..grep_args("hello") }).unwrap();
    assert_eq!(out.lines().nth(1), Some("src/main.rs:2:     println!(\"Hello\");"));
    let out = grep(&f.ws, &GrepArgs { path: Some("src/main.rs".into()), ..grep_args("Hello") }).unwrap();
    assert_eq!(out, "src/main.rs:2:     println!(\"Hello\");");
    let out = grep(&f.ws, &GrepArgs { glob: Some("x.*".into()), ..grep_args("fn") }).unwrap();
    assert_eq!(out, "src/lib/deep/x.rs:1: fn hello() {}");
    let out = grep(&f.ws, &grep_args("zzz")).unwrap();
    assert!(out.starts_with("no matches for `zzz`"), "{out}");

    let m = invalid(grep(&f.ws, &grep_args("fn (")));
    assert!(m.contains("invalid regex `fn (`") && m.contains("unclosed group"), "{m}");
}

#[test]
fn grep_limits_and_cuts() {
    let f = fixture();
    let text: String = (0..50).map(|i| format!("match {i} {}\n", "y".repeat(400))).collect();
    put(&f.root, "a.txt", &text);
    let out = grep(&f.ws, &GrepArgs { max_results: Some(10), ..grep_args("match") }).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 11);
    assert!(lines[0].ends_with('…') && lines[0].chars().count() < 330);
    assert!(lines[10].starts_with("[stopped at 10 matches"));
}

// ---------------------------------------------------------------- edit_file, write_file

#[test]
fn edit_applies_blocks_in_order() {
    let f = fixture();
    put(&f.root, "a.rs", "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n");
    let mut ledger = ReadLedger::default();
    read(&f, &mut ledger, "a.rs").unwrap();
    // The second block matches only after the first has been applied.
    let p =
        propose_edit(&f.ws, &ledger, &edit("a.rs", &[("    1\n", "    10\n    11\n"), ("11\n}", "12\n}")]))
            .unwrap();
    assert_eq!(p.change.after.as_deref(), Some("fn a() {\n    10\n    12\n}\n\nfn b() {\n    2\n}\n"));
    assert_eq!(p.change.before.as_deref(), Some("fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n"));
    assert_eq!(p.summary, "edit a.rs: 2 blocks, +2 −1 lines");
    assert_eq!(p.before_hash.as_deref(), ledger.seen("a.rs"));
    // Nothing written yet.
    assert!(fs::read_to_string(f.root.join("a.rs")).unwrap().contains("    1\n"));
}

#[test]
fn edit_errors_are_precise_and_all_or_nothing() {
    let f = fixture();
    put(&f.root, "a.rs", "fn alpha(x: i32) {\n    x + 1\n}\nfn beta() {\n    x + 1\n}\n");
    let ledger = ReadLedger::default();
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("fn alpha(x: u32) {\n", "")])));
    assert!(m.contains("`fn alpha(x: u32) {`") && m.contains("line 1: `fn alpha(x: i32) {`"), "{m}");
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("    x + 1\n", "    x + 2\n")])));
    assert!(m.contains("2 times") && m.contains("lines 2, 5") && m.contains("more surrounding"), "{m}");
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("fn beta", "fn gamma"), ("", "x")])));
    assert!(m.contains("edit 2 of 2") && m.contains("empty"), "{m}");
    // First block fine, second missing: no proposal at all.
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("fn beta", "fn gamma"), ("nope", "x")])));
    assert!(m.contains("edit 2 of 2"), "{m}");
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("fn beta", "fn beta")])));
    assert!(m.contains("unchanged"), "{m}");
    let m = invalid(propose_edit(&f.ws, &ledger, &edit("a.rs", &[("fn beta() {\n    x + 2", "")])));
    assert!(m.contains("matches line 4 exactly, but the lines after it differ"), "{m}");
}

#[test]
fn edit_preserves_crlf() {
    let f = fixture();
    fs::write(f.root.join("w.txt"), "one\r\ntwo\r\nthree\r\n").unwrap();
    let ledger = ReadLedger::default();
    let p = propose_edit(&f.ws, &ledger, &edit("w.txt", &[("one\ntwo\n", "one\n2\n2b\n")])).unwrap();
    assert_eq!(p.change.after.as_deref(), Some("one\r\n2\r\n2b\r\nthree\r\n"));
    let p =
        propose_write(&f.ws, &ledger, &WriteArgs { path: "w.txt".into(), content: "a\nb\n".into() }).unwrap();
    assert_eq!(p.change.after.as_deref(), Some("a\r\nb\r\n"));
}

#[test]
fn edit_refuses_stale_and_deleted_files() {
    let f = fixture();
    put(&f.root, "a.rs", "x\n");
    let mut ledger = ReadLedger::default();
    read(&f, &mut ledger, "a.rs").unwrap();
    put(&f.root, "a.rs", "y\n");
    let r = propose_edit(&f.ws, &ledger, &edit("a.rs", &[("y", "z")]));
    assert_eq!(r, Err(ToolError::Stale("a.rs changed on disk since you read it; read it again".into())));
    let r = propose_write(&f.ws, &ledger, &WriteArgs { path: "a.rs".into(), content: "q".into() });
    assert!(matches!(r, Err(ToolError::Stale(_))));

    read(&f, &mut ledger, "a.rs").unwrap();
    fs::remove_file(f.root.join("a.rs")).unwrap();
    match propose_edit(&f.ws, &ledger, &edit("a.rs", &[("y", "z")])) {
        Err(ToolError::NotFound(m)) => assert!(m.contains("`a.rs` no longer exists"), "{m}"),
        other => panic!("{other:?}"),
    }
    match propose_edit(&f.ws, &ledger, &edit("never.rs", &[("y", "z")])) {
        Err(ToolError::NotFound(m)) => assert!(m.contains("write_file"), "{m}"),
        other => panic!("{other:?}"),
    }
    fs::write(f.root.join("bin"), b"\0\x01").unwrap();
    assert!(invalid(propose_edit(&f.ws, &ledger, &edit("bin", &[("a", "b")]))).contains("binary file"));
}

#[test]
fn write_new_and_rewrite() {
    let f = fixture();
    let ledger = ReadLedger::default();
    let p = propose_write(&f.ws, &ledger, &WriteArgs { path: "n/new.rs".into(), content: "a\nb\n".into() })
        .unwrap();
    assert_eq!(p.change, FileChange { path: "n/new.rs".into(), before: None, after: Some("a\nb\n".into()) });
    assert_eq!((p.summary.as_str(), p.before_hash), ("create n/new.rs: 2 lines", None));
    put(&f.root, "old.rs", "a\nb\n");
    let p = propose_write(&f.ws, &ledger, &WriteArgs { path: "old.rs".into(), content: "a\nc\nd\n".into() })
        .unwrap();
    assert_eq!(p.summary, "rewrite old.rs: +2 −1 lines");
    assert_eq!(p.before_hash, Some(sha256_hex(b"a\nb\n")));
    invalid(propose_write(&f.ws, &ledger, &WriteArgs { path: "old.rs".into(), content: "a\nb\n".into() }));
}

// ---------------------------------------------------------------- apply

#[test]
fn apply_writes_exact_bytes_keeps_mode_and_updates_ledger() {
    let f = fixture();
    put(&f.root, "run.sh", "#!/bin/sh\necho hi\n");
    fs::set_permissions(f.root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let mut ledger = ReadLedger::default();
    read(&f, &mut ledger, "run.sh").unwrap();
    let p = propose_edit(&f.ws, &ledger, &edit("run.sh", &[("hi", "hé\r\n\tthere")])).unwrap();
    apply(&f.ws, &mut ledger, &p.change, p.before_hash.as_deref()).unwrap();
    let bytes = fs::read(f.root.join("run.sh")).unwrap();
    assert_eq!(bytes, "#!/bin/sh\necho hé\r\n\tthere\n".as_bytes());
    let mode = fs::metadata(f.root.join("run.sh")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(ledger.seen("run.sh"), Some(sha256_hex(&bytes).as_str()));
    // No temp files left behind.
    let names: Vec<_> = fs::read_dir(&f.root).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("run.sh")]);
    // The ledger now allows a second edit without re-reading.
    let p = propose_edit(&f.ws, &ledger, &edit("run.sh", &[("there", "you")])).unwrap();
    apply(&f.ws, &mut ledger, &p.change, p.before_hash.as_deref()).unwrap();
}

#[test]
fn apply_creates_dirs_and_deletes() {
    let f = fixture();
    let mut ledger = ReadLedger::default();
    let p =
        propose_write(&f.ws, &ledger, &WriteArgs { path: "a/b/c.txt".into(), content: "hi".into() }).unwrap();
    apply(&f.ws, &mut ledger, &p.change, None).unwrap();
    assert_eq!(fs::read_to_string(f.root.join("a/b/c.txt")).unwrap(), "hi");
    // Creating again over the now-existing file is stale.
    let r = apply(&f.ws, &mut ledger, &p.change, None);
    assert!(matches!(r, Err(ToolError::Stale(m)) if m.contains("a/b/c.txt")));

    let del = FileChange { path: "a/b/c.txt".into(), before: Some("hi".into()), after: None };
    apply(&f.ws, &mut ledger, &del, Some(&sha256_hex(b"hi"))).unwrap();
    assert!(!f.root.join("a/b/c.txt").exists());
    assert_eq!(ledger.seen("a/b/c.txt"), None);
}

#[test]
fn apply_refuses_when_file_changed() {
    let f = fixture();
    put(&f.root, "a.txt", "one\n");
    let mut ledger = ReadLedger::default();
    let p =
        propose_write(&f.ws, &ledger, &WriteArgs { path: "a.txt".into(), content: "two\n".into() }).unwrap();
    put(&f.root, "a.txt", "changed\n");
    let r = apply(&f.ws, &mut ledger, &p.change, p.before_hash.as_deref());
    assert!(matches!(r, Err(ToolError::Stale(m)) if m.contains("a.txt changed on disk")));
    assert_eq!(fs::read_to_string(f.root.join("a.txt")).unwrap(), "changed\n");
    fs::remove_file(f.root.join("a.txt")).unwrap();
    let r = apply(&f.ws, &mut ledger, &p.change, p.before_hash.as_deref());
    assert!(matches!(r, Err(ToolError::Stale(m)) if m.contains("deleted")));
    assert!(!f.root.join("a.txt").exists());
    // A change aimed inside .git is refused at apply time too.
    let git = FileChange { path: ".git/config".into(), before: None, after: Some("x".into()) };
    invalid(apply(&f.ws, &mut ledger, &git, None));
}

/// Runs `f` on a thread whose effective capabilities lack CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
/// and CAP_FOWNER, so file permissions bind even when the tests run as root (as CI does).
/// Capabilities are per thread on Linux and a raw `capset` changes only the calling thread;
/// the thread ends with `f`, so no other test runs without them.
fn without_dac_override<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            drop_dac_capabilities();
            f()
        })
        .join()
        .unwrap()
    })
}

fn drop_dac_capabilities() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const DAC: u32 = 1 << 1 | 1 << 2 | 1 << 3; // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
    let mut header = Header { version: VERSION_3, pid: 0 };
    // Version 3: {effective, permitted, inheritable} for capabilities 0–31, then for 32–63.
    let mut data = [0u32; 6];
    // SAFETY: a valid version-3 header (pid 0: this thread) and the six-u32 data it expects.
    let got = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    assert_eq!(got, 0, "capget: {}", std::io::Error::last_os_error());
    data[0] &= !DAC;
    // SAFETY: as above; dropping effective capabilities is always allowed.
    let set = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    assert_eq!(set, 0, "capset: {}", std::io::Error::last_os_error());
}

#[test]
fn apply_failure_leaves_original_intact() {
    let f = fixture();
    put(&f.root, "ro/a.txt", "original\n");
    let dir = f.root.join("ro");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o555)).unwrap();
    let mut ledger = ReadLedger::default();
    let change = FileChange { path: "ro/a.txt".into(), before: None, after: Some("new\n".into()) };
    // Root ignores directory permissions: apply where they bind for root too.
    let (probe, r) = without_dac_override(|| {
        let probe = fs::write(dir.join("probe"), "");
        (probe, apply(&f.ws, &mut ledger, &change, Some(&sha256_hex(b"original\n"))))
    });
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(probe.is_err(), "the read-only directory took a new file: nothing would be tested");
    assert!(matches!(r, Err(ToolError::Io(m)) if m.contains("ro/a.txt")));
    assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "original\n");
}

// ---------------------------------------------------------------- specs, parse_call

#[test]
fn specs_cover_every_tool_with_object_schemas() {
    let specs = tool_specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, TOOL_NAMES);
    for s in &specs {
        assert_eq!(s.input_schema["type"], "object", "{}", s.name);
        assert_eq!(s.input_schema["additionalProperties"], false, "{}", s.name);
        assert!(s.description.len() > 40);
    }
    let edit = specs.iter().find(|s| s.name == "edit_file").unwrap();
    assert!(edit.description.contains("exactly once"));
}

#[test]
fn parse_call_accepts_objects_and_json_strings() {
    let r = parse_call("read_file", &json!({"path": "a.rs", "start_line": 3, "end_line": null})).unwrap();
    assert_eq!(r, ToolInput::Read(ReadArgs { path: "a.rs".into(), start_line: Some(3), end_line: None }));
    assert!(!r.mutates());
    let r = parse_call("read_file", &json!(r#"{"path": "a.rs", "start_line": "3"}"#)).unwrap();
    assert_eq!(r, ToolInput::Read(ReadArgs { path: "a.rs".into(), start_line: Some(3), end_line: None }));
    let r = parse_call("list_dir", &json!("")).unwrap();
    assert_eq!(r, ToolInput::List(ListArgs::default()));
    let r =
        parse_call("grep", &json!({"pattern": "x", "case_insensitive": true, "max_results": 5.0})).unwrap();
    assert_eq!(
        r,
        ToolInput::Grep(GrepArgs { case_insensitive: true, max_results: Some(5), ..grep_args("x") })
    );
    let r =
        parse_call("edit_file", &json!({"path": "a", "edits": [{"search": "s", "replace": ""}]})).unwrap();
    assert!(r.mutates());
    assert_eq!(r, ToolInput::Edit(edit("a", &[("s", "")])));
    let r = parse_call("write_file", &json!({"path": "a", "content": ""})).unwrap();
    assert!(r.mutates());
    let r = parse_call("ask_user", &json!({"question": "Which?"})).unwrap();
    assert_eq!(r, ToolInput::AskUser { question: "Which?".into() });
}

#[test]
fn parse_call_errors_are_precise() {
    let m = invalid(parse_call("read_file", &json!("{\"path\": ")));
    assert!(m.starts_with("read_file: the arguments are not valid JSON"), "{m}");
    let m = invalid(parse_call("read_file", &json!({"path": "a", "line": 3})));
    assert!(m.contains("unknown field `line`") && m.contains("`path` (required)"), "{m}");
    let m = invalid(parse_call("edit_file", &json!({"path": "a"})));
    assert!(m.contains("missing required field `edits`"), "{m}");
    let m = invalid(parse_call("run_shell", &json!({})));
    assert!(m.contains("unknown tool `run_shell`") && m.contains("read_file, list_dir, grep"), "{m}");
    let m = invalid(parse_call("read_file", &json!({"path": "a", "start_line": "ten"})));
    assert!(m.contains("field `start_line` must be an integer ≥ 1, got a string (\"ten\")"), "{m}");
    let m = invalid(parse_call("read_file", &json!({"path": "a", "start_line": 5, "end_line": 2})));
    assert!(m.contains("end_line (2)"), "{m}");
    let m = invalid(parse_call("read_file", &json!({"path": 5})));
    assert!(m.contains("field `path` must be a string, got a number (5)"), "{m}");
    let m = invalid(parse_call("edit_file", &json!({"path": "a", "edits": [{"search": "s"}]})));
    assert!(m.contains("edits[0] is missing `replace`"), "{m}");
    let m = invalid(parse_call("edit_file", &json!({"path": "a", "edits": []})));
    assert!(m.contains("`edits` is empty"), "{m}");
    let m = invalid(parse_call("grep", &json!([1, 2])));
    assert!(m.contains("must be a JSON object, got an array"), "{m}");
    let m = invalid(parse_call("list_dir", &json!({"depth": 0})));
    assert!(m.contains("`depth` must be an integer from 1 to"), "{m}");
}
