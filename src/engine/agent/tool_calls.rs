//! Running the model's tool calls: reads run at once (their output, like `run` output, scanned
//! for prompt injection by [`Engine::screen`]), changes pass the syntax gate (`syntax_gate`) and
//! the approval gate and have their pre-images recorded before they are written.
//!
//! Invariants: nothing is written without a verdict of the gate (policy, grant or the user);
//! every request and decision is audited; a change is recorded as `pending` with its pre-images
//! before the write and `applied` after, so a crash in between can be undone; after the user
//! denies a change, the remaining changes of the same reply are not run.

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::Engine;
use super::syntax_gate::{Screened, remember_syntax};
use super::text_protocol;
use crate::engine::approval::GateAction;
use crate::engine::approval::injection::{quarantine, scanner};
use crate::engine::approval::risk::assess;
use crate::engine::checks::syntax;
use crate::engine::llm::{Message, Role, ToolCall, ToolResult};
use crate::engine::protocol::{Event, LogLevel, Op};
use crate::engine::tools::{self, Proposal, ToolInput};

/// How one call ended, as the model will read it.
pub(super) struct Outcome {
    pub content: String,
    pub is_error: bool,
    pub flags: Vec<String>,
}

impl Outcome {
    pub(super) fn ok(content: impl Into<String>) -> Self {
        Self { content: content.into(), is_error: false, flags: Vec::new() }
    }

    pub(super) fn error(content: impl Into<String>) -> Self {
        Self { content: content.into(), is_error: true, flags: Vec::new() }
    }
}

/// Calls repeated more often than this in one turn are not run again.
const MAX_REPEATS: usize = 2;

impl Engine {
    /// Run the calls of one reply; returns the message carrying their results.
    pub(super) async fn run_tool_calls(&mut self, calls: &[ToolCall]) -> Result<Message, Interrupt> {
        let mut results = Vec::new();
        let mut denied = false;
        for call in calls {
            let summary = call_summary(call);
            self.emit(Event::ToolStarted {
                call_id: call.id.clone(),
                name: call.name.clone(),
                summary: summary.clone(),
            });
            let outcome = match self.pre_tool_hooks(call).await? {
                Some(refused) => refused,
                None => {
                    let outcome = self.run_one(call, denied).await;
                    self.turn.hook_gate = None;
                    let mut outcome = outcome?;
                    if !outcome.is_error {
                        self.post_tool_hooks(call, &mut outcome).await?;
                    }
                    outcome
                }
            };
            denied |= outcome.is_error && outcome.content.starts_with("The user denied");
            let first_line = result_summary(&call.name, &outcome);
            self.emit(Event::ToolFinished {
                call_id: call.id.clone(),
                name: call.name.clone(),
                ok: !outcome.is_error,
                summary: first_line,
                flags: outcome.flags.clone(),
            });
            results.push(ToolResult {
                call_id: call.id.clone(),
                content: outcome.content,
                is_error: outcome.is_error,
            });
        }
        if self.turn.text_tools {
            let names = calls.iter().map(|c| c.name.as_str());
            let text = names
                .zip(&results)
                .map(|(name, r)| text_protocol::format_result(name, &r.content, r.is_error))
                .collect::<Vec<_>>()
                .join("\n");
            return Ok(Message::user(text));
        }
        Ok(Message { tool_results: results, ..Message::text(Role::Tool, "") })
    }

