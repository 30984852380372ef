//! The first-run modal in a real terminal: no provider can answer (Ollama's server is not
//! running, no fallback), but a GGUF sits in a fake Ollama store (`OLLAMA_MODELS`). The modal
//! lists it beside the default download; Enter chooses it and the user's config file then names
//! it as the local model, its comments kept. Esc instead leaves the setup help in the chat.

use std::path::Path;
use std::time::Duration;

use super::models::fake_ollama_store;
use crate::support::closed_port_url;
use crate::support::gguf::tiny_gguf;
use crate::support::pty::{Key, PtySession};

const BIN: &str = env!("CARGO_BIN_EXE_kv1nt");
const WAIT: Duration = Duration::from_secs(30);

/// A workspace, a kv1nt home, a config whose only provider is unreachable, and a fake Ollama
/// store with `tiny:1b`; returns the blob's path.
fn prepare(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("repo/.git")).unwrap();
    std::fs::create_dir_all(dir.join("config/kv1nt")).unwrap();
    let config = format!(
        "# my settings\n[llm]\n# the server I usually run\nprimary = \"ollama\"\nfallback = \"none\"\n\
         [ollama]\nhost = \"{}\"\n[graph]\nembed = \"none\"\n",
        closed_port_url()
    );
    std::fs::write(dir.join("config/kv1nt/config.toml"), config).unwrap();
    fake_ollama_store(&dir.join("ollama"), "tiny", "1b", &tiny_gguf("qwen2", 4096))
}

fn launch(dir: &Path) -> PtySession {
    let (home, config, ollama) = (dir.join("home"), dir.join("config"), dir.join("ollama"));
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("OLLAMA_MODELS", ollama.to_str().unwrap()),
    ];
    PtySession::spawn(BIN, &[], &env, &dir.join("repo"), 160, 50)
}

#[test]
fn choosing_a_model_from_ollamas_store_saves_it_in_the_users_config() {
    let dir = tempfile::tempdir().unwrap();
    let blob = prepare(dir.path());
    let mut tui = launch(dir.path());
    // The last line of the modal: once it is drawn, the whole modal is.
    tui.wait_for("Use Claude, Ollama's server or an OpenAI-compatible server", WAIT)
        .expect("the first-run modal");
    let screen = tui.screen_text();
    assert!(screen.contains("No model provider answered"), "{screen}");
    assert!(screen.contains("› tiny:1b") && screen.contains("Ollama's store"), "{screen}");
    assert!(screen.contains("Download Qwen2.5-Coder 1.5B Instruct (Q4_K_M) · about 1.1 GB"), "{screen}");
    tui.send_key(Key::Enter);
    tui.wait_for("local · tiny:1b │", WAIT).expect("the choice is confirmed in the status bar");
    let config = std::fs::read_to_string(dir.path().join("config/kv1nt/config.toml")).unwrap();
    assert!(
        config.starts_with("# my settings\n[llm]\n# the server I usually run\nprimary = \"local\""),
        "{config}"
    );
    assert!(config.contains(&format!("[local]\nmodel = \"{}\"", blob.display())), "{config}");
    assert!(config.contains("fallback = \"none\""), "{config}");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

#[test]
fn closing_the_modal_leaves_the_setup_help_and_the_config_untouched() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let before = std::fs::read_to_string(dir.path().join("config/kv1nt/config.toml")).unwrap();
    let mut tui = launch(dir.path());
    tui.wait_for("No model provider answered", WAIT).expect("the first-run modal");
    tui.send_bytes(b"\x1b"); // Esc
    let screen = tui.wait_for("ANTHROPIC_API_KEY", WAIT).expect("the help stays in the chat");
    assert!(screen.contains("kv1nt model pull default"), "{screen}");
    assert_eq!(std::fs::read_to_string(dir.path().join("config/kv1nt/config.toml")).unwrap(), before);
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}

/// The default download chosen in the modal: fetched from a local server standing in for
/// Hugging Face (`KV1NT_HF_ENDPOINT`), verified, registered, and then saved as the local model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloading_the_default_model_uses_it_once_it_is_on_disk() {
    use crate::support::file_server::{FileServer, Served};
    use sha2::{Digest, Sha256};
    let body = tiny_gguf("qwen2", 200_000);
    let file = Served {
        path: "/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
            .into(),
        body: body.clone(),
        etag: Some(format!("{:x}", Sha256::digest(&body))),
        ..Served::default()
    };
    let server = FileServer::start(vec![file]).await;
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    std::fs::remove_dir_all(dir.path().join("ollama")).unwrap();
    let (home, config) = (dir.path().join("home"), dir.path().join("config"));
    let env = [
        ("KV1NT_HOME", home.to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
        ("KV1NT_HF_ENDPOINT", server.url.as_str()),
    ];
    let mut tui = PtySession::spawn(BIN, &[], &env, &dir.path().join("repo"), 160, 50);
    tui.wait_for("Use Claude, Ollama's server or an OpenAI-compatible server", WAIT)
        .expect("the first-run modal");
    let screen = tui.screen_text();
    assert!(screen.contains("No GGUF model found on this machine"), "{screen}");
    assert!(screen.contains("› Download Qwen2.5-Coder"), "{screen}");
    tui.send_key(Key::Enter);
    // The status bar names the chosen model once it is downloaded and saved.
    tui.wait_for("local · qwen2.5-coder-1.5b-instruct-q4_k_m │", WAIT).expect("used once downloaded");
    let file = home.join("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    assert_eq!(std::fs::read(&file).unwrap(), body);
    let config = std::fs::read_to_string(config.join("kv1nt/config.toml")).unwrap();
    assert!(config.contains(&format!("[local]\nmodel = \"{}\"", file.display())), "{config}");
    tui.send_key(Key::Ctrl('q'));
    assert_eq!(tui.wait_exit(WAIT), Some(0));
}
