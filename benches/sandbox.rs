//! Sandbox start-up overhead: `execute()` of `true` against spawning `true` directly.

use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};
use kv1nt::engine::sandbox::{CancellationToken, Program, SandboxConfig, Workspace, execute};

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
    group.bench_function("execute_true_sandboxed", |b| {
        b.iter(|| {
            let program = Program::Command { argv: vec!["true".into()] };
            let result = runtime
                .block_on(execute(
                    program,
                    Workspace::Scratch,
                    None,
                    &config,
                    CancellationToken::new(),
                    |_, _| {},
                ))
                .unwrap();
            assert!(result.success);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
