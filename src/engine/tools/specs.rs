//! What the model is told about the tools ([`tool_specs`]) and how its calls are checked
//! ([`parse_call`]).
//!
//! Invariants:
//! - The schemas and the parser agree: every property in a schema is accepted by the parser, every
//!   `required` property is required, and nothing else is accepted (unknown fields are refused,
//!   like serde's `deny_unknown_fields`, but field by field so each error names the field).
//! - Arguments may come as a JSON object, or as a JSON string holding the object (some models do
//!   that); `null` or an empty string means `{}`. Optional fields given as `null` count as absent.
//!   Integers may be given as integral numbers or numeric strings, booleans as `"true"`/`"false"`.
//! - Every error starts with the tool name and says what is expected, so the model can retry.
//! - Values are checked here (line numbers ≥ 1, ranges ordered, limits in bounds, non-empty
//!   path/pattern/search/question), so the tool functions receive sane arguments.

use serde_json::{Value, json};

use super::args::{Args, object};
use super::graph_specs::{GRAPH_TOOL_NAMES, GraphQuery, parse_graph_call};

use super::plan_specs::{PlanArgs, plan_args, todo_items};
use super::{EditArgs, GrepArgs, ListArgs, MAX_GREP_RESULTS, MAX_LIST_DEPTH, ReadArgs, ToolError, WriteArgs};
use crate::engine::llm::types::ToolSpec;
use crate::engine::protocol::todo::TodoItem;
use crate::engine::sandbox::{Language, MAX_WALL_SECS};

/// Every tool name, in the order of [`tool_specs`].
pub const TOOL_NAMES: [&str; 14] = [
    "read_file",
    "list_dir",
    "grep",
    "edit_file",
    "write_file",
    "run",
    "commit",
    "create_branch",
    "ask_user",
    "skill",
    "dependencies",
    "recall",
    "todo",
    "propose_plan",
];

/// Most messages one `recall` call returns.
pub const MAX_RECALL: usize = 10;

/// A tool call's arguments, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolInput {
    Read(ReadArgs),
    List(ListArgs),
    Grep(GrepArgs),
    Edit(EditArgs),
    Write(WriteArgs),
    Run(RunArgs),
    /// A knowledge-graph query (read-only).
    Graph(GraphQuery),
    /// Commit what is staged, with this message (or one written from the diff).
    Commit {
        message: Option<String>,
    },
    /// Start a feature branch for a multi-step change (after the user approves).
    Branch {
        name: String,
    },
    AskUser {
        question: String,
    },
    /// Load a skill's instructions, or one of its files (read-only; `engine::skills`).
    Skill {
        name: String,
        file: Option<String>,
    },
    /// The dependency report: missing, unused, duplicated, conflicting (read-only;
    /// `engine::project::deps`).
    Dependencies,
    /// Earlier messages of this session (or of every session in this workspace) matching the
    /// words of `query`, exactly as stored (read-only; `store::recall`).
    Recall {
        query: String,
        all_sessions: bool,
        limit: Option<usize>,
    },
    /// The whole plan for the session, replacing the previous one (changes no file;
    /// `agent::todo`). Checked by `protocol::todo::validate`.
    Todo {
        items: Vec<TodoItem>,
    },
    /// Plan mode's end: the plan for the user to approve, edit or reject (changes no file;
    /// `agent::plan`).
    ProposePlan(PlanArgs),
}

/// `run`: a shell command in the project directory, or a snippet in a fresh scratch directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    pub target: RunTarget,
    /// Wall-time limit; `None` means the configured default.
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTarget {
    Command(String),
    Snippet { language: Language, code: String },
}

impl ToolInput {
    /// Whether running it changes the workspace (and so goes through the approval gate).
    pub fn mutates(&self) -> bool {
        matches!(
            self,
            ToolInput::Edit(_)
                | ToolInput::Write(_)
                | ToolInput::Run(_)
                | ToolInput::Commit { .. }
                | ToolInput::Branch { .. }
        )
    }

    /// The tool's name as the model calls it.
    pub fn name(&self) -> &'static str {
        match self {
            ToolInput::Read(_) => "read_file",
            ToolInput::List(_) => "list_dir",
            ToolInput::Grep(_) => "grep",
            ToolInput::Edit(_) => "edit_file",
            ToolInput::Write(_) => "write_file",
            ToolInput::Run(_) => "run",
            ToolInput::Graph(GraphQuery::Search { .. }) => "search_code",
            ToolInput::Graph(GraphQuery::Callers { .. }) => "find_callers",
            ToolInput::Graph(GraphQuery::Related { .. }) => "related",
            ToolInput::Graph(GraphQuery::FileContext { .. }) => "file_context",
            ToolInput::Commit { .. } => "commit",
            ToolInput::Branch { .. } => "create_branch",
            ToolInput::AskUser { .. } => "ask_user",
            ToolInput::Skill { .. } => "skill",
            ToolInput::Dependencies => "dependencies",
            ToolInput::Recall { .. } => "recall",
            ToolInput::Todo { .. } => "todo",
            ToolInput::ProposePlan(_) => "propose_plan",
        }
    }
}

