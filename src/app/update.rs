//! Applying engine events to the UI state.

use std::time::Instant;

use crate::engine::protocol::{Event, LogLevel, Older, OutputStream, TurnOutcome};

use super::approvals;
use super::blocks;
use super::chat::{ChatEntry, EntryKind, EntryStatus};
use super::git_view;
use super::graph_panel;
use super::modals::{ConfirmDialog, ConfirmPurpose, Modal};
use super::output::LineSource;
use super::state::{AppState, Pane};

pub fn apply(state: &mut AppState, event: Event) {
    state.dirty = true;
    match event {
        Event::SessionReady { session_id, resumed, history, older, forked } => {
            state.status.session_id = session_id.clone();
            if forked.is_some() {
                // The engine switched to a fork: its history replaces the conversation shown.
                state.chat = Default::default();
                state.suggestions.clear();
                state.status.context_used = 0;
                // A new session: its tokens and cost start from nothing, as a resumed one's do.
                (state.status.total, state.status.total_cost) = (Default::default(), Some(0.0));
            }
            let count = history.len();
            let (entries, prompts) = super::paging::entries_of(history, older.messages, older.prompts);
            state.chat.paging.end =
                Older { messages: older.messages + count, prompts: older.prompts + prompts };
            for entry in &entries {
                if entry.kind == EntryKind::User {
                    state.composer.history.push(entry.text.clone());
                }
            }
            state.chat.entries.extend(entries);
            state.chat.paging.older = older;
            if let Some(forked) = forked {
                show_fork(state, session_id.unwrap_or_default(), forked);
            } else if resumed {
                let id = session_id.unwrap_or_default();
                let n = state.chat.entries.len();
                let text = match older.messages {
                    0 => format!("Resumed session {id} ({n} messages)."),
                    more => format!(
                        "Resumed session {id} ({n} messages; {more} older ones stored — scroll up to load them)."
                    ),
                };
                notice(state, LogLevel::Info, text);
                blocks::refresh_from(state, 0);
            }
        }
        Event::OlderMessages { history, older, prompts } => {
            super::paging::on_older(state, history, older, prompts)
        }
        Event::SessionSearch { query, found } => super::paging_search::on_search(state, query, found),
        Event::SessionCreated { session_id } => {
            state.push_log(LogLevel::Info, format!("session {session_id} created"));
            state.status.session_id = Some(session_id);
        }
        Event::ModelChanged { provider, model, context_window } => {
            state.status.provider = provider;
            state.status.model = model;
            state.status.context_window = context_window;
        }
        Event::TurnStarted { provider, model } => {
            close_streaming_entry(state);
            state.status.provider = provider;
            state.status.model = model.clone();
            state.status.flash = None;
            state.push_log(LogLevel::Info, format!("reply streaming from {provider} ({model})"));
            state.chat.entries.push(ChatEntry::new(
                EntryKind::Assistant,
                String::new(),
                EntryStatus::Streaming,
            ));
        }
        Event::ThinkingDelta(text) => state.chat.thinking_delta(&text),
        Event::TextDelta(text) => {
            if !text.is_empty() {
                state.chat.close_thinking();
            }
            if let Some(entry) = state.chat.streaming_entry() {
                entry.text.push_str(&text);
                state.blocks_stale = true;
            }
        }
        Event::PromptRecorded { number, images } => state.chat.number_prompt(number, images),
        Event::ToolCall(call) => {
            state.push_log(LogLevel::Info, format!("tool call {}({})", call.name, call.arguments));
        }
        Event::ToolStarted { call_id, summary, .. } => {
            close_streaming_entry(state);
            state.chat.entries.push(ChatEntry::new(
                EntryKind::Tool { call_id },
                format!("⚙ {summary}"),
                EntryStatus::Complete,
            ));
        }
        Event::ToolFinished { call_id, name, ok, summary, flags } => {
            if ok && matches!(name.as_str(), "edit_file" | "write_file") {
                state.diff.caption = state.diff.caption.replacen("proposed:", "applied:", 1);
            }
            let mark = if ok { "✓" } else { "✗" };
            let mut line = format!("\n  {mark} {summary}");
            for flag in &flags {
                line.push_str(&format!("\n  ⚠ flagged as possible prompt injection: {flag} — passed to the model as untrusted data"));
            }
            if let Some(entry) = state
                .chat
                .entries
                .iter_mut()
                .rev()
                .find(|e| e.kind == EntryKind::Tool { call_id: call_id.clone() })
            {
                entry.text.push_str(&line);
            }
            if !flags.is_empty() {
                state.status.flash = Some(("possible prompt injection flagged".into(), LogLevel::Warn));
            }
        }
        Event::ApprovalRequest(request) => {
            super::notify::waiting(state, &request.summary);
            approvals::enqueue(state, request)
        }
        Event::Question { id, text } => {
            super::notify::waiting(state, "a question from kv1nt");
            notice(state, LogLevel::Warn, format!("kv1nt asks: {text}\n(Type your answer and press Enter.)"));
            state.question = Some(id);
            state.focus = super::state::Focus::Composer;
        }
        Event::PolicyChanged(policy) => state.status.policy = policy,
        Event::Changes(changes) if changes.is_empty() => {
            notice(state, LogLevel::Info, "No changes in this session yet.")
        }
        Event::Changes(changes) => {
            let mut text =
                String::from("Changes in this session (restore with /rewind N, or /undo for the last):");
            for c in changes {
                let time: String = c.time.replace('T', " ").chars().take(19).collect();
                text.push_str(&format!("\n#{}  {time}  {}  [{}]", c.id, c.description, c.state));
            }
            notice(state, LogLevel::Info, text);
        }
        Event::Suggestions(list) => state.suggestions = list,
        Event::RunStarted { title, .. } => {
            state.push_log(LogLevel::Info, format!("▶ run: {title}"));
            state.output.start_run();
            state.status.run = Some((title, Instant::now()));
            state.tab = Pane::Output; // narrow layouts show one pane: show the run
        }
        Event::RunOutput { stream, text, .. } => {
            let source = match stream {
                OutputStream::Stdout => LineSource::Stdout,
                OutputStream::Stderr => LineSource::Stderr,
            };
            state.output.push_run_output(source, &text);
        }
        Event::RunFinished { ok, summary, tests, .. } => {
            state.status.run = None;
            state.output.finish_run_output();
            state.push_log(if ok { LogLevel::Info } else { LogLevel::Warn }, format!("■ {summary}"));
            if let Some(tests) = tests {
                let level = if tests.failed == 0 { LogLevel::Info } else { LogLevel::Warn };
                state.push_log(level, format!("■ tests ({}): {}", tests.runner, tests.summary_line()));
            }
        }
        Event::Usage { turn, cost_usd } => {
            state.status.turn = turn;
            state.status.turn_cost = cost_usd;
        }
        Event::GitStatus(snapshot) => git_view::on_status(state, snapshot),
        Event::GitFileDiff(answer) => git_view::on_file_diff(state, answer),
        Event::GraphResults { seq, hits, lexical_only } => {
            graph_panel::on_results(state, seq, hits, lexical_only)
        }
        Event::GraphDetails { seq, details } => graph_panel::on_details(state, seq, *details),
        Event::OpenFile { path, line, text } => graph_panel::open_file(state, &path, line, &text),
        Event::GitWholeDiff { seq, staged, unstaged } => {
            git_view::on_whole_diff(state, seq, &staged, &unstaged)
        }
        Event::Checks(report) => super::problems::on_report(state, report),
        Event::GitChanged => {
            if std::mem::take(&mut state.git.flow_running) {
                state.status.busy_since = None;
            }
            if state.git.open {
                git_view::refresh(state);
            }
        }
        Event::TurnEnded(outcome) => end_turn(state, outcome),
        Event::Context { used_tokens, window, trimmed } => {
            state.status.context_used = used_tokens;
            state.status.context_window = window;
            state.chat.trimmed = trimmed;
        }
        Event::Retrying { provider, attempt, max_retries, delay, .. } => {
            let text = format!("{provider}: retry {attempt}/{max_retries} in {:.1} s", delay.as_secs_f64());
            state.status.flash = Some((text, LogLevel::Warn));
        }
        Event::FallingBack { from, to, reason } => {
            notice(
                state,
                LogLevel::Warn,
                format!("{from} could not answer ({reason}). Falling back to {to}."),
            );
            state.status.flash = Some((format!("fell back to {to}"), LogLevel::Warn));
        }
        Event::ConfirmRequest { id, title, body, default_yes } => {
            super::notify::waiting(state, &title);
            let mut dialog = ConfirmDialog::new(ConfirmPurpose::Engine(id), title, body);
            dialog.yes_selected = default_yes;
            state.modals.push(Modal::Confirm(dialog));
        }
        Event::Notice { level, text } => notice(state, level, text),
        Event::Log { level, text } => state.push_log(level, text),
        Event::Models { provider, models } => match models {
            Ok(models) if models.is_empty() => {
                notice(state, LogLevel::Warn, format!("{provider} lists no models."))
            }
            Ok(models) => {
                state.push_log(LogLevel::Info, format!("{provider} models:\n{}", models.join("\n")));
                notice(state, LogLevel::Info, format!("{provider} offers: {}", models.join(", ")));
            }
            Err(e) => notice(state, LogLevel::Error, format!("cannot list models: {e}")),
        },
        Event::Templates(list) => super::template_form::on_list(state, list),
        Event::TemplateNames(names) => state.composer.template_names = names,
        Event::CustomCommands(commands) => state.composer.custom_commands = commands,
        Event::CommandRefused { name, reason } => {
            // Only a command's submit (`commands::custom::run`, never while busy) sends Op::Command.
            state.status.busy_since = None;
            notice(state, LogLevel::Warn, format!("/{name} not run: {reason}"));
        }
        Event::TemplateForm(info) => super::template_form::open(state, info),
        Event::TemplateInvalid { name, errors } => super::template_form::on_invalid(state, &name, errors),
        Event::Stats(report) => state.modals.push(Modal::Stats(report)),
        Event::CompactionProposed(proposal) => {
            super::notify::waiting(state, "a summary of the conversation to review");
            super::compaction::open(state, proposal)
        }
        Event::PlanProposed(proposal) => {
            super::notify::waiting(state, "a plan to approve");
            super::plan::open(state, proposal)
        }
        Event::WorkspaceFiles(files) => state.composer.set_workspace_files(files),
        Event::Compacted(compacted) => super::compaction::compacted(state, compacted),
        Event::Todo(items) => state.chat.todo = items,
        Event::Conventions(rules) => super::learn::open(state, rules),
        Event::Project(reply) => {
            let level = if reply.ok { LogLevel::Info } else { LogLevel::Warn };
            notice(state, level, reply.text);
        }
        Event::FirstRun(offer) => super::first_run::open(state, *offer),
        Event::LocalModels(models) => super::first_run::on_local_models(state, models),
        Event::LocalModelChosen { name, path, saved_to } => {
            super::first_run::on_chosen(state, name, path, saved_to)
        }
        Event::PullProgress { reference, progress } => {
            super::first_run::on_progress(state, &reference, progress)
        }
        Event::ModelPulled { reference, result } => super::first_run::on_pulled(state, reference, result),
        Event::McpStatus(servers) if servers.is_empty() => notice(
            state,
            LogLevel::Info,
            "No MCP servers are configured: add [mcp.servers.NAME] to your config (see README, MCP servers).",
        ),
        Event::Mcp(activity) => {
            state.status.mcp = Some((activity.up, activity.total));
            state.status.mcp_servers.insert(activity.server.clone());
            if activity.what.starts_with("failed") || activity.what.starts_with("restarting") {
                state.push_log(LogLevel::Warn, format!("MCP server {}: {}", activity.server, activity.what));
            }
        }
        Event::McpStatus(servers) => {
            state.status.mcp_servers.extend(servers.iter().map(|s| s.name.clone()));
            let lines: Vec<String> = servers.iter().flat_map(|s| s.lines()).collect();
            state.push_log(LogLevel::Info, format!("MCP servers:\n{}", lines.join("\n")));
            notice(state, LogLevel::Info, format!("MCP servers:\n{}", lines.join("\n")));
        }
        Event::Hook(report) => state.push_log(LogLevel::Info, report.line()),
        Event::Stopped => state.should_quit = true,
    }
}

