//! Custom segment criteria: the JSON grammar (docs/api.md, "Segments"), parsed
//! once into typed values ([`Node::parse`]), and compiled into one SQL `WHERE`
//! fragment over `site_users su` ([`Node::push_sql`]).
//!
//! **Values are never spliced.** Every value that comes from a criterion —
//! trait keys included — is pushed as a `?` placeholder with its
//! [`SqlValue`]; the SQL text itself is assembled only from the constant
//! strings in this file, chosen by the parsed operator. The people list
//! (`people/query.rs`) numbers the placeholders (`numbered_placeholders`) and
//! binds the values in order, on both backends.
//!
//! Every condition compiles to a two-valued expression (true or false, never
//! NULL: `EXISTS`, `IN` over non-NULL ids, `COALESCE`), so `not` is the exact
//! complement of what it wraps: `not (trait plan eq "pro")` includes people
//! without the trait.

use serde_json::{Map, Value};

use crate::crm::Priority;
use crate::users::SqlValue;

/// Groups (`all`/`any`/`not`) may nest at most this deep.
pub const MAX_DEPTH: usize = 5;
/// At most this many conditions in one criteria tree.
pub const MAX_CONDITIONS: usize = 50;
/// Longest text value, trait key or event name, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest day count for `within_days` / `before_days` (about 10 years).
pub const MAX_DAYS: i64 = 3650;

const DAY_MS: i64 = 86_400_000;

/// Which SQL dialect a fragment is for. Only trait conditions differ: traits
/// are JSON text, read with `json_each` on SQLite and `jsonb_each` on
/// PostgreSQL (the JSON functions of the two databases have no common form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(db: &crate::db::Db) -> Self {
        match db {
            crate::db::Db::Sqlite(_) => Self::Sqlite,
            crate::db::Db::Postgres(_) => Self::Postgres,
        }
    }
}

/// A criteria tree: groups of conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Every child matches (an empty `all` matches everyone).
    All(Vec<Node>),
    /// At least one child matches (an empty `any` matches nobody).
    Any(Vec<Node>),
    Not(Box<Node>),
    Cond(Condition),
}

/// A JSON scalar a trait is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TraitOp {
    /// Same JSON type and value (numbers compare numerically).
    Eq(Scalar),
    /// Not `Eq` (also people without the trait).
    Neq(Scalar),
    /// A text trait containing this text, case-insensitively (no wildcards:
    /// `%` and `_` are plain characters).
    Contains(String),
    /// Present and not `null`.
    Exists,
    /// A number trait greater than this.
    Gt(f64),
    /// A number trait less than this.
    Lt(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Lt,
    Eq,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Self::Gt => " > ",
            Self::Lt => " < ",
            Self::Eq => " = ",
        }
    }
}

/// A column compared with a day count back from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recency {
    /// At or after `now - N days`.
    WithinDays(i64),
    /// Before `now - N days`.
    BeforeDays(i64),
}

/// What `plan` and `priority` conditions test.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueOp<T> {
    Eq(T),
    /// Not `Eq` (also people without one).
    Neq(T),
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

impl SubscriptionStatus {
    pub const NAMES: &'static str = "trialing, active, past_due, canceled";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Trait {
        key: String,
        op: TraitOp,
    },
    /// The promoted `plan` column; compared case-insensitively.
    Plan(ValueOp<String>),
    /// Carries this tag (normalised as tags are: trimmed, lowercase).
    Tag(String),
    Priority(ValueOp<Priority>),
    FirstSeen(Recency),
    LastSeen(Recency),
    /// Number of sessions.
    Sessions(Cmp, i64),
    /// Performed the custom event `name` at least `min_count` times, in the
    /// last `within_days` days if given.
    Event {
        name: String,
        min_count: i64,
        within_days: Option<i64>,
    },
    /// Sum of succeeded payments in `currency` (minor units), compared.
    TotalSpent {
        cmp: Cmp,
        amount: i64,
        currency: String,
    },
    /// Has (`eq`) or has no (`neq`) subscription in this status.
    SubscriptionStatus {
        negated: bool,
        status: SubscriptionStatus,
    },
}

/// Why criteria were refused: the JSON path of the offending part
/// (`criteria.all[2].op`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriteriaError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for CriteriaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for CriteriaError {}

