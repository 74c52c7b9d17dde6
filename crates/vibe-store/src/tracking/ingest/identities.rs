//! Who each message of a batch belongs to. Anonymous ids map to people through
//! `site_user_aliases`; an identify ties a person to a `user_id`, merging an
//! anonymous person into the existing person of that user when there is one.
//! The decisions are made here; the backend answers the reads and runs the
//! writes through [`IngestIo`].

use std::collections::{BTreeSet, HashMap, HashSet};

use jiff::civil::Date;
use vibe_core::day::ProjectTz;
use vibe_core::Message;

use super::io::{IngestIo, Key};
use super::TimeZones;
use crate::funnel_rollup::PersonMove;
use crate::rollup::Deltas;
use crate::StoreResult;

#[derive(Default)]
pub struct Identities {
    pub by_anon: HashMap<Key, String>,
    pub by_user: HashMap<Key, Option<String>>,
    /// `user_id` of each person touched, as known after this batch.
    pub user_of: HashMap<Key, Option<String>>,
    /// Rollup changes caused by merging people.
    pub deltas: Deltas,
    /// Past events that changed owner, for the funnel rollup.
    pub moves: Vec<PersonMove>,
    /// Sketch changes of the merges (`uniques`), written with the batch's.
    pub uniques: crate::uniques::ingest::Adds,
}

impl Identities {
    pub fn person_for(&self, project: &str, m: &Message) -> String {
        let key = |id: &str| (project.to_owned(), id.to_owned());
        if let Some(anon) = &m.anonymous_id {
            if let Some(p) = self.by_anon.get(&key(anon)) {
                return p.clone();
            }
        }
        let uid = m.user_id.as_deref().unwrap_or_default();
        self.by_user
            .get(&key(uid))
            .cloned()
            .flatten()
            .unwrap_or_else(|| user_person_id(uid))
    }
}

/// The person of a user first seen without an anonymous id (or whose device
/// belonged to someone else).
pub fn user_person_id(user_id: &str) -> String {
    format!("uid:{user_id}")
}

