//! The TUI drawn into a ratatui buffer and driven by key events: layouts, the chat with a code
//! block, the diff between revisions, the modal, help, and input that must never panic or leak.

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::modals::Modal;
use kv1nt::app::state::{AppState, Focus, Pane};
use kv1nt::app::{input, update};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, Op, TurnOutcome};
use kv1nt::text::highlight;
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

fn state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    AppState::new(keymap, theme, ProviderKind::Anthropic, "claude-opus-4-5".into())
}

fn render(state: &mut AppState, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, state, Instant::now());
    buf
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn reply(state: &mut AppState, prompt: &str, answer: &str) {
    state.chat.entries.push(kv1nt::app::chat::ChatEntry::new(
        kv1nt::app::chat::EntryKind::User,
        prompt.into(),
        kv1nt::app::chat::EntryStatus::Complete,
    ));
    update::apply(
        state,
        Event::TurnStarted { provider: ProviderKind::Anthropic, model: "claude-opus-4-5".into() },
    );
    for piece in answer.split_inclusive(' ') {
        update::apply(state, Event::TextDelta(piece.into()));
    }
    update::apply(state, Event::TurnEnded(TurnOutcome::Complete { stop_reason: Some("end_turn".into()) }));
}

fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> TermEvent {
    TermEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(state: &mut AppState, ops: &mpsc::UnboundedSender<Op>, s: &str) {
    for c in s.chars() {
        input::handle(state, key(KeyCode::Char(c)), ops);
    }
}

const FIRST: &str = "Here it is:\n\n```rust\nfn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n```\n";
const SECOND: &str = "With overflow checks:\n\n```rust\nfn add(a: i32, b: i32) -> Option<i32> {\n    a.checked_add(b)\n}\n```\n";

#[test]
fn four_panes_side_by_side_with_chat_code_and_diff() {
    highlight::warm_up_blocking();
    let mut s = state();
    reply(&mut s, "write add", FIRST);
    reply(&mut s, "make it checked", SECOND);
    let buf = render(&mut s, 160, 24);
    let screen = text(&buf);
    for title in ["Chat", "Code", "Diff", "Output"] {
        assert!(screen.contains(&format!("╭ {title} ")), "pane {title} missing:\n{screen}");
    }
    insta::assert_snapshot!("four_panes_160x24", stable(&screen));
    // Code shows the newest block with line numbers, syntax coloured.
    let (x, y) = find(&buf, "checked_add").expect("code pane shows the latest block");
    assert!(
        buf[(x, y)].fg != buf[(x - 3, y)].fg || buf[(x, y)].fg != ratatui::style::Color::Reset,
        "highlighted"
    );
    let (kx, ky) = find_in(&buf, "fn add", Rect::new(56, 0, 40, 24)).expect("fn in Code");
    assert_ne!(buf[(kx, ky)].fg, s.theme.base.fg.unwrap_or_default(), "keyword `fn` is coloured");
    // Diff shows the change with word emphasis on the changed tokens.
    assert!(screen.contains("block 1 → 2"), "{screen}");
    let wide = render(&mut s, 240, 24);
    let diff_area = s.hit.panes.iter().find(|(p, _)| *p == Pane::Diff).unwrap().1;
    let (dx, dy) = find_in(&wide, "Option<i32>", diff_area).expect("diff shows the added line");
    assert_eq!(wide[(dx, dy)].bg, s.theme.diff_add_emph.bg.unwrap(), "changed token emphasised");
    let (cx, cy) = find_in(&wide, "fn add", diff_area).unwrap();
    assert_ne!(wide[(cx, cy)].bg, s.theme.diff_add_emph.bg.unwrap(), "unchanged tokens are not emphasised");
}

#[test]
fn narrow_terminals_tab_the_panes_and_tab_switches() {
    let mut s = state();
    reply(&mut s, "write add", FIRST);
    let (ops, _rx) = mpsc::unbounded_channel();
    let screen = text(&render(&mut s, 70, 20));
    assert!(screen.lines().next().unwrap().contains("1 Chat") && screen.contains("2 Code"), "{screen}");
    insta::assert_snapshot!("narrow_70x20", stable(&screen));
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::ALT)), &ops);
    let screen = text(&render(&mut s, 70, 20));
    assert!(screen.contains("fn add(a: i32"), "Alt+2 shows Code:\n{screen}");
}

