//! The campaign sender: every node runs the loop, only the leader
//! (`live.is_leader`, the scheduler's lock) works. Every
//! `outbound_poll_every` it:
//!
//! 1. on becoming leader, and every [`RECOVER_EVERY`] after, makes the
//!    recipients left `claimed` by a crashed (or replaced) sender `unknown`
//!    — their send may have reached the server, so they are never sent
//!    again (at start-up, every claimed row; later, those claimed longer
//!    ago than [`CLAIM_LEASE_MS`]);
//! 2. starts the `scheduled` campaigns whose `send_at` has passed
//!    (materialising their recipients); one whose segment is gone is paused
//!    with the reason;
//! 3. gives each `sending` campaign without one a task ([`run_campaign`]).
//!
//! A campaign's task uses the project's SMTP connection (`smtp::SessionPool`:
//! one per project, kept open across sends and campaigns, which take turns
//! on it; replaced when the settings change, closed when no task uses it),
//! then per recipient, spaced to the
//! campaign's `rate_per_minute`: **claims** it (committed before the send;
//! the claim reads the campaign's status, so a pause or cancel stops it),
//! renders and sends it, and records the outcome — `sent`; a hard bounce
//! (`failed`, the address remembered); `queued` again after
//! `outbound_retry_base_ms · 2^(attempt-1)` for a 4xx, until
//! `outbound_max_attempts`, then `failed`; `unknown`. It ends when nothing
//! is due (the campaign becomes `sent` once nothing is queued or claimed),
//! when the campaign is no longer sending, when this node stops leading,
//! or at shutdown; the next round starts another for what is left.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use tokio::sync::watch;
use tokio::task::JoinSet;
use vibe_store::campaigns::{Campaign, CampaignRef, CampaignStatus, ClaimedRecipient, SendOutcome};
use vibe_store::StoreError;

use super::message::{campaign_data, campaign_draft, prepare};
use super::smtp::{Delivery, SessionPool, SharedSession, SmtpSession};
use crate::api::channels::{self, settings::Kind};
use crate::api::templates::preview::contact_of;
use crate::api::templates::Draft;
use crate::outbound::email::SmtpConfig;
use crate::outbound::sender::backoff_ms;
use crate::outbound::SendError;
use crate::state::AppState;

/// A campaign without a `rate_per_minute` sends at most this many a minute.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 600;
/// A recipient claimed longer ago than this (far beyond any SMTP timeout)
/// belongs to a sender that is gone.
pub const CLAIM_LEASE_MS: i64 = 10 * 60 * 1000;
const RECOVER_EVERY: Duration = Duration::from_secs(60);
/// Campaigns one node sends at once.
const MAX_CAMPAIGNS: usize = 16;
/// After the SMTP server could not be reached, a campaign waits this long.
const UNREACHABLE_WAIT: Duration = Duration::from_secs(5);

/// 128 random bits as hex: the recipient's token (its links' key).
pub fn new_token() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let busy: Arc<Mutex<HashSet<CampaignRef>>> = Default::default();
    let pool: Arc<SessionPool> = Default::default();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut leading = false;
    let mut recovered = Instant::now();
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        let leads = state.live.is_leader.load(Ordering::SeqCst);
        if leads {
            let now = state.clock.now_ms();
            // A new leader owns no claim yet: every claimed row is a gone
            // sender's. Later, only those past the lease.
            let cut = if !leading {
                Some(now + 1)
            } else if recovered.elapsed() >= RECOVER_EVERY {
                Some(now - CLAIM_LEASE_MS)
            } else {
                None
            };
            if let Some(before) = cut {
                recovered = Instant::now();
                match state.store.recover_claimed(before, now).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        recipients = n,
                        "campaign recipients left claimed are now unknown (not sent again)"
                    ),
                    Err(e) => tracing::warn!(error = %e, "campaign claim recovery failed"),
                }
            }
            if let Err(e) = round(&state, &busy, &pool, &mut tasks, &stop).await {
                tracing::warn!(error = %e, "campaign round failed");
            }
        }
        leading = leads;
        pool.close_idle().await;
        tokio::select! {
            _ = tokio::time::sleep(state.config.outbound_poll_every) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // In-flight sends finish and are recorded.
    while tasks.join_next().await.is_some() {}
    pool.close_idle().await;
}

