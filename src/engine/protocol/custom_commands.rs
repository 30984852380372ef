//! Custom slash commands as they cross the boundary: what the engine announces at start so the
//! composer completes them and `/help` lists them ([`CustomCommandInfo`]), and where each came
//! from ([`ExtensionSource`], shared with skills). Loading and expanding them is the engine's
//! (`engine::custom_commands`); this module only describes them.

/// Whose directory a custom command or skill came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionSource {
    /// The user's own (`<config dir>/kv1nt/…` or `~/.claude/…`).
    User,
    /// The repository's (`.kv1nt/…` or `.claude/…`): used only when the repository is trusted.
    Repository,
}

impl ExtensionSource {
    pub fn name(self) -> &'static str {
        match self {
            ExtensionSource::User => "user",
            ExtensionSource::Repository => "repository",
        }
    }
}

/// One custom command, as completion and `/help` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCommandInfo {
    /// Without the slash; subdirectories give `dir:name`.
    pub name: String,
    /// One line (the front matter's `description`, else the body's first line).
    pub description: String,
    /// The front matter's `argument-hint` ("" when none).
    pub argument_hint: String,
    pub source: ExtensionSource,
    /// A repository command held back because the repository is not trusted: listed, never run.
    pub held: bool,
}
