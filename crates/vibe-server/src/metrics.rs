//! Process counters, exposed in Prometheus text format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Metrics {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    pub bots_ignored: AtomicU64,
    pub rejected: AtomicU64,
    pub queue_full: AtomicU64,
    pub batches: AtomicU64,
    pub failed_batches: AtomicU64,
    pub queue_depth: AtomicU64,
    pub queue_bytes: AtomicU64,
    pub rejected_by_storage: AtomicU64,
    pub writer_restarts: AtomicU64,
    /// Channel webhooks refused, by channel and reason (`api/webhooks/`).
    pub webhook_rejected: LabelledCounter,
    /// Values parsed from verified channel webhooks, by channel and what
    /// (`message`, `status`).
    pub webhook_parsed: LabelledCounter,
    /// What the Inbox did with them, by channel and outcome
    /// (`api::webhooks::deliver`).
    pub webhook_stored: LabelledCounter,
    /// Outbound messages the provider accepted, by channel (`outbound/`).
    pub outbound_sent: ChannelCounter,
    /// Outbound messages failed (refused, unknown outcome, given up), by channel.
    pub outbound_failed: ChannelCounter,
    /// Outbound sends to be tried again later, by channel.
    pub outbound_retries: ChannelCounter,
    /// Outbound messages waiting or being sent, every project, by channel
    /// (recounted by the sender every few seconds).
    outbound_depth: Mutex<BTreeMap<String, i64>>,
}

/// A counter with one label whose values are fixed strings in the code.
#[derive(Debug, Default)]
pub struct ChannelCounter(Mutex<BTreeMap<&'static str, u64>>);

impl ChannelCounter {
    pub fn add(&self, channel: &'static str, n: u64) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(channel)
            .or_default() += n;
    }

    pub fn get(&self, channel: &str) -> u64 {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(channel).copied().unwrap_or(0)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (c, n) in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "{name}{{channel=\"{c}\"}} {n}");
        }
    }
}

/// A counter with two labels whose values are fixed strings in the code, so
/// the number of series is bounded.
#[derive(Debug, Default)]
pub struct LabelledCounter(Mutex<BTreeMap<(&'static str, &'static str), u64>>);

impl LabelledCounter {
    pub fn add(&self, a: &'static str, b: &'static str, n: u64) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((a, b))
            .or_default() += n;
    }

    pub fn get(&self, a: &str, b: &str) -> u64 {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .find(|((x, y), _)| *x == a && *y == b)
            .map_or(0, |(_, n)| *n)
    }

    fn render(&self, out: &mut String, name: &str, help: &str, labels: (&str, &str)) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for ((a, b), n) in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "{name}{{{}=\"{a}\",{}=\"{b}\"}} {n}",
                labels.0, labels.1
            );
        }
    }
}

impl Metrics {
    /// The outbound queue's depth per channel, as last counted.
    pub fn set_outbound_depth(&self, depth: &[(String, i64)]) {
        let mut map = self
            .outbound_depth
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for n in map.values_mut() {
            *n = 0;
        }
        for (channel, n) in depth {
            map.insert(channel.clone(), *n);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, kind, v) in [
            (
                "vibe_ingest_accepted_total",
                "Messages accepted and committed.",
                "counter",
                &self.accepted,
            ),
            (
                "vibe_ingest_duplicates_total",
                "Messages skipped as retries of stored ids.",
                "counter",
                &self.duplicates,
            ),
            (
                "vibe_ingest_bots_ignored_total",
                "Messages ignored because the sender is a known bot.",
                "counter",
                &self.bots_ignored,
            ),
            (
                "vibe_ingest_rejected_total",
                "Requests rejected as invalid (4xx).",
                "counter",
                &self.rejected,
            ),
            (
                "vibe_ingest_queue_full_total",
                "Requests answered 503 because the queue was full.",
                "counter",
                &self.queue_full,
            ),
            (
                "vibe_ingest_batches_total",
                "Write transactions committed.",
                "counter",
                &self.batches,
            ),
            (
                "vibe_ingest_failed_batches_total",
                "Write transactions that failed.",
                "counter",
                &self.failed_batches,
            ),
            (
                "vibe_ingest_queue_depth",
                "Requests waiting for the writer.",
                "gauge",
                &self.queue_depth,
            ),
            (
                "vibe_ingest_queue_bytes",
                "Estimated bytes of the requests waiting for the writer.",
                "gauge",
                &self.queue_bytes,
            ),
            (
                "vibe_ingest_rejected_by_storage_total",
                "Requests the database refused, isolated from their batch (422).",
                "counter",
                &self.rejected_by_storage,
            ),
            (
                "vibe_writer_restarts_total",
                "Times the ingest writer died and was restarted.",
                "counter",
                &self.writer_restarts,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        self.webhook_rejected.render(
            &mut out,
            "vibe_channel_webhook_rejected_total",
            "Channel webhook requests refused (nothing stored), by channel and reason.",
            ("channel", "reason"),
        );
        self.webhook_parsed.render(
            &mut out,
            "vibe_channel_webhook_parsed_total",
            "Inbound messages and status updates parsed from verified channel webhooks.",
            ("channel", "kind"),
        );
        self.webhook_stored.render(
            &mut out,
            "vibe_channel_webhook_stored_total",
            "What verified channel webhooks stored: messages (stored, duplicate, no_number), people and conversations created, statuses (applied, unchanged, unknown).",
            ("channel", "outcome"),
        );
        self.outbound_sent.render(
            &mut out,
            "vibe_outbound_sent_total",
            "Outbound messages the provider accepted, by channel.",
        );
        self.outbound_failed.render(
            &mut out,
            "vibe_outbound_failed_total",
            "Outbound messages failed (refused, outcome unknown, or out of attempts), by channel.",
        );
        self.outbound_retries.render(
            &mut out,
            "vibe_outbound_retries_total",
            "Outbound sends put off for a retry (unreachable, 429, 5xx), by channel.",
        );
        let name = "vibe_outbound_queue_depth";
        let _ = writeln!(
            out,
            "# HELP {name} Outbound messages waiting or being sent, every project, by channel.\n# TYPE {name} gauge"
        );
        for (c, n) in self
            .outbound_depth
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "{name}{{channel=\"{c}\"}} {n}");
        }
        out
    }
}
