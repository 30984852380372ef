//! The data `assets/project_known.toml` holds: standard libraries, import names that differ
//! from their package, tool-only dependencies, platform environment variables. Parsed once;
//! the file ships with kv1nt, so a parse failure is a bug the `known_data_parses` test catches
//! (at run time it degrades to empty lists).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

const DATA: &str = include_str!("../../../assets/project_known.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Known {
    pub rust: Lists,
    pub python: Lists,
    pub js: Lists,
    pub go: Lists,
    pub env: EnvLists,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lists {
    pub std: BTreeSet<String>,
    pub tools: BTreeSet<String>,
    pub tool_prefixes: Vec<String>,
    pub aliases: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EnvLists {
    pub platform: BTreeSet<String>,
    pub platform_prefixes: Vec<String>,
}

impl Lists {
    /// Whether `name` is only ever a tool (never imported).
    pub fn is_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.eq_ignore_ascii_case(name))
            || self.tool_prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

impl EnvLists {
    /// Whether the platform (OS, shell, build tool) sets `name`.
    pub fn is_platform(&self, name: &str) -> bool {
        self.platform.contains(name) || self.platform_prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

/// The parsed data.
pub fn known() -> &'static Known {
    static KNOWN: OnceLock<Known> = OnceLock::new();
    KNOWN.get_or_init(|| toml::from_str(DATA).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_data_parses() {
        let k: super::Known = toml::from_str(super::DATA).unwrap();
        assert!(k.python.std.contains("os") && k.js.std.contains("fs") && k.rust.std.contains("std"));
        assert_eq!(k.python.aliases["PyYAML"], ["yaml"]);
        assert!(k.js.is_tool("@types/node") && k.env.is_platform("CARGO_PKG_VERSION"));
    }
}
