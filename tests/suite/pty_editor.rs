//! The external editor in a real terminal: Ctrl+X Ctrl+E hands the terminal to `$VISUAL` with
//! the prompt, the editor reads the keyboard itself, and what it saves comes back into the
//! composer, ready to send.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::pty::{Key, PtySession};
use crate::support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_x_ctrl_e_edits_the_prompt_in_the_visual_editor() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["Got it."])]).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    // An "editor" that shows what it was given, asks for a word on the terminal, and saves.
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'EDITOR-GOT[%s] word? ' \"$(cat \"$1\")\"\nread w\nprintf '%s from the editor\\n' \"$w\" > \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (home, config, base) = (dir.path().join("home"), dir.path().join("config"), server.base_url());
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-test"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
        ("VISUAL", editor.to_str().unwrap()),
    ];
    let mut tui = PtySession::spawn(BIN, &[], &env, &repo, 160, 40);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send("draft prompt");
    tui.send_key(Key::Ctrl('x'));
    tui.send_key(Key::Ctrl('e'));
    tui.wait_for("EDITOR-GOT[draft prompt] word?", WAIT).expect("the editor has the terminal and the text");
    tui.send("hello\r");
    tui.wait_for("hello from the editor", WAIT).expect("the saved text is back in the composer");
    assert!(tui.with_screen(|s| s.alternate_screen()), "kv1nt took the terminal back");
    tui.send_key(Key::Enter);
    tui.wait_for("Got it.", WAIT).expect("the edited prompt was sent");
    let sent = server.chat_requests()[0].body["messages"].to_string();
    assert!(sent.contains("hello from the editor") && !sent.contains("draft prompt"), "{sent}");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

#[test]
fn in_the_approval_dialog_the_chord_edits_the_proposed_content_and_ctrl_s_still_approves() {
    use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
    use kv1nt::app::editor::{self, EditTarget};
    use kv1nt::app::modals::{ApprovalMode, Modal};
    use kv1nt::app::{input, update};
    use kv1nt::engine::protocol::{ApprovalDecision, Op};
    let keymap = kv1nt::app::keymap::Keymap::load(&Default::default()).unwrap();
    let theme = kv1nt::text::theme::Theme::builtin("dark").unwrap();
    let mut s =
        kv1nt::app::state::AppState::new(keymap, theme, kv1nt::engine::llm::ProviderKind::OpenAi, "m".into());
    let (ops, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ctrl = |c: char| TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    update::apply(&mut s, super::ui::approval_request(1));
    input::handle(&mut s, ctrl('x'), &ops);
    input::handle(&mut s, ctrl('e'), &ops);
    let edit = s.external_edit.take().expect("the loop is asked to run the editor");
    assert_eq!((edit.target, edit.text.as_str()), (EditTarget::Approval, "b\n"));
    assert!(rx.try_recv().is_err(), "nothing is approved by opening the editor");
    editor::apply(&mut s, EditTarget::Approval, Ok("c\n".into()));
    assert!(matches!(s.modals.last(), Some(Modal::Approval(d)) if matches!(d.mode, ApprovalMode::Edit(_))));
    input::handle(&mut s, ctrl('s'), &ops);
    assert_eq!(
        rx.try_recv().unwrap(),
        Op::Approve { id: 1, decision: ApprovalDecision::ApproveEdited("c\n".into()) }
    );
}

/// Notifications (in this file: the other terminal-integration test): with the terminal
/// unfocused, a finished turn and a waiting approval send OSC 9; focused, nothing is sent; the
/// model's words in the message cannot write escape sequences of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfocused_terminal_is_notified_of_a_finished_turn_and_a_waiting_approval() {
    let hostile_path = "src/a\u{1b}]0;pwned\u{7}.txt";
    let turns = vec![
        Turn::text(&["Done."]),
        Turn::text(&[]).tool_call(
            "w",
            "write_file",
            serde_json::json!({"path": hostile_path, "content": "x\n"}),
        ),
        Turn::text(&["Understood, leaving it."]),
        Turn::text(&["Again."]),
    ];
    let server = ScriptedServer::start(Wire::Anthropic, turns).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("kv1nt")).unwrap();
    std::fs::write(config.join("kv1nt/config.toml"), "[notify]\nafter_secs = 0\nmethod = \"osc9\"\n")
        .unwrap();
    let (home, base) = (dir.path().join("home"), server.base_url());
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-test"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
    ];
    let mut tui = PtySession::spawn(BIN, &[], &env, &repo, 160, 40);
    tui.wait_for("Prompt", WAIT).expect("first frame");
    tui.send_bytes(b"\x1b[O"); // focus lost
    tui.send("hello\r");
    tui.wait_for("Done.", WAIT).expect("the reply");
    let wait_osc = |tui: &PtySession, n: usize| {
        let deadline = std::time::Instant::now() + WAIT;
        while tui.oscs().len() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        tui.oscs()
    };
    let oscs = wait_osc(&tui, 1);
    assert_eq!(oscs.first().map(String::as_str), Some("9;kv1nt: reply complete after 0 s"), "{oscs:?}");

    tui.send("write it\r");
    tui.wait_for("Approve", WAIT).expect("the approval dialog");
    let oscs = wait_osc(&tui, 2);
    let waiting = oscs.get(1).unwrap_or_else(|| panic!("{oscs:?}"));
    assert!(waiting.starts_with("9;kv1nt: waiting for you: "), "{waiting:?}");
    assert!(waiting.contains("pwned"), "the path is there, as plain text: {waiting:?}");
    assert!(
        tui.titles().iter().all(|t| !t.contains("pwned")),
        "the model set no window title: {:?}",
        tui.titles()
    );
    tui.send("n");
    tui.wait_for("Understood, leaving it.", WAIT).expect("the turn goes on after the denial");
    let oscs = wait_osc(&tui, 3);
    assert_eq!(oscs.get(2).map(String::as_str), Some("9;kv1nt: reply complete after 0 s"), "{oscs:?}");

    tui.send_bytes(b"\x1b[I"); // focus back: nothing more is sent
    let before = oscs.len();
    tui.send("again\r");
    tui.wait_for("Again.", WAIT).expect("the reply");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tui.oscs().len(), before, "focused: no notification");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
