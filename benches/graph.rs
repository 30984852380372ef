//! Knowledge-graph indexing and search speed.
//!
//! (a) full index (no embeddings) of dependency sources from the cargo registry (tokio, syn,
//!     regex-automata, regex-syntax, ratatui-core — whichever exist), against parsing alone;
//! (b) re-index of one changed file; (c) re-index of an unchanged tree;
//! (d) hybrid `semantic_search` over 100 000 synthetic entities (FTS5 + 384-dim vec0).
//! Goals: full ≤ 2× parse-only and ≥ 200 000 lines/s on 2 cores; (b) ≤ 30 ms; (c) ≤ 10 % of
//! (a); (d) median ≤ 10 ms.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kv1nt::engine::graph::parse::{Language, parse_source};
use kv1nt::engine::graph::{GraphDb, IndexOptions, index_repository, reindex_file};
use rayon::prelude::*;

const CRATES: &[&str] = &["tokio-1", "syn-2", "regex-automata-", "regex-syntax-", "ratatui-core-"];

fn registry() -> Option<PathBuf> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    std::fs::read_dir(home.join("registry/src")).ok()?.flatten().map(|e| e.path()).next()
}

fn copy_rs(from: &Path, to: &Path, files: &mut Vec<(String, String)>, base: &Path) {
    let Ok(dir) = std::fs::read_dir(from) else { return };
    for e in dir.flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_rs(&p, &dest, files, base);
        } else if p.extension().is_some_and(|x| x == "rs") {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&p, &dest).unwrap();
            let rel = dest.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            files.push((rel, String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned()));
        }
    }
}

/// Copies the corpus into `dir`; returns (relative path, text) of every file.
fn corpus(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let Some(reg) = registry() else { return files };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&reg).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for prefix in CRATES {
        // The newest version of each crate.
        if let Some(c) =
            entries.iter().rev().find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        {
            let name = c.file_name().unwrap().to_owned();
            copy_rs(&c.join("src"), &dir.join(name).join("src"), &mut files, dir);
        }
    }
    files
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    let files = corpus(&root);
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    println!("graph corpus: {} files, {lines} lines, {:.1} MiB", files.len(), bytes as f64 / 1048576.0);
    if files.is_empty() {
        println!("no registry sources found; skipping the indexing benchmarks");
    }

    let mut g = c.benchmark_group("graph_index");
    g.sample_size(10);
    g.throughput(Throughput::Elements(lines as u64));
    let mut n = 0;
    if !files.is_empty() {
        g.bench_function("treesitter_parse_only", |b| {
            b.iter(|| {
                files.par_iter().for_each(|(_, text)| {
                    let mut p = tree_sitter::Parser::new();
                    p.set_language(&tree_sitter_rust::LANGUAGE.into()).unwrap();
                    assert!(p.parse(text, None).is_some());
                })
            })
        });
        g.bench_function("parse_and_extract", |b| {
            b.iter(|| {
                files.par_iter().for_each(|(rel, text)| {
                    assert!(parse_source(Language::Rust, rel, text).is_some());
                })
            })
        });
        g.bench_function("full_index", |b| {
            b.iter(|| {
                n += 1;
                let db = GraphDb::open(&tmp.path().join(format!("full-{n}.sqlite"))).unwrap();
                let r = index_repository(&root, &db, &IndexOptions::default(), &|_| {}).unwrap();
                assert_eq!(r.files_indexed, files.len());
            })
        });
    }
    g.finish();

    if !files.is_empty() {
        let db = GraphDb::open(&tmp.path().join("incremental.sqlite")).unwrap();
        let t = Instant::now();
        let r = index_repository(&root, &db, &IndexOptions::default(), &|_| {}).unwrap();
        let full = t.elapsed();
        println!(
            "full index: {:.2} s, {:.0} lines/s, {} entities, {} relations",
            full.as_secs_f64(),
            lines as f64 / full.as_secs_f64(),
            r.entities,
            r.relations
        );
        let mut g = c.benchmark_group("graph_incremental");
        g.sample_size(20);
        g.bench_function("unchanged_tree", |b| {
            b.iter(|| {
                let r = index_repository(&root, &db, &IndexOptions::default(), &|_| {}).unwrap();
                assert_eq!(r.files_indexed, 0);
            })
        });
        // A mid-sized, much-referenced file.
        let target = files
            .iter()
            .filter(|(rel, t)| rel.contains("syn-") && t.len() > 8_000 && t.len() < 40_000)
            .map(|(rel, _)| root.join(rel))
            .next()
            .unwrap_or_else(|| root.join(&files[0].0));
        let original = std::fs::read_to_string(&target).unwrap();
        let mut k = 0u64;
        g.bench_function("one_changed_file", |b| {
            b.iter(|| {
                k += 1;
                std::fs::write(&target, format!("{original}\n// edit {k}\nfn bench_added_{k}() {{}}\n"))
                    .unwrap();
                let r = reindex_file(&root, &db, &target).unwrap();
                assert_eq!(r.files_indexed, 1);
            })
        });
        println!("one_changed_file target: {} ({} bytes)", target.display(), original.len());
        g.finish();
    }

    search(c);
}

