//! PLACEHOLDER until the helper's version lands (same names).
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MessageStyle {
    #[default]
    Conventional,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitSettings {
    pub message_style: MessageStyle,
    pub trailer: Option<String>,
    pub base_branch: String,
    pub branch_prefix: String,
    pub github_api_url: String,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            message_style: MessageStyle::Conventional,
            trailer: None,
            base_branch: "main".into(),
            branch_prefix: "feature/".into(),
            github_api_url: "https://api.github.com".into(),
        }
    }
}
