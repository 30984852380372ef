//! The knowledge-graph tools as the model sees them (`search_code`, `find_callers`, `related`,
//! `file_context`) and how their arguments are checked; `engine::agent` (graph_tools) runs them.

use serde_json::{Value, json};

use super::ToolError;
use super::args::Args;
use crate::engine::graph::EntityKind;
use crate::engine::llm::types::ToolSpec;

/// The graph tools' names, in the order of [`graph_specs`].
pub const GRAPH_TOOL_NAMES: [&str; 4] = ["search_code", "find_callers", "related", "file_context"];
/// Most results a search returns.
pub const MAX_SEARCH_RESULTS: usize = 50;

/// A graph query, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphQuery {
    Search { query: String, kind: Option<EntityKind>, limit: usize },
    Callers { name: String },
    Related { name: String, depth: usize },
    FileContext { path: String },
}

pub fn graph_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, input_schema: Value| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        input_schema,
    };
    let kinds: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
    vec![
        spec(
            "search_code",
            "Find code entities (functions, methods, classes, structs, traits, modules, constants, API \
             endpoints, database models) by meaning or name in kv1nt's index of the repository. \
             Returns kind, qualified name, file:lines and signature, best first. Use it to find what to \
             read or edit before grepping.",
            json!({"type": "object", "properties": {
                "query": {"type": "string", "description": "Words describing what you look for, or a name."},
                "kind": {"type": "string", "enum": kinds, "description": "Only entities of this kind."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_RESULTS, "description": "Most results. Default 15."}
            }, "required": ["query"], "additionalProperties": false}),
        ),
        spec(
            "find_callers",
            "Who calls a function or method (by name or qualified name), from the index: each caller \
             with file:line and how sure the link is (1.0 resolved through scope/imports, lower for \
             name-only matches). Use it before changing a signature.",
            json!({"type": "object", "properties": {
                "name": {"type": "string", "description": "e.g. \"parse_config\" or \"store::Store::open\"."}
            }, "required": ["name"], "additionalProperties": false}),
        ),
        spec(
            "related",
            "Entities related to one (calls, callers, imports, inheritance, implementations, types it \
             uses or returns, package dependencies), up to `depth` steps away.",
            json!({"type": "object", "properties": {
                "name": {"type": "string", "description": "Name or qualified name of the entity."},
                "depth": {"type": "integer", "minimum": 1, "maximum": 3, "description": "Steps to follow. Default 1."}
            }, "required": ["name"], "additionalProperties": false}),
        ),
        spec(
            "file_context",
            "A compact summary of one file from the index: what it defines (with signatures), what \
             it imports, and which other files use it.",
            json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "File path relative to the workspace root."}
            }, "required": ["path"], "additionalProperties": false}),
        ),
    ]
}

/// Parses a graph tool call (`name` is one of [`GRAPH_TOOL_NAMES`]).
pub(super) fn parse_graph_call(a: &Args) -> Result<GraphQuery, ToolError> {
    Ok(match a.tool {
        "search_code" => {
            a.only(&[("query", true), ("kind", false), ("limit", false)])?;
            let kind = match a.text("kind", true)? {
                None => None,
                Some(k) => Some(EntityKind::parse(&k).ok_or_else(|| {
                    let known: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
                    a.err(format!("unknown kind `{k}`; kinds are: {}", known.join(", ")))
                })?),
            };
            GraphQuery::Search {
                query: a.text("query", true)?.unwrap_or_default(),
                kind,
                limit: a.uint("limit", 1, MAX_SEARCH_RESULTS)?.unwrap_or(15),
            }
        }
        "find_callers" => {
            a.only(&[("name", true)])?;
            GraphQuery::Callers { name: a.text("name", true)?.unwrap_or_default() }
        }
        "related" => {
            a.only(&[("name", true), ("depth", false)])?;
            GraphQuery::Related {
                name: a.text("name", true)?.unwrap_or_default(),
                depth: a.uint("depth", 1, 3)?.unwrap_or(1),
            }
        }
        _ => {
            a.only(&[("path", true)])?;
            GraphQuery::FileContext { path: a.text("path", true)?.unwrap_or_default() }
        }
    })
}
