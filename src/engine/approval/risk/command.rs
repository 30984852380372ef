//! Command risk: the rule table from the data, plus what a command line writes (redirects,
//! `tee`, `cp`/`mv` destinations, `rm`/`touch`/`mkdir` operands, `dd of=`) and where.
//!
//! Invariants: a write target that a path rule of the data matches (`.kv1nt/`, CI, hooks…) or
//! that lies in kv1nt's own directories gets that rule's risk, as an edit of it would; writes to
//! system paths (`/`, anything directly under it, /etc, /usr…) are
//! critical; writes elsewhere outside the workspace (including `~`) are high; shell writes
//! (redirects, `tee`) inside the workspace are medium; a command that trips nothing is low only
//! when every piece is a known build, test or read-only command and it has no `$(…)` or
//! backticks, and medium otherwise.

use std::path::{Component, Path, PathBuf};

use super::rules::rules;
use crate::engine::approval::types::Risk;

/// Program names that only wrap the real command (skipped when finding what a command writes).
const WRAPPER_NAMES: &[&str] = &["sudo", "doas", "env", "command", "exec", "nohup", "time", "nice", "xargs"];
/// Absolute paths a write to which is critical (besides `/` and anything directly under it).
#[rustfmt::skip]
const SYSTEM_DIRS: &[&str] = &[
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/sys", "/proc", "/dev", "/var", "/opt",
    "/root", "/System", "/Library", "/Applications",
];

pub(super) fn assess_command(command: &str, cwd: &str, workspace: &Path) -> Vec<(Risk, String)> {
    let rules = rules();
    let mut found = Vec::new();
    // Rules run most severe first; a match inside an earlier one adds nothing ("git push" within
    // "git push --force") unless the rule is `always` reported (sudo).
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    for rule in &rules.commands {
        if let Some(m) = rule.regex.find(command)
            && (rule.always || !spans.iter().any(|s| s.start <= m.start() && m.end() <= s.end))
        {
            found.push((rule.risk, format!("{}: `{}`", rule.reason, excerpt(m.as_str()))));
            spans.push(m.range());
        }
    }
    let (ws, base) = (lexical(workspace), lexical(&workspace.join(cwd)));
    let pieces = lex(command);
    for piece in &pieces {
        for (target, shell_write) in write_targets(piece) {
            found.extend(classify_target(&target, shell_write, &base, &ws));
            found.extend(protected_target(&target, &base, &ws, super::own_dirs()));
        }
    }
    if found.is_empty() {
        let simple = !command.contains("$(") && !command.contains('`') && !pieces.is_empty();
        let safe = |piece: &Vec<String>| {
            let words: Vec<&str> =
                piece.iter().map(String::as_str).skip_while(|w| is_assignment(w)).collect();
            rules.safe.iter().any(|re| re.is_match(&words.join(" ")))
        };
        if simple && pieces.iter().all(safe) {
            found.push((Risk::Low, format!("build, test or read-only command: `{}`", excerpt(command))));
        } else {
            found.push((Risk::Medium, format!("runs a shell command: `{}`", excerpt(command))));
        }
    }
    found
}

/// Splits a command line into pieces (at unquoted `;`, `&`, `|` and newlines) of words, with
/// quotes removed; redirection operators (`>`, `>>`, `2>`, `&>`, `2>&`, `<`) are words of their own.
fn lex(command: &str) -> Vec<Vec<String>> {
    let (mut pieces, mut words, mut word) = (Vec::new(), Vec::new(), String::new());
    let mut quote: Option<char> = None;
    let mut chars = command.chars().peekable();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None
            } else {
                word.push(c)
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '\\' => word.extend(chars.next()),
            '&' if chars.peek() == Some(&'>') => word.push(c),
            ';' | '&' | '|' | '\n' => {
                flush(&mut word, &mut words);
                if !words.is_empty() {
                    pieces.push(std::mem::take(&mut words));
                }
            }
            '>' | '<' => {
                if !(word.chars().all(|d| d.is_ascii_digit()) || word == "&") {
                    flush(&mut word, &mut words);
                }
                word.push(c);
                while let Some(&n) = chars.peek().filter(|n| **n == '>' || **n == '&') {
                    word.push(n);
                    chars.next();
                }
                flush(&mut word, &mut words);
            }
            c if c.is_whitespace() => flush(&mut word, &mut words),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut words);
    if !words.is_empty() {
        pieces.push(words);
    }
    pieces
}

