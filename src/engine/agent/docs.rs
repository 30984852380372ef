//! `/docs SYMBOL` and `/docs readme`: the turn's prompt carries the code index's facts
//! (`project::docs`), screened like every graph section; the documentation itself comes back as
//! edits through the gate. Without an index, or for a name it does not know, the text is
//! documented as typed.
//!
//! Invariant: the graph is asked within `GRAPH_WAIT`, so `/docs` never waits on indexing.

use super::graph_context::GRAPH_WAIT;
use super::runtime::Engine;
use crate::engine::project::docs::{self, DocsRequest};

impl Engine {
    /// The prompt for `/docs TEXT`.
    pub(super) async fn docs_prompt(&mut self, text: String) -> Result<String, String> {
        let Some(req) = docs::parse_request(&text) else { return Ok(text) };
        let Some(graph) = self.graph.clone().filter(|g| g.has_entities()) else { return Ok(text) };
        let root = self.workspace.clone();
        let answer = graph.ask(move |db| match &req {
            DocsRequest::Readme(rest) => docs::readme_facts(db, &root, rest).map(Some),
            DocsRequest::Symbol { symbol, rest } => docs::symbol_facts(db, &root, symbol, rest),
        });
        // Bounded, not interruptible: an Op::Shutdown taken here could not be handed on.
        let facts = match tokio::time::timeout(GRAPH_WAIT, answer).await {
            Ok(Some(Ok(Some(facts)))) => facts,
            _ => return Ok(text),
        };
        Ok(self.screen("the code index's facts for /docs", facts).0)
    }
}