type Parsed<T> = Result<T, CriteriaError>;

fn bad<T>(field: &str, message: impl Into<String>) -> Parsed<T> {
    Err(CriteriaError {
        field: field.to_owned(),
        message: message.into(),
    })
}

struct Parser {
    conditions: usize,
}

impl Node {
    /// Parses and validates criteria; `root` names the value in errors
    /// (`"criteria"`). Never panics, whatever the input.
    pub fn parse(value: &Value, root: &str) -> Parsed<Node> {
        let mut p = Parser { conditions: 0 };
        p.node(value, root, 0)
    }

    /// Number of conditions in the tree.
    pub fn condition_count(&self) -> usize {
        match self {
            Self::All(v) | Self::Any(v) => v.iter().map(Node::condition_count).sum(),
            Self::Not(n) => n.condition_count(),
            Self::Cond(_) => 1,
        }
    }

    /// Appends this tree as one boolean SQL expression over `site_users su`
    /// with `?` placeholders, pushing the values to bind in order.
    pub fn push_sql(
        &self,
        dialect: Dialect,
        project_id: &str,
        now_ms: i64,
        sql: &mut String,
        args: &mut Vec<SqlValue>,
    ) {
        match self {
            Self::All(nodes) | Self::Any(nodes) if nodes.is_empty() => {
                sql.push_str(if matches!(self, Self::All(_)) {
                    "(1 = 1)"
                } else {
                    "(1 = 0)"
                });
            }
            Self::All(nodes) | Self::Any(nodes) => {
                let join = if matches!(self, Self::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                // Under `all`, a small indexed set of people (a tag, an
                // event, …) should drive the count: the recency columns'
                // index would otherwise be chosen and walk everyone seen in
                // the window (SQLite plans without statistics).
                let set_driven = matches!(self, Self::All(_))
                    && nodes
                        .iter()
                        .any(|n| matches!(n, Self::Cond(c) if c.is_indexed_set()));
                sql.push('(');
                for (i, n) in nodes.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(join);
                    }
                    match n {
                        Self::Cond(c) if set_driven => {
                            c.push_sql_with(dialect, project_id, now_ms, true, sql, args)
                        }
                        _ => n.push_sql(dialect, project_id, now_ms, sql, args),
                    }
                }
                sql.push(')');
            }
            Self::Not(n) => {
                sql.push_str("(NOT ");
                n.push_sql(dialect, project_id, now_ms, sql, args);
                sql.push(')');
            }
            Self::Cond(c) => c.push_sql_with(dialect, project_id, now_ms, false, sql, args),
        }
    }
}

impl Parser {
    fn node(&mut self, v: &Value, path: &str, depth: usize) -> Parsed<Node> {
        let Value::Object(obj) = v else {
            return bad(path, "must be an object: {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or a condition with \"field\"");
        };
        let group = ["all", "any", "not"]
            .into_iter()
            .find(|k| obj.contains_key(*k));
        let Some(group) = group else {
            if obj.contains_key("field") {
                return self.condition(obj, path);
            }
            return bad(
                path,
                "must have one of \"all\", \"any\", \"not\" or be a condition with \"field\"",
            );
        };
        if obj.len() != 1 {
            let extra = obj.keys().find(|k| k.as_str() != group).cloned();
            return bad(
                &format!("{path}.{}", extra.unwrap_or_default()),
                format!("a \"{group}\" group has no other keys"),
            );
        }
        if depth >= MAX_DEPTH {
            return bad(path, format!("groups nest at most {MAX_DEPTH} deep"));
        }
        let inner = &obj[group];
        let inner_path = format!("{path}.{group}");
        if group == "not" {
            return Ok(Node::Not(Box::new(self.node(
                inner,
                &inner_path,
                depth + 1,
            )?)));
        }
        let Value::Array(items) = inner else {
            return bad(&inner_path, "must be an array");
        };
        let mut nodes = Vec::with_capacity(items.len().min(MAX_CONDITIONS));
        for (i, item) in items.iter().enumerate() {
            nodes.push(self.node(item, &format!("{inner_path}[{i}]"), depth + 1)?);
        }
        Ok(if group == "all" {
            Node::All(nodes)
        } else {
            Node::Any(nodes)
        })
    }

