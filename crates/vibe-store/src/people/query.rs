//! The people list: segments, search, sort and keyset pagination. The SQL is built
//! once here with `?` placeholders, numbered by `numbered_placeholders` before it
//! runs, so both backends run the same query.

use serde::Serialize;

/// Segments (docs/metrics.md): by last activity, or by the `plan` trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    All,
    /// Seen in the last 7 days.
    Active,
    /// Last seen 7–30 days ago.
    Inactive,
    /// Plan is set and is not free, trial or churned.
    Premium,
    /// Plan is `trial`.
    Trial,
    /// Not seen for 30 days, or plan is `churned`.
    Churned,
}

impl Segment {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "all" | "alle" | "" => Self::All,
            "active" | "actief" => Self::Active,
            "inactive" | "inactief" => Self::Inactive,
            "premium" => Self::Premium,
            "trial" => Self::Trial,
            "churned" => Self::Churned,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Premium => "premium",
            Self::Trial => "trial",
            Self::Churned => "churned",
        }
    }

    /// Appends ` AND …` restricting `site_users su` to this segment at
    /// `now_ms` (nothing for `All`), with `?` placeholders: the people list
    /// and a campaign's recipients use the same condition.
    pub fn push_sql(self, now_ms: i64, sql: &mut String, args: &mut Vec<SqlValue>) {
        let week = now_ms - 7 * DAY_MS;
        let month = now_ms - 30 * DAY_MS;
        match self {
            Segment::All => {}
            Segment::Active => {
                sql.push_str(" AND su.last_seen >= ?");
                args.push(SqlValue::Int(week));
            }
            Segment::Inactive => {
                sql.push_str(" AND su.last_seen < ? AND su.last_seen >= ?");
                args.extend([SqlValue::Int(week), SqlValue::Int(month)]);
            }
            Segment::Premium => sql.push_str(
                " AND su.plan IS NOT NULL AND lower(su.plan) NOT IN ('free', 'trial', 'churned')",
            ),
            Segment::Trial => sql.push_str(" AND lower(su.plan) = 'trial'"),
            Segment::Churned => {
                sql.push_str(" AND (su.last_seen < ? OR lower(su.plan) = 'churned')");
                args.push(SqlValue::Int(month));
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    /// Most recently seen first (default).
    LastSeen,
    /// Newest first.
    FirstSeen,
}

impl UserSort {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "last_seen" | "-last_seen" => Some(Self::LastSeen),
            "first_seen" | "-first_seen" => Some(Self::FirstSeen),
            _ => None,
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::LastSeen => "last_seen",
            Self::FirstSeen => "first_seen",
        }
    }
}

/// Where the previous page ended: the sort value and id of its last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCursor {
    pub value: i64,
    pub id: String,
}

impl UserCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.value, hex(self.id.as_bytes()))
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (v, id) = s.split_once('.')?;
        Some(Self {
            value: v.parse().ok()?,
            id: String::from_utf8(unhex(id)?).ok()?,
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, Clone)]
pub struct UserQuery {
    pub project_id: String,
    pub segment: Segment,
    pub search: Option<String>,
    /// Only people carrying this tag (already normalised).
    pub tag: Option<String>,
    pub priority: Option<crate::crm::Priority>,
    /// Only people matching a custom segment's criteria (`segments/`).
    pub criteria: Option<std::sync::Arc<crate::segments::Node>>,
    pub sort: UserSort,
    pub cursor: Option<UserCursor>,
    pub limit: i64,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Real(f64),
}

impl SqlValue {
    /// Binds builder values in order; both backends run the builders' SQL.
    pub(crate) fn bind_all<'q, DB, O>(
        mut q: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
        args: Vec<SqlValue>,
    ) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
    where
        DB: sqlx::Database,
        String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        for a in args {
            q = match a {
                SqlValue::Text(s) => q.bind(s),
                SqlValue::Int(i) => q.bind(i),
                SqlValue::Real(f) => q.bind(f),
            };
        }
        q
    }
}

pub const USER_COLUMNS: &str =
    "id, anonymous_id, user_id, email, name, plan, traits, first_seen, last_seen, device, browser, os, event_count";

const DAY_MS: i64 = 86_400_000;

