//! Model providers behind one trait, and the router that retries and falls back.

pub mod types;

pub use types::*;
