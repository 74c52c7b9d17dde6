//! Live feed latency: opens WebSocket clients on one project, sends custom events
//! through `POST /api/v1/collect` at a fixed rate, and measures, per event and per
//! client, the time from the collect response to the `event` message arriving.
//! Driven by `bench/live.sh`, which starts the server(s); see BENCHMARKS.md.
//!
//! live_bench --ws URL --collect URL --project ID --key WRITE_KEY --cookie C
//!            [--rate EVENTS_PER_S] [--secs N] [--clients N] [--batch N]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

struct Args {
    ws: String,
    collect: String,
    project: String,
    key: String,
    cookie: String,
    rate: u64,
    secs: u64,
    clients: usize,
    batch: u64,
}

fn args() -> Args {
    let mut m: HashMap<String, String> = HashMap::new();
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        m.insert(k.trim_start_matches("--").to_owned(), v);
    }
    let get = |k: &str| {
        m.get(k)
            .cloned()
            .unwrap_or_else(|| panic!("--{k} is required"))
    };
    let num = |k: &str, d: u64| m.get(k).map_or(d, |v| v.parse().expect("a number"));
    Args {
        ws: get("ws"),
        collect: get("collect"),
        project: get("project"),
        key: get("key"),
        cookie: get("cookie"),
        rate: num("rate", 1000),
        secs: num("secs", 10),
        clients: num("clients", 1) as usize,
        batch: num("batch", 10).max(1),
    }
}

/// `n` of an `event` message named `b<n>`.
fn event_number(text: &str) -> Option<u64> {
    if !text.contains("\"type\":\"event\"") {
        return None;
    }
    let rest = &text[text.find("\"name\":\"b")? + 9..];
    rest[..rest.find('"')?].parse().ok()
}

#[derive(Default)]
struct ClientLog {
    arrivals: Vec<(u64, Instant)>,
    snapshots: u64,
}

#[tokio::main]
async fn main() {
    let a = args();
    let total = a.rate * a.secs;
    let returned: Arc<Mutex<Vec<Option<Instant>>>> =
        Arc::new(Mutex::new(vec![None; total as usize + 1]));

    // Connect every client and wait for its snapshot before sending anything.
    let url = format!("{}/api/v1/projects/{}/live", a.ws, a.project);
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut clients = Vec::new();
    for _ in 0..a.clients {
        let mut req = url.as_str().into_client_request().unwrap();
        req.headers_mut()
            .insert("cookie", a.cookie.parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("\"snapshot\"") => {}
            other => panic!("expected a snapshot first, got {other:?}"),
        }
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let mut log = ClientLog::default();
            loop {
                let msg = tokio::select! {
                    m = ws.next() => m,
                    _ = stop.notified() => break,
                };
                let Some(Ok(msg)) = msg else { break };
                let Message::Text(t) = msg else { continue };
                let at = Instant::now();
                // A substring search instead of a JSON parse keeps the client's
                // CPU cost low next to the server's on a shared machine.
                if let Some(n) = event_number(&t) {
                    log.arrivals.push((n, at));
                } else if t.contains("\"type\":\"snapshot\"") {
                    log.snapshots += 1;
                }
            }
            log
        }));
    }
    eprintln!(
        "{} clients connected; sending {} events/s for {} s",
        a.clients, a.rate, a.secs
    );

    // Send `rate` events a second in requests of `batch`, paced every 10 ms.
    let http = reqwest::Client::new();
    let inflight = Arc::new(tokio::sync::Semaphore::new(512));
    let mut next: u64 = 1;
    let mut failed = 0u64;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut sends = Vec::new();
    while next <= total {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * a.rate as f64) as u64 + 1;
        while next <= due.min(total) {
            let first = next;
            let last = (first + a.batch - 1).min(total);
            next = last + 1;
            let batch: Vec<Value> = (first..=last)
                .map(|n| {
                    let s = n % 1000;
                    json!({"type": "event", "id": uuid::Uuid::new_v4().to_string(),
                           "anonymous_id": format!("ba{s}"), "session_id": format!("bs{s}"),
                           "name": format!("b{n}"), "url": "https://bench.example/p"})
                })
                .collect();
            let body = json!({"key": a.key, "batch": batch}).to_string();
            let permit = inflight.clone().acquire_owned().await.unwrap();
            let (http, url, returned) = (
                http.clone(),
                format!("{}/api/v1/collect", a.collect),
                returned.clone(),
            );
            sends.push(tokio::spawn(async move {
                let res = http
                    .post(url)
                    .header("content-type", "text/plain")
                    .header("user-agent", BROWSER_UA)
                    .body(body)
                    .send()
                    .await;
                let at = Instant::now();
                drop(permit);
                match res {
                    Ok(r) if r.status().as_u16() == 202 => {
                        let mut ret = returned.lock().unwrap();
                        for n in first..=last {
                            ret[n as usize] = Some(at);
                        }
                        true
                    }
                    _ => false,
                }
            }));
        }
    }
    for s in sends {
        if !s.await.unwrap_or(false) {
            failed += 1;
        }
    }
    let send_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.notify_waiters();
    let mut latencies = Vec::new();
    let (mut received, mut snapshots) = (0u64, 0u64);
    let returned = returned.lock().unwrap().clone();
    let acked = returned.iter().filter(|r| r.is_some()).count() as u64;
    for c in clients {
        let log = c.await.unwrap();
        snapshots += log.snapshots;
        received += log.arrivals.len() as u64;
        for (n, at) in log.arrivals {
            if let Some(Some(ret)) = returned.get(n as usize) {
                // Dashboards may hear of a batch before its request is answered.
                latencies.push(at.saturating_duration_since(*ret));
            }
        }
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        json!({
            "rate_target": a.rate,
            "rate_achieved": (acked as f64 / send_secs).round(),
            "clients": a.clients,
            "events_acked": acked,
            "failed_requests": failed,
            "messages_expected": acked * a.clients as u64,
            "messages_received": received,
            "lag_snapshots": snapshots,
            "p50_ms": (pct(0.50) * 10.0).round() / 10.0,
            "p99_ms": (pct(0.99) * 10.0).round() / 10.0,
            "max_ms": (pct(1.0) * 10.0).round() / 10.0,
        })
    );
}
