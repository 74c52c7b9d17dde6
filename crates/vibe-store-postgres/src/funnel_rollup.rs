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
use vibe_store::funnels::sql::DELETE_ROLLUP;
use vibe_store::users::{numbered_placeholders, SqlValue};
use vibe_store::StoreResult;

use crate::ingest::Tx;

use vibe_store::db::err;

/// Rows per multi-row statement of a rebuild.
const CHUNK: usize = 10_000;

/// The funnels of these projects.
pub async fn defs(tx: &mut PgConnection, project_ids: &[&str]) -> StoreResult<Vec<FunnelDef>> {
    let sql = "SELECT id, project_id, steps, window_days FROM funnels WHERE project_id = ANY($1)";
    let rows: Vec<(String, String, String, i64)> = Tx(tx).rows(sql, (project_ids,)).await?;
    Ok(rows
        .into_iter()
        .map(|(id, project_id, steps, window_days)| {
            FunnelDef::stored(&id, &project_id, &steps, window_days)
        })
        .collect())
}

impl FunnelIo for Tx<'_> {
    async fn delete_reach(&mut self, def: &FunnelDef, people: &[&str]) -> StoreResult<()> {
        let sql = "DELETE FROM funnel_reach WHERE project_id = $1 AND funnel_id = $2 AND person = ANY($3)";
        self.exec(sql, (&def.project_id, &def.id, people))
            .await
            .map(drop)
    }

    /// Locks the rollup tables (SHARE ROW EXCLUSIVE) first, so ingestion on any
    /// node waits for the rebuild instead of interleaving with it.
    async fn clear_for_rebuild(&mut self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        let lock =
            "LOCK TABLE funnel_hits, funnel_reach, funnel_reach_hours IN SHARE ROW EXCLUSIVE MODE";
        self.exec(lock, ()).await?;
        for sql in DELETE_ROLLUP {
            self.exec(sql, (project_id, funnel_id)).await?;
        }
        let ready = "UPDATE funnels SET rollup_ready = TRUE, build_phase = 3 WHERE project_id = $1 AND id = $2";
        self.exec(ready, (project_id, funnel_id)).await.map(drop)
    }

    async fn insert_hits(&mut self, funnels: &[FunnelDef], hits: &[FunnelHit]) -> StoreResult<()> {
        for chunk in hits.chunks(CHUNK) {
            let project_of = |fid: &str| {
                funnels
                    .iter()
                    .find(|f| f.id == fid)
                    .map(|f| f.project_id.clone())
                    .unwrap_or_default()
            };
            let col = |f: fn(&FunnelHit) -> String| chunk.iter().map(f).collect::<Vec<String>>();
            let sql = "INSERT INTO funnel_hits (project_id, funnel_id, person, ts, event_id, anonymous_id, steps)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[])
             ON CONFLICT DO NOTHING";
            let columns = (
                chunk
                    .iter()
                    .map(|h| project_of(&h.funnel_id))
                    .collect::<Vec<_>>(),
                col(|h| h.funnel_id.clone()),
                col(|h| h.person.clone()),
                chunk.iter().map(|h| h.ts).collect::<Vec<i64>>(),
                col(|h| h.event_id.clone()),
                chunk
                    .iter()
                    .map(|h| h.anonymous_id.clone())
                    .collect::<Vec<Option<String>>>(),
                chunk.iter().map(|h| h.steps).collect::<Vec<i64>>(),
            );
            self.exec(sql, columns).await?;
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
        // One index descent per person, whatever the planner thinks of the table.
        let sql = "SELECT h.funnel_id, h.person, h.ts, h.event_id, h.anonymous_id, h.steps
         FROM UNNEST($4::text[]) AS p(person)
         JOIN funnel_hits h ON h.project_id = $1 AND h.funnel_id = $2 AND h.person = p.person AND h.ts >= $3";
        let params = (&def.project_id, &def.id, since, people);
        let mut hits: Vec<FunnelHit> = self.rows(sql, params).await?;
        sort_hits(&mut hits);
        Ok(hits)
    }

    /// Every reach row of these people.
    async fn read_reach(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
    ) -> StoreResult<Vec<FunnelReach>> {
        let sql = "SELECT r.person, r.step, r.last_start FROM UNNEST($3::text[]) AS p(person)
         JOIN funnel_reach r ON r.project_id = $1 AND r.funnel_id = $2 AND r.person = p.person";
        let rows: Vec<(String, i64, i64)> =
            self.rows(sql, (&def.project_id, &def.id, people)).await?;
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
        let sql = "INSERT INTO funnel_reach (project_id, funnel_id, person, step, last_start)
             SELECT $1, $2, * FROM UNNEST($3::text[], $4::int8[], $5::int8[])";
        for chunk in rows.chunks(CHUNK) {
            let columns = (
                &def.project_id,
                &def.id,
                chunk
                    .iter()
                    .map(|r| r.person.clone())
                    .collect::<Vec<String>>(),
                chunk.iter().map(|r| r.step).collect::<Vec<i64>>(),
                chunk.iter().map(|r| r.last_start).collect::<Vec<i64>>(),
            );
            self.exec(sql, columns).await?;
        }
        Ok(())
    }

    async fn write_hours(&mut self, def: &FunnelDef, deltas: &HourDeltas) -> StoreResult<()> {
        if deltas.is_empty() {
            return Ok(());
        }
        let sql = "INSERT INTO funnel_reach_hours (project_id, funnel_id, step, hour, people)
         SELECT $1, $2, * FROM UNNEST($3::int8[], $4::int8[], $5::int8[])
         ON CONFLICT (project_id, funnel_id, step, hour) DO UPDATE SET people = funnel_reach_hours.people + excluded.people";
        let columns = (
            &def.project_id,
            &def.id,
            deltas.keys().map(|k| k.0).collect::<Vec<i64>>(),
            deltas.keys().map(|k| k.1).collect::<Vec<i64>>(),
            deltas.values().copied().collect::<Vec<i64>>(),
        );
        self.exec(sql, columns).await.map(drop)
    }

    /// Events in `[from, to]` matching a step, with their person resolved now.
    async fn matching_events(
        &mut self,
        def: &FunnelDef,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<FunnelEvent>> {
        let (sql, args) = events_sql(&def.project_id, &def.steps, from, to);
        let sql = numbered_placeholders(&sql);
        let mut q = sqlx::query_as::<_, FunnelEvent>(&sql);
        for a in args {
            q = match a {
                SqlValue::Text(s) => q.bind(s),
                SqlValue::Int(i) => q.bind(i),
                SqlValue::Real(f) => q.bind(f),
            };
        }
        q.fetch_all(&mut *self.0).await.map_err(err)
    }
}
