//! The sender task: delivers the outbox (`vibe_store::inbox::outbox`).
//!
//! Every node runs one. It wakes when a message is queued on this node
//! ([`super::Outbound::wake`]) and polls every `outbound_poll_every` for
//! the rest (other nodes' messages, retries coming due). Each round it:
//!
//! 1. **Sweeps** rows left `sending` past their lease by a sender that died:
//!    not started → `pending` again; started → `failed` with
//!    `outcome unknown: interrupted while sending …` — the provider may have
//!    accepted it, and sending it again could deliver it twice. (At start
//!    this is what finds a crashed node's rows, once their lease is over.)
//! 2. **Claims** due rows of groups (project + channel) it is not already
//!    sending for, committed before any request; each group gets its own
//!    task, so a slow or failing provider of one project never holds up
//!    another's messages, and a project with a long backlog does not keep
//!    others waiting for more than a round.
//! 3. Per group, one message at a time, throttled by a token bucket of
//!    `outbound_rate_per_s`: marks the row started (only if it is still this
//!    claim's), sends through the conversation's transport, then records the
//!    result — `Sent` → message `sent` with the provider's id; `Retry` →
//!    due again after `outbound_retry_base_ms · 2^(attempt-1)` (capped at an
//!    hour) until `outbound_max_attempts`, then `failed`; `Fail`/`Unknown` →
//!    `failed` with the reason.
//!
//! On shutdown the in-flight sends finish and are recorded; claimed rows not
//! started go back to `pending` for the next start.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use vibe_store::inbox::{Channel, OutboundGroup, OutboundJob, Scope};

use super::{email, twilio, whatsapp, SendError, Sent};
use crate::state::AppState;

/// Rows claimed per round.
const CLAIM_BATCH: i64 = 50;
/// Groups sent for at once by one node.
const MAX_GROUPS: usize = 16;
/// Longest wait between two tries of one message.
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How often the queue depth gauge is recounted and old `sent` rows pruned.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(5);
/// `sent` outbox rows are kept this long (the queue's `sent_1h` needs one hour).
const KEEP_SENT_MS: i64 = 24 * 3_600_000;

/// Delivers `message` through its conversation's transport.
pub async fn dispatch(
    state: &AppState,
    project_id: &str,
    conversation: &vibe_store::inbox::Conversation,
    message: &vibe_store::inbox::Message,
) -> Result<Sent, SendError> {
    let Some(channel) = Channel::parse(&conversation.channel) else {
        return Err(SendError::Fail(format!(
            "unknown channel {}",
            conversation.channel
        )));
    };
    match channel {
        Channel::Whatsapp => {
            if whatsapp::enabled(state, project_id).await? {
                whatsapp::send(state, project_id, conversation, message).await
            } else {
                twilio::send(state, project_id, conversation, message).await
            }
        }
        Channel::Sms => twilio::send(state, project_id, conversation, message).await,
        Channel::Email => email::send(state, project_id, conversation, message).await,
        Channel::InApp | Channel::Api => Err(SendError::Fail(format!(
            "channel {} is not delivered by a provider",
            conversation.channel
        ))),
    }
}

/// When a message tried `attempts` times is due again.
pub fn backoff_ms(base_ms: i64, attempts: i64) -> i64 {
    let shift = attempts.clamp(1, 40) - 1;
    base_ms
        .max(1)
        .checked_mul(1_i64 << shift.min(30))
        .unwrap_or(MAX_BACKOFF_MS)
        .min(MAX_BACKOFF_MS)
}

/// A token bucket per group: `rate` sends a second, bursts of up to `rate`.
#[derive(Default)]
struct Buckets(Mutex<HashMap<OutboundGroup, (f64, Instant)>>);

