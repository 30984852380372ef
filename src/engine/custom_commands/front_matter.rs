//! The YAML front matter of a Markdown file (Claude Code's format for commands and skills):
//! an optional block between a first line `---` and the next line `---`, then the body.
//!
//! Invariants: the file may be hostile. The block is at most [`MAX_FRONT_MATTER`] bytes and is
//! parsed by `yaml-rust2` only after its events were checked: an alias (`*name`, the "billion
//! laughs" expansion) or more than [`MAX_EVENTS`] events is refused, so parsing is bounded.
//! Only a mapping of text keys to scalars or lists of scalars is accepted; every problem is one
//! line naming what is wrong, never a panic. Unknown keys are kept (and ignored by callers), so
//! Claude Code files with keys kv1nt does not use still load.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

/// A front matter larger than this is refused.
pub const MAX_FRONT_MATTER: usize = 16 * 1024;
/// A front matter with more YAML events than this is refused.
const MAX_EVENTS: usize = 2_000;

/// One value of the front matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    List(Vec<String>),
}

/// The keys of a front matter, and the body after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub fields: BTreeMap<String, Value>,
    pub body: String,
}

impl Document {
    /// A key's text (a list is joined with ", "); `None` when absent or empty.
    pub fn text(&self, key: &str) -> Option<String> {
        let text = match self.fields.get(key)? {
            Value::Text(t) => t.trim().to_string(),
            Value::List(items) => items.join(", "),
        };
        (!text.is_empty()).then_some(text)
    }

    /// A key as a list: a YAML list, or text split at commas outside parentheses
    /// (`Bash(git add:*), Read` → two items, Claude Code's form).
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        let items = match self.fields.get(key)? {
            Value::List(items) => items.clone(),
            Value::Text(text) => split_commas(text),
        };
        Some(items.into_iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect())
    }
}

/// Split `text` into its front matter and body. A file without front matter is all body.
pub fn parse(text: &str) -> Result<Document, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else {
        return Ok(Document { fields: BTreeMap::new(), body: text.to_string() });
    };
    let mut offset = 0;
    let mut end = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start)) = end else {
        return Err("the front matter opened by `---` on line 1 is never closed by a `---` line".into());
    };
    let yaml = &rest[..yaml_end];
    if yaml.len() > MAX_FRONT_MATTER {
        return Err(format!("the front matter is larger than {} KiB", MAX_FRONT_MATTER / 1024));
    }
    let body = rest[body_start..].to_string();
    // Hand-written front matter is often not strict YAML (`description: Fix: the bug`): read
    // it as plain `key: value` lines, as Claude Code users expect, when it is that.
    let loose = |e: String| lines(yaml).map(|fields| Document { fields, body: body.clone() }).ok_or(e);
    if let Err(e) = screen(yaml)? {
        return loose(e);
    }
    let docs = match YamlLoader::load_from_str(yaml) {
        Ok(docs) => docs,
        Err(e) => return loose(format!("front matter: {e}")),
    };
    let mut fields = BTreeMap::new();
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => {}
        Some(Yaml::Hash(hash)) => {
            for (key, value) in hash {
                let Some(key) = scalar(&key) else {
                    return Err("front matter: every key must be text".into());
                };
                let value = match value {
                    Yaml::Array(items) => Value::List(
                        items
                            .iter()
                            .map(|i| {
                                scalar(i).ok_or_else(|| format!("front matter: `{key}`: a list of text"))
                            })
                            .collect::<Result<_, _>>()?,
                    ),
                    Yaml::Hash(_) => Value::Text(String::new()),
                    other => Value::Text(scalar(&other).unwrap_or_default()),
                };
                fields.insert(key, value);
            }
        }
        Some(_) => return Err("front matter: expected `key: value` lines".into()),
    }
    Ok(Document { fields, body })
}

