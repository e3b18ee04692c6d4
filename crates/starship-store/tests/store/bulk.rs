//! Bulk add: many users, history entries, emails and links in few statements.

use serde_json::json;
use starship_core::domain::{Email, PersonName, UserStatus};
use starship_core::ids::{MessageId, PartnerId, UserId};
use starship_store::history::{self, Actor, Source};
use starship_store::outbox::{self, NewMessage};
use starship_store::users::{self, NewUser, EMAIL_TAKEN};
use starship_store::{now_millis, sqlx, StoreError};

use crate::fixtures::{self, email, en_us, name};
use crate::support::store_test;

/// What one bulk row parses into.
struct Row {
    email: Email,
    first: PersonName,
    last: PersonName,
}

fn rows(people: &[(&str, &str, &str)]) -> Vec<Row> {
    people
        .iter()
        .map(|(address, first, last)| Row { email: email(address), first: name(first), last: name(last) })
        .collect()
}

fn new_users<'a>(partner_id: &'a PartnerId, rows: &'a [Row]) -> Vec<NewUser<'a>> {
    rows.iter()
        .map(|r| NewUser {
            partner_id: Some(partner_id),
            email: &r.email,
            first_name: &r.first,
            last_name: &r.last,
            locale: en_us(),
            phone: None,
            status: UserStatus::Pending,
            password_hash: None,
        })
        .collect()
}

async fn count_users(store: &starship_store::Store) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(store.pool()).await
}

store_test!(bulk_added_users_are_all_stored_and_found, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let rows = rows(&[
        ("Ana@Acme.example", "Ana", "Lopez"),
        ("ben@acme.example", "Ben", "Ng"),
        ("cleo@acme.example", "Cleo", "Park"),
    ]);
    let added = users::insert_many(&mut conn, &new_users(&acme, &rows)).await?;
    assert_eq!(
        added.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
        ["Ana@Acme.example", "ben@acme.example", "cleo@acme.example"]
    );
    for user in &added {
        let stored = users::get(&mut conn, &user.id).await?.expect("a bulk-added user");
        assert_eq!(
            (stored.email.as_str(), stored.status, stored.partner_id.as_deref()),
            (user.email.as_str(), UserStatus::Pending, Some(acme.as_str()))
        );
    }
    let found: Vec<UserId> =
        users::search(&mut conn, Some(&acme), "ana lo", 10).await?.into_iter().map(|u| u.id).collect();
    assert_eq!(found, [added[0].id.as_str()]);
    assert!(users::insert_many(&mut conn, &[]).await?.is_empty());
    Ok(())
});

store_test!(one_taken_email_fails_the_whole_bulk_add, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    fixtures::user(&mut conn, Some(&acme), "taken@acme.example", "Tess", "Taken").await?;
    drop(conn);

    let clash_with_stored = rows(&[("new@acme.example", "New", "Person"), ("TAKEN@acme.example", "Other", "Person")]);
    let clash_in_batch = rows(&[("twin@acme.example", "Twin", "One"), ("Twin@Acme.example", "Twin", "Two")]);
    for batch in [clash_with_stored, clash_in_batch] {
        let mut tx = store.begin().await?;
        let outcome = users::insert_many(&mut tx, &new_users(&acme, &batch)).await;
        assert!(matches!(outcome, Err(StoreError::Conflict(EMAIL_TAKEN))), "{:?}", outcome.map(|u| u.len()));
        tx.rollback().await?;
    }
    assert_eq!(count_users(&store).await?, 1);
    Ok(())
});

store_test!(a_bulk_add_larger_than_one_statement_is_stored_whole, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let people: Vec<(String, String)> =
        (0..2500).map(|i| (format!("crew{i:04}@acme.example"), format!("Member{i:04}"))).collect();
    let batch: Vec<Row> = people
        .iter()
        .map(|(address, last)| Row { email: email(address), first: name("Crew"), last: name(last) })
        .collect();
    let mut tx = store.begin().await?;
    let added = users::insert_many(&mut tx, &new_users(&acme, &batch)).await?;
    tx.commit().await?;
    assert_eq!(added.len(), 2500);
    assert_eq!(count_users(&store).await?, 2500);
    let last = users::get_by_email(&mut conn, &email("crew2499@acme.example")).await?.expect("the last row");
    assert_eq!(last.last_name, "Member2499");
    Ok(())
});

store_test!(taken_emails_names_the_addresses_already_in_use, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    fixtures::user(&mut conn, Some(&acme), "Ana@Acme.example", "Ana", "Lopez").await?;
    fixtures::user(&mut conn, Some(&acme), "ben@acme.example", "Ben", "Ng").await?;
    let mut asked: Vec<String> = (0..1500).map(|i| format!("free{i}@acme.example")).collect();
    asked.insert(700, "ana@acme.example".into());
    asked.push("ben@acme.example".into());
    let mut taken = users::taken_emails(&mut conn, &asked).await?;
    taken.sort();
    assert_eq!(taken, ["ana@acme.example", "ben@acme.example"]);
    assert!(users::taken_emails(&mut conn, &[]).await?.is_empty());
    Ok(())
});

