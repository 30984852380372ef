//! The approval gate ("Admiral" in the seed): every mutating action is assessed for risk,
//! checked against the policy and the session's grants, and asked about when needed.

pub mod types;

pub use types::*;
