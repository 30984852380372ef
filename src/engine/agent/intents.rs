//! Playground intents (seed §5.1): each picks a prompt template from `assets/prompts/` and the
//! tools offered; follow-up suggestions are offered under each answer.

use crate::engine::protocol::Intent;

/// The template text added to the system prompt for a turn with this intent.
pub fn template(intent: Intent) -> &'static str {
    match intent {
        Intent::Generate => include_str!("../../../assets/prompts/generate.md"),
        Intent::Modify => include_str!("../../../assets/prompts/modify.md"),
        Intent::Explain => include_str!("../../../assets/prompts/explain.md"),
        Intent::Test => include_str!("../../../assets/prompts/test.md"),
        Intent::Docs => include_str!("../../../assets/prompts/docs.md"),
        Intent::Fix => include_str!("../../../assets/prompts/fix.md"),
        Intent::Review => include_str!("../../../assets/prompts/review.md"),
    }
}

/// Whether tools that change files are offered (explaining and reviewing never change anything).
pub fn allows_edits(intent: Option<Intent>) -> bool {
    !matches!(intent, Some(Intent::Explain | Intent::Review))
}

/// Up to four follow-ups for the answer just given: what a user most often asks next.
pub fn follow_ups(intent: Option<Intent>, reply: &str, edits_applied: usize) -> Vec<String> {
    let has_code = reply.contains("```");
    let mut out: Vec<&str> = Vec::new();
    match intent {
        Some(Intent::Explain) => out.extend(["Suggest improvements", "Generate tests", "Add documentation"]),
        Some(Intent::Test) => out.extend(["Add edge-case tests", "Explain the tests"]),
        Some(Intent::Docs) => out.extend(["Add usage examples", "Explain the code"]),
        Some(Intent::Review) => out.extend(["Apply the suggested changes", "Explain the first finding"]),
        Some(Intent::Fix) if edits_applied > 0 => out.extend(["Run the tests", "Explain the fix"]),
        _ if edits_applied > 0 => out.extend(["Generate tests", "Explain the change", "Add error handling"]),
        _ if has_code => out.extend(["Generate tests", "Add error handling", "Apply to a file…"]),
        _ => {}
    }
    if has_code && !out.contains(&"Explain the code") && out.len() < 4 && intent != Some(Intent::Explain) {
        out.push("Explain the code");
    }
    out.into_iter().take(4).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_answers_get_code_follow_ups_and_plain_ones_none() {
        let code = follow_ups(None, "here:\n```rust\nfn a() {}\n```", 0);
        assert_eq!(code[0], "Generate tests");
        assert!(code.contains(&"Apply to a file…".to_string()) && code.len() <= 4);
        assert!(follow_ups(None, "Hello!", 0).is_empty());
        assert!(follow_ups(Some(Intent::Explain), "It parses.", 0).contains(&"Generate tests".to_string()));
        assert!(
            !allows_edits(Some(Intent::Explain)) && allows_edits(Some(Intent::Modify)) && allows_edits(None)
        );
    }
}
