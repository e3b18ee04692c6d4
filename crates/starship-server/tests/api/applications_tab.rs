//! The Applications tab: role holders by default, everyone on request, a
//! total, previous and next pages, and filters by role, production and
//! status; the same through the API and on the page.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;
use crate::web::{page, signed_in_browser};

fn emails(page: &Value) -> Vec<String> {
    page["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()).collect()
}

app_test!(the_applications_tab_lists_role_holders_with_a_total_and_pages_both_ways, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let mut holders = vec!["mara.master@sunrise.example".to_string(), "morgan.master@sunrise.example".to_string()];
    for i in 0..5 {
        let email = format!("holder{i}.cpo@sunrise.example");
        let id = app.member(Some(&w.sunrise), &email).await;
        app.grant(&id, "backlot", "content-partner-operations", None).await;
        holders.push(email);
    }
    holders.sort();

    let (status, first) = app.get(&mara, "/api/v1/applications/backlot/users?limit=3").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["total"], 7, "the role holders only: {first}");
    assert_eq!(emails(&first), holders[..3]);
    assert!(first.get("previous").is_none(), "no page before the first");
    let next = first["next"].as_str().unwrap();
    let (_, second) = app.get(&mara, &format!("/api/v1/applications/backlot/users?limit=3&after={next}")).await;
    assert_eq!(emails(&second), holders[3..6]);
    assert_eq!(second["total"], 7);
    let previous = second["previous"].as_str().expect("a previous page");
    let (_, back) = app.get(&mara, &format!("/api/v1/applications/backlot/users?limit=3&before={previous}")).await;
    assert_eq!(emails(&back), holders[..3], "previous leads back to the first page");
    assert!(back.get("previous").is_none());
    let next = second["next"].as_str().unwrap();
    let (_, last) = app.get(&mara, &format!("/api/v1/applications/backlot/users?limit=3&after={next}")).await;
    assert_eq!(emails(&last), holders[6..]);
    assert!(last.get("next").is_none());

    let (_, everyone) = app.get(&mara, "/api/v1/applications/backlot/users?everyone=true&limit=200").await;
    assert_eq!(everyone["total"], 9, "everyone of Sunrise, with a role or not: {everyone}");
    assert!(emails(&everyone).contains(&"pat.plain@sunrise.example".to_string()));
    assert!(!emails(&everyone).contains(&"nina.north@northwind.example".to_string()));

    let (_, masters) =
        app.get(&mara, "/api/v1/applications/backlot/users?role=master-content-partner-operations").await;
    assert_eq!(emails(&masters), ["mara.master@sunrise.example", "morgan.master@sunrise.example"]);
    assert_eq!(masters["total"], 2);
    let (status, body) = app.get(&mara, "/api/v1/applications/backlot/users?role=academy-user").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not a role of Backlot: {body}");
    let (status, _) = app.get(&mara, "/api/v1/applications/backlot/users?status=sleeping").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.get(&mara, "/api/v1/applications/backlot/users?production=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, other) = app.get(&mara, &format!("/api/v1/applications/backlot/users?before={}", w.outsider)).await;
    assert_eq!(emails(&other), Vec::<String>::new(), "another partner's person is no cursor");
});

app_test!(the_applications_tab_filters_by_status_and_production, |app| async move {
    let w = world(&app).await;
    let olivia = app.signed_in("olivia.operator@starship.example").await;
    let alex = app.signed_in("alex.academy@sunrise.example").await;
    let (status, created) = app
        .post(
            &olivia,
            "/api/v1/users",
            json!({"email": "penny.pending@sunrise.example", "first_name": "Penny",
            "last_name": "Pending", "locale": "en-US", "partner_id": w.sunrise}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let penny = created["id"].as_str().unwrap().to_string();
    let dora = app.member(Some(&w.sunrise), "dora.deactivated@sunrise.example").await;
    let abe = app.member(Some(&w.sunrise), "abe.active@sunrise.example").await;
    let other = app.member(Some(&w.sunrise), "otto.other@sunrise.example").await;
    for id in [&penny, &dora, &abe] {
        app.grant(id, "production-academy", "academy-user", Some(HOME_THEATER)).await;
    }
    app.grant(&other, "production-academy", "academy-user", Some(123)).await;
    let (status, _) = app.post(&olivia, &format!("/api/v1/users/{dora}/deactivation"), json!({})).await;
    assert!(status.is_success(), "{status}");

    let tab = "/api/v1/applications/production-academy/users";
    let (_, all) = app.get(&olivia, &format!("{tab}?partner_id={}", w.sunrise)).await;
    assert_eq!(all["total"], 4, "{all}");
    let statuses: Vec<(String, String)> = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["email"].as_str().unwrap().to_string(), u["status"].as_str().unwrap().to_string()))
        .collect();
    assert!(statuses.contains(&("penny.pending@sunrise.example".into(), "pending".into())), "{statuses:?}");
    assert!(statuses.contains(&("dora.deactivated@sunrise.example".into(), "deactivated".into())));
    assert!(statuses.contains(&("abe.active@sunrise.example".into(), "active".into())));
    for (status, who) in
        [("pending", "penny.pending@sunrise.example"), ("deactivated", "dora.deactivated@sunrise.example")]
    {
        let (_, found) = app.get(&olivia, &format!("{tab}?partner_id={}&status={status}", w.sunrise)).await;
        assert_eq!(emails(&found), [who], "{status}");
        assert_eq!(found["total"], 1);
    }
    let (_, active) =
        app.get(&olivia, &format!("{tab}?partner_id={}&status=active&production={HOME_THEATER}", w.sunrise)).await;
    assert_eq!(emails(&active), ["abe.active@sunrise.example"]);
    let (_, on_other) = app.get(&olivia, &format!("{tab}?partner_id={}&production=123", w.sunrise)).await;
    assert_eq!(emails(&on_other), ["otto.other@sunrise.example"]);

    let (_, mine) = app.get(&alex, &format!("{tab}?production={HOME_THEATER}&status=active")).await;
    assert_eq!(emails(&mine), ["abe.active@sunrise.example"], "the application's admin filters the same way");

    let browser = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let (status, html) =
        page(&app, &browser, &format!("/applications/production-academy?partner_id={}&status=pending", w.sunrise))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("1 user holding a role in Production Academy"), "{html}");
    assert!(html.contains("penny.pending@sunrise.example") && !html.contains("abe.active@sunrise.example"));
    assert!(html.contains(r#"<option value="pending" selected>"#));
    let (_, html) =
        page(&app, &browser, &format!("/applications/production-academy?partner_id={}&everyone=1", w.sunrise)).await;
    assert!(html.contains("users of the partner"), "{html}");
    assert!(html.contains("pat.plain@sunrise.example"), "everyone, roles or not");
});
