//! What the UI process costs, measured on the real release binary in a pseudo-terminal:
//! start-up to the first frame, idle resident memory, and the CPU time spent streaming 20,000
//! tokens at 1,000 tokens/s beyond what the same time costs idle. Prints the figures; run with
//! `cargo bench --bench stream_cost`. (Criterion cannot measure CPU-seconds or memory, so this
//! bench reports them directly.)
//!
//! Side by side (`scripts/measure-vs-codex`, which sets `CODEX_BIN`): kv1nt and Codex CLI, one
//! after the other, each answer the same scripted 2,000-token reply at 200 tokens/s (kv1nt over
//! the Anthropic wire, Codex over the Responses API it speaks) at 200×50: CPU-seconds of the
//! process from Enter until the reply's last word is on screen plus one second, peak resident
//! memory, and the time until each is ready for a prompt; then the ratios.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::pty::{Key, PtySession};
use support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const TOKENS: usize = 20_000;
/// The side-by-side reply: 2,000 tokens, 5 per event every 25 ms (200 tokens/s).
const SIDE_TOKENS: usize = 2_000;
/// The reply's last word, which tells that the whole reply is on screen.
const LAST_WORD: &str = "finalword";

/// utime + stime of `pid` in seconds (USER_HZ is 100 on Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or_default();
    (ticks(11) + ticks(12)) / 100.0
}

fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

fn spawn(dir: &Path, server: &ScriptedServer, args: &[&str]) -> PtySession {
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let (home, config) = (dir.join("home"), dir.join("config"));
    let base = server.base_url();
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("ANTHROPIC_API_KEY", "sk-bench"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
        ("KV1NT_FALLBACK", "none"),
    ];
    PtySession::spawn(BIN, args, &env, &repo, 200, 50)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A realistic reply of `tokens` tokens: prose, lists and code blocks, five tokens per event,
/// ending with [`LAST_WORD`].
fn reply(tokens: usize, delay: Duration) -> Turn {
    let mut words: Vec<String> = (0..tokens)
        .map(|i| match i % 200 {
            0 => "\n\n```rust\nfn step() {\n".to_string(),
            60 => "\n}\n```\n\n".to_string(),
            100 => "\n\n- item ".to_string(),
            _ => format!("w{i} "),
        })
        .collect();
    words.push(format!("\n\n{LAST_WORD}"));
    let events: Vec<String> = words.chunks(5).map(|c| c.concat()).collect();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    Turn::text(&refs).chunk_delay(delay)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Five tokens per event every 4 ms (~5 ms with timer overshoot): about 1,000 tokens/s.
    let server = ScriptedServer::start(Wire::Anthropic, vec![reply(TOKENS, Duration::from_millis(4))]).await;
    let dir = tempfile::tempdir().unwrap();
    if let Ok(codex) = std::env::var("CODEX_BIN") {
        side_by_side(dir.path(), &codex).await;
        return;
    }

    // Start-up to the first frame (the binary draws one frame and exits).
    let mut startup = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let mut once = spawn(dir.path(), &server, &["--exit-after-first-frame"]);
        assert_eq!(once.wait_exit(Duration::from_secs(20)), Some(0));
        startup.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "startup_to_first_frame_ms median {:.1} min {:.1}",
        median(startup.clone()),
        startup.iter().cloned().fold(f64::MAX, f64::min)
    );

    let mut tui = spawn(dir.path(), &server, &[]);
    tui.wait_for("Prompt", Duration::from_secs(20)).unwrap();
    let pid = tui.pid().expect("pid");
    std::thread::sleep(Duration::from_secs(2)); // syntax sets load, caches settle
    let idle_rss = status_kb(pid, "VmRSS:");
    let idle_window = Duration::from_secs(5);
    let c0 = cpu_seconds(pid);
    std::thread::sleep(idle_window);
    let idle_rate = (cpu_seconds(pid) - c0) / idle_window.as_secs_f64();
    println!("idle_rss_mb {:.1}", idle_rss as f64 / 1024.0);
    println!("idle_cpu_s_per_s {idle_rate:.4}");

    tui.send("stream please");
    let c1 = cpu_seconds(pid);
    let t1 = Instant::now();
    tui.send_key(Key::Enter);
    tui.wait_for("turn ended (complete)", Duration::from_secs(120)).expect("stream ends");
    let elapsed = t1.elapsed().as_secs_f64();
    let used = cpu_seconds(pid) - c1;
    let beyond_idle = used - idle_rate * elapsed;
    println!("stream_tokens {TOKENS} wall_s {elapsed:.1} tokens_per_s {:.0}", TOKENS as f64 / elapsed);
    println!("stream_cpu_s {used:.2} beyond_idle_cpu_s {beyond_idle:.2}");
    println!("peak_rss_mb {:.1}", status_kb(pid, "VmHWM:") as f64 / 1024.0);
    tui.send_key(Key::Ctrl('q'));
    tui.wait_exit(Duration::from_secs(10));
}