    async fn run_one(&mut self, call: &ToolCall, after_denial: bool) -> Result<Outcome, Interrupt> {
        let key = format!("{}:{}", call.name, call.arguments);
        let seen = self.turn.call_counts.entry(key).or_default();
        *seen += 1;
        if *seen > MAX_REPEATS {
            return Ok(Outcome::error(format!(
                "Not run: you already called {} with these exact arguments {MAX_REPEATS} times in this turn. \
                 Use the earlier result, try something different, or answer the user.",
                call.name
            )));
        }
        if !self.command_allows(&call.name) {
            return Ok(Outcome::error(format!(
                "Not run: this custom command's allowed-tools do not include {}.",
                call.name
            )));
        }
        if let Some(refused) = self.malformed_arguments(call) {
            return Ok(refused);
        }
        if let Some(tool) = self.mcp.tool(&call.name) {
            return self.mcp_tool(call, tool, after_denial).await;
        }
        let input = match tools::parse_call(&call.name, &call.arguments) {
            Ok(input) => input,
            Err(e) => return Ok(Outcome::error(e.to_string())),
        };
        if input.mutates() && after_denial {
            return Ok(Outcome::error(
                "Not run: the user denied an earlier change in this reply. Ask before trying again.",
            ));
        }
        let Some(workspace) = self.tools_workspace.clone() else {
            return Ok(Outcome::error("Tools are unavailable: the workspace directory cannot be opened."));
        };
        match input {
            ToolInput::AskUser { question } => self.ask_user(question).await,
            ToolInput::Skill { name, file } => Ok(self.skill_tool(&name, file.as_deref())),
            ToolInput::Dependencies => {
                let (content, is_error) = self.dependencies_tool().await?;
                if is_error {
                    return Ok(Outcome::error(content));
                }
                Ok(self.screen_for_injection("the dependency report", content))
            }
            ToolInput::Todo { items } => Ok(self.todo_tool(items)),
            ToolInput::ProposePlan(plan) => self.plan_tool(plan).await,
            ToolInput::Recall { query, all_sessions, limit } => {
                let (content, is_error) = self.recall_tool(&query, all_sessions, limit);
                if is_error {
                    return Ok(Outcome::error(content));
                }
                Ok(self.screen_for_injection("recalled messages", content))
            }
            ToolInput::Graph(query) => {
                let source = call_summary(call);
                let (content, is_error) = self.graph_tool(query).await?;
                if is_error {
                    return Ok(Outcome::error(content));
                }
                Ok(self.screen_for_injection(&source, content))
            }
            ToolInput::Branch { name } => {
                let (content, is_error) = self.branch_tool(name).await?;
                Ok(Outcome { content, is_error, flags: Vec::new() })
            }
            ToolInput::Commit { message } => {
                let (content, is_error) = self.commit_tool(message).await?;
                Ok(Outcome { content, is_error, flags: Vec::new() })
            }
            ToolInput::Run(args) => {
                let source = call_summary(call);
                let (content, is_error) = self.run_tool(args).await?;
                let (content, flags) = self.screen(&source, content);
                Ok(Outcome { content, is_error, flags })
            }
            ToolInput::Edit(args) => {
                let proposal = tools::propose_edit(
                    &workspace,
                    &self.ledger.lock().unwrap_or_else(|e| e.into_inner()),
                    &args,
                );
                self.gate(proposal).await
            }
            ToolInput::Write(args) => {
                let proposal = tools::propose_write(
                    &workspace,
                    &self.ledger.lock().unwrap_or_else(|e| e.into_inner()),
                    &args,
                );
                self.gate(proposal).await
            }
            read_only => {
                let ledger = self.ledger.clone();
                let source = call_summary(call);
                let read = match &read_only {
                    ToolInput::Read(args) => Some((workspace.clone(), args.path.clone())),
                    _ => None,
                };
                let run = tokio::task::spawn_blocking(move || {
                    let mut ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
                    match read_only {
                        ToolInput::Read(args) => tools::read_file(&workspace, &mut ledger, &args),
                        ToolInput::List(args) => tools::list_dir(&workspace, &args),
                        ToolInput::Grep(args) => tools::grep(&workspace, &args),
                        _ => unreachable!("mutating tools are handled above"),
                    }
                });
                let output = match self.unless_interrupted(run).await? {
                    Ok(Ok(text)) => text,
                    Ok(Err(e)) => return Ok(Outcome::error(e.to_string())),
                    Err(e) => return Ok(Outcome::error(format!("the tool failed: {e}"))),
                };
                if let Some((workspace, path)) = read {
                    remember_syntax(workspace, path);
                }
                Ok(self.screen_for_injection(&source, output))
            }
        }
    }

    fn screen_for_injection(&mut self, source: &str, output: String) -> Outcome {
        let (content, flags) = self.screen(source, output);
        Outcome { content, is_error: false, flags }
    }

    /// The one screen for everything the model reads (tool results, `run` output, the graph's
    /// prompt sections): flagged text goes to the model wrapped as untrusted data, is logged,
    /// and raises the risk of every change proposed later in this turn. Returns the text to
    /// give the model and the findings (empty when clean) for the chat's flag.
    pub(super) fn screen(&mut self, source: &str, text: String) -> (String, Vec<String>) {
        let findings = scanner().scan(&text);
        if findings.is_empty() {
            return (text, Vec::new());
        }
        self.turn.flagged = true;
        let flags: Vec<String> =
            findings.iter().map(|f| format!("{} (line {})", f.description, f.line)).collect();
        self.log(LogLevel::Warn, format!("possible prompt injection in {source}: {}", flags.join("; ")));
        (quarantine(source, &text, &findings), flags)
    }

    async fn ask_user(&mut self, question: String) -> Result<Outcome, Interrupt> {
        let id = self.next_request_id();
        self.emit(Event::Question { id, text: question });
        let answer = self
            .wait_for(|op| match op {
                Op::Reply { id: answered, text } if *answered == id => Some(text.clone()),
                _ => None,
            })
            .await?;
        Ok(Outcome::ok(format!("The user answered: {answer}")))
    }

