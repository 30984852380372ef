//! Select and copy in a real terminal: the real binary under a pty, the mouse sent as xterm's
//! SGR reports. A drag over a wrapped paragraph and a code block in Chat puts exactly that text
//! on the clipboard with OSC 52 (no wrap, no gutter); Shift+drag is left to the terminal;
//! `/copy` copies the last answer and `y` in Code the block shown.

use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::support::pty::{Key, PtySession};
use crate::support::{ScriptedServer, Turn, Wire};

const WAIT: Duration = Duration::from_secs(30);

const PARAGRAPH: &str = "The quick brown fox jumps over the lazy dog, then naps in the warm \
afternoon sun by the river until the evening comes.";
const CODE: &str = "print('copied')";

/// An SGR mouse report (`button` as xterm numbers it: 0 left, +4 Shift, +32 motion) at the
/// 0-based screen cell `(row, col)`.
fn mouse(tui: &mut PtySession, button: u8, (row, col): (u16, u16), release: bool) {
    let end = if release { 'm' } else { 'M' };
    tui.send(&format!("\x1b[<{button};{};{}{end}", col + 1, row + 1));
}

/// The `n`-th text put on the clipboard, base64-decoded, once it arrives.
fn clipboard(tui: &PtySession, n: usize) -> String {
    let deadline = Instant::now() + WAIT;
    while tui.clipboard().len() <= n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let all = tui.clipboard();
    let (selector, data) = all.get(n).unwrap_or_else(|| panic!("no copy #{n}: {all:?}"));
    assert_eq!(selector, "c", "the clipboard, not the primary selection");
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drag_select_in_chat_sends_exactly_the_selected_text_by_osc_52() {
    let answer = format!("{PARAGRAPH}\n\n```python\n{CODE}\n```\n");
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&[&answer])]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut tui = super::pty_e2e::launch_sized(dir.path(), &server, &[], 160, 40);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send("show me\r");
    tui.wait_for("river until", WAIT).expect("the answer");
    tui.wait_for("│ print('copied')", WAIT).expect("its code block");

    let start = tui.find("The quick").expect("the paragraph's start");
    let code = tui.find("│ print('copied')").expect("the code line");
    assert!(code.0 >= start.0 + 2, "the paragraph wraps in the Chat column: {start:?} {code:?}");
    let end = (code.0, code.1 + 2 + CODE.len() as u16 - 1);
    mouse(&mut tui, 0, start, false);
    mouse(&mut tui, 32, (start.0 + 1, start.1 + 5), false);
    mouse(&mut tui, 32, end, false);
    mouse(&mut tui, 0, end, true);
    assert_eq!(clipboard(&tui, 0), format!("{PARAGRAPH}\n\n{CODE}"));
    tui.wait_for("copied 3 lines", WAIT).expect("the status bar says what was copied");

    // Shift+drag belongs to the terminal: kv1nt copies nothing, so the next copy is /copy's.
    mouse(&mut tui, 4, start, false);
    mouse(&mut tui, 36, end, false);
    mouse(&mut tui, 4, end, true);
    // The drag focused Chat, where `/` searches: `i` goes back to the composer for /copy.
    tui.send("i");
    tui.send("/copy\r");
    assert_eq!(clipboard(&tui, 1), answer, "/copy: the last answer as written");

    // A click focuses Code (which shows the block) and selects nothing.
    let shown = tui.find("1 print('copied')").expect("Code shows the block");
    mouse(&mut tui, 0, shown, false);
    mouse(&mut tui, 0, shown, true);
    tui.send("y");
    assert_eq!(clipboard(&tui, 2), format!("{CODE}\n"), "y in Code: the block");
    assert_eq!(tui.clipboard().len(), 3);
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
