//! Message templates: create, read, list by name, replace, delete; a name is
//! unique within a project (a second one is a conflict, on create and on
//! rename) but not across projects; another project sees, changes and
//! deletes none of them.

use super::fixture::*;
use super::T0;
use crate::templates::MessageTemplate;
use crate::StoreError;

fn email(id: &str, name: &str) -> MessageTemplate {
    MessageTemplate {
        id: id.into(),
        name: name.into(),
        channel: "email".into(),
        subject: Some("Hi {{ contact.name }}".into()),
        body_html: Some("<p>Hello {{ contact.name }}</p>".into()),
        body_text: None,
        push_title: None,
        push_body: None,
        push_url: None,
        push_icon: None,
        created_by_account_id: Some("acc-1".into()),
        created_at: T0,
        updated_at: T0,
    }
}

pub async fn templates_crud_unique_names_and_isolation(fx: Fixture) {
    let a = fx.project("A").await;
    let b = fx.project("B").await;
    assert!(fx.list_templates(&a.id).await.unwrap().is_empty());
    assert_eq!(fx.get_template(&a.id, "t1").await.unwrap(), None);

    let welcome = email("t1", "Welcome");
    fx.create_template(&a.id, &welcome).await.unwrap();
    let push = MessageTemplate {
        channel: "push".into(),
        subject: None,
        body_html: None,
        push_title: Some("Sale".into()),
        push_body: Some("20% off, {{ contact.name }}".into()),
        push_url: Some("https://shop.example/sale".into()),
        push_icon: Some("https://shop.example/icon.png".into()),
        ..email("t2", "Autumn sale")
    };
    fx.create_template(&a.id, &push).await.unwrap();
    assert_eq!(
        fx.get_template(&a.id, "t1").await.unwrap(),
        Some(welcome.clone())
    );
    assert_eq!(
        fx.get_template(&a.id, "t2").await.unwrap(),
        Some(push.clone())
    );
    let names: Vec<String> = fx
        .list_templates(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Autumn sale", "Welcome"]);

    // A second template of the same name in the project is a conflict.
    let dup = fx.create_template(&a.id, &email("t3", "Welcome")).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    // So is renaming another one to it.
    let renamed = MessageTemplate {
        name: "Welcome".into(),
        ..push.clone()
    };
    let res = fx.update_template(&a.id, &renamed).await;
    assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
    assert_eq!(fx.get_template(&a.id, "t2").await.unwrap(), Some(push));

    // The same name (and id) in another project is another template.
    fx.create_template(&b.id, &email("t1", "Welcome"))
        .await
        .unwrap();

    // An update replaces the parts, keeps the author and creation time.
    let changed = MessageTemplate {
        name: "Welcome!".into(),
        channel: "in_app".into(),
        subject: None,
        body_html: None,
        body_text: Some("Hello {{ contact.name }}".into()),
        created_by_account_id: Some("someone-else".into()),
        created_at: T0 + 99,
        updated_at: T0 + 5,
        ..welcome.clone()
    };
    fx.update_template(&a.id, &changed).await.unwrap();
    let got = fx.get_template(&a.id, "t1").await.unwrap().unwrap();
    assert_eq!(
        got,
        MessageTemplate {
            created_by_account_id: welcome.created_by_account_id.clone(),
            created_at: T0,
            ..changed.clone()
        }
    );
    // The old name is free again.
    fx.create_template(&a.id, &email("t4", "Welcome"))
        .await
        .unwrap();

    // Project B cannot read, change or delete A's templates.
    let b_names: Vec<String> = fx
        .list_templates(&b.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(b_names, ["Welcome"]);
    assert_eq!(fx.get_template(&b.id, "t2").await.unwrap(), None);
    let res = fx.update_template(&b.id, &email("t2", "Stolen")).await;
    assert!(matches!(res, Err(StoreError::NotFound)), "{res:?}");
    let res = fx.delete_template(&b.id, "t2").await;
    assert!(matches!(res, Err(StoreError::NotFound)), "{res:?}");
    assert!(fx.get_template(&a.id, "t2").await.unwrap().is_some());

    // Deleting B's `t1` leaves A's.
    fx.delete_template(&b.id, "t1").await.unwrap();
    assert!(fx.list_templates(&b.id).await.unwrap().is_empty());
    assert_eq!(fx.get_template(&a.id, "t1").await.unwrap(), Some(got));
    fx.delete_template(&a.id, "t1").await.unwrap();
    let res = fx.delete_template(&a.id, "t1").await;
    assert!(matches!(res, Err(StoreError::NotFound)), "{res:?}");
    assert_eq!(fx.list_templates(&a.id).await.unwrap().len(), 2);
}
