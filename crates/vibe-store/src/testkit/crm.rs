//! Contact CRM fields: tags, priority, properties, notes, the tag counts and
//! the people-list filters they feed, all kept per project.

use serde_json::{json, Map, Value};

use super::fixture::*;
use super::T0;
use crate::crm::timeline::{TimelineCursor, TimelineItem};
use crate::crm::{Contact, ContactPatch, NewNote, Priority, TagCount};
use crate::users::{Segment, UserQuery, UserSort};
use crate::{Role, StoreError};

/// `id` identified as `user-{id}`.
fn person(id: &str) -> Msg {
    identify(id, &format!("s-{id}"), T0, &format!("user-{id}"))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn tags(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|t| t.to_string()).collect())
}

pub async fn contact_fields_tags_and_filters(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    fx.ingest(&p, [person("ana"), person("bob"), person("cy")])
        .await;
    fx.ingest(&other, [person("ana")]).await;

    assert_eq!(fx.contact(&p.id, "ana").await.unwrap(), Contact::default());

    let patch = ContactPatch {
        tags: tags(&["vip", "beta"]),
        priority: Some(Some(Priority::High)),
        properties: Some(object(json!({"company": "Acme", "seats": 5}))),
    };
    let ana = fx.update_contact(&p.id, "ana", &patch, T0).await.unwrap();
    assert_eq!(ana.tags, ["beta", "vip"]);
    assert_eq!(ana.priority.as_deref(), Some("high"));
    assert_eq!(
        Value::Object(ana.properties),
        json!({"company": "Acme", "seats": 5})
    );

    // Properties merge: later keys win, null removes; untouched fields stay.
    let merge = ContactPatch {
        properties: Some(object(json!({"seats": 7, "company": null, "tier": "gold"}))),
        ..ContactPatch::default()
    };
    let ana = fx
        .update_contact(&p.id, "ana", &merge, T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        Value::Object(ana.properties),
        json!({"seats": 7, "tier": "gold"})
    );
    assert_eq!((ana.tags.len(), ana.priority.as_deref()), (2, Some("high")));

    let bob = ContactPatch {
        tags: tags(&["vip"]),
        priority: Some(Some(Priority::Low)),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, "bob", &bob, T0).await.unwrap();
    let cy = ContactPatch {
        tags: tags(&["beta", "vip"]),
        priority: Some(Some(Priority::High)),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, "cy", &cy, T0).await.unwrap();
    // Another project's tags never count here.
    let elsewhere = ContactPatch {
        tags: tags(&["vip", "elsewhere"]),
        priority: Some(Some(Priority::High)),
        ..ContactPatch::default()
    };
    fx.update_contact(&other.id, "ana", &elsewhere, T0)
        .await
        .unwrap();

    assert_eq!(
        fx.tag_counts(&p.id).await.unwrap(),
        tag_counts(&[("vip", 3), ("beta", 2)])
    );

    let fx = &fx;
    let ids = |tag: Option<&str>, priority: Option<Priority>, search: Option<&str>| {
        let q = UserQuery {
            project_id: p.id.clone(),
            segment: Segment::All,
            search: search.map(str::to_owned),
            tag: tag.map(str::to_owned),
            priority,
            criteria: None,
            sort: UserSort::FirstSeen,
            cursor: None,
            limit: 10,
            now_ms: T0,
        };
        async move {
            let mut ids: Vec<String> = fx
                .list_users(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(ids(Some("vip"), None, None).await, ["ana", "bob", "cy"]);
    assert_eq!(
        ids(Some("beta"), Some(Priority::High), None).await,
        ["ana", "cy"]
    );
    assert_eq!(
        ids(Some("vip"), Some(Priority::High), Some("cy")).await,
        ["cy"]
    );
    assert!(ids(Some("elsewhere"), None, None).await.is_empty());
    assert!(ids(None, Some(Priority::Vip), None).await.is_empty());

    // Replacing the set removes tags; clearing the priority drops the filter match.
    let reset = ContactPatch {
        tags: tags(&[]),
        priority: Some(None),
        ..ContactPatch::default()
    };
    let cy = fx
        .update_contact(&p.id, "cy", &reset, T0 + 2)
        .await
        .unwrap();
    assert!(cy.tags.is_empty() && cy.priority.is_none());
    assert_eq!(ids(None, Some(Priority::High), None).await, ["ana"]);
    assert_eq!(
        fx.tag_counts(&p.id).await.unwrap(),
        tag_counts(&[("vip", 2), ("beta", 1)])
    );

    // Too large once merged: refused, nothing changed.
    let big = ContactPatch {
        properties: Some(object(
            json!({"blob": "x".repeat(crate::crm::MAX_PROPERTIES_BYTES)}),
        )),
        tags: tags(&["lost"]),
        ..ContactPatch::default()
    };
    let refused = fx.update_contact(&p.id, "ana", &big, T0 + 3).await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(
        fx.contact(&p.id, "ana").await.unwrap().tags,
        ["beta", "vip"]
    );

    let theirs = fx.contact(&other.id, "ana").await.unwrap();
    assert_eq!(theirs.tags, ["elsewhere", "vip"]);
    assert!(theirs.properties.is_empty());

    // Byte order on both backends, whatever PostgreSQL's collation: a
    // linguistic one (en_US) would put "ab" before "a-c" and "é" before "f".
    let order = fx.project("Order").await;
    fx.ingest(&order, [person("ana")]).await;
    let mixed = ContactPatch {
        tags: tags(&["ab", "f", "a-c", "é", "a_b"]),
        ..ContactPatch::default()
    };
    let ana = fx
        .update_contact(&order.id, "ana", &mixed, T0)
        .await
        .unwrap();
    assert_eq!(ana.tags, ["a-c", "a_b", "ab", "f", "é"]);
    let ties = fx.tag_counts(&order.id).await.unwrap();
    let ties: Vec<&str> = ties.iter().map(|t| t.tag.as_str()).collect();
    assert_eq!(ties, ["a-c", "a_b", "ab", "f", "é"]);
}

pub async fn notes_are_per_person_and_project(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    fx.ingest(&p, [person("ana"), person("bob")]).await;
    fx.ingest(&other, [person("ana")]).await;
    let author = fx.account("agent@example.com", Role::Admin).await;
    let note = |id: &str, who: &str, at: i64| NewNote {
        id: id.into(),
        site_user_id: who.into(),
        body: format!("note {id}"),
        author_account_id: Some(author.id.clone()),
        created_at: at,
    };
    let first = fx.add_note(&p.id, &note("n1", "ana", T0)).await.unwrap();
    assert_eq!(
        (
            first.id.as_str(),
            first.body.as_str(),
            first.author_email.as_deref(),
            first.created_at
        ),
        ("n1", "note n1", Some("agent@example.com"), T0)
    );
    fx.add_note(&p.id, &note("n2", "ana", T0 + 5))
        .await
        .unwrap();
    fx.add_note(&p.id, &note("n3", "bob", T0 + 9))
        .await
        .unwrap();
    fx.add_note(&other.id, &note("n1", "ana", T0))
        .await
        .unwrap();

    let ids = |notes: Vec<crate::crm::Note>| notes.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(fx.notes(&p.id, "ana").await.unwrap()), ["n2", "n1"]);
    assert_eq!(fx.contact(&p.id, "ana").await.unwrap().notes_count, 2);

    // Only that project's and that person's note goes.
    let wrong_person = fx.delete_note(&p.id, "bob", "n1").await;
    assert!(matches!(wrong_person, Err(StoreError::NotFound)));
    fx.delete_note(&p.id, "ana", "n1").await.unwrap();
    assert!(matches!(
        fx.delete_note(&p.id, "ana", "n1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(ids(fx.notes(&p.id, "ana").await.unwrap()), ["n2"]);
    assert_eq!(ids(fx.notes(&other.id, "ana").await.unwrap()), ["n1"]);
}

/// An anonymous person merged into an identified one by `identify` brings
/// their CRM fields: tags united, notes moved, the identified person's
/// priority and properties kept (filled in where unset).
pub async fn merges_carry_crm_fields(fx: Fixture) {
    let p = fx.project("Shop").await;
    let known = identify("dev1", "d1", T0, "u-42");
    fx.ingest(&p, [known]).await;
    fx.ingest(&p, [pageview("dev2", "d2", T0 + 100, "/")]).await;
    let (into, from) = (
        fx.person_of(&p, "dev1").await.id,
        fx.person_of(&p, "dev2").await.id,
    );
    assert_ne!(into, from);
    let keep = ContactPatch {
        tags: tags(&["vip"]),
        properties: Some(object(json!({"company": "Acme"}))),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, &into, &keep, T0).await.unwrap();
    let anon = ContactPatch {
        tags: tags(&["beta", "vip"]),
        priority: Some(Some(Priority::High)),
        properties: Some(object(json!({"company": "Other"}))),
    };
    fx.update_contact(&p.id, &from, &anon, T0).await.unwrap();
    let author = fx.account("agent@example.com", Role::Admin).await;
    let note = NewNote {
        id: "n1".into(),
        site_user_id: from.clone(),
        body: "met at the fair".into(),
        author_account_id: Some(author.id),
        created_at: T0,
    };
    fx.add_note(&p.id, &note).await.unwrap();

    fx.ingest(&p, [identify("dev2", "d2", T0 + 200, "u-42")])
        .await;
    assert_eq!(fx.person_of(&p, "dev2").await.id, into);
    let merged = fx.contact(&p.id, &into).await.unwrap();
    assert_eq!(merged.tags, ["beta", "vip"]);
    assert_eq!(merged.priority.as_deref(), Some("high"));
    assert_eq!(Value::Object(merged.properties), json!({"company": "Acme"}));
    assert_eq!(merged.notes_count, 1);
    assert_eq!(fx.contact(&p.id, &from).await.unwrap(), Contact::default());
    assert_eq!(
        fx.tag_counts(&p.id).await.unwrap(),
        tag_counts(&[("beta", 1), ("vip", 1)])
    );

    // A person with no contact row takes the merged-in one whole.
    fx.ingest(&p, [pageview("dev3", "d3", T0 + 300, "/")]).await;
    let third = fx.person_of(&p, "dev3").await.id;
    let props = ContactPatch {
        priority: Some(Some(Priority::Low)),
        properties: Some(object(json!({"seats": 3}))),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, &third, &props, T0).await.unwrap();
    fx.ingest(&p, [identify("dev4", "d4", T0 + 400, "u-7")])
        .await;
    fx.ingest(&p, [identify("dev3", "d3", T0 + 500, "u-7")])
        .await;
    let u7 = fx.person_of(&p, "dev4").await.id;
    assert_eq!(fx.person_of(&p, "dev3").await.id, u7);
    let moved = fx.contact(&p.id, &u7).await.unwrap();
    assert_eq!(moved.priority.as_deref(), Some("low"));
    assert_eq!(Value::Object(moved.properties), json!({"seats": 3}));

    // Tags only (properties empty) on the identified side: the anonymous
    // person's properties fill them.
    fx.ingest(&p, [identify("dev6", "d6", T0 + 600, "u-9")])
        .await;
    let u9 = fx.person_of(&p, "dev6").await.id;
    let only_tags = ContactPatch {
        tags: tags(&["new"]),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, &u9, &only_tags, T0).await.unwrap();
    fx.ingest(&p, [pageview("dev5", "d5", T0 + 610, "/")]).await;
    let fifth = fx.person_of(&p, "dev5").await.id;
    let plan = ContactPatch {
        properties: Some(object(json!({"plan": "pro"}))),
        ..ContactPatch::default()
    };
    fx.update_contact(&p.id, &fifth, &plan, T0).await.unwrap();
    fx.ingest(&p, [identify("dev5", "d5", T0 + 620, "u-9")])
        .await;
    let filled = fx.contact(&p.id, &u9).await.unwrap();
    assert_eq!(Value::Object(filled.properties), json!({"plan": "pro"}));
    assert_eq!(filled.tags, ["new"]);
}

fn tag_counts(expected: &[(&str, i64)]) -> Vec<TagCount> {
    let count = |&(tag, count): &(&str, i64)| TagCount {
        tag: tag.into(),
        count,
    };
    expected.iter().map(count).collect()
}

/// The timeline merges sessions (with pages), custom events (in a session, or
/// a backend's without one), notes and payments (not also as events), newest first; pages of two follow
/// each other without gaps or repeats, ties broken by kind.
pub async fn timeline_merges_kinds_newest_first(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    let history = || {
        vec![
            pageview("a", "s1", T0, "https://shop.example/").into(),
            event("a", "s1", T0 + 1_000, "clicked").into(),
            identify("a", "s1", T0 + 2_000, "u-a").into(),
            pageview("a", "s2", T0 + 10_000, "https://shop.example/pricing").into(),
            event("a", "s2", T0 + 10_000, "viewed_plan").into(),
            server_event("u-a", T0 + 20_000, "renewed").into(),
            server_event("u-a", T0 + 12_000, "payment")
                .with(
                    "props",
                    json!({"payment_id": "pay-1", "amount": 4900, "currency": "USD"}),
                )
                .into(),
        ]
    };
    fx.ingest_history(&p, vec![history()]).await;
    fx.ingest_history(&other, vec![history()]).await;
    let author = fx.account("agent@example.com", Role::Agent).await;
    let note = NewNote {
        id: "n1".into(),
        site_user_id: "a".into(),
        body: "called".into(),
        author_account_id: Some(author.id.clone()),
        created_at: T0 + 15_000,
    };
    fx.add_note(&p.id, &note).await.unwrap();

    let describe = |item: &TimelineItem| match item {
        TimelineItem::Session(s) => {
            let pages: Vec<_> = s.pages.iter().filter_map(|v| v.path.clone()).collect();
            format!("session {} {}", s.session.id, pages.join(","))
        }
        TimelineItem::Event(e) => format!("event {}", e.name.as_deref().unwrap_or("")),
        TimelineItem::Note(n) => format!("note {}", n.body),
        TimelineItem::Payment(p) => format!("payment {} {}", p.payment_id, p.amount),
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = fx
            .timeline(&p.id, "a", Some("u-a"), cursor.as_ref(), 2)
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(describe));
        match page.next_cursor {
            Some(c) => {
                // The cursor survives its text form.
                assert_eq!(TimelineCursor::parse(&c.encode()), Some(c.clone()));
                cursor = Some(c);
            }
            None => break,
        }
        assert!(pages < 10, "the cursor does not advance: {seen:?}");
    }
    assert_eq!(
        seen,
        [
            "event renewed",
            "note called",
            "payment pay-1 4900",
            "session s2 /pricing",
            "event viewed_plan",
            "event clicked",
            "session s1 /",
        ]
    );
    assert_eq!(pages, 4);

    // Without the user id, the backend's event is not found (the payment,
    // attributed to the person at ingest, still is); nothing of another
    // person or project shows.
    let page = fx.timeline(&p.id, "a", None, None, 50).await.unwrap();
    assert_eq!(page.items.len(), 6);
    let nobody = fx.timeline(&p.id, "nobody", None, None, 50).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next_cursor.is_none());
}
