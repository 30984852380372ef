//! How a prompt's images travel on each wire: Anthropic's `image` content blocks (base64 source)
//! before the text, OpenAI's `image_url` parts with a `data:` URL after it. (Ollama's `images`
//! array of base64 strings is set in `ollama.rs` through ollama-rs's `ChatMessage::with_images`.)
//!
//! Invariant: the bytes go out exactly as read, base64-encoded, with the media type the magic
//! bytes gave (`protocol::image`); a message without images never comes here.

use serde_json::{Value, json};

use super::types::Message;

/// An Anthropic user turn's `content`: the images first, then the words about them (Anthropic's
/// advice for vision prompts).
pub fn anthropic_content(msg: &Message) -> Value {
    let mut content: Vec<Value> = msg
        .images
        .iter()
        .map(|i| json!({"type": "image", "source": {"type": "base64", "media_type": i.media_type, "data": i.base64()}}))
        .collect();
    if !msg.text.is_empty() {
        content.push(json!({"type": "text", "text": msg.text}));
    }
    Value::Array(content)
}

/// An OpenAI-compatible user message's `content`: the text part, then one `image_url` part with a
/// `data:` URL per image.
pub fn openai_content(msg: &Message) -> Value {
    let mut parts = vec![json!({"type": "text", "text": msg.text})];
    parts.extend(msg.images.iter().map(|i| {
        json!({"type": "image_url", "image_url": {"url": format!("data:{};base64,{}", i.media_type, i.base64())}})
    }));
    Value::Array(parts)
}