/// A reply that was streaming is done (another step or a tool call follows).
fn close_streaming_entry(state: &mut AppState) {
    state.chat.close_thinking();
    if let Some(index) = state.chat.entries.iter().rposition(|e| e.status == EntryStatus::Streaming) {
        if state.chat.entries[index].text.trim().is_empty() {
            state.chat.entries.remove(index);
        } else {
            state.chat.entries[index].status = EntryStatus::Complete;
            state.chat.entries[index].cache = Default::default();
            blocks::refresh_from(state, index);
        }
    }
}

fn end_turn(state: &mut AppState, outcome: TurnOutcome) {
    let elapsed = state.status.busy_since.take().map(|t| Instant::now().duration_since(t));
    super::notify::turn_ended(state, elapsed, outcome_name(&outcome));
    let turn = std::mem::take(&mut state.status.turn);
    state.status.total.add(turn);
    let turn_cost = state.status.turn_cost.replace(0.0);
    state.status.total_cost = state.status.total_cost.zip(turn_cost).map(|(total, turn)| total + turn);
    state.chat.close_thinking();
    let streaming = state.chat.entries.iter().rposition(|e| e.status == EntryStatus::Streaming);
    let status = match &outcome {
        TurnOutcome::Complete { .. } => EntryStatus::Complete,
        TurnOutcome::Cancelled => EntryStatus::Incomplete("cancelled".into()),
        TurnOutcome::Incomplete { reason } | TurnOutcome::Failed { reason } => {
            EntryStatus::Incomplete(reason.clone())
        }
    };
    if let Some(index) = streaming {
        if state.chat.entries[index].text.is_empty() {
            state.chat.entries.remove(index);
        } else {
            state.chat.entries[index].status = status;
            state.chat.entries[index].cache = Default::default();
            blocks::refresh_from(state, index);
        }
    }
    state.question = None;
    state.approvals.clear();
    state.modals.retain(|l| !matches!(l, Modal::Approval(_)));
    if matches!(outcome, TurnOutcome::Cancelled) {
        state.status.flash = Some(("cancelled".into(), LogLevel::Warn));
    }
    let secs = elapsed.map(|d| d.as_secs_f64()).unwrap_or_default();
    state.push_log(
        LogLevel::Info,
        format!(
            "turn ended ({}) after {secs:.1} s, {} in / {} out tokens",
            outcome_name(&outcome),
            turn.input_tokens,
            turn.output_tokens
        ),
    );
}