impl Buckets {
    /// How long to wait before the next send of `group` (a token taken).
    fn take(&self, group: &OutboundGroup, rate: f64) -> Duration {
        let rate = rate.max(0.01);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, at) = map.entry(group.clone()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(rate.max(1.0));
        *at = now;
        *tokens -= 1.0;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-*tokens / rate)
        }
    }
}

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let busy: Arc<Mutex<HashSet<OutboundGroup>>> = Default::default();
    let buckets = Arc::new(Buckets::default());
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut housekeeping = Instant::now() - HOUSEKEEPING_EVERY;
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        if housekeeping.elapsed() >= HOUSEKEEPING_EVERY {
            housekeeping = Instant::now();
            housekeep(&state).await;
        }
        let mut full = false;
        if let Err(e) = sweep(&state).await {
            tracing::warn!(error = %e, "outbound sweep failed");
        }
        if tasks.len() < MAX_GROUPS {
            match claim(&state, &busy, &buckets, &mut tasks, stop.clone()).await {
                Ok(n) => full = n as i64 >= CLAIM_BATCH,
                Err(e) => tracing::warn!(error = %e, "outbound claim failed; retrying"),
            }
        }
        if full && tasks.len() < MAX_GROUPS {
            continue;
        }
        tokio::select! {
            _ = state.outbound.wake.notified() => {}
            _ = tokio::time::sleep(state.config.outbound_poll_every) => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // In-flight sends finish and are recorded; unstarted rows are released.
    while tasks.join_next().await.is_some() {}
}

async fn sweep(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    for job in state.store.sweep_outbound(now).await? {
        tracing::warn!(
            project = %job.project_id,
            message = %job.message_id,
            channel = %job.channel,
            "outbound message interrupted while sending: failed, not retried"
        );
        state
            .metrics
            .outbound_failed
            .add(channel_name(&job.channel), 1);
    }
    Ok(())
}

async fn housekeep(state: &AppState) {
    match state.store.outbound_queue_depth().await {
        Ok(depth) => state.metrics.set_outbound_depth(&depth),
        Err(e) => tracing::warn!(error = %e, "counting the outbound queue failed"),
    }
    let before = state.clock.now_ms() - KEEP_SENT_MS;
    if let Err(e) = state.store.prune_sent_outbound(before).await {
        tracing::warn!(error = %e, "pruning the outbound queue failed");
    }
}

/// Claims a batch and starts one task per group; rows claimed.
async fn claim(
    state: &AppState,
    busy: &Arc<Mutex<HashSet<OutboundGroup>>>,
    buckets: &Arc<Buckets>,
    tasks: &mut JoinSet<()>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    let skip: Vec<OutboundGroup> = {
        let b = busy.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<OutboundGroup> = b.iter().cloned().collect();
        v.sort();
        v
    };
    let now = state.clock.now_ms();
    let claim_id = uuid::Uuid::new_v4().to_string();
    let jobs = state
        .store
        .claim_outbound(
            &claim_id,
            now,
            now + state.config.outbound_lease_ms,
            CLAIM_BATCH,
            &skip,
        )
        .await?;
    let n = jobs.len();
    let mut groups: BTreeMap<OutboundGroup, Vec<OutboundJob>> = BTreeMap::new();
    for job in jobs {
        let g = OutboundGroup {
            project_id: job.project_id.clone(),
            channel: job.channel.clone(),
        };
        groups.entry(g).or_default().push(job);
    }
    // Oldest first within a group (claimed in due order, returned by id).
    for (group, jobs) in groups {
        busy.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(group.clone());
        let (state, busy, buckets, stop) =
            (state.clone(), busy.clone(), buckets.clone(), stop.clone());
        let claim_id = claim_id.clone();
        tasks.spawn(async move {
            send_group(&state, &group, jobs, &buckets, &stop).await;
            // Whatever this claim did not start goes back (a stop, an error).
            let now = state.clock.now_ms();
            if let Err(e) = state.store.release_outbound(&claim_id, &group, now).await {
                tracing::warn!(error = %e, "releasing outbound rows failed");
            }
            busy.lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&group);
        });
    }
    Ok(n)
}

