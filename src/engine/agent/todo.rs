//! The model's plan for the session: the `todo` tool sets the whole list (`Engine::todo`), which
//! is stored with the session (`store::todos`), announced (`Event::Todo`) when it changes and on
//! resume, and sent in every request's system prompt as its own section ([`section`], placed
//! after the summary and pins by `request.rs`), so compaction never touches it.
//!
//! Invariants: only a list that passed `protocol::todo::validate` (in `tools::parse_call`) is
//! kept; a list that could not be stored is still in force for this run, and the user is told;
//! the section is empty when the list is.

use super::runtime::Engine;
use super::tool_calls::Outcome;
use crate::engine::protocol::{Event, LogLevel, TodoItem, TodoStatus};

impl Engine {
    /// `todo`: put `items` in force, store and announce them; the result tells the model what it
    /// now has.
    pub(super) fn todo_tool(&mut self, items: Vec<TodoItem>) -> Outcome {
        if let (Some(store), Some(session)) = (&self.store, &self.session)
            && let Err(e) = store.set_todos(&session.id, &items)
        {
            self.log(LogLevel::Error, format!("could not save the task list: {e}"));
        }
        self.todo = items;
        self.emit(Event::Todo(self.todo.clone()));
        if self.todo.is_empty() {
            return Outcome::ok("The task list is now empty.");
        }
        let count = |s: TodoStatus| self.todo.iter().filter(|i| i.status == s).count();
        Outcome::ok(format!(
            "Task list saved ({} done, {} in progress, {} pending). It is shown to the user and kept \
             in your instructions.",
            count(TodoStatus::Done),
            count(TodoStatus::InProgress),
            count(TodoStatus::Pending)
        ))
    }

    /// On resume: the session's list in force again, announced after `SessionReady`.
    pub(super) fn resume_todo(&mut self) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        match store.todos(&session.id) {
            Ok(items) if items.is_empty() => {}
            Ok(items) => {
                self.todo = items;
                self.emit(Event::Todo(self.todo.clone()));
            }
            Err(e) => self.log(LogLevel::Error, format!("could not load the session's task list: {e}")),
        }
    }
}

/// The system-prompt section with the list word for word ("" when it is empty).
pub(super) fn section(items: &[TodoItem]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n\n# Your task list\n\nThe plan you keep with the `todo` tool (update it as you go; send the \
         whole list):\n",
    );
    for (i, item) in items.iter().enumerate() {
        out.push_str(&format!("\n{}. [{}] {}", i + 1, item.status.as_str(), item.text));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_lists_every_item_with_its_status() {
        assert_eq!(section(&[]), "");
        let s = section(&[
            TodoItem::new("Read the parser", TodoStatus::Done),
            TodoItem::new("Fix the off-by-one", TodoStatus::InProgress),
        ]);
        assert!(s.contains("# Your task list"));
        assert!(s.contains("1. [done] Read the parser"));
        assert!(s.contains("2. [in_progress] Fix the off-by-one"));
    }
}
