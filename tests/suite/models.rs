//! The local model store against a real HTTP/1.1 server on loopback (`support::file_server`)
//! serving a tiny GGUF built in the test: a pull completes with the sha256 checked, resumes with
//! `Range` after a dropped connection (in the same pull and on the next one) byte-identically,
//! refuses a checksum mismatch and deletes the download, says which directory needs how many
//! bytes when the disk is full (the `.part` is a symlink to /dev/full) and keeps the `.part`;
//! and through the `kv1nt model` CLI: a non-GGUF refused, Ollama's store found in place, `rm`
//! deleting only what kv1nt downloaded; and the engine listing and resolving the models of its
//! session's data directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kv1nt::engine::models::pull::{self, Endpoints, PullOptions};
use kv1nt::engine::models::{ModelStore, Registry};
use kv1nt::engine::protocol::{ModelOrigin, PullProgress};
use sha2::{Digest, Sha256};

use crate::support::file_server::{FileServer, Served};
use crate::support::gguf::tiny_gguf;

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const HF_PATH: &str = "/acme/tiny-GGUF/resolve/main/tiny-q4.gguf";
const HF_REF: &str = "hf:acme/tiny-GGUF/tiny-q4.gguf";

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn store(home: &Path) -> ModelStore {
    ModelStore { dir: home.join("models"), ollama: None }
}

fn options(server: &FileServer, attempts: u32) -> PullOptions {
    PullOptions {
        name: None,
        sha256: None,
        endpoints: Endpoints { hf: server.url.clone(), ollama: server.url.clone() },
        attempts,
        idle: Duration::from_secs(10),
    }
}

/// The pull's result and every progress report it made.
async fn pull_with(
    store: &ModelStore,
    reference: &str,
    options: &PullOptions,
) -> (anyhow::Result<kv1nt::engine::protocol::LocalModel>, Vec<PullProgress>) {
    let client = kv1nt::engine::llm::http::build_client(Duration::from_secs(5));
    let mut seen = Vec::new();
    let mut record = |p: PullProgress| seen.push(p);
    let result = pull::pull(store, &client, reference, options, &mut record).await;
    (result, seen)
}

fn served(body: &[u8], etag: Option<String>) -> Served {
    Served { path: HF_PATH.into(), body: body.to_vec(), etag, ..Served::default() }
}

#[tokio::test]
async fn a_pull_shows_the_size_first_checks_the_sha256_and_registers_the_file() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("qwen2", 300_000);
    let server = FileServer::start(vec![served(&body, Some(sha256(&body)))]).await;
    let store = store(home.path());
    let (result, progress) = pull_with(&store, HF_REF, &options(&server, 3)).await;
    let model = result.unwrap();
    assert_eq!(
        progress.first(),
        Some(&PullProgress::Started { total: Some(body.len() as u64), resumed_from: 0 })
    );
    assert!(progress.contains(&PullProgress::Verifying { known: true }));
    assert_eq!((model.name.as_str(), model.origin), ("tiny-q4", ModelOrigin::Downloaded));
    assert_eq!(std::fs::read(&model.path).unwrap(), body);
    assert!(!home.path().join("models/tiny-q4.gguf.part").exists());
    let entry = &Registry::load(&store.registry_path()).unwrap().models["tiny-q4"];
    assert_eq!((entry.sha256.as_deref(), entry.downloaded), (Some(sha256(&body).as_str()), true));
    assert_eq!(entry.source, HF_REF);
    let details = store.info("tiny-q4").unwrap();
    assert_eq!(details.gguf.architecture.as_deref(), Some("qwen2"));
    assert_eq!((details.gguf.context_length, details.gguf.parameters), (Some(4096), 42));
    assert_eq!(store.resolve("tiny-q4").unwrap(), model.path);
    // The size probe came first, then one full GET.
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["HEAD", "GET"]);
    // Pulling the same name again is refused, nothing fetched.
    let (again, _) = pull_with(&store, HF_REF, &options(&server, 3)).await;
    assert!(again.unwrap_err().to_string().contains("already registered"));
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_a_range_and_the_result_is_byte_identical() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("llama", 500_000);
    let cut = 123_457;
    let file = Served { drop_first_after: Some(cut), ..served(&body, Some(sha256(&body))) };
    let server = FileServer::start(vec![file]).await;
    let (result, progress) = pull_with(&store(home.path()), HF_REF, &options(&server, 3)).await;
    let model = result.unwrap();
    assert_eq!(std::fs::read(&model.path).unwrap(), body);
    let gets: Vec<_> = server.requests().into_iter().filter(|r| r.method == "GET").collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert_eq!(gets[0].range, None);
    assert_eq!(gets[1].range.as_deref(), Some(format!("bytes={cut}-").as_str()));
    assert!(
        progress.iter().any(|p| matches!(p, PullProgress::Retrying { done, .. } if *done == cut as u64)),
        "{progress:?}"
    );
}

