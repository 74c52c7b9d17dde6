-- Revenue (issue 11): payments and subscriptions kept at ingest from the
-- reserved `payment` / `subscription` events, their history for churn and
-- MRR at any date, exchange rates and the project's reporting currency.
ALTER TABLE projects ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';

CREATE TABLE payments (
    project_id   TEXT NOT NULL,
    payment_id   TEXT NOT NULL,
    site_user_id TEXT NOT NULL,
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    plan         TEXT,
    status       TEXT NOT NULL,
    paid_at      INTEGER NOT NULL,
    day          TEXT NOT NULL,
    refunded_at  INTEGER,
    refund_day   TEXT,
    event_id     TEXT NOT NULL,
    PRIMARY KEY (project_id, payment_id)
);
CREATE INDEX payments_day ON payments(project_id, day);
CREATE INDEX payments_refund_day ON payments(project_id, refund_day);
CREATE INDEX payments_person ON payments(project_id, site_user_id, paid_at);

CREATE TABLE subscriptions (
    project_id      TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    site_user_id    TEXT NOT NULL,
    plan            TEXT NOT NULL,
    status          TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    "interval"      TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    canceled_at     INTEGER,
    last_event_id   TEXT NOT NULL,
    PRIMARY KEY (project_id, subscription_id)
);
CREATE INDEX subscriptions_person ON subscriptions(project_id, site_user_id);
CREATE INDEX subscriptions_status ON subscriptions(project_id, status);

-- Every subscription message: the state from `ts` on (MRR and churn at a date).
CREATE TABLE subscription_changes (
    project_id      TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    ts              INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    plan            TEXT NOT NULL,
    status          TEXT NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    "interval"      TEXT NOT NULL,
    PRIMARY KEY (project_id, subscription_id, ts, event_id)
);
CREATE INDEX subscription_changes_ts ON subscription_changes(project_id, ts);

-- `rate` units of `currency` per 1 unit of `base` on `day` (ECB: base EUR).
CREATE TABLE exchange_rates (
    project_id TEXT NOT NULL,
    base       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    day        TEXT NOT NULL,
    rate       REAL NOT NULL,
    PRIMARY KEY (project_id, base, currency, day)
);
CREATE INDEX exchange_rates_day ON exchange_rates(project_id, day);

-- Payments already stored as events are backfilled by the rebuild on start.
INSERT INTO rollup_rebuilds (project_id)
    SELECT DISTINCT project_id FROM user_events
    WHERE kind = 'event' AND name IN ('payment', 'subscription')
    ON CONFLICT DO NOTHING;
