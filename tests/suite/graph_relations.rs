//! Relation precision and recall per kind and language on the graph fixtures: each fixture's
//! `expected.toml` lists, written by hand from reading its code, every edge of every kind
//! (`calls`, `imports`, `inherits`, `implements`, `handles`, `uses`, `returns`, `depends_on`);
//! the index of the fixture must find them with precision and recall ≥ 0.9 per kind.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::graph::{edges, fixture, index_mem};

#[derive(Deserialize)]
struct ExpectedEntity {
    name: String,
    kind: String,
    file: String,
}

#[derive(Deserialize)]
struct Expected {
    entities: Vec<ExpectedEntity>,
    calls: Vec<(String, String)>,
    imports: Vec<(String, String)>,
    inherits: Vec<(String, String)>,
    implements: Vec<(String, String)>,
    handles: Vec<(String, String)>,
    uses: Vec<(String, String)>,
    returns: Vec<(String, String)>,
    depends_on: Vec<(String, String)>,
}

const KINDS: [&str; 8] =
    ["calls", "imports", "inherits", "implements", "handles", "uses", "returns", "depends_on"];

/// Kinds each fixture must exercise with at least this many edges (the new relations).
const MIN_EXAMPLES: usize = 5;

impl Expected {
    fn of(&self, kind: &str) -> &[(String, String)] {
        match kind {
            "calls" => &self.calls,
            "imports" => &self.imports,
            "inherits" => &self.inherits,
            "implements" => &self.implements,
            "handles" => &self.handles,
            "uses" => &self.uses,
            "returns" => &self.returns,
            _ => &self.depends_on,
        }
    }
}