    /// Assess, pass the gate, then apply with its pre-image recorded.
    async fn gate(&mut self, proposal: Result<Proposal, tools::ToolError>) -> Result<Outcome, Interrupt> {
        let mut proposal = match proposal {
            Ok(p) => p,
            Err(e) => return Ok(Outcome::error(e.to_string())),
        };
        let (syntax, retries) = match self.screen_syntax(vec![syntax::check_change(&proposal.change)]) {
            Screened::SentBack(message) => return Ok(Outcome::error(message)),
            Screened::Ask { syntax, retries } => (syntax, retries),
        };
        let action = GateAction::Edit { changes: vec![proposal.change.clone()] };
        let assessment = assess(&action, &self.workspace);
        let mut ask = Ask::new(proposal.summary.clone(), GateWords::CHANGE);
        ask.editable = proposal.change.after.is_some();
        ask.syntax = syntax.clone();
        let gated = self.pass_gate(&action, assessment, ask).await;
        self.record_syntax(&syntax, retries);
        match gated? {
            Gated::Stop(message) => Ok(Outcome::error(message)),
            Gated::Picked(_) => Ok(Outcome::error("Not applied: no choice was offered")),
            Gated::Proceed { edited } => {
                let user_edited = edited.is_some();
                if let Some(content) = edited {
                    proposal.change.after = Some(content);
                }
                self.capture_checks_baseline().await?;
                let mut outcome = self.apply(&proposal);
                if !outcome.is_error {
                    if !user_edited {
                        outcome.content.push_str(&self.applied_broken(&syntax));
                    }
                    outcome.content.push_str(&self.checks_after_change().await?);
                }
                Ok(outcome)
            }
        }
    }

    /// Record the pre-image, write atomically, mark the change applied. Fails closed: without
    /// session storage, or when the pre-image cannot be stored, nothing is written.
    pub(super) fn apply(&mut self, proposal: &Proposal) -> Outcome {
        let Some(workspace) = self.tools_workspace.clone() else {
            return Outcome::error("the workspace directory cannot be opened");
        };
        let (Some(store), Some(session)) = (&self.store, &self.session) else {
            let text = "Not applied: session storage is unavailable, so the change could not be \
                        recorded for undo. Nothing was written.";
            self.emit(Event::Notice { level: LogLevel::Error, text: text.into() });
            return Outcome::error(text);
        };
        let change = std::slice::from_ref(&proposal.change);
        let change_id = match store.begin_change(&session.id, &proposal.summary, change) {
            Ok(id) => {
                self.link_proposal(id);
                id
            }
            Err(e) => {
                let text = format!(
                    "Not applied: the session database refused the pre-image ({e}). Nothing was written."
                );
                self.emit(Event::Notice { level: LogLevel::Error, text: text.clone() });
                return Outcome::error(text);
            }
        };
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let result = tools::apply(&workspace, &mut ledger, &proposal.change, proposal.before_hash.as_deref());
        drop(ledger);
        let state = if result.is_ok() { "applied" } else { "undone" };
        if let Some(store) = &self.store
            && let Err(e) = store.mark_change(change_id, state)
        {
            let text = format!(
                "Change #{change_id} could not be marked {state} ({e}); it stays pending and is \
                 reconciled from the disk when the session is reopened."
            );
            self.emit(Event::Notice { level: LogLevel::Error, text });
        }
        match result {
            Ok(()) => {
                if let Some(graph) = &self.graph {
                    graph.reindex(self.workspace.join(&proposal.change.path));
                }
                self.turn.edits_applied += 1;
                self.note_write();
                self.log(LogLevel::Info, format!("applied: {}", proposal.summary));
                Outcome::ok(format!("Applied: {}", proposal.summary))
            }
            Err(e) => Outcome::error(format!("Not applied: {e}")),
        }
    }
}

/// One line for the chat: errors and changes say what happened, reads how much came back.
fn result_summary(tool: &str, outcome: &Outcome) -> String {
    let lines = outcome.content.lines().count();
    let text = match tool {
        "read_file" | "list_dir" | "grep" if !outcome.is_error => format!("{lines} lines of output"),
        _ => outcome.content.lines().next().unwrap_or_default().to_string(),
    };
    text.chars().take(160).collect()
}

/// "read_file src/main.rs", "grep fn main", … — what a call is about, in one short line.
pub(super) fn call_summary(call: &ToolCall) -> String {
    let args = &call.arguments;
    let detail = ["path", "pattern", "question"].iter().find_map(|k| args.get(k).and_then(|v| v.as_str()));
    match detail {
        Some(d) => format!("{} {}", call.name, d.chars().take(80).collect::<String>()),
        None => call.name.clone(),
    }
}
