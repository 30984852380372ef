//! Putting copied text on the clipboard, written by the event loop (the terminal's one writer):
//! OSC 52 (`ESC ] 52 ; c ; BASE64 ESC \`) to the terminal, which works over ssh and in tmux
//! with `set-clipboard on`; and, where a display is there, the system clipboard through the
//! first of `wl-copy`, `xclip` or `xsel` on `PATH`, fed on a thread of its own.
//!
//! Invariants: the UI never waits on the clipboard (the helper runs on its own thread and is
//! never waited for by the loop); OSC 52 carries at most [`MAX_OSC52_BYTES`] of text, cut at a
//! character boundary (terminals drop longer ones whole); copied text keeps tabs and newlines
//! and loses only what is not text (other control characters) — it is the user's own screen
//! content, but a paste elsewhere must not carry escape sequences.

use std::io::Write;

use base64::prelude::{BASE64_STANDARD, Engine as _};

/// The most text one OSC 52 sequence carries (before base64).
pub const MAX_OSC52_BYTES: usize = 100_000;

/// `text` without control characters other than tab and newline (`\r\n` becomes `\n`).
pub fn sanitize(text: &str) -> String {
    text.chars().filter(|c| matches!(c, '\t' | '\n') || !c.is_control()).collect()
}

/// The OSC 52 sequence setting the clipboard to `text`, cut to [`MAX_OSC52_BYTES`].
pub fn osc52(text: &str) -> Vec<u8> {
    let mut end = text.len().min(MAX_OSC52_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let encoded = BASE64_STANDARD.encode(&text.as_bytes()[..end]);
    format!("\x1b]52;c;{encoded}\x1b\\").into_bytes()
}

/// Write `text` to the terminal's clipboard (`out`) and hand it to the system clipboard.
pub fn write(text: String, out: &mut impl Write) {
    let _ = out.write_all(&osc52(&text));
    let _ = out.flush();
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some((program, args)) = system_tool(env("WAYLAND_DISPLAY").is_some(), env("DISPLAY").is_some()) {
        std::thread::spawn(move || system_copy(program, args, &text));
    }
}

/// The clipboard program for this display, if one is installed.
fn system_tool(wayland: bool, x11: bool) -> Option<(&'static str, &'static [&'static str])> {
    let mut candidates: Vec<(&str, &[&str])> = Vec::new();
    if wayland {
        candidates.push(("wl-copy", &[]));
    }
    if x11 {
        candidates.push(("xclip", &["-selection", "clipboard"]));
        candidates.push(("xsel", &["--clipboard", "--input"]));
    }
    let path = std::env::var_os("PATH")?;
    candidates
        .into_iter()
        .find(|(program, _)| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn system_copy(program: &str, args: &[&str], text: &str) {
    let child = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_of_the_text_and_cut_at_a_character() {
        let out = String::from_utf8(osc52("héllo\n\tworld")).unwrap();
        assert_eq!(out, "\x1b]52;c;aMOpbGxvCgl3b3JsZA==\x1b\\");
        let long = "é".repeat(MAX_OSC52_BYTES); // two bytes each
        let out = String::from_utf8(osc52(&long)).unwrap();
        let encoded = out.trim_start_matches("\x1b]52;c;").trim_end_matches("\x1b\\");
        let decoded = BASE64_STANDARD.decode(encoded).unwrap();
        assert_eq!(decoded.len(), MAX_OSC52_BYTES);
        assert!(String::from_utf8(decoded).is_ok());
    }

    #[test]
    fn only_what_is_not_text_is_dropped() {
        assert_eq!(sanitize("a\tb\r\nc\x1b]0;x\x07d\u{9b}e"), "a\tb\nc]0;xde");
    }
}
