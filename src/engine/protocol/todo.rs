//! The model's plan for the session: the `todo` list ([`TodoItem`]s in order), as the `todo`
//! tool sets it, the engine persists it (`store::todos`) and sends it in every request's system
//! prompt (`agent::todo`), and the Chat pane and `kv1nt exec --json` show it. Plain data.
//!
//! Invariants (checked by [`validate`], which every list passes before it is kept): at most
//! [`MAX_TODO_ITEMS`] items, each a non-empty single line of at most [`MAX_TODO_TEXT`]
//! characters, and at most one item `in_progress`.

/// Most items a list may hold.
pub const MAX_TODO_ITEMS: usize = 50;
/// Most characters of one item's text.
pub const MAX_TODO_TEXT: usize = 300;

/// Where one step of the plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TodoStatus {
    Pending,
    InProgress,
    Done,
}

impl TodoStatus {
    /// The name the model, the store and `exec --json` use.
    pub fn as_str(self) -> &'static str {
        match self {
            TodoStatus::Pending => "pending",
            TodoStatus::InProgress => "in_progress",
            TodoStatus::Done => "done",
        }
    }

    /// The status named `s` (as [`TodoStatus::as_str`] writes it).
    pub fn parse(s: &str) -> Option<TodoStatus> {
        match s {
            "pending" => Some(TodoStatus::Pending),
            "in_progress" => Some(TodoStatus::InProgress),
            "done" => Some(TodoStatus::Done),
            _ => None,
        }
    }

    /// The mark the Chat pane and the system prompt show before the item.
    pub fn mark(self) -> &'static str {
        match self {
            TodoStatus::Pending => "☐",
            TodoStatus::InProgress => "▶",
            TodoStatus::Done => "☑",
        }
    }
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoItem {
    pub text: String,
    pub status: TodoStatus,
}

impl TodoItem {
    pub fn new(text: impl Into<String>, status: TodoStatus) -> TodoItem {
        TodoItem { text: text.into(), status }
    }
}

/// Why a list cannot be kept (`None`: it can). Texts are expected trimmed.
pub fn validate(items: &[TodoItem]) -> Option<String> {
    if items.len() > MAX_TODO_ITEMS {
        return Some(format!(
            "the list has {} items; keep it to at most {MAX_TODO_ITEMS} (merge small steps)",
            items.len()
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if item.text.trim().is_empty() {
            return Some(format!("items[{i}].text is empty; say what the step is"));
        }
        if item.text.contains('\n') {
            return Some(format!("items[{i}].text spans several lines; give each step one line"));
        }
        let n = item.text.chars().count();
        if n > MAX_TODO_TEXT {
            return Some(format!("items[{i}].text has {n} characters; keep each step to {MAX_TODO_TEXT}"));
        }
    }
    let doing: Vec<usize> = (0..items.len()).filter(|&i| items[i].status == TodoStatus::InProgress).collect();
    if doing.len() > 1 {
        let list: Vec<String> = doing.iter().map(|i| format!("items[{i}]")).collect();
        return Some(format!(
            "{} are all in_progress; only one step may be in_progress at a time",
            list.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_two_in_progress_and_empty_text() {
        let ok = vec![TodoItem::new("a", TodoStatus::InProgress), TodoItem::new("b", TodoStatus::Pending)];
        assert_eq!(validate(&ok), None);
        let two =
            vec![TodoItem::new("a", TodoStatus::InProgress), TodoItem::new("b", TodoStatus::InProgress)];
        assert!(validate(&two).unwrap().contains("only one step may be in_progress"));
        let empty = vec![TodoItem::new("  ", TodoStatus::Pending)];
        assert!(validate(&empty).unwrap().contains("items[0].text is empty"));
        let long = vec![TodoItem::new("x".repeat(MAX_TODO_TEXT + 1), TodoStatus::Done)];
        assert!(validate(&long).unwrap().contains("characters"));
        let many = vec![TodoItem::new("x", TodoStatus::Pending); MAX_TODO_ITEMS + 1];
        assert!(validate(&many).unwrap().contains("at most 50"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [TodoStatus::Pending, TodoStatus::InProgress, TodoStatus::Done] {
            assert_eq!(TodoStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(TodoStatus::parse("doing"), None);
    }
}
