//! `kv1nt index [PATH] [--embed] [--json]`: build or update the repository's graph, show
//! progress (an indicatif bar on a terminal, a line every few seconds otherwise, nothing with
//! `--json`), then the stats; `--embed` then embeds the entities that have no vector yet.
//!
//! Exit status: 0 when indexed (an unreachable embedding model is only a note); 1 when another
//! run holds the index past `--wait`, or when embedding fails after a model answered.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use serde_json::{Value, json};

use super::super::Setup;
use super::{emit, print_json};
use crate::engine::graph::{
    Embedder, GraphDb, IndexOptions, IndexProgress, IndexReport, embed_pending, embedder_for, graph_db_path,
    index_repository,
};

/// Plain progress lines at most this often.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

pub async fn run(args: super::IndexArgs, setup: Setup) -> Result<i32> {
    let root = setup.paths.workspace.clone();
    let db_path = graph_db_path(&setup.paths.data_dir, &root);
    let db = GraphDb::open(&db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    let notice = db.notice().map(str::to_string);
    if let Some(n) = &notice {
        eprintln!("kv1nt: {n}");
    }
    let before = file_hashes(&db);
    let opts = IndexOptions {
        max_file_bytes: setup.config.graph.max_file_bytes(),
        lock_timeout: Duration::from_secs(args.wait),
        ..IndexOptions::default()
    };
    let progress = Progress::new(if args.json {
        Mode::Quiet
    } else if std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Plain
    });
    if !args.json {
        eprintln!("indexing {}", root.display());
    }
    let report = index_repository(&root, &db, &opts, &|p| progress.update(p));
    progress.finish();
    let report = report?;
    let lines = lines_indexed(&db, &before);
    let mut out = report_json(&report, lines);
    out["root"] = json!(root);
    out["database"] = json!(db_path);
    out["notice"] = json!(notice);
    if !args.json {
        emit(&report_text(&report, lines));
    }
    let mut code = 0;
    if args.embed {
        let (embedding, ok) = embed(&db, &setup, args.json).await;
        out["embedding"] = embedding;
        code = if ok { 0 } else { 1 };
    }
    if args.json {
        print_json(&out)?;
    }
    Ok(code)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Bar,
    Plain,
    Quiet,
}

/// Progress display for one index run (called from the indexing thread only).
struct Progress {
    mode: Mode,
    bar: Option<ProgressBar>,
    last_line: Cell<Instant>,
    total: RefCell<usize>,
}

impl Progress {
    fn new(mode: Mode) -> Progress {
        let bar = (mode == Mode::Bar).then(|| {
            let bar = ProgressBar::new_spinner().with_message("scanning files");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { mode, bar, last_line: Cell::new(Instant::now()), total: RefCell::new(0) }
    }

    fn update(&self, p: IndexProgress) {
        match (self.mode, p) {
            (Mode::Quiet, _) => {}
            (Mode::Bar, IndexProgress::Walked { files }) => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{files} source files"));
                }
            }
            (Mode::Bar, IndexProgress::Indexed { done, total }) => {
                let Some(bar) = &self.bar else { return };
                if *self.total.borrow() != total {
                    *self.total.borrow_mut() = total;
                    bar.set_length(total as u64);
                    bar.set_style(bar_style("files"));
                }
                bar.set_position(done as u64);
            }
            (Mode::Bar, IndexProgress::Resolving) => {
                if let Some(bar) = &self.bar {
                    bar.set_style(ProgressStyle::default_spinner());
                    bar.set_message("resolving references");
                }
            }
            (Mode::Plain, IndexProgress::Walked { files }) => eprintln!("found {files} source files"),
            (Mode::Plain, IndexProgress::Indexed { done, total }) => {
                if self.last_line.get().elapsed() >= PLAIN_EVERY || (done == total && total > 0) {
                    self.last_line.set(Instant::now());
                    eprintln!("indexed {done}/{total} changed files");
                }
            }
            (Mode::Plain, IndexProgress::Resolving) => eprintln!("resolving references"),
            (_, IndexProgress::Done) => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `⠙ ██████░░░░ 128/573 files · 264 files/s · ETA 2s`.
fn bar_style(unit: &'static str) -> ProgressStyle {
    let template = format!("{{spinner}} {{bar:30}} {{pos}}/{{len}} {unit} · {{rate}} · ETA {{eta}}");
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()).with_key(
        "rate",
        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} {unit}/s", state.per_sec());
        },
    )
}

/// `path → hash` of the files indexed before the run (empty when unreadable).
fn file_hashes(db: &GraphDb) -> HashMap<String, String> {
    let read = || -> rusqlite::Result<HashMap<String, String>> {
        let mut st = db.connection().prepare("SELECT path, hash FROM files")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
    };
    read().unwrap_or_default()
}

