//! Sandbox start-up overhead: `execute()` of `true` against spawning `true` directly (with and
//! without the bubblewrap layer); a program writing 100 MB, capped at 1 MiB and killed; and the
//! UI side of that flood: 1 MiB of run output applied to the Output pane and drawn. And the cost
//! of a transactional run (copy-on-write, or the recorded fallback) that changes nothing, against
//! the same run in place, in a repository of 500 files with an ignored `target/` of 1,000.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use kv1nt::app::keymap::Keymap;
use kv1nt::app::state::AppState;
use kv1nt::app::update;
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, OutputStream};
use kv1nt::engine::sandbox::{CancellationToken, Program, RunDir, SandboxConfig, SandboxMode, execute};
use kv1nt::text::theme::{ColorMode, Theme};
use kv1nt::widgets;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn bench(c: &mut Criterion) {
    // SAFETY: set before any other thread reads the environment.
    unsafe { std::env::set_var("KV1NT_SANDBOX_HELPER", env!("CARGO_BIN_EXE_kv1nt")) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("sandbox");
    group.sample_size(30);
    group.bench_function("spawn_true_directly", |b| {
        b.iter(|| assert!(Command::new("true").status().unwrap().success()))
    });
    let config = SandboxConfig::default();
    let no_bwrap = SandboxConfig { bubblewrap: false, ..SandboxConfig::default() };
    for (name, cfg) in
        [("execute_true_sandboxed", &config), ("execute_true_sandboxed_without_bwrap", &no_bwrap)]
    {
        group.bench_function(name, |b| {
            b.iter(|| {
                let program = Program::Command { argv: vec!["true".into()] };
                let run = execute(program, RunDir::Scratch, None, cfg, CancellationToken::new(), |_, _| {});
                assert!(runtime.block_on(run).unwrap().success);
            })
        });
    }
    group.sample_size(10);
    group.bench_function("execute_100mb_output_capped", |b| {
        b.iter(|| {
            let argv = vec!["sh".into(), "-c".into(), "head -c 100000000 /dev/zero | tr '\\0' x".into()];
            let program = Program::Command { argv };
            let result = runtime
                .block_on(execute(
                    program,
                    RunDir::Scratch,
                    None,
                    &config,
                    CancellationToken::new(),
                    |_, _| {},
                ))
                .unwrap();
            let r = &result;
            assert!(
                r.truncated && r.stdout.len() == 1 << 20,
                "{:?}",
                (r.stdout.len(), r.killed_by, &r.stderr, r.exit_code)
            );
        })
    });
    group.finish();
    transaction(c, &runtime);
    output_pane(c);
}

/// A git repository of 500 tracked files in 25 directories and an ignored `target/` of 1,000.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in 0..25 {
        let sub = dir.path().join(format!("src/m{d}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..20 {
            std::fs::write(
                sub.join(format!("f{f}.rs")),
                format!("pub fn f{f}() -> u32 {{ {d} }}\n").repeat(40),
            )
            .unwrap();
        }
    }
    for f in 0..1000 {
        let sub = dir.path().join(format!("target/debug/{}", f % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("o{f}")), "object").unwrap();
    }
    std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git").args(args).current_dir(dir.path()).output().unwrap().status.success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"]);
    dir
}

/// `true` in the workspace: in place (today's run) against copy-on-write, with and without
/// bwrap; and in `off` mode, in place against the recorded fallback (a snapshot before, a
/// compare after).
fn transaction(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    let repo = repository();
    let ws = repo.path().to_path_buf();
    let mut group = c.benchmark_group("transaction");
    group.sample_size(30);
    let no_bwrap = SandboxConfig { bubblewrap: false, ..SandboxConfig::default() };
    let off = SandboxConfig { mode: SandboxMode::Off, ..SandboxConfig::default() };
    let cases = [
        ("true_in_place", RunDir::Project(ws.clone()), SandboxConfig::default()),
        ("true_copy_on_write", RunDir::Transaction(ws.clone()), SandboxConfig::default()),
        ("true_in_place_without_bwrap", RunDir::Project(ws.clone()), no_bwrap.clone()),
        ("true_copy_on_write_without_bwrap", RunDir::Transaction(ws.clone()), no_bwrap),
        ("true_in_place_mode_off", RunDir::Project(ws.clone()), off.clone()),
        ("true_recorded_mode_off", RunDir::Transaction(ws.clone()), off),
    ];
    for (name, dir, cfg) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let program = Program::Command { argv: vec!["true".into()] };
                let run = execute(program, dir.clone(), None, &cfg, CancellationToken::new(), |_, _| {});
                let result = runtime.block_on(run).unwrap();
                assert!(result.success && result.changes.as_ref().is_none_or(|c| c.is_empty()), "{result:?}");
            })
        });
    }
    group.finish();
}

/// 1 MiB of run output (16 chunks of 64 KiB, 80-column lines) into the Output pane, then a frame.
fn output_pane(c: &mut Criterion) {
    let keymap = Keymap::load(&BTreeMap::new()).unwrap();
    let theme = Theme::builtin("dark").unwrap().with_color_mode(ColorMode::TrueColor);
    let line = format!("{}\n", "x".repeat(79));
    let chunk = line.repeat(64 * 1024 / 80);
    let area = Rect::new(0, 0, 200, 50);
    c.bench_function("output_pane_1mib_run_output_and_frame", |b| {
        b.iter(|| {
            let mut state = AppState::new(keymap.clone(), theme.clone(), ProviderKind::Anthropic, "m".into());
            update::apply(&mut state, Event::RunStarted { id: 1, title: "flood".into() });
            for _ in 0..16 {
                let text = chunk.clone();
                update::apply(&mut state, Event::RunOutput { id: 1, stream: OutputStream::Stdout, text });
            }
            let mut buf = Buffer::empty(area);
            widgets::draw_into(area, &mut buf, &mut state, Instant::now());
            buf
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
