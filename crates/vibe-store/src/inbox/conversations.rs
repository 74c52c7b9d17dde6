//! Conversations: create (idempotent on the external id), read, list with
//! filters and keyset pages, and patch (status changes through
//! [`super::timers`]). Every statement filters by project and by the
//! caller's [`Scope`].

use super::model::{
    AssigneeFilter, Conversation, ConversationPatch, ConversationQuery, Cursor, NewConversation,
    Page, Status,
};
use super::reporting;
use super::scope::Scope;
use super::sql::{self, Tx, Val};
use super::timers::{transition, transition_sql, Transition};
use crate::db::Db;
use crate::{StoreError, StoreResult};

pub(crate) const SELECT: &str = "SELECT c.id, c.site_user_id, u.name AS contact_name,
        u.email AS contact_email, c.channel, c.status, c.priority, c.assignee_account_id,
        c.team_id, c.inbox_id, c.handled_by_bot, c.escalated_to_human, c.intent, c.csat,
        c.is_lead, c.converted, c.external_id, c.subject, c.first_inbound_at, c.first_response_at,
        c.first_response_s, c.opened_at, c.resolved_at, c.resolution_s, c.first_response_bh_s,
        c.resolution_bh_s, c.bot_only, c.dropped, c.auto_resolve_at, c.last_message_at,
        c.unread_count, c.created_by_account_id, c.created_at, c.updated_at
     FROM conversations c
     LEFT JOIN site_users u ON u.project_id = c.project_id AND u.id = c.site_user_id";

const INSERT: &str = "INSERT INTO conversations (project_id, id, site_user_id, channel, status,
        priority, assignee_account_id, team_id, inbox_id, handled_by_bot, intent, is_lead,
        external_id, opened_at, last_message_at, created_by_account_id, created_at, updated_at,
        assigned_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $14, $14, $16)
     ON CONFLICT (project_id, external_id) DO NOTHING";
const INBOX_TEAM: &str = "SELECT team_id FROM inboxes WHERE project_id = $1 AND id = $2";

/// Creates `new`, or returns the conversation that already has its external
/// id (`false`: nothing was created).
pub(crate) async fn create(
    db: &Db,
    project_id: &str,
    new: &NewConversation,
) -> StoreResult<(Conversation, bool)> {
    let mut team_id = new.team_id.clone();
    if let (None, Some(inbox)) = (&team_id, &new.inbox_id) {
        let found: Option<(Option<String>,)> =
            sql::optional(db, INBOX_TEAM, &[project_id.into(), inbox.into()]).await?;
        team_id = found.ok_or(StoreError::NotFound)?.0;
    }
    let vals: Vec<Val> = vec![
        project_id.into(),
        (&new.id).into(),
        (&new.site_user_id).into(),
        new.channel.as_str().into(),
        new.status.as_str().into(),
        new.priority.as_str().into(),
        (&new.assignee_account_id).into(),
        team_id.into(),
        (&new.inbox_id).into(),
        new.handled_by_bot.into(),
        (&new.intent).into(),
        new.is_lead.into(),
        (&new.external_id).into(),
        new.created_at.into(),
        (&new.created_by_account_id).into(),
        // The initial assignee holds it from its creation (`handled`).
        new.assignee_account_id
            .as_ref()
            .filter(|_| !new.status.is_done())
            .map(|_| new.created_at)
            .into(),
    ];
    let mut tx = Tx::begin(db).await?;
    let created = tx.exec(INSERT, &vals).await? == 1;
    if created {
        reporting::created(&mut tx, project_id, &new.id).await?;
    }
    tx.commit().await?;
    let found = if created {
        by_id(db, project_id, &new.id).await?
    } else {
        let sql = format!("{SELECT} WHERE c.project_id = $1 AND c.external_id = $2");
        sql::optional(db, &sql, &[project_id.into(), (&new.external_id).into()]).await?
    };
    Ok((found.ok_or(StoreError::NotFound)?, created))
}

/// Unscoped, for the store's own reads after a write.
pub(crate) async fn by_id(
    db: &Db,
    project_id: &str,
    id: &str,
) -> StoreResult<Option<Conversation>> {
    let sql = format!("{SELECT} WHERE c.project_id = $1 AND c.id = $2");
    sql::optional(db, &sql, &[project_id.into(), id.into()]).await
}

/// Unscoped, by the project's external id.
pub(crate) async fn by_external_id(
    db: &Db,
    project_id: &str,
    external_id: &str,
) -> StoreResult<Option<Conversation>> {
    let sql = format!("{SELECT} WHERE c.project_id = $1 AND c.external_id = $2");
    sql::optional(db, &sql, &[project_id.into(), external_id.into()]).await
}

