//! Partners, productions and the people in them.

use starship_core::domain::{Locale, PartnerKind, Phone, UserStatus};
use starship_core::ids::{PartnerId, UserId};
use starship_store::partners;
use starship_store::users::{self, ProfileChanges, EMAIL_TAKEN};
use starship_store::{Dialect, Store, StoreError};

use crate::fixtures::{self, name, production_id, title};
use crate::support::{store_test, Backend, TestDb};

store_test!(partners_are_listed_by_name, |store| async move {
    let mut conn = store.conn().await?;
    let zenith = partners::insert(&mut conn, &title("Zenith Post"), PartnerKind::Qc).await?;
    let acme = partners::insert(&mut conn, &title("acme Studios"), PartnerKind::Content).await?;
    let listed: Vec<(String, PartnerKind)> =
        partners::list(&mut conn, None).await?.into_iter().map(|p| (p.name, p.kind)).collect();
    assert_eq!(
        listed,
        [("acme Studios".to_string(), PartnerKind::Content), ("Zenith Post".to_string(), PartnerKind::Qc)]
    );

    let only: Vec<PartnerId> = partners::list(&mut conn, Some(&zenith.id)).await?.into_iter().map(|p| p.id).collect();
    assert_eq!(only, [zenith.id.as_str()]);
    let found = partners::get(&mut conn, &acme.id).await?.expect("the partner just added");
    assert_eq!(
        (found.name.as_str(), found.kind, found.created_at),
        ("acme Studios", PartnerKind::Content, acme.created_at)
    );
    assert!(partners::get(&mut conn, &PartnerId::from("no-such-partner")).await?.is_none());
    Ok(())
});

store_test!(a_partner_name_is_taken_whatever_its_case, |store| async move {
    let mut conn = store.conn().await?;
    fixtures::partner(&mut conn, "Acme Studios").await?;
    let again = partners::insert(&mut conn, &title("ACME studios"), PartnerKind::Fulfillment).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(partners::list(&mut conn, None).await?.len(), 1);
    Ok(())
});

store_test!(productions_are_listed_by_id, |store| async move {
    let mut conn = store.conn().await?;
    fixtures::production(&mut conn, 70030433, "Home Theater Demo - MID").await?;
    fixtures::production(&mut conn, 123, "Another Show").await?;
    let listed: Vec<(i64, String)> =
        partners::list_productions(&mut conn).await?.into_iter().map(|p| (p.id.get(), p.title)).collect();
    assert_eq!(listed, [(123, "Another Show".to_string()), (70030433, "Home Theater Demo - MID".to_string())]);
    assert!(partners::production_exists(&mut conn, production_id(70030433)).await?);
    assert!(!partners::production_exists(&mut conn, production_id(70030434)).await?);
    Ok(())
});

store_test!(a_production_id_is_taken_once, |store| async move {
    let mut conn = store.conn().await?;
    fixtures::production(&mut conn, 70030433, "Home Theater Demo - MID").await?;
    let again = fixtures::production(&mut conn, 70030433, "Something Else").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{:?}", again.map(|p| p.title));
    let titles: Vec<String> = partners::list_productions(&mut conn).await?.into_iter().map(|p| p.title).collect();
    assert_eq!(titles, ["Home Theater Demo - MID"]);
    Ok(())
});

store_test!(a_user_is_stored_with_their_profile_and_found_by_email_in_any_case, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    let ana = fixtures::user(&mut conn, Some(&acme.id), "Ana.Lopez@Acme.example", "Ana", "López").await?;
    assert_eq!(ana.partner_id.as_deref(), Some(acme.id.as_str()));
    assert!(!ana.operator);

    let stored = users::get(&mut conn, &ana.id).await?.expect("the user just added");
    assert_eq!(stored.email, "Ana.Lopez@Acme.example", "the email keeps the case it was typed in");
    assert_eq!(
        (stored.first_name.as_str(), stored.last_name.as_str(), stored.full_name()),
        ("Ana", "López", "Ana López".to_string())
    );
    assert_eq!((stored.locale.as_str(), stored.status, stored.operator), ("en-US", UserStatus::Active, false));
    assert_eq!(stored.partner_id.as_deref(), Some(acme.id.as_str()));

    let by_email =
        users::get_by_email(&mut conn, &fixtures::email("ANA.LOPEZ@acme.EXAMPLE")).await?.expect("found by email");
    assert_eq!(by_email.id, ana.id);
    assert!(users::get(&mut conn, &UserId::from("no-such-user")).await?.is_none());
    Ok(())
});

store_test!(an_email_belongs_to_one_user_whatever_its_case, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    let zenith = fixtures::partner(&mut conn, "Zenith Post").await?;
    fixtures::user(&mut conn, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
    for (partner, address) in
        [(Some(&acme.id), "ANA@acme.example"), (Some(&zenith.id), "Ana@Acme.Example"), (None, "ana@acme.example")]
    {
        let again = fixtures::user(&mut conn, partner, address, "Other", "Person").await;
        assert!(matches!(again, Err(StoreError::Conflict(EMAIL_TAKEN))), "{address}: {:?}", again.map(|u| u.id));
    }
    Ok(())
});

