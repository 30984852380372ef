//! `kv1nt undo` and `kv1nt rewind N` as a script runs them (stdin not a terminal), on real git
//! repositories with an isolated data directory, judged by the bytes of the files: edits made
//! through `kv1nt exec` and changes recorded through the `Store` API as the engine records them
//! come back byte-exactly (CRLF, non-UTF-8, deleted and created files); without `--yes`, on a
//! conflict without `--force`, with a bad session or an unusable database, nothing changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::git::TestRepo;
use crate::support::{ScriptedServer, Turn, Wire, closed_port_url};
use kv1nt::engine::store::{ByteChange, Store};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");

/// One file of a recorded change: path, before, after (`None`: absent).
pub(super) type FileEdit<'a> = (&'a str, Option<&'a [u8]>, Option<&'a [u8]>);

/// A git repository and a kv1nt home (data, config) beside it.
pub(super) struct Fx {
    pub repo: TestRepo,
    pub home: tempfile::TempDir,
}

impl Fx {
    pub fn new() -> Fx {
        Fx { repo: TestRepo::new(), home: tempfile::tempdir().unwrap() }
    }

    /// The workspace as kv1nt names it (canonical: what the session records as its cwd).
    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.repo.path()).unwrap()
    }

    pub fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    pub fn store(&self) -> Store {
        Store::open(&self.data()).unwrap()
    }

    /// The file's bytes, `None` when absent.
    pub fn bytes(&self, rel: &str) -> Option<Vec<u8>> {
        std::fs::read(self.repo.path().join(rel)).ok()
    }

    /// kv1nt in the repository, isolated, no model reachable unless the test points it at one.
    pub fn kv1nt(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KV1NT_HOME", self.data())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("ANTHROPIC_BASE_URL", closed_port_url())
            .env("KV1NT_FALLBACK", "none")
            .current_dir(self.repo.path())
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.kv1nt(args).output().expect("run kv1nt")
    }

    /// Records a change as the engine does (pending, then the files written, then applied).
    pub fn change(&self, store: &Store, session: &str, files: &[FileEdit]) -> i64 {
        let changes: Vec<ByteChange> = files
            .iter()
            .map(|(path, before, after)| ByteChange { path, before: *before, after: *after })
            .collect();
        let id = store.begin_change_bytes(session, "edit", &changes).unwrap();
        for (path, _, after) in files {
            match after {
                Some(bytes) => self.repo.write(path, bytes),
                None => std::fs::remove_file(self.repo.path().join(path)).unwrap(),
            }
        }
        store.mark_change(id, "applied").unwrap();
        id
    }

    /// A session that worked in this repository.
    pub fn session(&self, store: &Store) -> String {
        store.create_session(&self.root().display().to_string(), "openai", "m").unwrap().id
    }

    pub fn states(&self, store: &Store, session: &str) -> Vec<String> {
        store.changes(session).unwrap().into_iter().map(|c| c.state).collect()
    }

    /// Files kv1nt's restore leaves beside targets while in flight (none may remain).
    pub fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for entry in walk(self.repo.path()) {
            let name = entry.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains(".kv1nt.") {
                found.push(name);
            }
        }
        let journal = self.data().join("restore-journal");
        found.extend(
            std::fs::read_dir(journal)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().display().to_string()),
        );
        found
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != ".git" {
                out.extend(walk(&path));
            }
        } else {
            out.push(path);
        }
    }
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn edits_made_by_exec_are_undone_byte_exactly_only_with_yes() {
    let fx = Fx::new();
    fx.repo.write("a.txt", "A0\r\nsecond\r\n");
    fx.repo.commit_all("init");
    let server = ScriptedServer::start(
        Wire::OpenAi,
        vec![
            Turn::text(&[])
                .tool_call("w1", "write_file", json!({"path": "a.txt", "content": "A1\nsecond\n"}))
                .tool_call("w2", "write_file", json!({"path": "new/made.txt", "content": "made\n"})),
            Turn::text(&["Done."]),
        ],
    )
    .await;
    let mut cmd = fx.kv1nt(&["exec", "--approval", "auto-edit", "change a.txt and make a file"]);
    cmd.env("OPENAI_BASE_URL", server.base_url()).env("KV1NT_PROVIDER", "openai").env("OPENAI_API_KEY", "k");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert!(out.status.success(), "exec: {}", stderr(&out));
    let edited = fx.bytes("a.txt").unwrap();
    assert_ne!(edited, b"A0\r\nsecond\r\n", "exec edited a.txt");
    assert_eq!(fx.bytes("new/made.txt").as_deref(), Some(&b"made\n"[..]));

    // A script without --yes: refused, nothing touched.
    let out = fx.run(&["undo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(stdout(&out).contains("re-create") || stdout(&out).contains("delete"), "{}", stdout(&out));
    assert!(stdout(&out).contains("new/made.txt"), "shows the file first: {}", stdout(&out));
    assert_eq!(fx.bytes("a.txt").unwrap(), edited);
    assert!(fx.bytes("new/made.txt").is_some());

    // One change per write: the last (the created file) goes first, then a.txt comes back.
    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Restored: undo change #"), "{}", stdout(&out));
    assert_eq!(fx.bytes("new/made.txt"), None, "the created file is gone");
    assert_eq!(fx.bytes("a.txt").unwrap(), edited, "only the last change");
    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(fx.bytes("a.txt").unwrap(), b"A0\r\nsecond\r\n", "byte-exact, CRLF kept");
    assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());

    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "Nothing to undo in this session.");

    let audit = fx.store().audit_entries(None, 100).unwrap();
    let last = audit.last().unwrap();
    assert_eq!((last.action.as_str(), last.decision.as_str()), ("edit", "approved-once"));
    assert_eq!(last.note.as_deref(), Some("kv1nt undo --yes"));
    assert!(last.target.contains("a.txt"), "{last:?}");
}

