//! `kv1nt mcp add NAME -- COMMAND ARGS…`, `kv1nt mcp add NAME --url URL [--bearer-env VAR]` and
//! `kv1nt mcp remove NAME`: edit `[mcp.servers.NAME]` in the user's config file with
//! `toml_edit`, so its comments, order and layout stay as the user wrote them.
//!
//! Invariants: an existing server is replaced only with `--force`; the edited text must load as
//! a configuration (`parse_layer`) before it is written, and it is written atomically (a temp
//! file renamed over it), so a mistake never leaves a broken or half-written file. A token is
//! never written: `--bearer-env` stores the variable's name.

use std::path::Path;

use anyhow::{Context, Result, bail};
use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::engine::config::parse_layer;
use crate::engine::mcp::ServerSettings;
use crate::engine::mcp::settings::{check_name, check_server};

/// How to reach the server being added.
pub enum Spec {
    Command(Vec<String>),
    Url { url: String, bearer_env: Option<String> },
}

/// Adds `[mcp.servers.NAME]` to the file at `path` (created when missing); the sentence to print.
pub fn add(path: &Path, name: &str, spec: Spec, force: bool) -> Result<String> {
    check_name(name).map_err(anyhow::Error::msg)?;
    let settings = match &spec {
        Spec::Command(words) => ServerSettings {
            command: words.first().cloned().unwrap_or_default(),
            args: words.iter().skip(1).cloned().collect(),
            ..Default::default()
        },
        Spec::Url { url, bearer_env } => ServerSettings {
            url: Some(url.clone()),
            bearer_token_env: bearer_env.clone(),
            ..Default::default()
        },
    };
    check_server(name, &settings).map_err(anyhow::Error::msg)?;
    let mut doc = read(path)?;
    let servers = servers_table(&mut doc, path)?;
    if servers.contains_key(name) && !force {
        bail!("an MCP server `{name}` is already in {}; --force replaces it", path.display());
    }
    let mut table = Table::new();
    match spec {
        Spec::Command(words) => {
            table.insert("command", value(settings.command));
            table.insert("args", value(words.into_iter().skip(1).collect::<Array>()));
        }
        Spec::Url { url, bearer_env } => {
            table.insert("url", value(url));
            if let Some(var) = bearer_env {
                table.insert("bearer_token_env", value(var));
            }
        }
    }
    servers.insert(name, Item::Table(table));
    write(path, &doc)?;
    Ok(format!("added the MCP server `{name}` to {}; `kv1nt mcp test {name}` starts it", path.display()))
}

/// Removes `[mcp.servers.NAME]` from the file at `path`; the sentence to print.
pub fn remove(path: &Path, name: &str) -> Result<String> {
    let mut doc = read(path)?;
    let servers = servers_table(&mut doc, path)?;
    if servers.remove(name).is_none() {
        let known: Vec<&str> = servers.iter().map(|(k, _)| k).collect();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        bail!("no MCP server `{name}` in {} (there: {known})", path.display());
    }
    write(path, &doc)?;
    Ok(format!("removed the MCP server `{name}` from {}", path.display()))
}

fn read(path: &Path) -> Result<DocumentMut> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    text.parse::<DocumentMut>().with_context(|| format!("{} is not valid TOML; fix it first", path.display()))
}

/// `[mcp.servers]`, made (implicit, so no empty headers appear) when missing.
fn servers_table<'a>(doc: &'a mut DocumentMut, path: &Path) -> Result<&'a mut Table> {
    let not_table = || anyhow::anyhow!("`mcp.servers` in {} is not a table; edit it by hand", path.display());
    let mcp = doc.entry("mcp").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let mcp = mcp.as_table_mut().ok_or_else(not_table)?;
    let servers = mcp.entry("servers").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    servers.as_table_mut().ok_or_else(not_table)
}

/// Checks the edited text loads, then replaces the file atomically.
fn write(path: &Path, doc: &DocumentMut) -> Result<()> {
    let text = doc.to_string();
    parse_layer(&path.display().to_string(), &text)
        .context("the edited config would not load; nothing was written")?;
    let dir = path.parent().context("the config file has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_and_removing_keeps_the_rest_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let original = "# my settings\n[llm]\n# the provider\nprimary = \"openai\" # keep this\n";
        std::fs::write(&path, original).unwrap();
        add(&path, "files", Spec::Command(vec!["npx".into(), "-y".into(), "fs".into()]), false).unwrap();
        let url = Spec::Url { url: "https://x.example/mcp".into(), bearer_env: Some("GH_TOKEN".into()) };
        add(&path, "gh", url, false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(original), "{text}");
        assert!(text.contains("[mcp.servers.files]\ncommand = \"npx\"\nargs = [\"-y\", \"fs\"]"), "{text}");
        assert!(text.contains("bearer_token_env = \"GH_TOKEN\"") && !text.contains("[mcp]\n"), "{text}");
        let again = add(&path, "gh", Spec::Command(vec!["x".into()]), false).unwrap_err().to_string();
        assert!(again.contains("already in") && again.contains("--force"), "{again}");
        add(&path, "gh", Spec::Command(vec!["x".into()]), true).unwrap();
        assert!(!std::fs::read_to_string(&path).unwrap().contains("GH_TOKEN"));
        remove(&path, "files").unwrap();
        remove(&path, "gh").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(original) && !text.contains("files"), "{text}");
        let missing = remove(&path, "gh").unwrap_err().to_string();
        assert!(missing.contains("no MCP server `gh`"), "{missing}");
    }

    #[test]
    fn bad_input_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "mcp = 3\n").unwrap();
        let err = add(&path, "a", Spec::Command(vec!["x".into()]), false).unwrap_err().to_string();
        assert!(err.contains("not a table"), "{err}");
        assert!(add(&path, "a__b", Spec::Command(vec!["x".into()]), false).is_err());
        let ftp = Spec::Url { url: "ftp://x".into(), bearer_env: None };
        assert!(add(&path, "a", ftp, false).unwrap_err().to_string().contains("not an http"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mcp = 3\n");
    }
}