#[tokio::test]
async fn an_interrupted_pull_keeps_its_part_and_the_next_pull_resumes_it() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("llama", 200_000);
    let cut = 50_000;
    let file = Served { drop_first_after: Some(cut), ..served(&body, Some(sha256(&body))) };
    let server = FileServer::start(vec![file]).await;
    let store = store(home.path());
    let (first, _) = pull_with(&store, HF_REF, &options(&server, 1)).await;
    let err = first.unwrap_err().to_string();
    assert!(err.contains("resumes from there") && err.contains(".part"), "{err}");
    let part = home.path().join("models/tiny-q4.gguf.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), cut as u64);
    let (second, progress) = pull_with(&store, HF_REF, &options(&server, 1)).await;
    assert_eq!(std::fs::read(second.unwrap().path).unwrap(), body);
    assert_eq!(
        progress[0],
        PullProgress::Started { total: Some(body.len() as u64), resumed_from: cut as u64 }
    );
    let last = server.requests().into_iter().rfind(|r| r.method == "GET").unwrap();
    assert_eq!(last.range.as_deref(), Some(format!("bytes={cut}-").as_str()));
}

/// Hugging Face's way: the file's URL redirects to a CDN, and only the redirect carries the
/// sha256 (`X-Linked-Etag`) and size; the CDN's answer has an ETag of its own.
#[tokio::test]
async fn the_checksum_comes_from_the_redirect_and_resumes_follow_it() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("qwen2", 90_000);
    let redirect = Served {
        path: HF_PATH.into(),
        redirect_to: Some("/cdn/blob".into()),
        headers: vec![
            ("X-Linked-Etag".into(), format!("\"{}\"", sha256(&body))),
            ("X-Linked-Size".into(), body.len().to_string()),
        ],
        ..Served::default()
    };
    let cdn = Served {
        path: "/cdn/blob".into(),
        body: body.clone(),
        etag: Some("not-a-sha256".into()),
        drop_first_after: Some(30_000),
        ..Served::default()
    };
    let server = FileServer::start(vec![redirect, cdn]).await;
    let (result, progress) = pull_with(&store(home.path()), HF_REF, &options(&server, 3)).await;
    assert_eq!(std::fs::read(result.unwrap().path).unwrap(), body);
    assert!(progress.contains(&PullProgress::Verifying { known: true }), "{progress:?}");
    let cdn_ranges: Vec<Option<String>> =
        server.requests().into_iter().filter(|r| r.path == "/cdn/blob").map(|r| r.range).collect();
    assert_eq!(cdn_ranges, [None, Some("bytes=30000-".to_string())]);
    // A wrong X-Linked-Etag is refused like any other mismatch.
    let home = tempfile::tempdir().unwrap();
    let wrong = Served {
        path: HF_PATH.into(),
        redirect_to: Some("/cdn/other".into()),
        headers: vec![("X-Linked-Etag".into(), sha256(b"x"))],
        ..Served::default()
    };
    let cdn = Served { path: "/cdn/other".into(), body: body.clone(), ..Served::default() };
    let server = FileServer::start(vec![wrong, cdn]).await;
    let err = pull_with(&store(home.path()), HF_REF, &options(&server, 3)).await.0.unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
}

