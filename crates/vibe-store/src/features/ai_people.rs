//! The AI report's people page (`by_user`): who used the most tokens in a
//! range of local days. Summing every person's `ai_usage_days` rows of the
//! range costs as much as there are people in it, so a range with many people
//! (more than [`PeoplePolicy::live_limit`]) is served from a snapshot of its
//! top [`SNAPSHOT_PEOPLE`] (`ai_people_snapshots`, migration 0022), computed on
//! the first read and then kept fresh by the scheduler ([`refresh`]) while it
//! is being read. What a snapshot shows is at most [`PeoplePolicy::max_age_ms`]
//! old (usage since, and people merged since, show after the next refresh);
//! smaller ranges, and pages past the snapshot, are always computed live.

use std::collections::HashMap;

use super::ai_usage::SUMS;
use super::model::{AiByUser, AiTotals};
use crate::db::Db;
use crate::StoreResult;

/// People kept per snapshot: the first ten pages of 50.
pub const SNAPSHOT_PEOPLE: i64 = 500;
/// A snapshot not read for this long is no longer refreshed, then dropped.
const KEEP_UNREAD_MS: i64 = 24 * 3_600_000;
/// `read_at` is written at most this often (reads stay reads).
const READ_MARK_EVERY_MS: i64 = 60_000;

/// How the people page of a range may be served.
#[derive(Clone, Copy, Debug)]
pub struct PeoplePolicy {
    pub now_ms: i64,
    /// A snapshot younger than this is served as it is.
    pub max_age_ms: i64,
    /// Ranges with at most this many people are computed live.
    pub live_limit: i64,
}

/// One page of people and when its figures were computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeoplePage {
    pub rows: Vec<AiByUser>,
    pub as_of_ms: i64,
}

/// A snapshot row: person, calls, prompt, completion, cost.
type Ranked = (String, i64, i64, i64, i64);

/// The people of a range, most tokens first (ties by id).
fn ranked_sql() -> String {
    format!(
        "SELECT site_user_id, {SUMS} FROM ai_usage_days
         WHERE project_id = $1 AND day >= $2 AND day <= $3 GROUP BY site_user_id
         ORDER BY CAST(SUM(prompt_tokens) + SUM(completion_tokens) AS BIGINT) DESC, site_user_id
         LIMIT $4 OFFSET $5"
    )
}
const SNAPSHOT: &str = "SELECT computed_at, read_at, people FROM ai_people_snapshots
     WHERE project_id = $1 AND from_day = $2 AND to_day = $3";
const SAVE: &str =
    "INSERT INTO ai_people_snapshots (project_id, from_day, to_day, computed_at, read_at, people)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id, from_day, to_day) DO UPDATE SET
       computed_at = excluded.computed_at, read_at = excluded.read_at, people = excluded.people";
const MARK_READ: &str = "UPDATE ai_people_snapshots SET read_at = $4
     WHERE project_id = $1 AND from_day = $2 AND to_day = $3";
const DUE: &str = "SELECT project_id, from_day, to_day, read_at FROM ai_people_snapshots
     WHERE read_at >= $1 AND computed_at < $2 ORDER BY computed_at";
const UNREAD: &str = "SELECT MIN(read_at) FROM ai_people_snapshots WHERE read_at < $1";
const DROP_UNREAD: &str = "DELETE FROM ai_people_snapshots WHERE read_at < $1";
pub(crate) const DROP_PROJECT: &str = "DELETE FROM ai_people_snapshots WHERE project_id = $1";

