//! Code synthesis helpers: code-block extraction.
pub mod code_blocks;
