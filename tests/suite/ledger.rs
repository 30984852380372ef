//! Integration tests for the ledger: migration v1 → v2, the approval audit log (store and
//! `kv1nt audit`), and checkpoints for undo/rewind, all over real SQLite files in temp dirs.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use kv1nt::engine::approval::{FileChange, Risk};
use kv1nt::engine::llm::Message;
use kv1nt::engine::store::*;

type Disk = HashMap<String, Vec<u8>>;

fn audit<'a>(session_id: &'a str, request_id: u64, target: &'a str, reasons: &'a [String]) -> NewAudit<'a> {
    NewAudit {
        session_id,
        request_id,
        action: "command",
        target,
        risk: Risk::High,
        reasons,
        decision: "approved-once",
        scope: None,
        note: None,
    }
}

fn change(path: &str, before: Option<&str>, after: Option<&str>) -> FileChange {
    FileChange { path: path.into(), before: before.map(Into::into), after: after.map(Into::into) }
}

/// Applies a change's after state to `disk` and marks it applied, as the engine would.
fn apply(store: &Store, disk: &mut Disk, session: &str, changes: &[FileChange]) -> i64 {
    let id = store.begin_change(session, "edit", changes).unwrap();
    for c in changes {
        match &c.after {
            Some(text) => disk.insert(c.path.clone(), text.clone().into_bytes()),
            None => disk.remove(&c.path),
        };
    }
    store.mark_change(id, "applied").unwrap();
    id
}

fn execute(disk: &mut Disk, steps: &[RestoreStep]) {
    for s in steps {
        match &s.content {
            Some(bytes) => disk.insert(s.path.clone(), bytes.clone()),
            None => disk.remove(&s.path),
        };
    }
}

fn count(home: &Path, sql: &str) -> i64 {
    let conn = open_connection(&home.join("kv1nt.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn migrates_v1_database_keeping_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = Store::open(dir.path()).unwrap();
        let s = store.create_session("/repo", "ollama", "qwen3").unwrap();
        store.append_message(&s.id, &Message::user("hello"), MessageStatus::Complete).unwrap();
        s.id
    };
    {
        // Turn it back into exactly what a v1 kv1nt left behind.
        let conn = open_connection(&dir.path().join("kv1nt.db")).unwrap();
        conn.execute_batch(
            "DROP TABLE vcs_commits; DROP TABLE change_files; DROP TABLE changes; DROP TABLE blobs;
             DROP TABLE audit; DROP TABLE proposals; DROP TABLE turn_usage; DROP TABLE compactions; DROP TABLE pins;
             DROP TABLE todos;
             DROP TRIGGER message_search_insert; DROP TRIGGER message_search_update;
             DROP TRIGGER message_search_delete; DROP TABLE message_search;
             ALTER TABLE sessions DROP COLUMN parent_id; ALTER TABLE sessions DROP COLUMN forked_at;
             DROP TABLE token_calibration;
             PRAGMA user_version = 1;",
        )
        .unwrap();
        assert_eq!(migrate(&conn).unwrap(), 1, "reports the version it found");
    }
    let store = Store::open(dir.path()).unwrap();
    let v: i64 = count(dir.path(), "PRAGMA user_version");
    assert_eq!(v, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 12);
    let msgs = store.load_messages(&id).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].message.text, "hello");
    assert_eq!(store.resolve_session("last").unwrap().title, "hello");
    store.record_audit(&audit(&id, 1, "ls", &[])).unwrap();
    assert_eq!(store.audit_entries(Some(&id), 10).unwrap().len(), 1);
}

