//! CRM domain: what an admin keeps about a tracked person beyond what the
//! tracker sends — tags (one row each in `contact_tags`, so counts and filters
//! are indexed), a priority and free properties (`contacts`), and notes
//! (`contact_notes`). All of it is shared SQL (see `crate::db`); every
//! statement filters by project.

mod model;
pub mod timeline;

use crate::db::BeginWrite;
use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub use model::*;

use crate::db::{err, on_db, HasDb};
use crate::{StoreError, StoreResult};

const CONTACT: &str =
    "SELECT priority, properties FROM contacts WHERE project_id = $1 AND site_user_id = $2";
/// Unordered, as is [`TAG_COUNTS`]: text order follows the database's
/// collation (PostgreSQL's is often `en_US`, SQLite's is bytes), so tags are
/// sorted in Rust, the same on both backends.
const TAGS: &str = "SELECT tag FROM contact_tags WHERE project_id = $1 AND site_user_id = $2";
const NOTES_COUNT: &str =
    "SELECT COUNT(*) FROM contact_notes WHERE project_id = $1 AND site_user_id = $2";
/// Creates the contact row on first write; the patch's columns are set after.
const ENSURE_CONTACT: &str = "INSERT INTO contacts (project_id, site_user_id, updated_at)
     VALUES ($1, $2, $3)
     ON CONFLICT (project_id, site_user_id) DO UPDATE SET updated_at = excluded.updated_at";
const SET_PRIORITY: &str =
    "UPDATE contacts SET priority = $3 WHERE project_id = $1 AND site_user_id = $2";
const SET_PROPERTIES: &str =
    "UPDATE contacts SET properties = $3 WHERE project_id = $1 AND site_user_id = $2";
const CLEAR_TAGS: &str = "DELETE FROM contact_tags WHERE project_id = $1 AND site_user_id = $2";
const ADD_TAG: &str = "INSERT INTO contact_tags (project_id, site_user_id, tag) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING";
const TAG_COUNTS: &str =
    "SELECT tag, COUNT(*) AS count FROM contact_tags WHERE project_id = $1 GROUP BY tag";
const ADD_NOTE: &str = "INSERT INTO contact_notes
     (project_id, id, site_user_id, body, author_account_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)";
const NOTE_COLS: &str = "SELECT n.id, n.body, a.email AS author_email, n.created_at
     FROM contact_notes n LEFT JOIN accounts a ON a.id = n.author_account_id";
const DELETE_NOTE: &str =
    "DELETE FROM contact_notes WHERE project_id = $1 AND site_user_id = $2 AND id = $3";
const NOTE_AUTHOR: &str = "SELECT author_account_id FROM contact_notes
     WHERE project_id = $1 AND site_user_id = $2 AND id = $3";

/// Runs `$sql` bound `(project, person, …)` on the open transaction `$tx`.
macro_rules! person_exec {
    ($tx:ident, $sql:expr, $project:expr, $person:expr $(, $value:expr)*) => {
        sqlx::query($sql)
            .bind($project)
            .bind($person)
            $(.bind($value))*
            .execute(&mut *$tx)
            .await
            .map_err(err)?
    };
}

#[async_trait]
pub trait CrmStore: HasDb {
    /// A person's CRM fields (the defaults if none were ever set).
    async fn contact(&self, project_id: &str, site_user_id: &str) -> StoreResult<Contact> {
        let db = self.db();
        let row: Option<(Option<String>, String)> =
            db.optional(CONTACT, (project_id, site_user_id)).await?;
        let (priority, properties) = row.unwrap_or_default();
        let mut tags: Vec<String> = db.scalars(TAGS, (project_id, site_user_id)).await?;
        tags.sort_unstable();
        Ok(Contact {
            tags,
            priority,
            properties: parse_object(&properties),
            notes_count: db.scalar(NOTES_COUNT, (project_id, site_user_id)).await?,
        })
    }

    /// Applies `patch` in one transaction, so two concurrent patches cannot
    /// lose each other's properties. The caller has checked that the person
    /// exists. Merged properties over [`MAX_PROPERTIES_BYTES`] are refused
    /// with [`StoreError::Rejected`] and nothing changes.
    async fn update_contact(
        &self,
        project_id: &str,
        site_user_id: &str,
        patch: &ContactPatch,
        now_ms: i64,
    ) -> StoreResult<Contact> {
        on_db!(self.db(), pool => async {
            let mut tx = pool.begin_write().await.map_err(err)?;
            // First, so PostgreSQL holds the row lock while the properties are merged.
            person_exec!(tx, ENSURE_CONTACT, project_id, site_user_id, now_ms);
            if let Some(priority) = &patch.priority {
                let priority = priority.map(Priority::as_str);
                person_exec!(tx, SET_PRIORITY, project_id, site_user_id, priority);
            }
            if let Some(changes) = &patch.properties {
                let (_, stored): (Option<String>, String) = sqlx::query_as(CONTACT)
                    .bind(project_id)
                    .bind(site_user_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err)?;
                let merged = Value::Object(merge_properties(parse_object(&stored), changes));
                let text = merged.to_string();
                if text.len() > MAX_PROPERTIES_BYTES {
                    return Err(StoreError::Rejected(format!(
                        "properties would be {} bytes, over {MAX_PROPERTIES_BYTES}",
                        text.len()
                    )));
                }
                person_exec!(tx, SET_PROPERTIES, project_id, site_user_id, text);
            }
            if let Some(tags) = &patch.tags {
                person_exec!(tx, CLEAR_TAGS, project_id, site_user_id);
                for tag in tags {
                    person_exec!(tx, ADD_TAG, project_id, site_user_id, tag);
                }
            }
            tx.commit().await.map_err(err)
        }
        .await)?;
        self.contact(project_id, site_user_id).await
    }