/// The specs sent to the model, one per name in [`TOOL_NAMES`].
pub fn tool_specs() -> Vec<ToolSpec> {
    let spec = |name: &str, description: &str, input_schema: Value| ToolSpec {
        name: name.to_string(),
        description: description.to_string(),
        input_schema,
    };
    let path = |what: &str| json!({"type": "string", "description": what});
    vec![
        spec(
            "read_file",
            "Read a text file of the workspace. Returns its lines numbered like \"   12\\tcode\" (the \
             number and tab are not part of the file). One call returns at most 2000 lines or 256 KiB; \
             when more remain it says which start_line to call next. Files over 10 MiB need a line \
             range. Read a file before editing it: edits are refused if the file changed since.",
            json!({"type": "object", "properties": {
                "path": path("File path relative to the workspace root, e.g. \"src/main.rs\"."),
                "start_line": {"type": "integer", "minimum": 1, "description": "First line to show (1-based). Default 1."},
                "end_line": {"type": "integer", "minimum": 1, "description": "Last line to show (inclusive). Default: to the end."}
            }, "required": ["path"], "additionalProperties": false}),
        ),
        spec(
            "list_dir",
            "List a directory of the workspace as an indented tree (directories end with '/'), \
             honouring .gitignore and skipping hidden files and .git. At most 1000 entries.",
            json!({"type": "object", "properties": {
                "path": path("Directory relative to the workspace root. Default \".\" (the root)."),
                "depth": {"type": "integer", "minimum": 1, "maximum": MAX_LIST_DEPTH, "description": "How many levels to descend. Default 2."}
            }, "additionalProperties": false}),
        ),
        spec(
            "grep",
            "Search file contents with a regular expression (Rust regex syntax; escape ( [ . * + ? \
             { | to match them literally). Returns matching lines as \"path:line: text\" (lines cut to \
             300 characters), honouring .gitignore and skipping binary files. Use it to find where \
             something is defined or used before reading files.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string", "description": "Regular expression, e.g. \"fn parse_\\\\w+\"."},
                "path": path("File or directory to search, relative to the workspace root. Default \".\"."),
                "glob": {"type": "string", "description": "Only search files matching this glob, e.g. \"*.rs\" or \"src/**/*.ts\"."},
                "case_insensitive": {"type": "boolean", "description": "Ignore case. Default false."},
                "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_GREP_RESULTS, "description": "Most matching lines to return. Default 200."}
            }, "required": ["pattern"], "additionalProperties": false}),
        ),
        spec(
            "edit_file",
            "Change an existing text file by search/replace blocks, applied in order. Each search \
             must match the current file text exactly once, character for character (whitespace and \
             indentation included, without read_file's line numbers): copy it from read_file output \
             and include a few surrounding lines so it is unique. replace is the new text for that \
             span (empty to delete it). If any block fails, nothing changes and the error says why. \
             The user may be asked to approve the change.",
            json!({"type": "object", "properties": {
                "path": path("File to edit, relative to the workspace root."),
                "edits": {"type": "array", "minItems": 1, "description": "Blocks applied in order.", "items": {
                    "type": "object", "properties": {
                        "search": {"type": "string", "description": "Exact existing text to replace; must occur exactly once."},
                        "replace": {"type": "string", "description": "Text to put in its place."}
                    }, "required": ["search", "replace"], "additionalProperties": false}}
            }, "required": ["path", "edits"], "additionalProperties": false}),
        ),
        spec(
            "write_file",
            "Create a new file (parent directories are created), or replace the whole content of an \
             existing one (read it first). Prefer edit_file for changes to part of a file. The user \
             may be asked to approve the change.",
            json!({"type": "object", "properties": {
                "path": path("File path relative to the workspace root."),
                "content": {"type": "string", "description": "The complete new content of the file."}
            }, "required": ["path", "content"], "additionalProperties": false}),
        ),
        spec(
            "run",
            "Run a shell command in the workspace directory (e.g. the tests: \"cargo test\", \"pytest -q\"), \
             or a code snippet in a fresh scratch directory, inside kv1nt's sandbox: no network, writes \
             only inside the workspace, 30 s and 512 MB by default. Give either `command`, or \
             `language` and `code`. Returns the exit status, time, and the last 8 KiB of stdout and \
             stderr. The user may be asked to approve it; destructive commands are high risk.",
            json!({"type": "object", "properties": {
                "command": {"type": "string", "description": "A bash command line, run in the workspace root."},
                "language": {"type": "string", "enum": ["python", "node", "bash", "sh", "rust", "go"], "description": "The snippet's language (with `code`)."},
                "code": {"type": "string", "description": "The snippet's full source (with `language`)."},
                "timeout_secs": {"type": "integer", "minimum": 1, "maximum": MAX_WALL_SECS, "description": "Wall-time limit in seconds. Default 30."}
            }, "additionalProperties": false}),
        ),
        spec(
            "commit",
            "Commit what is staged in git (the user stages hunks in kv1nt's Git view, or asked you to \
             commit). The user sees the files, the diffstat, the risk and your message, may edit the \
             message, and approves or denies. Write the message in Conventional Commits form \
             (\"fix(parser): handle empty input\" + a short body saying why), or leave it out to have \
             one written from the diff. Never add trailers.",
            json!({"type": "object", "properties": {
                "message": {"type": "string", "description": "The commit message: subject line, blank line, body."}
            }, "additionalProperties": false}),
        ),
        spec(
            "create_branch",
            "Propose a feature branch before a multi-step change: creates feature/NAME from the base \
             branch and switches to it (refused if local changes would be overwritten). The user \
             approves first.",
            json!({"type": "object", "properties": {
                "name": {"type": "string", "description": "Short kebab-case name, e.g. \"parser-errors\"."}
            }, "required": ["name"], "additionalProperties": false}),
        ),
        spec(
            "ask_user",
            "Ask the user a question and wait for the answer. Use it when the request is ambiguous \
             or a decision is theirs to make; do not use it for things you can find out with the \
             other tools.",
            json!({"type": "object", "properties": {
                "question": {"type": "string", "description": "The question, self-contained."}
            }, "required": ["question"], "additionalProperties": false}),
        ),
        spec(
            "skill",
            "Load a skill listed under \"Skills\" in the instructions: returns its instructions and \
             the names of its files; call again with `file` to read one of them. Load a skill \
             before doing a task it applies to.",
            json!({"type": "object", "properties": {
                "name": {"type": "string", "description": "The skill's name, as listed."},
                "file": {"type": "string", "description": "A file of the skill, relative to its folder, e.g. \"reference.md\"."}
            }, "required": ["name"], "additionalProperties": false}),
        ),
        spec(
            "dependencies",
            "What the project depends on against what its manifests declare (Cargo.toml, \
             pyproject.toml, requirements*.txt, package.json, go.mod and their lockfiles), from the \
             code's imports: missing (imported, not declared — with the files), unused (declared, never \
             imported), duplicated versions in a lockfile, and conflicting requirements between \
             manifests. Read-only.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        spec(
            "recall",
            "Fetch earlier messages of this conversation exactly as they were (the user's words, your \
             replies, tool calls and results) by words they contain, best match first. The start of \
             the conversation is only a summary in your context; use this when you need what it left \
             out: an exact error, a path, a value, what the user said. Read-only.",
            json!({"type": "object", "properties": {
                "query": {"type": "string", "description": "Words the message contains, e.g. \"E0308 parser.rs\"."},
                "all_sessions": {"type": "boolean", "description": "Also search the user's earlier sessions in this repository. Default false."},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RECALL, "description": "Most messages. Default 3."}
            }, "required": ["query"], "additionalProperties": false}),
        ),
        super::plan_specs::todo_spec(),
        super::plan_specs::propose_plan_spec(),
    ]
}

