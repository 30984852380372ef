//! The system prompt: kv1nt's instructions (`assets/prompts/system.md`, or the small-model
//! profile's shorter `system_small.md`) plus the repository's own instructions from `AGENTS.md`
//! and `KV1NT.md`, cut to the context's architecture budget (a quarter of it for the small profile).

use std::path::Path;

use crate::engine::llm::context::{Budgets, truncate_to_budget};

const BASE: &str = include_str!("../../../assets/prompts/system.md");
const SMALL_BASE: &str = include_str!("../../../assets/prompts/system_small.md");
/// Files at the repository root whose contents join the system prompt, in this order.
pub const INSTRUCTION_FILES: [&str; 2] = ["AGENTS.md", "KV1NT.md"];

pub fn system_prompt(workspace: &Path, budgets: &Budgets) -> String {
    build(BASE, workspace, budgets.system, budgets.architecture)
}

/// The small-model profile's system prompt (`agent/profile.rs`).
pub fn small_system_prompt(workspace: &Path, budgets: &Budgets) -> String {
    build(SMALL_BASE, workspace, budgets.system, budgets.architecture / 4)
}

fn build(base: &str, workspace: &Path, system_budget: usize, instructions_budget: usize) -> String {
    let mut prompt =
        truncate_to_budget(&base.replace("{workspace}", &workspace.display().to_string()), system_budget);
    let mut instructions = String::new();
    for name in INSTRUCTION_FILES {
        if let Ok(text) = std::fs::read_to_string(workspace.join(name))
            && !text.trim().is_empty()
        {
            instructions.push_str(&format!("\n## {name}\n\n{}\n", text.trim_end()));
        }
    }
    if !instructions.is_empty() {
        prompt.push_str("\n# Project instructions\n");
        prompt.push_str(&truncate_to_budget(&instructions, instructions_budget));
    }
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_and_kv1nt_files_join_the_prompt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "Use tabs.").unwrap();
        std::fs::write(dir.path().join("KV1NT.md"), "Run make test.").unwrap();
        let prompt = system_prompt(dir.path(), &Budgets::default());
        assert!(prompt.contains("Use tabs.") && prompt.contains("Run make test."));
        assert!(prompt.find("Use tabs.") < prompt.find("Run make test."));
        assert!(prompt.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn the_small_prompt_is_shorter_and_keeps_the_project_instructions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "Use tabs.").unwrap();
        let (full, small) = (
            system_prompt(dir.path(), &Budgets::default()),
            small_system_prompt(dir.path(), &Budgets::default()),
        );
        assert!(small.len() * 2 < full.len(), "{} vs {}", small.len(), full.len());
        assert!(small.contains("Use tabs.") && small.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn huge_instructions_are_cut_to_the_architecture_budget() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "x".repeat(1_000_000)).unwrap();
        let budgets = Budgets { architecture: 100, ..Budgets::default() };
        let prompt = system_prompt(dir.path(), &budgets);
        assert!(prompt.len() < 4_000, "{}", prompt.len());
        assert!(prompt.contains("truncated"));
    }
}