    /// Every tag of the project with how many people carry it, most used first.
    async fn tag_counts(&self, project_id: &str) -> StoreResult<Vec<TagCount>> {
        let mut counts: Vec<TagCount> = self.db().all(TAG_COUNTS, (project_id,)).await?;
        counts.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.tag.cmp(&b.tag)));
        Ok(counts)
    }

    async fn add_note(&self, project_id: &str, note: &NewNote) -> StoreResult<Note> {
        let n = note;
        let params = (
            project_id,
            &n.id,
            &n.site_user_id,
            &n.body,
            &n.author_account_id,
            n.created_at,
        );
        self.db().execute(ADD_NOTE, params).await?;
        let sql = format!("{NOTE_COLS} WHERE n.project_id = $1 AND n.id = $2");
        self.db().one(&sql, (project_id, &n.id)).await
    }

    /// A person's notes, newest first.
    async fn notes(&self, project_id: &str, site_user_id: &str) -> StoreResult<Vec<Note>> {
        let sql = format!(
            "{NOTE_COLS} WHERE n.project_id = $1 AND n.site_user_id = $2
             ORDER BY n.created_at DESC, n.id DESC"
        );
        self.db().all(&sql, (project_id, site_user_id)).await
    }

    /// The account that wrote a note: `None` when there is no such note of
    /// this project's person, `Some(None)` when its author was deleted.
    async fn note_author(
        &self,
        project_id: &str,
        site_user_id: &str,
        note_id: &str,
    ) -> StoreResult<Option<Option<String>>> {
        self.db()
            .optional::<(Option<String>,)>(NOTE_AUTHOR, (project_id, site_user_id, note_id))
            .await
            .map(|row| row.map(|(author,)| author))
    }

    /// One page of a person's timeline, newest first (`user_id` finds the
    /// events a backend sent without a session).
    async fn timeline(
        &self,
        project_id: &str,
        site_user_id: &str,
        user_id: Option<&str>,
        cursor: Option<&timeline::TimelineCursor>,
        limit: i64,
    ) -> StoreResult<timeline::TimelinePage> {
        timeline::timeline(self.db(), project_id, site_user_id, user_id, cursor, limit).await
    }

    /// The tags and priority of each listed person (a page of the people
    /// list): two lookups by the primary keys' `(project_id, site_user_id)`
    /// prefix, whatever the page's filters. People without any have none.
    async fn listed_contacts(
        &self,
        project_id: &str,
        site_user_ids: &[String],
    ) -> StoreResult<HashMap<String, ListedContact>> {
        let mut out: HashMap<String, ListedContact> = HashMap::new();
        let ids: Vec<&str> = site_user_ids.iter().map(String::as_str).collect();
        let head = " AND site_user_id";
        let tags: Vec<(String, String)> = self
            .db()
            .all_in(
                "SELECT site_user_id, tag FROM contact_tags WHERE project_id = ",
                project_id,
                head,
                &ids,
                "",
            )
            .await?;
        let priorities: Vec<(String, Option<String>)> = self
            .db()
            .all_in(
                "SELECT site_user_id, priority FROM contacts WHERE project_id = ",
                project_id,
                head,
                &ids,
                "",
            )
            .await?;
        for (id, tag) in tags {
            out.entry(id).or_default().tags.push(tag);
        }
        for (id, priority) in priorities {
            out.entry(id).or_default().priority = priority;
        }
        // By bytes, as on the profile.
        for c in out.values_mut() {
            c.tags.sort_unstable();
        }
        Ok(out)
    }

    /// `NotFound` unless the note is this project's and this person's.
    async fn delete_note(
        &self,
        project_id: &str,
        site_user_id: &str,
        note_id: &str,
    ) -> StoreResult<()> {
        let deleted = self
            .db()
            .execute(DELETE_NOTE, (project_id, site_user_id, note_id))
            .await?;
        crate::db::found(deleted)
    }
}

/// Stored properties are always an object; anything unreadable reads as empty.
fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}
