//! `/explain SYMBOL [--detail brief|normal|deep]`: the turn's prompt carries what the code index
//! knows about the symbol (`project::explain::facts`: callers, callees, tests that reach it,
//! source), screened like every graph section. Without an index, or for a name it does not
//! know, the text is explained as typed (with the detail's instruction).
//!
//! Invariant: the graph is asked within `GRAPH_WAIT`, so `/explain` never waits on indexing.

use super::graph_context::GRAPH_WAIT;
use super::runtime::Engine;
use crate::engine::project::explain::{self, ExplainRequest};

impl Engine {
    /// The prompt for `/explain TEXT`; `Err` (no turn) for a bad `--detail`.
    pub(super) async fn explain_prompt(&mut self, text: String) -> Result<String, String> {
        let Some(req) = explain::parse_request(&text)? else { return Ok(text) };
        let plain = |req: &ExplainRequest| {
            let words = format!("{} {}", req.symbol, req.rest);
            format!("Explain {}\n\n{}", words.trim(), req.detail.instruction())
        };
        let Some(graph) = self.graph.clone().filter(|g| g.has_entities()) else { return Ok(plain(&req)) };
        let (root, asked) = (self.workspace.clone(), req.clone());
        let answer = graph.ask(move |db| explain::facts(db, &root, &asked));
        // Bounded, not interruptible: an Op::Shutdown taken here could not be handed on.
        let facts = match tokio::time::timeout(GRAPH_WAIT, answer).await {
            Ok(Some(Ok(Some(facts)))) => facts,
            _ => return Ok(plain(&req)),
        };
        Ok(self.screen("the code index's facts for /explain", facts).0)
    }
}
