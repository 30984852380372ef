//! Self-tests of the test harness in `tests/support/` (scripted model servers, pty driver), so
//! harness bugs are not mistaken for kv1nt bugs. Counted apart from kv1nt's own tests with
//! `cargo test --test all harness::` (every test here is `suite::harness::…`).

mod pty;
mod scripted;
