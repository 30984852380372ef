//! Project knowledge grounded in the repository's files and the knowledge graph: what the code
//! depends on against what it declares ([`deps`]), and the configuration it reads against what
//! the environment files and deployment files provide ([`config_check`]).
//!
//! Everything here is read-only and pure over the files it is given: proposals (a manifest
//! edit, a `.env.example`) are contents that the engine passes through the gate
//! (`agent::project`). The repository is untrusted input: files are read within [`walk`]'s
//! bounds, parse failures become `problems` in the report, nothing panics, and no value of an
//! environment file is ever part of any output.

pub mod config_check;
pub mod deps;
pub mod doc_coverage;
pub mod docs;
pub mod env_files;
pub mod env_reads;
pub mod explain;
pub mod known;
pub mod render;
pub mod schema;
pub mod walk;
pub mod yaml;
