//! Templates domain: a project's message templates (`message_templates`,
//! migration 0036) for the campaigns of issue 14 — name (unique per project),
//! channel and the template source of each part. The store keeps the source
//! as given; the server validates and renders it (`vibe-server`'s
//! `templates`). Shared SQL only; every statement filters by project.

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::{found, HasDb};
use crate::inbox::sql::{self, Val};
use crate::StoreResult;

const COLS: &str = "id, name, channel, subject, body_html, body_text,
     push_title, push_body, push_url, push_icon, created_by_account_id, created_at, updated_at";
const INSERT: &str = "INSERT INTO message_templates
     (project_id, id, name, channel, subject, body_html, body_text,
      push_title, push_body, push_url, push_icon, created_by_account_id, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
/// Everything but the id, the author and the creation time.
const UPDATE: &str = "UPDATE message_templates SET name = $3, channel = $4, subject = $5,
     body_html = $6, body_text = $7, push_title = $8, push_body = $9, push_url = $10,
     push_icon = $11, updated_at = $12
     WHERE project_id = $1 AND id = $2";
const DELETE: &str = "DELETE FROM message_templates WHERE project_id = $1 AND id = $2";

/// The parts every write binds after `project_id, id`.
fn content(t: &MessageTemplate) -> Vec<Val> {
    vec![
        (&t.name).into(),
        (&t.channel).into(),
        (&t.subject).into(),
        (&t.body_html).into(),
        (&t.body_text).into(),
        (&t.push_title).into(),
        (&t.push_body).into(),
        (&t.push_url).into(),
        (&t.push_icon).into(),
    ]
}

#[async_trait]
pub trait TemplateStore: HasDb {
    /// `Conflict` when the project already has a template of that name.
    async fn create_template(&self, project_id: &str, t: &MessageTemplate) -> StoreResult<()> {
        let mut vals: Vec<Val> = vec![project_id.into(), (&t.id).into()];
        vals.extend(content(t));
        vals.extend([
            (&t.created_by_account_id).into(),
            t.created_at.into(),
            t.updated_at.into(),
        ]);
        sql::execute(self.db(), INSERT, &vals).await.map(drop)
    }

    /// The project's templates by name.
    async fn list_templates(&self, project_id: &str) -> StoreResult<Vec<MessageTemplate>> {
        let q = format!("SELECT {COLS} FROM message_templates WHERE project_id = $1");
        let mut all: Vec<MessageTemplate> = self.db().all(&q, (project_id,)).await?;
        // In Rust: the databases' collations differ (see `crm::TAGS`).
        all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }

    async fn get_template(
        &self,
        project_id: &str,
        id: &str,
    ) -> StoreResult<Option<MessageTemplate>> {
        let q = format!("SELECT {COLS} FROM message_templates WHERE project_id = $1 AND id = $2");
        self.db().optional(&q, (project_id, id)).await
    }

    /// Replaces the template's name, channel and parts. `NotFound` unless it
    /// is this project's; `Conflict` when another template has the new name.
    async fn update_template(&self, project_id: &str, t: &MessageTemplate) -> StoreResult<()> {
        let mut vals: Vec<Val> = vec![project_id.into(), (&t.id).into()];
        vals.extend(content(t));
        vals.push(t.updated_at.into());
        found(sql::execute(self.db(), UPDATE, &vals).await?)
    }

    /// `NotFound` unless the template is this project's.
    async fn delete_template(&self, project_id: &str, id: &str) -> StoreResult<()> {
        found(self.db().execute(DELETE, (project_id, id)).await?)
    }
}
