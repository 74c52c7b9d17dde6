//! The write path on PostgreSQL: one transaction per batch through sqlx. What to
//! write is decided by `vibe_store::ingest::batch`; this file is its statements.
//! Concurrent nodes can ingest for the same people, so every row whose old value
//! feeds a rollup delta is read `FOR UPDATE`, and inserts use `ON CONFLICT …
//! RETURNING` so the nodes agree on which copy of a row was first.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::QueryAs;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use vibe_core::day::parse_day;
use vibe_store::db::{column, err, Arg, PgParams, TxExec, TxRead};
use vibe_store::funnel_rollup::FunnelDef;
use vibe_store::ingest::batch::write_batch;
use vibe_store::ingest::io::{self as sql, churn_window, ActiveDay, EventRow, IngestIo, Key};
use vibe_store::ingest::{shaped_chunks, PersonUpsert, SessionUpsert};
use vibe_store::rollup::{DailyDelta, SessionState};
use vibe_store::*;

use crate::funnel_rollup;

pub async fn ingest(pool: &PgPool, jobs: &[IngestJob]) -> StoreResult<Vec<IngestOutcome>> {
    let mut tx = pool.begin().await.map_err(err)?;
    let outcomes = write_batch(&mut Tx(&mut tx), jobs).await?;
    tx.commit().await.map_err(err)?;
    Ok(outcomes)
}

pub(crate) struct Tx<'a>(pub(crate) &'a mut PgConnection);

impl vibe_store::retention::ingest::RetentionIo for Tx<'_> {}

