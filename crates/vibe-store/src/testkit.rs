//! The conformance suite: every backend runs these same cases against a fresh
//! database each, so SQLite and PostgreSQL cannot drift apart.

use std::future::Future;
use std::sync::Arc;

use crate::Store;

mod accounts;
mod audit;
mod campaign_tracking;
mod campaigns;
mod channels;
mod crm;
mod features;
mod fixture;
mod flows;
mod funnel_build;
mod funnel_rollup;
mod funnels;
mod inbox;
mod ingest;
mod people;
mod push;
mod retention;
mod revenue;
mod rollups;
pub mod schema;
mod security;
mod segments;
mod support_analytics;
mod support_events;
mod templates;
mod uniques;

pub use fixture::{
    event, heartbeat, identify, job, leave, msg, new_project, pageview, server_event, Fixture, Msg,
};
pub use rollups::{assert_churn_matches, synthetic_history};

/// 2027-01-15 08:00 UTC: when every case's history starts.
pub const T0: i64 = 1_800_000_000_000;

/// Support snapshots against recomputation on a generated history: long,
/// so each backend runs it as its own test (not part of [`run_all`]).
pub async fn run_support_analytics<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    support_analytics::snapshots_match_recomputation(Fixture::new(fresh().await)).await;
}

/// Runs every case; `fresh` must return a store over an empty database.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let fx = || async { Fixture::new(fresh().await) };
    accounts::accounts_and_sessions(fx().await).await;
    accounts::api_tokens(fx().await).await;
    accounts::projects_and_membership(fx().await).await;
    accounts::first_owner_claims_ownerless_projects(fx().await).await;
    ingest::ingest_creates_people_and_sessions(fx().await).await;
    ingest::late_batches_keep_earliest_and_latest(fx().await).await;
    ingest::ingest_is_idempotent(fx().await).await;
    ingest::leave_heartbeat_and_expiry(fx().await).await;
    ingest::live_feed_lookups(fx().await).await;
    ingest::identify_merges_anonymous_person(fx().await).await;
    ingest::session_counts_follow_sessions_and_merges(fx().await).await;
    ingest::projects_are_isolated(fx().await).await;
    rollups::rollups_follow_ingest(fx().await).await;
    rollups::rollups_follow_merges(fx().await).await;
    rollups::rebuild_matches_incremental(fx().await).await;
    rollups::signups_count_new_user_ids_once(fx().await).await;
    retention::retention_follows_ingest(fx().await).await;
    people::segments_search_and_pagination(fx().await).await;
    people::profiles_and_session_history(fx().await).await;
    crm::contact_fields_tags_and_filters(fx().await).await;
    crm::notes_are_per_person_and_project(fx().await).await;
    crm::merges_carry_crm_fields(fx().await).await;
    crm::timeline_merges_kinds_newest_first(fx().await).await;
    inbox::support_timers_and_reopen(fx().await).await;
    inbox::delivery_statuses_are_monotonic_and_ids_idempotent(fx().await).await;
    inbox::scoping_by_role_and_team(fx().await).await;
    inbox::list_pages_search_and_isolation(fx().await).await;
    inbox::search_bodies_by_word_prefix(fx().await).await;
    inbox::agent_status_log_and_sla(fx().await).await;
    inbox::inbound_deliveries_by_phone(fx().await).await;
    inbox::agents_without_sockets_go_stale(fx().await).await;
    inbox::inbound_email_threads_by_message_id(fx().await).await;
    inbox::outbox_claims_leases_and_enqueues(fx().await).await;
    inbox::broadcasts_queue_once_per_recipient(fx().await).await;
    support_events::support_events_follow_the_conversation(fx().await).await;
    support_events::support_events_bot_only_sla_hit_and_webhooks(fx().await).await;
    support_events::support_events_reopen_flags_failed_auto_replies(fx().await).await;
    support_events::support_events_delivery_out_of_order(fx().await).await;
    features::feature_counts_uniques_and_duplicates(fx().await).await;
    features::merges_unite_feature_and_ai_rows(fx().await).await;
    features::ai_usage_by_model_user_and_day(fx().await).await;
    features::ai_people_snapshot_serves_and_refreshes(fx().await).await;
    features::feature_rebuild_matches_incremental(fx().await).await;
    flows::flow_attempts_follow_ingest(fx().await).await;
    flows::flow_rebuild_matches_incremental(fx().await).await;
    revenue::revenue_report_on_a_hand_made_history(fx().await).await;
    revenue::revenue_upserts_ignore_arrival_order(fx().await).await;
    revenue::merges_move_payments(fx().await).await;
    uniques::counts_match_exact_recomputation(fx().await).await;
    uniques::redated_payments_move_between_days(fx().await).await;
    uniques::big_days_estimate_within_the_error(fx().await).await;
    uniques::concurrent_batches_lose_no_one(fx().await).await;
    revenue::revenue_rollups_match_the_raw_history(fx().await).await;
    revenue::concurrent_batches_keep_the_rollups(fx().await).await;
    funnels::funnels_store_and_match_events(fx().await).await;
    funnel_rollup::funnel_rollup_matches_query_time(fx().await).await;
    security::setup_token_is_single_use(fx().await).await;
    security::concurrent_setup_claims_have_one_winner(fx().await).await;
    security::auth_sessions_are_purged_and_signed_out_everywhere(fx().await).await;
    security::identity_verification_settings(fx().await).await;
    funnel_build::chunked_build_matches_query_time(fx().await).await;
    segments::every_operator_and_combinator(fx().await).await;
    segments::injection_looking_values_are_data(fx().await).await;
    segments::saved_segments_and_counts(fx().await).await;
    segments::revenue_conditions(fx().await).await;
    channels::channel_settings_per_project_and_kind(fx().await).await;
    audit::audit_log_pages_filters_and_isolation(fx().await).await;
    templates::templates_crud_unique_names_and_isolation(fx().await).await;
    push::push_subscriptions_and_vapid_keys(fx().await).await;
    push::push_subscriptions_follow_merges(fx().await).await;
    campaigns::campaigns_crud_guards_and_isolation(fx().await).await;
    campaigns::campaign_recipients_materialise_claim_and_record(fx().await).await;
    campaigns::push_campaign_recipients_are_subscribed_contacts(fx().await).await;
    campaign_tracking::campaign_tracking_opens_clicks_unsubscribes_bounces_and_stats(fx().await)
        .await;
}
