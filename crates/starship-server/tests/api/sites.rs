//! Sites: listed with the people associated with each (ticked on the
//! contact, or named in the deployment survey), added and edited by
//! operators and the partner's portal admins.

use reqwest::StatusCode;
use serde_json::json;
use starship_core::ids::{SiteId, UserId};

use crate::portal::portal_world;
use crate::support::*;

app_test!(portal_admins_and_operators_edit_sites_and_the_list_names_their_contacts, |app| async move {
    let p = portal_world(&app).await;
    {
        let mut conn = app.store.conn().await.unwrap();
        starship_store::sites::add_survey_contact(
            &mut conn,
            &SiteId::from(p.site.as_str()),
            &UserId::from(p.engineering.as_str()),
        )
        .await
        .unwrap();
    }
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, sites) = app.get(&nora, "/api/v1/sites").await;
    assert_eq!(status, StatusCode::OK);
    let contacts: Vec<(String, bool)> = sites[0]["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["email"].as_str().unwrap().to_string(), c["on_survey"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        contacts,
        [("eli.engineer@metrofiber.example".to_string(), true), ("noah.noc@metrofiber.example".to_string(), false)],
        "the contact ticked on the site and the one on its survey"
    );

    let path = format!("/api/v1/sites/{}", p.site);
    let (status, site) =
        app.call(&nora, "PUT", &path, Some(json!({"name": "Denver DC2", "location": "Aurora, US"}))).await;
    assert_eq!(status, StatusCode::OK, "{site}");
    assert_eq!((&site["name"], &site["location"]), (&json!("Denver DC2"), &json!("Aurora, US")));
    let (_, other) = app.post(&nora, "/api/v1/sites", json!({"name": "Austin POP", "location": "Austin, US"})).await;
    let (status, _) =
        app.call(&nora, "PUT", &path, Some(json!({"name": "austin pop", "location": "Austin, US"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "two sites of a partner never share a name ({other})");
    let (status, _) = app.call(&nora, "PUT", &path, Some(json!({"name": "", "location": "Austin, US"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for (email, expected) in [
        ("eli.engineer@metrofiber.example", StatusCode::FORBIDDEN),
        ("rita.reader@metrofiber.example", StatusCode::FORBIDDEN),
        ("oscar.other@otherisp.example", StatusCode::NOT_FOUND),
    ] {
        let client = app.signed_in(email).await;
        let (status, problem) =
            app.call(&client, "PUT", &path, Some(json!({"name": "Mine", "location": "Here"}))).await;
        assert_eq!(status, expected, "{email}: {problem}");
    }
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) =
        app.call(&operator, "PUT", &path, Some(json!({"name": "Denver DC1", "location": "Denver, US"}))).await;
    assert_eq!(status, StatusCode::OK, "operators edit any partner's sites");
    let (_, sites) = app.get(&operator, &format!("/api/v1/sites?partner_id={}", p.metro)).await;
    assert!(sites.as_array().unwrap().iter().any(|s| s["name"] == "Denver DC1" && s["location"] == "Denver, US"));
});
