//! The Partner Portal through the API: the matrix on both stores, access,
//! invitations, appliances, tickets, communications and MFA.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::domain::PartnerKind;
use starship_core::ids::{PartnerId, SiteId, UserId};

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
        [starship_server::ops::users::Identity::parse("", "noah.noc@metrofiber.example", "Noah", "Noc", "en-US")
            .unwrap()];
    let actor = starship_store::history::Actor::system(starship_store::history::Source::System);
    let contact = starship_server::ops::users::create_users(
        &mut conn,
        &app.state.config,
        &actor,
        &PartnerId::from(metro.as_str()),
        &people,
        starship_server::ops::users::Access::ContactOnly,
    )
    .await
    .unwrap()
    .remove(0)
    .id
    .into_string();
    starship_store::contacts::set_contact_roles(&mut conn, &UserId::from(contact.as_str()), &["noc".into()])
        .await
        .unwrap();
    let site =
        starship_store::sites::insert_site(&mut conn, &PartnerId::from(metro.as_str()), "Denver DC1", "Denver, US")
            .await
            .unwrap()
            .id;
    starship_store::sites::link_site(&mut conn, &UserId::from(contact.as_str()), &site).await.unwrap();
    let appliance = starship_store::appliances::insert_appliance(
        &mut conn,
        &PartnerId::from(metro.as_str()),
        &site,
        "OCA-1",
        "Flash OCA",
    )
    .await
    .unwrap();
    let ticket = starship_store::tickets::insert_ticket(
        &mut conn,
        &PartnerId::from(metro.as_str()),
        "Packet loss",
        "3% loss",
        None,
    )
    .await
    .unwrap();
    let (site, appliance, ticket) = (site.into_string(), appliance.into_string(), ticket.into_string());
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
    // Everyone signs in first: the targets' two-step sign-in, turned on
    // below, would otherwise ask them for a code.
    let mut clients = Vec::new();
    for (_, email) in actors {
        clients.push(app.signed_in(email).await);
    }
    for (a, (actor, email)) in actors.iter().enumerate() {
        let client = &clients[a];
        for (t, (target, id)) in targets.iter().enumerate() {
            let (edit, administer) = expected[a][t];
            let (status, body) = app
                .call(client, "PATCH", &format!("/api/v1/users/{id}"), Some(json!({"phone": "+1 303 555 0100"})))
                .await;
            if (status == StatusCode::OK) != edit {
                wrong.push(format!("{actor} edits {target}: {status} {body}"));
            }
            // Resetting MFA is user administration: the target has it on,
            // and an allowed reset removes it.
            if app.signed_in_id(email).await == **id {
                continue;
            }
            app.with_mfa(id).await;
            let (status, body) = app.delete(client, &format!("/api/v1/users/{id}/mfa")).await;
            let expected_status = if administer { StatusCode::NO_CONTENT } else { StatusCode::FORBIDDEN };
            if status != expected_status || app.has_mfa(id).await == administer {
                wrong.push(format!("{actor} administers {target}: {status} {body}"));
            }
        }
        let (status, _) = app.post(client, &format!("/api/v1/appliances/{}/drain", p.appliance), json!({})).await;
        if (status == StatusCode::OK) != (*actor != "read-only") {
            wrong.push(format!("{actor} drains: {status}"));
        }
        let (status, _) = app
            .post(
                client,
                &format!("/api/v1/tickets/{}/comments", p.ticket),
                json!({"body": format!("seen by {actor}")}),
            )
            .await;
        if status != StatusCode::CREATED {
            wrong.push(format!("{actor} comments: {status}"));
        }
        let outsider_target = format!("/api/v1/users/{}", p.outsider);
        let (status, _) = app.call(client, "PATCH", &outsider_target, Some(json!({"phone": "+1 303 555 0100"}))).await;
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
    let revoked_entry =
        history.as_array().unwrap().iter().find(|h| h["action"] == "portal.access-revoked").expect("the entry");
    assert_eq!(
        revoked_entry["details"]["level"], "read-only",
        "it names the level taken away (the second invitation's)"
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
        starship_store::sites::add_survey_contact(
            &mut app.store.conn().await.unwrap(),
            &SiteId::from(p.site.as_str()),
            &UserId::from(created["id"].as_str().unwrap()),
        )
        .await
        .unwrap();
    }
    starship_store::sites::add_survey_contact(
        &mut app.store.conn().await.unwrap(),
        &SiteId::from(p.site.as_str()),
        &UserId::from(p.contact.as_str()),
    )
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
    let (status, problem) = app.post(&app.client(), "/api/v1/session", sign_in(Some(code(now)))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a replayed code");
    assert_eq!(problem["type"], "/problems/mfa-code-used", "after the right password it says why: {problem}");
    let mut wrong_password = sign_in(Some(code(now)));
    wrong_password["password"] = json!("not the password at all");
    let (status, problem) = app.post(&app.client(), "/api/v1/session", wrong_password).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        problem["type"], "/problems/bad-credentials",
        "with a wrong password, the one answer for all: {problem}"
    );
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
        ("PUT", format!("/api/v1/tickets/{}/status", p.ticket), Some(json!({"status": "resolved"}))),
        ("POST", "/api/v1/tickets".into(), Some(json!({"subject": "x", "body": "y", "partner_id": p.metro}))),
        ("POST", "/api/v1/tickets".into(), Some(json!({"subject": "x", "body": "y", "site_id": p.site}))),
        ("POST", "/api/v1/tickets".into(), Some(json!({"subject": "x", "body": "y", "appliance_id": p.appliance}))),
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
    let tables =
        ["users", "grants", "history", "outbox", "tickets", "ticket_comments", "bgp_configs", "activation_tokens"];
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

/// The History entries of one kind on one person, read from the store.
async fn entries(app: &TestApp, user: &str, action: &str) -> Vec<starship_store::history::Entry> {
    let mut conn = app.store.conn().await.unwrap();
    let all = starship_store::history::list(&mut conn, &UserId::from(user), None, &[], 500).await.unwrap();
    all.into_iter().filter(|e| e.action == action).collect()
}

/// One's row of the contact list.
fn row<'a>(list: &'a Value, email: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|c| c["email"] == email).unwrap_or_else(|| panic!("{email} in {list}"))
}