    fn condition(&mut self, obj: &Map<String, Value>, path: &str) -> Parsed<Node> {
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return bad(path, format!("at most {MAX_CONDITIONS} conditions"));
        }
        let c = Cond { obj, path };
        let field = c.text("field")?;
        let op = c.text("op")?;
        let cond = match field.as_str() {
            "trait" => {
                c.only(&["field", "op", "key", "value"])?;
                let key = c.text("key")?;
                let op = match op.as_str() {
                    "eq" => TraitOp::Eq(c.scalar()?),
                    "neq" => TraitOp::Neq(c.scalar()?),
                    "contains" => TraitOp::Contains(c.text("value")?),
                    "exists" => {
                        c.no_value()?;
                        TraitOp::Exists
                    }
                    "gt" => TraitOp::Gt(c.number()?),
                    "lt" => TraitOp::Lt(c.number()?),
                    _ => return c.bad_op("eq, neq, contains, exists, gt, lt"),
                };
                Condition::Trait { key, op }
            }
            "plan" => {
                c.only(&["field", "op", "value"])?;
                Condition::Plan(c.value_op(&op, |s, _| Ok(s.to_owned()))?)
            }
            "priority" => {
                c.only(&["field", "op", "value"])?;
                Condition::Priority(c.value_op(&op, |s, field| {
                    Priority::parse(s).ok_or_else(|| CriteriaError {
                        field: field.to_owned(),
                        message: format!("must be one of {}", Priority::NAMES),
                    })
                })?)
            }
            "tag" => {
                c.only(&["field", "op", "value"])?;
                if op != "has" {
                    return c.bad_op("has");
                }
                Condition::Tag(c.text("value")?.trim().to_lowercase())
            }
            "first_seen" | "last_seen" => {
                c.only(&["field", "op", "value"])?;
                let days = c.int("value", 0..=MAX_DAYS)?;
                let r = match op.as_str() {
                    "within_days" => Recency::WithinDays(days),
                    "before_days" => Recency::BeforeDays(days),
                    _ => return c.bad_op("within_days, before_days"),
                };
                if field == "first_seen" {
                    Condition::FirstSeen(r)
                } else {
                    Condition::LastSeen(r)
                }
            }
            "sessions" => {
                c.only(&["field", "op", "value"])?;
                let cmp = c.cmp(&op)?;
                Condition::Sessions(cmp, c.int("value", 0..=i64::MAX)?)
            }
            "event" => {
                c.only(&["field", "op", "name", "count", "within_days"])?;
                if op != "performed" {
                    return c.bad_op("performed");
                }
                let min_count = match obj.get("count") {
                    None => 1,
                    Some(_) => c.int("count", 1..=1_000_000_000)?,
                };
                let within_days = match obj.get("within_days") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(c.int("within_days", 1..=MAX_DAYS)?),
                };
                Condition::Event {
                    name: c.text("name")?,
                    min_count,
                    within_days,
                }
            }
            "total_spent" => {
                c.only(&["field", "op", "value", "currency"])?;
                let cmp = c.cmp(&op)?;
                let amount = c.int("value", 0..=i64::MAX)?;
                let currency = c.text("currency")?;
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return bad(
                        &format!("{path}.currency"),
                        "must be an ISO 4217 code in upper case, e.g. EUR",
                    );
                }
                Condition::TotalSpent {
                    cmp,
                    amount,
                    currency,
                }
            }
            "subscription_status" => {
                c.only(&["field", "op", "value"])?;
                let negated = match op.as_str() {
                    "eq" => false,
                    "neq" => true,
                    _ => return c.bad_op("eq, neq"),
                };
                let s = c.text("value")?;
                let status = SubscriptionStatus::parse(&s).ok_or_else(|| CriteriaError {
                    field: format!("{path}.value"),
                    message: format!("must be one of {}", SubscriptionStatus::NAMES),
                })?;
                Condition::SubscriptionStatus { negated, status }
            }
            _ => {
                return bad(
                    &format!("{path}.field"),
                    "must be one of trait, plan, tag, priority, first_seen, last_seen, sessions, event, total_spent, subscription_status",
                )
            }
        };
        Ok(Node::Cond(cond))
    }
}

