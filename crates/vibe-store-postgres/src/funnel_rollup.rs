//! The funnel rollup on PostgreSQL (`vibe_store::funnel_rollup`): written inside
//! each ingest transaction, and rebuilt when a funnel is defined or changed. A
//! rebuild locks the two rollup tables (SHARE ROW EXCLUSIVE) before it reads
//! events, so ingestion on any node waits for it instead of interleaving: a batch
//! that commits first is in the events the rebuild reads, and a batch that waits
//! applies its own hits on top of the rebuilt rows.

use sqlx::PgConnection;
use vibe_store::funnel::{events_sql, FunnelEvent};
use vibe_store::funnel_rollup::io::FunnelIo;
use vibe_store::funnel_rollup::{sort_hits, FunnelDef, FunnelHit, FunnelReach, HourDeltas};
use vibe_store::users::{numbered_placeholders, SqlValue};
use vibe_store::StoreResult;

use crate::ingest::Tx;

use vibe_store::db::err;

/// Rows per multi-row statement of a rebuild.
const CHUNK: usize = 10_000;

/// The funnels of these projects.
pub async fn defs(tx: &mut PgConnection, project_ids: &[&str]) -> StoreResult<Vec<FunnelDef>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, project_id, steps, window_days FROM funnels WHERE project_id = ANY($1)",
    )
    .bind(project_ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|(id, project_id, steps, window_days)| {
            FunnelDef::stored(&id, &project_id, &steps, window_days)
        })
        .collect())
}