impl IngestIo for Tx<'_> {
    async fn insert_events(&mut self, rows: &[EventRow<'_>]) -> StoreResult<HashSet<Key>> {
        let mut inserted = HashSet::new();
        for chunk in shaped_chunks(rows) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_EVENTS);
            q.push_values(chunk, |mut b, (j, m, props)| {
                b.push_bind(&j.project_id)
                    .push_bind(&m.id)
                    .push_bind(m.kind.as_str())
                    .push_bind(&m.name)
                    .push_bind(&m.anonymous_id)
                    .push_bind(&m.user_id)
                    .push_bind(&m.session_id)
                    .push_bind(&m.url)
                    .push_bind(&m.path)
                    .push_bind(&m.referrer)
                    .push_bind(&m.title)
                    .push_bind(props)
                    .push_bind(m.ts)
                    .push_bind(j.received_at);
            });
            q.push(sql::ON_EVENT_CONFLICT)
                .push(" RETURNING project_id, id");
            let got: Vec<Key> = q
                .build_query_as()
                .fetch_all(&mut *self.0)
                .await
                .map_err(err)?;
            inserted.extend(got);
        }
        Ok(inserted)
    }

    async fn read_aliases(&mut self, anons: &[Key]) -> StoreResult<HashMap<Key, String>> {
        let mut by_anon = HashMap::new();
        for chunk in shaped_chunks(anons) {
            // Batches are almost always for one project: `project_id = ? AND
            // anonymous_id IN (…)` walks the primary key once per id.
            let mut projects: Vec<&str> = chunk.iter().map(|(p, _)| p.as_str()).collect();
            projects.dedup();
            for project in projects {
                let mut q = QueryBuilder::<Postgres>::new(
                    "SELECT anonymous_id, site_user_id FROM site_user_aliases WHERE project_id = ",
                );
                q.push_bind(project).push(" AND anonymous_id IN (");
                let mut sep = q.separated(", ");
                for (_, a) in chunk.iter().filter(|(p, _)| p == project) {
                    sep.push_bind(a);
                }
                q.push(")");
                let rows: Vec<(String, String)> = q
                    .build_query_as()
                    .fetch_all(&mut *self.0)
                    .await
                    .map_err(err)?;
                for (a, person) in rows {
                    by_anon.insert((project.to_owned(), a), person);
                }
            }
        }
        Ok(by_anon)
    }

    async fn insert_aliases(&mut self, new: &[&Key]) -> StoreResult<()> {
        for chunk in shaped_chunks(new) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_ALIASES);
            q.push_values(chunk, |mut b, (p, a)| {
                b.push_bind(p).push_bind(a).push_bind(a);
            });
            q.push(sql::ON_CONFLICT_NOTHING);
            q.build().execute(&mut *self.0).await.map_err(err)?;
        }
        Ok(())
    }

    async fn lock_users(&mut self, users: &[Key]) -> StoreResult<()> {
        // One transaction lock per stripe of user ids, not per user: a lock
        // per user made a batch of thousands of new users exhaust the shared
        // lock table ("out of shared memory", seen in `vibe demo` at 1M
        // people). Stripes are taken in ascending order, in one statement,
        // so two batches never wait on each other in a cycle; batches that
        // share a stripe but no user only wait, never race.
        let stripes = user_lock_stripes(users);
        if stripes.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "SELECT pg_advisory_xact_lock($1, s)
             FROM (SELECT unnest($2::int4[]) AS s ORDER BY 1) AS t",
        )
        .bind(USER_LOCK_CLASS)
        .bind(stripes)
        .execute(&mut *self.0)
        .await
        .map_err(err)?;
        Ok(())
    }

    async fn first_seen_pair(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<(Option<i64>, Option<i64>)> {
        // Both rows locked in one statement, in the index's order.
        let sql = "SELECT id, first_seen FROM site_users WHERE project_id = $1 AND id IN ($2, $3) FOR UPDATE";
        let seen: Vec<(String, i64)> = self.rows(sql, (project, from, into)).await?;
        let first = |id: &str| seen.iter().find(|(i, _)| i == id).map(|(_, f)| *f);
        Ok((first(from), first(into)))
    }

    async fn take_shared_days(
        &mut self,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<Vec<String>> {
        let sql = "DELETE FROM user_days WHERE project_id = $1 AND site_user_id = $2
             AND day IN (SELECT day FROM user_days WHERE project_id = $1 AND site_user_id = $3) RETURNING day";
        column(self, sql, &[project.into(), from.into(), into.into()]).await
    }

    async fn read_first_seen(&mut self, people: &[PersonUpsert]) -> StoreResult<HashMap<Key, i64>> {
        let mut out = HashMap::new();
        let pairs = people
            .iter()
            .map(|p| (p.project_id.as_str(), p.id.as_str()));
        for (project, ids) in ids_by_project(pairs) {
            // `id = ANY($2)` walks the primary key once per id; a row-value IN list of
            // hundreds of pairs made the planner scan the table.
            let sql = "SELECT id, first_seen FROM site_users WHERE project_id = $1 AND id = ANY($2) FOR UPDATE";
            let rows: Vec<(String, i64)> = self.rows(sql, (project, &ids)).await?;
            out.extend(
                rows.into_iter()
                    .map(|(id, f)| ((project.to_owned(), id), f)),
            );
        }
        Ok(out)
    }

    async fn read_sessions(
        &mut self,
        sessions: &[SessionUpsert],
    ) -> StoreResult<HashMap<Key, SessionState>> {
        let mut out = HashMap::new();
        let pairs = sessions
            .iter()
            .map(|s| (s.project_id.as_str(), s.id.as_str()));
        for (project, ids) in ids_by_project(pairs) {
            let sql = "SELECT id, started_at, last_seen_at, page_count FROM site_sessions
                 WHERE project_id = $1 AND id = ANY($2) FOR UPDATE";
            let rows: Vec<(String, i64, i64, i64)> = self.rows(sql, (project, &ids)).await?;
            out.extend(
                rows.into_iter()
                    .map(|(id, started_at, last_seen_at, page_count)| {
                        let state = SessionState {
                            started_at,
                            last_seen_at,
                            page_count,
                        };
                        ((project.to_owned(), id), state)
                    }),
            );
        }
        Ok(out)
    }

    async fn upsert_people(&mut self, people: &[PersonUpsert]) -> StoreResult<()> {
        let [before, after] = sql::ON_PEOPLE_CONFLICT;
        for chunk in shaped_chunks(people) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_PEOPLE);
            q.push_values(chunk, |mut b, p| {
                b.push_bind(&p.project_id)
                    .push_bind(&p.id)
                    .push_bind(&p.anonymous_id)
                    .push_bind(&p.user_id)
                    .push_bind(&p.email)
                    .push_bind(&p.name)
                    .push_bind(&p.plan)
                    .push_bind(p.traits_patch.as_deref().unwrap_or("{}"))
                    .push_bind(p.first_seen)
                    .push_bind(p.last_seen)
                    .push_bind(&p.device)
                    .push_bind(&p.browser)
                    .push_bind(&p.os)
                    .push_bind(p.events)
                    .push_bind(p.new_sessions);
            });
            // PostgreSQL merges JSON objects with jsonb `||` (traits are stored as text).
            q.push(before)
                .push("traits = CASE WHEN excluded.traits = '{}' THEN site_users.traits ELSE jsonb_strip_nulls(site_users.traits::jsonb || excluded.traits::jsonb)::text END")
                .push(after);
            q.build().execute(&mut *self.0).await.map_err(err)?;
        }
        Ok(())
    }

    async fn upsert_sessions(&mut self, sessions: &[SessionUpsert]) -> StoreResult<()> {
        for chunk in shaped_chunks(sessions) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_SESSIONS);
            q.push_values(chunk, |mut b, s| {
                let page = s.last_page.as_ref();
                b.push_bind(&s.project_id)
                    .push_bind(&s.id)
                    .push_bind(&s.site_user_id)
                    .push_bind(s.started_at)
                    .push_bind(s.last_seen_at)
                    .push_bind(s.ended_at)
                    .push_bind(&s.entry_url)
                    .push_bind(&s.referrer)
                    .push_bind(page.map(|p| &p.0))
                    .push_bind(page.map(|p| &p.1))
                    .push_bind(page.and_then(|p| p.2.as_ref()))
                    .push_bind(page.map(|p| p.3))
                    .push_bind(s.pageviews)
                    .push_bind(&s.device)
                    .push_bind(&s.browser)
                    .push_bind(&s.os)
                    .push_bind(&s.screen);
            });
            q.push(sql::ON_SESSION_CONFLICT);
            q.build().execute(&mut *self.0).await.map_err(err)?;
        }
        Ok(())
    }

    async fn insert_active_days<'d>(
        &mut self,
        days: &'d [ActiveDay],
    ) -> StoreResult<Vec<Cow<'d, ActiveDay>>> {
        let mut new = Vec::new();
        for chunk in shaped_chunks(days) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_ACTIVE_DAYS);
            q.push_values(chunk, |mut b, (p, u, d)| {
                b.push_bind(p).push_bind(u).push_bind(d);
            });
            q.push(sql::ON_CONFLICT_NOTHING)
                .push(" RETURNING project_id, site_user_id, day");
            let rows: Vec<ActiveDay> = q
                .build_query_as()
                .fetch_all(&mut *self.0)
                .await
                .map_err(err)?;
            new.extend(rows.into_iter().map(Cow::Owned));
        }
        Ok(new)
    }

    async fn active_days_near(
        &mut self,
        project: &str,
        people: &[(&str, Date, Date)],
    ) -> StoreResult<Vec<BTreeSet<Date>>> {
        let (Some(first), Some(last)) = (
            people.iter().map(|(_, f, _)| *f).min(),
            people.iter().map(|(_, _, l)| *l).max(),
        ) else {
            return Ok(Vec::new());
        };
        let (from, to) = churn_window(first, last);
        let ids: Vec<&str> = people.iter().map(|(p, _, _)| *p).collect();
        // One index descent per person, whatever the planner thinks of the table.
        let sql = "SELECT u.site_user_id, u.day FROM UNNEST($2::text[]) AS p(id)
             JOIN user_days u ON u.project_id = $1 AND u.site_user_id = p.id
             WHERE u.day >= $3 AND u.day <= $4";
        let rows: Vec<(String, String)> = self.rows(sql, (project, &ids, from, to)).await?;
        let mut now: BTreeMap<&str, BTreeSet<Date>> = BTreeMap::new();
        for (u, d) in &rows {
            if let Some(d) = parse_day(d) {
                now.entry(u.as_str()).or_default().insert(d);
            }
        }
        Ok(ids
            .iter()
            .map(|p| now.remove(p).unwrap_or_default())
            .collect())
    }

    async fn write_daily_stats(&mut self, rows: &[(&str, &str, DailyDelta)]) -> StoreResult<()> {
        for chunk in shaped_chunks(rows) {
            let mut q = QueryBuilder::<Postgres>::new(sql::INSERT_DAILY_STATS);
            q.push_values(chunk, |mut b, (p, day, d)| {
                b.push_bind(*p).push_bind(*day);
                for c in d.columns() {
                    b.push_bind(*c);
                }
            });
            q.push(sql::ON_DAILY_STATS_CONFLICT);
            q.build().execute(&mut *self.0).await.map_err(err)?;
        }
        Ok(())
    }

    async fn funnels(&mut self, projects: &[&str]) -> StoreResult<Vec<FunnelDef>> {
        funnel_rollup::defs(self.0, projects).await
    }
}

