//! `starshipd clients create`: registers an application client and prints
//! its client_id and secret once.

use std::process::Command;

use starship_core::domain::{Email, Password};
use starship_store::{sqlx, Store};

fn create(url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_starshipd"))
        .args(["clients", "create", "--db", url])
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[tokio::test]
async fn clients_create_prints_the_client_id_and_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("starship.db").display());
    let store = Store::open(&url).await.unwrap();
    let web = ["--application", "backlot", "--name", "Backlot dev", "--redirect-uri", "http://127.0.0.1:8400/callback"];

    let (ok, text) = create(&url, &web);
    assert!(!ok && text.contains("operator create"), "History needs an operator to record it for: {text}");

    let email = Email::parse("email", "olivia.operator@starship.example").unwrap();
    let password = Password::parse("password", "correct horse battery staple").unwrap();
    let operator =
        starship_server::ops::users::create_operator(&store, &email, "Olivia", "Operator", &password).await.unwrap();

    let (ok, text) =
        create(&url, &["--application", "backlot", "--name", "Bad", "--redirect-uri", "http://evil.example/"]);
    assert!(!ok && text.contains("must use https"), "{text}");

    let (ok, text) = create(&url, &web);
    assert!(ok, "{text}");
    let value = |key: &str| {
        text.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or_else(|| panic!("{key} in {text}"))
    };
    let (client_id, secret) = (value("client_id"), value("client_secret"));
    assert!(client_id.starts_with("backlot-") && secret.starts_with("scs_"), "{text}");
    let (hash, uris): (String, String) =
        sqlx::query_as("SELECT secret_hash, redirect_uris FROM oidc_clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(hash, starship_server::security::secret_hash(secret));
    assert_eq!(uris, r#"["http://127.0.0.1:8400/callback"]"#);
    let (user, source): (String, String) =
        sqlx::query_as("SELECT user_id, source FROM history WHERE action = 'oidc.client-issued'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((user, source.as_str()), (operator.id.into_string(), "oidc"));

    let service = ["--application", "content-hub", "--name", "Hub service", "--grant-type", "client_credentials"];
    let (ok, text) = create(&url, &service);
    assert!(ok, "{text}");

    let output = Command::new(env!("CARGO_BIN_EXE_starshipd")).args(["keys", "rotate", "--db", &url]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_signing_keys WHERE retired_at IS NULL")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(live, 1, "one key signs");
}
