//! What a turn is for: the playground intents (seed §5.1) that pick a prompt template and the
//! tools offered, and the follow-ups offered under an answer. Plain data, like all of `protocol`.

/// A playground intent (seed §5.1): picks the prompt template and the tools offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Generate,
    Modify,
    Explain,
    Test,
    Docs,
    /// Fix the last failed run, or pasted error text: the cause first, then the change.
    Fix,
    /// Review the staged diff or the branch: findings only (read-only tools).
    Review,
}

impl Intent {
    pub const ALL: [Intent; 7] = [
        Intent::Generate,
        Intent::Modify,
        Intent::Explain,
        Intent::Test,
        Intent::Docs,
        Intent::Fix,
        Intent::Review,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Intent::Generate => "generate",
            Intent::Modify => "modify",
            Intent::Explain => "explain",
            Intent::Test => "test",
            Intent::Docs => "docs",
            Intent::Fix => "fix",
            Intent::Review => "review",
        }
    }

    pub fn parse(name: &str) -> Option<Intent> {
        Self::ALL.into_iter().find(|i| i.name() == name)
    }
}

/// A follow-up offered under an answer (Alt+1..4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowUp {
    /// Sent as the next prompt, with the intent it keeps (`/test`'s follow-ups stay tests).
    /// A text ending in "…" is put in the composer to be completed instead.
    Prompt { text: String, intent: Option<Intent> },
    /// "Run it": the answer's last runnable code block, run as `/run` runs it.
    Run { language: Option<String>, code: String },
}

impl FollowUp {
    pub fn prompt(text: &str, intent: Option<Intent>) -> FollowUp {
        FollowUp::Prompt { text: text.to_string(), intent }
    }

    /// What the offer says.
    pub fn label(&self) -> &str {
        match self {
            FollowUp::Prompt { text, .. } => text,
            FollowUp::Run { .. } => "Run it",
        }
    }
}