/// Resolves every message's person, running the alias and merge writes it
/// implies in message order.
pub async fn resolve_identities<I: IngestIo>(
    io: &mut I,
    fresh: &[(&str, &Message)],
    tzs: &TimeZones,
) -> StoreResult<Identities> {
    let mut ids = Identities::default();
    let users: BTreeSet<Key> = fresh
        .iter()
        .filter_map(|(p, m)| Some(((*p).to_owned(), m.user_id.clone()?)))
        .collect();
    io.lock_users(&users.into_iter().collect::<Vec<_>>())
        .await?;

    // Known aliases; unknown anonymous ids become people of their own.
    let anons: HashSet<Key> = fresh
        .iter()
        .filter_map(|(p, m)| Some(((*p).to_owned(), m.anonymous_id.clone()?)))
        .collect();
    let mut anons: Vec<Key> = anons.into_iter().collect();
    anons.sort();
    ids.by_anon = io.read_aliases(&anons).await?;
    let new_aliases: Vec<&Key> = anons
        .iter()
        .filter(|k| !ids.by_anon.contains_key(*k))
        .collect();
    io.insert_aliases(&new_aliases).await?;
    for (p, a) in new_aliases {
        ids.by_anon.insert((p.clone(), a.clone()), a.clone());
    }

    // Only messages carrying a user_id can change identities.
    for (project, m) in fresh {
        let Some(uid) = m.user_id.clone() else {
            continue;
        };
        let ukey = ((*project).to_owned(), uid.clone());
        let q = match ids.by_user.get(&ukey) {
            Some(q) => q.clone(),
            None => {
                let q = io.person_of_user(project, &uid).await?;
                // A user id no person has: a signup, on the day of its first
                // stored message (what `vibe stats rebuild` can see again).
                if q.is_none() && m.kind.is_stored_event() {
                    ids.deltas.signup(project, tzs.get(project), m.ts);
                }
                ids.by_user.insert(ukey.clone(), q.clone());
                if let Some(q) = &q {
                    ids.user_of
                        .insert(((*project).to_owned(), q.clone()), Some(uid.clone()));
                }
                q
            }
        };
        let Some(anon) = &m.anonymous_id else {
            // Server-side message without an anonymous id: the user's person.
            let person = q.unwrap_or_else(|| user_person_id(&uid));
            ids.by_user.insert(ukey, Some(person.clone()));
            ids.user_of
                .insert(((*project).to_owned(), person), Some(uid));
            continue;
        };
        let akey = ((*project).to_owned(), anon.clone());
        let p = ids
            .by_anon
            .get(&akey)
            .cloned()
            .unwrap_or_else(|| anon.clone());
        let pkey = ((*project).to_owned(), p.clone());
        let p_user = match ids.user_of.get(&pkey) {
            Some(u) => u.clone(),
            None => {
                let u = io.user_of_person(project, &p).await?.flatten();
                ids.user_of.insert(pkey.clone(), u.clone());
                u
            }
        };
        if p_user.as_deref() == Some(uid.as_str()) {
            continue;
        }
        match (q, p_user) {
            (Some(q), None) if q != p => {
                // Before any exact row moves: the sketches find `p` through them.
                ids.uniques.merge(io, project, &p, &q).await?;
                merge_person(io, project, &p, &q, tzs.get(project), &mut ids.deltas).await?;
                ids.moves.push(PersonMove::Merge {
                    project_id: (*project).to_owned(),
                    from: p.clone(),
                    into: q.clone(),
                });
                for person in ids.by_anon.values_mut().filter(|x| **x == p) {
                    person.clone_from(&q);
                }
                ids.user_of.remove(&pkey);
            }
            (Some(q), Some(_)) => repoint(io, &mut ids, akey, &p, q).await?,
            (Some(_), None) => {}
            (None, None) => {
                ids.user_of.insert(pkey, Some(uid.clone()));
                ids.by_user.insert(ukey, Some(p.clone()));
                io.set_user(project, &p, &uid).await?;
            }
            (None, Some(_)) => {
                // This device belonged to someone else: a new person for this user.
                let person = user_person_id(&uid);
                repoint(io, &mut ids, akey, &p, person.clone()).await?;
                ids.by_user.insert(ukey, Some(person.clone()));
                ids.user_of
                    .insert(((*project).to_owned(), person), Some(uid.clone()));
            }
        }
    }
    Ok(ids)
}

/// Points device `akey` at person `to` (it was `from`'s), and records the move
/// for the funnel rollup.
async fn repoint<I: IngestIo>(
    io: &mut I,
    ids: &mut Identities,
    akey: Key,
    from: &str,
    to: String,
) -> StoreResult<()> {
    let (project, anon) = &akey;
    io.repoint_alias(project, anon, &to).await?;
    ids.moves.push(PersonMove::Repoint {
        project_id: project.clone(),
        anonymous_id: anon.clone(),
        from: from.to_owned(),
        to: to.clone(),
    });
    ids.by_anon.insert(akey, to);
    Ok(())
}

/// Folds anonymous person `from` into `into`: aliases, sessions, active days and
/// counters move; the merged person is new on the earlier of the two first days.
async fn merge_person<I: IngestIo>(
    io: &mut I,
    project: &str,
    from: &str,
    into: &str,
    tz: &ProjectTz,
    deltas: &mut Deltas,
) -> StoreResult<()> {
    let (from_first, into_first) = io.first_seen_pair(project, from, into).await?;
    if let (Some(f), Some(i)) = (from_first, into_first) {
        deltas.new_user(project, tz, f, -1);
        if f < i {
            deltas.new_user(project, tz, i, -1);
            deltas.new_user(project, tz, f, 1);
        }
    }
    let from_days = io.active_days_of(project, from).await?;
    let into_days = io.active_days_of(project, into).await?;
    let merged: BTreeSet<Date> = from_days.union(&into_days).copied().collect();
    deltas.churn_change(project, &from_days, &BTreeSet::new());
    deltas.churn_change(project, &into_days, &merged);
    let (from_part, into_part) = ((from_first, &from_days), (into_first, &into_days));
    deltas
        .retention
        .merge(project, tz, from_part, into_part, &merged);
    for day in &io.take_shared_days(project, from, into).await? {
        deltas.active_user(project, day, -1);
    }
    io.move_person(project, from, into).await
}
