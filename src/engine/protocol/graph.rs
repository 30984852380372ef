//! The knowledge graph as the UI sees it: the Graph panel's requests ([`GraphOp`]), code
//! entities and an entity's neighbourhood. The graph itself is `engine::graph`.

use serde::Serialize;

/// What a code element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Module,
    Class,
    Struct,
    Enum,
    Trait,
    Interface,
    Function,
    Method,
    Variable,
    Constant,
    ApiEndpoint,
    DatabaseModel,
    /// A package from a manifest (the repository's own, or one it declares a dependency on).
    Package,
}

impl EntityKind {
    pub const ALL: [EntityKind; 13] = [
        EntityKind::Module,
        EntityKind::Class,
        EntityKind::Struct,
        EntityKind::Enum,
        EntityKind::Trait,
        EntityKind::Interface,
        EntityKind::Function,
        EntityKind::Method,
        EntityKind::Variable,
        EntityKind::Constant,
        EntityKind::ApiEndpoint,
        EntityKind::DatabaseModel,
        EntityKind::Package,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Module => "module",
            EntityKind::Class => "class",
            EntityKind::Struct => "struct",
            EntityKind::Enum => "enum",
            EntityKind::Trait => "trait",
            EntityKind::Interface => "interface",
            EntityKind::Function => "function",
            EntityKind::Method => "method",
            EntityKind::Variable => "variable",
            EntityKind::Constant => "constant",
            EntityKind::ApiEndpoint => "api_endpoint",
            EntityKind::DatabaseModel => "database_model",
            EntityKind::Package => "package",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Kinds that can be called (a class is "called" to construct it).
    pub fn is_callable(self) -> bool {
        matches!(self, EntityKind::Function | EntityKind::Method)
    }

    /// Kinds that name a type (something with members or a base list).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            EntityKind::Class
                | EntityKind::Struct
                | EntityKind::Enum
                | EntityKind::Trait
                | EntityKind::Interface
                | EntityKind::DatabaseModel
        )
    }
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored code element. `file` is relative to the repository root with `/` separators.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entity {
    pub id: i64,
    pub name: String,
    pub qualified_name: String,
    pub kind: EntityKind,
    pub file: String,
    pub start_line: u32,
    pub end_line: u32,
    pub signature: String,
    pub doc: Option<String>,
    pub complexity: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GraphOp {
    /// Answers `Event::GraphResults`.
    Search { seq: u64, query: String },
    /// Answers `Event::GraphDetails`.
    Details { seq: u64, id: i64 },
    /// Answers `Event::OpenFile` with the entity's file, at its first line.
    Open { id: i64 },
}

/// One entity's neighbourhood for the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDetails {
    pub entity: Entity,
    pub callers: Vec<(Entity, f32)>,
    pub callees: Vec<(Entity, f32)>,
}