/// The conversation if `scope` may see it.
pub(crate) async fn get(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    id: &str,
) -> StoreResult<Option<Conversation>> {
    let (cond, account) = scope.condition(3);
    let sql = format!("{SELECT} WHERE c.project_id = $1 AND c.id = $2 AND {cond}");
    let mut vals: Vec<Val> = vec![project_id.into(), id.into()];
    vals.extend(account.map(Val::Text));
    sql::optional(db, &sql, &vals).await
}

/// `%…%` for `LIKE … ESCAPE '\'`, the wildcards of `q` taken literally.
fn like(q: &str) -> String {
    let mut out = String::from("%");
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// The conversations of project `$1` whose contact's name or email has the
/// substring `$n` (from [`like`]).
const MATCHING_PEOPLE: &str = "SELECT c2.id FROM conversations c2
     WHERE c2.project_id = $1 AND c2.site_user_id IN (SELECT u2.id FROM site_users u2
       WHERE u2.project_id = $1 AND (LOWER(COALESCE(u2.name, '')) LIKE $n ESCAPE '\\'
         OR LOWER(COALESCE(u2.email, '')) LIKE $n ESCAPE '\\'))";

/// The conversations of project `$1` with a message whose body has every
/// word of the search (`$k`, from [`fts5_query`] / [`tsquery`]), through the
/// full-text index of each backend (migration 0028). Not correlated: the
/// index answers once per list, not once per conversation.
const MATCHING_SQLITE: &str = "SELECT m.conversation_id FROM messages_fts f
     JOIN messages m ON m.rowid = f.rowid
     WHERE messages_fts MATCH $k AND m.project_id = $1";
/// `$f` is [`PG_BODY_TSVECTOR`], the expression of the `messages_body_fts` index.
const MATCHING_POSTGRES: &str = "SELECT m.conversation_id FROM messages m
     WHERE $f @@ to_tsquery('simple', $k) AND m.project_id = $1";
/// Exactly the expression of the PostgreSQL `messages_body_fts` index
/// (migration 0028; a test holds them equal), or the planner cannot use it:
/// the body with the common Latin diacritics of [`FOLD_FROM`] folded (what
/// SQLite's `remove_diacritics 2` does), lowercased by the `simple` config.
const PG_BODY_TSVECTOR: &str = concat!(
    "to_tsvector('simple', translate(m.body, '",
    "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿĄąĆćČčĎďĘęĚěĞğİıŁłŃńŇňŐőŘřŚśŞşŠšŤťŮůŰűŹźŻżŽž",
    "', '",
    "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyyAaCcCcDdEeEeGgIiLlNnNnOoRrSsSsSsTtUuUuZzZzZz",
    "'))"
);
/// Letters with a diacritic, and [`FOLD_TO`] their base letters (same order).
const FOLD_FROM: &str = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿĄąĆćČčĎďĘęĚěĞğİıŁłŃńŇňŐőŘřŚśŞşŠšŤťŮůŰűŹźŻżŽž";
const FOLD_TO: &str = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYyyAaCcCcDdEeEeGgIiLlNnNnOoRrSsSsSsTtUuUuZzZzZz";

/// `w` with [`FOLD_FROM`] folded to [`FOLD_TO`], as `translate` does.
fn fold(w: &str) -> String {
    w.chars()
        .map(|c| match FOLD_FROM.chars().position(|f| f == c) {
            Some(i) => FOLD_TO.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// At most this many words of `q` go to the full-text index.
const MAX_SEARCH_WORDS: usize = 16;

/// The words of `q` for the full-text match: runs of letters and digits,
/// lowercased; everything else (quotes, `*`, `-`, parentheses, `:`, `&`…)
/// separates words, so no input is ever query syntax. `NEAR`, `AND`, `OR`
/// stay words: they are quoted ([`fts5_query`]) or plain lexemes ([`tsquery`]).
fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_SEARCH_WORDS)
        .collect()
}

/// `"word1"* "word2"*`: every word as a prefix, all of them (FTS5 AND).
fn fts5_query(words: &[String]) -> String {
    let terms: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
    terms.join(" ")
}

/// `'word1':* & 'word2':*` for `to_tsquery('simple', …)`.
fn tsquery(words: &[String]) -> String {
    let terms: Vec<String> = words.iter().map(|w| format!("'{}':*", fold(w))).collect();
    terms.join(" & ")
}

/// One page, most recent activity first (`last_message_at DESC, id DESC`).
pub(crate) async fn list(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    query: &ConversationQuery,
) -> StoreResult<Page<Conversation>> {
    let mut vals: Vec<Val> = vec![project_id.into()];
    let next = |vals: &mut Vec<Val>, v: Val| {
        vals.push(v);
        vals.len()
    };
    let mut sql = format!("{SELECT} WHERE c.project_id = $1");
    let (cond, account) = scope.condition(2);
    if let Some(a) = account {
        next(&mut vals, a.into());
    }
    sql.push_str(&format!(" AND {cond}"));
    if let Some(s) = query.status {
        let n = next(&mut vals, s.as_str().into());
        sql.push_str(&format!(" AND c.status = ${n}"));
    }
    match &query.assignee {
        Some(AssigneeFilter::Account(a)) => {
            let n = next(&mut vals, a.into());
            sql.push_str(&format!(" AND c.assignee_account_id = ${n}"));
        }
        Some(AssigneeFilter::Nobody) => sql.push_str(" AND c.assignee_account_id IS NULL"),
        None => {}
    }
    if let Some(t) = &query.team_id {
        let n = next(&mut vals, t.into());
        sql.push_str(&format!(" AND c.team_id = ${n}"));
    }
    if let Some(ch) = query.channel {
        let n = next(&mut vals, ch.as_str().into());
        sql.push_str(&format!(" AND c.channel = ${n}"));
    }
    if let Some(p) = query.priority {
        let n = next(&mut vals, p.as_str().into());
        sql.push_str(&format!(" AND c.priority = ${n}"));
    }
    if let Some(u) = &query.site_user_id {
        let n = next(&mut vals, u.into());
        sql.push_str(&format!(" AND c.site_user_id = ${n}"));
    }
    if let Some(windows) = &query.created_within {
        let mut any: Vec<String> = Vec::with_capacity(windows.len());
        for (from, to) in windows {
            let a = next(&mut vals, (*from).into());
            let b = next(&mut vals, (*to).into());
            any.push(format!("(c.created_at >= ${a} AND c.created_at < ${b})"));
        }
        if any.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            sql.push_str(&format!(" AND ({})", any.join(" OR ")));
        }
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.is_empty()) {
        // The matching ids first, then their rows: a rare term costs one
        // pass over the project's people and one index lookup, not a walk of
        // every conversation (bench/inbox.sh).
        let n = next(&mut vals, like(q).into());
        let mut matching = MATCHING_PEOPLE.replace("$n", &format!("${n}"));
        let words = search_words(q);
        if !words.is_empty() {
            let (text, bodies) = match db {
                Db::Sqlite(_) => (fts5_query(&words), MATCHING_SQLITE),
                Db::Postgres(_) => (tsquery(&words), MATCHING_POSTGRES),
            };
            let k = next(&mut vals, text.into());
            matching.push_str(" UNION ");
            matching.push_str(
                &bodies
                    .replace("$f", PG_BODY_TSVECTOR)
                    .replace("$k", &format!("${k}")),
            );
        }
        sql.push_str(&format!(" AND c.id IN ({matching})"));
    }
    if let Some(c) = &query.cursor {
        let ts = next(&mut vals, c.ts.into());
        let id = next(&mut vals, (&c.id).into());
        sql.push_str(&format!(
            " AND (c.last_message_at < ${ts} OR (c.last_message_at = ${ts} AND c.id < ${id}))"
        ));
    }
    let n = next(&mut vals, (query.limit + 1).into());
    sql.push_str(&format!(
        " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ${n}"
    ));
    let mut items: Vec<Conversation> = sql::all(db, &sql, &vals).await?;
    let next_cursor = if items.len() as i64 > query.limit {
        items.truncate(query.limit as usize);
        items.last().map(|c| Cursor {
            ts: c.last_message_at,
            id: c.id.clone(),
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Applies `patch` to a conversation `scope` may see (`None` otherwise), in
/// one transaction: the plain fields in one statement, then the status
/// through its [`transition`], and the reporting facts of both
/// ([`reporting`]) with the attribution of this moment.
pub(crate) async fn update(
    db: &Db,
    project_id: &str,
    scope: &Scope,
    id: &str,
    patch: &ConversationPatch,
    now_ms: i64,
) -> StoreResult<Option<Conversation>> {
    if get(db, project_id, scope, id).await?.is_none() {
        return Ok(None);
    }
    let key: Vec<Val> = vec![project_id.into(), id.into()];
    let mut tx = Tx::begin(db).await?;
    // Touching the row locks it until commit (PostgreSQL; SQLite holds the
    // write lock already): the row read next is the one every change and
    // fact below applies to, so no retry is needed.
    tx.exec(LOCK, &key).await?;
    let Some(before) = reporting::conv_row(&mut tx, project_id, id).await? else {
        tx.commit().await?;
        return Ok(None);
    };
    let mut sets: Vec<String> = Vec::new();
    let mut vals: Vec<Val> = vec![project_id.into(), id.into(), now_ms.into()];
    let mut set = |column: &str, v: Val| {
        vals.push(v);
        sets.push(format!("{column} = ${}", vals.len()));
    };
    if let Some(p) = patch.priority {
        set("priority", p.as_str().into());
    }
    if let Some(a) = &patch.assignee_account_id {
        set("assignee_account_id", a.into());
        if *a != before.assignee_account_id {
            // The new assignee holds it from now while it is open.
            let since = a.as_ref().filter(|_| before.is_open()).map(|_| now_ms);
            set("assigned_at", since.into());
        }
    }
    if let Some(t) = &patch.team_id {
        set("team_id", t.into());
    }
    if let Some(i) = &patch.intent {
        set("intent", i.into());
    }
    if let Some(c) = patch.csat {
        set("csat", c.into());
    }
    if let Some(b) = patch.escalated_to_human {
        set("escalated_to_human", b.into());
    }
    if let Some(b) = patch.handled_by_bot {
        set("handled_by_bot", b.into());
    }
    if let Some(b) = patch.is_lead {
        set("is_lead", b.into());
    }
    if let Some(b) = patch.converted {
        set("converted", b.into());
    }
    let mut current = before.clone();
    if !sets.is_empty() {
        let sql = format!(
            "UPDATE conversations SET {}, updated_at = $3 WHERE project_id = $1 AND id = $2",
            sets.join(", ")
        );
        tx.exec(&sql, &vals).await?;
        current = reporting::conv_row(&mut tx, project_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        reporting::on_patch(&mut tx, project_id, &before, &current, now_ms).await?;
    }
    if let Some(to) = patch.status {
        let from = Status::parse(&current.status).unwrap_or(Status::Open);
        let t = transition(from, to);
        if let Some(sql) = transition_sql(t) {
            let vals: Vec<Val> = vec![
                project_id.into(),
                id.into(),
                to.as_str().into(),
                now_ms.into(),
                from.as_str().into(),
            ];
            if tx.exec(sql, &vals).await? == 1 {
                match t {
                    Transition::Resolve => {
                        reporting::on_resolve(&mut tx, project_id, &current, now_ms).await?
                    }
                    Transition::Reopen => {
                        reporting::on_reopen(&mut tx, project_id, &current, now_ms).await?
                    }
                    Transition::Plain | Transition::None => {}
                }
                let e = current
                    .event(reporting::EventName::Status, now_ms)
                    .label(Some(to.as_str().to_owned()));
                reporting::record(&mut tx, project_id, &e).await?;
            }
        }
    }
    tx.commit().await?;
    by_id(db, project_id, id).await
}

/// A no-op write that takes the conversation's row lock.
const LOCK: &str = "UPDATE conversations SET status = status WHERE project_id = $1 AND id = $2";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_never_syntax() {
        let w = search_words(r#"  "Café"* -NEAR(a,b) 'x':* & | ! o'neil 100%_ "#);
        assert_eq!(w, ["café", "near", "a", "b", "x", "o", "neil", "100"]);
        assert_eq!(fts5_query(&w[..2]), r#""café"* "near"*"#);
        assert_eq!(tsquery(&w[..2]), "'cafe':* & 'near':*");
        assert!(search_words("*()\"'-:&|!").is_empty());
        assert_eq!(search_words(&"a ".repeat(100)).len(), MAX_SEARCH_WORDS);
    }

    #[test]
    fn fold_matches_translate() {
        assert_eq!(FOLD_FROM.chars().count(), FOLD_TO.chars().count());
        assert!(FOLD_TO.is_ascii());
        assert_eq!(fold("łódź ÑANDÚ naïve"), "lodz NANDU naive");
    }

    #[test]
    fn postgres_index_is_the_query_expression() {
        let migration =
            include_str!("../../../vibe-store-postgres/migrations/0028_inbox_search.sql");
        let indexed = PG_BODY_TSVECTOR.replace("m.body", "body");
        assert!(migration.contains(&format!("USING GIN (({indexed}))")));
    }
}
