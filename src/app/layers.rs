//! Modal layers: a stack drawn over the panes. The top layer gets every key first and keys never
//! fall through to the composer while a layer is up.

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

#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Confirm(ConfirmDialog),
    Help { scroll: usize },
}
