//! `kv1nt --inline` in a real terminal: no alternate screen, finished messages printed above the
//! viewport into the terminal's scrollback, and the whole transcript still there after quitting.

use std::time::Duration;

use crate::support::pty::Key;
use crate::support::{ScriptedServer, Turn, Wire};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_leaves_the_transcript_in_the_scrollback() {
    let long: String = (0..60).map(|i| format!("answer line {i}\n\n")).collect();
    let script =
        vec![Turn::text(&["FIRST-ANSWER done."]), Turn::text(&[&long, "LAST-LINE of the second answer."])];
    let server = ScriptedServer::start(Wire::Anthropic, script).await;
    let dir = tempfile::tempdir().unwrap();
    let mut tui = super::pty_e2e::launch_sized(dir.path(), &server, &["--inline"], 100, 30);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    assert!(!tui.with_screen(|s| s.alternate_screen()), "inline stays in the normal screen");
    tui.send("first question\r");
    tui.wait_for("FIRST-ANSWER done.", WAIT).expect("the first answer");
    tui.send("second question\r");
    tui.wait_for("LAST-LINE of the second answer.", WAIT).expect("the second answer");
    // Once the turn has ended the answer is printed above the viewport, into the scrollback.
    let deadline = std::time::Instant::now() + WAIT;
    while !tui.scrollback_text().contains("first question") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let all = tui.scrollback_text();
    for expected in
        ["first question", "FIRST-ANSWER done.", "second question", "answer line 0", "answer line 59"]
    {
        assert!(all.contains(expected), "{expected:?} is not in the terminal:\n{all}");
    }
    let screen = tui.screen_text();
    assert!(!screen.contains("answer line 0"), "the start of the long answer went into the scrollback");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
    let after = tui.scrollback_text();
    assert!(
        after.contains("LAST-LINE of the second answer."),
        "the transcript stays after quitting:\n{after}"
    );
    let count = after.matches("FIRST-ANSWER done.").count();
    assert_eq!(count, 1, "each message is printed once:\n{after}");
}