async fn round(
    state: &AppState,
    busy: &Arc<Mutex<HashSet<CampaignRef>>>,
    pool: &Arc<SessionPool>,
    tasks: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    for due in state
        .store
        .campaigns_to_run(CampaignStatus::Scheduled, now)
        .await?
    {
        start_due(state, &due, now).await;
    }
    for c in state
        .store
        .campaigns_to_run(CampaignStatus::Sending, now)
        .await?
    {
        if !busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.clone())
        {
            continue;
        }
        if tasks.len() >= MAX_CAMPAIGNS {
            busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&c);
            break;
        }
        let (state, busy, pool, stop) = (state.clone(), busy.clone(), pool.clone(), stop.clone());
        tasks.spawn(async move {
            if let Err(e) = run_campaign(&state, &c, &pool, &stop).await {
                tracing::warn!(project = %c.project_id, campaign = %c.id, error = %e,
                    "campaign send stopped; continuing next round");
            }
            busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&c);
        });
    }
    Ok(())
}

/// A scheduled campaign come due: its recipients materialised, `sending`.
pub async fn start_due(state: &AppState, c: &CampaignRef, now: i64) {
    match state.store.start_campaign(&c.project_id, &c.id, now).await {
        Ok(started) => tracing::info!(project = %c.project_id, campaign = %c.id,
            recipients = started.recipients, skipped = started.skipped, "campaign started"),
        // Started, paused or cancelled meanwhile.
        Err(StoreError::Conflict(_)) | Err(StoreError::NotFound) => {}
        Err(StoreError::Rejected(why)) => {
            tracing::warn!(project = %c.project_id, campaign = %c.id, reason = %why,
                "campaign cannot start; paused");
            let _ = state
                .store
                .pause_campaign_with_error(&c.project_id, &c.id, &why, now)
                .await;
        }
        Err(e) => tracing::warn!(project = %c.project_id, campaign = %c.id, error = %e,
            "starting a campaign failed; retrying next round"),
    }
}

/// Pauses the campaign with `why` (nothing can be sent until it is fixed).
async fn pause(state: &AppState, c: &CampaignRef, why: &str) -> anyhow::Result<()> {
    tracing::warn!(project = %c.project_id, campaign = %c.id, reason = %why, "campaign paused");
    state
        .store
        .pause_campaign_with_error(&c.project_id, &c.id, why, state.clock.now_ms())
        .await?;
    Ok(())
}

/// The project's email channel as a session, or why there is none.
pub async fn email_session(state: &AppState, project_id: &str) -> Result<SmtpSession, String> {
    let channel = channels::load(state, project_id, Kind::Email)
        .await
        .map_err(|e| format!("loading the email channel: {e}"))?
        .ok_or("the email channel is not configured")?;
    if !channel.settings.enabled {
        return Err("the email channel is disabled".into());
    }
    let config = SmtpConfig::from_json(&channel.config)?;
    let password = channel.secrets.get("password").cloned();
    Ok(SmtpSession::new(config, password))
}

async fn run_campaign(
    state: &AppState,
    c: &CampaignRef,
    pool: &SessionPool,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let Some(campaign) = state.store.get_campaign(&c.project_id, &c.id).await? else {
        return Ok(());
    };
    if campaign.status() != Some(CampaignStatus::Sending) {
        return Ok(());
    }
    // Only retries not yet due (or nobody) left: no connection for them.
    let now = state.clock.now_ms();
    match state.store.campaign_next_due(&c.project_id, &c.id).await? {
        Some(at) if at <= now => {}
        Some(_) => return Ok(()),
        None => {
            state
                .store
                .finish_campaign_if_done(&c.project_id, &c.id, now)
                .await?;
            return Ok(());
        }
    }
    let draft = match campaign_draft(state, &c.project_id, &campaign).await {
        Ok(d) => d,
        Err(why) => return pause(state, c, &why).await,
    };
    match campaign.channel.as_str() {
        "push" => return send_all(state, c, &campaign, &draft, Transport::Push, stop).await,
        "in_app" => return send_all(state, c, &campaign, &draft, Transport::InApp, stop).await,
        _ => {}
    }
    let session = match email_session(state, &c.project_id).await {
        Ok(s) => pool.session(&c.project_id, s),
        Err(why) => return pause(state, c, &why).await,
    };
    send_all(state, c, &campaign, &draft, Transport::Smtp(&session), stop).await
}

/// How a campaign's messages leave: the project's SMTP session (email), or
/// one request per browser (push, `campaigns::push`), or a message in the
/// contact's widget conversation (in_app, `campaigns::in_app`).
enum Transport<'a> {
    Smtp(&'a SharedSession),
    Push,
    InApp,
}

