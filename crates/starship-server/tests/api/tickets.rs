//! Tickets: opened by every portal level (and operators for a partner),
//! moved between statuses by operators and the partner's portal admins,
//! each opening, change and comment emailed to the watchers and the
//! partner's NOC contacts.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::domain::PartnerKind;

use crate::portal::portal_world;
use crate::support::*;

const NORA: &str = "nora.admin@metrofiber.example";
const ELI: &str = "eli.engineer@metrofiber.example";
const RITA: &str = "rita.reader@metrofiber.example";
const NOAH: &str = "noah.noc@metrofiber.example";

/// The subjects of the emails sent to `recipient`.
async fn subjects_to(app: &TestApp, recipient: &str) -> Vec<String> {
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, &format!("/api/v1/outbox?recipient={recipient}")).await;
    outbox.as_array().unwrap().iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect()
}

app_test!(every_portal_level_opens_a_ticket_and_the_noc_contacts_are_emailed, |app| async move {
    let p = portal_world(&app).await;
    for (email, subject) in [(NORA, "Admin sees loss"), (ELI, "Engineer sees loss"), (RITA, "Reader sees loss")] {
        let client = app.signed_in(email).await;
        let body =
            json!({"subject": subject, "body": "3% loss since 09:00", "site_id": p.site, "appliance_id": p.appliance});
        let (status, ticket) = app.post(&client, "/api/v1/tickets", body).await;
        assert_eq!(status, StatusCode::CREATED, "{email}: {ticket}");
        assert_eq!(ticket["status"], "open");
        assert_eq!((&ticket["site_id"], &ticket["appliance_id"]), (&json!(p.site), &json!(p.appliance)));
        assert_eq!(ticket["partner_id"], json!(p.metro));
        let (_, listed) = app.get(&client, &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap())).await;
        assert_eq!(listed["subject"], subject);
        assert!(
            subjects_to(&app, NOAH).await.contains(&format!("New ticket: {subject}")),
            "the NOC contact hears of {subject}"
        );
        assert!(
            !subjects_to(&app, email).await.iter().any(|s| s.ends_with(subject)),
            "the opener is not emailed about their own ticket"
        );
    }
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, problem) =
        app.post(&operator, "/api/v1/tickets", json!({"subject": "Maintenance", "body": "Tonight"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an operator names the partner: {problem}");
    let (status, ticket) = app
        .post(&operator, "/api/v1/tickets", json!({"subject": "Maintenance", "body": "Tonight", "partner_id": p.metro}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let rita = app.signed_in(RITA).await;
    let (_, tickets) = app.get(&rita, "/api/v1/tickets").await;
    assert_eq!(tickets.as_array().unwrap().len(), 5, "the demo ticket and four new ones");
});

app_test!(a_ticket_names_only_its_partners_sites_and_appliances_and_bad_input_writes_nothing, |app| async move {
    let p = portal_world(&app).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let other = app.partner("Third ISP", PartnerKind::Network).await;
    let (_, their_site) = app
        .post(&operator, "/api/v1/sites", json!({"name": "Lyon", "location": "Lyon, FR", "partner_id": other}))
        .await;
    let their_site = their_site["id"].as_str().unwrap().to_string();
    let nora = app.signed_in(NORA).await;
    let before = (app.count("tickets").await, app.count("outbox").await, app.count("history").await);
    let refusals: Vec<(Value, StatusCode)> = vec![
        (json!({"subject": "x", "body": "y", "site_id": their_site}), StatusCode::NOT_FOUND),
        (json!({"subject": "x", "body": "y", "site_id": "no-such-site"}), StatusCode::NOT_FOUND),
        (json!({"subject": "x", "body": "y", "appliance_id": "no-such-appliance"}), StatusCode::NOT_FOUND),
        (json!({"subject": "x", "body": "y", "partner_id": other}), StatusCode::NOT_FOUND),
        (json!({"subject": "", "body": "y"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"subject": "x".repeat(201), "body": "y"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"subject": "x", "body": "   "}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"subject": "x", "body": "y".repeat(10_001)}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"subject": "x", "body": "y", "severity": "high"}), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (body, expected) in refusals {
        let (status, problem) = app.post(&nora, "/api/v1/tickets", body.clone()).await;
        assert_eq!(status, expected, "{body}: {problem}");
    }
    let (status, problem) = app
        .post(
            &operator,
            "/api/v1/tickets",
            json!({"subject": "x", "body": "y", "partner_id": p.metro, "site_id": their_site}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another partner's site, even for an operator: {problem}");
    let after = (app.count("tickets").await, app.count("outbox").await, app.count("history").await);
    assert_eq!(before, after, "nothing was written");
});

app_test!(operators_and_portal_admins_move_a_ticket_and_the_watchers_are_emailed, |app| async move {
    let p = portal_world(&app).await;
    let (nora, eli, rita) = (app.signed_in(NORA).await, app.signed_in(ELI).await, app.signed_in(RITA).await);
    let (_, ticket) =
        app.post(&rita, "/api/v1/tickets", json!({"subject": "Flapping BGP", "body": "Every hour"})).await;
    let id = ticket["id"].as_str().unwrap().to_string();
    assert_eq!(ticket["next_statuses"], json!(["waiting-on-partner", "waiting-on-operator", "resolved", "closed"]));
    let path = format!("/api/v1/tickets/{id}/status");
    let (status, _) = app.post(&eli, &format!("/api/v1/tickets/{id}/comments"), json!({"body": "I see it too"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(subjects_to(&app, RITA).await.contains(&"New comment on: Flapping BGP".to_string()), "the opener watches");

    for (client, who) in [(&eli, "engineering"), (&rita, "read-only")] {
        let (status, problem) = app.call(client, "PUT", &path, Some(json!({"status": "resolved"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who} may not change the status: {problem}");
    }
    let (status, moved) = app.call(&nora, "PUT", &path, Some(json!({"status": "waiting-on-operator"}))).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["status"], "waiting-on-operator");
    let told = "Ticket Waiting on the operator: Flapping BGP".to_string();
    for watcher in [RITA, ELI, NOAH] {
        assert!(subjects_to(&app, watcher).await.contains(&told), "{watcher} is told of the change");
    }
    assert!(!subjects_to(&app, NORA).await.contains(&told), "the one who moved it is not");

    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) = app.call(&operator, "PUT", &path, Some(json!({"status": "resolved"}))).await;
    assert_eq!(status, StatusCode::OK, "operators move tickets of any partner");
    let (status, problem) = app.call(&nora, "PUT", &path, Some(json!({"status": "waiting-on-partner"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a resolved ticket only reopens or closes: {problem}");
    let (status, _) = app.call(&nora, "PUT", &path, Some(json!({"status": "closed"}))).await;
    assert_eq!(status, StatusCode::OK);
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let before = (app.count("outbox").await, app.count("history").await);
    let (status, problem) = app.call(&nora, "PUT", &path, Some(json!({"status": "open"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a closed ticket stays closed: {problem}");
    let (status, problem) = app.call(&nora, "PUT", &path, Some(json!({"status": "pending"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not a status: {problem}");
    let (status, _) = app.call(&oscar, "PUT", &path, Some(json!({"status": "open"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another partner's admin does not see it");
    assert_eq!(before, (app.count("outbox").await, app.count("history").await), "refusals write nothing");
    let (_, ticket) = app.get(&rita, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!((ticket["status"].clone(), ticket["next_statuses"].clone()), (json!("closed"), json!([])));
    assert_eq!(p.metro, ticket["partner_id"].as_str().unwrap());
});
