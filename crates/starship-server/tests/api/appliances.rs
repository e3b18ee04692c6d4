//! Appliances: operators register them at a partner's site, one by one or
//! from a CSV (all or nothing, every bad row named), and retire them; the
//! list shows each one's status, history and current BGP version.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::portal::portal_world;
use crate::support::*;

const OLIVIA: &str = "olivia.operator@starship.example";

fn events(appliance: &Value) -> Vec<&str> {
    appliance["history"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect()
}

async fn listed(app: &TestApp, partner: &str, serial: &str) -> Value {
    let operator = app.signed_in(OLIVIA).await;
    let (_, all) = app.get(&operator, &format!("/api/v1/appliances?partner_id={partner}")).await;
    all.as_array().unwrap().iter().find(|a| a["serial"] == serial).cloned().expect("listed")
}

app_test!(operators_register_an_appliance_at_a_partners_site_and_partners_may_not, |app| async move {
    let p = portal_world(&app).await;
    let operator = app.signed_in(OLIVIA).await;
    let (status, appliance) = app
        .post(
            &operator,
            "/api/v1/appliances",
            json!({"site_id": p.site, "serial": "OCA-DEN-7", "model": "Storage OCA"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{appliance}");
    assert_eq!((&appliance["status"], &appliance["partner_id"]), (&json!("serving"), &json!(p.metro)));
    let id = appliance["id"].as_str().unwrap().to_string();

    let before = app.count("appliances").await;
    let (nora, oscar) =
        (app.signed_in("nora.admin@metrofiber.example").await, app.signed_in("oscar.other@otherisp.example").await);
    let refusals: Vec<(&reqwest::Client, Value, StatusCode, &str)> = vec![
        (
            &operator,
            json!({"site_id": p.site, "serial": "OCA-DEN-7", "model": "Flash"}),
            StatusCode::CONFLICT,
            "a serial is unique",
        ),
        (
            &operator,
            json!({"site_id": p.site, "serial": "OCA DEN/8", "model": "Flash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a serial's characters",
        ),
        (
            &operator,
            json!({"site_id": p.site, "serial": "OCA-DEN-8", "model": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a model",
        ),
        (
            &operator,
            json!({"site_id": "no-such-site", "serial": "OCA-DEN-8", "model": "Flash"}),
            StatusCode::NOT_FOUND,
            "an unknown site",
        ),
        (
            &nora,
            json!({"site_id": p.site, "serial": "OCA-DEN-8", "model": "Flash"}),
            StatusCode::FORBIDDEN,
            "the partner's own admin",
        ),
        (
            &oscar,
            json!({"site_id": p.site, "serial": "OCA-DEN-8", "model": "Flash"}),
            StatusCode::NOT_FOUND,
            "another partner's admin",
        ),
    ];
    for (client, body, expected, what) in refusals {
        let (status, problem) = app.post(client, "/api/v1/appliances", body).await;
        assert_eq!(status, expected, "{what}: {problem}");
    }
    assert_eq!(app.count("appliances").await, before, "nothing registered by a refusal");

    // The list: status, history and the current BGP version.
    let shown = listed(&app, &p.metro, "OCA-DEN-7").await;
    assert_eq!(events(&shown), ["registered"]);
    assert_eq!(shown["history"][0]["by"], OLIVIA);
    assert!(shown.get("bgp_version").is_none(), "no BGP yet: {shown}");
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    for _ in 0..2 {
        let (status, _) = app
            .call(
                &eli,
                "PUT",
                &format!("/api/v1/appliances/{id}/bgp"),
                Some(json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.9"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    app.post(&eli, &format!("/api/v1/appliances/{id}/drain"), json!({})).await;
    app.delete(&eli, &format!("/api/v1/appliances/{id}/drain")).await;
    let shown = listed(&app, &p.metro, "OCA-DEN-7").await;
    assert_eq!(events(&shown), ["registered", "drained", "undrained"]);
    assert_eq!(shown["history"][1]["by"], "eli.engineer@metrofiber.example");
    assert_eq!(shown["bgp_version"], 2);
    let (_, seen_by_rita) = app.get(&app.signed_in("rita.reader@metrofiber.example").await, "/api/v1/appliances").await;
    assert!(seen_by_rita.as_array().unwrap().iter().any(|a| a["serial"] == "OCA-DEN-7"), "every level reads the list");
});

app_test!(a_csv_registers_every_appliance_or_none_and_names_every_bad_row, |app| async move {
    let p = portal_world(&app).await;
    let operator = app.signed_in(OLIVIA).await;
    let bad = "site,serial,model\n\
               Denver DC1,OCA-CSV-1,Flash OCA\n\
               Nowhere,OCA-CSV-2,Flash OCA\n\
               Denver DC1,OCA CSV 3,Flash OCA\n\
               denver dc1,OCA-CSV-1,Storage OCA\n\
               Denver DC1,OCA-1,Flash OCA\n\
               Denver DC1,OCA-CSV-6,\n";
    let before = (app.count("appliances").await, app.count("history").await);
    let (status, problem) =
        app.post(&operator, "/api/v1/appliances/import", json!({"partner_id": p.metro, "csv": bad})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let mut fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["rows[3].site", "rows[4].serial", "rows[5].serial", "rows[6].serial", "rows[7].model"],
        "{problem}"
    );
    assert_eq!(before, (app.count("appliances").await, app.count("history").await), "nothing was written");

    // As a browser's form sends it: CRLF line ends.
    let (status, problem) = app
        .post(&operator, "/api/v1/appliances/import", json!({"partner_id": p.metro, "csv": bad.replace('\n', "\r\n")}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "rows[3].site", "the same line numbers: {problem}");

    let good = "Site,Serial,Model\nDenver DC1,OCA-CSV-1,Flash OCA\n\ndenver dc1,OCA-CSV-2,Storage OCA\n";
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, _) = app.post(&nora, "/api/v1/appliances/import", json!({"csv": good})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "partners do not register appliances");
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let (status, _) = app.post(&oscar, "/api/v1/appliances/import", json!({"partner_id": p.metro, "csv": good})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) =
        app.post(&operator, "/api/v1/appliances/import", json!({"partner_id": p.metro, "csv": "serial\nX"})).await;
    assert_eq!((status, problem["errors"][0]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("csv")));
    let (status, created) =
        app.post(&operator, "/api/v1/appliances/import", json!({"partner_id": p.metro, "csv": good})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let serials: Vec<&str> = created.as_array().unwrap().iter().map(|a| a["serial"].as_str().unwrap()).collect();
    assert_eq!(serials, ["OCA-CSV-1", "OCA-CSV-2"]);
    assert_eq!(app.count("appliances").await, before.0 + 2);
    assert_eq!(listed(&app, &p.metro, "OCA-CSV-2").await["site_id"], json!(p.site));
});

app_test!(a_retired_appliance_stays_listed_as_retired_and_is_no_longer_drained, |app| async move {
    let p = portal_world(&app).await;
    let (operator, nora) = (app.signed_in(OLIVIA).await, app.signed_in("nora.admin@metrofiber.example").await);
    let path = format!("/api/v1/appliances/{}/retirement", p.appliance);
    let (status, _) = app.post(&nora, &path, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "partners do not retire appliances");
    let (status, _) = app.post(&app.signed_in("oscar.other@otherisp.example").await, &path, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, retired) = app.post(&operator, &path, json!({})).await;
    assert_eq!((status, retired["status"].clone()), (StatusCode::OK, json!("retired")), "{retired}");
    assert!(retired["retired_at"].is_string());
    let (status, _) = app.post(&operator, &path, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "retired once");
    let before = app.count("history").await;
    let (status, problem) = app.post(&nora, &format!("/api/v1/appliances/{}/drain", p.appliance), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a retired appliance is not drained: {problem}");
    let bgp = json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.9"});
    let (status, _) = app.call(&nora, "PUT", &format!("/api/v1/appliances/{}/bgp", p.appliance), Some(bgp)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.count("history").await, before);
    let shown = listed(&app, &p.metro, "OCA-1").await;
    assert_eq!((shown["status"].clone(), events(&shown)), (json!("retired"), vec!["registered", "retired"]));
});
