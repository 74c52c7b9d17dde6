//! The template language of message templates (issue 14, docs/templates.md):
//! MiniJinja with a fixed, small set of filters and tests, the variables
//! `contact`, `unsubscribe_url` and `data`, HTML auto-escaping in `body_html`
//! only, and a budget per render. `language` checks a part's source when a
//! template is saved and renders it; `plain_text` derives the text part of an
//! email from its rendered HTML. Used by `api/templates/` and, in the next
//! slices, by the campaign sender.

pub mod language;
pub mod plain_text;

pub use language::{check, render, Part, TemplateError};
pub use plain_text::html_to_text;
