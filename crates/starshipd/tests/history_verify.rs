//! `starshipd history verify` against a store someone with database access
//! has tampered with: the append-only trigger dropped, a row rewritten.

use std::process::Command;

use serde_json::json;
use starship_core::domain::{Email, Locale, PartnerKind, PersonName, Title, UserStatus};
use starship_store::history::{self, Actor, Source};
use starship_store::users::{self, NewUser};
use starship_store::{partners, sqlx, Store};

fn verify(url: &str) -> (bool, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_starshipd")).args(["history", "verify", "--db", url]).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn history_verify_names_the_entry_rewritten_behind_the_triggers_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("starship.db").display());
    let store = Store::open(&url).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let acme = partners::insert(&mut conn, &Title::parse("name", "Acme").unwrap(), PartnerKind::Content).await.unwrap();
    let ana = users::insert(
        &mut conn,
        &NewUser {
            partner_id: Some(&acme.id),
            email: &Email::parse("email", "ana@acme.example").unwrap(),
            first_name: &PersonName::parse("f", "Ana").unwrap(),
            last_name: &PersonName::parse("l", "Lopez").unwrap(),
            locale: Locale::parse("locale", "en-US").unwrap(),
            phone: None,
            status: UserStatus::Active,
            password_hash: None,
        },
    )
    .await
    .unwrap();
    for i in 0..3 {
        history::append(
            &mut conn,
            &ana.id,
            &Actor::system(Source::Cli),
            starship_store::history::Kind::UserUpdated,
            json!({ "i": i }),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let (second, head): (String, String) = {
        let entry = sqlx::query_as("SELECT id, hash FROM history WHERE chain = $1 AND seq = 2")
            .bind(&acme.id)
            .fetch_one(store.pool());
        let last = sqlx::query_as::<_, (String,)>("SELECT hash FROM history_chain_heads WHERE chain = $1")
            .bind(&acme.id)
            .fetch_one(store.pool());
        let ((id, _), (head,)): ((String, String), (String,)) = (entry.await.unwrap(), last.await.unwrap());
        (id, head)
    };

    let (ok, text) = verify(&url);
    assert!(ok, "{text}");
    assert!(text.contains(&format!("chain {} entries 3 seq 3 hash {head}", acme.id)), "prints the anchor: {text}");

    sqlx::query("DROP TRIGGER history_no_update").execute(store.pool()).await.unwrap();
    sqlx::query("UPDATE history SET details = '{\"i\":7}' WHERE id = $1")
        .bind(&second)
        .execute(store.pool())
        .await
        .unwrap();
    let (ok, text) = verify(&url);
    assert!(!ok, "a rewritten entry must fail verification: {text}");
    assert!(text.contains(&format!("entry {second} (chain '{}', seq 2): hash is", acme.id)), "{text}");
    store.close().await;
}

#[test]
fn history_verify_on_a_store_never_migrated_says_to_migrate_first() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let (ok, text) = verify(&url);
    assert!(!ok, "{text}");
    assert!(text.contains("no chains yet") && text.contains("starshipd migrate --db"), "{text}");
}