#[test]
fn non_utf8_deleted_and_created_files_come_back_byte_exactly() {
    let fx = Fx::new();
    let (bin0, gone0) = (b"\xff\xfe\x00bin\r\nary\x80".to_vec(), b"keep me\r\n\xe9t\xe9\n".to_vec());
    fx.repo.write("bin.dat", &bin0);
    fx.repo.write("sub/gone.txt", &gone0);
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    let id = fx.change(
        &store,
        &s,
        &[
            ("bin.dat", Some(&bin0), Some(b"\xfe new\r\n")),
            ("sub/gone.txt", Some(&gone0), None),
            ("made.rs", None, Some(b"fn main() {}\n")),
        ],
    );
    assert_eq!(fx.bytes("sub/gone.txt"), None);

    let out = fx.run(&["undo", "--yes", "--session", &s[..4]]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains(&format!("undo change #{id}")), "{shown}");
    assert!(shown.contains("re-create") && shown.contains("delete") && shown.contains("binary"), "{shown}");
    assert_eq!(fx.bytes("bin.dat").unwrap(), bin0);
    assert_eq!(fx.bytes("sub/gone.txt").unwrap(), gone0);
    assert_eq!(fx.bytes("made.rs"), None);
    assert_eq!(fx.states(&store, &s), ["undone"]);
    assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());
}

