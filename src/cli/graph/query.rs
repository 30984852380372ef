//! `kv1nt search` (hybrid when the index has vectors from the configured embedding model and
//! it answers, else lexical, and says which on stderr) and `kv1nt graph callers|callees|deps|
//! related|stats`.

use std::collections::HashSet;
use std::fmt::Write as _;

use anyhow::Result;
use serde_json::{Value, json};

use super::super::Setup;
use super::{
    GraphArgs, GraphCommand, NameArgs, SearchArgs, emit, entity_json_with, entity_line, explain,
    open_existing, print_json,
};
use crate::engine::graph::{Embedder, Entity, GraphDb, GraphError, embedder_for};

/// The deepest `--depth` honoured.
const MAX_DEPTH: u32 = 10;

pub async fn search(args: SearchArgs, setup: Setup) -> Result<i32> {
    let db = open_existing(&setup.paths)?;
    let query = args.query.join(" ");
    let (vector, note) = query_vector(&db, &setup, &query).await;
    if !args.json {
        eprintln!("{note}");
    }
    let hits = db.semantic_search(&query, vector.as_deref(), &args.types, args.limit.max(1))?;
    if args.json {
        let rows: Vec<Value> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| entity_json_with(&h.entity, json!({"rank": i + 1, "score": h.score})))
            .collect();
        print_json(&Value::Array(rows))?;
    } else if hits.is_empty() {
        eprintln!("no matches for `{query}`");
    } else {
        let mut out = String::new();
        for (i, h) in hits.iter().enumerate() {
            let _ = writeln!(out, "{:>3}. {}", i + 1, entity_line(&h.entity));
        }
        emit(&out);
    }
    Ok(0)
}

/// The query's vector when hybrid search is possible, and a note saying which search runs.
async fn query_vector(db: &GraphDb, setup: &Setup, query: &str) -> (Option<Vec<f32>>, String) {
    let lexical = |why: String| (None, format!("lexical search only: {why}"));
    let stored = match (db.has_vectors(), db.vector_model()) {
        (Ok(true), Ok(Some(stored))) => stored,
        _ => return lexical("the index has no embeddings (run `kv1nt index --embed`)".into()),
    };
    let embedder =
        match embedder_for(&setup.config.graph, &setup.config.embed_endpoints(&setup.secrets)).await {
            Ok(Some(e)) => e,
            Ok(None) => return lexical("embeddings are off ([graph] embed = \"none\")".into()),
            Err(why) => return lexical(format!("no embedding model reachable ({why})")),
        };
    if (embedder.model(), embedder.dim()) != (stored.0.as_str(), stored.1) {
        return lexical(format!(
            "the index was embedded with {} ({} dims) but the configured model is {}; \
             run `kv1nt index --embed` to re-embed",
            stored.0,
            stored.1,
            embedder.describe()
        ));
    }
    match embedder.embed(&[query.to_string()]).await {
        Ok(mut v) if v.len() == 1 => {
            (v.pop(), format!("hybrid search (BM25 + vectors from {})", embedder.describe()))
        }
        Ok(_) => lexical("the embedding model returned no vector for the query".into()),
        Err(e) => lexical(e.to_string()),
    }
}

pub async fn graph(args: GraphArgs, setup: Setup) -> Result<i32> {
    let db = open_existing(&setup.paths)?;
    match args.command {
        GraphCommand::Stats { json } => stats(&db, json),
        GraphCommand::Callers(a) => {
            walk(&db, &a, "callers", false, |n| Ok(with_strength(db.find_callers(n)?)))
        }
        GraphCommand::Callees(a) => {
            walk(&db, &a, "callees", false, |n| Ok(with_strength(db.find_callees(n)?)))
        }
        GraphCommand::Deps(a) => walk(&db, &a, "dependencies", true, |n| {
            Ok(db.find_dependencies(n)?.into_iter().map(|e| (e, None)).collect())
        }),
        GraphCommand::Related(a) => related(&db, &a),
    }
}

fn with_strength(v: Vec<(Entity, f32)>) -> Vec<(Entity, Option<f32>)> {
    v.into_iter().map(|(e, s)| (e, Some(s))).collect()
}

/// One reached entity: the entity, the edge's strength, depth, and the entity it was reached via.
type Step = (Entity, Option<f32>, u32, Option<String>);

