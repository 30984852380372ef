//! `kv1nt stats`: how often the user accepts what kv1nt proposes — the seed's success criteria
//! per model, intent and language, with their targets — as a table or one JSON object.
//!
//! Invariants: reads the local database only; a figure with nothing to divide by prints `—`
//! (JSON `null`); model names from the database are printed without control characters.

use anyhow::{Result, anyhow};
use clap::Args;
use time::OffsetDateTime;

use crate::engine::learning;
use crate::engine::pricing::Prices;
use crate::engine::protocol::stats::{
    Figures, StatsFilter, StatsReport, StatsRow, TARGET_ACCEPTANCE, TARGET_CHECKS_FIRST_PASS,
    TARGET_SYNTAX_FIRST_PASS,
};
use crate::engine::store::Store;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only proposals since then: a span (30m, 24h, 7d, 2w) or a date (2026-12-01).
    #[arg(long, value_name = "SPAN|DATE")]
    pub since: Option<String>,
    /// Only this intent: fix, generate, modify, explain, test, docs, review, or "free text".
    #[arg(long)]
    pub intent: Option<String>,
    /// Only changes to files of this language: rust, python, typescript, javascript, go, …
    #[arg(long)]
    pub language: Option<String>,
    /// One JSON object with every figure.
    #[arg(long)]
    pub json: bool,
}

/// `model`: the global `--model` flag, here "only this model" (its name, or provider/name).
pub fn run(args: &StatsArgs, model: Option<&str>, prices: &Prices, store: &Store) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| learning::parse_since(s, OffsetDateTime::now_utc()))
        .transpose()
        .map_err(|e| anyhow!("--since {e}"))?;
    let filter = StatsFilter {
        since,
        model: model.map(str::to_string),
        intent: args.intent.clone(),
        language: args.language.as_deref().map(str::to_lowercase),
    };
    let report = learning::report(store, &filter, prices)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// The table as `kv1nt stats` prints it.
pub fn render(report: &StatsReport) -> String {
    let mut out = String::new();
    let mut parts = Vec::new();
    if let Some(s) = &report.since {
        parts.push(format!("since {}", s.get(..16).unwrap_or(s).replace('T', " ")));
    }
    if let Some(m) = &report.model {
        parts.push(format!("model {}", printable(m)));
    }
    if let Some(i) = &report.intent {
        parts.push(format!("intent {}", printable(i)));
    }
    if let Some(l) = &report.language {
        parts.push(format!("language {}", printable(l)));
    }
    let scope = if parts.is_empty() { "all recorded proposals".to_string() } else { parts.join(", ") };
    if report.total.proposals == 0 {
        out.push_str(&format!("No proposals recorded ({scope}).\n"));
        return out;
    }
    let t = &report.total;
    out.push_str(&format!("kv1nt stats — {scope}: {} proposals\n\n", t.proposals));
    out.push_str(&format!(
        "  acceptance            {:>6}   target {}\n",
        pct(t.acceptance),
        pct(Some(TARGET_ACCEPTANCE))
    ));
    out.push_str(&format!(
        "  first-pass syntax     {:>6}   target {}\n",
        pct(t.syntax_first_pass),
        pct(Some(TARGET_SYNTAX_FIRST_PASS))
    ));
    out.push_str(&format!(
        "  first-pass checks     {:>6}   target {}\n",
        pct(t.checks_first_pass),
        pct(Some(TARGET_CHECKS_FIRST_PASS))
    ));
    out.push_str(&format!("  modified before yes   {:>6}\n", pct(t.modified_rate)));
    out.push_str(&format!("  denied                {:>6}\n", pct(t.denial_rate)));
    out.push_str(&format!("  undone later          {:>6}\n", pct(t.undo_rate)));
    out.push_str(&format!("  mean fix rounds       {:>6}\n", num(t.mean_fix_rounds, 1)));
    out.push_str(&format!("  tokens per accepted   {:>6}\n", num(t.tokens_per_accepted, 0)));
    out.push_str(&format!(
        "  cost per accepted     {:>6}{}\n",
        t.cost_per_accepted.map(|c| format!("${c:.4}")).unwrap_or_else(|| "—".into()),
        if t.cost_per_accepted.is_none() { "   (no prices: [learning.prices])" } else { "" }
    ));
    for (title, rows) in [
        ("model", &report.by_model),
        ("intent", &report.by_intent),
        ("language", &report.by_language),
        ("prompt · model", &report.by_prompt),
    ] {
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(&table(title, rows));
        }
    }
    out
}

fn table(title: &str, rows: &[StatsRow]) -> String {
    let width = rows.iter().map(|r| r.key.chars().count()).max().unwrap_or(0).clamp(title.len(), 40);
    let mut out = format!(
        "  {:<width$}  {:>5}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}\n",
        title.to_uppercase(),
        "N",
        "ACCEPT",
        "SYNTAX",
        "CHECKS",
        "EDITED",
        "UNDONE",
        "TOK/ACC"
    );
    for row in rows {
        let f: &Figures = &row.figures;
        let key: String = printable(&row.key).chars().take(40).collect();
        out.push_str(&format!(
            "  {:<width$}  {:>5}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}\n",
            key,
            f.proposals,
            pct(f.acceptance),
            pct(f.syntax_first_pass),
            pct(f.checks_first_pass),
            pct(f.modified_rate),
            pct(f.undo_rate),
            num(f.tokens_per_accepted, 0)
        ));
    }
    out
}

fn pct(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.0} %", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn num(value: Option<f64>, decimals: usize) -> String {
    value.map(|v| format!("{v:.decimals$}")).unwrap_or_else(|| "—".into())
}

fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