fn outcome_name(outcome: &TurnOutcome) -> &'static str {
    match outcome {
        TurnOutcome::Complete { .. } => "complete",
        TurnOutcome::Incomplete { .. } => "incomplete",
        TurnOutcome::Cancelled => "cancelled",
        TurnOutcome::Failed { .. } => "failed",
    }
}

/// The conversation shown is now the fork's: say where it came from, and put the prompt it was
/// forked before in the composer to be edited and sent again.
fn show_fork(state: &mut AppState, session_id: String, forked: crate::engine::protocol::Forked) {
    let from = match forked.before_prompt {
        Some(n) => format!("with what came before prompt #{n}"),
        None => "with the whole conversation".to_string(),
    };
    let mut text = format!("Forked session {session_id} from {} {from}.", forked.parent_id);
    if let Some(prompt) = forked.prompt {
        text.push_str(" The prompt is in the composer: edit it and press Enter.");
        state.composer.set_text(&prompt);
        state.focus = super::state::Focus::Composer;
    }
    text.push_str(&format!(" The original stays as it was (kv1nt --resume {}).", forked.parent_id));
    notice(state, LogLevel::Info, text);
    blocks::refresh_from(state, 0);
}

/// A notice in Chat. A view scrolled up stays where it is (`widgets::chat_scroll`; the caption
/// says there is new output below).
pub fn notice(state: &mut AppState, level: LogLevel, text: impl Into<String>) {
    state.chat.entries.push(ChatEntry::new(EntryKind::Notice(level), text.into(), EntryStatus::Complete));
    state.dirty = true;
}
