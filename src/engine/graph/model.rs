//! The graph's data model: entities (code elements) and relations (typed, weighted edges).
//!
//! Invariants:
//! - Every kind has one lowercase snake_case name ([`EntityKind::as_str`]) which is what the
//!   database stores; [`EntityKind::parse`] is its exact inverse.
//! - Lines are 1-based and inclusive: `start_line <= end_line`.
//! - A relation's `strength` is in `0.0..=1.0`: 1.0 resolved through scope, imports or a module
//!   path; 0.6 a unique name match elsewhere; 0.3 one of several (at most five) name matches.

use serde::Serialize;

/// Entities cross to the UI (Graph panel), so they are defined in the protocol.
pub use crate::engine::protocol::graph::{Entity, EntityKind};

/// What an edge means. `Handles` links an API endpoint to its handler function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Imports,
    Calls,
    Inherits,
    Implements,
    Uses,
    Returns,
    DependsOn,
    Contains,
    Handles,
}

impl RelationKind {
    pub const ALL: [RelationKind; 9] = [
        RelationKind::Imports,
        RelationKind::Calls,
        RelationKind::Inherits,
        RelationKind::Implements,
        RelationKind::Uses,
        RelationKind::Returns,
        RelationKind::DependsOn,
        RelationKind::Contains,
        RelationKind::Handles,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Imports => "imports",
            RelationKind::Calls => "calls",
            RelationKind::Inherits => "inherits",
            RelationKind::Implements => "implements",
            RelationKind::Uses => "uses",
            RelationKind::Returns => "returns",
            RelationKind::DependsOn => "depends_on",
            RelationKind::Contains => "contains",
            RelationKind::Handles => "handles",
        }
    }

    pub fn parse(s: &str) -> Option<RelationKind> {
        RelationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for RelationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored edge between two entities (by id).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Relation {
    pub source: i64,
    pub target: i64,
    pub kind: RelationKind,
    pub strength: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::parse(k.as_str()), Some(k));
        }
        for k in RelationKind::ALL {
            assert_eq!(RelationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntityKind::parse("nope"), None);
    }
}