fn search(c: &mut Criterion) {
    const N: usize = 100_000;
    const DIM: usize = 384;
    let db = GraphDb::open_in_memory().unwrap();
    let words = [
        "parse", "token", "stream", "buffer", "render", "widget", "layout", "index", "graph", "search",
        "query", "vector", "embed", "store", "session", "commit", "branch", "diff", "patch", "config",
        "theme", "frame", "cursor", "scroll", "select", "filter", "merge", "split", "sandbox", "policy",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let t = Instant::now();
    {
        let conn = db.connection();
        conn.execute_batch("BEGIN").unwrap();
        conn.execute(
            "INSERT INTO files(path, hash, size, language, indexed_at) VALUES ('synthetic.rs', '', 0, 'rust', '')",
            [],
        )
        .unwrap();
        let mut ins = conn
            .prepare(
                "INSERT INTO entities(id, file, name, qualified_name, kind, start_line, end_line, signature, doc)
                 VALUES (?1, 'synthetic.rs', ?2, ?3, 'function', 1, 2, ?4, ?5)",
            )
            .unwrap();
        for i in 1..=N {
            let (a, b, c) =
                (words[rand() as usize % 30], words[rand() as usize % 30], words[rand() as usize % 30]);
            let name = format!("{a}_{b}_{i}");
            ins.execute(rusqlite::params![
                i as i64,
                name,
                format!("crate::{c}::{name}"),
                format!("pub fn {name}(input: &{c}) -> Result<{b}>"),
                format!("Applies the {a} step to a {b} before the {c} stage.")
            ])
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    db.ensure_vectors("synthetic", DIM).unwrap();
    {
        let conn = db.connection();
        conn.execute_batch("BEGIN").unwrap();
        for i in 1..=N {
            let v: Vec<f32> = (0..DIM).map(|_| (rand() % 2000) as f32 / 1000.0 - 1.0).collect();
            db.put_vector(i as i64, &v).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }
    println!("search set-up: {N} entities + vectors in {:.1} s", t.elapsed().as_secs_f64());
    let query: Vec<f32> = (0..DIM).map(|i| ((i * 7919) % 2000) as f32 / 1000.0 - 1.0).collect();
    // Recall of the quantised KNN against brute force, on these (uniform random: the worst
    // case for sign quantisation) vectors.
    let queries: Vec<Vec<f32>> = std::iter::once(query.clone())
        .chain((0..19).map(|_| (0..DIM).map(|_| (rand() % 2000) as f32 / 1000.0 - 1.0).collect()))
        .collect();
    println!("recall@10, uniform random vectors: {:.3}", recall_at_10(&db, &queries));
    let mut g = c.benchmark_group("graph_search");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("lexical_100k", |b| {
        b.iter(|| assert!(!db.lexical_search("render widget layout", &[], 10).unwrap().is_empty()))
    });
    g.bench_function("vector_knn_100k", |b| {
        b.iter(|| assert_eq!(db.vector_search(&query, 50).unwrap().len(), 50))
    });
    g.bench_function("hybrid_100k", |b| {
        b.iter(|| {
            assert_eq!(db.semantic_search("render widget layout", Some(&query), &[], 10).unwrap().len(), 10)
        })
    });
    g.finish();
    if std::env::var_os("KV1NT_BENCH_CLUSTERED").is_some() {
        clustered_recall();
    }
}

/// Mean fraction of the exact top 10 that `vector_search` returns.
fn recall_at_10(db: &GraphDb, queries: &[Vec<f32>]) -> f64 {
    let mut found = 0;
    for q in queries {
        let fast = db.vector_search(q, 10).unwrap();
        let exact = db.vector_search_exact(q, 10).unwrap();
        found += fast.iter().filter(|(id, _)| exact.iter().any(|(x, _)| x == id)).count();
    }
    found as f64 / (10 * queries.len()) as f64
}

/// Recall on 100 000 clustered vectors (1 000 centres, noise), closer to real embeddings.
fn clustered_recall() {
    const N: usize = 100_000;
    const DIM: usize = 384;
    let db = GraphDb::open_in_memory().unwrap();
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 2000) as f32 / 1000.0 - 1.0
    };
    let centres: Vec<Vec<f32>> = (0..1000).map(|_| (0..DIM).map(|_| rand()).collect()).collect();
    let conn = db.connection();
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "INSERT INTO files(path, hash, size, language, indexed_at) VALUES ('c.rs', '', 0, 'rust', '')",
        [],
    )
    .unwrap();
    {
        let mut ins = conn
            .prepare("INSERT INTO entities(id, file, name, qualified_name, kind, start_line, end_line) VALUES (?1, 'c.rs', 'e', 'e', 'function', 1, 1)")
            .unwrap();
        for i in 1..=N {
            ins.execute([i as i64]).unwrap();
        }
    }
    db.ensure_vectors("clustered", DIM).unwrap();
    for i in 1..=N {
        let v: Vec<f32> = centres[i % centres.len()].iter().map(|x| x + 0.5 * rand()).collect();
        db.put_vector(i as i64, &v).unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
    let queries: Vec<Vec<f32>> =
        (0..20).map(|q| centres[q * 37 % 1000].iter().map(|x| x + 0.5 * rand()).collect()).collect();
    println!("recall@10, clustered vectors: {:.3}", recall_at_10(&db, &queries));
}

criterion_group!(benches, bench);
criterion_main!(benches);
