//! The learning layer (seed §6): what kv1nt learns from the user's verdicts. So far [`stats`]:
//! the success criteria — acceptance, modification, denial and undo rates, first-pass syntax
//! validity and check success, fix rounds, tokens per accepted change — computed from the
//! proposal records (`store::proposals`) and the turns' token counts (`store::usage`).
//!
//! [`examples`] picks few-shot examples for a request from the user's accepted edits.
//! [`conventions`] mines candidate rules for `KV1NT.md` with their evidence from the
//! repository and from the user's corrections (`/learn`, `kv1nt learn`).
//!
//! The `[learning]` settings ([`LearningSettings`]) turn the recording off; `kv1nt forget`
//! deletes what was recorded (`store::proposals::forget`).
//!
//! Invariant: everything here reads the local database only; nothing leaves the machine.

pub mod conventions;
pub mod examples;
pub mod settings;
pub mod stats;

pub use settings::LearningSettings;
pub use stats::{parse_query, parse_since, report};