#[test]
fn audit_round_trip_filter_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let reasons = vec!["deletes files".to_string(), "outside the workspace".to_string()];
    let mut full = audit("aaaa1111", 7, "rm -rf build", &reasons);
    full.scope = Some("commands starting with `rm` this session");
    full.note = Some("user said ok");
    full.decision = "approved-session";
    let first = store.record_audit(&full).unwrap();
    for i in 0..5 {
        store.record_audit(&audit("bbbb2222", 100 + i, "cargo test", &[])).unwrap();
    }
    store.record_audit(&audit("aaaa1111", 8, "ls", &[])).unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let a = store.audit_entries(Some("aaaa1111"), 10).unwrap();
    assert_eq!(a.len(), 2);
    let e = &a[0];
    assert_eq!(e.id, first);
    assert_eq!((e.session_id.as_str(), e.request_id), ("aaaa1111", 7));
    assert_eq!((e.action.as_str(), e.target.as_str(), e.risk.as_str()), ("command", "rm -rf build", "high"));
    assert_eq!(e.reasons, reasons);
    assert_eq!(e.decision, "approved-session");
    assert_eq!(e.scope.as_deref(), Some("commands starting with `rm` this session"));
    assert_eq!(e.note.as_deref(), Some("user said ok"));
    assert!(e.time.ends_with('Z') && e.time < a[1].time);
    assert_eq!(a[1].target, "ls");
    assert_eq!(a[1].scope, None);

    // Most recent `limit`, oldest first.
    let b = store.audit_entries(Some("bbbb2222"), 3).unwrap();
    assert_eq!(b.iter().map(|e| e.request_id).collect::<Vec<_>>(), [102, 103, 104]);
    let all = store.audit_entries(None, 2).unwrap();
    assert_eq!(all.iter().map(|e| e.request_id).collect::<Vec<_>>(), [104, 8]);
    assert_eq!(store.audit_entries(None, 100).unwrap().len(), 7);
    assert!(store.audit_entries(Some("nope"), 10).unwrap().is_empty());
    assert!(store.audit_entries(None, 0).unwrap().is_empty());
}

#[test]
fn long_fields_are_capped() {
    let store = Store::open_in_memory().unwrap();
    let long = "ß".repeat(5_000);
    let reasons = vec![long.clone(), "short".to_string()];
    let mut entry = audit("s", 1, &long, &reasons);
    entry.note = Some(&long);
    entry.scope = Some(&long);
    store.record_audit(&entry).unwrap();
    let e = store.audit_entries(None, 1).unwrap().remove(0);
    for field in [&e.target, e.note.as_ref().unwrap(), e.scope.as_ref().unwrap(), &e.reasons[0]] {
        assert_eq!(field.chars().count(), MAX_FIELD_CHARS);
        assert!(field.ends_with('…'));
    }
    assert_eq!(e.reasons[1], "short");
}

#[test]
fn begin_change_dedups_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let same = "fn main() {}\n";
    let a = store
        .begin_change(
            "s",
            "two files",
            &[change("a.rs", Some(same), Some("a2")), change("b.rs", Some(same), Some("a2"))],
        )
        .unwrap();
    let b = store.begin_change("s", "again", &[change("c.rs", None, Some(same))]).unwrap();
    assert!(b > a);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM blobs"), 2);
    assert_eq!(count(dir.path(), "SELECT count(*) FROM change_files"), 3);
    let hash = sha256_hex(same.as_bytes());
    assert_eq!(store.blob(&hash).unwrap().unwrap(), same.as_bytes());
    assert_eq!(store.blob(&sha256_hex(b"nothing")).unwrap(), None);
    let records = store.changes("s").unwrap();
    assert_eq!(records.iter().map(|c| c.id).collect::<Vec<_>>(), [a, b]);
    let files = &records[0].files;
    assert_eq!(files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.rs", "b.rs"]);
    assert_eq!(files[0].before_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(records[1].files[0].before_hash, None);
    assert_eq!(records[0].description, "two files");
}

#[test]
fn pending_change_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (crashed, done) = {
        let store = Store::open(dir.path()).unwrap();
        let done = store.begin_change("s", "ok", &[change("a", None, Some("x"))]).unwrap();
        store.mark_change(done, "applied").unwrap();
        let crashed = store.begin_change("s", "crash", &[change("a", Some("x"), Some("y"))]).unwrap();
        store.begin_change("other", "elsewhere", &[change("z", None, Some("z"))]).unwrap();
        (crashed, done)
    }; // dropped without marking: as if the process died before writing
    let store = Store::open(dir.path()).unwrap();
    let pending = store.pending_changes("s").unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].id, pending[0].state.as_str()), (crashed, "pending"));
    assert_eq!(store.change(done).unwrap().unwrap().state, "applied");
    // Recovery: the write never happened, so the plan is a conflict-free no-op restore.
    let disk: Disk = [("a".to_string(), b"x".to_vec())].into();
    let steps = restore_plan(&store, &pending[0], &|p| disk.get(p).cloned()).unwrap();
    assert_eq!(steps, [RestoreStep { path: "a".into(), content: Some(b"x".to_vec()), conflict: false }]);
    store.mark_change(crashed, "undone").unwrap();
    assert!(store.pending_changes("s").unwrap().is_empty());
}

