//! A long session in a real terminal (issue 16 item 8): resumed, a 2,000-message session shows
//! its newest page; Home in Chat goes to its top and loads the page before; Ctrl+F finds a word that only an old
//! message, not loaded at start, contains, and brings it into view.

use std::time::Duration;

use crate::support::pty::Key;
use crate::support::{ScriptedServer, Wire};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_f_finds_a_word_in_an_old_message_not_loaded_at_start() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let home = dir.path().join("home");
    let id = super::pty_search::seed_session(
        &home,
        &repo,
        1_000,
        (4, "the leak was in the AXOLOTL-3 cache all along"),
    );
    let mut tui = super::pty_e2e::launch_sized(dir.path(), &server, &["--resume", &id], 160, 40);
    let screen = tui.wait_for("reply 999", WAIT).expect("the resumed session is shown");
    assert!(!screen.contains("AXOLOTL-3"));

    // Home in Chat reaches the top of the newest page (its marker asks for the page before);
    // Home again reaches the top of that page.
    tui.send("\x1b1"); // Alt+1: Chat
    tui.send("\x1b[H");
    tui.wait_for("prompt 900", WAIT).expect("the oldest message of the newest page");
    std::thread::sleep(Duration::from_millis(300));
    tui.send("\x1b[H");
    tui.wait_for("prompt 800", WAIT).expect("the page before was loaded");

    tui.send_key(Key::Ctrl('f'));
    tui.send("axolotl");
    let screen = tui.wait_for("/axolotl  1 of 1", WAIT).expect("the search found the old message");
    assert!(screen.contains("AXOLOTL-3 cache all along"), "the match is scrolled into view: {screen}");
    tui.send_key(Key::Enter);
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