/// What falls short for `lang` (a kind below 0.9, too few examples); every kind's precision and
/// recall is printed with the edges that differ.
fn check_language(lang: &str) -> Vec<String> {
    let root = fixture(lang);
    let expected: Expected =
        toml::from_str(&std::fs::read_to_string(root.join("expected.toml")).unwrap()).unwrap();
    let (db, report) = index_mem(&root);
    assert_eq!(report.parse_errors, 0, "{lang}: {report:?}");
    for e in &expected.entities {
        let n: i64 = db
            .connection()
            .query_row(
                "SELECT count(*) FROM entities WHERE name = ?1 AND kind = ?2 AND file = ?3",
                [&e.name, &e.kind, &e.file],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{lang}: entity {} ({}) in {} not found exactly once", e.name, e.kind, e.file);
    }
    let mut out = Vec::new();
    for kind in KINDS {
        let want: BTreeSet<(String, String)> = expected.of(kind).iter().cloned().collect();
        if matches!(kind, "uses" | "returns" | "depends_on") && want.len() < MIN_EXAMPLES {
            out.push(format!("{lang} {kind}: only {} expected edges", want.len()));
        }
        let found = edges(&db, kind);
        let hit = found.intersection(&want).count() as f64;
        // Nothing expected and nothing found is exact.
        let precision =
            if found.is_empty() { f64::from(u8::from(want.is_empty())) } else { hit / found.len() as f64 };
        let recall = if want.is_empty() { 1.0 } else { hit / want.len() as f64 };
        println!(
            "{lang:<11} {kind:<10} precision {precision:.2} recall {recall:.2} ({hit} of {} found, {} expected)",
            found.len(),
            want.len()
        );
        for extra in found.difference(&want) {
            println!("  {lang} {kind} unexpected: {} -> {}", extra.0, extra.1);
        }
        for missing in want.difference(&found) {
            println!("  {lang} {kind} missing: {} -> {}", missing.0, missing.1);
        }
        if precision < 0.9 || recall < 0.9 {
            out.push(format!("{lang} {kind}: precision {precision:.2}, recall {recall:.2}"));
        }
    }
    out
}

#[test]
fn relation_precision_and_recall_per_kind_and_language() {
    // The first fixture of each language, then a second one written for the type relations
    // (and a workspace per ecosystem) with its expectations written before it was indexed.
    let failures: Vec<String> = ["rust", "python", "typescript", "javascript", "go"]
        .into_iter()
        .flat_map(|lang| [lang.to_string(), format!("relations/{lang}")])
        .flat_map(|f| check_language(&f))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

fn package_ids(db: &kv1nt::engine::graph::GraphDb) -> Vec<i64> {
    let mut st =
        db.connection().prepare("SELECT id FROM entities WHERE kind = 'package' ORDER BY id").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
}

#[test]
fn depends_on_follows_manifest_edits_removals_and_bad_input() {
    use kv1nt::engine::graph::{GraphDb, IndexOptions, index_repository, reindex_file};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    super::graph::copy_tree(&fixture("rust"), &root);
    let db = GraphDb::open(&dir.path().join("g.sqlite")).unwrap();
    let opts = IndexOptions::default();
    // A vendored crate's manifest is not one of the repository's packages.
    std::fs::create_dir_all(root.join("vendor/left-pad")).unwrap();
    std::fs::write(root.join("vendor/left-pad/Cargo.toml"), "[package]\nname = \"left-pad\"\n").unwrap();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    let first = package_ids(&db);
    assert_eq!(first.len(), 7, "shop, shop_core and 5 declared packages");

    // Nothing changed: the packages are not rewritten.
    let again = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert_eq!(package_ids(&db), first);
    assert_eq!(again.files_seen, 6, "manifests are not source files");

    // A dependency added and one removed in the member crate, seen by a full run.
    let core = root.join("core/Cargo.toml");
    let text = std::fs::read_to_string(&core).unwrap().replace("thiserror = \"1\"", "anyhow = \"1\"");
    std::fs::write(&core, text).unwrap();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    let deps = edges(&db, "depends_on");
    assert!(deps.contains(&("shop_core".into(), "anyhow".into())), "{deps:?}");
    assert!(!deps.iter().any(|(_, t)| t == "thiserror"), "{deps:?}");

    // Saved while kv1nt runs (one file re-indexed): the root no longer depends on the member.
    let cargo = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&cargo).unwrap().replace("shop-core = { path = \"core\" }\n", "");
    std::fs::write(&cargo, text).unwrap();
    reindex_file(&root, &db, std::path::Path::new("Cargo.toml")).unwrap();
    let deps = edges(&db, "depends_on");
    assert!(!deps.contains(&("shop".into(), "shop_core".into())), "{deps:?}");
    assert!(deps.contains(&("shop".into(), "axum".into())), "{deps:?}");

    // A manifest that does not parse contributes nothing and breaks nothing else.
    std::fs::write(&core, "[package\nname = ").unwrap();
    let report = index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    let deps = edges(&db, "depends_on");
    assert!(!deps.iter().any(|(s, _)| s == "shop_core"), "{deps:?}");
    assert!(deps.contains(&("shop".into(), "serde".into())), "{deps:?}");
    assert!(!edges(&db, "calls").is_empty());

    // Removed manifests take their packages with them.
    std::fs::remove_file(&core).unwrap();
    std::fs::remove_file(&cargo).unwrap();
    index_repository(&root, &db, &opts, &|_| {}).unwrap();
    assert!(package_ids(&db).is_empty());
    assert!(edges(&db, "depends_on").is_empty());
    assert!(edges(&db, "returns").contains(&("crate::build".into(), "crate::service::OrderService".into())));
}

#[test]
fn outside_types_give_no_edge_even_when_the_repository_has_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("app")).unwrap();
    // The repository defines its own `Session` class and a method called `Config`.
    std::fs::write(
        root.join("app/own.py"),
        "class Session:\n    pass\n\nclass Settings:\n    def Config(self):\n        return 1\n",
    )
    .unwrap();
    std::fs::write(
        root.join("app/db.py"),
        "from sqlalchemy.orm import Session\nfrom typing import Iterator\n\n\
         def open_db(url: str) -> Session:\n    return Session(url)\n\n\
         def rows(s: Session, c: Config) -> Iterator[Session]:\n    return iter([])\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "pub mod io;\npub struct Error;\npub struct Buf;\npub struct Item;\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/io.rs"),
        "use std::fmt;\nuse std::io::Error;\nuse crate::Buf;\n\n\
         pub fn read(b: &mut Buf, f: &mut fmt::Formatter<'_>) -> Result<usize, Error> {\n    Ok(0)\n}\n\n\
         pub fn bufs() -> impl Iterator<Item = Buf> {\n    std::iter::empty()\n}\n",
    )
    .unwrap();
    let (db, _) = index_mem(root);
    let uses = edges(&db, "uses");
    let returns = edges(&db, "returns");
    assert_eq!(
        uses,
        BTreeSet::from([("crate::io::read".to_string(), "crate::Buf".to_string())]),
        "sqlalchemy's Session, std's Error and an unknown Config are not the repository's"
    );
    // `Item` in `Iterator<Item = Buf>` is the trait's associated type, not `crate::Item`.
    assert_eq!(returns, BTreeSet::from([("crate::io::bufs".to_string(), "crate::Buf".to_string())]));
}
