//! The built-in provider's speed and memory on a real GGUF: time to first token, decode
//! tokens/s and peak RSS against the model file's size. Not a criterion bench: one model load
//! and a few multi-second generations are measured directly. `scripts/measure-local-model`
//! runs it beside the llama.cpp server on the same GGUF and thread count and compares.
//!
//! Then the UI's frame time while the model generates (issue 17: ≤ 2 ms): the app's state takes
//! the reply's deltas as the event loop does and a 200×50 frame is drawn every 50 ms (the
//! streaming frame rate) on this thread while the model's threads decode beside it.
//!
//! `KV1NT_CHAT_MODEL` names the GGUF (default: the test model in `~/.cache/kv1nt-local-model`),
//! `KV1NT_BENCH_THREADS` the threads (default 2). Prints one `RESULT {json}` line last.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kv1nt::engine::llm::local::LocalProvider;
use kv1nt::engine::llm::local::settings::LocalConfig;
use kv1nt::engine::llm::{ChatRequest, Message, Provider, StreamEvent, ToolChoice};

const PROMPT: &str = "Count from 1 to 300, one number per line.";
const MAX_TOKENS: u32 = 128;
const RUNS: usize = 4;

/// A `/proc/self/status` field in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Run {
    ttft: Duration,
    decode_tps: f64,
    tokens: u64,
}

async fn run(provider: &LocalProvider) -> Run {
    let request = ChatRequest {
        model: String::new(),
        system: String::new(),
        messages: vec![Message::user(PROMPT)],
        tools: Vec::new(),
        max_tokens: MAX_TOKENS,
        temperature: Some(0.0),
        tool_choice: ToolChoice::Auto,
        thinking: Default::default(),
    };
    let t0 = Instant::now();
    let mut stream = provider.start(request).await.expect("the built-in provider starts");
    let (mut first, mut last, mut tokens) = (None, t0, 0);
    while let Some(event) = stream.next().await {
        match event.expect("no stream error") {
            StreamEvent::TextDelta(_) => {
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
            StreamEvent::Usage(u) => tokens = u.output_tokens,
            StreamEvent::Done { .. } => break,
            StreamEvent::ToolCall(_) | StreamEvent::ThinkingDelta(_) | StreamEvent::Thinking(_) => {}
        }
    }
    let first = first.unwrap_or(last);
    let decode = last.duration_since(first).as_secs_f64();
    Run { ttft: first - t0, decode_tps: tokens.saturating_sub(1) as f64 / decode.max(1e-9), tokens }
}

/// Draws a 200×50 frame every 50 ms while `provider` generates, the reply's deltas applied to
/// the app's state first; returns each frame's draw time in milliseconds.
fn frames_while_generating(rt: &tokio::runtime::Runtime, provider: &LocalProvider) -> Vec<f64> {
    use kv1nt::app::{keymap::Keymap, state::AppState, update};
    use kv1nt::engine::llm::ProviderKind;
    use kv1nt::engine::protocol::Event;
    use kv1nt::text::theme::{ColorMode, Theme};

    kv1nt::text::highlight::warm_up_blocking();
    let keymap = Keymap::load(&Default::default()).expect("keymap");
    let theme = Theme::load("dark", None).expect("theme").with_color_mode(ColorMode::TrueColor);
    let mut state = AppState::new(keymap, theme, ProviderKind::Local, "gemma".into());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<String>>();
    let request = ChatRequest {
        model: String::new(),
        system: String::new(),
        messages: vec![Message::user("Write a Rust function that sorts a list, with an explanation.")],
        tools: Vec::new(),
        max_tokens: 256,
        temperature: Some(0.0),
        tool_choice: ToolChoice::Auto,
        thinking: Default::default(),
    };
    let generate = async move {
        let mut stream = provider.start(request).await.expect("the built-in provider starts");
        while let Some(Ok(event)) = stream.next().await {
            match event {
                StreamEvent::TextDelta(t) => drop(tx.send(Some(t))),
                StreamEvent::Done { .. } => break,
                _ => {}
            }
        }
        drop(tx.send(None));
    };
    update::apply(&mut state, Event::TurnStarted { provider: ProviderKind::Local, model: "gemma".into() });
    let mut frames = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(|| rt.block_on(generate));
        draw_frames(&mut state, &mut rx, &mut frames);
    });
    frames
}

