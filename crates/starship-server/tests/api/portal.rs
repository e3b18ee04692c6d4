//! The Partner Portal through the API: the matrix on both stores, access,
//! invitations, appliances, tickets, communications and MFA.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::domain::PartnerKind;

use crate::support::*;

pub struct Portal {
    pub metro: String,
    pub admin: String,
    pub engineering: String,
    pub read_only: String,
    pub contact: String,
    pub outsider: String,
    pub site: String,
    pub appliance: String,
    pub ticket: String,
}

async fn level(app: &TestApp, user: &str, level: &str) {
    app.grant(user, "partner-portal", level, None).await;
}

pub async fn portal_world(app: &TestApp) -> Portal {
    let metro = app.partner("Metro Fiber", PartnerKind::Network).await;
    let other = app.partner("Other ISP", PartnerKind::Network).await;
    app.member(None, "olivia.operator@starship.example").await;
    let admin = app.member(Some(&metro), "nora.admin@metrofiber.example").await;
    level(app, &admin, "admin").await;
    let engineering = app.member(Some(&metro), "eli.engineer@metrofiber.example").await;
    level(app, &engineering, "engineering").await;
    let read_only = app.member(Some(&metro), "rita.reader@metrofiber.example").await;
    level(app, &read_only, "read-only").await;
    let outsider = app.member(Some(&other), "oscar.other@otherisp.example").await;
    level(app, &outsider, "admin").await;
    let mut conn = app.store.conn().await.unwrap();
    let people =
        [starship_server::ops::Identity::parse("", "noah.noc@metrofiber.example", "Noah", "Noc", "en-US").unwrap()];
    let actor = starship_store::history::Actor::system(starship_store::history::Source::System);
    let contact = starship_server::ops::create_users(
        &mut conn,
        &app.state.config,
        &actor,
        &metro,
        &people,
        starship_server::ops::Access::ContactOnly,
    )
    .await
    .unwrap()
    .remove(0)
    .id;
    starship_store::portal::set_contact_roles(&mut conn, &contact, &["noc".into()]).await.unwrap();
    let site = starship_store::portal::insert_site(&mut conn, &metro, "Denver DC1", "Denver, US").await.unwrap().id;
    starship_store::portal::link_site(&mut conn, &contact, &site).await.unwrap();
    let appliance =
        starship_store::portal::insert_appliance(&mut conn, &metro, &site, "OCA-1", "Flash OCA").await.unwrap();
    let ticket =
        starship_store::portal::insert_ticket(&mut conn, &metro, "Packet loss", "3% loss", None).await.unwrap();
    Portal { metro, admin, engineering, read_only, contact, outsider, site, appliance, ticket }
}

