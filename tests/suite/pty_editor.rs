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