app_test!(a_portal_admin_changes_a_permission_level_and_it_holds, |app| async move {
    let p = portal_world(&app).await;
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let drain = format!("/api/v1/appliances/{}/drain", p.appliance);
    assert_eq!(app.post(&rita, &drain, json!({})).await.0, StatusCode::FORBIDDEN, "read-only: no self-service");
    let (status, body) = app
        .call(
            &nora,
            "PUT",
            &format!("/api/v1/users/{}/portal-level", p.read_only),
            Some(json!({"level": "engineering"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let (_, contacts) = app.get(&nora, "/api/v1/contacts").await;
    assert_eq!(row(&contacts, "rita.reader@metrofiber.example")["level"], "engineering");
    let mut conn = app.store.conn().await.unwrap();
    let roles = starship_store::users::roles_of(&mut conn, &UserId::from(p.read_only.as_str())).await.unwrap();
    let levels: Vec<&str> =
        roles.iter().filter(|r| r.application == "partner-portal").map(|r| r.role.as_str()).collect();
    assert_eq!(levels, ["engineering"], "one level, the new one");
    drop(conn);
    let changed = entries(&app, &p.read_only, "portal.level-changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].details, json!({"from": "read-only", "to": "engineering"}));
    assert_eq!(changed[0].actor_id.as_deref(), Some(p.admin.as_str()));
    // The new level is what the rules now read, in her running session.
    assert_eq!(app.post(&rita, &drain, json!({})).await.0, StatusCode::OK, "engineering drains");
});

app_test!(a_contacts_roles_and_sites_are_edited_and_read_back, |app| async move {
    let p = portal_world(&app).await;
    let second = {
        let mut conn = app.store.conn().await.unwrap();
        starship_store::sites::insert_site(&mut conn, &PartnerId::from(p.metro.as_str()), "Austin DC2", "Austin, US")
            .await
            .unwrap()
            .id
    };
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let (status, view) = app
        .call(
            &eli,
            "PUT",
            &format!("/api/v1/users/{}/contact", p.contact),
            Some(json!({"contact_roles": ["shipping", "logistics"], "sites": [second]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["contact_roles"], json!(["logistics", "shipping"]));
    assert_eq!(view["sites"], json!([second]));

    let (_, contacts) = app.get(&eli, "/api/v1/contacts").await;
    let noah = row(&contacts, "noah.noc@metrofiber.example");
    assert_eq!((&noah["contact_roles"], &noah["sites"]), (&json!(["logistics", "shipping"]), &json!([second])));
    let mut conn = app.store.conn().await.unwrap();
    assert_eq!(
        starship_store::contacts::contact_roles_of(&mut conn, &UserId::from(p.contact.as_str())).await.unwrap(),
        ["logistics", "shipping"]
    );
    assert_eq!(
        starship_store::sites::sites_of_user(&mut conn, &UserId::from(p.contact.as_str())).await.unwrap(),
        [second.as_str()]
    );
    drop(conn);
    // The communications follow: logistics now, no longer NOC maintenance.
    let (_, logistics) = app.get(&eli, "/api/v1/communications/logistics/recipients").await;
    assert_eq!(logistics.as_array().unwrap().len(), 1);
    assert_eq!(logistics[0]["email"], "noah.noc@metrofiber.example");
    let (_, maintenance) = app.get(&eli, "/api/v1/communications/maintenance/recipients").await;
    assert_eq!(maintenance, json!([]));
    let updated = entries(&app, &p.contact, "contact.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].details["contact_roles"], json!({"from": ["noc"], "to": ["shipping", "logistics"]}));
    assert_eq!(updated[0].details["sites"], json!({"from": [p.site], "to": [second]}));
});

app_test!(a_portal_admin_creates_a_site_that_people_can_then_be_linked_to, |app| async move {
    let p = portal_world(&app).await;
    // Eli differs from Nora only in the portal level: engineering, which
    // administers people and appliances but adds no site.
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let before = app.snapshot().await;
    let (status, problem) =
        app.post(&eli, "/api/v1/sites", json!({"name": "Austin DC2", "location": "Austin, US"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "sites are added by portal admins: {problem}");
    assert!(snapshot_difference(&before, &app.snapshot().await).is_empty(), "nothing changed");
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, site) =
        app.post(&nora, "/api/v1/sites", json!({"name": "Austin DC2", "location": "Austin, US"})).await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    let id = site["id"].as_str().unwrap().to_string();
    assert_eq!(
        (&site["partner_id"], &site["name"], &site["location"]),
        (&json!(p.metro), &json!("Austin DC2"), &json!("Austin, US"))
    );

    let (_, sites) = app.get(&nora, "/api/v1/sites").await;
    let names: Vec<&str> = sites.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Austin DC2", "Denver DC1"]);
    let mut conn = app.store.conn().await.unwrap();
    let stored = starship_store::sites::get_site(&mut conn, &SiteId::from(id.as_str())).await.unwrap().expect("stored");
    assert_eq!(
        (stored.partner_id.as_str(), stored.name.as_str(), stored.location.as_str()),
        (p.metro.as_str(), "Austin DC2", "Austin, US")
    );
    drop(conn);
    let (status, _) = app
        .call(&nora, "PUT", &format!("/api/v1/users/{}/contact", p.contact), Some(json!({"sites": [p.site, id]})))
        .await;
    assert_eq!(status, StatusCode::OK, "the new site is the partner's to link");
    let (status, _) = app.post(&nora, "/api/v1/sites", json!({"name": "AUSTIN dc2", "location": "Elsewhere"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "one site of a name per partner");
});

app_test!(contacts_appliances_and_tickets_are_listed_as_stored, |app| async move {
    let p = portal_world(&app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (status, contacts) = app.get(&rita, "/api/v1/contacts").await;
    assert_eq!(status, StatusCode::OK, "every level sees the list");
    let mut listed: Vec<(String, Value)> = contacts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["email"].as_str().unwrap().to_string(), c["level"].clone()))
        .collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        listed,
        [
            ("eli.engineer@metrofiber.example".to_string(), json!("engineering")),
            ("noah.noc@metrofiber.example".to_string(), Value::Null),
            ("nora.admin@metrofiber.example".to_string(), json!("admin")),
            ("rita.reader@metrofiber.example".to_string(), json!("read-only")),
        ]
    );
    let noah = row(&contacts, "noah.noc@metrofiber.example");
    assert_eq!(
        (&noah["status"], &noah["contact_roles"], &noah["sites"]),
        (&json!("contact"), &json!(["noc"]), &json!([p.site]))
    );

    let (status, appliances) = app.get(&rita, "/api/v1/appliances").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(appliances.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            &appliances[0]["id"],
            &appliances[0]["serial"],
            &appliances[0]["model"],
            &appliances[0]["site_id"],
            &appliances[0]["status"]
        ),
        (&json!(p.appliance), &json!("OCA-1"), &json!("Flash OCA"), &json!(p.site), &json!("serving"))
    );

    let (status, _) =
        app.post(&rita, &format!("/api/v1/tickets/{}/comments", p.ticket), json!({"body": "Seen at 10:00."})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, tickets) = app.get(&rita, "/api/v1/tickets").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tickets.as_array().unwrap().len(), 1);
    let ticket = &tickets[0];
    assert_eq!(
        (&ticket["id"], &ticket["subject"], &ticket["body"]),
        (&json!(p.ticket), &json!("Packet loss"), &json!("3% loss"))
    );
    let comments = ticket["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (&comments[0]["author"], &comments[0]["author_id"], &comments[0]["body"]),
        (&json!("rita.reader@metrofiber.example"), &json!(p.read_only), &json!("Seen at 10:00."))
    );

    // Another partner's lists hold none of it.
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    for list in ["/api/v1/appliances", "/api/v1/tickets"] {
        let (status, theirs) = app.get(&oscar, list).await;
        assert_eq!((status, theirs), (StatusCode::OK, json!([])), "{list}");
    }
    let (_, theirs) = app.get(&oscar, "/api/v1/contacts").await;
    assert!(!theirs.to_string().contains("metrofiber"), "{theirs}");
});

app_test!(a_two_step_reset_removes_the_persons_mfa_from_the_store, |app| async move {
    let p = portal_world(&app).await;
    let email = "rita.reader@metrofiber.example";
    let rita = app.signed_in(email).await;
    let (_, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let code =
        starship_server::ops::session::current_code(&secret, email, starship_store::now_millis() / 1000).unwrap();
    let (status, codes) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    assert!(app.has_mfa(&p.read_only).await, "enrolled");
    let recovery_codes = || async {
        starship_store::sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1")
            .bind(&p.read_only)
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    assert_eq!(recovery_codes().await, 10);

    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, body) = app.delete(&nora, &format!("/api/v1/users/{}/mfa", p.read_only)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mut conn = app.store.conn().await.unwrap();
    assert!(
        starship_store::mfa::totp_of(&mut conn, &UserId::from(p.read_only.as_str())).await.unwrap().is_none(),
        "no secret left"
    );
    drop(conn);
    assert_eq!(recovery_codes().await, 0, "no recovery code left");
    let reset = entries(&app, &p.read_only, "mfa.reset").await;
    assert_eq!(reset.len(), 1);
    assert_eq!((reset[0].actor_id.as_deref(), reset[0].source.as_str()), (Some(p.admin.as_str()), "api"));
    let (status, _) = app.post(&app.client(), "/api/v1/session", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "the password alone signs in again");
    let (status, _) = app.delete(&nora, &format!("/api/v1/users/{}/mfa", p.read_only)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing left to reset");
});
