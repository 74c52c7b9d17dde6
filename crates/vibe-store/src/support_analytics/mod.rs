//! Support analytics (issue 13), the store side: additive [`Counters`] of the
//! `support_events` facts and of agent time, per local period, scope and
//! dimension. [`SupportAnalyticsStore::support_counters`] is the one read
//! the report endpoints build on; [`SupportAnalyticsStore::support_counters_raw`]
//! is the same answer folded from the raw rows (the reference the
//! snapshots are tested against). Vocabulary and periods: docs/metrics.md.

pub mod agent_time;
pub mod export;
pub mod fold;
pub mod now;
pub mod periods;
pub mod projections;
pub mod settings;
pub mod snapshots;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use crate::db::HasDb;
use crate::StoreResult;

/// Counter name → value. Every counter is a sum, so the counters of two
/// disjoint sets of facts add; a counter never holds 0 (absent reads 0), so
/// two equal answers compare equal however they were summed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters(pub BTreeMap<String, i64>);

impl Counters {
    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    pub fn bump(&mut self, name: impl Into<String> + AsRef<str>, by: i64) {
        if by == 0 {
            return;
        }
        // A counter already there takes no allocation (reads sum thousands).
        let key = name.as_ref();
        match self.0.get_mut(key) {
            Some(v) => {
                *v += by;
                if *v == 0 {
                    self.0.remove(key);
                }
            }
            None => {
                self.0.insert(name.into(), by);
            }
        }
    }

    pub fn add(&mut self, other: &Counters) {
        for (k, v) in &other.0 {
            self.bump(k.as_str(), *v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Optional equality filters on a fact's dimensions (`Some("")` = none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub account_id: Option<String>,
    pub team_id: Option<String>,
    pub channel: Option<String>,
}

/// Whose facts a caller may see (the role scope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportScope {
    /// Owner/admin: everything.
    All,
    /// Supervisor: facts whose team is one of `teams` OR whose agent is one
    /// of `members` (the members of those teams).
    Teams(Vec<String>, Vec<String>),
    /// Agent: facts whose agent (`account_id`) is this account.
    Agent(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// One row, key `""`.
    Total,
    /// Per agent: key = account id, `""` for facts without one.
    Agent,
    /// Per local hour: key = UTC ms of the hour's local start.
    Hour,
    /// Per local day: key = UTC ms of local midnight.
    Day,
    /// Per local (day of week, hour of day): key `"dow:hour"`, 0 = Sunday.
    DayOfWeekHour,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Total,
        GroupBy::Agent,
        GroupBy::Hour,
        GroupBy::Day,
        GroupBy::DayOfWeekHour,
    ];
}

/// One group of an answer; groups without any counter are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CounterRow {
    pub key: String,
    pub counters: Counters,
}

/// A fact's (or snapshot row's) dimensions, `""` meaning none. Agent time
/// has an account only: no team, no channel.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dims {
    pub account_id: String,
    pub team_id: String,
    pub channel: String,
}

impl Dims {
    /// Scope and filter, one rule for raw facts and snapshot rows alike.
    pub fn admitted(&self, scope: &ReportScope, filter: &ReportFilter) -> bool {
        let scoped = match scope {
            ReportScope::All => true,
            ReportScope::Agent(a) => self.account_id == *a,
            ReportScope::Teams(teams, members) => {
                (!self.team_id.is_empty() && teams.contains(&self.team_id))
                    || (!self.account_id.is_empty() && members.contains(&self.account_id))
            }
        };
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        scoped
            && eq(&filter.account_id, &self.account_id)
            && eq(&filter.team_id, &self.team_id)
            && eq(&filter.channel, &self.channel)
    }
}

/// What one run of the snapshot job did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeepReport {
    pub projects: u64,
    pub hours: u64,
    pub days: u64,
    pub weeks: u64,
}

#[async_trait]
pub trait SupportAnalyticsStore: HasDb {
    /// Counters of the facts at `[from_ms, to_ms)` in the `scope` and
    /// `filter`, grouped by `group` in the local periods of `tz`. An open
    /// agent status row or a conversation still held counts up to `to_ms`:
    /// callers clamp `to_ms` to now.
    #[allow(clippy::too_many_arguments)]
    async fn support_counters(
        &self,
        project_id: &str,
        tz: &str,
        from_ms: i64,
        to_ms: i64,
        scope: &ReportScope,
        filter: &ReportFilter,
        group: GroupBy,
    ) -> StoreResult<Vec<CounterRow>> {
        let cache = fold::FoldCache::default();
        self.support_counters_in(&cache, project_id, tz, from_ms, to_ms, scope, filter, group)
            .await
    }