/// Every 50 ms: the deltas that came, then one frame, timed; until the reply ends.
fn draw_frames(
    state: &mut kv1nt::app::state::AppState,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Option<String>>,
    frames: &mut Vec<f64>,
) {
    use kv1nt::app::update;
    use kv1nt::engine::protocol::Event;
    use ratatui::{buffer::Buffer, layout::Rect};
    let area = Rect::new(0, 0, 200, 50);
    let mut buf = Buffer::empty(area);
    'generating: loop {
        std::thread::sleep(Duration::from_millis(50));
        while let Ok(delta) = rx.try_recv() {
            match delta {
                Some(t) => update::apply(state, Event::TextDelta(t)),
                None => break 'generating,
            }
        }
        let t = Instant::now();
        if state.blocks_stale {
            // As the event loop does (at most every 250 ms there): the reply's code blocks to Code.
            let from = state.chat.entries.len().saturating_sub(1);
            kv1nt::app::blocks::refresh_from(state, from);
        }
        buf.reset();
        kv1nt::widgets::draw_into(area, &mut buf, state, Instant::now());
        frames.push(t.elapsed().as_secs_f64() * 1e3);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = std::env::var_os("KV1NT_CHAT_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/kv1nt-local-model/models/gemma-3-270m-q4_k_m.gguf")
    });
    if !path.is_file() {
        eprintln!("skipped: no model at {} (set KV1NT_CHAT_MODEL)", path.display());
        return;
    }
    let threads: usize = std::env::var("KV1NT_BENCH_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2);
    let provider = LocalProvider::new(&LocalConfig {
        model: path.display().to_string(),
        threads,
        ..LocalConfig::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let before = status_mib("VmRSS:");
    let mut runs = Vec::new();
    for i in 0..RUNS {
        let r = rt.block_on(run(&provider));
        println!(
            "run {i}: first token {:.0} ms{}, {} tokens at {:.1} tokens/s",
            r.ttft.as_secs_f64() * 1e3,
            if i == 0 { " (includes loading the model)" } else { "" },
            r.tokens,
            r.decode_tps
        );
        runs.push(r);
    }
    let warm = &runs[1..];
    let ttft_ms = median(warm.iter().map(|r| r.ttft.as_secs_f64() * 1e3).collect());
    let tps = median(warm.iter().map(|r| r.decode_tps).collect());
    let load_ms = runs[0].ttft.as_secs_f64() * 1e3 - ttft_ms;
    let peak = status_mib("VmHWM:");
    let model_mib = std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 1048576.0);
    println!(
        "built-in: first token {ttft_ms:.0} ms (warm), {tps:.1} tokens/s, load {load_ms:.0} ms, \
         peak RSS {peak:.0} MiB (process before loading {before:.0} MiB), model file {model_mib:.0} MiB, {threads} threads"
    );
    let mut frames = frames_while_generating(&rt, &provider);
    frames.sort_by(f64::total_cmp);
    let frame_ms = median(frames.clone());
    let frame_p99 = frames[(frames.len() * 99 / 100).min(frames.len() - 1)];
    let frame_max = frames.last().copied().unwrap_or_default();
    println!(
        "frames while generating: {} frames, median {frame_ms:.2} ms, p99 {frame_p99:.2} ms, max {frame_max:.2} ms",
        frames.len()
    );
    println!(
        "RESULT {}",
        serde_json::json!({"ttft_ms": ttft_ms, "tokens_per_s": tps, "load_ms": load_ms,
            "peak_rss_mib": peak, "rss_before_mib": before, "model_mib": model_mib, "threads": threads,
            "frame_ms_median": frame_ms, "frame_ms_p99": frame_p99, "frame_ms_max": frame_max})
    );
}