#[tokio::test]
async fn without_a_published_checksum_the_download_is_kept_and_said_to_be_unverified() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("llama", 5_000);
    let server = FileServer::start(vec![served(&body, Some("abc".into()))]).await;
    let models = store(home.path());
    let (result, progress) = pull_with(&models, HF_REF, &options(&server, 3)).await;
    assert_eq!(std::fs::read(result.unwrap().path).unwrap(), body);
    assert!(progress.contains(&PullProgress::Verifying { known: false }), "{progress:?}");
    let entry = &models.registry().unwrap().models["tiny-q4"];
    assert_eq!(entry.sha256.as_deref(), Some(sha256(&body).as_str()), "the hash is recorded");
    // What arrives must still be a GGUF: an error page is refused and deleted.
    let home = tempfile::tempdir().unwrap();
    let server = FileServer::start(vec![served(b"<html>rate limited</html>", None)]).await;
    let err = pull_with(&store(home.path()), HF_REF, &options(&server, 3)).await.0.unwrap_err();
    assert!(format!("{err:#}").contains("not a usable GGUF model"), "{err:#}");
    assert!(
        std::fs::read_dir(home.path().join("models"))
            .unwrap()
            .all(|e| e.unwrap().file_name() != "tiny-q4.gguf")
    );
    assert!(!home.path().join("models/tiny-q4.gguf.part").exists());
}

#[tokio::test]
async fn a_checksum_mismatch_is_refused_and_the_download_deleted() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("llama", 10_000);
    let wrong = sha256(b"something else");
    let server = FileServer::start(vec![served(&body, Some(wrong.clone()))]).await;
    let store = store(home.path());
    let (result, _) = pull_with(&store, HF_REF, &options(&server, 3)).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("checksum mismatch") && err.contains(&wrong) && err.contains(&sha256(&body)),
        "{err}"
    );
    assert!(!home.path().join("models/tiny-q4.gguf.part").exists());
    assert!(!home.path().join("models/tiny-q4.gguf").exists());
    assert!(store.list().unwrap().is_empty());
    // --sha256 overrides the server's ETag (here: the server is right, the user's pin is not).
    let server = FileServer::start(vec![served(&body, Some(sha256(&body)))]).await;
    let pinned = PullOptions { sha256: Some(wrong), ..options(&server, 3) };
    assert!(
        pull_with(&store, HF_REF, &pinned).await.0.unwrap_err().to_string().contains("checksum mismatch")
    );
}

#[tokio::test]
async fn a_full_disk_names_the_directory_and_the_bytes_needed_and_keeps_the_part() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let models = home.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let part = models.join("tiny-q4.gguf.part");
    std::os::unix::fs::symlink("/dev/full", &part).unwrap();
    let body = tiny_gguf("llama", 40_000);
    let server = FileServer::start(vec![served(&body, Some(sha256(&body)))]).await;
    let (result, _) = pull_with(&store(home.path()), HF_REF, &options(&server, 3)).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("the disk is full"), "{err}");
    assert!(
        err.contains(&models.display().to_string()) && err.contains(&format!("{} more bytes", body.len())),
        "{err}"
    );
    assert!(std::fs::symlink_metadata(&part).is_ok(), "the .part is kept");
    assert_eq!(
        server.requests().iter().filter(|r| r.method == "GET").count(),
        1,
        "a full disk is not retried"
    );
}

#[tokio::test]
async fn an_ollama_reference_downloads_the_model_layer_by_its_digest() {
    let home = tempfile::tempdir().unwrap();
    let body = tiny_gguf("gemma3", 20_000);
    let hex = sha256(&body);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "layers": [
            { "mediaType": "application/vnd.ollama.image.template", "digest": format!("sha256:{}", "0".repeat(64)), "size": 10 },
            { "mediaType": "application/vnd.ollama.image.model", "digest": format!("sha256:{hex}"), "size": body.len() },
        ]
    });
    let server = FileServer::start(vec![
        Served {
            path: "/v2/library/tiny/manifests/1b".into(),
            body: manifest.to_string().into_bytes(),
            ..Served::default()
        },
        Served {
            path: format!("/v2/library/tiny/blobs/sha256:{hex}"),
            body: body.clone(),
            ..Served::default()
        },
    ])
    .await;
    let store = store(home.path());
    let model = pull_with(&store, "ollama:tiny:1b", &options(&server, 3)).await.0.unwrap();
    assert_eq!(model.name, "tiny:1b");
    assert_eq!(std::fs::read(&model.path).unwrap(), body);
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v2/library/tiny/manifests/1b".to_string(), format!("/v2/library/tiny/blobs/sha256:{hex}")]
    );
    let missing = pull_with(&store, "ollama:nope", &options(&server, 3)).await.0.unwrap_err().to_string();
    assert!(missing.contains("has no nope:latest"), "{missing}");
}

