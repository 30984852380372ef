//! PLACEHOLDER until the helper's version lands (same signature).
use super::{CommitProposal, MessageSource, summarize_diff};
use crate::engine::config::{Config, Secrets};

pub async fn write_commit_message(
    _config: &Config,
    _secrets: &Secrets,
    _client: &reqwest::Client,
    proposal: &CommitProposal,
) -> (String, MessageSource, Option<String>) {
    (summarize_diff(&proposal.diffstat, &proposal.files), MessageSource::Summary, Some("placeholder".into()))
}
