//! `[notify]`: desktop notifications when kv1nt needs the user and the terminal is not focused
//! (`app::notify` sends them).

use serde::{Deserialize, Serialize};

/// How a notification reaches the desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyMethod {
    /// `notify-send` where a desktop session and the command exist, else OSC 9 for terminals
    /// known to show it (kitty, WezTerm, iTerm2, Ghostty), OSC 777 for rxvt and foot, else the bell.
    #[default]
    Auto,
    Osc9,
    Osc777,
    Bell,
    NotifySend,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Notify when a turn that took at least this long ends while the terminal is not focused
    /// (an approval or question waiting always notifies).
    pub after_secs: u64,
    pub method: NotifyMethod,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self { after_secs: 10, method: NotifyMethod::Auto }
    }
}
