//! Project knowledge as the front-ends ask for it: `/deps`, `/deps add NAME`, `/config-check`,
//! `/env-example` — typed in the TUI or given to `kv1nt exec` — and the engine's answer.
//!
//! Invariant: [`ProjectOp::parse`] is the one reading of those commands, shared by the slash
//! table and exec, so both accept and refuse the same text.

/// What the user asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectOp {
    /// The dependency report (`/deps`).
    Deps,
    /// Declare a missing dependency: the manifest edit, through the gate (`/deps add NAME`).
    AddDependency { name: String },
    /// The configuration report (`/config-check`).
    ConfigCheck,
    /// Propose `.env.example` with the variables the code reads, through the gate.
    EnvExample,
}

/// The engine's answer: the report or the outcome, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectReply {
    pub text: String,
    /// False when it could not be done (refused, denied, nothing to propose is still `true`).
    pub ok: bool,
}

impl ProjectOp {
    /// `None`: not one of these commands; `Some(Err)`: one of them, with a usage error.
    pub fn parse(prompt: &str) -> Option<Result<ProjectOp, String>> {
        let body = prompt.trim().strip_prefix('/')?;
        let mut words = body.split_whitespace();
        let command = words.next()?;
        let rest: Vec<&str> = words.collect();
        Some(match (command, rest.as_slice()) {
            ("deps", []) => Ok(ProjectOp::Deps),
            ("deps", ["add", name]) => Ok(ProjectOp::AddDependency { name: (*name).to_string() }),
            ("deps", _) => Err("usage: /deps, or /deps add NAME".into()),
            ("config-check", []) => Ok(ProjectOp::ConfigCheck),
            ("config-check", _) => Err("usage: /config-check (no arguments)".into()),
            ("env-example", []) => Ok(ProjectOp::EnvExample),
            ("env-example", _) => Err("usage: /env-example (no arguments)".into()),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_once_for_every_front_end() {
        assert_eq!(ProjectOp::parse("/deps"), Some(Ok(ProjectOp::Deps)));
        assert_eq!(
            ProjectOp::parse(" /deps add regex "),
            Some(Ok(ProjectOp::AddDependency { name: "regex".into() }))
        );
        assert!(matches!(ProjectOp::parse("/deps add"), Some(Err(_))));
        assert!(matches!(ProjectOp::parse("/deps add a b"), Some(Err(_))));
        assert_eq!(ProjectOp::parse("/env-example"), Some(Ok(ProjectOp::EnvExample)));
        assert_eq!(ProjectOp::parse("/config-check"), Some(Ok(ProjectOp::ConfigCheck)));
        assert_eq!(ProjectOp::parse("/fix the deps"), None);
        assert_eq!(ProjectOp::parse("deps"), None);
    }
}