#[test]
fn every_size_down_to_one_cell_draws_without_panicking() {
    let mut s = state();
    reply(&mut s, "write add", FIRST);
    s.modals.push(Modal::Help { scroll: 0 });
    for width in [1, 2, 5, 20, 40, 99, 100, 159, 160, 250] {
        for height in [1, 2, 3, 6, 10, 30] {
            render(&mut s, width, height);
        }
    }
    s.modals.clear();
    input::request_quit(&mut s, &mpsc::unbounded_channel().0);
    render(&mut s, 20, 6);
}

#[test]
fn quitting_while_streaming_asks_first_and_keys_do_not_leak() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    type_text(&mut s, &ops, "hello");
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Submit { text: "hello".into(), intent: None });
    update::apply(&mut s, Event::TurnStarted { provider: ProviderKind::Anthropic, model: "m".into() });
    input::handle(&mut s, ctrl('q'), &ops);
    assert!(matches!(s.modals.last(), Some(Modal::Confirm(_))), "a confirm dialog opens");
    let screen = text(&render(&mut s, 80, 24));
    assert!(screen.contains("Quit while a reply streams?"), "{screen}");
    insta::assert_snapshot!("quit_confirm_80x24", stable(&screen));
    type_text(&mut s, &ops, "abc");
    assert!(s.composer.is_empty(), "keys must not reach the composer under a modal");
    input::handle(&mut s, key(KeyCode::Char('n')), &ops);
    assert!(s.modals.is_empty());
    assert!(rx.try_recv().is_err(), "No keeps running");
    input::handle(&mut s, ctrl('q'), &ops);
    input::handle(&mut s, key(KeyCode::Char('y')), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Shutdown);
}

#[test]
fn the_modal_answers_mouse_clicks_on_its_buttons() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(
        &mut s,
        Event::ConfirmRequest {
            id: 7,
            title: "Switch?".into(),
            body: "Use ollama?".into(),
            default_yes: true,
        },
    );
    render(&mut s, 100, 30);
    let (_, no) = s.hit.buttons.iter().copied().find(|(yes, _)| !yes).expect("No button drawn");
    let click = crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: no.x + 1,
        row: no.y,
        modifiers: KeyModifiers::NONE,
    };
    input::handle(&mut s, TermEvent::Mouse(click), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Answer { id: 7, approved: false });
}

/// The repository-trust question shows the held-back keys and Enter answers no.
#[test]
fn a_question_that_widens_what_kv1nt_may_do_defaults_to_no() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    let body = "/r/.kv1nt/config.toml sets keys that kv1nt ignores until you trust this file. It sets:\n\n  \
                anthropic.base_url = \"http://127.0.0.1:9\"\n  agent.approval = \"auto\"\n\nYes: trust.";
    update::apply(
        &mut s,
        Event::ConfirmRequest {
            id: 3,
            title: "Trust this repository's settings?".into(),
            body: body.into(),
            default_yes: false,
        },
    );
    let screen = text(&render(&mut s, 100, 30));
    for shown in [
        "Trust this repository's settings?",
        "anthropic.base_url = \"http://127.0.0.1:9\"",
        "agent.approval = \"auto\"",
    ] {
        assert!(screen.contains(shown), "{shown}: {screen}");
    }
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Answer { id: 3, approved: false });
}

#[test]
fn esc_cancels_a_streaming_turn_and_tab_cycles_focus() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    type_text(&mut s, &ops, "q");
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    rx.try_recv().unwrap();
    input::handle(&mut s, key(KeyCode::Esc), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Cancel);
    input::handle(&mut s, key(KeyCode::Tab), &ops);
    assert_eq!(s.focus, Focus::Pane(Pane::Chat));
    input::handle(&mut s, key(KeyCode::BackTab), &ops);
    assert_eq!(s.focus, Focus::Composer);
}