#[test]
fn restore_plan_modify_create_delete_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let latin1: &[u8] = b"caf\xe9\r\n\x00\xff end";
    let crlf = "line one\r\nline two\r\n";
    let mut disk: Disk = [
        ("bin.dat".to_string(), latin1.to_vec()),
        ("crlf.txt".to_string(), crlf.as_bytes().to_vec()),
        ("gone.txt".to_string(), b"old\n".to_vec()),
    ]
    .into();
    let before = disk.clone();
    let id = store
        .begin_change_bytes(
            "s",
            "mixed",
            &[
                ByteChange { path: "bin.dat", before: Some(latin1), after: Some(b"utf8 now\n") },
                ByteChange { path: "new.txt", before: None, after: Some(b"fresh\n") },
                ByteChange { path: "gone.txt", before: Some(b"old\n"), after: None },
            ],
        )
        .unwrap();
    let id2 = store.begin_change("s", "crlf", &[change("crlf.txt", Some(crlf), Some("lf only\n"))]).unwrap();
    disk.insert("bin.dat".into(), b"utf8 now\n".to_vec());
    disk.insert("new.txt".into(), b"fresh\n".to_vec());
    disk.remove("gone.txt");
    disk.insert("crlf.txt".into(), b"lf only\n".to_vec());
    store.mark_change(id, "applied").unwrap();
    store.mark_change(id2, "applied").unwrap();

    let record = store.change(id2).unwrap().unwrap();
    let steps = restore_plan(&store, &record, &|p| disk.get(p).cloned()).unwrap();
    assert!(steps.iter().all(|s| !s.conflict));
    execute(&mut disk, &steps);
    let record = store.change(id).unwrap().unwrap();
    let steps = restore_plan(&store, &record, &|p| disk.get(p).cloned()).unwrap();
    assert_eq!(steps.len(), 3);
    assert!(steps.iter().all(|s| !s.conflict), "{steps:?}");
    let new = steps.iter().find(|s| s.path == "new.txt").unwrap();
    assert_eq!(new.content, None, "created file is deleted on undo");
    execute(&mut disk, &steps);
    assert_eq!(disk, before);
    assert_eq!(disk["bin.dat"], latin1);
    assert_eq!(disk["crlf.txt"], crlf.as_bytes());
}

#[test]
fn conflicts_are_detected() {
    let store = Store::open_in_memory().unwrap();
    let mut disk = Disk::new();
    let id = apply(
        &store,
        &mut disk,
        "s",
        &[change("a", Some("1"), Some("2")), change("b", None, Some("new")), change("c", Some("c"), None)],
    );
    disk.insert("a".into(), b"user edit".to_vec()); // changed since
    disk.insert("c".into(), b"recreated".to_vec()); // deleted by us, recreated by the user
    let record = store.change(id).unwrap().unwrap();
    let steps = restore_plan(&store, &record, &|p| disk.get(p).cloned()).unwrap();
    let conflicts: Vec<(&str, bool)> = steps.iter().map(|s| (s.path.as_str(), s.conflict)).collect();
    assert_eq!(conflicts, [("a", true), ("b", false), ("c", true)]);
    // Already at the before state (e.g. undone by hand): not a conflict.
    disk.insert("a".into(), b"1".to_vec());
    disk.remove("b");
    disk.insert("c".into(), b"c".to_vec());
    let steps = restore_plan(&store, &record, &|p| disk.get(p).cloned()).unwrap();
    assert!(steps.iter().all(|s| !s.conflict));
}

