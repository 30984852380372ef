//! Frame cost: the first frame of a fresh app (no syntax sets loaded yet, as at start-up), a
//! frame with a 10,000-message history and a 50,000-line file in Code (highlighting warm), and
//! the budget's case (issue 16: ≤ 2 ms): a 250×70 frame with every pane full — that history and
//! file, a 5,000-line diff with a change every tenth line in Diff, and 50,000 lines of coloured
//! run output in Output.

use std::collections::BTreeMap;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use kv1nt::app::blocks;
use kv1nt::app::chat::{ChatEntry, EntryKind, EntryStatus};
use kv1nt::app::diff::DiffModel;
use kv1nt::app::keymap::Keymap;
use kv1nt::app::output::LineSource;
use kv1nt::app::state::AppState;
use kv1nt::engine::llm::ProviderKind;
use kv1nt::text::highlight;
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn fresh_state() -> AppState {
    let keymap = Keymap::load(&BTreeMap::new()).expect("keymap");
    let theme = Theme::load("dark", None).expect("theme").with_color_mode(ColorMode::TrueColor);
    AppState::new(keymap, theme, ProviderKind::Anthropic, "claude-opus-4-5".into())
}

fn big_state() -> AppState {
    let mut state = fresh_state();
    for i in 0..10_000 {
        let (kind, text) = if i % 2 == 0 {
            (EntryKind::User, format!("question {i}: how do I make the parser faster?"))
        } else {
            (
                EntryKind::Assistant,
                format!(
                    "Answer {i}: use **incremental** parsing.\n\n```rust\nfn parse_{i}(s: &str) -> usize {{ s.len() }}\n```\n"
                ),
            )
        };
        state.chat.entries.push(ChatEntry::new(kind, text, EntryStatus::Complete));
    }
    let file: String =
        (0..50_000).map(|i| format!("    let value_{i} = compute({i}) * 2; // line {i}\n")).collect();
    state.chat.entries.push(ChatEntry::new(
        EntryKind::Assistant,
        format!("```rust\n{file}```\n"),
        EntryStatus::Complete,
    ));
    blocks::refresh_from(&mut state, 0);
    state.code.scroll_y = 25_000;
    state
}

fn frame(c: &mut Criterion) {
    let area = Rect::new(0, 0, 200, 50);
    c.bench_function("first_frame_200x50", |b| {
        b.iter(|| {
            let mut state = fresh_state();
            let mut buf = Buffer::empty(area);
            widgets::draw_into(area, &mut buf, &mut state, Instant::now());
            buf
        })
    });

    highlight::warm_up_blocking();
    let mut state = big_state();
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, &mut state, Instant::now()); // fill caches once, as a running app has
    c.bench_function("frame_10k_messages_50k_line_file_200x50", |b| {
        b.iter(|| {
            buf.reset();
            widgets::draw_into(area, &mut buf, &mut state, Instant::now());
        })
    });
    c.bench_function("frame_scrolling_code_50k_lines_200x50", |b| {
        let mut y = 0usize;
        b.iter(|| {
            y = (y + 37) % 50_000;
            state.code.scroll_y = y;
            buf.reset();
            widgets::draw_into(area, &mut buf, &mut state, Instant::now());
        })
    });
}

/// `big_state` plus a full Diff and a full Output.
fn every_pane_full() -> AppState {
    let mut state = big_state();
    let old: String = (0..5_000).map(|i| format!("fn f{i}(x: u32) -> u32 {{ x + {i} }}\n")).collect();
    let new: String = (0..5_000)
        .map(|i| {
            if i % 10 == 3 {
                format!("fn f{i}(x: u64) -> u64 {{ x * {i} }}\n")
            } else {
                format!("fn f{i}(x: u32) -> u32 {{ x + {i} }}\n")
            }
        })
        .collect();
    state.diff.model = Some(DiffModel::between(&old, &new, 3));
    state.diff.lang = Some("rs".into());
    state.diff.scroll_y = 600;
    state.output.start_run();
    let run: String = (0..50_000)
        .map(|i| {
            format!(
                "\x1b[32m   Compiling\x1b[0m crate-{i} v0.{i}.0 (\x1b[1m/src/crate-{i}\x1b[0m) step {i}\n"
            )
        })
        .collect();
    state.output.push_run_output(LineSource::Stdout, &run);
    state.output.finish_run_output();
    state
}

fn frame_full(c: &mut Criterion) {
    highlight::warm_up_blocking();
    let area = Rect::new(0, 0, 250, 70);
    let mut state = every_pane_full();
    let mut buf = Buffer::empty(area);
    widgets::draw_into(area, &mut buf, &mut state, Instant::now());
    c.bench_function("frame_every_pane_full_250x70", |b| {
        b.iter(|| {
            buf.reset();
            widgets::draw_into(area, &mut buf, &mut state, Instant::now());
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = frame, frame_full
}
criterion_main!(benches);
