//! The one integration-test binary (`cargo test --test all`): the shared harness in `support/`
//! and one module per area under `suite/`. One binary links libgit2, SQLite and tree-sitter
//! once and compiles `support/` once, instead of once per test file.
//!
//! Filter by module path, e.g. `cargo test --test all suite::graph::`; the harness's own
//! self-tests are `cargo test --test all harness::`.

mod suite;
// The harness's root is support/root.rs: support/mod.rs is the view benches/stream_cost.rs
// includes, with the dead-code lints off for the bench's partial use.
#[path = "support/root.rs"]
mod support;
