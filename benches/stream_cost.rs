//! What the UI process costs, measured on the real release binary in a pseudo-terminal:
//! start-up to the first frame, idle resident memory, and the CPU time spent streaming 20,000
//! tokens at 1,000 tokens/s beyond what the same time costs idle. Prints the figures; run with
//! `cargo bench --bench stream_cost`. (Criterion cannot measure CPU-seconds or memory, so this
//! bench reports them directly.)

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::pty::{Key, PtySession};
use support::{ScriptedServer, Turn, Wire};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const TOKENS: usize = 20_000;

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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // A realistic reply: prose, lists and code blocks, one token per event.
    let words: Vec<String> = (0..TOKENS)
        .map(|i| match i % 200 {
            0 => "\n\n```rust\nfn step() {\n".to_string(),
            60 => "\n}\n```\n\n".to_string(),
            100 => "\n\n- item ".to_string(),
            _ => format!("w{i} "),
        })
        .collect();
    // Five tokens per event every 4 ms (~5 ms with timer overshoot): about 1,000 tokens/s.
    let pairs: Vec<String> = words.chunks(5).map(|c| c.concat()).collect();
    let refs: Vec<&str> = pairs.iter().map(String::as_str).collect();
    let server =
        ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&refs).chunk_delay(Duration::from_millis(4))])
            .await;
    let dir = tempfile::tempdir().unwrap();

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
