//! The memory of a resumed long session (issue 16 item 8: ≤ 60 MB at 100,000 messages),
//! measured on the real binary in a pseudo-terminal: sessions of 10,000 and 100,000 messages
//! (prompts of 20–200 words, answers of 50–500 words with code blocks now and then, one turn in
//! four reading a file through a tool call and its result) are written to a fresh database, each
//! is resumed with `--resume`, and the process's resident memory is read from /proc once the
//! newest message is on screen (peak: `VmHWM`; settled: `VmRSS` two seconds later), then again
//! after scrolling back 20 pages in Chat and returning to the tail, and after a Chat search for a
//! word only the middle message holds (and returning to the tail).
//!
//! Run with `cargo bench --bench long_session` (release); `cargo test --release --bench
//! long_session` or without `--release` for a quick check. `KV1NT_BENCH_MESSAGES=2000,50000`
//! chooses other sizes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use kv1nt::engine::llm::{Message, Role, ToolCall, ToolResult};
use kv1nt::engine::store::{MessageStatus, Store};
use support::pty::{Key, PtySession};
use support::{ScriptedServer, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
/// Messages written one by one; the rest of a session repeats them (by SQL, in one statement).
const TEMPLATE: usize = 2_000;
const LAST: &str = "END-OF-SESSION-7f3a";
/// A word only the message in the middle of the session holds (Chat search reaching it).
const MIDDLE: &str = "MIDWAY-WORD-c41e";
const WORDS: &[&str] = &[
    "the",
    "parser",
    "returns",
    "an",
    "error",
    "when",
    "token",
    "stream",
    "ends",
    "inside",
    "a",
    "string",
    "literal",
    "so",
    "we",
    "should",
    "check",
    "bounds",
    "before",
    "indexing",
    "buffer",
    "config",
    "loader",
    "handles",
    "missing",
    "keys",
    "by",
    "falling",
    "back",
    "to",
    "defaults",
    "test",
    "fails",
    "because",
    "fixture",
    "path",
    "is",
    "relative",
    "cache",
    "invalidation",
];

/// A small deterministic generator (xorshift), so every run writes the same sessions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() as usize) % (hi - lo + 1)
    }

    fn prose(&mut self, lo: usize, hi: usize) -> String {
        let n = self.between(lo, hi);
        let mut out = String::new();
        for i in 0..n {
            out.push_str(WORDS[self.next() as usize % WORDS.len()]);
            out.push(if i % 17 == 16 { '\n' } else { ' ' });
        }
        out
    }
}

/// The template: turns of a prompt, sometimes a tool call and its result, and an answer.
fn template(rng: &mut Rng) -> Vec<Message> {
    let mut out = Vec::new();
    while out.len() < TEMPLATE {
        out.push(Message::user(rng.prose(20, 200)));
        if rng.next().is_multiple_of(4) {
            let mut call = Message::assistant("Let me read it.");
            let id = format!("call_{}", out.len());
            let path = format!("src/module_{}.rs", rng.between(1, 90));
            call.tool_calls.push(ToolCall {
                id: id.clone(),
                name: "read_file".into(),
                arguments: serde_json::json!({ "path": path }),
            });
            out.push(call);
            let mut result = Message::text(Role::User, "");
            let content = (0..rng.between(20, 120)).map(|i| format!("    let x{i} = {i};\n")).collect();
            result.tool_results.push(ToolResult { call_id: id, content, is_error: false });
            out.push(result);
        }
        let mut answer = rng.prose(50, 500);
        if rng.next().is_multiple_of(3) {
            answer.push_str(
                "\n\n```rust\nfn fixed(input: &str) -> Option<usize> {\n    input.find('x')\n}\n```\n",
            );
        }
        out.push(Message::assistant(answer));
    }
    out.truncate(TEMPLATE);
    out
}

