//! The model's calls of MCP tools (`SERVER__TOOL`): each passes the gate as a
//! [`GateAction::Mcp`] (risk from the tool's annotations or the user's setting, grants per
//! server and tool), runs with the server's time limit and yields to Esc, and what it returns
//! is cut to size and screened for prompt injection like every other tool result.
//!
//! `/SERVER:PROMPT` ([`Engine::mcp_prompt`]) turns a server's prompt into a turn's text.
//!
//! Invariants: no call reaches a server without a gate verdict (a read-only tool is allowed by
//! the policy, audited like the rest); after the user denied something in this reply, only
//! read-only tools still run; a server's failure is the call's error result, never the turn's.

use std::time::Duration;

use serde_json::Value;

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use super::tool_calls::Outcome;
use crate::engine::approval::GateAction;
use crate::engine::approval::risk::assess;
use crate::engine::llm::ToolCall;
use crate::engine::mcp::server::result_text;
use crate::engine::mcp::{McpTool, prompts};
use crate::engine::protocol::{Event, McpHint, TurnOutcome};

impl Engine {
    pub(super) async fn mcp_tool(
        &mut self,
        call: &ToolCall,
        tool: McpTool,
        after_denial: bool,
    ) -> Result<Outcome, Interrupt> {
        let arguments = match arguments(&call.arguments) {
            Ok(object) => object,
            Err(e) => return Ok(Outcome::error(format!("{}: {e}", call.name))),
        };
        if after_denial && tool.hint != McpHint::ReadOnly {
            return Ok(Outcome::error(
                "Not called: the user denied an earlier change in this reply. Ask before trying again.",
            ));
        }
        let shown = serde_json::to_string_pretty(&arguments).unwrap_or_default();
        let action = GateAction::Mcp {
            server: tool.server.clone(),
            tool: tool.name.clone(),
            arguments: shown,
            hint: tool.hint,
        };
        let assessment = assess(&action, &self.workspace);
        let ask =
            Ask::new(format!("call {} (MCP server {})", tool.full_name(), tool.server), GateWords::CALL);
        match self.pass_gate(&action, assessment, ask).await? {
            Gated::Stop(message) => return Ok(Outcome::error(message)),
            Gated::Picked(_) => return Ok(Outcome::error("Not called: no choice was offered")),
            Gated::Proceed { .. } => {}
        }
        let mcp = self.mcp.clone();
        let result = self.unless_interrupted(mcp.call(&tool.server, &tool.name, arguments)).await?;
        let source = format!("the MCP tool {}", tool.full_name());
        match result {
            Ok(result) => {
                let is_error = result.is_error == Some(true);
                let (content, flags) = self.screen(&source, result_text(&result));
                Ok(Outcome { content, is_error, flags })
            }
            Err(e) => Ok(Outcome::error(e)),
        }
    }
}

impl Engine {
    /// `/SERVER:PROMPT key=value …`: the prompt's messages (arguments checked against its
    /// declaration, servers still starting waited for) become this turn's prompt; a refusal
    /// ends the turn with the reason.
    pub(super) async fn mcp_prompt(&mut self, server: String, prompt: String, args: String) -> LoopControl {
        let arguments = match prompts::parse_arguments(&prompt, &args) {
            Ok(arguments) => arguments,
            Err(why) => {
                self.refuse_turn(format!("/{server}:{prompt}: {why}"));
                return LoopControl::Continue;
            }
        };
        let mcp = self.mcp.clone();
        let fetch = async move {
            mcp.settled(PROMPT_START_WAIT).await;
            mcp.prompt(&server, &prompt, arguments).await
        };
        match self.unless_interrupted(fetch).await {
            Ok(Ok(text)) => self.run_turn_for(text, None, None, Vec::new()).await,
            Ok(Err(why)) => {
                self.refuse_turn(why);
                LoopControl::Continue
            }
            Err(Interrupt::Shutdown) => LoopControl::Shutdown,
            Err(Interrupt::Cancel) => {
                self.emit(Event::TurnEnded(TurnOutcome::Cancelled));
                LoopControl::Continue
            }
        }
    }
}

/// How long a prompt waits for servers that are still starting.
const PROMPT_START_WAIT: Duration = Duration::from_secs(60);

/// The call's arguments as a JSON object: an object, a string holding one (some models send
/// that), or nothing (`null`, `""`) for `{}`.
fn arguments(value: &Value) -> Result<serde_json::Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map.clone()),
        Value::Null => Ok(Default::default()),
        Value::String(s) if s.trim().is_empty() => Ok(Default::default()),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("the arguments must be a JSON object".into()),
        },
        _ => Err("the arguments must be a JSON object".into()),
    }
}
