//! Integration tests for the session store: round trips, resume keys, crash recovery, WAL
//! concurrency, corrupt and too-new databases, and sqlite-vec.

use std::path::Path;
use std::process::{Command, Stdio};

use kv1nt::engine::llm::*;
use kv1nt::engine::store::*;
use serde_json::json;

fn assistant_with_tool() -> Message {
    Message {
        role: Role::Assistant,
        thinking: vec![Thinking {
            text: "The entry point first.".into(),
            signature: Some("sig==".into()),
            redacted: None,
        }],
        text: "Let me look.".into(),
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "read_file".into(),
            arguments: json!({"path": "src/main.rs", "lines": [1, 20]}),
        }],
        tool_results: vec![],
        images: vec![],
    }
}

fn tool_reply() -> Message {
    Message {
        role: Role::Tool,
        thinking: vec![],
        text: String::new(),
        tool_calls: vec![],
        tool_results: vec![ToolResult {
            call_id: "call_1".into(),
            content: "fn main() {}\n\"quoted\" ünïcödé".into(),
            is_error: true,
        }],
        images: vec![],
    }
}

#[test]
fn store_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
}

#[test]
fn round_trip_with_tool_calls() {
    let store = Store::open_in_memory().unwrap();
    let s = store.create_session("/repo", "ollama", "qwen3").unwrap();
    assert_eq!(s.id.len(), 8);
    assert!(s.id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let msgs = [
        Message::user("first line of the question\nsecond line"),
        assistant_with_tool(),
        tool_reply(),
        Message::assistant("done"),
    ];
    let mut ids = Vec::new();
    for m in &msgs {
        ids.push(store.append_message(&s.id, m, MessageStatus::Complete).unwrap());
    }
    let loaded = store.load_messages(&s.id).unwrap();
    assert_eq!(loaded.len(), msgs.len());
    for ((got, want), id) in loaded.iter().zip(&msgs).zip(&ids) {
        assert_eq!(&got.message, want);
        assert_eq!(got.row_id, *id);
        assert_eq!(got.status, MessageStatus::Complete);
        assert_eq!(got.note, None);
    }
    let info = store.resolve_session(&s.id).unwrap();
    assert_eq!(info.title, "first line of the question");
    assert_eq!(info.message_count, 4);
    assert!(info.updated_at > s.created_at);

    store.set_session_model(&s.id, "anthropic", "claude").unwrap();
    let info = store.resolve_session(&s.id).unwrap();
    assert_eq!((info.provider.as_str(), info.model.as_str()), ("anthropic", "claude"));
    assert!(matches!(store.load_messages("nope"), Err(StoreError::NoSuchSession(_))));
    assert!(matches!(
        store.append_message("nope", &Message::user("x"), MessageStatus::Complete),
        Err(StoreError::NoSuchSession(_))
    ));
}

#[test]
fn title_only_from_first_user_message() {
    let store = Store::open_in_memory().unwrap();
    let s = store.create_session("/", "p", "m").unwrap();
    store.append_message(&s.id, &Message::assistant("hello"), MessageStatus::Complete).unwrap();
    let long = "y".repeat(200);
    store.append_message(&s.id, &Message::user(&long), MessageStatus::Complete).unwrap();
    store.append_message(&s.id, &Message::user("later"), MessageStatus::Complete).unwrap();
    let title = store.resolve_session("last").unwrap().title;
    assert!(title.chars().count() <= 60 && title.starts_with("yyy"), "{title}");
}

#[test]
fn resume_by_last_and_prefix() {
    let store = Store::open_in_memory().unwrap();
    assert!(matches!(store.resolve_session("last"), Err(StoreError::NoSuchSession(_))));
    let a = store.create_session("/a", "p", "m").unwrap();
    let b = store.create_session("/b", "p", "m").unwrap();
    assert_eq!(store.resolve_session("last").unwrap().id, b.id);
    // Activity on the older session makes it the last one.
    store.append_message(&a.id, &Message::user("hi"), MessageStatus::Complete).unwrap();
    assert_eq!(store.resolve_session("last").unwrap().id, a.id);
    let listed: Vec<String> = store.list_sessions(10).unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, vec![a.id.clone(), b.id.clone()]);
    assert_eq!(store.list_sessions(1).unwrap().len(), 1);

    // Shortest prefix that tells a and b apart.
    let n = (1..=8).find(|&n| a.id[..n] != b.id[..n]).unwrap();
    assert_eq!(store.resolve_session(&a.id[..n]).unwrap().id, a.id);
    assert_eq!(store.resolve_session(&b.id.to_uppercase()).unwrap().id, b.id);
    assert!(matches!(store.resolve_session("zzzz"), Err(StoreError::NoSuchSession(k)) if k == "zzzz"));
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    let store = Store::open_in_memory().unwrap();
    // 17 sessions over 16 hex digits: some first char must repeat.
    let ids: Vec<String> = (0..17).map(|_| store.create_session("/", "p", "m").unwrap().id).collect();
    let prefix = (0..ids.len())
        .find_map(|i| {
            let p = &ids[i][..1];
            (ids.iter().filter(|id| id.starts_with(p)).count() > 1).then(|| p.to_owned())
        })
        .unwrap();
    match store.resolve_session(&prefix) {
        Err(StoreError::AmbiguousSession { key, candidates }) => {
            assert_eq!(key, prefix);
            let mut want: Vec<_> = ids.iter().filter(|id| id.starts_with(&prefix)).collect();
            let mut got: Vec<_> = candidates.iter().collect();
            want.sort();
            got.sort();
            assert_eq!(got, want);
            let msg = StoreError::AmbiguousSession { key, candidates }.to_string();
            assert!(msg.contains(&ids.iter().find(|i| i.starts_with(&prefix)).unwrap()[..]));
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
}

/// Child half of `streaming_row_survives_real_crash`: run only when the parent asks.
#[test]
#[ignore = "helper run as a child process by streaming_row_survives_real_crash"]
fn crash_child_helper() {
    let Some(dir) = std::env::var_os("KV1NT_STORE_CRASH_DIR") else {
        return;
    };
    let store = Store::open(Path::new(&dir)).unwrap();
    let s = store.create_session("/", "p", "m").unwrap();
    store.append_message(&s.id, &Message::user("go"), MessageStatus::Complete).unwrap();
    let mut reply = Message::assistant("");
    let row = store.append_message(&s.id, &reply, MessageStatus::Streaming).unwrap();
    reply.text = "partial answer".into();
    store.checkpoint_message(row, &reply, MessageStatus::Streaming, None).unwrap();
    std::process::abort(); // no destructors, no clean close
}

#[test]
fn streaming_row_survives_real_crash() {
    let dir = tempfile::tempdir().unwrap();
    // The helper's full test name in this binary (`suite::store::crash_child_helper`).
    let helper = format!("{}::crash_child_helper", module_path!().split_once("::").unwrap().1);
    let status = Command::new(std::env::current_exe().unwrap())
        .args([helper.as_str(), "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("KV1NT_STORE_CRASH_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "child should have aborted");
    let store = Store::open(dir.path()).unwrap();
    let last = store.resolve_session("last").unwrap();
    let msgs = store.load_messages(&last.id).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].message.text, "partial answer");
    assert_eq!(msgs[1].status, MessageStatus::Incomplete);
    assert_eq!(msgs[1].note.as_deref(), Some("interrupted"));
}

#[test]
fn streaming_row_survives_dropped_store() {
    let dir = tempfile::tempdir().unwrap();
    let id;
    {
        let store = Store::open(dir.path()).unwrap();
        id = store.create_session("/", "p", "m").unwrap().id;
        let mut reply = Message::assistant("par");
        let row = store.append_message(&id, &reply, MessageStatus::Streaming).unwrap();
        reply.text = "partial".into();
        store.checkpoint_message(row, &reply, MessageStatus::Streaming, None).unwrap();
        let done = Message::assistant("cancelled reply");
        let row2 = store.append_message(&id, &done, MessageStatus::Streaming).unwrap();
        store.checkpoint_message(row2, &done, MessageStatus::Incomplete, Some("cancelled")).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let msgs = store.load_messages(&id).unwrap();
    assert_eq!(msgs[0].message.text, "partial");
    assert_eq!((msgs[0].status, msgs[0].note.as_deref()), (MessageStatus::Incomplete, Some("interrupted")));
    assert_eq!((msgs[1].status, msgs[1].note.as_deref()), (MessageStatus::Incomplete, Some("cancelled")));
    assert!(matches!(
        store.checkpoint_message(9999, &Message::user("x"), MessageStatus::Complete, None),
        Err(StoreError::NoSuchMessage(9999))
    ));
}

#[test]
fn reader_while_writer_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Store::open(dir.path()).unwrap();
    let id = writer.create_session("/", "p", "m").unwrap().id;
    let mut msg = Message::assistant("");
    let row = writer.append_message(&id, &msg, MessageStatus::Streaming).unwrap();
    let reader = Store::open(dir.path()).unwrap();
    let handle = std::thread::spawn(move || {
        for i in 0..300 {
            msg.text.push_str(&format!("{i} "));
            writer.checkpoint_message(row, &msg, MessageStatus::Streaming, None).unwrap();
        }
        writer.checkpoint_message(row, &msg, MessageStatus::Complete, None).unwrap();
        msg.text
    });
    let mut last_len = 0;
    let mut reads = 0;
    while !handle.is_finished() || reads == 0 {
        let msgs = reader.load_messages(&id).unwrap();
        let len = msgs[0].message.text.len();
        assert!(len >= last_len, "reader went back in time");
        last_len = len;
        reads += 1;
    }
    let final_text = handle.join().unwrap();
    let msgs = reader.load_messages(&id).unwrap();
    assert_eq!(msgs[0].message.text, final_text);
    assert_eq!(msgs[0].status, MessageStatus::Complete);
}

#[test]
fn corrupt_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv1nt.db");
    std::fs::write(&path, "this is definitely not a sqlite database\n".repeat(200)).unwrap();
    match Store::open(dir.path()) {
        Err(e @ StoreError::Corrupt { .. }) => {
            let text = e.to_string();
            assert!(text.contains("move it aside"), "{text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(_) => panic!("expected Corrupt, got a store"),
    }
}

#[test]
fn too_new_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = open_connection(&dir.path().join("kv1nt.db")).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    match Store::open(dir.path()) {
        Err(StoreError::TooNew { found, known }) => {
            assert_eq!(found, 999);
            assert_eq!(known, SCHEMA_VERSION);
        }
        Err(other) => panic!("expected TooNew, got {other:?}"),
        Ok(_) => panic!("expected TooNew, got a store"),
    }
}

#[test]
fn sqlite_vec_is_available() {
    let conn = open_in_memory().unwrap();
    let version: String = conn.query_row("select vec_version()", [], |r| r.get(0)).unwrap();
    assert!(version.starts_with('v'), "{version}");
    conn.execute_batch(
        "CREATE VIRTUAL TABLE chunks USING vec0(embedding float[3]);
         INSERT INTO chunks(rowid, embedding) VALUES
             (1, '[1.0, 0.0, 0.0]'), (2, '[0.0, 1.0, 0.0]'), (3, '[0.9, 0.1, 0.0]');",
    )
    .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT rowid, distance FROM chunks
             WHERE embedding MATCH '[1.0, 0.0, 0.0]' AND k = 2 ORDER BY distance",
        )
        .unwrap();
    let hits: Vec<(i64, f64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 3]);
    assert!(hits[0].1.abs() < 1e-6);
}

#[test]
fn thousand_checkpoints_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.create_session("/", "p", "m").unwrap().id;
    let mut msg = Message::assistant("");
    let row = store.append_message(&id, &msg, MessageStatus::Streaming).unwrap();
    for i in 0..1000 {
        msg.text.push_str(if i % 10 == 0 { "\n" } else { "tok " });
        store.checkpoint_message(row, &msg, MessageStatus::Streaming, None).unwrap();
    }
    store.checkpoint_message(row, &msg, MessageStatus::Complete, None).unwrap();
    let loaded = store.load_messages(&id).unwrap();
    assert_eq!(loaded[0].message, msg);
    assert_eq!(loaded[0].status, MessageStatus::Complete);
}
