//! The approval gate ("Admiral" in the seed): every mutating action is assessed for risk,
//! checked against the policy and the session's grants, and asked about when needed.

pub mod grants;
pub mod injection;
pub mod policy;
pub mod risk;
pub mod types;

pub use types::*;
