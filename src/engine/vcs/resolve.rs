//! PLACEHOLDER until the helper's version lands (same signature).
use super::Conflict;
use crate::engine::config::{Config, Secrets};

pub async fn propose_resolution(
    _config: &Config,
    _secrets: &Secrets,
    _client: &reqwest::Client,
    _conflict: &Conflict,
) -> Result<String, String> {
    Err("placeholder".into())
}