async fn send_group(
    state: &AppState,
    group: &OutboundGroup,
    jobs: Vec<OutboundJob>,
    buckets: &Buckets,
    stop: &watch::Receiver<bool>,
) {
    for job in jobs {
        if *stop.borrow() {
            return;
        }
        let wait = buckets.take(group, state.config.outbound_rate_per_s);
        if !wait.is_zero() {
            let mut stop = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        if let Err(e) = send_one(state, &job).await {
            // The row stays this claim's: released, or swept after its lease.
            tracing::warn!(project = %job.project_id, message = %job.message_id, error = %e,
                "outbound send could not be recorded");
            return;
        }
    }
}

async fn send_one(state: &AppState, job: &OutboundJob) -> anyhow::Result<()> {
    let store = &state.store;
    let pid = &job.project_id;
    let channel = channel_name(&job.channel);
    let message = store.message_by_id(pid, &job.message_id).await?;
    let conversation = match &message {
        Some(m) => {
            store
                .conversation(pid, &Scope::All, &m.conversation_id)
                .await?
        }
        None => None,
    };
    let now = state.clock.now_ms();
    let (Some(message), Some(conversation)) = (message, conversation) else {
        // Deleted meanwhile (the project, its data): nothing to send.
        store
            .outbound_failed(job, now, "the message no longer exists")
            .await?;
        return Ok(());
    };
    if !store
        .start_outbound(job, now, now + state.config.outbound_lease_ms)
        .await?
    {
        return Ok(());
    }
    let result = dispatch(state, pid, &conversation, &message).await;
    let now = state.clock.now_ms();
    match result {
        Ok(sent) => {
            store
                .outbound_sent(job, &sent.channel_message_id, now)
                .await?;
            state.metrics.outbound_sent.add(channel, 1);
            tracing::debug!(project = %pid, message = %job.message_id, channel, "outbound message sent");
        }
        Err(SendError::Retry(reason)) if job.attempts < state.config.outbound_max_attempts => {
            let next = now + backoff_ms(state.config.outbound_retry_base_ms, job.attempts);
            store.outbound_retry_later(job, now, next, &reason).await?;
            state.metrics.outbound_retries.add(channel, 1);
            tracing::info!(project = %pid, message = %job.message_id, channel,
                attempt = job.attempts, retry_in_ms = next - now, reason = %reason,
                "outbound message not sent; retrying later");
        }
        Err(e) => {
            let reason = match e {
                SendError::Retry(r) => format!("gave up after {} attempts: {r}", job.attempts),
                SendError::Fail(r) | SendError::Unknown(r) => r,
            };
            store.outbound_failed(job, now, &reason).await?;
            state.metrics.outbound_failed.add(channel, 1);
            tracing::info!(project = %pid, message = %job.message_id, channel, reason = %reason,
                "outbound message failed");
        }
    }
    Ok(())
}

/// The fixed name of a stored channel (metrics labels stay bounded).
fn channel_name(channel: &str) -> &'static str {
    Channel::parse(channel).map_or("other", Channel::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_ms(10_000, 1), 10_000);
        assert_eq!(backoff_ms(10_000, 2), 20_000);
        assert_eq!(backoff_ms(10_000, 4), 80_000);
        assert_eq!(backoff_ms(10_000, 20), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(i64::MAX, 3), MAX_BACKOFF_MS);
    }

    #[test]
    fn buckets_throttle_per_group() {
        let b = Buckets::default();
        let g = |p: &str| OutboundGroup {
            project_id: p.into(),
            channel: "sms".into(),
        };
        for _ in 0..2 {
            assert_eq!(b.take(&g("a"), 2.0), Duration::ZERO);
        }
        assert!(b.take(&g("a"), 2.0) > Duration::from_millis(400));
        assert_eq!(
            b.take(&g("b"), 2.0),
            Duration::ZERO,
            "another group's bucket"
        );
    }
}
