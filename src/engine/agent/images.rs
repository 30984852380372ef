//! Images in prompts, the engine's half: the image files a prompt names — `@path` in the
//! repository, or an absolute or `~/` path the user typed or pasted (with `@` or without,
//! quoted or with `\ ` escapes as terminals paste them) — read into `ImageAttachment`s on the
//! prompt's message; and, per request, leaving them out for a model that cannot take them (the
//! built-in `local` provider, an Ollama model whose probed capabilities lack `vision`), with a
//! notice.
//!
//! Invariants: only the text the user typed is searched (`Op::Submit`'s, before an intent, a
//! hook or the files in view add to it; never a template's, a custom command's or an MCP
//! prompt's), so nothing a repository or server wrote can attach a file from outside it; a repository path passes the workspace guard, an absolute path is the
//! user's own choice; a file that is refused (missing, over 5 MB, not an image) is named in a
//! notice with the reason and the prompt goes without it.

use super::runtime::Engine;
use crate::engine::custom_commands::mentions;
use crate::engine::llm::{Message, ProviderKind};
use crate::engine::protocol::image::{ImageAttachment, MAX_IMAGE_BYTES, is_image_path};
use crate::engine::protocol::{Event, LogLevel};

/// At most this many images go with one prompt.
pub const MAX_IMAGES: usize = 8;

/// The paths a prompt names that are images by their extension: `@path` mentions first, then
/// absolute or `~/` paths written without `@`, each once.
pub fn image_paths(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let pasted = words(text).into_iter().filter(|w| w.starts_with('/') || w.starts_with("~/"));
    for path in mentions(text).into_iter().chain(pasted) {
        if is_image_path(&path) && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// The words of `text` as a shell would paste a path: `'…'` and `"…"` hold spaces, so does
/// `\ `; trailing punctuation of an unquoted word is not part of it.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let quote = chars[i];
        if matches!(quote, '\'' | '"')
            && let Some(n) = chars[i + 1..].iter().position(|&c| c == quote)
        {
            out.push(chars[i + 1..i + 1 + n].iter().collect());
            i += n + 2;
            continue;
        }
        let mut word = String::new();
        while i < chars.len() && !chars[i].is_whitespace() {
            if chars[i] == '\\' && chars.get(i + 1) == Some(&' ') {
                word.push(' ');
                i += 2;
            } else {
                word.push(chars[i]);
                i += 1;
            }
        }
        let word = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '`']);
        out.push(word.to_string());
    }
    out
}

/// `~/…` with the home directory put in.
fn expand_home(path: &str) -> Option<std::path::PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(rest)),
        None => Some(path.into()),
    }
}

/// The file at `abs` as an attachment named `name`, or why not.
fn read_image(abs: &std::path::Path, name: &str) -> Result<ImageAttachment, String> {
    let meta = std::fs::metadata(abs).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot be read ({e})"),
    })?;
    if !meta.is_file() {
        return Err("not a file".into());
    }
    if meta.len() > MAX_IMAGE_BYTES as u64 {
        let size = crate::engine::protocol::image::size_label(meta.len() as usize);
        return Err(format!("{size} is over the 5 MB limit for images"));
    }
    let bytes = std::fs::read(abs).map_err(|e| format!("cannot be read ({e})"))?;
    ImageAttachment::from_bytes(name, bytes)
}

impl Engine {
    /// The images `text` (the prompt as the user typed it) names, read; each one refused said in
    /// a notice.
    pub(super) fn prompt_images(&mut self, text: &str) -> Vec<ImageAttachment> {
        let mut images = Vec::new();
        for path in image_paths(text) {
            let result = if images.len() >= MAX_IMAGES {
                Err(format!("a prompt takes at most {MAX_IMAGES} images"))
            } else if path.starts_with('/') || path.starts_with("~/") {
                // The user's own file, wherever it is: they typed its path.
                let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                match expand_home(&path) {
                    Some(abs) => read_image(&abs, &name),
                    None => Err("HOME is not set".into()),
                }
            } else {
                match self.tools_workspace.as_ref().map(|w| w.resolve(&path, false)) {
                    Some(Ok((abs, rel))) => read_image(&abs, &rel),
                    Some(Err(_)) | None => {
                        Err("outside the repository (give its absolute path to attach your own file)".into())
                    }
                }
            };
            match result {
                Ok(image) => images.push(image),
                Err(why) => self.emit(Event::Notice {
                    level: LogLevel::Warn,
                    text: format!("Image {path} not attached: {why}. The prompt is sent without it."),
                }),
            }
        }
        images
    }

    /// Why `kind`'s model cannot take images, or `None` when it can (or may: an Ollama model not
    /// probed, or a server too old to list capabilities, gets them).
    pub(super) fn image_refusal(&self, kind: ProviderKind) -> Option<String> {
        match kind {
            ProviderKind::Local => Some("the built-in model reads text only".into()),
            ProviderKind::Ollama => {
                let ollama = &self.config.ollama;
                let info = crate::engine::llm::ollama::probed(&ollama.host, &ollama.model)?;
                (!info.capabilities.is_empty() && !info.capabilities.iter().any(|c| c == "vision"))
                    .then(|| format!("Ollama's {} does not list the vision capability", ollama.model))
            }
            ProviderKind::Anthropic | ProviderKind::OpenAi => None,
        }
    }

    /// Leave the images out of `messages` when `kind`'s model cannot take them; the first step of
    /// a turn whose prompt has images says so in a notice (the text is still sent).
    pub(super) fn images_for(&self, kind: ProviderKind, messages: &mut [Message]) {
        if !messages.iter().any(|m| !m.images.is_empty()) {
            return;
        }
        let Some(why) = self.image_refusal(kind) else { return };
        for message in messages.iter_mut() {
            message.images.clear();
        }
        let prompt = self.history.get((self.turn.number as usize).wrapping_sub(1));
        let attached = prompt.map_or(0, |m| m.images.len());
        if attached == 0 {
            self.log(LogLevel::Info, format!("earlier prompts' images not sent: {why}"));
        } else if self.turn.step == 0 {
            let what = if attached == 1 {
                "The image was".to_string()
            } else {
                format!("The {attached} images were")
            };
            self.emit(Event::Notice {
                level: LogLevel::Warn,
                text: format!("{what} left out: {why}. The text of the prompt was sent."),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_pasted_paths_of_images_are_found_once() {
        let text = "compare @shots/a.png with '/home/u/My Shots/b.JPG' and /tmp/c\\ d.webp, \
                    also @src/main.rs, ~/e.gif. and @shots/a.png again; not /usr/bin/ls";
        assert_eq!(image_paths(text), ["shots/a.png", "/home/u/My Shots/b.JPG", "/tmp/c d.webp", "~/e.gif"]);
        assert!(image_paths("don't look at @main.rs").is_empty());
        assert_eq!(image_paths("see @/tmp/x.png"), ["/tmp/x.png"]);
    }

    #[test]
    fn a_missing_or_oversized_file_says_why() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_image(&dir.path().join("none.png"), "none.png").unwrap_err(), "no such file");
        let big = dir.path().join("big.png");
        std::fs::write(&big, vec![0u8; MAX_IMAGE_BYTES + 1]).unwrap();
        assert!(read_image(&big, "big.png").unwrap_err().contains("over the 5 MB limit"));
    }
}
