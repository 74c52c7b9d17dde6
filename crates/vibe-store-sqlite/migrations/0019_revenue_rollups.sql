-- Revenue rollups (the revenue report reads these, never `payments` rows or
-- the subscription history): kept at ingest by vibe_store::revenue::rollup
-- as the difference of a payment's / a subscription's contributions without
-- and with each new message, and recomputed by `vibe stats rebuild`. None is
-- per person, so merges leave them alone. Days are local (project time zone).
-- Amounts are minor units of the row's currency. A key whose sums drop to 0
-- is deleted.

-- Payments by paid day: `payments` grouped by (day, currency, plan);
-- plan '' is no plan. `payments` counts them (a 0-amount payment still lists its plan).
CREATE TABLE payment_days (
    project_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    currency   TEXT NOT NULL,
    plan       TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    payments   INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, currency, plan)
);

-- Refunded payments by refund day and paid day (a refund converts at its
-- payment's day).
CREATE TABLE refund_days (
    project_id TEXT NOT NULL,
    refund_day TEXT NOT NULL,
    day        TEXT NOT NULL,
    currency   TEXT NOT NULL,
    plan       TEXT NOT NULL,
    amount     INTEGER NOT NULL,
    payments   INTEGER NOT NULL,
    PRIMARY KEY (project_id, refund_day, day, currency, plan)
);

-- Counted subscriptions (active | past_due) as day deltas: +1/+amount on the
-- day a state is entered, -1/-amount on the day it is left. The state at the
-- end of day D is the sum over day <= D (at the start of D: day < D).
CREATE TABLE subscription_state_days (
    project_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    plan       TEXT NOT NULL,
    currency   TEXT NOT NULL,
    "interval" TEXT NOT NULL,
    subscribers INTEGER NOT NULL,
    amount     INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, plan, currency, "interval")
);

-- Subscription churn as 2-D prefix sums: for each subscription, each
-- (counted span, later canceled span) pair is a rectangle of (from, to) day
-- pairs stored as its signed corners. Subscriptions counted at the start of
-- `from` and canceled at the end of `to` = SUM(n) WHERE x_day < from AND
-- y_day <= to. At most (days of history)^2 rows, whatever the event count.
CREATE TABLE subscription_churn_corners (
    project_id TEXT NOT NULL,
    x_day      TEXT NOT NULL,
    y_day      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (project_id, x_day, y_day)
);

-- Filled from the stored payments and subscription changes by the rebuild on start.
INSERT INTO rollup_rebuilds (project_id)
    SELECT id FROM projects WHERE id NOT IN (SELECT project_id FROM rollup_rebuilds)
    AND (id IN (SELECT project_id FROM payments) OR id IN (SELECT project_id FROM subscription_changes));