#[test]
fn help_is_generated_from_the_keymap_and_user_overrides_apply() {
    let mut overrides = BTreeMap::new();
    overrides.insert("quit".to_string(), kv1nt::engine::config::KeyList::One("ctrl+x".into()));
    let keymap = Keymap::load(&overrides).unwrap();
    let theme = Theme::builtin("light").unwrap();
    let mut s = AppState::new(keymap, theme, ProviderKind::Ollama, "m".into());
    let (ops, mut rx) = mpsc::unbounded_channel();
    input::handle(&mut s, key(KeyCode::F(1)), &ops);
    let screen = text(&render(&mut s, 120, 110));
    assert!(screen.contains("Ctrl+x") && screen.contains("quit (asks first"), "{screen}");
    input::handle(&mut s, key(KeyCode::Esc), &ops);
    input::handle(&mut s, ctrl('x'), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Shutdown);
    let bad = BTreeMap::from([("launch".to_string(), kv1nt::engine::config::KeyList::One("ctrl+l".into()))]);
    assert!(Keymap::load(&bad).unwrap_err().contains("unknown action `launch`"));
}

#[test]
fn composer_takes_newlines_history_and_slash_completion() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    type_text(&mut s, &ops, "line one");
    input::handle(&mut s, ctrl('j'), &ops);
    type_text(&mut s, &ops, "line two");
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::Submit { text: "line one\nline two".into(), intent: None });
    update::apply(&mut s, Event::TurnEnded(TurnOutcome::Complete { stop_reason: None }));
    input::handle(&mut s, key(KeyCode::Up), &ops);
    assert_eq!(s.composer.text(), "line one\nline two", "Up recalls the last prompt");
    s.composer.set_text("");
    type_text(&mut s, &ops, "/mo");
    let screen = text(&render(&mut s, 100, 30));
    assert!(screen.contains("/model") && screen.contains("/models"), "completion popup:\n{screen}");
    input::handle(&mut s, key(KeyCode::Tab), &ops);
    assert_eq!(s.composer.text(), "/model ");
    type_text(&mut s, &ops, "claude-sonnet-4-5");
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(
        rx.try_recv().unwrap(),
        Op::SwitchModel { provider: ProviderKind::Anthropic, model: Some("claude-sonnet-4-5".into()) }
    );
}

#[test]
fn huge_inputs_stay_usable() {
    let mut s = state();
    let (ops, _rx) = mpsc::unbounded_channel();
    let paste: String = (0..20_000).map(|i| format!("pasted line {i} {}\n", "x".repeat(40))).collect();
    assert!(paste.len() > 1_000_000);
    input::handle(&mut s, TermEvent::Paste(paste.clone()), &ops);
    assert_eq!(s.composer.text().len(), paste.len());
    render(&mut s, 160, 40);
    let block: String = (0..100_000).map(|i| format!("let v{i} = {i};\n")).collect();
    reply(&mut s, "big", &format!("```rust\n{block}```\n"));
    assert_eq!(s.code.doc.as_ref().unwrap().line_count(), 100_000);
    s.code.scroll_y = 99_990;
    let screen = text(&render(&mut s, 160, 40));
    assert!(screen.contains("let v99990 = 99990;"), "the end of a 100,000-line block is reachable");
    let long_line = "y".repeat(200_000);
    reply(&mut s, "long", &long_line);
    render(&mut s, 160, 40);
}

fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_in(buf, needle, buf.area)
}