/// A session of `n` messages in the database under `home`; returns its id.
fn write_session(home: &Path, workspace: &Path, n: usize, template: &[Message]) -> String {
    let store = Store::open(home).unwrap();
    let session =
        store.create_session(workspace.to_str().unwrap(), "anthropic", "claude-sonnet-4-5").unwrap();
    for m in template.iter().take(n.min(TEMPLATE)) {
        store.append_message(&session.id, m, MessageStatus::Complete).unwrap();
    }
    drop(store);
    let conn = kv1nt::engine::store::open_connection(&home.join("kv1nt.db")).unwrap();
    let mut copied = TEMPLATE;
    while copied < n {
        let take = (n - copied).min(TEMPLATE) as i64;
        conn.execute(
            "INSERT INTO messages (session_id, seq, role, body, status, note, created_at, updated_at)
             SELECT session_id, seq + ?2, role, body, status, note, created_at, updated_at
             FROM messages WHERE session_id = ?1 AND seq <= ?3",
            (&session.id, copied as i64, take),
        )
        .unwrap();
        copied += take as usize;
    }
    // The newest message, to know when the resumed session is on screen.
    conn.execute(
        "UPDATE messages SET role = 'assistant', body = json_object('text', ?2)
         WHERE session_id = ?1 AND seq = ?3",
        (&session.id, LAST, n as i64),
    )
    .unwrap();
    conn.execute(
        "UPDATE messages SET role = 'user', body = json_object('text', ?2)
         WHERE session_id = ?1 AND seq = ?3",
        (&session.id, format!("where did the {MIDDLE} go?"), (n / 2) as i64),
    )
    .unwrap();
    session.id
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn resume(dir: &Path, server: &ScriptedServer, id: &str) -> PtySession {
    let (home, config) = (dir.join("home"), dir.join("config"));
    let base = server.base_url();
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-bench"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
    ];
    PtySession::spawn(BIN, &["--resume", id], &env, &dir.join("repo"), 200, 50)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::var("KV1NT_BENCH_MESSAGES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let server = ScriptedServer::start(Wire::Anthropic, vec![]).await;
    let template = template(&mut Rng(0x9e37_79b9_7f4a_7c15));
    let bytes: usize = template
        .iter()
        .map(|m| m.text.len() + m.tool_results.iter().map(|r| r.content.len()).sum::<usize>())
        .sum();
    println!("template_messages {TEMPLATE} mean_message_bytes {}", bytes / TEMPLATE);
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        let started = Instant::now();
        let id = write_session(&dir.path().join("home"), &dir.path().join("repo"), n, &template);
        let db = std::fs::metadata(dir.path().join("home/kv1nt.db")).map_or(0, |m| m.len());
        println!(
            "messages {n} written_s {:.1} db_mb {:.1}",
            started.elapsed().as_secs_f64(),
            db as f64 / 1e6
        );

        let started = Instant::now();
        let mut tui = resume(dir.path(), &server, &id);
        tui.wait_for(LAST, Duration::from_secs(300)).expect("the resumed session is shown");
        let shown_s = started.elapsed().as_secs_f64();
        let pid = tui.pid().expect("pid");
        std::thread::sleep(Duration::from_secs(2));
        let (peak, settled) = (status_kb(pid, "VmHWM:"), status_kb(pid, "VmRSS:"));
        println!(
            "messages {n} resumed_to_screen_s {shown_s:.2} peak_rss_mb {:.1} settled_rss_mb {:.1}",
            mb(peak),
            mb(settled)
        );

        // Back through 20 pages in Chat (Home at the top loads the one before), then End.
        tui.send("\x1b1");
        for _ in 0..20 {
            tui.send("\x1b[H");
            std::thread::sleep(Duration::from_millis(250));
        }
        tui.send("\x1b[F");
        tui.wait_for(LAST, Duration::from_secs(60)).expect("back at the tail");
        std::thread::sleep(Duration::from_secs(2));
        println!(
            "messages {n} after_20_pages_back peak_rss_mb {:.1} settled_rss_mb {:.1}",
            mb(status_kb(pid, "VmHWM:")),
            mb(status_kb(pid, "VmRSS:"))
        );

        // Chat search for a word only the middle message holds: every message down to it is
        // loaded (one run), then let go again back at the tail.
        let started = Instant::now();
        tui.send_key(Key::Ctrl('f'));
        tui.send(&MIDDLE.to_lowercase());
        tui.wait_for(&format!("/{}  1 of 1", MIDDLE.to_lowercase()), Duration::from_secs(300))
            .expect("the search reached the middle");
        println!(
            "messages {n} search_middle_s {:.2} rss_mb {:.1} peak_rss_mb {:.1}",
            started.elapsed().as_secs_f64(),
            mb(status_kb(pid, "VmRSS:")),
            mb(status_kb(pid, "VmHWM:"))
        );
        tui.send_key(Key::Enter);
        for keys in ["\x1b", "\x1b1", "\x1b[F"] {
            // Esc (clears the search), Alt+1 (Chat), End — apart, so no two read as one sequence.
            std::thread::sleep(Duration::from_millis(300));
            tui.send(keys);
        }
        tui.wait_for(LAST, Duration::from_secs(60)).expect("back at the tail");
        std::thread::sleep(Duration::from_secs(2));
        println!("messages {n} after_search settled_rss_mb {:.1}", mb(status_kb(pid, "VmRSS:")));
        tui.send_key(Key::Ctrl('q'));
        tui.wait_exit(Duration::from_secs(10));
    }
}
