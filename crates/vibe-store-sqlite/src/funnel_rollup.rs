//! The funnel rollup on SQLite (`vibe_store::funnel_rollup`), written on the one
//! writer connection: inside each ingest transaction, and when a funnel is
//! defined or changed (so a rebuild never interleaves with ingestion).

use rusqlite::{params, params_from_iter, ToSql, Transaction};
use vibe_store::funnel::{events_sql, FunnelEvent};
use vibe_store::funnel_rollup::io::FunnelIo;
use vibe_store::funnel_rollup::{sort_hits, FunnelDef, FunnelHit, FunnelReach, HourDeltas};
use vibe_store::ingest::shaped_chunks;
use vibe_store::users::SqlValue;
use vibe_store::StoreResult;

use crate::ingest::Writer;
use crate::sql::{err, execute_numbered, placeholders};

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
    async fn move_hits(&mut self, statement: &str, args: &[&str]) -> StoreResult<()> {
        let args: Vec<&dyn ToSql> = args.iter().map(|a| a as &dyn ToSql).collect();
        execute_numbered(self.0, statement, &args).map(drop)
    }

    async fn clear_for_rebuild(&mut self, project_id: &str, funnel_id: &str) -> StoreResult<()> {
        for sql in [
        "DELETE FROM funnel_hits WHERE project_id = ?1 AND funnel_id = ?2",
        "DELETE FROM funnel_reach WHERE project_id = ?1 AND funnel_id = ?2",
        "DELETE FROM funnel_reach_hours WHERE project_id = ?1 AND funnel_id = ?2",
        "UPDATE funnels SET rollup_ready = 1, build_phase = 3 WHERE project_id = ?1 AND id = ?2",
    ] {
        self.0.execute(sql, params![project_id, funnel_id]).map_err(err)?;
    }
        Ok(())
    }

    async fn insert_hits(&mut self, funnels: &[FunnelDef], hits: &[FunnelHit]) -> StoreResult<()> {
        let tx = self.0;
        for chunk in shaped_chunks(hits) {
            let sql = format!(
            "INSERT INTO funnel_hits (project_id, funnel_id, person, ts, event_id, anonymous_id, steps) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 7)
        );
            let project_of = |fid: &str| {
                funnels
                    .iter()
                    .find(|f| f.id == fid)
                    .map(|f| f.project_id.clone())
                    .unwrap_or_default()
            };
            let projects: Vec<String> = chunk.iter().map(|h| project_of(&h.funnel_id)).collect();
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 7);
            for (h, p) in chunk.iter().zip(&projects) {
                args.extend([
                    p as &dyn ToSql,
                    &h.funnel_id,
                    &h.person,
                    &h.ts,
                    &h.event_id,
                    &h.anonymous_id,
                    &h.steps,
                ]);
            }
            tx.prepare_cached(&sql)
                .and_then(|mut s| s.execute(args.as_slice()))
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
        let tx = self.0;
        let mut hits = Vec::new();
        for chunk in shaped_chunks(people) {
            let sql = format!(
                "SELECT funnel_id, person, ts, event_id, anonymous_id, steps FROM funnel_hits
             WHERE project_id = ? AND funnel_id = ? AND ts >= ? AND person IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut args: Vec<&dyn ToSql> = vec![&def.project_id, &def.id, &since];
            args.extend(chunk.iter().map(|p| p as &dyn ToSql));
            let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
            let rows = stmt
                .query_map(args.as_slice(), |r| {
                    Ok(FunnelHit {
                        funnel_id: r.get(0)?,
                        person: r.get(1)?,
                        ts: r.get(2)?,
                        event_id: r.get(3)?,
                        anonymous_id: r.get(4)?,
                        steps: r.get(5)?,
                    })
                })
                .map_err(err)?;
            for row in rows {
                hits.push(row.map_err(err)?);
            }
        }
        sort_hits(&mut hits);
        Ok(hits)
    }

    async fn delete_reach(&mut self, def: &FunnelDef, people: &[&str]) -> StoreResult<()> {
        let tx = self.0;
        let mut stmt = tx
            .prepare_cached(
                "DELETE FROM funnel_reach WHERE project_id = ?1 AND funnel_id = ?2 AND person = ?3",
            )
            .map_err(err)?;
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
        let tx = self.0;
        let mut rows = Vec::new();
        for chunk in shaped_chunks(people) {
            let sql = format!(
                "SELECT person, step, last_start FROM funnel_reach
             WHERE project_id = ? AND funnel_id = ? AND person IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut args: Vec<&dyn ToSql> = vec![&def.project_id, &def.id];
            args.extend(chunk.iter().map(|p| p as &dyn ToSql));
            let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
            let found = stmt
                .query_map(args.as_slice(), |r| {
                    Ok(FunnelReach {
                        funnel_id: def.id.clone(),
                        person: r.get(0)?,
                        step: r.get(1)?,
                        last_start: r.get(2)?,
                    })
                })
                .map_err(err)?;
            for row in found {
                rows.push(row.map_err(err)?);
            }
        }
        Ok(rows)
    }

    async fn write_reach(&mut self, def: &FunnelDef, rows: &[FunnelReach]) -> StoreResult<()> {
        let tx = self.0;
        for chunk in shaped_chunks(rows) {
            let sql = format!(
            "INSERT INTO funnel_reach (project_id, funnel_id, person, step, last_start) VALUES {}",
            placeholders(chunk.len(), 5),
        );
            let mut args: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 5);
            for r in chunk {
                args.extend([
                    &def.project_id as &dyn ToSql,
                    &r.funnel_id,
                    &r.person,
                    &r.step,
                    &r.last_start,
                ]);
            }
            tx.prepare_cached(&sql)
                .and_then(|mut s| s.execute(args.as_slice()))
                .map_err(err)?;
        }
        Ok(())
    }

    async fn write_hours(&mut self, def: &FunnelDef, deltas: &HourDeltas) -> StoreResult<()> {
        let tx = self.0;
        let mut stmt = tx
        .prepare_cached(
            "INSERT INTO funnel_reach_hours (project_id, funnel_id, step, hour, people) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (project_id, funnel_id, step, hour) DO UPDATE SET people = people + excluded.people",
        )
        .map_err(err)?;
        for ((step, hour), people) in deltas {
            stmt.execute(params![def.project_id, def.id, step, hour, people])
                .map_err(err)?;
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
        let tx = self.0;
        let (sql, args) = events_sql(&def.project_id, &def.steps, from, to);
        let args: Vec<Box<dyn ToSql>> = args
            .into_iter()
            .map(|a| -> Box<dyn ToSql> {
                match a {
                    SqlValue::Text(s) => Box::new(s),
                    SqlValue::Int(i) => Box::new(i),
                }
            })
            .collect();
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(FunnelEvent {
                    id: r.get(0)?,
                    anonymous_id: r.get(1)?,
                    person: r.get(2)?,
                    ts: r.get(3)?,
                    kind: r.get(4)?,
                    path: r.get(5)?,
                    name: r.get(6)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }
}
