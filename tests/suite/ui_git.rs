//! The Git view's UI logic: opening it asks for status, a status answer asks for the selected
//! file's diff, stale answers are dropped, and keys in Code and Diff turn into exactly the
//! staging jobs a user means (file, hunk under the cursor, single line; only from the side shown).

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::engine::git::{Change, DiffLine, FileDiff, FileStatus, Hunk, LineOrigin};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, GitFileDiff, GitOp, GitPart, GitSnapshot, Op};
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    AppState::new(keymap, theme, ProviderKind::Anthropic, "m".into())
}

fn press(s: &mut AppState, code: KeyCode, mods: KeyModifiers, tx: &UnboundedSender<Op>) {
    input::handle(s, TermEvent::Key(KeyEvent::new(code, mods)), tx);
}

fn key(s: &mut AppState, c: char, tx: &UnboundedSender<Op>) {
    press(s, KeyCode::Char(c), KeyModifiers::NONE, tx);
}

fn git_op(rx: &mut UnboundedReceiver<Op>) -> Option<GitOp> {
    match rx.try_recv() {
        Ok(Op::Git(op)) => Some(op),
        _ => None,
    }
}

/// Applies an engine event and sends what the view queued, as the event loop does.
fn apply(s: &mut AppState, event: Event, tx: &UnboundedSender<Op>) {
    update::apply(s, event);
    for op in s.outbox.drain(..) {
        tx.send(op).unwrap();
    }
}

fn file(path: &str, index: Option<Change>, worktree: Option<Change>) -> FileStatus {
    FileStatus { path: path.into(), old_path: None, index, worktree, conflicted: false, submodule: false }
}

fn line(origin: LineOrigin, content: &str) -> DiffLine {
    DiffLine { origin, old_lineno: None, new_lineno: None, content: content.into(), no_newline_at_eof: false }
}

fn hunk(header: &str, old: &str, new: &str) -> Hunk {
    Hunk {
        header: header.into(),
        old_start: 1,
        old_lines: 2,
        new_start: 1,
        new_lines: 2,
        lines: vec![
            line(LineOrigin::Context, "ctx"),
            line(LineOrigin::Removed, old),
            line(LineOrigin::Added, new),
        ],
    }
}

fn diff(path: &str) -> FileDiff {
    FileDiff {
        path: path.into(),
        old_path: None,
        status: Change::Modified,
        binary: false,
        old_mode: 0o100644,
        new_mode: 0o100644,
        hunks: vec![
            hunk("@@ -1,2 +1,2 @@", "old one", "new one"),
            hunk("@@ -9,2 +9,2 @@", "old two", "new two"),
        ],
    }
}

fn screen(s: &mut AppState) -> String {
    let area = Rect::new(0, 0, 180, 30);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, s, Instant::now());
    (0..30).map(|y| (0..180).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>() + "\n").collect()
}

#[test]
fn the_git_view_asks_shows_drops_stale_answers_and_stages_what_the_cursor_is_on() {
    let (tx, mut rx) = unbounded_channel();
    let mut s = state();
    press(&mut s, KeyCode::Char('g'), KeyModifiers::CONTROL, &tx);
    assert!(s.git.open && s.focus == Focus::Pane(Pane::Code));
    let Some(GitOp::Refresh { seq }) = git_op(&mut rx) else { panic!("status asked") };

    let files =
        vec![file("src/a.rs", None, Some(Change::Modified)), file("b.txt", None, Some(Change::Untracked))];
    let snapshot = GitSnapshot { seq, head: "main".into(), state: None, files, error: None };
    apply(&mut s, Event::GitStatus(snapshot.clone()), &tx);
    let Some(GitOp::ShowFile { seq: diff_seq, path, staged: false }) = git_op(&mut rx) else { panic!() };
    assert_eq!(path, "src/a.rs");
    let shown = screen(&mut s);
    assert!(
        shown.contains("on main · 2 changed") && shown.contains(" M src/a.rs") && shown.contains("?? b.txt")
    );

    // An older status (from before) is dropped.
    apply(&mut s, Event::GitStatus(GitSnapshot { seq: seq - 1, files: vec![], ..snapshot }), &tx);
    assert_eq!(s.git.snapshot.as_ref().unwrap().files.len(), 2, "stale status ignored");

    let answer =
        GitFileDiff { seq: diff_seq, path: "src/a.rs".into(), staged: false, diff: Some(diff("src/a.rs")) };
    apply(&mut s, Event::GitFileDiff(answer), &tx);
    assert!(s.diff.caption.starts_with("src/a.rs — unstaged +2 −2"), "{}", s.diff.caption);
    assert!(screen(&mut s).contains("new two"));

    // Code: `s` stages the whole file.
    key(&mut s, 's', &tx);
    assert!(matches!(git_op(&mut rx), Some(GitOp::Stage { part: GitPart::File, unstage: false, .. })));
    // Diff: the hunk under the cursor, then one line of the second hunk.
    press(&mut s, KeyCode::Enter, KeyModifiers::NONE, &tx);
    assert_eq!(s.focus, Focus::Pane(Pane::Diff));
    key(&mut s, 's', &tx);
    let Some(GitOp::Stage { part: GitPart::Hunk(h), .. }) = git_op(&mut rx) else { panic!("hunk staged") };
    assert_eq!(h.header, "@@ -1,2 +1,2 @@");
    for _ in 0..6 {
        press(&mut s, KeyCode::Down, KeyModifiers::NONE, &tx); // rows: h1 header, 3 lines, h2 header, ctx, -
    }
    key(&mut s, 'S', &tx);
    let Some(GitOp::Stage { part: GitPart::Lines(h, lines), unstage: false, .. }) = git_op(&mut rx) else {
        panic!("line staged")
    };
    assert_eq!((h.header.as_str(), lines), ("@@ -9,2 +9,2 @@", vec![1]), "the removed line of hunk 2");

    // `u` on the unstaged side does nothing but say why; `t` switches to the staged side.
    key(&mut s, 'u', &tx);
    assert!(git_op(&mut rx).is_none());
    assert!(s.status.flash.as_ref().is_some_and(|(t, _)| t.contains("staged side")));
    key(&mut s, 't', &tx);
    assert!(matches!(git_op(&mut rx), Some(GitOp::ShowFile { staged: true, .. })));

    // Ctrl+G closes the view; Code shows code blocks again.
    press(&mut s, KeyCode::Char('g'), KeyModifiers::CONTROL, &tx);
    assert!(!s.git.open && !screen(&mut s).contains("on main"));
}

#[test]
fn outside_a_repository_the_view_says_so_and_nothing_breaks() {
    let (tx, mut rx) = unbounded_channel();
    let mut s = state();
    key(&mut s, '/', &tx);
    for c in "git".chars() {
        key(&mut s, c, &tx);
    }
    press(&mut s, KeyCode::Enter, KeyModifiers::NONE, &tx);
    let Some(GitOp::Refresh { seq }) = git_op(&mut rx) else { panic!("/git opens the view") };
    let error = Some("not a git repository: /tmp/x — git features are off; everything else works".into());
    apply(
        &mut s,
        Event::GitStatus(GitSnapshot { seq, head: String::new(), state: None, files: vec![], error }),
        &tx,
    );
    assert!(screen(&mut s).contains("not a git repository"));
    key(&mut s, 's', &tx);
    assert!(git_op(&mut rx).is_none(), "nothing to stage");
}
