//! `kv1nt undo` on a real terminal: it asks y/N, and asks again by name about a file changed
//! after kv1nt's edit; a no to either restores nothing (and is audited as denied), yes to both
//! restores byte-exactly; a file changed while the question is shown is not overwritten.

use std::time::Duration;

use super::undo_cli::Fx;
use crate::support::pty::PtySession;

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const WAIT: Duration = Duration::from_secs(30);

fn launch(fx: &Fx) -> PtySession {
    let (data, config) = (fx.data(), fx.home.path().join("config"));
    let env = [("KV1NT_HOME", data.to_str().unwrap()), ("XDG_CONFIG_HOME", config.to_str().unwrap())];
    PtySession::spawn(BIN, &["undo"], &env, &fx.root(), 120, 40)
}

#[test]
fn on_a_terminal_undo_asks_and_asks_again_about_a_conflict() {
    let fx = Fx::new();
    fx.repo.write("a.txt", "A0\r\n");
    fx.repo.write("b.txt", "B0\n");
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    fx.change(
        &store,
        &s,
        &[("a.txt", Some(b"A0\r\n"), Some(b"A1\n")), ("b.txt", Some(b"B0\n"), Some(b"B1\n"))],
    );
    fx.repo.write("b.txt", "mine\n");
    let untouched =
        || (fx.bytes("a.txt").unwrap(), fx.bytes("b.txt").unwrap()) == (b"A1\n".to_vec(), b"mine\n".to_vec());

    let mut term = launch(&fx);
    term.wait_for("Undo? [y/N]", WAIT).expect("asks first");
    assert!(
        term.screen_text().contains("a.txt") && term.screen_text().contains("CONFLICT"),
        "{}",
        term.screen_text()
    );
    term.send("n\r");
    assert_eq!(term.wait_exit(WAIT), Some(1));
    assert!(untouched());
    let audit = store.audit_entries(Some(&s), 10).unwrap();
    assert_eq!(audit.last().map(|a| a.decision.as_str()), Some("denied"));

    let mut term = launch(&fx);
    term.wait_for("Undo? [y/N]", WAIT).unwrap();
    term.send("y\r");
    term.wait_for("b.txt was changed after kv1nt's edit", WAIT).expect("asks about the conflict by name");
    term.send("\r");
    assert_eq!(term.wait_exit(WAIT), Some(1), "Enter is no");
    assert!(untouched());

    let mut term = launch(&fx);
    term.wait_for("Undo? [y/N]", WAIT).unwrap();
    term.send("y\r");
    term.wait_for("Overwrite it? [y/N]", WAIT).unwrap();
    term.send("y\r");
    assert_eq!(term.wait_exit(WAIT), Some(0), "{}", term.screen_text());
    assert_eq!(
        (fx.bytes("a.txt").unwrap(), fx.bytes("b.txt").unwrap()),
        (b"A0\r\n".to_vec(), b"B0\n".to_vec())
    );
    assert_eq!(fx.states(&store, &s), ["undone"]);
}

#[test]
fn a_file_changed_while_the_question_is_shown_is_not_overwritten() {
    let fx = Fx::new();
    fx.repo.write("a.txt", "A0\n");
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    fx.change(&store, &s, &[("a.txt", Some(b"A0\n"), Some(b"A1\n"))]);

    let mut term = launch(&fx);
    term.wait_for("Undo? [y/N]", WAIT).unwrap();
    fx.repo.write("a.txt", "typed while kv1nt asked\n");
    term.send("y\r");
    assert_eq!(term.wait_exit(WAIT), Some(1), "{}", term.screen_text());
    let screen = term.screen_text().replace('\n', "");
    assert!(screen.contains("nothing was restored: a.txt changed while you were deciding"), "{screen}");
    assert_eq!(fx.bytes("a.txt").unwrap(), b"typed while kv1nt asked\n");
    assert_eq!(fx.states(&store, &s), ["applied"]);
    assert!(fx.leftovers().is_empty(), "{:?}", fx.leftovers());
}
