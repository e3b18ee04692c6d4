//! Search that matches any part of a name or an email (trigram indexes on
//! both stores), best matches first, behind the same partner scoping.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

async fn person(app: &TestApp, client: &Client, first: &str, last: &str, email: &str) -> String {
    let (status, created) = app
        .post(
            client,
            "/api/v1/users",
            json!({"email": email, "first_name": first, "last_name": last, "locale": "en-US"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_string()
}

async fn found(app: &TestApp, client: &Client, q: &str) -> Vec<String> {
    let (status, body) = app.get(client, &format!("/api/v1/users?q={}&limit=100", urlencode(q))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    emails(&body)
}

fn emails(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()).collect()
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

app_test!(search_finds_part_of_a_surname_and_of_an_email_domain, |app| async move {
    let _w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    person(&app, &admin, "Ingrid", "Vanderberg", "ingrid@studio-lumen.example").await;
    person(&app, &admin, "Theo", "Okafor", "theo@sunrise.example").await;

    assert_eq!(found(&app, &admin, "derbe").await, ["ingrid@studio-lumen.example"], "inside a surname");
    assert_eq!(found(&app, &admin, "DERBE").await, ["ingrid@studio-lumen.example"], "in any case");
    assert_eq!(found(&app, &admin, "lumen").await, ["ingrid@studio-lumen.example"], "inside an email domain");
    assert_eq!(found(&app, &admin, "kafo").await, ["theo@sunrise.example"]);
    assert_eq!(found(&app, &admin, "grid vander").await, ["ingrid@studio-lumen.example"], "across first and last");
    let sunrise = found(&app, &admin, "sunrise").await;
    assert_eq!(sunrise.len(), 5, "every Sunrise address by its domain: {sunrise:?}");
    assert!(found(&app, &admin, "zzq").await.is_empty());
    assert!(found(&app, &admin, "%").await.is_empty(), "a wildcard is a character like any other");
    assert!(found(&app, &admin, "r_s").await.is_empty());
    assert!(found(&app, &admin, "\"de").await.is_empty(), "a quote is a character like any other");
    assert!(found(&app, &admin, "rg").await.is_empty(), "two characters match the start of a name or email only");
    assert_eq!(found(&app, &admin, "ok").await, ["theo@sunrise.example"], "two characters: last name prefix");
});

app_test!(search_puts_prefix_matches_before_matches_inside_then_the_closest, |app| async move {
    let _w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    person(&app, &admin, "Ana", "Lopez", "ana@sunrise.example").await;
    person(&app, &admin, "Cleo", "Cyclopedia", "cleo@sunrise.example").await;
    person(&app, &admin, "Lopa", "Zamora", "zamora@sunrise.example").await;
    person(&app, &admin, "Dan", "Lopezgarcia", "dan@sunrise.example").await;
    person(&app, &admin, "Eve", "Ng", "eve.lopez-ng@sunrise.example").await;

    let ranked = found(&app, &admin, "lopez").await;
    assert_eq!(
        ranked,
        [
            // last names starting with it, alphabetical
            "ana@sunrise.example",
            "dan@sunrise.example",
            // then inside the email
            "eve.lopez-ng@sunrise.example",
        ],
        "{ranked:?}"
    );
    let ranked = found(&app, &admin, "lop").await;
    assert_eq!(ranked[0], "zamora@sunrise.example", "a first name starting with it first: {ranked:?}");
    assert_eq!(&ranked[1..3], ["ana@sunrise.example", "dan@sunrise.example"], "then last names: {ranked:?}");
    assert_eq!(ranked.len(), 5, "then inside names and emails: {ranked:?}");
    assert!(ranked[3..].contains(&"cleo@sunrise.example".to_string()));
    assert_eq!(found(&app, &admin, "ana@sunrise.example").await[0], "ana@sunrise.example", "an exact email first");
});

app_test!(search_matches_inside_names_only_within_the_callers_partner, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let outsider = app.signed_in("nina.north@northwind.example").await;
    person(&app, &outsider, "Wanda", "Marblehead", "wanda@northwind.example").await;
    person(&app, &admin, "Mark", "Blehm", "mark@sunrise.example").await;

    assert_eq!(found(&app, &admin, "bleh").await, ["mark@sunrise.example"], "not the other partner's Marblehead");
    assert!(found(&app, &admin, "northwind").await.is_empty(), "not another partner's domain");
    assert_eq!(found(&app, &outsider, "bleh").await, ["wanda@northwind.example"]);
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let everyone = found(&app, &operator, "bleh").await;
    assert_eq!(everyone.len(), 2, "operators search every partner: {everyone:?}");
    let _ = w;
});

app_test!(search_forgets_an_edited_name_and_a_deleted_person, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let quinn = person(&app, &admin, "Quinn", "Halvorsen", "quinn@sunrise.example").await;
    assert_eq!(found(&app, &admin, "vorse").await, ["quinn@sunrise.example"]);

    let (status, body) =
        app.call(&admin, "PATCH", &format!("/api/v1/users/{quinn}"), Some(json!({"last_name": "Brightwater"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(found(&app, &admin, "vorse").await.is_empty(), "the old surname is not found");
    assert_eq!(found(&app, &admin, "ghtwat").await, ["quinn@sunrise.example"], "the new one is");
    // Across partners (on SQLite, through the trigram table, not a partner's rows).
    let operator = app.signed_in("olivia.operator@starship.example").await;
    assert!(found(&app, &operator, "vorse").await.is_empty(), "nor by an operator");
    assert_eq!(found(&app, &operator, "ghtwat").await, ["quinn@sunrise.example"]);

    let (status, created) = app
        .post(
            &operator,
            "/api/v1/users",
            json!({"email": "rowan@sunrise.example", "first_name": "Rowan", "last_name": "Tessaly", "locale": "en-US",
                   "partner_id": w.sunrise, "portal_access": false, "contact_roles": ["logistics"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let rowan = created["id"].as_str().unwrap();
    assert_eq!(found(&app, &admin, "essal").await, ["rowan@sunrise.example"]);
    let (status, body) = app.delete(&operator, &format!("/api/v1/users/{rowan}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(found(&app, &admin, "essal").await.is_empty(), "a deleted person's name is not found");
    assert!(found(&app, &operator, "rowan@").await.is_empty(), "nor their address");
    assert!(found(&app, &operator, "essal").await.is_empty(), "nor their name, by an operator");
});
