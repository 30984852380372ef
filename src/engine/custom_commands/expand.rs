//! A custom command and its typed arguments → the turn's prompt, as Claude Code does it:
//! `$ARGUMENTS` is everything typed, `$1`…`$9` the words (shell-like quoting, `shlex`), missing
//! ones empty; a body with no placeholder gets `ARGUMENTS: …` appended when something was typed.
//! Then every `@path` (at the start or after whitespace, in the body or the arguments) is
//! looked up by the caller and, when it is a file, its content is appended under the prompt.
//!
//! Invariants: pure apart from the `include` callback; at most [`MAX_INCLUDES`] files and
//! [`MAX_INCLUDED_BYTES`] in all; any refusal is an `Err` with one message, and then no prompt.
//! Claude Code's "!`command`" lines are left as text: nothing runs here (the model may run such
//! a command with its `run` tool, through the gate).

/// Most `@path` files one command includes.
pub const MAX_INCLUDES: usize = 20;
/// Most bytes of included files in one prompt.
pub const MAX_INCLUDED_BYTES: usize = 256 * 1024;

/// `include(path)`: `Ok(Some(text))` to include the file, `Ok(None)` when `path` names no file
/// (the `@word` stays as text: a decorator, a handle), `Err(why)` to refuse the command.
pub fn expand(
    body: &str,
    args: &str,
    include: &mut dyn FnMut(&str) -> Result<Option<String>, String>,
) -> Result<String, String> {
    let args = args.trim();
    let positional = (1..=9).any(|n| body.contains(&format!("${n}")));
    let words = if positional {
        shlex::split(args).ok_or_else(|| {
            format!("the arguments have an unclosed quote (`{args}`); quote words like a shell does")
        })?
    } else {
        Vec::new()
    };
    // One pass over the body, so a `$1` typed in the arguments is not substituted again.
    let mut text = String::with_capacity(body.len() + args.len());
    let mut rest = body;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix("ARGUMENTS") {
            text.push_str(args);
            rest = tail;
        } else if let Some(n) = after.chars().next().and_then(|c| c.to_digit(10)).filter(|n| *n >= 1) {
            text.push_str(words.get(n as usize - 1).map(String::as_str).unwrap_or(""));
            rest = &after[1..];
        } else {
            text.push('$');
            rest = after;
        }
    }
    text.push_str(rest);
    if !body.contains("$ARGUMENTS") && !positional && !args.is_empty() {
        text = format!("{}\n\nARGUMENTS: {args}", text.trim_end());
    }
    let mut included = Vec::new();
    let mut total = 0usize;
    for path in mentions(&text) {
        if included.iter().any(|(p, _)| *p == path) {
            continue;
        }
        let Some(content) = include(&path)? else { continue };
        total += content.len();
        if included.len() >= MAX_INCLUDES || total > MAX_INCLUDED_BYTES {
            return Err(format!(
                "too much included with @: at most {MAX_INCLUDES} files and {} KiB in all",
                MAX_INCLUDED_BYTES / 1024
            ));
        }
        included.push((path, content));
    }
    for (path, content) in included {
        text.push_str(&format!("\n\n<file path=\"{path}\">\n{}\n</file>", content.trim_end()));
    }
    Ok(text)
}

/// The `@path` mentions of `text`, in order: `@` at the start or after whitespace, up to the
/// next whitespace, trailing punctuation dropped.
pub fn mentions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        if c == '@' && previous.is_whitespace() {
            let rest = &text[i + 1..];
            let word = rest.split(char::is_whitespace).next().unwrap_or_default();
            let word = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '`']);
            if !word.is_empty() {
                out.push(word.to_string());
            }
        }
        previous = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str) -> Result<Option<String>, String> {
        Ok(None)
    }

    #[test]
    fn arguments_and_positions_are_substituted() {
        let text =
            expand("Fix #$1 with priority $2 ($ARGUMENTS) $3.", "42 \"very high\"", &mut none).unwrap();
        assert_eq!(text, "Fix #42 with priority very high (42 \"very high\") .");
        assert_eq!(
            expand("Review this.", "the parser", &mut none).unwrap(),
            "Review this.\n\nARGUMENTS: the parser"
        );
        assert_eq!(expand("Review $ARGUMENTS", "", &mut none).unwrap(), "Review ");
        // What was typed is not expanded again; a lone `$` or `$0` stays.
        assert_eq!(expand("$1 | $ARGUMENTS | $0 $", "$2 x", &mut none).unwrap(), "$2 | $2 x | $0 $");
        // An apostrophe is fine when no position is used; a position needs balanced quotes.
        assert_eq!(expand("Say $ARGUMENTS", "don't", &mut none).unwrap(), "Say don't");
        assert!(expand("Say $1", "don't", &mut none).unwrap_err().contains("unclosed quote"));
    }

    #[test]
    fn mentioned_files_are_included_once_and_refusals_stop() {
        let mut asked = Vec::new();
        let mut include = |p: &str| {
            asked.push(p.to_string());
            Ok(if p == "src/a.rs" { Some("fn a() {}\n".to_string()) } else { None })
        };
        let text = expand("Explain @src/a.rs, then @src/a.rs again; mail a@b.c @decorator", "", &mut include)
            .unwrap();
        assert!(
            text.ends_with("again; mail a@b.c @decorator\n\n<file path=\"src/a.rs\">\nfn a() {}\n</file>"),
            "{text}"
        );
        assert_eq!(asked, ["src/a.rs", "decorator"]);
        let refused = expand("Read $ARGUMENTS", "@../secret", &mut |_| Err("outside".into()));
        assert_eq!(refused.unwrap_err(), "outside");
    }
}