/// Plain `key: value` lines (the value is the rest of the line, unquoted), `- item` lines
/// under a key with no value; `None` when a line is neither.
fn lines(yaml: &str) -> Option<BTreeMap<String, Value>> {
    let mut fields = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in yaml.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
        if let Some(item) =
            line.trim_start().strip_prefix("- ").filter(|_| line.starts_with(char::is_whitespace))
        {
            let key = last.as_ref()?;
            match fields.entry(key.clone()).or_insert_with(|| Value::List(Vec::new())) {
                Value::List(items) => items.push(unquote(item)),
                Value::Text(_) => return None,
            }
            continue;
        }
        let (key, value) = line.split_once(':')?;
        let key = key.trim();
        if key.is_empty() || line.starts_with(char::is_whitespace) || key.contains(char::is_whitespace) {
            return None;
        }
        let value = value.trim();
        if !value.is_empty() {
            fields.insert(key.to_string(), Value::Text(unquote(value)));
        }
        last = Some(key.to_string());
    }
    Some(fields)
}

fn unquote(text: &str) -> String {
    let text = text.trim();
    for q in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    text.to_string()
}

/// Refuse aliases and oversized event streams before building anything (`Err`); `Ok(Err)`
/// when the text is not valid YAML.
fn screen(yaml: &str) -> Result<Result<(), String>, String> {
    let mut parser = Parser::new_from_str(yaml);
    for _ in 0..MAX_EVENTS {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return Ok(Ok(())),
            Ok((Event::Alias(_), mark)) => {
                return Err(format!(
                    "front matter: line {}: YAML aliases (`*name`) are not accepted",
                    mark.line() + 1
                ));
            }
            Ok(_) => {}
            Err(e) => return Ok(Err(format!("front matter: {e}"))),
        }
    }
    Err("front matter: too complex (use plain `key: value` lines)".into())
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        Yaml::Null => Some(String::new()),
        _ => None,
    }
}

fn split_commas(text: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        items.last_mut().expect("never empty").push(c);
    }
    items
}

/// Text shown on screen or in the prompt from a file that may be hostile: one line, control
/// characters replaced, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .map(|c| {
            if c == '\n' || c == '\t' {
                ' '
            } else if c.is_control() {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_front_matter_parses() {
        let doc = parse(
            "---\nallowed-tools: Bash(git add:*), Bash(git status:*), Read\nargument-hint: [message]\n\
             description: Create a git commit: staged only\nmodel: claude-3-5-haiku-20241022\n---\nBody $ARGUMENTS\n",
        )
        .unwrap();
        assert_eq!(doc.text("description").unwrap(), "Create a git commit: staged only");
        assert_eq!(doc.text("argument-hint").unwrap(), "[message]");
        assert_eq!(doc.list("allowed-tools").unwrap(), ["Bash(git add:*)", "Bash(git status:*)", "Read"]);
        assert_eq!(doc.body, "Body $ARGUMENTS\n");
        let listed = parse("---\nallowed-tools:\n  - Read\n  - Grep\n---\nx").unwrap();
        assert_eq!(listed.list("allowed-tools").unwrap(), ["Read", "Grep"]);
    }

    #[test]
    fn no_front_matter_is_all_body_and_bad_ones_are_explained() {
        assert_eq!(parse("just text\n---\n").unwrap().body, "just text\n---\n");
        assert!(parse("---\ndescription: x\n").unwrap_err().contains("never closed"));
        assert!(parse("---\n- a\n- b\n---\n").unwrap_err().contains("key: value"));
        let laughs = "---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n---\n";
        assert!(parse(laughs).unwrap_err().contains("aliases"), "{:?}", parse(laughs));
        assert!(parse(&format!("---\nd: {}\n---\n", "x".repeat(20_000))).unwrap_err().contains("KiB"));
        assert!(parse("---\nd: [unclosed\n  x\n---\n").unwrap_err().starts_with("front matter: "));
    }
}
