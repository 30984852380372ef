//! Images in prompts against the scripted servers: `@shot.png` (or a pasted absolute path)
//! reaches Anthropic as an image block with the file's exact base64 and media type, OpenAI as a
//! data URL and a vision model on Ollama as `images`; an Ollama model without `vision` gets the
//! text only and the user a notice; a file that is not an image or is too big is refused with
//! the reason while the prompt still goes; a resumed session still carries the attachment
//! (the Chat pane's placeholder line: `ui_images.rs`).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kv1nt::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use kv1nt::engine::config::{Config, Fallback, Secrets};
use kv1nt::engine::llm::ProviderKind;
use kv1nt::engine::protocol::{Event, LogLevel, Op};
use kv1nt::engine::store::{SessionInfo, Store};
use serde_json::Value;

use crate::support::{ScriptedServer, Turn, Wire};

/// A PNG header of `w`×`h` padded to `len` bytes (what the engine reads; not decodable).
pub(super) fn png(w: u32, h: u32, len: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(w.to_be_bytes());
    b.extend(h.to_be_bytes());
    b.extend([8, 6, 0, 0, 0]);
    b.extend((0..len.saturating_sub(b.len())).map(|i| (i % 251) as u8));
    b
}

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
        std::fs::create_dir_all(dir.path().join("repo/docs")).unwrap();
        Self { dir }
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join("repo").join(rel), bytes).unwrap();
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("home")).unwrap()
    }

    fn engine(&self, wire: Wire, base: &str, model: &str, resume: Option<SessionInfo>) -> EngineHandle {
        let mut c = Config::default();
        c.llm.fallback = Fallback::None;
        c.llm.max_retries = 0;
        c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
        c.llm.primary = match wire {
            Wire::Anthropic => ProviderKind::Anthropic,
            Wire::OpenAi => ProviderKind::OpenAi,
            Wire::Ollama => ProviderKind::Ollama,
            Wire::Responses => unreachable!("kv1nt does not speak the Responses API"),
        };
        c.anthropic.base_url = base.into();
        c.openai.base_url = base.into();
        c.ollama.host = base.into();
        c.ollama.model = model.into();
        spawn(EngineSetup {
            config: c,
            secrets: Secrets {
                anthropic_api_key: Some("sk-test".into()),
                openai_api_key: Some("oa".into()),
                github_token: None,
            },
            workspace: self.dir.path().join("repo"),
            store: Some(self.store()),
            resume,
            preflight: false,
            trust: None,
        })
    }
}

async fn turn(engine: &mut EngineHandle, text: &str) -> Vec<Event> {
    engine.ops.send(Op::Submit { text: text.into(), intent: None }).unwrap();
    let mut events = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        let end = matches!(event, Event::TurnEnded(_));
        events.push(event);
        if end {
            return events;
        }
    }
}

fn warnings(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Notice { level: LogLevel::Warn, text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn placeholders(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .find_map(|e| match e {
            Event::PromptRecorded { images, .. } => Some(images.clone()),
            _ => None,
        })
        .expect("the prompt was recorded")
}

fn last_message(body: &Value) -> &Value {
    body["messages"].as_array().and_then(|m| m.last()).expect("messages")
}

#[tokio::test]
async fn an_image_prompt_reaches_a_scripted_anthropic_server_as_an_image_block_and_survives_resume() {
    let server =
        ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["a cat"]), Turn::text(&["still a cat"])])
            .await;
    let repo = Repo::new();
    let bytes = png(1280, 720, 312_000);
    repo.write("docs/screenshot.png", &bytes);
    let mut engine = repo.engine(Wire::Anthropic, &server.base_url(), "", None);
    let events = turn(&mut engine, "what is in @docs/screenshot.png?").await;
    assert!(warnings(&events).is_empty(), "{:?}", warnings(&events));
    assert_eq!(placeholders(&events), ["[image: docs/screenshot.png 1280×720, 312 kB]"]);

    let body = server.chat_requests()[0].body.clone();
    let content = &last_message(&body)["content"];
    assert_eq!(content[0]["type"], "image", "{content}");
    assert_eq!(content[0]["source"]["type"], "base64");
    assert_eq!(content[0]["source"]["media_type"], "image/png");
    assert_eq!(content[0]["source"]["data"].as_str(), Some(STANDARD.encode(&bytes).as_str()));
    assert_eq!(content[1]["type"], "text");
    assert_eq!(content[1]["text"], "what is in @docs/screenshot.png?");
    let system = body["system"].to_string();
    assert!(!system.contains("Files in view"), "an image is no text section: {system}");

    // The attachment is stored with the prompt: a resumed session shows it and sends it again.
    engine.ops.send(Op::Shutdown).unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), engine.task).await;
    let stored = repo.store().list_sessions(1).unwrap().pop().unwrap();
    let mut resumed = repo.engine(Wire::Anthropic, &server.base_url(), "", Some(stored));
    let history = loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), resumed.events.recv()).await.unwrap().unwrap();
        if let Event::SessionReady { history, .. } = event {
            break history;
        }
    };
    assert_eq!(history[0].message.images.len(), 1);
    assert_eq!(history[0].message.images[0].data, bytes);
    turn(&mut resumed, "and now?").await;
    let body = server.chat_requests()[1].body.clone();
    let first = &body["messages"][0]["content"];
    assert_eq!(first[0]["source"]["data"].as_str(), Some(STANDARD.encode(&bytes).as_str()), "{first}");
}

