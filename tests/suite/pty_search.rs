//! Search and scrolling in a real terminal: in a resumed 300-message session, Ctrl+F from the
//! composer brings a word from far above the screen into view with its match count; scrolled up
//! while a reply streams, Chat's top line stays where it is.

use std::time::Duration;

use crate::support::pty::{Key, PtySession};
use crate::support::{ScriptedServer, Turn, Wire};
use kv1nt::engine::protocol::{Message, MessageStatus};
use kv1nt::engine::store::Store;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_f_brings_a_word_from_far_up_a_resumed_session_into_view() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let home = dir.path().join("home");
    let id = seed_session(&home, &repo, 150, (2, "the flaky test was QUOKKA-7 all along"));
    let mut tui = super::pty_e2e::launch_sized(dir.path(), &server, &["--resume", &id], 160, 40);
    tui.wait_for("reply 149", WAIT).expect("the resumed session is shown");
    assert!(!tui.screen_text().contains("QUOKKA-7"), "the word starts far above the screen");
    tui.send_key(Key::Ctrl('f'));
    tui.send("quokka");
    // Each key moves the view; wait for the whole query's frame.
    let screen = tui.wait_for("/quokka  1 of 1", WAIT).expect("the search found it");
    assert!(screen.contains("QUOKKA-7 all along"), "the match is scrolled into view: {screen}");
    tui.send_key(Key::Enter);
    tui.send_bytes(b"\x1b");
    tui.wait_for_fn("the search cleared", WAIT, |s| !crate::support::pty::screen_text(s).contains("/quokka"))
        .expect("Esc clears the search");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrolling_up_while_a_reply_streams_keeps_the_top_line_fixed() {
    let chunks: Vec<String> = (0..120).map(|i| format!("streamed paragraph {i}\n\n")).collect();
    let refs: Vec<&str> = chunks.iter().map(String::as_str).collect();
    let server = ScriptedServer::start(
        Wire::Anthropic,
        vec![Turn::text(&refs).chunk_delay(Duration::from_millis(25))],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut tui = super::pty_e2e::launch_sized(dir.path(), &server, &[], 160, 40);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send("stream a lot\r");
    tui.wait_for("streamed paragraph 40", WAIT).expect("the reply streams");
    // Alt+1 focuses Chat; PgUp scrolls it up by a page.
    tui.send("\x1b1");
    tui.send("\x1b[5~");
    let top = |tui: &PtySession| -> String {
        tui.screen_text().lines().nth(1).unwrap_or_default().chars().take(70).collect()
    };
    tui.wait_for_fn("scrolled up", WAIT, |s| crate::support::pty::screen_text(s).contains("End follows"))
        .expect("the view scrolled up");
    std::thread::sleep(Duration::from_millis(100));
    let before = top(&tui);
    assert!(before.contains("You") || before.contains("streamed paragraph"), "{before:?}");
    tui.wait_for("↓ new output", WAIT).expect("the caption says more arrived below");
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(top(&tui), before, "the top line moved while the reply streamed");
    }
    tui.send_key(Key::Ctrl('q'));
    tui.wait_for("Quit", WAIT).expect("quitting while a reply streams asks first");
    tui.send("y");
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

/// A stored session of `turns` prompt/reply pairs in `home` for `repo` ("prompt i" / "reply i",
/// except reply `special.0`, which is `special.1`); returns its id for `--resume`.
pub(super) fn seed_session(
    home: &std::path::Path,
    repo: &std::path::Path,
    turns: usize,
    special: (usize, &str),
) -> String {
    let store = Store::open(home).unwrap();
    let session = store.create_session(repo.to_str().unwrap(), "anthropic", "claude-sonnet-4-5").unwrap();
    for i in 0..turns {
        let reply = if i == special.0 { special.1.to_string() } else { format!("reply {i}") };
        store
            .append_message(&session.id, &Message::user(format!("prompt {i}")), MessageStatus::Complete)
            .unwrap();
        store.append_message(&session.id, &Message::assistant(reply), MessageStatus::Complete).unwrap();
    }
    session.id
}