#[test]
fn rewind_over_three_changes_returns_to_after_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut disk = Disk::new();
    let c1 = apply(&store, &mut disk, "s", &[change("f.rs", None, Some("v1\r\n"))]);
    let after_c1 = disk.clone();
    let c2 = apply(
        &store,
        &mut disk,
        "s",
        &[change("f.rs", Some("v1\r\n"), Some("v2\n")), change("g", None, Some("g"))],
    );
    let undone = apply(&store, &mut disk, "s", &[change("h", None, Some("h"))]);
    let undo = store.change(undone).unwrap().unwrap();
    let steps = restore_plan(&store, &undo, &|p| disk.get(p).cloned()).unwrap();
    execute(&mut disk, &steps);
    store.mark_change(undone, "undone").unwrap();
    let c4 = apply(
        &store,
        &mut disk,
        "s",
        &[change("f.rs", Some("v2\n"), Some("v3\n")), change("g", Some("g"), None)],
    );
    apply(&store, &mut disk, "other", &[change("f.rs", Some("v3\n"), Some("other session"))]);
    disk.insert("f.rs".into(), b"v3\n".to_vec());

    let steps = rewind_plan(&store, "s", c1, &|p| disk.get(p).cloned()).unwrap();
    let paths: Vec<&str> = steps.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["f.rs", "g"], "one step per file, newest change first");
    assert!(steps.iter().all(|s| !s.conflict), "{steps:?}");
    execute(&mut disk, &steps);
    assert_eq!(disk, after_c1);
    assert_eq!(disk["f.rs"], b"v1\r\n");

    // Rewinding to the start removes the file; a user edit is a conflict.
    disk.insert("f.rs".into(), b"hand edit".to_vec());
    let steps = rewind_plan(&store, "s", 0, &|p| disk.get(p).cloned()).unwrap();
    let f = steps.iter().find(|s| s.path == "f.rs").unwrap();
    assert_eq!((f.content.as_deref(), f.conflict), (None, true));
    assert!(rewind_plan(&store, "s", c4 + 100, &|_| None).is_err());
    assert!(rewind_plan(&store, "other", c2, &|_| None).is_err(), "change of another session");
    assert!(rewind_plan(&store, "s", c4, &|_| None).unwrap().is_empty());
}

fn kv1nt(home: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kv1nt"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("KV1NT_HOME", home.join("data"))
        .current_dir(home)
        .output()
        .unwrap();
    assert!(out.status.success(), "kv1nt {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn audit_cli_table_and_json() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(kv1nt(home.path(), &["audit"]), "No approval decisions recorded yet.\n");
    let store = Store::open(&home.path().join("data")).unwrap();
    let s1 = store.create_session("/r", "ollama", "m").unwrap().id;
    let reasons = vec!["deletes files".to_string(), "recursive".to_string()];
    let mut e = audit(&s1, 3, "rm -rf target\n\x1b[31m", &reasons);
    e.scope = Some("rm in this session");
    e.note = Some("careful");
    store.record_audit(&e).unwrap();
    let s2 = store.create_session("/r", "ollama", "m").unwrap().id;
    let mut e2 = audit(&s2, 4, "src/a.rs", &[]);
    e2.action = "edit";
    e2.risk = Risk::Low;
    e2.decision = "auto-approved";
    store.record_audit(&e2).unwrap();
    drop(store);

    let table = kv1nt(home.path(), &["audit"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TIME (UTC)") && lines[0].contains("DECISION"), "{table}");
    assert!(lines[1].contains(&s1) && lines[1].contains("rm -rf target") && lines[1].contains("high"));
    assert!(lines[1].contains("approved-once") && lines[1].ends_with("rm in this session"));
    assert!(!table.contains('\x1b'), "control characters are not printed");
    assert_eq!(lines[2], "    reasons: deletes files; recursive");
    assert_eq!(lines[3], "    note: careful");
    assert!(lines[4].contains(&s2) && lines[4].contains("auto-approved") && lines[4].ends_with('-'));
    assert_eq!(lines.len(), 5);

    let last = kv1nt(home.path(), &["audit", "--session", "last", "--json"]);
    assert_eq!(last.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(last.trim()).unwrap();
    assert_eq!(v["session_id"], s2.as_str());
    assert_eq!(v["scope"], serde_json::Value::Null);

    let json = kv1nt(home.path(), &["audit", "--json", "--session", &s1[..6]]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["request_id"], 3);
    assert_eq!(v["action"], "command");
    assert_eq!(v["target"], "rm -rf target\n\x1b[31m");
    assert_eq!(v["risk"], "high");
    assert_eq!(v["reasons"], serde_json::json!(["deletes files", "recursive"]));
    assert_eq!(v["decision"], "approved-once");
    assert_eq!(v["scope"], "rm in this session");
    assert_eq!(v["note"], "careful");
    assert!(v["id"].is_i64() && v["time"].as_str().unwrap().ends_with('Z'));

    let limited = kv1nt(home.path(), &["audit", "--json", "--limit", "1"]);
    assert!(limited.contains(&s2) && limited.lines().count() == 1);
}