store_test!(a_partners_users_are_paged_in_name_order, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let zenith = fixtures::partner(&mut conn, "Zenith Post").await?.id;
    let mut expected = vec![];
    for (first, last) in [("Dana", "White"), ("Ana", "Lopez"), ("Carlos", "Anaya"), ("Ana", "Abel"), ("Ben", "Ng")] {
        let address = format!("{}.{}@acme.example", first.to_lowercase(), last.to_lowercase());
        expected.push((
            format!("{first} {last}").to_lowercase(),
            fixtures::user(&mut conn, Some(&acme), &address, first, last).await?.id,
        ));
    }
    fixtures::user(&mut conn, Some(&zenith), "ana@zenith.example", "Ana", "Zenith").await?;
    expected.sort();
    let expected: Vec<UserId> = expected.into_iter().map(|(_, id)| id).collect();

    let mut paged = vec![];
    let mut after: Option<String> = None;
    loop {
        let page = users::page_of_partner(&mut conn, &acme, after.as_deref(), None, 2).await?;
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id.to_string());
        paged.extend(page.into_iter().map(|u| u.id));
    }
    assert_eq!(paged, expected, "every user of the partner once, in name order");

    let anas: Vec<UserId> =
        users::page_of_partner(&mut conn, &acme, None, Some(" ANA "), 10).await?.into_iter().map(|u| u.id).collect();
    assert_eq!(anas, expected[..2], "a name prefix narrows the page");
    let after_first_ana = users::page_of_partner(&mut conn, &acme, Some(&expected[0]), Some("ana"), 10).await?;
    assert_eq!(after_first_ana.into_iter().map(|u| u.id).collect::<Vec<_>>(), expected[1..2]);
    Ok(())
});

store_test!(a_bulk_add_records_history_emails_and_links_for_every_account, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let admin = fixtures::user(&mut conn, Some(&acme), "admin@acme.example", "Alex", "Admin").await?;
    let batch = rows(&[("ana@acme.example", "Ana", "Lopez"), ("ben@acme.example", "Ben", "Ng")]);
    let mut tx = store.begin().await?;
    let added = users::insert_many(&mut tx, &new_users(&acme, &batch)).await?;
    let actor = Actor::user(&admin.id, &admin.email, Source::Web);
    history::append_many(
        &mut tx,
        &actor,
        added.iter().map(|u| (u.id.clone(), history::Kind::UserCreated, json!({ "email": u.email }))).collect(),
    )
    .await?;
    let messages: Vec<NewMessage> = added
        .iter()
        .map(|u| NewMessage {
            recipient: &u.email,
            user_id: Some(&u.id),
            kind: "activation",
            subject: "Welcome to Starship",
            body: "…",
        })
        .collect();
    let queued = outbox::enqueue_many(&mut tx, &messages).await?;
    let links = added.iter().enumerate().map(|(i, u)| (format!("bulk-link-{i}"), u.id.clone())).collect();
    outbox::insert_new_links(&mut tx, links, "activation", now_millis() + 86_400_000).await?;
    tx.commit().await?;

    assert_eq!(queued.len(), 2);
    for (i, user) in added.iter().enumerate() {
        let entries = history::list(&mut conn, &user.id, None, &[], 10).await?;
        assert_eq!(entries.len(), 1, "{}", user.email);
        assert_eq!(
            (entries[0].action.as_str(), entries[0].actor_id.as_deref()),
            ("user.created", Some(admin.id.as_str()))
        );
        assert_eq!(entries[0].details, json!({ "email": user.email }));
        let mail: Vec<MessageId> =
            outbox::list(&mut conn, Some(&user.email), 10).await?.into_iter().map(|m| m.id).collect();
        assert_eq!(mail, [queued[i].as_str()]);
        assert_eq!(outbox::use_link(&mut conn, &format!("bulk-link-{i}"), "activation").await?, Some(user.id.clone()));
    }
    assert!(history::list(&mut conn, &admin.id, None, &[], 10).await?.is_empty());
    Ok(())
});

store_test!(bulk_written_text_keeps_every_character, |store| async move {
    // The bulk path sends its rows as array literals on PostgreSQL and as
    // bind parameters on SQLite: quotes, backslashes, braces, commas,
    // line breaks, the word NULL and an absent value all come back as sent.
    let mut conn = store.conn().await?;
    let texts = [r#"Say "hi", {Ana}"#, r"C:\path\to\ \\ end\", "NULL", "", "two\nlines\tand a tab", "Zoë — 東京 ✓"];
    let messages: Vec<NewMessage> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| NewMessage {
            recipient: [
                "a@bulk.example",
                "b@bulk.example",
                "c@bulk.example",
                "d@bulk.example",
                "e@bulk.example",
                "f@bulk.example",
            ][i],
            user_id: None,
            kind: "notice",
            subject: text,
            body: text,
        })
        .collect();
    let mut tx = store.begin().await?;
    let queued = outbox::enqueue_many(&mut tx, &messages).await?;
    tx.commit().await?;
    for (i, text) in texts.iter().enumerate() {
        let stored = outbox::list(&mut conn, Some(messages[i].recipient), 10).await?;
        assert_eq!(stored.len(), 1);
        let m = &stored[0];
        assert_eq!(
            (m.id.as_str(), m.subject.as_str(), m.body.as_str(), m.user_id.as_deref()),
            (queued[i].as_str(), *text, *text, None)
        );
    }
    Ok(())
});

store_test!(bulk_added_names_keep_every_character, |store| async move {
    // SQLite reads bulk rows from memory, PostgreSQL from array literals.
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?.id;
    let batch = rows(&[
        ("zoe@acme.example", "Zoë", "O'Brien-Łukasz"),
        ("kenji@acme.example", "健二", "山田"),
        ("null@acme.example", "NULL", "Back\\slash"),
    ]);
    let added = users::insert_many(&mut conn, &new_users(&acme, &batch)).await?;
    for (user, row) in added.iter().zip(&batch) {
        let stored = users::get(&mut conn, &user.id).await?.expect("a bulk-added user");
        assert_eq!(
            (stored.first_name.as_str(), stored.last_name.as_str(), stored.phone.as_deref()),
            (row.first.as_str(), row.last.as_str(), None)
        );
    }
    Ok(())
});
