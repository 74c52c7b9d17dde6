//! The funnel rollup on SQLite (`vibe_store::funnel_rollup`), written on the one
//! writer connection: inside each ingest transaction, and when a funnel is
//! defined or changed (so a rebuild never interleaves with ingestion).

use rusqlite::{params, params_from_iter, ToSql, Transaction};
use vibe_store::funnel::{events_sql, FunnelEvent};
use vibe_store::funnel_rollup::io::FunnelIo;
use vibe_store::funnel_rollup::{
    sort_hits, FunnelDef, FunnelHit, FunnelReach, HitColumns, HourDeltas,
};
use vibe_store::funnels::sql::DELETE_ROLLUP;
use vibe_store::ingest::shaped_chunks;
use vibe_store::users::SqlValue;
use vibe_store::StoreResult;

use crate::ingest::Writer;
use crate::sql::{err, execute_numbered, multi_row, push_rows};

/// The funnels of these projects.
pub fn defs(tx: &Transaction<'_>, project_ids: &[&str]) -> StoreResult<Vec<FunnelDef>> {
    let mut out = Vec::new();
    let mut stmt = tx
        .prepare_cached("SELECT id, steps, window_days FROM funnels WHERE project_id = ?")
        .map_err(err)?;
    for p in project_ids {
        let rows = stmt
            .query_map([p], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(err)?;
        for row in rows {
            let (id, steps, window_days) = row.map_err(err)?;
            out.push(FunnelDef::stored(&id, p, &steps, window_days));
        }
    }
    Ok(out)
}

impl FunnelIo for Writer<'_, '_> {
    async fn clear_for_rebuild(&mut self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        for sql in DELETE_ROLLUP {
            execute_numbered(self.0, sql, &[&project_id, &funnel_id])?;
        }
        let ready = "UPDATE funnels SET rollup_ready = 1, build_phase = 3 WHERE project_id = $1 AND id = $2";
        execute_numbered(self.0, ready, &[&project_id, &funnel_id]).map(drop)
    }

    async fn insert_hits(&mut self, funnels: &[FunnelDef], hits: &[FunnelHit]) -> StoreResult<()> {
        let head = "INSERT INTO funnel_hits (project_id, funnel_id, person, ts, event_id, anonymous_id, steps) ";
        let project_of = |fid: &str| {
            let def = funnels.iter().find(|f| f.id == fid);
            def.map_or("", |f| f.project_id.as_str())
        };
        for chunk in shaped_chunks(hits) {
            let projects: Vec<&str> = chunk.iter().map(|h| project_of(&h.funnel_id)).collect();
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 7);
            for (h, p) in chunk.iter().zip(&projects) {
                let (f, person, event) = (&h.funnel_id, &h.person, &h.event_id);
                args.extend([
                    p as &dyn ToSql,
                    f,
                    person,
                    &h.ts,
                    event,
                    &h.anonymous_id,
                    &h.steps,
                ]);
            }
            let tail = " ON CONFLICT DO NOTHING";
            let mut stmt = multi_row(self.0, head, chunk.len(), 7, tail)?;
            stmt.execute(params_from_iter(args)).map_err(err)?;
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
        let mut hits = Vec::new();
        for chunk in shaped_chunks(people) {
            let sql = format!(
                "SELECT funnel_id, person, ts, event_id, anonymous_id, steps FROM funnel_hits
             WHERE project_id = ? AND funnel_id = ? AND ts >= ? AND person IN ({})",
                marks(chunk.len())
            );
            let head: [&dyn ToSql; 3] = [&def.project_id, &def.id, &since];
            let args = head
                .into_iter()
                .chain(chunk.iter().map(|p| p as &dyn ToSql));
            let hit = |c: HitColumns| FunnelHit::from(c);
            push_rows(self.0, &sql, params_from_iter(args), &mut hits, hit)?;
        }
        sort_hits(&mut hits);
        Ok(hits)
    }

    async fn delete_reach(&mut self, def: &FunnelDef, people: &[&str]) -> StoreResult<()> {
        let sql =
            "DELETE FROM funnel_reach WHERE project_id = ?1 AND funnel_id = ?2 AND person = ?3";
        let mut stmt = self.0.prepare_cached(sql).map_err(err)?;
        for p in people {
            stmt.execute(params![def.project_id, def.id, p])
                .map_err(err)?;
        }
        Ok(())
    }

    /// Every reach row of these people.
    async fn read_reach(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
    ) -> StoreResult<Vec<FunnelReach>> {
        let mut rows = Vec::new();
        for chunk in shaped_chunks(people) {
            let sql = format!(
                "SELECT person, step, last_start FROM funnel_reach
             WHERE project_id = ? AND funnel_id = ? AND person IN ({})",
                marks(chunk.len())
            );
            let head: [&dyn ToSql; 2] = [&def.project_id, &def.id];
            let args = head
                .into_iter()
                .chain(chunk.iter().map(|p| p as &dyn ToSql));
            push_rows(
                self.0,
                &sql,
                params_from_iter(args),
                &mut rows,
                |(person, step, last_start)| FunnelReach {
                    funnel_id: def.id.clone(),
                    person,
                    step,
                    last_start,
                },
            )?;
        }
        Ok(rows)
    }

    async fn write_reach(&mut self, def: &FunnelDef, rows: &[FunnelReach]) -> StoreResult<()> {
        let head = "INSERT INTO funnel_reach (project_id, funnel_id, person, step, last_start) ";
        for chunk in shaped_chunks(rows) {
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 5);
            for r in chunk {
                let (f, person) = (&r.funnel_id, &r.person);
                args.extend([
                    &def.project_id as &dyn ToSql,
                    f,
                    person,
                    &r.step,
                    &r.last_start,
                ]);
            }
            let mut stmt = multi_row(self.0, head, chunk.len(), 5, "")?;
            stmt.execute(params_from_iter(args)).map_err(err)?;
        }
        Ok(())
    }

    async fn write_hours(&mut self, def: &FunnelDef, deltas: &HourDeltas) -> StoreResult<()> {
        let sql = "INSERT INTO funnel_reach_hours (project_id, funnel_id, step, hour, people) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (project_id, funnel_id, step, hour) DO UPDATE SET people = people + excluded.people";
        let mut stmt = self.0.prepare_cached(sql).map_err(err)?;
        for ((step, hour), people) in deltas {
            let values = params![def.project_id, def.id, step, hour, people];
            stmt.execute(values).map_err(err)?;
        }
        Ok(())
    }

    /// Events in `[from, to]` matching a step, with their person resolved now.
    async fn matching_events(
        &mut self,
        def: &FunnelDef,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<FunnelEvent>> {
        let (sql, args) = events_sql(&def.project_id, &def.steps, from, to);
        let args = args.iter().map(|a| match a {
            SqlValue::Text(s) => s as &dyn ToSql,
            SqlValue::Int(i) => i as &dyn ToSql,
            SqlValue::Real(f) => f as &dyn ToSql,
        });
        let mut events = Vec::new();
        push_rows(self.0, &sql, params_from_iter(args), &mut events, event)?;
        Ok(events)
    }
}

/// `?, ?, …` for an IN list of `n`.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

type EventColumns = (
    String,
    Option<String>,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
);

fn event((id, anonymous_id, person, ts, kind, path, name): EventColumns) -> FunnelEvent {
    FunnelEvent {
        id,
        anonymous_id,
        person,
        ts,
        kind,
        path,
        name,
    }
}