/// One statement each, on the open transaction: the I/O methods are one call.
impl Tx<'_> {
    /// Runs a statement; how many rows it touched.
    pub(crate) async fn exec<'q>(
        &mut self,
        sql: &'q str,
        p: impl PgParams<'q>,
    ) -> StoreResult<u64> {
        let args = p.postgres().map_err(sqlx::Error::Encode).map_err(err)?;
        let done = sqlx::query_with(sql, args).execute(&mut *self.0).await;
        done.map(|d| d.rows_affected()).map_err(err)
    }

    /// Every row, each a `FromRow` (a tuple `(T,)` for one column).
    pub(crate) async fn rows<'q, T: PgRecord>(
        &mut self,
        sql: &'q str,
        p: impl PgParams<'q>,
    ) -> StoreResult<Vec<T>> {
        bound(sql, p)?.fetch_all(&mut *self.0).await.map_err(err)
    }

    /// The first row, if any.
    pub(crate) async fn row<'q, T: PgRecord>(
        &mut self,
        sql: &'q str,
        p: impl PgParams<'q>,
    ) -> StoreResult<Option<T>> {
        bound(sql, p)?
            .fetch_optional(&mut *self.0)
            .await
            .map_err(err)
    }
}

/// A row as PostgreSQL decodes it.
pub(crate) trait PgRecord: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}
impl<T> PgRecord for T where T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}