/// `kv1nt model …` with its own data directory and Ollama store.
struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli { home: tempfile::tempdir().unwrap() }
    }

    fn ollama(&self) -> PathBuf {
        self.home.path().join("ollama")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("model")
            .args(args)
            .env("KV1NT_HOME", self.home.path().join("data"))
            .env("OLLAMA_MODELS", self.ollama())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("HOME", self.home.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Ollama's layout: a manifest naming a model blob by digest; returns the blob's path.
pub(super) fn fake_ollama_store(root: &Path, name: &str, tag: &str, body: &[u8]) -> PathBuf {
    let hex = sha256(body);
    let manifest_dir = root.join("manifests/registry.ollama.ai/library").join(name);
    std::fs::create_dir_all(&manifest_dir).unwrap();
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    let manifest = serde_json::json!({
        "layers": [{ "mediaType": "application/vnd.ollama.image.model", "digest": format!("sha256:{hex}"), "size": body.len() }]
    });
    std::fs::write(manifest_dir.join(tag), manifest.to_string()).unwrap();
    let blob = root.join("blobs").join(format!("sha256-{hex}"));
    std::fs::write(&blob, body).unwrap();
    blob
}

#[test]
fn add_refuses_a_file_that_is_not_gguf_and_registers_nothing() {
    let cli = Cli::new();
    let fake = cli.home.path().join("model.gguf");
    std::fs::write(&fake, b"<html>Not found</html>").unwrap();
    let out = cli.run(&["add", fake.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a GGUF model"), "{err}");
    assert!(cli.ok(&["list"]).contains("no local models"));
}

#[test]
fn ollama_models_are_found_in_place_and_never_deleted() {
    let cli = Cli::new();
    let blob = fake_ollama_store(&cli.ollama(), "tiny", "1b", &tiny_gguf("qwen2", 1000));
    let list: serde_json::Value = serde_json::from_str(&cli.ok(&["list", "--json"])).unwrap();
    assert_eq!(list[0]["name"], "tiny:1b");
    assert_eq!(list[0]["origin"], "ollama");
    assert_eq!(list[0]["path"], blob.to_str().unwrap());
    let info: serde_json::Value =
        serde_json::from_str(&cli.ok(&["info", "ollama:tiny:1b", "--json"])).unwrap();
    assert_eq!((info["architecture"].as_str(), info["context_length"].as_u64()), (Some("qwen2"), Some(4096)));
    let out = cli.run(&["rm", "tiny:1b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ollama rm"));
    assert!(blob.exists());
}

#[test]
fn rm_deletes_only_what_kv1nt_downloaded() {
    let cli = Cli::new();
    let external = cli.home.path().join("mine.gguf");
    std::fs::write(&external, tiny_gguf("llama", 100)).unwrap();
    let added = cli.ok(&["add", external.to_str().unwrap(), "--name", "mine"]);
    assert!(added.contains("registered `mine`: llama, 42 parameters, 4096-token context, Q4_K_M"), "{added}");
    assert!(cli.ok(&["rm", "mine"]).contains("was not deleted"));
    assert!(external.exists());
    assert!(cli.ok(&["list"]).contains("no local models"));
    // A downloaded entry whose path is outside kv1nt's models directory is not deleted either.
    let data = cli.home.path().join("data");
    let mut registry = Registry::default();
    let entry = kv1nt::engine::models::Entry {
        path: external.clone(),
        size: 1,
        sha256: None,
        source: "hf:x/y/z.gguf".into(),
        downloaded: true,
    };
    registry.models.insert("forged".into(), entry);
    registry.save(&data.join("models/registry.toml")).unwrap();
    cli.ok(&["rm", "forged"]);
    assert!(external.exists());
}

#[tokio::test]
async fn the_cli_pulls_with_the_size_shown_and_rm_deletes_the_download() {
    let body = tiny_gguf("qwen2", 64_000);
    let server = FileServer::start(vec![served(&body, Some(sha256(&body)))]).await;
    let cli = Cli::new();
    let url = server.url.clone();
    let home = cli.home.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["model", "pull", HF_REF])
            .env("KV1NT_HOME", home.join("data"))
            .env("KV1NT_HF_ENDPOINT", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("downloading {HF_REF}: 64 KB ({} bytes)", body.len())), "{stderr}");
    assert!(stdout.contains("pulled `tiny-q4`"), "{stdout}");
    let file = cli.home.path().join("data/models/tiny-q4.gguf");
    assert_eq!(std::fs::read(&file).unwrap(), body);
    assert!(cli.ok(&["rm", "tiny-q4"]).contains("deleted"));
    assert!(!file.exists());
}

/// The engine's side through `Op`/`Event`: `/models` lists the models of the session's data
/// directory, `/model local:NAME` resolves one, an unknown name is a notice naming the known.
#[tokio::test]
async fn the_engine_lists_and_resolves_local_models_of_its_data_directory() {
    use kv1nt::engine::agent::runtime::{EngineSetup, spawn};
    use kv1nt::engine::config::{Config, Secrets};
    use kv1nt::engine::protocol::{Event, Op};
    let dir = tempfile::tempdir().unwrap();
    let (data, workspace) = (dir.path().join("home"), dir.path().join("repo"));
    std::fs::create_dir_all(&workspace).unwrap();
    let gguf = dir.path().join("mine.gguf");
    std::fs::write(&gguf, tiny_gguf("llama", 10)).unwrap();
    store(&data).add(&gguf, Some("mine")).unwrap();
    let mut config = Config::default();
    config.ollama.host = crate::support::closed_port_url();
    let mut engine = spawn(EngineSetup {
        config,
        secrets: Secrets::default(),
        workspace,
        store: Some(kv1nt::engine::store::Store::open(&data).unwrap()),
        resume: None,
        preflight: false,
        trust: None,
    });
    let mut next = async |want: fn(&Event) -> bool| loop {
        let event =
            tokio::time::timeout(Duration::from_secs(10), engine.events.recv()).await.unwrap().unwrap();
        if want(&event) {
            return event;
        }
    };
    engine.ops.send(Op::ListModels).unwrap();
    let Event::LocalModels(models) = next(|e| matches!(e, Event::LocalModels(_))).await else {
        unreachable!()
    };
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"mine"), "{names:?}");
    engine.ops.send(Op::UseLocalModel { model: "mine".into(), save: false }).unwrap();
    let chosen = next(|e| matches!(e, Event::LocalModelChosen { .. })).await;
    let canonical = std::fs::canonicalize(&gguf).unwrap();
    assert_eq!(chosen, Event::LocalModelChosen { name: "mine".into(), path: canonical, saved_to: None });
    // A path is used as given (absolute, symlinks kept): Ollama's blobs may be links.
    let link = dir.path().join("link.gguf");
    std::os::unix::fs::symlink(&gguf, &link).unwrap();
    engine.ops.send(Op::UseLocalModel { model: link.to_str().unwrap().into(), save: false }).unwrap();
    let chosen = next(|e| matches!(e, Event::LocalModelChosen { .. })).await;
    assert_eq!(chosen, Event::LocalModelChosen { name: "link".into(), path: link, saved_to: None });
    engine.ops.send(Op::UseLocalModel { model: "nope".into(), save: false }).unwrap();
    let Event::Notice { text, .. } = next(|e| matches!(e, Event::Notice { .. })).await else {
        unreachable!()
    };
    assert!(text.contains("no local model `nope`") && text.contains("mine"), "{text}");
    engine.ops.send(Op::Shutdown).unwrap();
}