impl FunnelIo for Tx<'_> {
    async fn move_hits(&mut self, statement: &str, args: &[&str]) -> StoreResult<()> {
        let mut q = sqlx::query(statement);
        for a in args {
            q = q.bind(*a);
        }
        q.execute(&mut *self.0).await.map_err(err)?;
        Ok(())
    }

    async fn delete_reach(&mut self, def: &FunnelDef, people: &[&str]) -> StoreResult<()> {
        sqlx::query("DELETE FROM funnel_reach WHERE project_id = $1 AND funnel_id = $2 AND person = ANY($3)")
        .bind(&def.project_id)
        .bind(&def.id)
        .bind(people)
        .execute(&mut *self.0)
        .await
        .map_err(err)?;
        Ok(())
    }

    /// Locks the rollup tables (SHARE ROW EXCLUSIVE) first, so ingestion on any
    /// node waits for the rebuild instead of interleaving with it.
    async fn clear_for_rebuild(&mut self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        sqlx::query(
            "LOCK TABLE funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE",
        )
        .execute(&mut *self.0)
        .await
        .map_err(err)?;
        for sql in [
        "DELETE FROM funnel_hits WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach WHERE project_id = $1 AND funnel_id = $2",
        "DELETE FROM funnel_reach_hours WHERE project_id = $1 AND funnel_id = $2",
        "UPDATE funnels SET rollup_ready = TRUE, build_phase = 3 WHERE project_id = $1 AND id = $2",
    ] {
        sqlx::query(sql)
            .bind(project_id)
            .bind(funnel_id)
            .execute(&mut *self.0)
            .await
            .map_err(err)?;
    }
        Ok(())
    }

    async fn insert_hits(&mut self, funnels: &[FunnelDef], hits: &[FunnelHit]) -> StoreResult<()> {
        let tx = &mut *self.0;
        for chunk in hits.chunks(CHUNK) {
            let project_of = |fid: &str| {
                funnels
                    .iter()
                    .find(|f| f.id == fid)
                    .map(|f| f.project_id.clone())
                    .unwrap_or_default()
            };
            let col = |f: fn(&FunnelHit) -> String| chunk.iter().map(f).collect::<Vec<String>>();
            sqlx::query(
            "INSERT INTO funnel_hits (project_id, funnel_id, person, ts, event_id, anonymous_id, steps)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[])
             ON CONFLICT DO NOTHING",
        )
        .bind(chunk.iter().map(|h| project_of(&h.funnel_id)).collect::<Vec<_>>())
        .bind(col(|h| h.funnel_id.clone()))
        .bind(col(|h| h.person.clone()))
        .bind(chunk.iter().map(|h| h.ts).collect::<Vec<i64>>())
        .bind(col(|h| h.event_id.clone()))
        .bind(chunk.iter().map(|h| h.anonymous_id.clone()).collect::<Vec<Option<String>>>())
        .bind(chunk.iter().map(|h| h.steps).collect::<Vec<i64>>())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        }
        Ok(())
    }

    /// Hits of these people from `since` on, sorted as `reach_rows` expects.
    async fn read_hits(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
        since: i64,
    ) -> StoreResult<Vec<FunnelHit>> {
        let tx = &mut *self.0;
        // One index descent per person, whatever the planner thinks of the table.
        let mut hits: Vec<FunnelHit> = sqlx::query_as(
        "SELECT h.funnel_id, h.person, h.ts, h.event_id, h.anonymous_id, h.steps
         FROM UNNEST($4::text[]) AS p(person)
         JOIN funnel_hits h ON h.project_id = $1 AND h.funnel_id = $2 AND h.person = p.person AND h.ts >= $3",
    )
    .bind(&def.project_id)
    .bind(&def.id)
    .bind(since)
    .bind(people)
    .fetch_all(&mut *tx)
    .await
    .map_err(err)?;
        sort_hits(&mut hits);
        Ok(hits)
    }

    /// Every reach row of these people.
    async fn read_reach(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
    ) -> StoreResult<Vec<FunnelReach>> {
        let tx = &mut *self.0;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT r.person, r.step, r.last_start FROM UNNEST($3::text[]) AS p(person)
         JOIN funnel_reach r ON r.project_id = $1 AND r.funnel_id = $2 AND r.person = p.person",
        )
        .bind(&def.project_id)
        .bind(&def.id)
        .bind(people)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(person, step, last_start)| FunnelReach {
                funnel_id: def.id.clone(),
                person,
                step,
                last_start,
            })
            .collect())
    }

    async fn write_reach(&mut self, def: &FunnelDef, rows: &[FunnelReach]) -> StoreResult<()> {
        let tx = &mut *self.0;
        for chunk in rows.chunks(CHUNK) {
            sqlx::query(
                "INSERT INTO funnel_reach (project_id, funnel_id, person, step, last_start)
             SELECT $1, $2, * FROM UNNEST($3::text[], $4::int8[], $5::int8[])",
            )
            .bind(&def.project_id)
            .bind(&def.id)
            .bind(
                chunk
                    .iter()
                    .map(|r| r.person.clone())
                    .collect::<Vec<String>>(),
            )
            .bind(chunk.iter().map(|r| r.step).collect::<Vec<i64>>())
            .bind(chunk.iter().map(|r| r.last_start).collect::<Vec<i64>>())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        Ok(())
    }

    async fn write_hours(&mut self, def: &FunnelDef, deltas: &HourDeltas) -> StoreResult<()> {
        let tx = &mut *self.0;
        if deltas.is_empty() {
            return Ok(());
        }
        sqlx::query(
        "INSERT INTO funnel_reach_hours (project_id, funnel_id, step, hour, people)
         SELECT $1, $2, * FROM UNNEST($3::int8[], $4::int8[], $5::int8[])
         ON CONFLICT (project_id, funnel_id, step, hour) DO UPDATE SET people = funnel_reach_hours.people + excluded.people",
    )
    .bind(&def.project_id)
    .bind(&def.id)
    .bind(deltas.keys().map(|k| k.0).collect::<Vec<i64>>())
    .bind(deltas.keys().map(|k| k.1).collect::<Vec<i64>>())
    .bind(deltas.values().copied().collect::<Vec<i64>>())
    .execute(&mut *tx)
    .await
    .map_err(err)?;
        Ok(())
    }

    /// Events in `[from, to]` matching a step, with their person resolved now.
    async fn matching_events(
        &mut self,
        def: &FunnelDef,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<FunnelEvent>> {
        let tx = &mut *self.0;
        let (sql, args) = events_sql(&def.project_id, &def.steps, from, to);
        let sql = numbered_placeholders(&sql);
        let mut q = sqlx::query_as::<_, FunnelEvent>(&sql);
        for a in args {
            q = match a {
                SqlValue::Text(s) => q.bind(s),
                SqlValue::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(&mut *tx).await.map_err(err)
    }
}