fn bound<'q, T: PgRecord>(
    sql: &'q str,
    p: impl PgParams<'q>,
) -> StoreResult<QueryAs<'q, Postgres, T, PgArguments>> {
    let args = p.postgres().map_err(sqlx::Error::Encode).map_err(err)?;
    Ok(sqlx::query_as_with(sql, args))
}

/// The shared transaction code's statements, on this transaction.
impl TxExec for Tx<'_> {
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        self.exec(sql, args).await
    }
}

impl<T: PgRecord> TxRead<T> for Tx<'_> {
    async fn all_rows(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<T>> {
        self.rows(sql, args).await
    }

    async fn first_row(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<T>> {
        self.row(sql, args).await
    }
}

/// Groups (project, id) pairs by project, ids sorted (a stable lock order).
fn ids_by_project<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, Vec<String>)> {
    let mut map: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (p, id) in pairs {
        map.entry(p).or_default().push(id.to_owned());
    }
    map.into_iter()
        .map(|(p, mut ids)| {
            ids.sort();
            (p, ids)
        })
        .collect()
}

/// The advisory-lock class of the user-id stripes (the two-key form, so its
/// keys never meet the one-key locks of the scheduler and migrations).
const USER_LOCK_CLASS: i32 = 0x7669_6265;
/// How many stripes user ids are spread over: the most locks one batch holds.
const USER_LOCK_STRIPES: u64 = 256;

/// The distinct, sorted stripes of `users` (FNV-1a over `project:user`,
/// stable across nodes and releases).
fn user_lock_stripes(users: &[Key]) -> Vec<i32> {
    let mut stripes: Vec<i32> = users
        .iter()
        .map(|(project, user)| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in project.bytes().chain([b':']).chain(user.bytes()) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            (h % USER_LOCK_STRIPES) as i32
        })
        .collect();
    stripes.sort_unstable();
    stripes.dedup();
    stripes
}

#[cfg(test)]
mod lock_tests {
    use super::*;

    #[test]
    fn stripes_are_bounded_sorted_and_stable() {
        let users: Vec<Key> = (0..10_000)
            .map(|i| ("p".to_owned(), format!("u{i}")))
            .collect();
        let s = user_lock_stripes(&users);
        assert_eq!(s.len(), USER_LOCK_STRIPES as usize);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let one = user_lock_stripes(&[("p".to_owned(), "u1".to_owned())]);
        assert_eq!(one.len(), 1);
        assert_eq!(one, user_lock_stripes(&[("p".to_owned(), "u1".to_owned())]));
    }
}