store_test!(operators_belong_to_no_partner, |store| async move {
    let mut conn = store.conn().await?;
    let operator = fixtures::user(&mut conn, None, "ops@starship.example", "Olive", "Operator").await?;
    assert!(operator.operator);
    let stored = users::get(&mut conn, &operator.id).await?.expect("the operator");
    assert!(stored.operator && stored.partner_id.is_none());

    let principal = users::principal(&mut conn, &stored).await?;
    assert!(principal.operator && principal.partner_id.is_none());

    // The database itself refuses an operator with a partner, or a partner user without one.
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    let both = sqlx::query(
        "INSERT INTO users (id, partner_id, email, email_lower, first_name, last_name, first_lower, last_lower, full_lower, \
         locale, operator, status, created_at, updated_at) \
         VALUES ('x', $1, 'x@acme.example', 'x@acme.example', 'X', 'Y', 'x', 'y', 'x y', 'en-US', 1, 'active', 0, 0)",
    )
    .bind(&acme.id)
    .execute(&mut *conn)
    .await;
    assert!(both.is_err(), "an operator with a partner was stored");
    let neither = sqlx::query(
        "INSERT INTO users (id, partner_id, email, email_lower, first_name, last_name, first_lower, last_lower, full_lower, \
         locale, operator, status, created_at, updated_at) \
         VALUES ('y', NULL, 'y@acme.example', 'y@acme.example', 'X', 'Y', 'x', 'y', 'x y', 'en-US', 0, 'active', 0, 0)",
    )
    .execute(&mut *conn)
    .await;
    assert!(neither.is_err(), "a partner user without a partner was stored");
    Ok(())
});

store_test!(setting_a_password_activates_the_account, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    let (address, first, last) = (fixtures::email("Ben@Acme.example"), name("Ben"), name("Ng"));
    let ben = users::insert(
        &mut conn,
        &users::NewUser {
            partner_id: Some(&acme.id),
            email: &address,
            first_name: &first,
            last_name: &last,
            locale: fixtures::en_us(),
            phone: Some("+1 555 0100"),
            status: UserStatus::Pending,
            password_hash: None,
        },
    )
    .await?;
    let (user, hash) =
        users::credentials(&mut conn, "ben@acme.example").await?.expect("credentials by lower-case email");
    assert_eq!((user.id.as_str(), user.status, hash), (ben.id.as_str(), UserStatus::Pending, None));
    assert_eq!(user.phone.as_deref(), Some("+1 555 0100"));

    users::set_password(&mut conn, &ben.id, "$argon2id$not-a-real-hash").await?;
    let (user, hash) = users::credentials(&mut conn, "ben@acme.example").await?.expect("credentials");
    assert_eq!((user.status, hash.as_deref()), (UserStatus::Active, Some("$argon2id$not-a-real-hash")));
    Ok(())
});

store_test!(a_profile_change_is_kept_and_found_by_the_new_name, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    let ana = fixtures::user(&mut conn, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
    let changes = ProfileChanges {
        last_name: Some(name("Garcia")),
        locale: Some(Locale::parse("locale", "fr-FR").expect("fr-FR")),
        phone: Some(Some(Phone::parse("phone", "+33 1 00 00 00 00").expect("a phone number"))),
        ..ProfileChanges::default()
    };
    users::update_profile(&mut conn, &ana, &changes).await?;
    let stored = users::get(&mut conn, &ana.id).await?.expect("the user");
    assert_eq!(
        (stored.first_name.as_str(), stored.last_name.as_str(), stored.locale.as_str()),
        ("Ana", "Garcia", "fr-FR")
    );
    assert_eq!(stored.phone.as_deref(), Some("+33 1 00 00 00 00"));
    assert!(stored.updated_at >= ana.updated_at);

    let found: Vec<UserId> = users::search(&mut conn, None, "garc", 10).await?.into_iter().map(|u| u.id).collect();
    assert_eq!(found, [ana.id.as_str()]);
    assert!(users::search(&mut conn, None, "lopez", 10).await?.is_empty(), "the old name still matches");

    let cleared = ProfileChanges { phone: Some(None), ..ProfileChanges::default() };
    users::update_profile(&mut conn, &stored, &cleared).await?;
    assert_eq!(users::get(&mut conn, &ana.id).await?.expect("the user").phone, None);
    Ok(())
});

/// Opening a store again runs no migration twice and keeps what was written.
async fn reopening_keeps_the_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let first = Store::open(db.url()).await.expect("first open");
    let expected = match backend {
        Backend::Sqlite => Dialect::Sqlite,
        Backend::Postgres => Dialect::Postgres,
    };
    assert_eq!(first.dialect(), expected);
    {
        let mut conn = first.conn().await.expect("a connection");
        fixtures::partner(&mut conn, "Acme Studios").await.expect("a partner");
    }
    first.close().await;

    let second = Store::open(db.url()).await.expect("second open");
    second.ping().await.expect("ping");
    let mut conn = second.conn().await.expect("a connection");
    let names: Vec<String> =
        partners::list(&mut conn, None).await.expect("partners").into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Acme Studios"]);
    drop(conn);
    second.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn reopening_a_store_keeps_its_data_sqlite() {
    reopening_keeps_the_data(Backend::Sqlite).await;
}

#[tokio::test]
async fn reopening_a_store_keeps_its_data_postgres() {
    reopening_keeps_the_data(Backend::Postgres).await;
}