/// What one program cost for the side-by-side reply.
struct Cost {
    ready_ms: f64,
    turn_cpu_s: f64,
    idle_cpu_s_per_s: f64,
    wall_s: f64,
    idle_rss_mb: f64,
    peak_rss_mb: f64,
}

/// Waits until `session` is ready (`ready` on screen), measures idle, sends the prompt and
/// measures the turn until [`LAST_WORD`] has been on screen for a second.
fn measure(mut session: PtySession, started: Instant, ready: &str) -> Cost {
    session.wait_for(ready, Duration::from_secs(30)).expect("ready for a prompt");
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    let pid = session.pid().expect("pid");
    std::thread::sleep(Duration::from_secs(3)); // start-up work and animations settle
    let idle_rss_mb = status_kb(pid, "VmRSS:") as f64 / 1024.0;
    let c0 = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(5));
    let idle_cpu_s_per_s = (cpu_seconds(pid) - c0) / 5.0;
    session.send("stream please");
    std::thread::sleep(Duration::from_millis(300));
    let c1 = cpu_seconds(pid);
    let t1 = Instant::now();
    session.send_key(Key::Enter);
    session.wait_for(LAST_WORD, Duration::from_secs(120)).expect("the whole reply is shown");
    std::thread::sleep(Duration::from_secs(1));
    let cost = Cost {
        ready_ms,
        turn_cpu_s: cpu_seconds(pid) - c1,
        idle_cpu_s_per_s,
        wall_s: t1.elapsed().as_secs_f64(),
        idle_rss_mb,
        peak_rss_mb: status_kb(pid, "VmHWM:") as f64 / 1024.0,
    };
    session.send_key(Key::Ctrl('c'));
    session.send_key(Key::Ctrl('c'));
    session.send_key(Key::Ctrl('q'));
    session.wait_exit(Duration::from_secs(5));
    cost
}

/// kv1nt and Codex CLI (`codex`, the native binary) on the same scripted reply.
async fn side_by_side(dir: &Path, codex: &str) {
    let delay = Duration::from_millis(25);
    let kv1nt_server = ScriptedServer::start(Wire::Anthropic, vec![reply(SIDE_TOKENS, delay)]).await;
    let started = Instant::now();
    let kv1nt = measure(spawn(dir, &kv1nt_server, &[]), started, "Prompt");

    let codex_server = ScriptedServer::start(Wire::Responses, vec![reply(SIDE_TOKENS, delay)]).await;
    let (home, repo) = (dir.join("codex-home"), dir.join("repo"));
    std::fs::create_dir_all(&home).unwrap();
    let config = format!(
        "model = \"scripted-model\"\nmodel_provider = \"scripted\"\ncheck_for_update_on_startup = false\n\
         [model_providers.scripted]\nname = \"scripted\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\n\
         [projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        codex_server.base_url(),
        repo.display()
    );
    std::fs::write(home.join("config.toml"), config).unwrap();
    let env = [("CODEX_HOME", home.to_str().unwrap()), ("OPENAI_API_KEY", "sk-bench")];
    let started = Instant::now();
    let session = PtySession::spawn(codex, &[], &env, &repo, 200, 50);
    let codex = measure(session, started, "Ask Codex");

    for (name, c) in [("kv1nt", &kv1nt), ("codex", &codex)] {
        println!(
            "{name:<6} ready_ms {:.0} idle_rss_mb {:.1} idle_cpu_s_per_s {:.4} turn_wall_s {:.1} turn_cpu_s {:.2} \
             peak_rss_mb {:.1}",
            c.ready_ms, c.idle_rss_mb, c.idle_cpu_s_per_s, c.wall_s, c.turn_cpu_s, c.peak_rss_mb
        );
    }
    println!(
        "ratio kv1nt/codex: turn_cpu {:.3} peak_rss {:.3} ready {:.3}",
        kv1nt.turn_cpu_s / codex.turn_cpu_s,
        kv1nt.peak_rss_mb / codex.peak_rss_mb,
        kv1nt.ready_ms / codex.ready_ms
    );
}