/// Breadth-first over `next` from `args.name` to `--depth` (default 1); each entity once.
/// Deeper steps ask `next` for each reached entity's file (`by_file`) or qualified name.
fn walk(
    db: &GraphDb,
    args: &NameArgs,
    what: &str,
    by_file: bool,
    next: impl Fn(&str) -> Result<Vec<(Entity, Option<f32>)>, GraphError>,
) -> Result<i32> {
    let depth = args.depth.unwrap_or(1).clamp(1, MAX_DEPTH);
    let first = next(&args.name).map_err(|e| explain(db, e))?;
    let mut seen: HashSet<i64> = HashSet::new();
    let mut steps: Vec<Step> = Vec::new();
    for (e, s) in first {
        if seen.insert(e.id) {
            steps.push((e, s, 1, None));
        }
    }
    let mut frontier = 0;
    for d in 2..=depth {
        let end = steps.len();
        for i in frontier..end {
            let key = if by_file { steps[i].0.file.clone() } else { steps[i].0.qualified_name.clone() };
            let via = steps[i].0.qualified_name.clone();
            for (e, s) in next(&key).unwrap_or_default() {
                if seen.insert(e.id) {
                    steps.push((e, s, d, Some(via.clone())));
                }
            }
        }
        if steps.len() == end {
            break;
        }
        frontier = end;
    }
    if args.json {
        let rows: Vec<Value> = steps
            .iter()
            .map(|(e, s, d, via)| entity_json_with(e, json!({"strength": s, "depth": d, "via": via})))
            .collect();
        return print_json(&Value::Array(rows)).map(|()| 0);
    }
    if steps.is_empty() {
        eprintln!("no {what} of `{}` in the graph", args.name);
        return Ok(0);
    }
    let mut out = String::new();
    for (e, s, d, via) in &steps {
        let mut line = format!("{}{}", "  ".repeat(*d as usize - 1), entity_line(e));
        if let Some(s) = s {
            line.push_str(&format!("  [strength {s:.1}]"));
        }
        if let Some(via) = via.as_deref().filter(|_| depth > 1) {
            line.push_str(&format!("  (via {via})"));
        }
        let _ = writeln!(out, "{line}");
    }
    emit(&out);
    Ok(0)
}

fn related(db: &GraphDb, args: &NameArgs) -> Result<i32> {
    let depth = args.depth.unwrap_or(2).clamp(1, MAX_DEPTH);
    let found = db.query_related(args.name.as_str(), depth, &[]).map_err(|e| explain(db, e))?;
    if args.json {
        let rows: Vec<Value> = found
            .iter()
            .map(|r| {
                let direction = if r.outgoing { "outgoing" } else { "incoming" };
                entity_json_with(
                    &r.entity,
                    json!({"strength": r.strength, "depth": r.depth, "via": r.via.as_str(),
                        "direction": direction}),
                )
            })
            .collect();
        return print_json(&Value::Array(rows)).map(|()| 0);
    }
    if found.is_empty() {
        eprintln!("nothing related to `{}` in the graph", args.name);
    }
    let mut out = String::new();
    for r in &found {
        let arrow = if r.outgoing { "→" } else { "←" };
        let _ = writeln!(out, "{} {arrow} {:<10} {}", r.depth, r.via.as_str(), entity_line(&r.entity));
    }
    emit(&out);
    Ok(0)
}

fn stats(db: &GraphDb, as_json: bool) -> Result<i32> {
    let s = db.stats()?;
    let docs = crate::engine::project::doc_coverage::coverage(db)?;
    let model = db.vector_model().ok().flatten();
    if as_json {
        let by_kind: serde_json::Map<String, Value> =
            s.by_kind.iter().map(|(k, n)| (k.as_str().to_string(), json!(n))).collect();
        let by_relation: serde_json::Map<String, Value> =
            s.by_relation.iter().map(|(k, n)| (k.as_str().to_string(), json!(n))).collect();
        print_json(&json!({
            "database": db.path(),
            "files": s.files,
            "entities": s.entities,
            "relations": s.relations,
            "unresolved_refs": s.unresolved_refs,
            "embedded": s.embedded,
            "embed_model": model.as_ref().map(|(m, _)| m),
            "embed_dim": model.as_ref().map(|(_, d)| d),
            "parse_error_files": s.parse_error_files,
            "by_type": by_kind,
            "by_relation": by_relation,
            "docs": docs,
        }))?;
        return Ok(0);
    }
    let mut out = String::new();
    let list = |items: Vec<String>| if items.is_empty() { "-".to_string() } else { items.join(" · ") };
    let _ = writeln!(out, "files       {} ({} with syntax errors)", s.files, s.parse_error_files);
    let _ = writeln!(out, "entities    {}", s.entities);
    let _ =
        writeln!(out, "  by type   {}", list(s.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect()));
    let _ = writeln!(out, "relations   {} ({} references unresolved)", s.relations, s.unresolved_refs);
    let _ = writeln!(
        out,
        "  by kind   {}",
        list(s.by_relation.iter().map(|(k, n)| format!("{k} {n}")).collect())
    );
    let _ = match model {
        Some((m, d)) => {
            writeln!(out, "embeddings  {} of {} entities ({m}, {d} dims)", s.embedded, s.entities)
        }
        None => writeln!(out, "embeddings  none (lexical search only; `kv1nt index --embed` adds them)"),
    };
    let _ = writeln!(
        out,
        "docs        {} of {} public items documented ({:.0} %)",
        docs.documented,
        docs.public_items,
        docs.percent()
    );
    for item in &docs.undocumented {
        let _ = writeln!(out, "  no doc    {}", crate::engine::project::render::printable(item));
    }
    if docs.public_items - docs.documented > docs.undocumented.len() {
        let _ = writeln!(
            out,
            "  …         {} more",
            docs.public_items - docs.documented - docs.undocumented.len()
        );
    }
    if let Some(p) = db.path() {
        let _ = writeln!(out, "database    {}", p.display());
    }
    emit(&out);
    Ok(0)
}