/// One condition object being read, with its path for errors.
struct Cond<'a> {
    obj: &'a Map<String, Value>,
    path: &'a str,
}

impl Cond<'_> {
    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn bad_op<T>(&self, allowed: &str) -> Parsed<T> {
        bad(
            &self.at("op"),
            format!("must be one of {allowed} for this field"),
        )
    }

    /// Refuses keys this kind of condition does not have (typos included).
    fn only(&self, allowed: &[&str]) -> Parsed<()> {
        match self.obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => bad(
                &self.at(k),
                format!("unknown key; this condition has {}", allowed.join(", ")),
            ),
            None => Ok(()),
        }
    }

    fn text(&self, key: &str) -> Parsed<String> {
        match self.obj.get(key) {
            Some(Value::String(s)) if s.is_empty() => bad(&self.at(key), "must not be empty"),
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT_CHARS => bad(
                &self.at(key),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ),
            Some(Value::String(s)) if s.contains('\0') => {
                bad(&self.at(key), "must not contain NUL characters")
            }
            Some(Value::String(s)) => Ok(s.clone()),
            None => bad(&self.at(key), "is required"),
            Some(_) => bad(&self.at(key), "must be a string"),
        }
    }

    fn int(&self, key: &str, range: std::ops::RangeInclusive<i64>) -> Parsed<i64> {
        match self.obj.get(key).and_then(Value::as_i64) {
            Some(n) if range.contains(&n) => Ok(n),
            Some(_) => bad(
                &self.at(key),
                format!(
                    "must be between {} and {}",
                    range.start(),
                    if *range.end() == i64::MAX {
                        "2^63-1".to_owned()
                    } else {
                        range.end().to_string()
                    }
                ),
            ),
            None if self.obj.contains_key(key) => bad(&self.at(key), "must be an integer"),
            None => bad(&self.at(key), "is required"),
        }
    }

    fn number(&self) -> Parsed<f64> {
        match self.obj.get("value").and_then(Value::as_f64) {
            Some(n) if n.is_finite() => Ok(n),
            _ if self.obj.contains_key("value") => bad(&self.at("value"), "must be a number"),
            _ => bad(&self.at("value"), "is required"),
        }
    }

    fn scalar(&self) -> Parsed<Scalar> {
        match self.obj.get("value") {
            Some(Value::String(_)) => self.text("value").map(Scalar::Text),
            Some(Value::Bool(b)) => Ok(Scalar::Bool(*b)),
            Some(Value::Number(_)) => self.number().map(Scalar::Number),
            None => bad(&self.at("value"), "is required"),
            Some(_) => bad(&self.at("value"), "must be a string, a number or a boolean"),
        }
    }

    fn no_value(&self) -> Parsed<()> {
        if self.obj.contains_key("value") {
            return bad(&self.at("value"), "`exists` takes no value");
        }
        Ok(())
    }

    fn cmp(&self, op: &str) -> Parsed<Cmp> {
        Ok(match op {
            "gt" => Cmp::Gt,
            "lt" => Cmp::Lt,
            "eq" => Cmp::Eq,
            _ => return self.bad_op("gt, lt, eq"),
        })
    }

    fn value_op<T>(&self, op: &str, parse: impl Fn(&str, &str) -> Parsed<T>) -> Parsed<ValueOp<T>> {
        let value = || -> Parsed<T> { parse(&self.text("value")?, &self.at("value")) };
        Ok(match op {
            "eq" => ValueOp::Eq(value()?),
            "neq" => ValueOp::Neq(value()?),
            "exists" => {
                self.no_value()?;
                ValueOp::Exists
            }
            _ => return self.bad_op("eq, neq, exists"),
        })
    }
}

// The people of an event: its anonymous id's person now (merges re-point
// aliases), or — without an anonymous id — the person of its user id; the same
// attribution as the rollups (`analytics::ROLLUP_EVENTS`). Never NULL, so a
// `NOT (su.id IN …)` is exact.
const EVENT_PEOPLE: &str = "su.id IN (SELECT COALESCE(a.site_user_id, u.id) FROM user_events e
     LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
     LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
     WHERE e.project_id = ? AND e.kind = 'event' AND e.name = ?";
