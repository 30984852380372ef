//! `/template` (in the TUI and `kv1nt exec`) as the engine runs them: list the catalogue, answer
//! a form's request for one template's parameters, and run one — validate the values, render
//! the skeleton and start an ordinary turn whose prompt asks the model to fill it in and write
//! it with its tools, so the file passes the gate like any other change.
//!
//! Invariant: the catalogue is read from disk on every op (a template edited meanwhile is
//! picked up; a bad file is reported each time, never cached); `Run` answers either
//! `Event::TemplateInvalid` or a turn, never neither.

use super::runtime::{Engine, LoopControl};
use crate::engine::protocol::{Event, FieldError, Intent, TemplateOp};
use crate::engine::templates::{Catalog, prompt, render};

impl Engine {
    fn templates(&self) -> Catalog {
        Catalog::load(self.config.templates_dir.as_deref(), &self.workspace)
    }

    /// At start: the names `/template NAME` completes.
    pub(super) fn announce_templates(&self) {
        let names =
            self.templates().templates.into_iter().map(|t| (t.info.name, t.info.description)).collect();
        self.emit(Event::TemplateNames(names));
    }

    pub(super) async fn template_op(&mut self, op: TemplateOp) -> LoopControl {
        let catalog = self.templates();
        let invalid = |name: &str, message: String| Event::TemplateInvalid {
            name: name.to_string(),
            errors: vec![FieldError { field: String::new(), message }],
        };
        match op {
            TemplateOp::List => self.emit(Event::Templates(catalog.list())),
            TemplateOp::Open { name } => match catalog.get(&name) {
                Some(t) => self.emit(Event::TemplateForm(t.info.clone())),
                None => self.emit(invalid(&name, catalog.unknown(&name))),
            },
            TemplateOp::Run { name, values } => {
                let Some(template) = catalog.get(&name) else {
                    self.emit(invalid(&name, catalog.unknown(&name)));
                    return LoopControl::Continue;
                };
                let values = match template.info.validate(&values) {
                    Ok(values) => values,
                    Err(errors) => {
                        self.emit(Event::TemplateInvalid { name, errors });
                        return LoopControl::Continue;
                    }
                };
                let rendered = match render(template, &values) {
                    Ok(rendered) => rendered,
                    Err(e) => {
                        self.emit(invalid(&name, format!("{}: {e}", template.file)));
                        return LoopControl::Continue;
                    }
                };
                let text = prompt(template, &values, &rendered);
                return self.run_turn_for(text, Some(Intent::Generate), Some(name), Vec::new()).await;
            }
        }
        LoopControl::Continue
    }
}
