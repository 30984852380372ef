//! `[git]` in the configuration: how kv1nt writes commit messages, names branches and reaches
//! GitHub.
//!
//! ```toml
//! [git]
//! message_style = "conventional"   # conventional | plain
//! # trailer = "Co-authored-by: kv1nt <kv1nt@example.com>"   # unset: no trailer, ever
//! base_branch = "main"             # where /branch starts feature branches and /pr targets
//! branch_prefix = "feature/"
//! github_api_url = "https://api.github.com"   # Enterprise: "https://ghe.example.com/api/v3"
//! ```
//!
//! The GitHub token is not here: it is read from `GITHUB_TOKEN` into `Secrets`.

use serde::{Deserialize, Serialize};

/// The GitHub REST API of github.com.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";

/// The form of generated commit messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStyle {
    /// Conventional Commits: `type(scope)!: description`.
    #[default]
    Conventional,
    /// A plain imperative subject line.
    Plain,
}

impl MessageStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStyle::Conventional => "conventional",
            MessageStyle::Plain => "plain",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitSettings {
    pub message_style: MessageStyle,
    /// A trailer line added to every commit kv1nt makes; None (the default) adds none.
    pub trailer: Option<String>,
    /// The branch feature branches start from and pull requests target.
    pub base_branch: String,
    /// Prefix of the branches `/branch NAME` creates.
    pub branch_prefix: String,
    /// The GitHub REST API root (GitHub Enterprise: `https://HOST/api/v3`).
    pub github_api_url: String,
}

impl Default for GitSettings {
    fn default() -> Self {
        Self {
            message_style: MessageStyle::Conventional,
            trailer: None,
            base_branch: "main".into(),
            branch_prefix: "feature/".into(),
            github_api_url: DEFAULT_GITHUB_API_URL.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_partial_section() {
        let settings: GitSettings = toml::from_str("message_style = \"plain\"").unwrap();
        assert_eq!(settings.message_style, MessageStyle::Plain);
        assert_eq!(settings.trailer, None);
        assert_eq!(settings.base_branch, "main");
        assert_eq!(settings.branch_prefix, "feature/");
        assert_eq!(settings.github_api_url, DEFAULT_GITHUB_API_URL);
        assert!(toml::from_str::<GitSettings>("trailers = \"x\"").is_err());
        assert!(toml::from_str::<GitSettings>("message_style = \"fancy\"").is_err());
    }
}