/// `person_features` (kept at ingest, moved by merges), by its
/// `(project_id, name, events)` index.
const FEATURE_PEOPLE: &str = "su.id IN (SELECT f.site_user_id FROM person_features f
     WHERE f.project_id = ? AND f.name = ? AND f.events >= ?";
const EVENT_PEOPLE_END: &str = " AND COALESCE(a.site_user_id, u.id) IS NOT NULL
     GROUP BY COALESCE(a.site_user_id, u.id) HAVING COUNT(*) >= ?)";

impl Condition {
    /// Whether this condition is a lookup of its people in an index of
    /// their own (usually far fewer than the people seen in a window).
    fn is_indexed_set(&self) -> bool {
        match self {
            Self::Tag(_) | Self::Priority(ValueOp::Eq(_)) => true,
            Self::SubscriptionStatus { negated, .. } => !negated,
            Self::Event {
                name,
                min_count,
                within_days,
            } => {
                !vibe_core::reserved::is_reserved(name)
                    && (within_days.is_none() || *min_count <= 1)
            }
            _ => false,
        }
    }

    /// Appends the condition; with `unindexed_recency` the first/last seen
    /// columns are written `+column`, which keeps SQLite from driving the
    /// query by their index (a no-op for PostgreSQL's planner).
    fn push_sql_with(
        &self,
        dialect: Dialect,
        project_id: &str,
        now_ms: i64,
        unindexed_recency: bool,
        sql: &mut String,
        args: &mut Vec<SqlValue>,
    ) {
        let text = |s: &str| SqlValue::Text(s.to_owned());
        let project = || SqlValue::Text(project_id.to_owned());
        match self {
            Self::Trait { key, op } => push_trait(dialect, key, op, sql, args),
            Self::Plan(op) => match op {
                ValueOp::Eq(v) | ValueOp::Neq(v) => {
                    let neg = matches!(op, ValueOp::Neq(_));
                    sql.push_str(if neg { "(NOT " } else { "(" });
                    sql.push_str("COALESCE(lower(su.plan) = lower(?), FALSE))");
                    args.push(text(v));
                }
                ValueOp::Exists => sql.push_str("(su.plan IS NOT NULL AND su.plan <> '')"),
            },
            Self::Tag(tag) => {
                sql.push_str(
                    "su.id IN (SELECT t.site_user_id FROM contact_tags t WHERE t.project_id = ? AND t.tag = ?)",
                );
                args.extend([project(), text(tag)]);
            }
            Self::Priority(op) => {
                let neg = matches!(op, ValueOp::Neq(_));
                sql.push_str(if neg { "(NOT " } else { "(" });
                sql.push_str(
                    "su.id IN (SELECT c.site_user_id FROM contacts c WHERE c.project_id = ? AND c.priority ",
                );
                args.push(project());
                match op {
                    ValueOp::Eq(p) | ValueOp::Neq(p) => {
                        sql.push_str("= ?))");
                        args.push(text(p.as_str()));
                    }
                    ValueOp::Exists => sql.push_str("IS NOT NULL))"),
                }
            }
            Self::FirstSeen(r) | Self::LastSeen(r) => {
                if unindexed_recency {
                    sql.push('+');
                }
                sql.push_str(if matches!(self, Self::FirstSeen(_)) {
                    "su.first_seen"
                } else {
                    "su.last_seen"
                });
                let (cmp, days) = match r {
                    Recency::WithinDays(d) => (" >= ?", d),
                    Recency::BeforeDays(d) => (" < ?", d),
                };
                sql.push_str(cmp);
                args.push(SqlValue::Int(now_ms.saturating_sub(days * DAY_MS)));
            }
            Self::Sessions(cmp, n) => {
                // Kept at ingest (migration 0022), beside last_seen in the
                // `site_users_segment` index.
                sql.push_str("su.session_count");
                sql.push_str(cmp.sql());
                sql.push('?');
                args.push(SqlValue::Int(*n));
            }
            Self::Event {
                name,
                min_count,
                within_days,
            } => {
                // The per-person counter answers "ever, N times" and "at
                // least once within N days" from its index; counting several
                // events within a window (and reserved names, which it does
                // not count) needs the events themselves.
                let cutoff = within_days.map(|d| now_ms.saturating_sub(d * DAY_MS));
                if !vibe_core::reserved::is_reserved(name) && (cutoff.is_none() || *min_count <= 1)
                {
                    sql.push_str(FEATURE_PEOPLE);
                    args.extend([project(), text(name), SqlValue::Int(*min_count)]);
                    if let Some(cutoff) = cutoff {
                        sql.push_str(" AND f.last_ts >= ?");
                        args.push(SqlValue::Int(cutoff));
                    }
                    sql.push(')');
                } else {
                    sql.push_str(EVENT_PEOPLE);
                    args.extend([project(), text(name)]);
                    if let Some(cutoff) = cutoff {
                        sql.push_str(" AND e.ts >= ?");
                        args.push(SqlValue::Int(cutoff));
                    }
                    sql.push_str(EVENT_PEOPLE_END);
                    args.push(SqlValue::Int(*min_count));
                }
            }
            // `payments` and `subscriptions` belong to the revenue domain
            // (migration 0011, docs/architecture.md).
            Self::TotalSpent {
                cmp,
                amount,
                currency,
            } => {
                sql.push_str(
                    "COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.project_id = su.project_id
                     AND p.site_user_id = su.id AND p.status = 'succeeded' AND p.currency = ?), 0)",
                );
                args.push(text(currency));
                sql.push_str(cmp.sql());
                sql.push('?');
                args.push(SqlValue::Int(*amount));
            }
            Self::SubscriptionStatus { negated, status } => {
                sql.push_str(if *negated { "(NOT " } else { "(" });
                sql.push_str(
                    "su.id IN (SELECT b.site_user_id FROM subscriptions b WHERE b.project_id = ? AND b.status = ?))",
                );
                args.extend([project(), text(status.as_str())]);
            }
        }
    }
}