#[test]
fn rewind_n_returns_to_after_change_n_and_marks_the_later_ones_undone() {
    let fx = Fx::new();
    fx.repo.write("f.txt", "v0\r\n");
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    let c1 = fx.change(&store, &s, &[("f.txt", Some(b"v0\r\n"), Some(b"v1\r\n"))]);
    let _c2 =
        fx.change(&store, &s, &[("f.txt", Some(b"v1\r\n"), Some(b"v2\n")), ("g.txt", None, Some(b"g\n"))]);
    let _c3 = fx.change(&store, &s, &[("f.txt", Some(b"v2\n"), Some(b"v3\n"))]);

    let out = fx.run(&["rewind"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert_eq!(listed.lines().filter(|l| l.starts_with('#')).count(), 3, "{listed}");
    assert!(listed.contains(&format!("#{c1} ")) && listed.contains("f.txt, g.txt"), "{listed}");

    let out = fx.run(&["rewind", "999", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no change #999"), "{}", stderr(&out));
    assert_eq!(fx.bytes("f.txt").unwrap(), b"v3\n", "nothing changed");

    let out = fx.run(&["rewind", "--yes", &c1.to_string()]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(&format!("rewind to after change #{c1} (undoes 2 change(s))")),
        "{}",
        stdout(&out)
    );
    assert_eq!(fx.bytes("f.txt").unwrap(), b"v1\r\n");
    assert_eq!(fx.bytes("g.txt"), None);
    assert_eq!(fx.states(&store, &s), ["applied", "undone", "undone"]);

    let out = fx.run(&["rewind", "--yes", &c1.to_string()]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("already as it was"), "{}", stdout(&out));

    let out = fx.run(&["rewind", "0", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.bytes("f.txt").unwrap(), b"v0\r\n");
    assert_eq!(fx.states(&store, &s), ["undone", "undone", "undone"]);
}

#[test]
fn a_file_changed_since_is_not_overwritten_without_force() {
    let fx = Fx::new();
    fx.repo.write("a.txt", "A0\n");
    fx.repo.write("b.txt", "B0\n");
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    fx.change(
        &store,
        &s,
        &[("a.txt", Some(b"A0\n"), Some(b"A1\n")), ("b.txt", Some(b"B0\n"), Some(b"B1\n"))],
    );
    fx.repo.write("b.txt", "the user's own edit\n");

    let out = fx.run(&["undo", "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let why = stderr(&out);
    assert!(why.contains("b.txt") && why.contains("--force"), "{why}");
    assert!(stdout(&out).contains("CONFLICT"), "{}", stdout(&out));
    assert_eq!(fx.bytes("a.txt").unwrap(), b"A1\n", "all or none: a.txt untouched too");
    assert_eq!(fx.bytes("b.txt").unwrap(), b"the user's own edit\n");
    assert_eq!(fx.states(&store, &s), ["applied"]);

    let out = fx.run(&["undo", "--force"]);
    assert_eq!(out.status.code(), Some(1), "--force alone does not answer the question");
    assert_eq!(fx.bytes("b.txt").unwrap(), b"the user's own edit\n");

    let out = fx.run(&["undo", "--yes", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        (fx.bytes("a.txt").unwrap(), fx.bytes("b.txt").unwrap()),
        (b"A0\n".to_vec(), b"B0\n".to_vec())
    );
}

#[test]
fn nothing_to_undo_bad_sessions_and_a_broken_database_change_nothing() {
    let fx = Fx::new();
    fx.repo.write("a.txt", "A0\n");
    fx.repo.commit_all("init");

    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing to undo"), "{}", stdout(&out));

    let store = fx.store();
    let s = fx.session(&store);
    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "Nothing to undo in this session.");

    fx.change(&store, &s, &[("a.txt", Some(b"A0\n"), Some(b"A1\n"))]);
    let out = fx.run(&["undo", "--yes", "--session", "zzzzzzzz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot undo `zzzzzzzz`"), "{}", stderr(&out));

    // A session of another workspace is refused here, and `last` skips it.
    let elsewhere = store.create_session("/somewhere/else", "openai", "m").unwrap().id;
    fx.change(&store, &elsewhere, &[("x.txt", None, Some(b"x\n"))]);
    let out = fx.run(&["undo", "--yes", "--session", &elsewhere]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/somewhere/else"), "{}", stderr(&out));
    assert_eq!(fx.bytes("x.txt").unwrap(), b"x\n");

    // The session database cannot be opened: a clear error, nothing touched.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("kv1nt.db"), "not a database\n".repeat(64)).unwrap();
    let out = fx.kv1nt(&["undo", "--yes"]).env("KV1NT_HOME", broken.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("session database"), "{}", stderr(&out));
    assert_eq!(fx.bytes("a.txt").unwrap(), b"A1\n");

    // `last` is this workspace's session, not the more recent one of elsewhere.
    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fx.bytes("a.txt").unwrap(), b"A0\n");
    assert_eq!(fx.bytes("x.txt").unwrap(), b"x\n");
    assert_eq!(fx.states(&store, &elsewhere), ["applied"]);
}
