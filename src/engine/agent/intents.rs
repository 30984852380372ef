//! Playground intents (seed §5.1): each picks a prompt template from `assets/prompts/` and the
//! tools offered; follow-up suggestions are offered under each answer.

use crate::engine::protocol::{FollowUp, Intent, extract_code_blocks};
use crate::engine::sandbox::Language;

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

/// Up to four follow-ups for the answer just given: what a user most often asks next. An answer
/// whose last code block can run here is offered "Run it" first.
pub fn follow_ups(intent: Option<Intent>, reply: &str, edits_applied: usize) -> Vec<FollowUp> {
    let blocks = extract_code_blocks(reply);
    let has_code = !blocks.is_empty();
    let mut out: Vec<FollowUp> = Vec::new();
    let runnable = blocks.iter().rev().find(|b| b.lang.as_deref().and_then(Language::detect).is_some());
    if let Some(block) = runnable {
        out.push(FollowUp::Run { language: block.lang.clone(), code: block.code.clone() });
    }
    let plain = |texts: &[&str]| texts.iter().map(|t| FollowUp::prompt(t, None)).collect::<Vec<_>>();
    match intent {
        Some(Intent::Explain) => {
            out.extend(plain(&["Suggest improvements", "Generate tests", "Add documentation"]))
        }
        Some(Intent::Test) => out.extend([
            FollowUp::prompt("Add edge-case tests", Some(Intent::Test)),
            FollowUp::prompt("Explain the tests", Some(Intent::Explain)),
        ]),
        Some(Intent::Docs) => out.extend([
            FollowUp::prompt("Add usage examples", Some(Intent::Docs)),
            FollowUp::prompt("Explain the code", Some(Intent::Explain)),
        ]),
        Some(Intent::Review) => {
            out.extend(plain(&["Apply the suggested changes", "Explain the first finding"]))
        }
        Some(Intent::Fix) if edits_applied > 0 => out.extend(plain(&["Run the tests", "Explain the fix"])),
        _ if edits_applied > 0 => {
            out.extend(plain(&["Generate tests", "Explain the change", "Add error handling"]))
        }
        _ if has_code => out.extend(plain(&["Generate tests", "Add error handling", "Apply to a file…"])),
        _ => {}
    }
    let explains = out.iter().any(|f| f.label() == "Explain the code");
    if has_code && !explains && out.len() < 4 && intent != Some(Intent::Explain) {
        out.push(FollowUp::prompt("Explain the code", Some(Intent::Explain)));
    }
    out.truncate(4);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_answers_get_code_follow_ups_and_plain_ones_none() {
        let labels = |f: Vec<FollowUp>| f.iter().map(|f| f.label().to_string()).collect::<Vec<_>>();
        let code = labels(follow_ups(None, "here:\n```text\nfn a() {}\n```", 0));
        assert_eq!(code[0], "Generate tests");
        assert!(code.contains(&"Apply to a file…".to_string()) && code.len() <= 4);
        assert!(follow_ups(None, "Hello!", 0).is_empty());
        assert!(
            labels(follow_ups(Some(Intent::Explain), "It parses.", 0))
                .contains(&"Generate tests".to_string())
        );
        assert!(
            !allows_edits(Some(Intent::Explain)) && allows_edits(Some(Intent::Modify)) && allows_edits(None)
        );
    }
}

#[cfg(test)]
mod follow_up_tests {
    use super::*;

    #[test]
    fn a_runnable_block_is_offered_run_it_first_and_test_follow_ups_keep_their_intent() {
        let reply = "Try:\n```python\nprint(1)\n```\nand\n```text\nnot code\n```";
        let offers = follow_ups(Some(Intent::Test), reply, 0);
        assert_eq!(offers[0], FollowUp::Run { language: Some("python".into()), code: "print(1)\n".into() });
        assert_eq!(offers[1], FollowUp::prompt("Add edge-case tests", Some(Intent::Test)));
        assert!(offers.len() <= 4);
        let prose = follow_ups(Some(Intent::Test), "Added two tests.", 1);
        assert!(prose.iter().all(|f| !matches!(f, FollowUp::Run { .. })), "{prose:?}");
    }
}