#[tokio::test]
async fn openai_gets_a_data_url_of_a_pasted_absolute_path() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"])]).await;
    let repo = Repo::new();
    // The user's own file outside the repository, pasted quoted as terminals do.
    let outside = repo.dir.path().join("My Pictures");
    std::fs::create_dir_all(&outside).unwrap();
    let gif = b"GIF89a\x40\x01\xf0\x00\x80\0\0rest-of-the-gif".to_vec();
    std::fs::write(outside.join("cat.gif"), &gif).unwrap();
    let mut engine = repo.engine(Wire::OpenAi, &server.base_url(), "", None);
    let pasted = format!("describe '{}'", outside.join("cat.gif").display());
    let events = turn(&mut engine, &pasted).await;
    assert_eq!(placeholders(&events), [format!("[image: cat.gif 320×240, {} B]", gif.len())]);
    let body = server.chat_requests()[0].body.clone();
    let parts = &last_message(&body)["content"];
    assert_eq!(parts[0]["type"], "text");
    assert_eq!(parts[0]["text"].as_str(), Some(pasted.as_str()));
    assert_eq!(parts[1]["type"], "image_url");
    let url = format!("data:image/gif;base64,{}", STANDARD.encode(&gif));
    assert_eq!(parts[1]["image_url"]["url"].as_str(), Some(url.as_str()));
}

#[tokio::test]
async fn ollama_sends_images_to_a_vision_model_and_only_the_text_to_one_without_vision() {
    let repo = Repo::new();
    let bytes = png(64, 48, 2_000);
    repo.write("shot.png", &bytes);

    let server = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["seen"])]).await;
    let mut engine = repo.engine(Wire::Ollama, &server.base_url(), "llava", None);
    let events = turn(&mut engine, "look at @shot.png").await;
    assert!(warnings(&events).is_empty(), "{:?}", warnings(&events));
    let body = server.chat_requests()[0].body.clone();
    assert_eq!(last_message(&body)["images"][0].as_str(), Some(STANDARD.encode(&bytes).as_str()));

    let server = ScriptedServer::start(Wire::Ollama, vec![Turn::text(&["blind"])]).await;
    let mut engine = repo.engine(Wire::Ollama, &server.base_url(), "coder-novision", None);
    let events = turn(&mut engine, "look at @shot.png").await;
    let body = server.chat_requests()[0].body.clone();
    let last = last_message(&body);
    assert_eq!(last["content"], "look at @shot.png", "the text still goes");
    assert!(last.get("images").is_none_or(|i| i.as_array().is_none_or(Vec::is_empty)), "{last}");
    let said = warnings(&events);
    assert!(
        said.iter().any(|w| w.contains("image was left out") && w.contains("vision")),
        "the user is told: {said:?}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_an_image_or_too_big_is_refused_with_the_reason_and_the_prompt_still_goes() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["ok"])]).await;
    let repo = Repo::new();
    repo.write("fake.png", b"this is text, not a picture");
    repo.write("huge.png", &png(4000, 3000, 5 * 1024 * 1024 + 1));
    repo.write("ok.jpg", &jpeg(640, 480));
    let mut engine = repo.engine(Wire::Anthropic, &server.base_url(), "", None);
    let prompt = "compare @fake.png, @huge.png, @ok.jpg and @missing.webp";
    let events = turn(&mut engine, prompt).await;
    let said = warnings(&events);
    let about = |name: &str| said.iter().find(|w| w.contains(name)).cloned().unwrap_or_default();
    assert!(about("fake.png").contains("not a PNG, JPEG, GIF or WebP image"), "{said:?}");
    assert!(about("huge.png").contains("over the 5 MB limit"), "{said:?}");
    assert!(about("missing.webp").contains("no such file"), "{said:?}");
    assert!(about("fake.png").contains("sent without it"), "{said:?}");
    assert_eq!(placeholders(&events), ["[image: ok.jpg 640×480, 20 B]"]);
    let body = server.chat_requests()[0].body.clone();
    let content = last_message(&body)["content"].as_array().unwrap().clone();
    assert_eq!(content.len(), 2, "one image, then the text: {content:?}");
    assert_eq!(content[0]["source"]["media_type"], "image/jpeg");
    assert_eq!(content[1]["text"].as_str(), Some(prompt));
}

