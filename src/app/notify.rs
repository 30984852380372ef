//! Desktop notifications: when the terminal is not focused (focus events, `\x1b[I`/`\x1b[O`) and
//! an approval, a question or a summary waits for the user, or a turn of at least
//! `notify.after_secs` ends, a notification goes out — OSC 9, OSC 777, `notify-send` or the
//! bell (`[notify] method`). The messages are queued here and written by the event loop.
//!
//! Invariants: nothing is sent while the terminal has focus (a terminal that never reports
//! focus counts as focused, so it is never spammed); a message is stripped of every control
//! character before it is written — it carries model-chosen text (paths, summaries) and must
//! not be able to end the escape sequence and write its own.

use std::io::Write;
use std::time::Duration;

use super::state::AppState;
use crate::engine::config::notify::{NotifyConfig, NotifyMethod};

/// The longest message sent.
const MAX_CHARS: usize = 160;

/// What the user set, resolved against this terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Notifier {
    pub method: NotifyMethod,
    pub after: Duration,
}

impl Notifier {
    pub fn new(config: &NotifyConfig, env: &dyn Fn(&str) -> Option<String>) -> Self {
        Self { method: resolve(config.method, env), after: Duration::from_secs(config.after_secs) }
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self { method: NotifyMethod::Off, after: Duration::from_secs(10) }
    }
}

/// `auto` made concrete from the environment (`env` reads a variable).
pub fn resolve(method: NotifyMethod, env: &dyn Fn(&str) -> Option<String>) -> NotifyMethod {
    if method != NotifyMethod::Auto {
        return method;
    }
    let desktop = env("DISPLAY").is_some() || env("WAYLAND_DISPLAY").is_some();
    if desktop && env("TMUX").is_none() && on_path("notify-send", env) {
        return NotifyMethod::NotifySend;
    }
    let program = env("TERM_PROGRAM").unwrap_or_default().to_lowercase();
    let term = env("TERM").unwrap_or_default().to_lowercase();
    if ["iterm.app", "wezterm", "ghostty"].contains(&program.as_str()) || term.contains("kitty") {
        NotifyMethod::Osc9
    } else if term.contains("rxvt") || term.starts_with("foot") {
        NotifyMethod::Osc777
    } else {
        NotifyMethod::Bell
    }
}

fn on_path(command: &str, env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(command).is_file()))
}

/// `text` without control characters (C0, DEL, C1), on one line, at most [`MAX_CHARS`].
pub fn sanitize(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let squeezed = one_line.split_whitespace().collect::<Vec<_>>().join(" ");
    squeezed.chars().take(MAX_CHARS).collect()
}

/// The bytes a terminal method writes for `message` (already sanitised); `None` for the
/// methods that write nothing to the terminal.
pub fn sequence(method: NotifyMethod, message: &str) -> Option<Vec<u8>> {
    match method {
        NotifyMethod::Osc9 => Some(format!("\x1b]9;kv1nt: {message}\x07").into_bytes()),
        // OSC 777 separates its fields with `;`.
        NotifyMethod::Osc777 => {
            Some(format!("\x1b]777;notify;kv1nt;{}\x07", message.replace(';', ",")).into_bytes())
        }
        NotifyMethod::Bell => Some(b"\x07".to_vec()),
        NotifyMethod::NotifySend | NotifyMethod::Off | NotifyMethod::Auto => None,
    }
}

/// Focus reported by the terminal.
pub fn on_focus(state: &mut AppState, focused: bool) {
    state.terminal_focused = focused;
}

/// Something waits for the user (`what`: "approve edit src/lib.rs", "a question").
pub fn waiting(state: &mut AppState, what: &str) {
    if !state.terminal_focused && state.notifier.method != NotifyMethod::Off {
        state.notifications.push(sanitize(&format!("waiting for you: {what}")));
    }
}

/// A turn ended after `elapsed`.
pub fn turn_ended(state: &mut AppState, elapsed: Option<Duration>, how: &str) {
    let Some(elapsed) = elapsed else { return };
    if !state.terminal_focused
        && state.notifier.method != NotifyMethod::Off
        && elapsed >= state.notifier.after
    {
        state.notifications.push(sanitize(&format!("reply {how} after {} s", elapsed.as_secs())));
    }
}

/// Send the queued notifications: escape sequences to `out` (the terminal), `notify-send` as a
/// child process that is not waited for.
pub fn flush(state: &mut AppState, out: &mut impl Write) {
    let method = state.notifier.method;
    for message in state.notifications.drain(..) {
        match method {
            NotifyMethod::NotifySend => {
                let _ = std::process::Command::new("notify-send")
                    .args(["--app-name=kv1nt", "kv1nt", &message])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
            other => {
                if let Some(bytes) = sequence(other, &message) {
                    let _ = out.write_all(&bytes);
                }
            }
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn auto_picks_what_the_terminal_shows() {
        assert_eq!(resolve(NotifyMethod::Auto, &env(&[("TERM", "xterm-kitty")])), NotifyMethod::Osc9);
        assert_eq!(resolve(NotifyMethod::Auto, &env(&[("TERM_PROGRAM", "WezTerm")])), NotifyMethod::Osc9);
        assert_eq!(
            resolve(NotifyMethod::Auto, &env(&[("TERM", "rxvt-unicode-256color")])),
            NotifyMethod::Osc777
        );
        assert_eq!(resolve(NotifyMethod::Auto, &env(&[("TERM", "xterm-256color")])), NotifyMethod::Bell);
        assert_eq!(resolve(NotifyMethod::Bell, &env(&[("TERM", "xterm-kitty")])), NotifyMethod::Bell);
    }

    #[test]
    fn a_message_cannot_escape_its_sequence() {
        let hostile = "edit \x1b]0;pwned\x07src/\u{9b}lib.rs\nnext; line";
        let clean = sanitize(hostile);
        assert!(!clean.chars().any(char::is_control), "{clean:?}");
        let osc = sequence(NotifyMethod::Osc777, &clean).unwrap();
        let text = String::from_utf8(osc).unwrap();
        assert_eq!(text.matches('\x07').count(), 1);
        assert_eq!(text.matches('\x1b').count(), 1);
        assert!(text.ends_with("next, line\x07"), "{text:?}");
    }

    #[test]
    fn only_an_unfocused_terminal_is_notified_and_only_after_the_delay() {
        let mut state = AppState::for_tests();
        state.notifier = Notifier { method: NotifyMethod::Osc9, after: Duration::from_secs(10) };
        waiting(&mut state, "approve edit src/lib.rs");
        assert!(state.notifications.is_empty(), "focused");
        on_focus(&mut state, false);
        turn_ended(&mut state, Some(Duration::from_secs(3)), "finished");
        assert!(state.notifications.is_empty(), "too short");
        turn_ended(&mut state, Some(Duration::from_secs(12)), "finished");
        waiting(&mut state, "approve edit src/lib.rs");
        let mut out = Vec::new();
        flush(&mut state, &mut out);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "\x1b]9;kv1nt: reply finished after 12 s\x07\x1b]9;kv1nt: waiting for you: approve edit src/lib.rs\x07"
        );
    }
}
