//! What the user is looking at, in context: the files a prompt names with `@path` and the
//! workspace file shown in Code (`Op::InView`) go into the system prompt's "Files in view"
//! section, within the `current_file` budget, cut around the relevant lines when large; and the
//! repository's file list for the composer's `@` completion (`Event::WorkspaceFiles`).
//!
//! Invariants: a path is read only through the workspace guard (`Workspace::resolve`: nothing
//! outside the repository, no symlink out); the section passes the injection screen like any
//! file the model reads; it never takes more than a quarter of the model's window, and each file
//! gets an equal share of what there is.

use super::runtime::Engine;
use crate::engine::custom_commands::mentions;
use crate::engine::protocol::{Event, LogLevel};

/// Files bigger than this are not read for the section (the model can read a range itself).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// At most this many files feed the section.
const MAX_FILES: usize = 6;

/// `text` cut to about `budget` bytes around `focus` (1-based line numbers): whole lines, the
/// focus lines' neighbourhood first, with a note of what was left out. The whole text when it
/// fits; the top of the file when there is no focus.
pub fn excerpt(text: &str, focus: &[usize], budget: usize) -> String {
    if text.len() <= budget {
        return text.to_string();
    }
    let lines: Vec<&str> = text.lines().collect();
    let centre = focus.iter().copied().find(|&l| l >= 1 && l <= lines.len()).unwrap_or(1) - 1;
    let (mut start, mut end) = (centre, centre + 1);
    let mut used = lines.get(centre).map_or(0, |l| l.len() + 1);
    // Grow both ways, a line at a time, until the budget is spent.
    loop {
        let down = lines.get(end).map(|l| l.len() + 1).filter(|n| used + n <= budget);
        if let Some(n) = down {
            used += n;
            end += 1;
        }
        let up = start.checked_sub(1).map(|i| lines[i].len() + 1).filter(|n| used + n <= budget);
        if let Some(n) = up {
            used += n;
            start -= 1;
        }
        if down.is_none() && up.is_none() {
            break;
        }
    }
    let mut out = String::new();
    if start > 0 {
        out.push_str(&format!("[… lines 1–{start} left out …]\n"));
    }
    for line in &lines[start..end] {
        out.push_str(line);
        out.push('\n');
    }
    if end < lines.len() {
        out.push_str(&format!("[… lines {}–{} left out …]\n", end + 1, lines.len()));
    }
    out
}

/// The 1-based lines of `text` containing any of `words` (compared case-insensitively).
fn lines_with(text: &str, words: &[String]) -> Vec<usize> {
    if words.is_empty() {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.to_lowercase();
            words.iter().any(|w| l.contains(w.as_str()))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// The words of a prompt worth looking for in a file: identifiers of 4 characters or more.
fn search_words(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().count() >= 4 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .take(24)
        .collect()
}

impl Engine {
    /// At a turn's start: the "Files in view" section for `prompt` (empty when it names no file
    /// and Code shows none), screened.
    pub(super) fn files_in_view_section(&mut self, prompt: &str) -> String {
        let Some(workspace) = self.tools_workspace.clone() else { return String::new() };
        let mut files: Vec<(String, Vec<usize>)> = Vec::new();
        let words = search_words(prompt);
        for path in mentions(prompt) {
            // An image goes with the prompt as an attachment (`images.rs`), not as text here.
            if crate::engine::protocol::image::is_image_path(&path) {
                continue;
            }
            if files.len() < MAX_FILES && !files.iter().any(|(p, _)| *p == path) {
                files.push((path, Vec::new()));
            }
        }
        if let Some((path, line)) = self.in_view.clone()
            && !files.iter().any(|(p, _)| *p == path)
        {
            files.push((path, vec![line]));
        }
        let mut read: Vec<(String, String, Vec<usize>)> = Vec::new();
        for (path, focus) in files {
            let Ok((abs, rel)) = workspace.resolve(&path, false) else { continue }; // an @handle, not a file
            let Ok(meta) = std::fs::metadata(&abs) else { continue };
            if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
                self.log(
                    LogLevel::Info,
                    format!("@{rel}: not added to the context (not a file, or over 4 MiB)"),
                );
                continue;
            }
            let Ok(text) = std::fs::read(&abs).map(|b| String::from_utf8_lossy(&b).into_owned()) else {
                continue;
            };
            if text.contains('\0') {
                continue;
            }
            let focus = if focus.is_empty() { lines_with(&text, &words) } else { focus };
            read.push((rel, text, focus));
        }
        if read.is_empty() {
            return String::new();
        }
        let window = self.config.context_window(self.config.llm.primary);
        let budget = self.config.context.current_file.min(window / 4).saturating_mul(4);
        let share = budget / read.len();
        let mut section = String::from(
            "\n\n# Files in view\n\nThe user named these files or has them open; they are shown as they are now \
             (cut around the relevant lines when large — read_file gives the rest).\n",
        );
        for (rel, text, focus) in &read {
            let lines = text.lines().count();
            section.push_str(&format!(
                "\n## {rel} ({lines} lines)\n\n```\n{}```\n",
                excerpt(text, focus, share)
            ));
        }
        self.screen("the files in view", section).0
    }

    /// `Op::InView`: the workspace file Code shows (and the line at its top), or none.
    pub(super) fn set_in_view(&mut self, file: Option<(String, usize)>) {
        self.in_view = file;
    }

    /// Send the repository's files (ignore-aware, as the project walk sees them) for the
    /// composer's `@` completion, from a blocking thread.
    pub(super) fn announce_workspace_files(&self) {
        let root = self.workspace.clone();
        let events = self.events.clone();
        tokio::task::spawn_blocking(move || {
            let files = crate::engine::project::walk::files(&root).into_iter().map(|f| f.rel).collect();
            let _ = events.send(Event::WorkspaceFiles(files));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_file_is_whole_and_a_large_one_is_cut_around_its_focus() {
        assert_eq!(excerpt("a\nb\n", &[], 100), "a\nb\n");
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let cut = excerpt(&text, &[500], 200);
        assert!(
            cut.contains("line 500\n") && cut.contains("line 490\n") && cut.contains("line 510\n"),
            "{cut}"
        );
        assert!(cut.starts_with("[… lines 1–") && cut.ends_with("–1000 left out …]\n"), "{cut}");
        assert!(cut.len() < 320, "{}", cut.len());
        let top = excerpt(&text, &[], 100);
        assert!(top.starts_with("line 1\n") && !top.contains("line 50\n"));
    }

    #[test]
    fn the_prompt_words_find_the_lines_to_show() {
        let words = search_words("why does parse_config fail on 2024?");
        assert!(words.contains(&"parse_config".to_string()) && !words.contains(&"2024".to_string()));
        assert_eq!(lines_with("a\nfn parse_config() {}\nb\n", &words), vec![2]);
    }
}