/// A JPEG's first segments: SOI, then a baseline start-of-frame of `w`×`h`.
fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08];
    b.extend(h.to_be_bytes());
    b.extend(w.to_be_bytes());
    b.extend([0x03, 0x01, 0x22, 0x00, 0xff, 0xd9]);
    b.resize(20, 0);
    b
}

#[tokio::test]
async fn exec_attaches_an_image_the_same_way() {
    let server = ScriptedServer::start(Wire::Anthropic, vec![Turn::text(&["a red square"])]).await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = png(32, 32, 500);
    std::fs::write(dir.path().join("shot.png"), &bytes).unwrap();
    std::fs::write(dir.path().join("notes.png"), b"plain text").unwrap();
    let base = server.base_url();
    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kv1nt"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("KV1NT_HOME", home.join("home"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("ANTHROPIC_API_KEY", "sk-test")
            .env("ANTHROPIC_BASE_URL", &base)
            .current_dir(&home)
            .args(["exec", "--json", "look at @shot.png and @notes.png"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let notice = lines.iter().find(|l| l["type"] == "notice" && l["level"] == "warn").expect("a warning");
    assert!(notice["text"].as_str().unwrap().contains("notes.png not attached: not a PNG"), "{notice}");
    let body = server.chat_requests()[0].body.clone();
    let content = &last_message(&body)["content"];
    assert_eq!(content[0]["source"]["data"].as_str(), Some(STANDARD.encode(&bytes).as_str()), "{content}");
    assert_eq!(content[1]["text"], "look at @shot.png and @notes.png");
}

#[tokio::test]
async fn the_built_in_model_gets_no_image_and_the_user_is_told() {
    let repo = Repo::new();
    repo.write("shot.png", &png(10, 10, 100));
    let mut c = Config::default();
    c.llm.primary = ProviderKind::Local;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
    // No model file: the request is built (and the image left out) before loading fails.
    c.local.model = repo.dir.path().join("none.gguf").display().to_string();
    let mut engine = spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: None, github_token: None },
        workspace: repo.dir.path().join("repo"),
        store: None,
        resume: None,
        preflight: false,
        trust: None,
    });
    let events = turn(&mut engine, "what is @shot.png?").await;
    let said = warnings(&events);
    assert!(
        said.iter().any(|w| w.contains("image was left out") && w.contains("reads text only")),
        "{said:?}"
    );
}

#[tokio::test]
async fn a_repository_command_naming_a_file_outside_attaches_nothing() {
    let server = ScriptedServer::start(Wire::OpenAi, vec![Turn::text(&["ok"])]).await;
    let repo = Repo::new();
    let secret = repo.dir.path().join("private.png");
    std::fs::write(&secret, png(20, 20, 300)).unwrap();
    std::fs::create_dir_all(repo.dir.path().join("repo/.kv1nt/commands")).unwrap();
    repo.write(".kv1nt/commands/peek.md", format!("Describe {} for me.\n", secret.display()).as_bytes());
    let mut c = Config::default();
    c.llm.primary = ProviderKind::OpenAi;
    c.llm.fallback = Fallback::None;
    c.llm.max_retries = 0;
    c.openai.base_url = server.base_url();
    c.graph.embed = kv1nt::engine::graph::settings::EmbedProvider::None;
    c.user_dirs = vec![repo.dir.path().join("user")];
    c.repo_trusted = true; // even a trusted repository's text never attaches a file
    let mut engine = spawn(EngineSetup {
        config: c,
        secrets: Secrets { anthropic_api_key: None, openai_api_key: Some("oa".into()), github_token: None },
        workspace: repo.dir.path().join("repo"),
        store: None,
        resume: None,
        preflight: false,
        trust: None,
    });
    engine.ops.send(Op::Command { name: "peek".into(), args: String::new() }).unwrap();
    let mut events = Vec::new();
    loop {
        let event =
            tokio::time::timeout(Duration::from_secs(30), engine.events.recv()).await.unwrap().unwrap();
        let end = matches!(event, Event::TurnEnded(_) | Event::CommandRefused { .. });
        events.push(event);
        if end {
            break;
        }
    }
    let body = server.chat_requests()[0].body.clone();
    let last = last_message(&body);
    assert!(last["content"].as_str().is_some_and(|t| t.contains("private.png")), "the command ran: {last}");
    assert!(!body.to_string().contains("image_url"), "no image went: {body}");
    assert!(placeholders(&events).is_empty());
}
