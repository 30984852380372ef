//! Code synthesis helpers: code-block extraction.
