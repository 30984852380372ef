//! The built binary in a real pseudo-terminal: type a prompt, read the streamed reply and the
//! highlighted code block off the screen, quit through the confirm dialog, and resume.

use std::path::Path;
use std::time::Duration;

use crate::support::pty::{Key, PtySession};
use crate::support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const WAIT: Duration = Duration::from_secs(30);

fn launch(dir: &Path, server: &ScriptedServer, args: &[&str]) -> PtySession {
    launch_sized(dir, server, args, 200, 50)
}

/// kv1nt in `dir/repo` (a git repository), its data in `dir/home`, talking to `server` as Anthropic.
pub(super) fn launch_sized(
    dir: &Path,
    server: &ScriptedServer,
    args: &[&str],
    cols: u16,
    rows: u16,
) -> PtySession {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let home = dir.join("home");
    let config = dir.join("config");
    let base = server.base_url();
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-test"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
    ];
    PtySession::spawn(BIN, args, &env, &repo, cols, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_a_prompt_read_the_highlighted_reply_quit_through_the_dialog_and_resume() {
    let answer = [
        "Here ",
        "is ",
        "the ",
        "function:\n\n",
        "```python\n",
        "def add(a, b):\n",
        "    return a + b\n",
        "```\n",
    ];
    let slow: Vec<String> = (0..400).map(|i| format!("token{i} ")).collect();
    let slow: Vec<&str> = slow.iter().map(String::as_str).collect();
    let turns = vec![
        Turn::text(&answer).chunk_delay(Duration::from_millis(20)),
        Turn::text(&slow).chunk_delay(Duration::from_millis(50)),
    ];
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let dir = tempfile::tempdir().unwrap();

    let mut tui = launch(dir.path(), &server, &[]);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    for title in ["Chat", "Code", "Diff", "Output"] {
        assert!(tui.screen_text().contains(title), "pane {title} on screen");
    }
    tui.send("write add in python");
    tui.send_key(Key::Enter);
    tui.wait_for("return a + b", WAIT).expect("the streamed reply appears");
    tui.wait_for("block 1/1 · python", WAIT).expect("the block is shown in Code");

    // In Code (the second column), `def` is numbered and, once the syntax sets have loaded in
    // the background, coloured differently from the function name.
    let def_in_code = |screen: &vt100::Screen| -> Option<(u16, u16)> {
        let text = crate::support::pty::screen_text(screen);
        text.lines().enumerate().find_map(|(row, line)| {
            let byte = line.find("1 def add")?;
            let col = line[..byte].chars().count() + 2;
            (col >= 68).then_some((row as u16, col as u16))
        })
    };
    tui.wait_for_fn("`def` highlighted in Code", WAIT, |screen| {
        let Some((row, col)) = def_in_code(screen) else { return false };
        let fg = |c: u16| screen.cell(row, c).map(|cell| cell.fgcolor());
        fg(col) != fg(col + 4) && fg(col) != Some(vt100::Color::Default)
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // Second prompt: quit while it streams; the dialog asks; yes quits cleanly.
    tui.send("and now something long");
    tui.send_key(Key::Enter);
    tui.wait_for("token3", WAIT).expect("second reply streams");
    tui.send_key(Key::Ctrl('q'));
    tui.wait_for("Quit while a reply streams?", WAIT).expect("confirm dialog");
    tui.send("y");
    assert_eq!(tui.wait_exit(WAIT), Some(0), "quits with status 0");
    assert!(!tui.with_screen(|s| s.alternate_screen()), "the terminal is restored");

    // The session, including the reply cut short by quitting, comes back with --resume.
    let mut resumed = launch(dir.path(), &server, &["--resume", "last"]);
    resumed.wait_for("Resumed session", WAIT).expect("resume notice");
    let screen = resumed.wait_for("incomplete: cancelled", WAIT).expect("the cut reply is marked");
    assert!(screen.contains("token1"), "{screen}");
    resumed.send_key(Key::Ctrl('q'));
    assert_eq!(resumed.wait_exit(WAIT), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_an_edit_with_y_then_undo_it() {
    let edit = serde_json::json!({"path": "src/lib.rs", "edits": [{"search": "a + b", "replace": "a.wrapping_add(b)"}]});
    let turns =
        vec![Turn::text(&["I'll change it."]).tool_call("e1", "edit_file", edit), Turn::text(&["Done."])];
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let dir = tempfile::tempdir().unwrap();
    let original = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
    std::fs::create_dir_all(dir.path().join("repo/src")).unwrap();
    std::fs::write(dir.path().join("repo/src/lib.rs"), original).unwrap();

    let mut tui = launch(dir.path(), &server, &[]);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send("use wrapping add");
    tui.send_key(Key::Enter);
    let screen = tui.wait_for("Approve edit", WAIT).expect("the approval dialog");
    assert!(screen.contains("proposed: src/lib.rs"), "the Diff pane previews the change:\n{screen}");
    assert!(screen.contains("a.wrapping_add(b)"), "{screen}");
    tui.send("y");
    tui.wait_for("Applied: edit src/lib.rs", WAIT).expect("the edit is applied");
    tui.wait_for("Done.", WAIT).expect("the model finishes");
    let lib = dir.path().join("repo/src/lib.rs");
    assert!(std::fs::read_to_string(&lib).unwrap().contains("a.wrapping_add(b)"));

    tui.send("/undo");
    tui.send_key(Key::Enter);
    tui.wait_for("undo change #", WAIT).expect("undo asks first, showing what it restores");
    tui.send("y");
    tui.wait_for("Restored", WAIT).expect("undo done");
    assert_eq!(std::fs::read(&lib).unwrap(), original.as_bytes(), "byte-identical after /undo");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_models_run_asks_then_streams_live_output_then_the_summary() {
    let command = "for i in 1 2 3; do echo tick-$((i * 11)); sleep 1; done";
    let turns = vec![
        Turn::text(&["Let me run it."]).tool_call("r1", "run", serde_json::json!({"command": command})),
        Turn::text(&["It printed three ticks."]),
        Turn::text(&["Trying a long one."]).tool_call(
            "r2",
            "run",
            serde_json::json!({"command": "echo begin-$((6 * 7)); sleep 60"}),
        ),
    ];
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let dir = tempfile::tempdir().unwrap();
    let mut tui = launch(dir.path(), &server, &[]);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send("run the ticker");
    tui.send_key(Key::Enter);
    let screen = tui.wait_for("Approve command", WAIT).expect("the approval dialog");
    assert!(screen.contains("$ for i in 1 2 3;"), "the dialog shows the command:\n{screen}");
    tui.send("y");
    // Live: the first tick is on screen while the run is still going.
    let live = tui.wait_for("tick-11", WAIT).expect("live output in the Output pane");
    assert!(live.contains("running") && !live.contains("tick-33"), "{live}");
    let done = tui.wait_for("layers: env-cleared", WAIT).expect("the summary line");
    assert!(done.contains("tick-33") && done.contains("■ exit 0"), "{done}");
    tui.wait_for("It printed three ticks.", WAIT).expect("the model got the result");
    // The reply's last words arrive just before the turn ends; a prompt sent in between is kept
    // in the composer ("a reply is streaming"), so the next one waits for the end, as a user does.
    tui.wait_for_fn("the turn to end", WAIT, |s| {
        !crate::support::pty::screen_text(s).contains("streaming, Esc cancels")
    })
    .expect("the turn ends");

    // A second run, cancelled with Ctrl+C from the Output pane.
    tui.send("now a long one");
    tui.send_key(Key::Enter);
    tui.wait_for("Approve command", WAIT).expect("asked again");
    tui.send("y");
    tui.wait_for("begin-42", WAIT).expect("the long run started");
    tui.send_key(Key::Ctrl('c'));
    let cancelled = tui.wait_for("■ cancelled", Duration::from_secs(10)).expect("Ctrl+C cancels the run");
    assert!(!cancelled.contains("Ctrl+C cancels ·"), "no run is shown as going:\n{cancelled}");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