/// Parses and checks a tool call's arguments.
pub fn parse_call(name: &str, arguments: &Value) -> Result<ToolInput, ToolError> {
    if !TOOL_NAMES.contains(&name) && !GRAPH_TOOL_NAMES.contains(&name) {
        let all: Vec<&str> = TOOL_NAMES.iter().chain(&GRAPH_TOOL_NAMES).copied().collect();
        return Err(ToolError::Invalid(format!(
            "unknown tool `{name}`; the available tools are: {}",
            all.join(", ")
        )));
    }
    let a = Args { tool: name, obj: object(name, arguments)? };
    if GRAPH_TOOL_NAMES.contains(&name) {
        return parse_graph_call(&a).map(ToolInput::Graph);
    }
    let input = match name {
        "read_file" => {
            a.only(&[("path", true), ("start_line", false), ("end_line", false)])?;
            let start_line = a.uint("start_line", 1, usize::MAX)?;
            let end_line = a.uint("end_line", 1, usize::MAX)?;
            if let (Some(s), Some(e)) = (start_line, end_line)
                && e < s
            {
                return Err(a.err(format!("end_line ({e}) must not be before start_line ({s})")));
            }
            ToolInput::Read(ReadArgs {
                path: a.text("path", true)?.unwrap_or_default(),
                start_line,
                end_line,
            })
        }
        "list_dir" => {
            a.only(&[("path", false), ("depth", false)])?;
            ToolInput::List(ListArgs {
                path: a.text("path", true)?,
                depth: a.uint("depth", 1, MAX_LIST_DEPTH)?,
            })
        }
        "grep" => {
            a.only(&[
                ("pattern", true),
                ("path", false),
                ("glob", false),
                ("case_insensitive", false),
                ("max_results", false),
            ])?;
            ToolInput::Grep(GrepArgs {
                pattern: a.text("pattern", true)?.unwrap_or_default(),
                path: a.text("path", true)?,
                glob: a.text("glob", false)?,
                case_insensitive: a.boolean("case_insensitive")?.unwrap_or(false),
                max_results: a.uint("max_results", 1, MAX_GREP_RESULTS)?,
            })
        }
        "edit_file" => {
            a.only(&[("path", true), ("edits", true)])?;
            ToolInput::Edit(EditArgs { path: a.text("path", true)?.unwrap_or_default(), edits: a.edits()? })
        }
        "write_file" => {
            a.only(&[("path", true), ("content", true)])?;
            ToolInput::Write(WriteArgs {
                path: a.text("path", true)?.unwrap_or_default(),
                content: a.text("content", false)?.unwrap_or_default(),
            })
        }
        "create_branch" => {
            a.only(&[("name", true)])?;
            ToolInput::Branch { name: a.text("name", true)?.unwrap_or_default() }
        }
        "commit" => {
            a.only(&[("message", false)])?;
            ToolInput::Commit { message: a.text("message", false)? }
        }
        "run" => {
            a.only(&[("command", false), ("language", false), ("code", false), ("timeout_secs", false)])?;
            ToolInput::Run(run_args(&a)?)
        }
        "dependencies" => {
            a.only(&[])?;
            ToolInput::Dependencies
        }
        "recall" => {
            a.only(&[("query", true), ("all_sessions", false), ("limit", false)])?;
            ToolInput::Recall {
                query: a.text("query", true)?.unwrap_or_default(),
                all_sessions: a.boolean("all_sessions")?.unwrap_or(false),
                limit: a.uint("limit", 1, MAX_RECALL)?,
            }
        }
        "todo" => {
            a.only(&[("items", true)])?;
            ToolInput::Todo { items: todo_items(&a)? }
        }
        "propose_plan" => ToolInput::ProposePlan(plan_args(&a)?),
        "skill" => {
            a.only(&[("name", true), ("file", false)])?;
            ToolInput::Skill { name: a.text("name", true)?.unwrap_or_default(), file: a.text("file", true)? }
        }
        _ => {
            a.only(&[("question", true)])?;
            ToolInput::AskUser { question: a.text("question", true)?.unwrap_or_default() }
        }
    };
    Ok(input)
}

fn run_args(a: &Args) -> Result<RunArgs, ToolError> {
    let timeout_secs = a.uint("timeout_secs", 1, MAX_WALL_SECS as usize)?.map(|s| s as u64);
    let target = match (a.text("command", true)?, a.text("language", true)?, a.text("code", true)?) {
        (Some(command), None, None) => RunTarget::Command(command),
        (None, Some(name), Some(code)) => {
            let language = Language::detect(&name).ok_or_else(|| {
                a.err(format!("unknown language `{name}`; use python, node, bash, sh, rust or go"))
            })?;
            RunTarget::Snippet { language, code }
        }
        (Some(_), ..) => {
            return Err(a.err("give either `command`, or `language` and `code`, not both".into()));
        }
        (None, Some(_), None) => return Err(a.err("`language` needs `code` (the snippet to run)".into())),
        (None, None, Some(_)) => {
            return Err(a.err("`code` needs `language` (python, node, bash, sh, rust or go)".into()));
        }
        (None, None, None) => {
            return Err(
                a.err("give `command` (a shell command), or `language` and `code` (a snippet)".into())
            );
        }
    };
    Ok(RunArgs { target, timeout_secs })
}