async fn send_all(
    state: &AppState,
    c: &CampaignRef,
    campaign: &Campaign,
    draft: &Draft,
    transport: Transport<'_>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let rate = campaign
        .rate_per_minute
        .unwrap_or(DEFAULT_RATE_PER_MINUTE)
        .max(1);
    let every = Duration::from_secs_f64(60.0 / rate as f64);
    let data = campaign_data(campaign);
    let mut next = Instant::now();
    loop {
        if *stop.borrow() || !state.live.is_leader.load(Ordering::SeqCst) {
            return Ok(());
        }
        let wait = next.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            let mut stop = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
        }
        // The project's connection, held from before the claim (an
        // unreachable server claims nobody) until the outcome is known.
        let mut session = match &transport {
            Transport::Smtp(shared) => Some(shared.lock().await),
            Transport::Push | Transport::InApp => None,
        };
        let ready = match session.as_mut() {
            Some(s) => s.ready().await,
            None => Ok(()),
        };
        match ready {
            Ok(()) => {}
            Err(SendError::Fail(why)) => return pause(state, c, &why).await,
            Err(SendError::Retry(why)) | Err(SendError::Unknown(why)) => {
                tracing::info!(project = %c.project_id, campaign = %c.id, reason = %why,
                    "SMTP server unreachable; trying again later");
                drop(session);
                let mut stop = stop.clone();
                tokio::select! {
                    _ = tokio::time::sleep(UNREACHABLE_WAIT) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
                return Ok(());
            }
        }
        let now = state.clock.now_ms();
        let token = new_token();
        let Some(r) = state
            .store
            .claim_recipient(&c.project_id, &c.id, &token, now)
            .await?
        else {
            if state
                .store
                .finish_campaign_if_done(&c.project_id, &c.id, now)
                .await?
            {
                tracing::info!(project = %c.project_id, campaign = %c.id, "campaign sent");
            }
            return Ok(());
        };
        next = Instant::now().max(next) + every;
        let (outcome, setup) = match session.as_deref_mut() {
            Some(smtp) => deliver(state, &c.project_id, draft, &data, smtp, &r).await,
            None if matches!(transport, Transport::InApp) => (
                super::in_app::deliver(state, &c.project_id, draft, &data, &r).await,
                None,
            ),
            None => (
                super::push::deliver(state, &c.project_id, draft, &data, &r).await,
                None,
            ),
        };
        drop(session);
        let now = state.clock.now_ms();
        state
            .store
            .record_send(&c.project_id, &c.id, &r.person_id, &outcome, now)
            .await?;
        if let Some(why) = setup {
            return pause(state, c, &why).await;
        }
    }
}

/// Renders and sends one claimed recipient: the outcome to record and, when
/// the server refuses our settings, why the campaign must pause.
async fn deliver(
    state: &AppState,
    project_id: &str,
    draft: &Draft,
    data: &serde_json::Value,
    session: &mut SmtpSession,
    r: &ClaimedRecipient,
) -> (SendOutcome, Option<String>) {
    let failed = |error: String| SendOutcome::Failed {
        error,
        hard_bounce: false,
    };
    let person = match state.store.find_user(project_id, &r.person_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return (failed("the person no longer exists".into()), None),
        Err(e) => return (retry(state, r, format!("reading the person: {e}")), None),
    };
    let Some(address) = r.address.as_deref() else {
        return (failed("no address".into()), None);
    };
    let email = match prepare(
        state,
        session.config(),
        draft,
        (contact_of(&person), data),
        address,
        &r.token,
    )
    .and_then(|e| e.to_message().map(|m| (e, m)))
    {
        Ok(x) => x,
        Err(why) => return (failed(why), None),
    };
    let (email, message) = email;
    match session.send(&message).await {
        Delivery::Sent => (
            SendOutcome::Sent {
                message_id: email.message_id,
            },
            None,
        ),
        Delivery::HardBounce(error) => (
            SendOutcome::Failed {
                error,
                hard_bounce: true,
            },
            None,
        ),
        Delivery::Rejected(error) => (failed(error), None),
        Delivery::Retry(error) => (retry(state, r, error), None),
        Delivery::Unknown(error) => (SendOutcome::Unknown { error }, None),
        // Nothing went out: queued again at once, the campaign paused.
        Delivery::Setup(error) => (
            SendOutcome::Retry {
                error: error.clone(),
                next_attempt_at: state.clock.now_ms(),
            },
            Some(error),
        ),
    }
}

/// Queued again after the backoff, or failed once the attempts are spent
/// (a soft bounce).
pub(super) fn retry(state: &AppState, r: &ClaimedRecipient, error: String) -> SendOutcome {
    if r.attempts >= state.config.outbound_max_attempts {
        return SendOutcome::Failed {
            error: format!("gave up after {} attempts: {error}", r.attempts),
            hard_bounce: false,
        };
    }
    SendOutcome::Retry {
        error,
        next_attempt_at: state.clock.now_ms()
            + backoff_ms(state.config.outbound_retry_base_ms, r.attempts),
    }
}
