//! `starshipd users import`: people of one partner from a CSV, with the
//! roles each row names, through the same grant path as the API.

use std::process::Command;

use starship_core::domain::{PartnerKind, ProductionId, Title};
use starship_store::testing::{Backend, TestDb};
use starship_store::{partners, sqlx, Store};

fn import(url: &str, partner: &str, csv: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, csv).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_starshipd"))
        .args(["users", "import", "--partner", partner, "--file", file.to_str().unwrap(), "--db", url])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

async fn store_with_partner(backend: Backend) -> (TestDb, Store, String) {
    let db = TestDb::new(backend).await;
    let store = Store::open(db.url()).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let acme = partners::insert(&mut conn, &Title::parse("name", "Acme").unwrap(), PartnerKind::Content).await.unwrap();
    let ends = starship_store::now_millis() + 30 * 86_400_000;
    partners::insert_production(
        &mut conn,
        ProductionId::parse("id", 70030433).unwrap(),
        &Title::parse("title", "Summer Shoot").unwrap(),
        Some(ends),
    )
    .await
    .unwrap();
    (db, store, acme.id.into_string())
}

#[tokio::test]
async fn imported_people_hold_their_roles_with_history_and_production_roles_end_with_the_production() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        imported_people_hold_their_roles(backend).await;
    }
}

async fn imported_people_hold_their_roles(backend: Backend) {
    let (db, store, partner) = store_with_partner(backend).await;
    let url = db.url().to_string();
    let csv = "email,locale,first_name,last_name,roles\n\
               ana@acme.example,en-US,Ana,Lopez,backlot/content-partner-operations\n\
               ben@acme.example,fr-FR,Ben,Martin,backlot/content-partner-operations; production-academy/academy-user@70030433\n\
               cy@acme.example,es-ES,Cy,Ruiz,\n";
    let (ok, text) = import(&url, &partner, csv);
    assert!(ok, "{text}");
    assert!(text.contains("imported 3 users") && text.contains("3 role grants"), "{text}");

    let grants: Vec<(String, String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT u.email, g.role, g.expires_at, g.granted_by FROM grants g JOIN users u ON u.id = g.user_id \
         ORDER BY u.email, g.role",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let held: Vec<(&str, &str, bool)> =
        grants.iter().map(|(email, role, end, _)| (email.as_str(), role.as_str(), end.is_some())).collect();
    assert_eq!(
        held,
        vec![
            ("ana@acme.example", "content-partner-operations", false),
            ("ben@acme.example", "academy-user", true),
            ("ben@acme.example", "content-partner-operations", false),
        ],
        "the academy role ends with its production"
    );
    assert!(grants.iter().all(|(.., by)| by.is_none()), "the console is no account: {grants:?}");

    let granted: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.email, h.source FROM history h JOIN users u ON u.id = h.user_id \
         WHERE h.action = 'role.granted' ORDER BY u.email",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(granted.len(), 3, "{granted:?}");
    assert!(granted.iter().all(|(_, source)| source == "cli"), "{granted:?}");
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn an_import_with_an_unknown_role_imports_nobody() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        an_import_with_an_unknown_role_imports_nobody_on(backend).await;
    }
}

async fn an_import_with_an_unknown_role_imports_nobody_on(backend: Backend) {
    let (db, store, partner) = store_with_partner(backend).await;
    let url = db.url().to_string();
    let csv = "email,locale,first_name,last_name,roles\n\
               ana@acme.example,en-US,Ana,Lopez,backlot/content-partner-operations\n\
               ben@acme.example,en-US,Ben,Martin,backlot/no-such-role\n";
    let (ok, text) = import(&url, &partner, csv);
    assert!(!ok, "{text}");
    assert!(text.contains("row 2: roles") && text.contains("nothing was imported"), "{text}");
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(store.pool()).await.unwrap();
    assert_eq!(users, 0);
    store.close().await;
    db.drop_db().await;
}