// The matrix through the API: each actor level × each target level ×
// each action (people), and the actions on things.
app_test!(the_portal_matrix_holds_through_the_api, |app| async move {
    let p = portal_world(&app).await;
    let actors = [
        ("admin", "nora.admin@metrofiber.example"),
        ("engineering", "eli.engineer@metrofiber.example"),
        ("read-only", "rita.reader@metrofiber.example"),
    ];
    let targets =
        [("admin", &p.admin), ("engineering", &p.engineering), ("read-only", &p.read_only), ("contact", &p.contact)];
    // (actor, target) → may edit details, may administer
    let expected: [[(bool, bool); 4]; 3] = [
        [(true, true), (true, true), (true, true), (true, true)],
        [(false, false), (true, false), (true, true), (true, true)],
        [(false, false), (false, false), (true, false), (false, false)],
    ];
    let mut wrong = Vec::new();
    for (a, (actor, email)) in actors.iter().enumerate() {
        let client = app.signed_in(email).await;
        for (t, (target, id)) in targets.iter().enumerate() {
            let (edit, administer) = expected[a][t];
            let (status, body) = app
                .call(&client, "PATCH", &format!("/api/v1/users/{id}"), Some(json!({"phone": "+1 303 555 0100"})))
                .await;
            if (status == StatusCode::OK) != edit {
                wrong.push(format!("{actor} edits {target}: {status} {body}"));
            }
            // Resetting MFA is user administration; nobody has MFA, so an allowed reset answers 404.
            let (status, body) = app.delete(&client, &format!("/api/v1/users/{id}/mfa")).await;
            let allowed = status == StatusCode::NOT_FOUND;
            let is_self = app.signed_in_id(email).await == **id;
            if !is_self && allowed != administer {
                wrong.push(format!("{actor} administers {target}: {status} {body}"));
            }
        }
        let (status, _) = app.post(&client, &format!("/api/v1/appliances/{}/drain", p.appliance), json!({})).await;
        if (status == StatusCode::OK) != (*actor != "read-only") {
            wrong.push(format!("{actor} drains: {status}"));
        }
        let (status, _) = app
            .post(
                &client,
                &format!("/api/v1/tickets/{}/comments", p.ticket),
                json!({"body": format!("seen by {actor}")}),
            )
            .await;
        if status != StatusCode::CREATED {
            wrong.push(format!("{actor} comments: {status}"));
        }
        let outsider_target = format!("/api/v1/users/{}", p.outsider);
        let (status, _) = app.call(&client, "PATCH", &outsider_target, Some(json!({"phone": "+1 303 555 0100"}))).await;
        if status != StatusCode::NOT_FOUND {
            wrong.push(format!("{actor} edits another partner's admin: {status}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
});

app_test!(an_engineering_user_manages_read_only_users_and_contacts_only, |app| async move {
    let p = portal_world(&app).await;
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let (status, created) = app
        .post(&eli, "/api/v1/users", json!({"email": "lena.logistics@metrofiber.example", "first_name": "Lena", "last_name": "Logistics", "locale": "en-US", "portal_access": false, "contact_roles": ["logistics", "shipping"], "sites": [p.site]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let lena = created["id"].as_str().unwrap().to_string();
    let (status, _) = app.post(&eli, "/api/v1/users", json!({"email": "a.admin@metrofiber.example", "first_name": "A", "last_name": "Admin", "locale": "en-US", "portal_level": "admin"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no admins from engineering");

    let (status, _) = app
        .call(&eli, "PUT", &format!("/api/v1/users/{}/portal-level", p.read_only), Some(json!({"level": "admin"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "raising a read-only user to admin");
    // A second engineering user: Eli could have given them all they hold,
    // so only the matrix (engineering administers read-only users) refuses.
    let peer = app.member(Some(&p.metro), "ezra.engineer@metrofiber.example").await;
    level(&app, &peer, "engineering").await;
    let (status, _) =
        app.call(&eli, "PUT", &format!("/api/v1/users/{peer}/portal-level"), Some(json!({"level": "read-only"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "lowering an engineering peer");
    let (status, _) = app.post(&eli, &format!("/api/v1/users/{lena}/invitation"), json!({"level": "read-only"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.delete(&eli, &format!("/api/v1/users/{peer}/portal-access")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "revoking an engineering peer's access");
    let (status, _) = app.delete(&eli, &format!("/api/v1/users/{peer}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "deleting an engineering peer");
    let (_, peer_now) = app.get(&eli, &format!("/api/v1/users/{peer}")).await;
    assert_eq!(peer_now["status"], "active", "the peer is untouched");
    let (status, _) = app.delete(&eli, &format!("/api/v1/users/{}", p.contact)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&eli, &format!("/api/v1/users/{}", p.contact)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deleted contact is gone");
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (status, _) = app.post(&rita, "/api/v1/users", json!({"email": "x@metrofiber.example", "first_name": "X", "last_name": "Y", "locale": "en-US", "portal_access": false})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

fn link_token(outbox: &Value, recipient: &str, kind: &str) -> String {
    let message =
        outbox.as_array().unwrap().iter().find(|m| m["recipient"] == recipient && m["kind"] == kind).expect("an email");
    let body = message["body"].as_str().unwrap();
    let start = body.find("token=").unwrap() + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_string()
}

app_test!(invitations_work_once_expire_and_are_replaced_and_revocation_ends_every_session, |app| async move {
    let p = portal_world(&app).await;
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) =
        app.post(&nora, &format!("/api/v1/users/{}/invitation", p.contact), json!({"level": "engineering"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    let first = link_token(&outbox, "noah.noc@metrofiber.example", "invitation");
    let (status, _) = app.post(&nora, &format!("/api/v1/users/{}/invitation", p.contact), json!({})).await;
    assert_eq!(status, StatusCode::OK, "re-inviting");
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    let second = link_token(&outbox, "noah.noc@metrofiber.example", "invitation");
    assert_ne!(first, second);
    let anonymous = app.client();
    let (status, _) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": first, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the replaced link no longer works");
    let (status, _) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": second, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
    let noah = app.signed_in("noah.noc@metrofiber.example").await;
    let (_, token) = app.post(&noah, "/api/v1/tokens", json!({})).await;
    let bearer = token["token"].as_str().unwrap().to_string();

    let (status, revoked) = app.delete(&nora, &format!("/api/v1/users/{}/portal-access", p.contact)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["status"], "contact");
    let (status, _) = app.get(&noah, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended at once");
    let response = app.client().get(app.url("/api/v1/me")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "and the token");
    let (status, _) = app
        .post(&app.client(), "/api/v1/session", json!({"email": "noah.noc@metrofiber.example", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, history) = app.get(&nora, &format!("/api/v1/users/{}/history", p.contact)).await;
    let actions: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"portal.access-revoked")
            && actions.contains(&"portal.invited")
            && actions.contains(&"account.activated"),
        "{actions:?}"
    );

    // An expired invitation changes nothing.
    app.post(&nora, &format!("/api/v1/users/{}/invitation", p.contact), json!({})).await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    let third = link_token(&outbox, "noah.noc@metrofiber.example", "invitation");
    starship_store::sqlx::query("UPDATE activation_tokens SET expires_at = 1 WHERE used_at IS NULL")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (status, problem) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": third, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, contact) = app.get(&nora, &format!("/api/v1/users/{}", p.contact)).await;
    assert_eq!(contact["status"], "pending");
});

app_test!(an_email_change_waits_for_the_new_address_to_confirm, |app| async move {
    let p = portal_world(&app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (status, _) = app
        .post(&rita, &format!("/api/v1/users/{}/email-change", p.read_only), json!({"email": "rita@new.example"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, me) = app.get(&rita, "/api/v1/me").await;
    assert_eq!(me["email"], "rita.reader@metrofiber.example", "nothing changes before confirmation");
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    assert!(outbox
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["recipient"] == "rita.reader@metrofiber.example" && m["kind"] == "email-change-notice"));
    let token = link_token(&outbox, "rita@new.example", "email-confirmation");
    let (status, _) = app.post(&app.client(), "/api/v1/email-confirmations", json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = app.get(&rita, "/api/v1/me").await;
    assert_eq!(me["email"], "rita@new.example");
    let (status, _) = app.post(&app.client(), "/api/v1/email-confirmations", json!({"token": token})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another read-only user holds nothing Rita could not have given: only
    // the matrix (the read-only level edits its own details) refuses.
    let peer = app.member(Some(&p.metro), "ron.reader@metrofiber.example").await;
    level(&app, &peer, "read-only").await;
    let (status, _) =
        app.post(&rita, &format!("/api/v1/users/{peer}/email-change"), json!({"email": "evil@new.example"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

app_test!(appliances_drain_and_keep_every_bgp_version, |app| async move {
    let p = portal_world(&app).await;
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let (status, drained) = app.post(&eli, &format!("/api/v1/appliances/{}/drain", p.appliance), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(drained["status"], "drained");
    assert_eq!(drained["status_changed_by"], p.engineering.as_str());
    let (_, back) = app.delete(&eli, &format!("/api/v1/appliances/{}/drain", p.appliance)).await;
    assert_eq!(back["status"], "serving");
    let bgp = format!("/api/v1/appliances/{}/bgp", p.appliance);
    let (status, problem) = app
        .call(
            &eli,
            "PUT",
            &bgp,
            Some(json!({"peer_asn": 23456, "neighbor_ipv4": "300.1.1.1", "neighbor_ipv6": "ff02::1"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["peer_asn", "neighbor_ipv4", "neighbor_ipv6"], "{problem}");
    app.call(&eli, "PUT", &bgp, Some(json!({"peer_asn": 64512, "neighbor_ipv4": "198.51.100.1"}))).await;
    let (status, versions) = app
        .call(
            &eli,
            "PUT",
            &bgp,
            Some(json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.2", "neighbor_ipv6": "2001:db8::2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[1]["peer_asn"], 64512, "the previous configuration can be seen");
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (status, _) = app.call(&rita, "PUT", &bgp, Some(json!({"peer_asn": 1, "neighbor_ipv4": "198.51.100.3"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let (status, _) = app.post(&oscar, &format!("/api/v1/appliances/{}/drain", p.appliance), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, history) = app
        .get(&app.signed_in("nora.admin@metrofiber.example").await, &format!("/api/v1/users/{}/history", p.engineering))
        .await;
    assert!(history.as_array().unwrap().iter().any(|h| h["action"] == "appliance.bgp-changed"));
});

app_test!(communications_reach_contacts_by_role_and_site, |app| async move {
    let p = portal_world(&app).await;
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    for (email, first, roles) in [
        ("carl.customs@metrofiber.example", "Carl", json!(["customs"])),
        ("sam.ship@metrofiber.example", "Sam", json!(["shipping"])),
    ] {
        let (status, created) = app
            .post(&nora, "/api/v1/users", json!({"email": email, "first_name": first, "last_name": "Contact", "locale": "en-US", "portal_access": false, "contact_roles": roles, "sites": [p.site]}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        starship_store::portal::add_survey_contact(
            &mut app.store.conn().await.unwrap(),
            &p.site,
            created["id"].as_str().unwrap(),
        )
        .await
        .unwrap();
    }
    starship_store::portal::add_survey_contact(&mut app.store.conn().await.unwrap(), &p.site, &p.contact)
        .await
        .unwrap();
    let emails = |v: &Value| {
        let mut e: Vec<String> =
            v.as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap().to_string()).collect();
        e.sort();
        e
    };
    let (_, noc) = app.get(&nora, "/api/v1/communications/maintenance/recipients").await;
    assert_eq!(emails(&noc), ["noah.noc@metrofiber.example"]);
    assert_eq!(noc[0]["portal_access"], false, "contacts without sign-in count");
    let (_, logistics) = app.get(&nora, "/api/v1/communications/logistics/recipients").await;
    assert_eq!(emails(&logistics), ["carl.customs@metrofiber.example", "sam.ship@metrofiber.example"]);
    let (_, deployment) =
        app.get(&nora, &format!("/api/v1/communications/deployment-status/recipients?site={}", p.site)).await;
    assert_eq!(
        emails(&deployment),
        ["noah.noc@metrofiber.example", "sam.ship@metrofiber.example"],
        "every survey contact but Customs"
    );
    let (status, _) = app.get(&nora, "/api/v1/communications/newsletter/recipients").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let (status, _) = app.get(&oscar, &format!("/api/v1/communications/maintenance/recipients?site={}", p.site)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "another partner's site is not theirs to name");
});

app_test!(mfa_enrolment_then_sign_in_needs_a_fresh_code, |app| async move {
    portal_world(&app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (status, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    assert!(enrolment["provisioning_uri"].as_str().unwrap().starts_with("otpauth://totp/Starship:"));
    let now = starship_store::now_millis() / 1000;
    let code =
        |at: i64| starship_server::ops::session::current_code(&secret, "rita.reader@metrofiber.example", at).unwrap();
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": "000000"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, codes) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code(now - 30)})).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let recovery = codes["recovery_codes"][0].as_str().unwrap().to_string();

    let sign_in = |totp: Option<String>| {
        let mut body = json!({"email": "rita.reader@metrofiber.example", "password": PASSWORD});
        if let Some(t) = totp {
            body["totp"] = json!(t);
        }
        body
    };
    let (status, problem) = app.post(&app.client(), "/api/v1/session", sign_in(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["type"], "/problems/mfa-required");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(Some("123456".into()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong code");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(Some(code(now)))).await;
    assert_eq!(status, StatusCode::OK, "the right code");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(Some(code(now)))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a replayed code");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(Some(recovery.clone()))).await;
    assert_eq!(status, StatusCode::OK, "a recovery code");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(Some(recovery))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a recovery code works once");

    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let rita_id = app.signed_in_id("rita.reader@metrofiber.example").await;
    let (status, _) = app.delete(&eli, &format!("/api/v1/users/{rita_id}/mfa")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "engineering administers read-only users");
    let (status, _) = app.post(&app.client(), "/api/v1/session", sign_in(None)).await;
    assert_eq!(status, StatusCode::OK);
});

app_test!(another_partners_portal_people_and_things_answer_404, |app| async move {
    let p = portal_world(&app).await;
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("POST", format!("/api/v1/users/{}/invitation", p.contact), Some(json!({}))),
        ("DELETE", format!("/api/v1/users/{}/portal-access", p.read_only), None),
        ("PUT", format!("/api/v1/users/{}/portal-level", p.read_only), Some(json!({"level": "admin"}))),
        ("PUT", format!("/api/v1/users/{}/contact", p.contact), Some(json!({"contact_roles": ["noc"]}))),
        ("POST", format!("/api/v1/users/{}/email-change", p.read_only), Some(json!({"email": "x@y.example"}))),
        ("DELETE", format!("/api/v1/users/{}/mfa", p.read_only), None),
        ("DELETE", format!("/api/v1/users/{}", p.contact), None),
        ("GET", format!("/api/v1/tickets/{}", p.ticket), None),
        ("POST", format!("/api/v1/tickets/{}/comments", p.ticket), Some(json!({"body": "hi"}))),
        ("GET", format!("/api/v1/appliances/{}/bgp", p.appliance), None),
        (
            "PUT",
            format!("/api/v1/appliances/{}/bgp", p.appliance),
            Some(json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.9"})),
        ),
        ("DELETE", format!("/api/v1/appliances/{}/drain", p.appliance), None),
        ("GET", format!("/api/v1/sites?partner_id={}", p.metro), None),
        ("GET", format!("/api/v1/contacts?partner_id={}", p.metro), None),
        ("GET", format!("/api/v1/tickets?partner_id={}", p.metro), None),
    ];
    let tables = ["users", "grants", "history", "outbox", "ticket_comments", "bgp_configs", "activation_tokens"];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    for (method, path, body) in &attempts {
        let (status, problem) = app.call(&oscar, method, path, body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {status} {problem}");
    }
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(before, after, "nothing changed");
    let (_, tickets) = app.get(&oscar, "/api/v1/tickets").await;
    assert!(tickets.as_array().unwrap().is_empty(), "their own list holds none of Metro's tickets");
});

app_test!(turning_off_ones_own_mfa_takes_a_current_code_not_just_the_session, |app| async move {
    portal_world(&app).await;
    let email = "rita.reader@metrofiber.example";
    let rita = app.signed_in(email).await;
    let rita_id = app.signed_in_id(email).await;
    let (status, problem) = app.post(&rita, "/api/v1/me/mfa/disable", json!({"code": "123456"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing to turn off: {problem}");

    let (_, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let code = |at: i64| starship_server::ops::session::current_code(&secret, email, at).unwrap();
    let now = starship_store::now_millis() / 1000;
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code(now)})).await;
    assert_eq!(status, StatusCode::OK);

    // The admin reset is not for oneself, even for a portal admin, whom the
    // matrix lets administer anyone of the partner, themself included.
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let nora_id = app.signed_in_id("nora.admin@metrofiber.example").await;
    app.with_mfa(&nora_id).await;
    let (status, problem) = app.delete(&nora, &format!("/api/v1/users/{nora_id}/mfa")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the admin reset is not for oneself: {problem}");
    assert!(app.has_mfa(&nora_id).await, "still on");
    let _ = rita_id;
    let wrong = if code(now) == "000000" { "111111" } else { "000000" };
    let (status, problem) = app.post(&rita, "/api/v1/me/mfa/disable", json!({"code": wrong})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/disable", json!({"code": code(now)})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the code used to turn it on does not work twice");
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/disable", json!({"code": code(now + 30)})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, _) = app.post(&app.client(), "/api/v1/session", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "the password alone signs in again");
});

app_test!(guessing_codes_to_turn_off_mfa_is_throttled_like_sign_in, |app| async move {
    portal_world(&app).await;
    let email = "rita.reader@metrofiber.example";
    let rita = app.signed_in(email).await;
    let (_, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let now = starship_store::now_millis() / 1000;
    let code = starship_server::ops::session::current_code(&secret, email, now).unwrap();
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK);
    let mut statuses = Vec::new();
    for guess in 0..6 {
        let (status, _) = app.post(&rita, "/api/v1/me/mfa/disable", json!({"code": format!("99999{guess}")})).await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429], "five wrong codes, then the account is throttled");
});
