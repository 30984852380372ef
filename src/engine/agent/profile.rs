//! The small-model profile (`llm.profile`, chosen per request by `Config::small_profile`): a
//! model with a small context window gets the short system prompt
//! (`assets/prompts/system_small.md`, built by `prompt::small_system_prompt`) and only the core
//! tools, so its window is not spent on instructions and schemas; a tiny model given the full
//! prompt tends to recite it instead of acting.
//!
//! Invariants: the core tools are always kept (when the intent and policy offer them); another
//! tool — a graph query, an MCP tool, `commit`, a skill — is kept only when the user's request
//! names it (its name, or for `SERVER__TOOL` the tool's or the server's name, as a whole word).

use crate::engine::llm::ToolSpec;

/// The tools a small model always gets (of those offered: `propose_plan` only in plan mode).
pub const CORE_TOOLS: [&str; 7] =
    ["read_file", "list_dir", "grep", "edit_file", "write_file", "run", "propose_plan"];

/// `tools` cut to what a small model gets for `request` (the user's prompt).
pub fn small_tools(tools: Vec<ToolSpec>, request: &str) -> Vec<ToolSpec> {
    let words: Vec<String> = request
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let named = |name: &str| {
        let name = name.to_lowercase();
        let (server, tool) = name.split_once("__").unwrap_or(("", &name));
        words.iter().any(|w| *w == name || *w == tool || (!server.is_empty() && *w == server))
    };
    tools.into_iter().filter(|t| CORE_TOOLS.contains(&t.name.as_str()) || named(&t.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(names: &[&str]) -> Vec<ToolSpec> {
        names
            .iter()
            .map(|n| ToolSpec {
                name: n.to_string(),
                description: String::new(),
                input_schema: Default::default(),
            })
            .collect()
    }

    fn names(tools: &[ToolSpec]) -> Vec<&str> {
        tools.iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn only_core_tools_unless_the_request_names_another() {
        let all = specs(&[
            "read_file",
            "grep",
            "run",
            "commit",
            "search_code",
            "skill",
            "notes__search",
            "ask_user",
        ]);
        assert_eq!(names(&small_tools(all.clone(), "why does main fail?")), ["read_file", "grep", "run"]);
        let kept = small_tools(all.clone(), "Use search_code, then commit.");
        assert_eq!(names(&kept), ["read_file", "grep", "run", "commit", "search_code"]);
        assert_eq!(
            names(&small_tools(all.clone(), "look in my NOTES")),
            ["read_file", "grep", "run", "notes__search"]
        );
        // Part of a word is not a name.
        assert_eq!(names(&small_tools(all, "recommit the skills")), ["read_file", "grep", "run"]);
    }
}