/// The paths one piece of a command writes or deletes; `true` marks redirects and `tee`.
fn write_targets(piece: &[String]) -> Vec<(String, bool)> {
    let (mut out, mut args, mut i) = (Vec::new(), Vec::new(), 0);
    while i < piece.len() {
        let w = piece[i].as_str();
        if w.contains('>') && !w.ends_with('&') {
            out.extend(piece.get(i + 1).map(|t| (t.clone(), true)));
        }
        if w.contains(['>', '<']) {
            i += 2;
            continue;
        }
        args.push(w);
        i += 1;
    }
    let name = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    let mut rest = &args[..];
    while let Some(first) = rest.first() {
        if !WRAPPER_NAMES.contains(&name(first).as_str()) && !is_assignment(first) {
            break;
        }
        rest = &rest[1..];
        while rest.first().is_some_and(|a| a.starts_with('-')) {
            rest = &rest[1..];
        }
    }
    let Some((program, args)) = rest.split_first() else { return out };
    let operands: Vec<String> = args.iter().filter(|a| !a.starts_with('-')).map(|a| a.to_string()).collect();
    match name(program).as_str() {
        "tee" => out.extend(operands.into_iter().map(|o| (o, true))),
        "cp" | "mv" | "ln" | "install" | "rsync" if operands.len() >= 2 => {
            out.extend(operands.last().map(|o| (o.clone(), false)))
        }
        "touch" | "mkdir" | "rm" | "rmdir" | "truncate" | "shred" | "unlink" => {
            out.extend(operands.into_iter().map(|o| (o, false)))
        }
        "chmod" | "chown" | "chgrp" => out.extend(operands.into_iter().skip(1).map(|o| (o, false))),
        "dd" => out.extend(args.iter().filter_map(|a| a.strip_prefix("of=")).map(|o| (o.to_string(), false))),
        _ => {}
    }
    out
}