    /// [`Self::support_counters`] folding raw windows through `cache`: the
    /// reads of one report share their open tail ([`fold::FoldCache`]).
    #[allow(clippy::too_many_arguments)]
    async fn support_counters_in(
        &self,
        cache: &fold::FoldCache,
        project_id: &str,
        tz: &str,
        from_ms: i64,
        to_ms: i64,
        scope: &ReportScope,
        filter: &ReportFilter,
        group: GroupBy,
    ) -> StoreResult<Vec<CounterRow>> {
        snapshots::counters(
            self.db(),
            cache,
            project_id,
            tz,
            from_ms,
            to_ms,
            scope,
            filter,
            group,
        )
        .await
    }

    /// The same answer folded from the raw `support_events` and
    /// `agent_activity_logs` rows, ignoring snapshots: the reference.
    #[allow(clippy::too_many_arguments)]
    async fn support_counters_raw(
        &self,
        project_id: &str,
        tz: &str,
        from_ms: i64,
        to_ms: i64,
        scope: &ReportScope,
        filter: &ReportFilter,
        group: GroupBy,
    ) -> StoreResult<Vec<CounterRow>> {
        let p = periods::Periods::new(tz);
        let groups = fold::fold_window(self.db(), project_id, &p, from_ms, to_ms, group).await?;
        Ok(fold::rows(groups, scope, filter))
    }

    /// Folds every project's newly closed hours, days and weeks into
    /// snapshots (the scheduler's leader runs it; see [`snapshots`]).
    async fn keep_support_snapshots(&self, now_ms: i64) -> StoreResult<KeepReport> {
        snapshots::keep(self.db(), now_ms).await
    }

    /// Recomputes closed snapshots from the raw rows: of the local days
    /// `from..=to` of each project (or `only` that one), or all of them
    /// without days; then folds what closed since, as the keep does.
    async fn rebuild_support_snapshots(
        &self,
        only: Option<&str>,
        days: Option<(jiff::civil::Date, jiff::civil::Date)>,
        now_ms: i64,
    ) -> StoreResult<KeepReport> {
        snapshots::rebuild(self.db(), only, days, now_ms).await
    }

    // The report endpoints' other reads (S2): settings and the state now.

    async fn support_settings(&self, project_id: &str) -> StoreResult<settings::SupportSettings> {
        settings::get(self.db(), project_id).await
    }

    async fn put_support_settings(
        &self,
        project_id: &str,
        s: &settings::SupportSettings,
    ) -> StoreResult<()> {
        settings::put(self.db(), project_id, s).await
    }

    /// Open and pending conversations now: `(status, priority, n)`.
    async fn support_open_now(
        &self,
        project_id: &str,
        scope: &ReportScope,
        filter: &ReportFilter,
    ) -> StoreResult<Vec<(String, String, i64)>> {
        now::open_now(self.db(), project_id, scope, filter).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn support_latest_failures(
        &self,
        project_id: &str,
        scope: &ReportScope,
        filter: &ReportFilter,
        channel: &str,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<now::FailedMessage>> {
        now::latest_failures(
            self.db(),
            project_id,
            scope,
            filter,
            channel,
            from_ms,
            to_ms,
            limit,
        )
        .await
    }

    /// `(waiting or sending, sent since)` on a channel.
    async fn support_queue_now(
        &self,
        project_id: &str,
        channel: &str,
        sent_since_ms: i64,
    ) -> StoreResult<(i64, i64)> {
        now::queue_now(self.db(), project_id, channel, sent_since_ms).await
    }

    async fn support_last_webhook_at(
        &self,
        project_id: &str,
        channel: &str,
        since_ms: i64,
    ) -> StoreResult<Option<i64>> {
        now::last_webhook_at(self.db(), project_id, channel, since_ms).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn support_export_page(
        &self,
        project_id: &str,
        scope: &ReportScope,
        filter: &ReportFilter,
        from_ms: i64,
        to_ms: i64,
        after: Option<&(i64, String)>,
        limit: i64,
    ) -> StoreResult<Vec<export::ExportConversation>> {
        export::conversations_page(
            self.db(),
            project_id,
            scope,
            filter,
            from_ms,
            to_ms,
            after,
            limit,
        )
        .await
    }

    async fn support_sla_facts(
        &self,
        project_id: &str,
        conversation_ids: &[&str],
    ) -> StoreResult<Vec<(String, String, Option<String>, i64)>> {
        export::sla_facts(self.db(), project_id, conversation_ids).await
    }
}
