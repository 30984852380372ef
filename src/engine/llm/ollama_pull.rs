//! `POST /api/pull`: Ollama downloads a model into its own store, streaming NDJSON progress —
//! a `status` line per step, and per layer `digest`, `total` and `completed` bytes — until
//! `{"status":"success"}` or `{"error": …}` (the documented API, ollama/docs/api.md).
//!
//! Invariants: the bytes reported are summed over the layers seen so far (a layer's total is
//! known only once it starts); the pull succeeded only if the server said `success` — a stream
//! that ends without it is an error.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::framing::LineBuffer;
use super::ollama::normalize_host;

/// What the stream has said so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PullState {
    /// The last `status` line ("pulling manifest", "verifying sha256 digest", …).
    pub status: String,
    /// Bytes done and in all, over the layers seen so far.
    pub done: u64,
    pub total: u64,
    layers: BTreeMap<String, (u64, u64)>,
}

impl PullState {
    /// Fold one NDJSON line in; `Err` with the server's message on an `error` line.
    pub fn update(&mut self, line: &Value) -> Result<(), String> {
        if let Some(error) = line.get("error").and_then(Value::as_str) {
            return Err(error.to_string());
        }
        if let Some(status) = line.get("status").and_then(Value::as_str) {
            self.status = status.to_string();
        }
        if let (Some(digest), Some(total)) =
            (line.get("digest").and_then(Value::as_str), line.get("total").and_then(Value::as_u64))
        {
            let completed = line.get("completed").and_then(Value::as_u64).unwrap_or(0).min(total);
            self.layers.insert(digest.to_string(), (completed, total));
            self.done = self.layers.values().map(|(c, _)| c).sum();
            self.total = self.layers.values().map(|(_, t)| t).sum();
        }
        Ok(())
    }

    pub fn succeeded(&self) -> bool {
        self.status == "success"
    }
}

/// Pull `model` into the Ollama at `host`, calling `on` after every line.
pub async fn pull(
    client: &reqwest::Client,
    host: &str,
    model: &str,
    mut on: impl FnMut(&PullState),
) -> Result<PullState, String> {
    let url = format!("{}/api/pull", normalize_host(host));
    let mut response = client
        .post(&url)
        .json(&json!({"model": model, "stream": true}))
        .send()
        .await
        .map_err(|e| format!("cannot reach Ollama at {host}: {e}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
            .unwrap_or(body);
        return Err(format!("Ollama answered {status}: {}", message.trim()));
    }
    let mut state = PullState::default();
    let mut lines = LineBuffer::default();
    let mut take = |line: String, state: &mut PullState| -> Result<(), String> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| format!("Ollama sent a line that is not JSON ({e}): {line}"))?;
        state.update(&value)?;
        on(state);
        Ok(())
    };
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("the pull stream broke: {e}"))? {
        for line in lines.push(&chunk) {
            take(line, &mut state)?;
        }
    }
    if let Some(line) = lines.finish() {
        take(line, &mut state)?;
    }
    if !state.succeeded() {
        return Err(format!("the pull ended before Ollama reported success (last: {})", state.status));
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_add_up_over_layers_and_an_error_line_stops_it() {
        let mut s = PullState::default();
        s.update(&json!({"status": "pulling manifest"})).unwrap();
        s.update(&json!({"status": "pulling a1", "digest": "a1", "total": 100, "completed": 40})).unwrap();
        s.update(&json!({"status": "pulling b2", "digest": "b2", "total": 50})).unwrap();
        assert_eq!((s.done, s.total), (40, 150));
        s.update(&json!({"status": "pulling a1", "digest": "a1", "total": 100, "completed": 100})).unwrap();
        assert_eq!((s.done, s.total, s.succeeded()), (100, 150, false));
        s.update(&json!({"status": "success"})).unwrap();
        assert!(s.succeeded());
        assert_eq!(
            s.update(&json!({"error": "pull model manifest: file does not exist"})),
            Err("pull model manifest: file does not exist".into())
        );
    }
}