/// One page of the people of `from_day..=to_day`; `people` is how many used
/// AI in the range (the `uniques` sketches).
#[allow(clippy::too_many_arguments)]
pub async fn page(
    db: &Db,
    project_id: &str,
    from_day: &str,
    to_day: &str,
    people: i64,
    limit: i64,
    offset: i64,
    policy: PeoplePolicy,
) -> StoreResult<PeoplePage> {
    let now = policy.now_ms;
    if people <= policy.live_limit || offset.saturating_add(limit) > SNAPSHOT_PEOPLE {
        let ranked = ranked(db, project_id, from_day, to_day, limit, offset).await?;
        return Ok(PeoplePage {
            rows: with_identities(db, project_id, &ranked).await?,
            as_of_ms: now,
        });
    }
    let range = (project_id, from_day, to_day);
    let saved: Option<(i64, i64, String)> = db.optional(SNAPSHOT, range).await?;
    if let Some((computed_at, read_at, json)) = saved {
        let all: Option<Vec<Ranked>> = serde_json::from_str(&json).ok();
        if let Some(all) = all.filter(|_| now - computed_at < policy.max_age_ms) {
            if now - read_at >= READ_MARK_EVERY_MS {
                db.execute(MARK_READ, (project_id, from_day, to_day, now))
                    .await?;
            }
            return Ok(PeoplePage {
                rows: with_identities(db, project_id, slice(&all, limit, offset)).await?,
                as_of_ms: computed_at,
            });
        }
    }
    let all = compute(db, project_id, from_day, to_day, now, now).await?;
    Ok(PeoplePage {
        rows: with_identities(db, project_id, slice(&all, limit, offset)).await?,
        as_of_ms: now,
    })
}

/// Recomputes the snapshots read within the last day that are older than
/// half the allowed age, and drops the ones nobody reads; returns how many
/// were recomputed. Run by the scheduler.
pub async fn refresh(db: &Db, policy: PeoplePolicy) -> StoreResult<usize> {
    let now = policy.now_ms;
    // A DELETE takes SQLite's write lock even when it matches nothing: ask
    // first, so the maintenance tick does not contend with the writer.
    let unread: Option<i64> = db.scalar(UNREAD, (now - KEEP_UNREAD_MS,)).await?;
    if unread.is_some() {
        db.execute(DROP_UNREAD, (now - KEEP_UNREAD_MS,)).await?;
    }
    let due: Vec<(String, String, String, i64)> = db
        .all(DUE, (now - KEEP_UNREAD_MS, now - policy.max_age_ms / 2))
        .await?;
    for (project_id, from_day, to_day, read_at) in &due {
        compute(db, project_id, from_day, to_day, now, *read_at).await?;
    }
    Ok(due.len())
}

async fn compute(
    db: &Db,
    project_id: &str,
    from_day: &str,
    to_day: &str,
    now: i64,
    read_at: i64,
) -> StoreResult<Vec<Ranked>> {
    let all = ranked(db, project_id, from_day, to_day, SNAPSHOT_PEOPLE, 0).await?;
    let json = serde_json::to_string(&all).unwrap_or_else(|_| "[]".into());
    db.execute(SAVE, (project_id, from_day, to_day, now, read_at, json))
        .await?;
    Ok(all)
}

async fn ranked(
    db: &Db,
    project_id: &str,
    from_day: &str,
    to_day: &str,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<Ranked>> {
    db.all(&ranked_sql(), (project_id, from_day, to_day, limit, offset))
        .await
}

fn slice(all: &[Ranked], limit: i64, offset: i64) -> &[Ranked] {
    let start = (offset.max(0) as usize).min(all.len());
    let end = start.saturating_add(limit.max(0) as usize).min(all.len());
    &all[start..end]
}

/// The page with each person's ids, email and name (none for a person
/// without a row: one merged away since a snapshot, or known only by a user id).
async fn with_identities(
    db: &Db,
    project_id: &str,
    ranked: &[Ranked],
) -> StoreResult<Vec<AiByUser>> {
    let ids: Vec<&str> = ranked.iter().map(|r| r.0.as_str()).collect();
    type Identity = (String, Option<String>, Option<String>, Option<String>);
    let found: Vec<Identity> = db
        .all_in(
            "SELECT id, user_id, email, name FROM site_users WHERE project_id = ",
            project_id,
            " AND id",
            &ids,
            "",
        )
        .await?;
    let mut by_id: HashMap<String, Identity> =
        found.into_iter().map(|i| (i.0.clone(), i)).collect();
    Ok(ranked
        .iter()
        .map(
            |(id, calls, prompt_tokens, completion_tokens, cost_micro_usd)| {
                let (_, user_id, email, name) = by_id.remove(id).unwrap_or_default();
                AiByUser {
                    site_user_id: id.clone(),
                    user_id,
                    email,
                    name,
                    totals: AiTotals {
                        calls: *calls,
                        prompt_tokens: *prompt_tokens,
                        completion_tokens: *completion_tokens,
                        cost_micro_usd: *cost_micro_usd,
                    },
                }
            },
        )
        .collect())
}
