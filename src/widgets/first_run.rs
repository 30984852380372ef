//! The first-run modal drawn over the panes: why no provider answered, then the choices —
//! each local GGUF (name, size, where it was found), the default download (title, size), and
//! the other providers, whose settings are shown under it when it is selected. The state is
//! `app::first_run`.
//!
//! Invariant: the selected choice stays in view; the providers' errors are wrapped (they say
//! why), a choice's long line is cut at the modal's width, never wrapped into the next choice.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Widget};

use super::modals::centered;
use crate::app::first_run::{Choice, FirstRunView, size_label};
use crate::engine::protocol::ModelOrigin;
use crate::text::theme::Theme;

pub fn render_first_run(area: Rect, buf: &mut Buffer, view: &FirstRunView, theme: &Theme) {
    let width = 96.min(area.width);
    let (lines, selected_row) = lines(view, theme, width.saturating_sub(2) as usize);
    let rect = centered(area, width, (lines.len() as u16).saturating_add(2).clamp(8, 30));
    if rect.width < 24 || rect.height < 6 {
        return;
    }
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.modal_border)
        .title(Line::styled(
            " No model provider answered · ↑↓ choose · Enter uses it · Esc closes ",
            theme.modal_title,
        ))
        .style(theme.base);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let height = inner.height as usize;
    let top = (selected_row + 2).saturating_sub(height);
    for (row, line) in lines.into_iter().skip(top).take(height).enumerate() {
        buf.set_line(inner.x, inner.y + row as u16, &line, inner.width);
    }
}

/// `text` in pieces of at most `width` characters.
fn pieces(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(width.max(1)).map(|c| c.iter().collect()).collect()
}

fn origin(origin: ModelOrigin) -> &'static str {
    match origin {
        ModelOrigin::Ollama => "Ollama's store",
        ModelOrigin::Downloaded => "downloaded by kv1nt",
        ModelOrigin::Added => "added",
    }
}

/// The modal's lines and the row of the selected choice.
fn lines<'a>(view: &'a FirstRunView, theme: &Theme, width: usize) -> (Vec<Line<'a>>, usize) {
    let mut out = Vec::new();
    for error in &view.offer.errors {
        for piece in pieces(error, width.saturating_sub(2)) {
            out.push(Line::styled(format!("  {piece}"), theme.dim));
        }
    }
    out.push(Line::raw(""));
    let choices = view.choices();
    let mut selected_row = 0;
    let heading = |out: &mut Vec<Line<'a>>, text: &'a str| {
        out.push(Line::styled(text, theme.accent));
    };
    if view.offer.local.is_empty() {
        heading(&mut out, "No GGUF model found on this machine (kv1nt's models, Ollama's store).");
    } else {
        heading(&mut out, "Use a model already on this machine (runs in kv1nt, no server):");
    }
    for (i, choice) in choices.iter().enumerate() {
        let selected = i == view.selected;
        let marker = if selected { "› " } else { "  " };
        let style = if selected { theme.popup_selected } else { theme.base };
        let text = match choice {
            Choice::Local(m) => format!("{} · {} · {}", m.name, size_label(m.size), origin(m.origin)),
            Choice::Download(d) => {
                out.push(Line::raw(""));
                heading(&mut out, "Or download the default coding model:");
                format!("Download {} · about {}", d.title, size_label(d.size))
            }
            Choice::Elsewhere => {
                out.push(Line::raw(""));
                "Use Claude, Ollama's server or an OpenAI-compatible server instead".to_string()
            }
        };
        if selected {
            selected_row = out.len();
        }
        out.push(Line::from(vec![Span::styled(marker, theme.accent), Span::styled(text, style)]));
        if let (Choice::Local(m), true) = (choice, selected) {
            out.push(Line::styled(format!("    {}", m.path.display()), theme.dim));
        }
        if let (Choice::Elsewhere, true) = (choice, selected) {
            for help in view.offer.help.lines() {
                for piece in pieces(help, width.saturating_sub(4)) {
                    out.push(Line::styled(format!("    {piece}"), theme.dim));
                }
            }
        }
    }
    (out, selected_row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::{DownloadOffer, FirstRunOffer, LocalModel};

    fn render(view: &FirstRunView) -> String {
        let area = Rect::new(0, 0, 100, 30);
        let mut buf = Buffer::empty(area);
        render_first_run(area, &mut buf, view, &Theme::builtin("dark").unwrap());
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn lists_local_models_the_download_and_the_other_providers() {
        let offer = FirstRunOffer {
            errors: vec!["Ollama is not reachable at http://127.0.0.1:1".into()],
            local: vec![LocalModel {
                name: "tiny:1b".into(),
                path: "/o/blobs/sha256-ab".into(),
                size: 253_000_000,
                origin: ModelOrigin::Ollama,
            }],
            download: Some(DownloadOffer {
                title: "Qwen Coder".into(),
                reference: "hf:a/b/c.gguf".into(),
                size: 1_120_000_000,
            }),
            help: "- Claude: set ANTHROPIC_API_KEY".into(),
        };
        let mut view = FirstRunView { offer, selected: 0 };
        let screen = render(&view);
        assert!(screen.contains("Ollama is not reachable"), "{screen}");
        assert!(screen.contains("› tiny:1b · 253 MB · Ollama's store"), "{screen}");
        assert!(screen.contains("/o/blobs/sha256-ab"), "{screen}");
        assert!(screen.contains("Download Qwen Coder · about 1.1 GB"), "{screen}");
        assert!(!screen.contains("ANTHROPIC_API_KEY"), "{screen}");
        view.selected = 2;
        let screen = render(&view);
        assert!(screen.contains("› Use Claude") && screen.contains("ANTHROPIC_API_KEY"), "{screen}");
    }
}
