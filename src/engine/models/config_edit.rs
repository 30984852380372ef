//! Saving the chosen local model in the user's config file (`$XDG_CONFIG_HOME/kv1nt/config.toml`):
//! `[llm] primary = "local"` and `[local] model = "<absolute path>"`, edited with `toml_edit` so
//! the user's comments, order and layout stay.
//!
//! Invariants: a file that is not valid TOML, or whose `llm`/`local` is not a table, is refused
//! and left as it was; the rest of the file must still load as a configuration after the edit;
//! the file is replaced atomically (a temp file renamed over it), keeping its permissions.

use std::path::Path;

use anyhow::{Context, Result, bail};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::engine::config::parse_layer;

/// Sets the local model at `model` (absolute) as the primary provider in the file at `path`.
pub fn save_local_model(path: &Path, model: &Path) -> Result<()> {
    if !model.is_absolute() {
        bail!("the model path must be absolute: {}", model.display());
    }
    let model = model.to_str().with_context(|| format!("{} is not valid UTF-8", model.display()))?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    };
    let mut doc: DocumentMut =
        text.parse().with_context(|| format!("{} is not valid TOML; fix it first", path.display()))?;
    set(table(&mut doc, "llm", path)?, "primary", "local");
    set(table(&mut doc, "local", path)?, "model", model);
    check_loads(path, &doc)?;
    write(path, &doc.to_string())
}

fn table<'a>(doc: &'a mut DocumentMut, key: &str, path: &Path) -> Result<&'a mut Table> {
    doc.entry(key)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .with_context(|| format!("`{key}` in {} is not a table; edit it by hand", path.display()))
}

/// Sets `key`, keeping the comments around the old value's key and value.
fn set(table: &mut Table, key: &str, text: &str) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = text.into();
            *old.decor_mut() = decor;
        }
        None => {
            table.insert(key, value(text));
        }
    }
}

/// The edited file must load as a configuration, so the edit cannot leave the user with a file
/// kv1nt refuses.
fn check_loads(path: &Path, doc: &DocumentMut) -> Result<()> {
    parse_layer(&path.display().to_string(), &doc.to_string())
        .context("the config file would not load after the edit; nothing was written")?;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
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
    fn keeps_comments_and_replaces_the_primary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv1nt/config.toml");
        save_local_model(&path, Path::new("/m/a.gguf")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[llm]\nprimary = \"local\"") && text.contains("[local]\nmodel = \"/m/a.gguf\""),
            "{text}"
        );
        let original = "# mine\n[llm]\n# which one\nprimary = \"ollama\" # was\ntemperature = 0.5\n";
        std::fs::write(&path, original).unwrap();
        save_local_model(&path, Path::new("/m/b.gguf")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# mine\n[llm]\n# which one\nprimary = \"local\""), "{text}");
        assert!(text.contains("temperature = 0.5") && text.contains("model = \"/m/b.gguf\""), "{text}");
    }

    #[test]
    fn a_broken_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        for bad in ["llm = 3\n", "[llm\n", "[llm]\ntemperature = \"hot\"\n"] {
            std::fs::write(&path, bad).unwrap();
            assert!(save_local_model(&path, Path::new("/m/a.gguf")).is_err(), "{bad}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);
        }
        assert!(save_local_model(&path, Path::new("relative.gguf")).is_err());
    }
}
