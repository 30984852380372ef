//! Modals: a stack of dialogs drawn over the panes. The top one gets every key first and keys never
//! fall through to the composer while a layer is up.

use ratatui_textarea::TextArea;

use crate::engine::protocol::ApprovalRequest;
use crate::engine::protocol::stats::StatsReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmPurpose {
    /// Quit although a reply is still streaming.
    QuitWhileStreaming,
    /// A question from the engine, answered with `Op::Answer { id }`.
    Engine(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub title: String,
    pub body: String,
    pub yes_label: String,
    pub no_label: String,
    /// Which button Enter takes.
    pub yes_selected: bool,
    pub purpose: ConfirmPurpose,
}

impl ConfirmDialog {
    pub fn new(purpose: ConfirmPurpose, title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            yes_label: "Yes (y)".into(),
            no_label: "No (n)".into(),
            yes_selected: false,
            purpose,
        }
    }
}

/// An approval request on screen: choosing (y/a/n/m/e), typing a message for the model after
/// `m`, or editing the proposed content after `e`.
#[derive(Debug)]
pub struct ApprovalDialog {
    pub request: ApprovalRequest,
    pub mode: ApprovalMode,
}

#[derive(Debug)]
pub enum ApprovalMode {
    Choose,
    /// `m`: the message that goes to the model with the denial.
    Message(Box<TextArea<'static>>),
    /// `e`: the proposed new content, editable; Ctrl+S approves it.
    Edit(Box<TextArea<'static>>),
}

#[derive(Debug)]
pub enum Modal {
    Confirm(ConfirmDialog),
    Approval(ApprovalDialog),
    Help {
        scroll: usize,
    },
    /// `/template NAME`: one field per parameter.
    TemplateForm(Box<super::template_form::TemplateForm>),
    /// `/stats`: the acceptance figures (Esc closes).
    Stats(Box<StatsReport>),
    /// `/learn`: the candidate conventions, one selected (`app::learn`).
    Learn(Box<super::learn::LearnView>),
    /// No provider answered at start: what would work (`app::first_run`).
    FirstRun(Box<super::first_run::FirstRunView>),
    /// A summary proposed in place of the oldest messages (`app::compaction`).
    Compaction(Box<super::compaction::CompactionView>),
    /// A plan the model proposed in plan mode (`app::plan`).
    Plan(Box<super::plan::PlanView>),
}
