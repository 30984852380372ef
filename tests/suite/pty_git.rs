//! The real binary in a pseudo-terminal, as a new user would do it: open the Git view, stage two
//! of three hunks, `/commit`, edit the proposed message in the modal, approve — and `git log -1
//! -p` shows exactly that message and exactly those hunks.

use std::time::Duration;

use crate::support::git::TestRepo;
use crate::support::pty::{Key, PtySession};
use crate::support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const WAIT: Duration = Duration::from_secs(30);

const BEFORE: &str = "a1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\na12\na13\na14\na15\na16\na17\na18\n";
const AFTER: &str = "A1\na2\na3\na4\na5\na6\na7\na8\nA9\na10\na11\na12\na13\na14\na15\na16\na17\nA18\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_two_of_three_hunks_commit_with_an_edited_message() {
    let repo = TestRepo::new();
    repo.write("f.txt", BEFORE);
    repo.commit_all("init");
    repo.write("f.txt", AFTER);
    // The model (if asked) proposes a message; the user edits it either way.
    let server =
        ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["fix(f): capitalise some lines"])]).await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let base = server.base_url();
    let env = [
        ("KV1NT_HOME", home.path().to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-test"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
    ];
    let mut tui = PtySession::spawn(BIN, &[], &env, repo.path(), 200, 50);
    tui.wait_for("Prompt", WAIT).expect("first frame");

    tui.send_key(Key::Ctrl('g'));
    tui.wait_for(" M f.txt", WAIT).expect("the Git view lists the file");
    tui.send_key(Key::Enter); // to the hunks
    tui.wait_for("f.txt — unstaged +3 −3", WAIT).expect("the file's hunks in Diff");
    tui.send("s"); // the cursor is on hunk 1
    tui.wait_for("f.txt — unstaged +2 −2", WAIT).expect("hunk 1 staged");
    for _ in 0..9 {
        tui.send_key(Key::Down); // past hunk 2 (header, 3 context, -, +, 3 context) to hunk 3
    }
    tui.send("s");
    tui.wait_for("f.txt — unstaged +1 −1", WAIT).expect("hunk 3 staged");
    tui.wait_for("MM f.txt", WAIT).expect("staged and unstaged changes");

    tui.send("i"); // back to the composer
    tui.send("/commit");
    tui.send_key(Key::Enter);
    let dialog = tui.wait_for("Approve commit", WAIT).expect("the commit modal");
    assert!(dialog.contains("e edit the message") && dialog.contains("proposed commit"), "{dialog}");
    tui.send("e");
    tui.wait_for("Ctrl+S approves", WAIT).expect("the message editor");
    tui.send("docs: edited in the modal");
    tui.send_key(Key::Enter);
    tui.send_key(Key::Enter);
    tui.send_key(Key::Ctrl('s'));
    tui.wait_for("Committed ", WAIT).expect("committed");

    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(message.starts_with("docs: edited in the modal\n\n"), "{message}");
    let body = message.trim_end().split_once("\n\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    assert!(!body.is_empty(), "the proposed message follows the edit: {message}");
    let patch = repo.git(&["log", "-1", "-p", "--format=", "--unified=0"]);
    assert!(patch.contains("+A1\n") && patch.contains("+A18\n") && !patch.contains("A9"), "{patch}");
    assert!(repo.git(&["diff", "--unified=0"]).contains("+A9\n"), "hunk 2 is still unstaged");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