/// A trait condition: `EXISTS` over the trait object's entries with this key
/// (bound, so any key — dots and quotes included — is just a key, never a JSON
/// path), tested by type and value. The one backend-specific fragment: SQLite
/// reads JSON text with `json_each` (value as SQL text/integer/real, `type`
/// as `text`/`integer`/`real`/`true`/`false`/`null`/…), PostgreSQL with
/// `jsonb_each` on the text cast to `jsonb` (`jsonb_typeof`, `#>> '{}'` for the
/// scalar as text). No `?`-operator of `jsonb` is used: `?` is our placeholder.
fn push_trait(
    dialect: Dialect,
    key: &str,
    op: &TraitOp,
    sql: &mut String,
    args: &mut Vec<SqlValue>,
) {
    let (open, ty, as_text, as_num) = match dialect {
        Dialect::Sqlite => (
            "EXISTS (SELECT 1 FROM json_each(su.traits) j WHERE j.key = ?",
            "j.type",
            "j.value",
            "j.value",
        ),
        Dialect::Postgres => (
            "EXISTS (SELECT 1 FROM jsonb_each(su.traits::jsonb) j WHERE j.key = ?",
            "jsonb_typeof(j.value)",
            "(j.value #>> '{}')",
            // CASE, not AND: PostgreSQL may evaluate AND's operands in any
            // order, and a text trait cast to a number would be an error.
            "CASE WHEN jsonb_typeof(j.value) = 'number' THEN (j.value #>> '{}')::float8 END",
        ),
    };
    let (string_t, number_t) = match dialect {
        Dialect::Sqlite => ("'text'", "IN ('integer', 'real')"),
        Dialect::Postgres => ("'string'", "= 'number'"),
    };
    let negated = matches!(op, TraitOp::Neq(_));
    if negated {
        sql.push_str("(NOT ");
    }
    sql.push_str(open);
    args.push(SqlValue::Text(key.to_owned()));
    let number = |sql: &mut String, cmp: &str, n: f64, args: &mut Vec<SqlValue>| {
        sql.push_str(&format!(" AND {ty} {number_t} AND {as_num}{cmp}?"));
        args.push(SqlValue::Real(n));
    };
    match op {
        TraitOp::Eq(v) | TraitOp::Neq(v) => match v {
            Scalar::Text(s) => {
                sql.push_str(&format!(" AND {ty} = {string_t} AND {as_text} = ?"));
                args.push(SqlValue::Text(s.clone()));
            }
            Scalar::Number(n) => number(sql, " = ", *n, args),
            Scalar::Bool(b) => {
                // SQLite's type names the boolean (`true`/`false`); PostgreSQL's
                // text of a boolean is `true`/`false`.
                match dialect {
                    Dialect::Sqlite => sql.push_str(" AND j.type = ?"),
                    Dialect::Postgres => sql.push_str(
                        " AND jsonb_typeof(j.value) = 'boolean' AND (j.value #>> '{}') = ?",
                    ),
                }
                args.push(SqlValue::Text(if *b { "true" } else { "false" }.to_owned()));
            }
        },
        TraitOp::Contains(s) => {
            let find = match dialect {
                Dialect::Sqlite => "instr",
                Dialect::Postgres => "strpos",
            };
            sql.push_str(&format!(
                " AND {ty} = {string_t} AND {find}(lower({as_text}), lower(?)) > 0"
            ));
            args.push(SqlValue::Text(s.clone()));
        }
        TraitOp::Exists => sql.push_str(&format!(" AND {ty} <> 'null'")),
        TraitOp::Gt(n) => number(sql, " > ", *n, args),
        TraitOp::Lt(n) => number(sql, " < ", *n, args),
    }
    sql.push(')');
    if negated {
        sql.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> CriteriaError {
        Node::parse(&v, "criteria").unwrap_err()
    }

    #[test]
    fn errors_name_the_json_path() {
        let e = err(json!({"all": [
            {"field": "plan", "op": "eq", "value": "pro"},
            {"field": "tag", "op": "has", "value": "vip"},
            {"field": "trait", "key": "k", "op": "like", "value": "x"}
        ]}));
        assert_eq!(e.field, "criteria.all[2].op");
        let e = err(json!({"any": [{"not": {"field": "sessions", "op": "gt", "value": "3"}}]}));
        assert_eq!(e.field, "criteria.any[0].not.value");
        assert_eq!(
            err(json!({"field": "nope", "op": "eq"})).field,
            "criteria.field"
        );
        assert_eq!(err(json!([1])).field, "criteria");
        assert_eq!(err(json!({"all": {}})).field, "criteria.all");
        assert_eq!(
            err(json!({"field": "plan", "op": "eq", "value": "x", "vaule": 1})).field,
            "criteria.vaule"
        );
        assert_eq!(
            err(json!({"field": "total_spent", "op": "gt", "value": 5, "currency": "eur"})).field,
            "criteria.currency"
        );
        assert_eq!(
            err(json!({"field": "priority", "op": "eq", "value": "urgent"})).field,
            "criteria.value"
        );
    }

    #[test]
    fn limits_depth_and_count() {
        let mut v = json!({"field": "plan", "op": "exists"});
        for _ in 0..MAX_DEPTH {
            v = json!({"not": v});
        }
        assert!(Node::parse(&v, "criteria").is_ok());
        let deeper = json!({"all": [v]});
        assert!(err(deeper).message.contains("nest"));
        let many: Vec<Value> = (0..=MAX_CONDITIONS)
            .map(|_| json!({"field": "plan", "op": "exists"}))
            .collect();
        let e = err(json!({"all": many}));
        assert_eq!(e.field, format!("criteria.all[{MAX_CONDITIONS}]"));
    }

    #[test]
    fn values_are_placeholders_never_sql() {
        let evil = "' OR 1=1 --\"); DROP TABLE site_users; %_?";
        let v = json!({"any": [
            {"field": "trait", "key": evil, "op": "eq", "value": evil},
            {"field": "trait", "key": evil, "op": "contains", "value": evil},
            {"field": "plan", "op": "eq", "value": evil},
            {"field": "tag", "op": "has", "value": evil},
            {"field": "event", "op": "performed", "name": evil}
        ]});
        let node = Node::parse(&v, "criteria").unwrap();
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let (mut sql, mut args) = (String::new(), Vec::new());
            node.push_sql(d, "p", 0, &mut sql, &mut args);
            assert!(!sql.contains("DROP") && !sql.contains("1=1"), "{sql}");
            assert_eq!(sql.matches('?').count(), args.len(), "{sql}");
        }
    }
}