fn find_in(buf: &Buffer, needle: &str, area: Rect) -> Option<(u16, u16)> {
    for y in area.y..area.y + area.height.min(buf.area.height) {
        let row: Vec<String> = (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect();
        let line: String = row.concat();
        if let Some(byte) = line.find(needle) {
            let col = line[..byte].chars().count() as u16;
            if col >= area.x && col < area.x + area.width {
                return Some((col, y));
            }
        }
    }
    None
}

/// The screen with wall-clock parts (log times, the spinner's elapsed seconds) masked.
fn stable(screen: &str) -> String {
    let chars: Vec<char> = screen.chars().collect();
    let mut out = String::with_capacity(screen.len());
    let mut i = 0;
    while i < chars.len() {
        let is_time = i + 8 <= chars.len()
            && (0..8)
                .all(|k| if k == 2 || k == 5 { chars[i + k] == ':' } else { chars[i + k].is_ascii_digit() });
        if is_time {
            out.push_str("hh:mm:ss");
            i += 8;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.lines()
        .map(|line| {
            let spinner = line.chars().nth(1).is_some_and(|c| ('\u{2800}'..='\u{28ff}').contains(&c));
            match line.find("s  ") {
                Some(p) if spinner => format!(" * N.Ns{}", &line[p + 1..]),
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn approval_request(id: u64) -> Event {
    use kv1nt::engine::protocol::ApprovalRequest;
    use kv1nt::engine::protocol::{FileChange, GateAction, Risk};
    let change =
        FileChange { path: "src/lib.rs".into(), before: Some("a\n".into()), after: Some("b\n".into()) };
    Event::ApprovalRequest(ApprovalRequest {
        id,
        action: GateAction::Edit { changes: vec![change] },
        risk: Risk::Low,
        reasons: vec!["small change: 2 lines in src/lib.rs".into()],
        summary: "edit src/lib.rs: 1 block, +1 −1 lines".into(),
        session_scope: Some("edits under src/ for this session".into()),
        editable: true,
        picks: Vec::new(),
        syntax: Vec::new(),
    })
}

#[test]
fn approval_dialog_keys_answer_edit_message_and_queue() {
    use kv1nt::engine::protocol::ApprovalDecision;
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    update::apply(&mut s, approval_request(1));
    update::apply(&mut s, approval_request(2));
    let screen = text(&render(&mut s, 160, 30));
    assert!(
        screen.contains("Approve edit — risk LOW")
            && screen.contains("a approves edits under src/ for this session"),
        "{screen}"
    );
    assert!(screen.contains("proposed: src/lib.rs"), "the Diff pane previews it");
    type_text(&mut s, &ops, "zzz");
    assert!(
        s.composer.is_empty() && rx.try_recv().is_err(),
        "unbound keys do nothing and never reach the composer"
    );
    // e: edit the proposed content, Ctrl+S approves the edited version.
    input::handle(&mut s, key(KeyCode::Char('e')), &ops);
    type_text(&mut s, &ops, "X");
    input::handle(&mut s, ctrl('s'), &ops);
    match rx.try_recv().unwrap() {
        Op::Approve { id: 1, decision: ApprovalDecision::ApproveEdited(content) } => {
            assert!(content.contains('X'))
        }
        other => panic!("{other:?}"),
    }
    // The queued request shows next; m: deny with a message.
    assert!(matches!(s.modals.last(), Some(Modal::Approval(d)) if d.request.id == 2));
    input::handle(&mut s, key(KeyCode::Char('m')), &ops);
    type_text(&mut s, &ops, "use a const");
    input::handle(&mut s, key(KeyCode::Enter), &ops);
    assert_eq!(
        rx.try_recv().unwrap(),
        Op::Approve { id: 2, decision: ApprovalDecision::DenyWithMessage("use a const".into()) }
    );
    assert!(s.modals.is_empty());
}

#[test]
fn shift_tab_in_the_composer_cycles_the_approval_policy() {
    let mut s = state();
    let (ops, mut rx) = mpsc::unbounded_channel();
    input::handle(&mut s, key(KeyCode::BackTab), &ops);
    assert_eq!(rx.try_recv().unwrap(), Op::SetPolicy(kv1nt::engine::approval::Policy::AutoEdit));
}

#[test]
fn run_output_streams_into_the_output_pane_with_colours_and_progress_rewrites() {
    use kv1nt::engine::protocol::OutputStream;
    let mut s = state();
    update::apply(&mut s, Event::RunStarted { id: 1, title: "python demo.py".into() });
    for chunk in
        ["hel", "lo\nwor", "\x1b[31mld\x1b[0m\n", "progress 10%\rprogress 100%\n", "no newline at end"]
    {
        update::apply(&mut s, Event::RunOutput { id: 1, stream: OutputStream::Stdout, text: chunk.into() });
    }
    update::apply(
        &mut s,
        Event::RunOutput { id: 1, stream: OutputStream::Stderr, text: "warning: x\n".into() },
    );
    update::apply(
        &mut s,
        Event::RunFinished { id: 1, ok: true, summary: "exit 0 · 0.05 s".into(), tests: None },
    );
    s.zoom = Some(Pane::Output);
    let buf = render(&mut s, 100, 20);
    let screen = text(&buf);
    for expected in [
        "▶ run: python demo.py",
        "hello",
        "world",
        "progress 100%",
        "no newline at end",
        "warning: x",
        "■ exit 0 · 0.05 s",
    ] {
        assert!(screen.contains(expected), "{expected} missing:\n{screen}");
    }
    assert!(!screen.contains("progress 10%"), "a carriage return rewrites the line");
    let (x, y) = find(&buf, "world").unwrap();
    assert_eq!(buf[(x + 3, y)].fg, ratatui::style::Color::Indexed(1), "ANSI red is kept");
}

/// Follow-ups are offered under the answer; Alt+1 on "Run it" runs the block, Alt+2 on a
/// `/test` follow-up sends it with the test intent kept.
#[test]
fn follow_ups_run_the_block_and_keep_the_intent() {
    use kv1nt::engine::protocol::{FollowUp, Intent};
    let mut s = state();
    reply(&mut s, "/test add", "```python\nprint(1)\n```");
    let offers = vec![
        FollowUp::Run { language: Some("python".into()), code: "print(1)\n".into() },
        FollowUp::prompt("Add edge-case tests", Some(Intent::Test)),
    ];
    update::apply(&mut s, Event::Suggestions(offers));
    let screen = text(&render(&mut s, 200, 50));
    assert!(screen.contains("Alt+1 Run it") && screen.contains("Alt+2 Add edge-case tests"), "{screen}");
    let (tx, mut rx) = mpsc::unbounded_channel();
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT)), &tx);
    assert!(matches!(rx.try_recv(), Ok(Op::RunCode { code, .. }) if code == "print(1)\n"));
    update::apply(
        &mut s,
        Event::Suggestions(vec![FollowUp::prompt("Add edge-case tests", Some(Intent::Test))]),
    );
    input::handle(&mut s, TermEvent::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT)), &tx);
    assert!(
        matches!(rx.try_recv(), Ok(Op::Submit { text, intent: Some(Intent::Test) }) if text == "Add edge-case tests")
    );
}

/// `/stats 7d` asks the engine for that span; its answer is drawn as figures beside the targets,
/// a bar per model and the daily sparkline; a figure with nothing recorded is `—`; Esc closes.
#[test]
fn stats_view_shows_figures_targets_and_a_bar_per_model() {
    use kv1nt::engine::protocol::stats::{DayAcceptance, Figures, StatsReport, StatsRow};
    let mut s = state();
    let (tx, mut rx) = mpsc::unbounded_channel();
    type_text(&mut s, &tx, "/stats 7d");
    input::handle(&mut s, key(KeyCode::Enter), &tx);
    assert!(matches!(rx.try_recv(), Ok(Op::Stats { query }) if query == ["7d"]));
    let figures = |accepted: u32, denied: u32| Figures {
        proposals: accepted + denied,
        accepted,
        denied,
        acceptance: Some(f64::from(accepted) / f64::from(accepted + denied)),
        ..Figures::default()
    };
    let report = StatsReport {
        total: figures(9, 3),
        by_model: vec![
            StatsRow { key: "anthropic/claude-sonnet".into(), figures: figures(8, 2) },
            StatsRow { key: "ollama/qwen-coder".into(), figures: figures(1, 1) },
        ],
        daily: vec![DayAcceptance { day: "2026-12-04".into(), proposals: 12, acceptance: Some(0.75) }],
        ..StatsReport::default()
    };
    update::apply(&mut s, Event::Stats(Box::new(report)));
    let screen = text(&render(&mut s, 160, 50));
    for expected in
        ["12 proposals", "acceptance", "75 %", "target 85 %", "claude-sonn", "80%", "50%", "per day"]
    {
        assert!(screen.contains(expected), "{expected} missing:\n{screen}");
    }
    assert!(screen.lines().any(|l| l.contains("first-pass syntax") && l.contains('—')), "{screen}");
    input::handle(&mut s, key(KeyCode::Esc), &tx);
    assert!(s.modals.is_empty());
}
