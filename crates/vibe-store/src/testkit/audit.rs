//! The audit log: rows come back newest first in keyset pages that neither
//! skip nor repeat (ties on `at` included), every filter narrows, and one
//! project never sees another's rows.

use super::fixture::*;
use super::T0;
use crate::audit::{AuditEntry, AuditFilter};
use crate::inbox::Cursor;

fn entry(id: &str, actor: &str, action: &str, resource: &str, at: i64) -> AuditEntry {
    AuditEntry {
        id: id.into(),
        actor_account_id: actor.into(),
        actor_email: format!("{actor}@example.com"),
        action: action.into(),
        resource: resource.into(),
        params: r#"{"name":"x"}"#.into(),
        ip: (actor != "bot").then(|| "203.0.113.9".to_owned()),
        at,
    }
}

fn ids(items: &[AuditEntry]) -> Vec<&str> {
    items.iter().map(|e| e.id.as_str()).collect()
}

pub async fn audit_log_pages_filters_and_isolation(fx: Fixture) {
    let a = fx.create_project(&new_project("A"), None).await.unwrap();
    let b = fx.create_project(&new_project("B"), None).await.unwrap();
    let rows = [
        entry("e1", "ann", "project.update", "project", T0),
        entry("e2", "bob", "segment.create", "segment/s1", T0 + 10),
        // Two rows in the same millisecond: the id orders them.
        entry("e3", "ann", "segment.update", "segment/s1", T0 + 20),
        entry("e4", "ann", "segment.delete", "segment/s10", T0 + 20),
        entry("e5", "bot", "member.add", "member/m1", T0 + 30),
    ];
    for row in &rows {
        fx.record_audit(&a.id, row).await.unwrap();
    }
    fx.record_audit(
        &b.id,
        &entry("b1", "ann", "project.update", "project", T0 + 5),
    )
    .await
    .unwrap();
    let all = AuditFilter::default();

    // Whole log, newest first, stored as written.
    let page = fx.audit_log(&a.id, &all, None, 10).await.unwrap();
    assert_eq!(ids(&page.items), ["e5", "e4", "e3", "e2", "e1"]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.items[4], rows[0]);
    assert_eq!(page.items[0].ip, None);

    // Pages of two walk the same order without gaps or repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = fx.audit_log(&a.id, &all, cursor.as_ref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|e| e.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["e5", "e4", "e3", "e2", "e1"]);
    // A page that ends exactly at the last row says there is no next one.
    let exact = fx.audit_log(&a.id, &all, None, 5).await.unwrap();
    assert_eq!((exact.items.len(), exact.next_cursor), (5, None));

    // Filters, alone and together.
    let by = |f: AuditFilter| {
        let fx = &fx;
        let id = a.id.clone();
        async move { ids(&fx.audit_log(&id, &f, None, 10).await.unwrap().items).join(",") }
    };
    let actor = |s: &str| AuditFilter {
        actor: Some(s.into()),
        ..Default::default()
    };
    assert_eq!(by(actor("ann")).await, "e4,e3,e1");
    assert_eq!(by(actor("bob@example.com")).await, "e2");
    assert_eq!(by(actor("nobody")).await, "");
    let action = AuditFilter {
        action: Some("segment.update".into()),
        ..Default::default()
    };
    assert_eq!(by(action).await, "e3");
    let prefix = |p: &str| AuditFilter {
        resource_prefix: Some(p.into()),
        ..Default::default()
    };
    assert_eq!(by(prefix("segment/")).await, "e4,e3,e2");
    assert_eq!(by(prefix("segment/s1")).await, "e4,e3,e2");
    // A prefix is data, not a pattern.
    assert_eq!(by(prefix("segment/%")).await, "");
    assert_eq!(by(prefix("SEGMENT/")).await, "");
    let range = AuditFilter {
        from: Some(T0 + 10),
        to: Some(T0 + 30),
        ..Default::default()
    };
    assert_eq!(by(range).await, "e4,e3,e2");
    let together = AuditFilter {
        actor: Some("ann".into()),
        resource_prefix: Some("segment/".into()),
        from: Some(T0 + 1),
        ..Default::default()
    };
    assert_eq!(by(together).await, "e4,e3");

    // Project B has only its own row; A's filters never reach it.
    let b_page = fx.audit_log(&b.id, &all, None, 10).await.unwrap();
    assert_eq!(ids(&b_page.items), ["b1"]);
    let unknown = fx
        .audit_log("no-such-project", &all, None, 10)
        .await
        .unwrap();
    assert!(unknown.items.is_empty());
}
