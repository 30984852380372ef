//! A restore (undo) that died part-way is rolled back when kv1nt starts again, judged from the
//! file bytes: the journal a crash leaves under `<data dir>/restore-journal` (one file replaced,
//! one caught between keeping its original and putting the new content in place, one deletion
//! not yet done) is found by the engine's start-up and by `kv1nt undo`, every file goes back
//! byte-exactly to what it held before the restore began, and no journal, backup or temp file
//! remains. The change is still `applied`, so it can be undone again.

use std::path::PathBuf;
use std::time::Duration;

use super::undo_cli::Fx;
use kv1nt::engine::agent::runtime::{EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, LogLevel};
use kv1nt::engine::store::sha256_hex;
use kv1nt::engine::tools::Workspace;
use kv1nt::engine::tools::restore::{self, RestoreFile};
use kv1nt::engine::undo::{self, Plan};

const A0: &[u8] = b"A0\r\n";
const B0: &[u8] = b"B0 \xff\xfe\n";
/// What the files hold before the restore: the change's after contents.
const OLD: [(&str, &[u8]); 3] = [("a.txt", b"A1\n"), ("b.txt", b"B1\r\n"), ("c.txt", b"C1\n")];

/// A repository whose session changed a.txt and b.txt and created c.txt, and a restore of that
/// change that crashed part-way.
fn crashed() -> (Fx, String) {
    let fx = Fx::new();
    fx.repo.write("a.txt", A0);
    fx.repo.write("b.txt", B0);
    fx.repo.commit_all("init");
    let store = fx.store();
    let s = fx.session(&store);
    fx.change(
        &store,
        &s,
        &[
            ("a.txt", Some(A0), Some(OLD[0].1)),
            ("b.txt", Some(B0), Some(OLD[1].1)),
            ("c.txt", None, Some(OLD[2].1)),
        ],
    );
    let ws = Workspace::new(&fx.root()).unwrap();
    let Plan::Ready(plan) = undo::plan_undo(&store, &s, &ws).unwrap() else { panic!("nothing to undo") };
    let hashes: Vec<Option<String>> = plan.current.iter().map(|b| b.as_deref().map(sha256_hex)).collect();
    let files: Vec<RestoreFile> = plan
        .steps
        .iter()
        .zip(&hashes)
        .map(|(s, h)| RestoreFile { path: &s.path, content: s.content.as_deref(), expected: h.as_deref() })
        .collect();
    let dir = fx.data().join(undo::JOURNAL_DIR);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("4242.json");
    let committed = restore::stage(&ws, &files).unwrap().commit(&plan.change_ids, Some(&journal)).unwrap();
    // The process dies here: neither finish nor rollback runs, the change is not marked undone.
    std::mem::forget(committed);
    assert_eq!(fx.bytes("a.txt").unwrap(), A0, "every rename was done");

    // Back up to the moment of the crash: b.txt between keeping its original and the rename,
    // c.txt's deletion not yet done.
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    let entry = |i: usize, key: &str| PathBuf::from(record["entries"][i][key].as_str().unwrap());
    let b = (entry(1, "target"), entry(1, "backup"), entry(1, "temp"));
    std::fs::rename(&b.0, &b.2).unwrap();
    std::fs::hard_link(&b.1, &b.0).unwrap();
    let c = (entry(2, "target"), entry(2, "backup"));
    std::fs::rename(&c.1, &c.0).unwrap();
    assert!(!fx.leftovers().is_empty(), "the crash left its journal and files");
    (fx, s)
}

fn assert_all_old(fx: &Fx) {
    for (path, bytes) in OLD {
        assert_eq!(
            fx.bytes(path).as_deref(),
            Some(bytes),
            "{path} is back to what it held before the restore"
        );
    }
    assert!(fx.leftovers().is_empty(), "no journal, backup or temp file remains: {:?}", fx.leftovers());
}

#[tokio::test]
async fn the_engine_rolls_back_a_restore_that_died_part_way_at_start_up() {
    let (fx, s) = crashed();
    let mut config = Config::default();
    config.llm.primary = ProviderKind::OpenAi;
    config.llm.fallback = Fallback::None;
    config.openai.base_url = crate::support::closed_port_url();
    let mut engine = spawn(EngineSetup {
        config,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: Some("k".into()), github_token: None },
        workspace: fx.root(),
        store: Some(fx.store()),
        resume: None,
        preflight: false,
        trust: None,
    });
    let mut warnings = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        match event {
            Event::Notice { level: LogLevel::Warn, text } => warnings.push(text),
            Event::SessionReady { .. } => break,
            _ => {}
        }
    }
    assert!(
        warnings.iter().any(|w| w.contains("interrupted by a crash; it was rolled back")),
        "{warnings:?}"
    );
    assert_all_old(&fx);
    drop(engine);
    assert_eq!(fx.states(&fx.store(), &s), ["applied"], "still undoable");

    let out = fx.run(&["undo", "--yes"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((fx.bytes("a.txt").unwrap(), fx.bytes("b.txt").unwrap()), (A0.to_vec(), B0.to_vec()));
    assert_eq!(fx.bytes("c.txt"), None);
}

#[test]
fn kv1nt_undo_rolls_back_a_restore_that_died_part_way_before_anything_else() {
    let (fx, s) = crashed();
    let out = fx.run(&["undo"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted by a crash; it was rolled back"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "then refuses without --yes: {stderr}");
    assert_all_old(&fx);
    assert_eq!(fx.states(&fx.store(), &s), ["applied"]);
}
