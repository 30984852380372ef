//! The Git view's file list (drawn in the Code pane): where HEAD is, any merge or rebase in
//! progress, and each changed file with its two-letter status — staged side in green, unstaged
//! side in red, as `git status -s` shows them — the selected file highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::git_view::GitView;
use crate::text::theme::Theme;

pub fn render_git_files(area: Rect, buf: &mut Buffer, view: &GitView, theme: &Theme) {
    if area.is_empty() {
        return;
    }
    buf.set_style(area, theme.base);
    let Some(snapshot) = &view.snapshot else {
        buf.set_stringn(area.x, area.y, "reading git status…", area.width as usize, theme.dim);
        return;
    };
    if let Some(error) = &snapshot.error {
        buf.set_stringn(area.x, area.y, error, area.width as usize, theme.warning);
        return;
    }
    let mut header = vec![Span::styled(format!("on {}", snapshot.head), theme.accent)];
    if let Some(state) = &snapshot.state {
        header.push(Span::styled(format!(" · {state}"), theme.warning));
    }
    let count = snapshot.files.len();
    header.push(Span::styled(format!(" · {count} changed"), theme.dim));
    buf.set_line(area.x, area.y, &Line::from(header), area.width);
    if count == 0 {
        let text = "nothing to commit, working tree clean";
        buf.set_stringn(area.x, area.y + 1, text, area.width as usize, theme.dim);
        return;
    }
    let rows = area.height.saturating_sub(1) as usize;
    let first = view.selected.saturating_sub(rows.saturating_sub(1));
    for (row, (i, file)) in snapshot.files.iter().enumerate().skip(first).take(rows).enumerate() {
        let code: Vec<char> = file.code().chars().collect();
        let (staged, unstaged) = (code.first().copied().unwrap_or(' '), code.get(1).copied().unwrap_or(' '));
        let conflict = file.conflicted;
        let mut name = file.path.clone();
        if let Some(old) = &file.old_path {
            name = format!("{old} → {name}");
        }
        if file.submodule {
            name.push_str(" (submodule)");
        }
        let selected = i == view.selected;
        let base = if selected { theme.selection } else { theme.base };
        let side = |c: char, style| if c == ' ' { base } else { base.patch(style) };
        let line = Line::from(vec![
            Span::styled(
                staged.to_string(),
                if conflict { side(staged, theme.error) } else { side(staged, theme.diff_add) },
            ),
            Span::styled(
                unstaged.to_string(),
                if conflict { side(unstaged, theme.error) } else { side(unstaged, theme.diff_del) },
            ),
            Span::styled(format!(" {name}"), base),
        ]);
        let y = area.y + 1 + row as u16;
        if selected {
            buf.set_style(Rect { x: area.x, y, width: area.width, height: 1 }, theme.selection);
        }
        buf.set_line(area.x, y, &line, area.width);
    }
}