/// Why writing `target` (from directory `base`) is risky, if it is.
fn classify_target(target: &str, shell_write: bool, base: &Path, ws: &Path) -> Option<(Risk, String)> {
    if matches!(target, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty")
        || target.starts_with("/dev/fd/")
    {
        return None;
    }
    if target.starts_with('~') || target.starts_with("$HOME") || target.starts_with("${HOME}") {
        return Some((Risk::High, format!("writes outside the workspace: {target}")));
    }
    if target.starts_with('$') {
        return Some((Risk::Medium, format!("writes to a path held in a variable: {target}")));
    }
    let full = lexical(&base.join(target));
    if full.starts_with(ws) {
        return shell_write.then(|| (Risk::Medium, format!("writes a file from the shell: {target}")));
    }
    if full.starts_with("/tmp") || full.starts_with("/var/tmp") {
        return Some((Risk::Medium, format!("writes to a temporary directory: {target}")));
    }
    if full.components().count() <= 2 || SYSTEM_DIRS.iter().any(|d| full.starts_with(d)) {
        return Some((Risk::Critical, format!("writes to a system path: {target}")));
    }
    Some((Risk::High, format!("writes outside the workspace: {target}")))
}

/// What the path rules say about writing `target` (kv1nt's own configuration, CI, hooks…), and
/// whether it lies in kv1nt's own directories (`own`), besides where it is.
fn protected_target(target: &str, base: &Path, ws: &Path, own: &[PathBuf]) -> Vec<(Risk, String)> {
    let home = ["~/", "$HOME/", "${HOME}/"].iter().find_map(|p| target.strip_prefix(p));
    let full = match (home, std::env::var_os("HOME")) {
        (Some(rest), Some(dir)) => lexical(&Path::new(&dir).join(rest)),
        _ => lexical(&base.join(target)),
    };
    let mut found = Vec::new();
    if super::in_dirs(&full, own) {
        found.push(super::own_reason(target));
    }
    if let Ok(rel) = full.strip_prefix(ws) {
        let rel = rel.to_string_lossy().replace('\\', "/");
        for rule in rules().paths.iter().filter(|r| r.globs.is_match(&rel)) {
            found.push((rule.risk, format!("{}: {rel}", rule.reason)));
        }
    }
    found
}

/// `NAME=value`, a variable assignment before a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `path` with `.` and `..` resolved lexically (no filesystem access).
pub(super) fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// A command or match shortened to one line of at most 60 characters.
fn excerpt(text: &str) -> String {
    let text = text.trim_start_matches([';', '&', '|', '(', '`', '$', ' ', '\t', '\n']);
    let text = text.trim_end_matches([';', '&', '|', ')', '`', ' ', '\t', '\n']);
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= 60 {
        flat
    } else {
        format!("{}…", flat.chars().take(59).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pieces: &[&[&str]]) -> Vec<Vec<String>> {
        pieces.iter().map(|p| p.iter().map(|w| w.to_string()).collect()).collect()
    }

    #[test]
    fn lexing_splits_pieces_and_redirects() {
        assert_eq!(
            lex("a 'b c' && d \"e|f\" | g; h"),
            words(&[&["a", "b c"], &["d", "e|f"], &["g"], &["h"]])
        );
        assert_eq!(lex("cargo test 2>&1 >out.txt"), words(&[&["cargo", "test", "2>&", "1", ">", "out.txt"]]));
        assert_eq!(lex("x &> log & y"), words(&[&["x", "&>", "log"], &["y"]]));
        assert_eq!(lex("find . -exec rm {} \\;"), words(&[&["find", ".", "-exec", "rm", "{}", ";"]]));
    }

    #[test]
    fn write_targets_by_program() {
        let t = |c: &str| lex(c).iter().flat_map(|p| write_targets(p)).collect::<Vec<_>>();
        let s = |v: &[(&str, bool)]| v.iter().map(|(a, b)| (a.to_string(), *b)).collect::<Vec<_>>();
        assert_eq!(t("echo x >> a.txt 2>&1"), s(&[("a.txt", true)]));
        assert_eq!(t("sudo -E tee -a /etc/x /etc/y"), s(&[("/etc/x", true), ("/etc/y", true)]));
        assert_eq!(t("cp -r a b dest/"), s(&[("dest/", false)]));
        assert_eq!(t("X=1 rm -rf a b"), s(&[("a", false), ("b", false)]));
        assert_eq!(t("chmod 755 bin/x"), s(&[("bin/x", false)]));
        assert_eq!(t("dd if=a of=/dev/sda"), s(&[("/dev/sda", false)]));
        assert_eq!(t("cat a | grep b"), s(&[]));
    }

    #[test]
    fn writes_into_kv1nt_configuration_are_critical() {
        let (ws, own) =
            (Path::new("/w"), [PathBuf::from("/home/u/.config/kv1nt"), PathBuf::from("/d/kv1nt")]);
        let risk = |t: &str, base: &str| {
            protected_target(t, Path::new(base), ws, &own).into_iter().map(|(r, _)| r).max()
        };
        assert_eq!(risk(".kv1nt/config.toml", "/w"), Some(Risk::Critical));
        assert_eq!(risk("../.kv1nt/x", "/w/sub"), Some(Risk::Critical));
        assert_eq!(risk("/home/u/.config/kv1nt/config.toml", "/w"), Some(Risk::Critical));
        assert_eq!(risk("/d/kv1nt/trusted.toml", "/w"), Some(Risk::Critical));
        assert_eq!(risk("/d/kv1nt/../kv1nt/trusted.toml", "/w"), Some(Risk::Critical));
        assert_eq!(risk(".github/workflows/ci.yml", "/w"), Some(Risk::High));
        assert_eq!(risk("notes.txt", "/w"), None);
        assert_eq!(risk("/d/other", "/w"), None);
    }

    #[test]
    fn lexical_paths() {
        assert_eq!(lexical(Path::new("/w/a/../b/./c")), PathBuf::from("/w/b/c"));
        assert_eq!(lexical(Path::new("/w/../../x")), PathBuf::from("/x"));
    }
}