impl UserQuery {
    /// SQL with `?` placeholders and the values to bind, in order. The
    /// dialect matters only to custom segment criteria on traits.
    pub fn to_sql(&self, dialect: crate::segments::Dialect) -> (String, Vec<SqlValue>) {
        // `su`: the alias custom segment criteria refer to.
        let mut sql = format!("SELECT {USER_COLUMNS} FROM site_users su WHERE project_id = ?");
        let mut args = vec![SqlValue::Text(self.project_id.clone())];
        self.segment.push_sql(self.now_ms, &mut sql, &mut args);
        if let Some(q) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            let pattern = format!(
                "%{}%",
                q.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            sql.push_str(" AND (");
            let cols = ["id", "user_id", "email", "name"];
            for (i, col) in cols.iter().enumerate() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!("lower({col}) LIKE ? ESCAPE '\\'"));
                args.push(SqlValue::Text(pattern.clone()));
            }
            sql.push(')');
        }
        // Each an indexed lookup of the CRM tables (`contact_tags_tag`,
        // `contacts_priority`), so they combine with any segment or search.
        if let Some(tag) = &self.tag {
            sql.push_str(
                " AND id IN (SELECT site_user_id FROM contact_tags WHERE project_id = ? AND tag = ?)",
            );
            args.extend([
                SqlValue::Text(self.project_id.clone()),
                SqlValue::Text(tag.clone()),
            ]);
        }
        if let Some(priority) = self.priority {
            sql.push_str(
                " AND id IN (SELECT site_user_id FROM contacts WHERE project_id = ? AND priority = ?)",
            );
            args.extend([
                SqlValue::Text(self.project_id.clone()),
                SqlValue::Text(priority.as_str().to_owned()),
            ]);
        }
        if let Some(criteria) = &self.criteria {
            sql.push_str(" AND ");
            criteria.push_sql(dialect, &self.project_id, self.now_ms, &mut sql, &mut args);
        }
        let col = self.sort.column();
        if let Some(c) = &self.cursor {
            // `{col} <= ?` first: a range the index can seek to, so a page deep in
            // the list does not rescan the pages before it (an export of a million
            // people was quadratic).
            sql.push_str(&format!(" AND {col} <= ? AND ({col} < ? OR id > ?)"));
            args.extend([
                SqlValue::Int(c.value),
                SqlValue::Int(c.value),
                SqlValue::Text(c.id.clone()),
            ]);
        }
        sql.push_str(&format!(" ORDER BY {col} DESC, id ASC LIMIT ?"));
        args.push(SqlValue::Int(self.limit));
        (sql, args)
    }

    /// The cursor for the page after `last`.
    pub fn cursor_after(&self, last: &crate::SiteUser) -> UserCursor {
        let value = match self.sort {
            UserSort::LastSeen => last.last_seen,
            UserSort::FirstSeen => last.first_seen,
        };
        UserCursor {
            value,
            id: last.id.clone(),
        }
    }
}

/// Rewrites `?` placeholders as `$1, $2, …`, the form both backends accept.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// A session in a person's history, with the pages visited in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionWithPages {
    #[serde(flatten)]
    pub session: crate::SiteSession,
    pub pages: Vec<PageVisit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PageVisit {
    #[serde(skip)]
    pub session_id: String,
    pub path: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub ts: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = UserCursor {
            value: 1_700_000_000_000,
            id: "anon.1/ü".into(),
        };
        assert_eq!(UserCursor::decode(&c.encode()), Some(c));
        assert_eq!(UserCursor::decode("garbage"), None);
        assert_eq!(UserCursor::decode("1.zz"), None);
    }

    #[test]
    fn search_escapes_like_wildcards() {
        let q = UserQuery {
            project_id: "p".into(),
            segment: Segment::Active,
            search: Some("50%_off".into()),
            tag: None,
            priority: None,
            criteria: None,
            sort: UserSort::LastSeen,
            cursor: None,
            limit: 10,
            now_ms: 0,
        };
        let (sql, args) = q.to_sql(crate::segments::Dialect::Sqlite);
        assert!(sql.contains("ESCAPE"));
        assert!(args.contains(&SqlValue::Text("%50\\%\\_off%".into())));
        assert_eq!(
            numbered_placeholders("a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
    }
}
