//! Self-test of the pty harness (`tests/support/pty.rs`) against plain shell
//! programs, so harness bugs are not mistaken for kv1nt bugs.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::pty::{Key, PtySession};

const T: Duration = Duration::from_secs(20);

fn bash(dir: &Path, cols: u16, rows: u16) -> PtySession {
    let mut s = PtySession::spawn(
        "bash",
        &["--norc", "--noprofile", "-i"],
        &[("PS1", "READY$ "), ("HISTFILE", "/dev/null")],
        dir,
        cols,
        rows,
    );
    s.wait_for("READY$", T).unwrap();
    s
}

#[test]
fn colours_keys_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = bash(dir.path(), 80, 24);

    // The \\151 keeps "=wide" out of the echoed command line.
    s.send("printf '\\033[31mRED\\033[0m \\xe7\\x95\\x8c=w\\151de\\n'");
    s.send_key(Key::Enter);
    s.wait_for_fn("RED printed", T, |scr| {
        crate::support::pty::screen_text(scr).lines().any(|l| l.starts_with("RED"))
    })
    .unwrap();
    let (row, col) = (0..24u16)
        .find_map(|r| {
            let line = s.screen_text().lines().nth(r as usize)?.to_string();
            line.starts_with("RED").then_some((r, 0u16))
        })
        .unwrap();
    assert_eq!(s.cell_fg(row, col), Some(vt100::Color::Idx(1)), "{}", s.screen_text());
    assert_eq!(s.cell_fg(row, col + 3), Some(vt100::Color::Default));
    // "RED 界=wide": the wide char takes two cells, so "=wide" starts at column 6.
    let (wrow, wcol) = s.find("=wide").unwrap();
    assert_eq!((wrow, wcol), (row, 6), "{}", s.screen_text());

    // Keys: type, erase with Backspace, recall history with Up.
    s.send("echo abcX");
    s.send_key(Key::Backspace);
    s.send_key(Key::Enter);
    s.wait_for_fn("echo output", T, |scr| crate::support::pty::screen_text(scr).lines().any(|l| l == "abc"))
        .unwrap();
    s.send_key(Key::Up);
    s.wait_for("READY$ echo abc", T).unwrap();
    let at_empty_prompt =
        |scr: &vt100::Screen| crate::support::pty::screen_text(scr).trim_end().ends_with("\nREADY$");
    s.send_key(Key::Ctrl('u'));
    s.wait_for_fn("Ctrl+U to clear the line", T, at_empty_prompt).unwrap();
    // The tty discards typed-ahead input on SIGINT, so let bash echo the line
    // before pressing Ctrl+C, and wait for the new prompt after it.
    s.send("echo never");
    s.wait_for("READY$ echo never", T).unwrap();
    s.send_key(Key::CtrlC);
    s.wait_for("echo never^C", T).unwrap();
    s.wait_for_fn("a fresh prompt after Ctrl+C", T, at_empty_prompt).unwrap();

    assert!(s.is_alive());
    assert!(s.pid().is_some());
    s.send("exit 3");
    s.send_key(Key::Enter);
    assert_eq!(s.wait_exit(T), Some(3), "{}", s.screen_text());
    assert!(!s.is_alive());
}

#[test]
fn resize_reaches_program_and_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = bash(dir.path(), 80, 24);
    s.resize(100, 30);
    assert_eq!(s.with_screen(|scr| scr.size()), (30, 100));
    s.send("echo size=$(stty size)");
    s.send_key(Key::Enter);
    s.wait_for("size=30 100", T).unwrap();
    assert!(s.find("size=30 100").is_some());
}

#[test]
fn environment_is_cleared_and_overridable() {
    let dir = tempfile::tempdir().unwrap();
    // CARGO_MANIFEST_DIR is set for the test process; it must not leak through.
    let mut s = PtySession::spawn(
        "sh",
        &["-c", "echo \"T=$TERM L=$LANG H=$HOME X=${CARGO_MANIFEST_DIR:-none} K=$K\"; sleep 30"],
        &[("K", "one"), ("K", "two"), ("LANG", "C")],
        dir.path(),
        120,
        10,
    );
    let home = dir.path().to_str().unwrap();
    s.wait_for(&format!("T=xterm-256color L=C H={home} X=none K=two"), T).unwrap();
}

#[test]
fn paste_and_terminal_queries() {
    let dir = tempfile::tempdir().unwrap();
    // Ask for the cursor position the way crossterm does and print the reply.
    let script = "printf 'ab'; stty raw -echo; printf '\\033[6n'; \
                  r=$(dd bs=1 count=6 2>/dev/null); stty sane; \
                  printf '\\nreply=%s\\n' \"$(printf %s \"$r\" | tr -d '\\033')\"; \
                  IFS= read -r line; echo \"got=$line\"";
    let mut s = PtySession::spawn("sh", &["-c", script], &[], dir.path(), 80, 10);
    s.wait_for("reply=[1;3R", T).unwrap();
    s.paste("pasted");
    s.send_key(Key::Enter);
    // The echoed markers show as ^[[200~; the raw ones printed by `echo` are
    // swallowed by the emulator, leaving just the text.
    s.wait_for("^[[200~pasted^[[201~", T).unwrap();
    s.wait_for("got=pasted", T).unwrap();
    assert_eq!(s.wait_exit(T), Some(0));
}

#[test]
fn wait_for_fails_fast_with_screen_dump() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = PtySession::spawn("sh", &["-c", "echo bye"], &[], dir.path(), 40, 5);
    let started = Instant::now();
    let err = s.wait_for("never there", Duration::from_secs(60)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30), "should fail once output ends");
    assert!(err.contains("never there") && err.contains("bye"), "{err}");
}

#[test]
fn drop_kills_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = PtySession::spawn("sleep", &["1000"], &[], dir.path(), 80, 24);
    assert!(s.is_alive());
    let pid = s.pid().unwrap();
    let proc_dir = format!("/proc/{pid}");
    assert!(Path::new(&proc_dir).exists());
    drop(s);
    // Drop reaps the child, so its /proc entry is gone at once (allow a moment).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Path::new(&proc_dir).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!Path::new(&proc_dir).exists(), "sleep 1000 (pid {pid}) survived drop");
}