/// Lines of the files whose content this run (re)indexed: the end line of each new or changed
/// file's module entity. `None` when the database cannot say.
fn lines_indexed(db: &GraphDb, before: &HashMap<String, String>) -> Option<u64> {
    let mut st = db
        .connection()
        .prepare(
            "SELECT f.path, f.hash, coalesce(max(e.end_line), 0) FROM files f
             LEFT JOIN entities e ON e.file = f.path AND e.parent_id IS NULL GROUP BY f.path",
        )
        .ok()?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
        .ok()?;
    let mut lines = 0u64;
    for (path, hash, end) in rows.flatten() {
        if before.get(&path) != Some(&hash) {
            lines += end.max(0) as u64;
        }
    }
    Some(lines)
}

/// `148603` → `148,603`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn per_sec(n: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { (n as f64 / secs).round() as u64 } else { 0 }
}

fn report_json(r: &IndexReport, lines: Option<u64>) -> Value {
    json!({
        "files_seen": r.files_seen,
        "files_indexed": r.files_indexed,
        "files_unchanged": r.files_unchanged,
        "files_deleted": r.files_deleted,
        "skipped_too_large": r.skipped_too_large,
        "skipped_binary": r.skipped_binary,
        "non_utf8": r.non_utf8,
        "parse_errors": r.parse_errors,
        "failed": r.failed.iter().map(|(p, e)| json!({"path": p, "error": e})).collect::<Vec<_>>(),
        "entities": r.entities,
        "relations": r.relations,
        "elapsed_ms": r.elapsed.as_millis() as u64,
        "lines_indexed": lines,
        "lines_per_sec": lines.map(|l| per_sec(l, r.elapsed)),
    })
}

fn report_text(r: &IndexReport, lines: Option<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "files      {} seen · {} indexed · {} unchanged · {} deleted",
        r.files_seen, r.files_indexed, r.files_unchanged, r.files_deleted
    );
    let _ = writeln!(
        out,
        "skipped    {} too large · {} binary · {} not UTF-8 (indexed lossily)",
        r.skipped_too_large.len(),
        r.skipped_binary,
        r.non_utf8
    );
    for path in r.skipped_too_large.iter().take(20) {
        let _ = writeln!(out, "             too large: {path}");
    }
    if r.skipped_too_large.len() > 20 {
        let _ = writeln!(
            out,
            "             … and {} more (raise [graph] max_file_kb)",
            r.skipped_too_large.len() - 20
        );
    }
    let _ = writeln!(
        out,
        "errors     {} files with syntax errors (partially indexed) · {} unreadable",
        r.parse_errors,
        r.failed.len()
    );
    for (path, error) in r.failed.iter().take(10) {
        let _ = writeln!(out, "             {path}: {error}");
    }
    let _ = writeln!(
        out,
        "graph      {} entities · {} relations",
        thousands(r.entities as u64),
        thousands(r.relations as u64)
    );
    let secs = r.elapsed.as_secs_f64();
    let _ = match lines {
        Some(l) if l > 0 => {
            writeln!(
                out,
                "time       {secs:.2} s · {} lines · {} lines/s",
                thousands(l),
                thousands(per_sec(l, r.elapsed))
            )
        }
        _ => writeln!(out, "time       {secs:.2} s"),
    };
    out
}

/// `--embed`: the JSON summary and whether it went well (an unreachable model is fine).
async fn embed(db: &GraphDb, setup: &Setup, quiet: bool) -> (Value, bool) {
    let say = |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let embedder =
        match embedder_for(&setup.config.graph, &setup.config.embed_endpoints(&setup.secrets)).await {
            Ok(Some(e)) => e,
            Ok(None) => {
                say("embeddings are off ([graph] embed = \"none\"): lexical search only".into());
                return (json!({"skipped": "embeddings are off ([graph] embed = \"none\")"}), true);
            }
            Err(why) => {
                say(format!("no embedding model reachable: lexical search only ({why})"));
                return (json!({"skipped": format!("no embedding model reachable: {why}")}), true);
            }
        };
    let total = db.stats().map_or(0, |s| s.entities as u64);
    say(format!("embedding with {}", embedder.describe()));
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(total).with_style(bar_style("entities"));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let batch = setup.config.graph.batch;
    let work = embed_pending(db, &embedder, batch);
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let result = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = tick.tick() => {
                if let Some(bar) = &bar {
                    bar.set_position(embedded_count(db));
                }
            }
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let model = embedder.model().to_string();
    match result {
        Ok(r) => {
            say(format!(
                "embedded   {} entities ({} from cache, {} requests) · {} of {total} have vectors",
                r.embedded,
                r.from_cache,
                r.requests,
                embedded_count(db)
            ));
            let summary = json!({"model": model, "dim": embedder.dim(), "embedded": r.embedded,
                "from_cache": r.from_cache, "requests": r.requests});
            (summary, true)
        }
        Err(e) => {
            eprintln!(
                "kv1nt: embedding stopped: {e}; {} of {total} entities have vectors \
                 (run `kv1nt index --embed` again to continue)",
                embedded_count(db)
            );
            (json!({"model": model, "error": e.to_string()}), false)
        }
    }
}

/// Entities with a vector so far (0 before the vector table exists).
fn embedded_count(db: &GraphDb) -> u64 {
    db.connection()
        .query_row("SELECT count(*) FROM entity_vectors", [], |r| r.get::<_, i64>(0))
        .map_or(0, |n| n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(148_603), "148,603");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
