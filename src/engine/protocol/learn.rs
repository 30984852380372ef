//! Conventions kv1nt noticed (`/learn`, `kv1nt learn`): candidate [`Rule`]s mined from the
//! repository and from the user's corrections, each with its [`Evidence`]. Mined by
//! `engine::learning::conventions`; accepting one proposes an edit of `KV1NT.md` through the gate.
//!
//! Invariant: a rule is only offered with the evidence that supports it — `count` of `total`
//! cases agree, and `examples` name where (file:line, commit ids, proposal ids).

use serde::Serialize;

/// What area of practice a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleCategory {
    /// What the user changed before approving: first, it is theirs.
    Corrections,
    Naming,
    Tests,
    Errors,
    Imports,
    Tooling,
    Commits,
}

impl RuleCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleCategory::Corrections => "corrections",
            RuleCategory::Naming => "naming",
            RuleCategory::Tests => "tests",
            RuleCategory::Errors => "errors",
            RuleCategory::Imports => "imports",
            RuleCategory::Tooling => "tooling",
            RuleCategory::Commits => "commits",
        }
    }
}

/// Why a rule is proposed: `count` of `total` cases agree; a few of them as examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub count: usize,
    pub total: usize,
    pub examples: Vec<String>,
}

impl Evidence {
    /// "14/15 (93 %)".
    pub fn share(&self) -> String {
        let pct = (self.count * 100).checked_div(self.total).unwrap_or(0);
        format!("{}/{} ({pct} %)", self.count, self.total)
    }
}

/// A candidate convention: `text` is the line that would be added to `KV1NT.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable across runs on the same repository (`naming-rust-function`, `correction-unwrap`, …).
    pub id: String,
    pub category: RuleCategory,
    /// Imperative, one line: "Name test functions in snake_case, starting `test_`".
    pub text: String,
    pub evidence: Evidence,
}
