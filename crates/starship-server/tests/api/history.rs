//! Every kind of write lands in History with its actor and source. The
//! table is `Kind::ALL`, so a new kind without a write in `perform` fails;
//! and the kinds the code writes (every `Kind::…` passed to
//! `history::append` and `history::append_many`) must be exactly those.

use starship_core::ids::UserId;
use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::isolation::{person, Holds};
use crate::portal::{portal_world, Portal};
use crate::source;
use crate::support::*;
use starship_core::history::Kind;
use starship_store::history::{self, Actor, Source};

const NORA: &str = "nora.admin@metrofiber.example";

/// Whose History an entry goes to, and whom and where it must name.
struct Expected {
    user: String,
    actor_id: Option<String>,
    actor: String,
    source: &'static str,
}

struct Scene<'a> {
    app: &'a TestApp,
    p: Portal,
    nora: Client,
    operator: Client,
    n: usize,
}

impl Scene<'_> {
    /// A Metro person holding `holds`, new for each call.
    async fn someone(&mut self, holds: Holds) -> (String, String) {
        self.n += 1;
        let email = format!("someone.{}@metrofiber.example", self.n);
        let person = person(self.app, &self.p.metro, &email, holds).await;
        (person.id, email)
    }

    async fn ok(&self, client: &Client, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.app.call(client, method, path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    fn by_nora(&self, user: &str) -> Expected {
        Expected { user: user.into(), actor_id: Some(self.p.admin.clone()), actor: NORA.into(), source: "api" }
    }

    fn by_themself(user: &str, email: &str) -> Expected {
        Expected { user: user.into(), actor_id: Some(user.into()), actor: email.into(), source: "api" }
    }

    /// The link of the last email of `kind` to `recipient`.
    async fn link(&self, recipient: &str, kind: &str) -> String {
        let (_, outbox) = self.app.get(&self.operator, &format!("/api/v1/outbox?recipient={recipient}")).await;
        let message = outbox.as_array().unwrap().iter().find(|m| m["kind"] == kind).expect("the email");
        let body = message["body"].as_str().unwrap();
        body[body.find("token=").unwrap() + 6..].split_whitespace().next().unwrap().to_string()
    }

    /// Performs one write of `kind` through the front door.
    async fn perform(&mut self, kind: &str) -> Expected {
        let app = self.app;
        let users = "/api/v1/users";
        match kind {
            "user.created" | "contact.details-set" => {
                self.n += 1;
                let email = format!("created.{}@metrofiber.example", self.n);
                let mut body = json!({"email": email, "first_name": "New", "last_name": "Person", "locale": "en-US", "portal_access": false});
                if kind == "contact.details-set" {
                    body["contact_roles"] = json!(["noc"]);
                }
                let created = self.ok(&self.nora, "POST", users, Some(body)).await;
                self.by_nora(created["id"].as_str().unwrap())
            }
            "operator.created" => {
                let email = starship_core::domain::Email::parse("email", "otto.operator@starship.example").unwrap();
                let password = starship_core::domain::Password::parse("password", PASSWORD).unwrap();
                let operator =
                    starship_server::ops::users::create_operator(&app.store, &email, "Otto", "Operator", &password)
                        .await
                        .unwrap();
                Expected { user: operator.id.into_string(), actor_id: None, actor: "system".into(), source: "cli" }
            }
            "user.updated" => {
                let (id, _) = self.someone(Holds::Nothing).await;
                self.ok(&self.nora, "PATCH", &format!("{users}/{id}"), Some(json!({"last_name": "Renamed"}))).await;
                self.by_nora(&id)
            }
            "role.granted" => {
                let (id, _) = self.someone(Holds::Nothing).await;
                let body = json!({"user_ids": [id], "roles": [{"application": "backlot", "role": "content-partner-operations"}]});
                self.ok(&self.nora, "POST", "/api/v1/grants", Some(body)).await;
                self.by_nora(&id)
            }
            "role.revoked" => {
                let person = person(app, &self.p.metro, "revoked.role@metrofiber.example", Holds::BacklotRole).await;
                self.ok(&self.nora, "DELETE", &format!("/api/v1/grants/{}", person.grant.unwrap()), None).await;
                self.by_nora(&person.id)
            }
            "role.expiry-changed" | "role.expired" => {
                let (id, _) = self.someone(Holds::Nothing).await;
                let role = |until: &str| json!({"user_ids": [id], "roles": [{"application": "backlot", "role": "content-partner-operations", "expires_at": until}]});
                self.ok(&self.nora, "POST", "/api/v1/grants", Some(role("2999-01-01T00:00:00Z"))).await;
                if kind == "role.expiry-changed" {
                    self.ok(&self.nora, "POST", "/api/v1/grants", Some(role("2998-01-01T00:00:00Z"))).await;
                    return self.by_nora(&id);
                }
                expire_grants_of(app, &id).await;
                let swept = starship_server::expiry::sweep_once(
                    &app.store,
                    &app.state.catalogue,
                    &starship_server::expiry::SweepConfig::new(),
                    starship_store::now_millis(),
                )
                .await
                .unwrap();
                assert_eq!(swept.removed, 1);
                Expected { user: id, actor_id: None, actor: "system".into(), source: "system" }
            }
            "admin-privilege.added" => {
                let (id, _) = self.someone(Holds::Nothing).await;
                let path = format!("{users}/{id}/admin-privileges");
                self.ok(&self.nora, "POST", &path, Some(json!({"application": "backlot"}))).await;
                self.by_nora(&id)
            }
            "admin-privilege.removed" => {
                let person = person(app, &self.p.metro, "removed.admin@metrofiber.example", Holds::BacklotAdmin).await;
                let path = format!("{users}/{}/admin-privileges/{}", person.id, person.privilege.unwrap());
                self.ok(&self.nora, "DELETE", &path, None).await;
                self.by_nora(&person.id)
            }
            "notifications.changed" => {
                let (id, _) = self.someone(Holds::BacklotRole).await;
                let choice = json!([{"application": "backlot", "type": "qc-report", "enabled": false}]);
                self.ok(&self.nora, "PUT", &format!("{users}/{id}/notifications"), Some(choice)).await;
                self.by_nora(&id)
            }
            "metadata.saved" => {
                let (id, _) = self.someone(Holds::AcademyLearner).await;
                let values = json!({"crew_department": "sound", "country": "fr", "courses": ["IMF101"]});
                self.ok(&self.nora, "PUT", &format!("{users}/{id}/metadata/production-academy"), Some(values)).await;
                self.by_nora(&id)
            }
            "portal.invited" | "account.activated" => {
                let (id, email) = self.someone(Holds::Contact).await;
                let path = format!("{users}/{id}/invitation");
                self.ok(&self.nora, "POST", &path, Some(json!({"level": "read-only"}))).await;
                if kind == "portal.invited" {
                    return self.by_nora(&id);
                }
                let token = self.link(&email, "invitation").await;
                let accept = json!({"token": token, "password": PASSWORD});
                self.ok(&app.client(), "POST", "/api/v1/invitations/accept", Some(accept)).await;
                Self::by_themself(&id, &email)
            }
            "portal.access-revoked" => {
                let (id, _) = self.someone(Holds::ReadOnlyLevel).await;
                self.ok(&self.nora, "DELETE", &format!("{users}/{id}/portal-access"), None).await;
                self.by_nora(&id)
            }
            "portal.level-changed" => {
                let (id, _) = self.someone(Holds::ReadOnlyLevel).await;
                let path = format!("{users}/{id}/portal-level");
                self.ok(&self.nora, "PUT", &path, Some(json!({"level": "engineering"}))).await;
                self.by_nora(&id)
            }
            "contact.updated" => {
                let (id, _) = self.someone(Holds::Contact).await;
                let path = format!("{users}/{id}/contact");
                self.ok(
                    &self.nora,
                    "PUT",
                    &path,
                    Some(json!({"contact_roles": ["logistics"], "sites": [self.p.site]})),
                )
                .await;
                self.by_nora(&id)
            }
            "contact.deleted" => {
                let (id, _) = self.someone(Holds::Contact).await;
                self.ok(&self.nora, "DELETE", &format!("{users}/{id}"), None).await;
                self.by_nora(&id)
            }
            "email.change-requested" | "email.changed" => {
                let (id, email) = self.someone(Holds::Nothing).await;
                let new = format!("new.{}@metrofiber.example", self.n);
                let path = format!("{users}/{id}/email-change");
                self.ok(&self.nora, "POST", &path, Some(json!({"email": new}))).await;
                if kind == "email.change-requested" {
                    return self.by_nora(&id);
                }
                let token = self.link(&new, "email-confirmation").await;
                self.ok(&app.client(), "POST", "/api/v1/email-confirmations", Some(json!({"token": token}))).await;
                // The person confirming from the new address, named as they were.
                Self::by_themself(&id, &email)
            }
            "appliance.drained" | "appliance.undrained" => {
                let path = format!("/api/v1/appliances/{}/drain", self.p.appliance);
                let method = if kind == "appliance.drained" { "POST" } else { "DELETE" };
                self.ok(&self.nora, method, &path, None).await;
                self.by_nora(&self.p.admin)
            }
            "appliance.bgp-changed" => {
                let path = format!("/api/v1/appliances/{}/bgp", self.p.appliance);
                let body = json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.9"});
                self.ok(&self.nora, "PUT", &path, Some(body)).await;
                self.by_nora(&self.p.admin)
            }
            "ticket.commented" => {
                let path = format!("/api/v1/tickets/{}/comments", self.p.ticket);
                self.ok(&self.nora, "POST", &path, Some(json!({"body": "Seen."}))).await;
                self.by_nora(&self.p.admin)
            }
            "appliance.registered" | "appliance.retired" => {
                self.n += 1;
                let body = json!({"site_id": self.p.site, "serial": format!("OCA-H-{}", self.n), "model": "Flash OCA"});
                let appliance = self.ok(&self.operator, "POST", "/api/v1/appliances", Some(body)).await;
                if kind == "appliance.retired" {
                    let path = format!("/api/v1/appliances/{}/retirement", appliance["id"].as_str().unwrap());
                    self.ok(&self.operator, "POST", &path, None).await;
                }
                let operator = "olivia.operator@starship.example";
                Self::by_themself(&app.signed_in_id(operator).await, operator)
            }
            "ticket.opened" => {
                let body = json!({"subject": "Link down", "body": "Since 09:00."});
                self.ok(&self.nora, "POST", "/api/v1/tickets", Some(body)).await;
                self.by_nora(&self.p.admin)
            }
            "ticket.status-changed" => {
                let body = json!({"subject": "Link flaps", "body": "Twice a day."});
                let ticket = self.ok(&self.nora, "POST", "/api/v1/tickets", Some(body)).await;
                let path = format!("/api/v1/tickets/{}/status", ticket["id"].as_str().unwrap());
                self.ok(&self.nora, "PUT", &path, Some(json!({"status": "resolved"}))).await;
                self.by_nora(&self.p.admin)
            }
            "token.created" | "token.revoked" => {
                let token = self.ok(&self.nora, "POST", "/api/v1/tokens", Some(json!({"name": "History"}))).await;
                if kind == "token.revoked" {
                    let path = format!("/api/v1/tokens/{}", token["id"].as_str().unwrap());
                    self.ok(&self.nora, "DELETE", &path, None).await;
                }
                self.by_nora(&self.p.admin)
            }
            "scim-token.created" | "scim-token.revoked" => {
                let path = format!("/api/v1/partners/{}/scim-tokens", self.p.metro);
                let token = self.ok(&self.operator, "POST", &path, Some(json!({"name": "History"}))).await;
                if kind == "scim-token.revoked" {
                    let path = format!("{path}/{}", token["id"].as_str().unwrap());
                    self.ok(&self.operator, "DELETE", &path, None).await;
                }
                let operator = app.signed_in_id("olivia.operator@starship.example").await;
                Expected {
                    user: operator.clone(),
                    actor_id: Some(operator),
                    actor: "olivia.operator@starship.example".into(),
                    source: "api",
                }
            }
            "scim-group.changed" | "scim-group.joined" | "scim-group.left" => {
                let path = format!("/api/v1/partners/{}/scim-tokens", self.p.metro);
                let token = self.ok(&self.nora, "POST", &path, Some(json!({"name": "Directory"}))).await;
                let token = token["token"].as_str().unwrap().to_string();
                let (member, _) = self.someone(Holds::Nothing).await;
                let members = if kind == "scim-group.changed" { json!([]) } else { json!([{"value": member}]) };
                let body = json!({"displayName": format!("Group {}", self.n), "members": members});
                let created = crate::scim::scim(app, &token, "POST", "/Groups", Some(body)).await;
                assert_eq!(created.status.as_u16(), 201, "{}", created.body);
                if kind == "scim-group.left" {
                    let out = json!({"Operations": [{"op": "remove", "path": "members"}]});
                    let path = format!("/Groups/{}", created.body["id"].as_str().unwrap());
                    assert_eq!(crate::scim::scim(app, &token, "PATCH", &path, Some(out)).await.status.as_u16(), 200);
                }
                let user = if kind == "scim-group.changed" { self.p.admin.clone() } else { member };
                Expected { user, actor_id: Some(self.p.admin.clone()), actor: "Directory".into(), source: "scim" }
            }
            "scim-group.role-mapped" | "scim-group.role-unmapped" => {
                let path = format!("/api/v1/partners/{}/scim-tokens", self.p.metro);
                let token = self.ok(&self.nora, "POST", &path, Some(json!({"name": "Directory"}))).await;
                let token = token["token"].as_str().unwrap().to_string();
                self.n += 1;
                let body = json!({"displayName": format!("Mapped {}", self.n)});
                let created = crate::scim::scim(app, &token, "POST", "/Groups", Some(body)).await;
                let roles = format!(
                    "/api/v1/partners/{}/scim-groups/{}/roles",
                    self.p.metro,
                    created.body["id"].as_str().unwrap()
                );
                let role = json!({"application": "backlot", "role": "content-partner-operations"});
                let mapping = self.ok(&self.nora, "POST", &roles, Some(role)).await;
                if kind == "scim-group.role-unmapped" {
                    let path = format!("{roles}/{}", mapping["id"].as_str().unwrap());
                    self.ok(&self.nora, "DELETE", &path, None).await;
                }
                self.by_nora(&self.p.admin)
            }
            "signed-in" | "signed-out" => {
                let (id, email) = self.someone(Holds::Nothing).await;
                let client = app.signed_in(&email).await;
                if kind == "signed-out" {
                    self.ok(&client, "DELETE", "/api/v1/session", None).await;
                }
                Self::by_themself(&id, &email)
            }
            "sign-in.failed" => {
                let (id, email) = self.someone(Holds::Nothing).await;
                let wrong = json!({"email": email, "password": "not the password at all"});
                let (status, _) = app.post(&app.client(), "/api/v1/session", wrong).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                Expected { user: id, actor_id: None, actor: "system".into(), source: "api" }
            }
            "mfa.enrolled" | "mfa.disabled" => {
                let (id, email) = self.someone(Holds::Nothing).await;
                let client = app.signed_in(&email).await;
                let enrolment = self.ok(&client, "POST", "/api/v1/me/mfa", None).await;
                let secret = enrolment["secret"].as_str().unwrap().to_string();
                let now = starship_store::now_millis() / 1000;
                let code = |at: i64| starship_server::ops::session::current_code(&secret, &email, at).unwrap();
                self.ok(&client, "POST", "/api/v1/me/mfa/confirm", Some(json!({"code": code(now)}))).await;
                if kind == "mfa.disabled" {
                    self.ok(&client, "POST", "/api/v1/me/mfa/disable", Some(json!({"code": code(now + 30)}))).await;
                }
                Self::by_themself(&id, &email)
            }
            "user.deactivated" | "user.reactivated" => {
                let (id, _) = self.someone(Holds::Nothing).await;
                let path = format!("{users}/{id}/deactivation");
                self.ok(&self.nora, "POST", &path, None).await;
                if kind == "user.reactivated" {
                    self.ok(&self.nora, "DELETE", &path, None).await;
                }
                self.by_nora(&id)
            }
            "password.changed" => {
                let (id, email) = self.someone(Holds::Nothing).await;
                let client = app.signed_in(&email).await;
                let body = json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"});
                self.ok(&client, "POST", "/api/v1/me/password", Some(body)).await;
                Self::by_themself(&id, &email)
            }
            "mfa.reset" => {
                let (id, _) = self.someone(Holds::Mfa).await;
                self.ok(&self.nora, "DELETE", &format!("{users}/{id}/mfa"), None).await;
                self.by_nora(&id)
            }
            "role.revoked-by-review" => {
                let (id, _) = self.someone(Holds::AcademyLearner).await;
                let due_at = starship_store::now_millis() + 3_600_000;
                let body = json!({"application": "production-academy", "production": HOME_THEATER,
                    "due_at": starship_core::time_fmt::rfc3339_from_millis(due_at)});
                let review = self.ok(&self.nora, "POST", "/api/v1/access-reviews", Some(body)).await;
                let path = format!("/api/v1/access-reviews/{}/decisions", review["id"].as_str().unwrap());
                // Everyone else's learner grant is kept: one entry to check.
                for item in review["items"].as_array().unwrap().iter().filter(|i| i["user_id"] != id.as_str()) {
                    self.ok(&self.nora, "POST", &path, Some(json!({"grant_id": item["grant_id"], "decision": "keep"})))
                        .await;
                }
                let closed = starship_server::ops::reviews::close_due(&app.store, due_at + 1).await.unwrap();
                assert_eq!(closed, 1);
                Expected { user: id, actor_id: None, actor: "system".into(), source: "system" }
            }
            "oidc.client-issued" | "oidc.client-revoked" | "oidc.client-secret-rotated" => {
                // History is per person: a client's entries go to the acting operator's.
                let client =
                    self.ok(&self.operator, "POST", "/api/v1/clients", Some(crate::clients::backlot_web())).await;
                let path = format!("/api/v1/clients/{}", client["id"].as_str().unwrap());
                match kind {
                    "oidc.client-revoked" => drop(self.ok(&self.operator, "DELETE", &path, None).await),
                    "oidc.client-secret-rotated" => {
                        drop(self.ok(&self.operator, "POST", &format!("{path}/secret"), Some(json!({}))).await)
                    }
                    _ => {}
                }
                let operator = self.app.signed_in_id("olivia.operator@starship.example").await;
                Expected {
                    user: operator.clone(),
                    actor_id: Some(operator),
                    actor: "olivia.operator@starship.example".into(),
                    source: "oidc",
                }
            }
            "oidc.token-reuse-refused" => {
                // The application's refresh token used twice: in the person's History.
                let rp = crate::oidc_flow::register(app, "backlot", &["authorization_code", "refresh_token"]).await;
                let tokens = crate::oidc_flow::tokens_of(app, &rp, NORA).await;
                let refresh_token = tokens["refresh_token"].as_str().unwrap();
                assert!(crate::oidc_flow::refresh(app, &rp, refresh_token).await.0.is_success());
                assert!(crate::oidc_flow::refresh(app, &rp, refresh_token).await.0.is_client_error());
                Expected { user: self.p.admin.clone(), actor_id: None, actor: "backlot app".into(), source: "oidc" }
            }
            "outbox.resent" => {
                // History is per person: a resend goes to the acting operator's.
                let failed = crate::outbox::message(app, "bounced@metrofiber.example", "failed").await;
                self.ok(&self.operator, "POST", &format!("/api/v1/outbox/{failed}/resend"), None).await;
                let operator = self.app.signed_in_id("olivia.operator@starship.example").await;
                Expected {
                    user: operator.clone(),
                    actor_id: Some(operator),
                    actor: "olivia.operator@starship.example".into(),
                    source: "api",
                }
            }
            "oidc.signing-key-rotated" => {
                // `starshipd keys rotate` acts for no one: the first operator's History.
                starship_server::ops::keys::rotate(&app.store, &Actor::system(Source::Oidc)).await.unwrap();
                let operator = self.app.signed_in_id("olivia.operator@starship.example").await;
                Expected { user: operator, actor_id: None, actor: "system".into(), source: "oidc" }
            }
            other => panic!("no write of kind {other} in this table"),
        }
    }
}

/// Every History entry: (id, user, actor id, actor, source, action).
type Row = (String, String, Option<String>, String, String, String);

async fn all_entries(app: &TestApp) -> Vec<Row> {
    starship_store::sqlx::query_as("SELECT id, user_id, actor_id, actor, source, action FROM history")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

app_test!(every_kind_of_write_lands_in_history_with_its_actor_and_source, |app| async move {
    let written = source::history_kinds(&["starship-server/src", "starshipd/src"]);
    let tabled: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let untested: Vec<_> = written.iter().filter(|(kind, _)| !tabled.contains(kind.as_str())).collect();
    let unwritten: Vec<_> = tabled.iter().filter(|kind| !written.contains_key(**kind)).collect();
    assert!(
        untested.is_empty() && unwritten.is_empty(),
        "History kinds written without a row here (kind, where): {untested:?}\nrows for kinds nothing writes: {unwritten:?}"
    );

    let p = portal_world(&app).await;
    app.production(HOME_THEATER, "Home Theater Demo - MID").await;
    // Nora holds every privilege the writes need.
    app.grant(&p.admin, "backlot", "master-content-partner-operations", None).await;
    app.admin(&p.admin, "backlot", None).await;
    app.admin(&p.admin, "production-academy", Some(HOME_THEATER)).await;
    let nora = app.signed_in(NORA).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let mut scene = Scene { app: &app, p, nora, operator, n: 0 };
    let mut failures = Vec::new();
    for kind in Kind::ALL.map(Kind::as_str) {
        let before: BTreeSet<String> = all_entries(&app).await.into_iter().map(|e| e.0).collect();
        let expected = scene.perform(kind).await;
        let new: Vec<Row> =
            all_entries(&app).await.into_iter().filter(|e| !before.contains(&e.0) && e.5 == kind).collect();
        let wanted = (expected.user, expected.actor_id, expected.actor, expected.source.to_string());
        match new.as_slice() {
            [(_, user, actor_id, actor, source, _)] => {
                let seen = (user.clone(), actor_id.clone(), actor.clone(), source.clone());
                if seen != wanted {
                    failures.push(format!("{kind}: (person, actor id, actor, source) {seen:?}, expected {wanted:?}"));
                }
            }
            other => failures.push(format!("{kind}: {} new entries, expected one: {other:?}", other.len())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
});

app_test!(history_is_read_by_kind_and_an_unknown_kind_is_refused, |app| async move {
    let w = world(&app).await;
    {
        use starship_store::history::{self, Actor, Source};
        let mut conn = app.store.conn().await.unwrap();
        let system = Actor::system(Source::System);
        for kind in [Kind::RoleGranted, Kind::SignedIn, Kind::RoleRevoked, Kind::MfaReset] {
            history::append(&mut conn, &UserId::from(w.plain.as_str()), &system, kind, json!({})).await.unwrap();
        }
    }
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let path = format!("/api/v1/users/{}/history", w.plain);
    let (status, entries) = app.get(&mara, &format!("{path}?kind=role.granted,role.revoked")).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: BTreeSet<&str> = entries.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["role.granted", "role.revoked"]));
    let (_, everything) = app.get(&mara, &path).await;
    assert_eq!(everything.as_array().unwrap().len(), 4, "without a filter the API answers every kind");

    let (status, problem) = app.get(&mara, &format!("{path}?kind=role.granted,role.stolen")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem.to_string().contains("'role.stolen' is not a kind of History entry"), "{problem}");
});

/// The raw export: status, content type and lines.
async fn export(app: &TestApp, client: &Client, query: &str) -> (StatusCode, String, Vec<Value>) {
    let response = client.get(app.url(&format!("/api/v1/history/export{query}"))).send().await.unwrap();
    let status = response.status();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = response.text().await.unwrap();
    let lines = if status.is_success() {
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    } else {
        vec![serde_json::from_str(&text).unwrap()]
    };
    (status, kind, lines)
}

/// Each line links to the one before: seq one more, prev_hash its hash.
fn assert_one_chain(lines: &[Value], first_seq: i64) {
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], json!(first_seq + i as i64), "{line}");
        assert_eq!(line["hash"].as_str().map(str::len), Some(64), "{line}");
        if i > 0 {
            assert_eq!(line["prev_hash"], lines[i - 1]["hash"], "line {i} links to the one before");
        }
    }
}

app_test!(a_partners_history_exports_as_one_chain_of_json_lines, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    // More entries than one page of the export holds.
    let mut conn = app.store.conn().await.unwrap();
    let entries = (0..1_200).map(|i| (UserId::from(w.plain.as_str()), Kind::UserUpdated, json!({"i": i}))).collect();
    history::append_many(&mut conn, &Actor::system(Source::System), entries).await.unwrap();
    drop(conn);
    let sunrise_people = [&w.backlot_admin, &w.academy_admin, &w.master_only, &w.plain];

    let (status, kind, lines) = export(&app, &mara, "").await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/x-ndjson"));
    assert!(lines.len() > 1_200, "{} lines", lines.len());
    assert_one_chain(&lines, 1);
    assert_eq!(lines[0]["prev_hash"], json!("0".repeat(64)));
    assert!(lines.iter().all(|l| l["partner_id"] == json!(w.sunrise)));
    assert!(lines.iter().all(|l| sunrise_people.iter().any(|p| l["user_id"] == json!(p))), "only Sunrise's people");
    assert!(lines.iter().any(|l| l["action"] == "signed-in" && l["user_id"] == json!(w.backlot_admin)));
    let (_, _, as_operator) = export(&app, &operator, &format!("?partner_id={}", w.sunrise)).await;
    assert_eq!(as_operator, lines, "an operator exports the same chain");

    // Carry on after the last line held; or from a time.
    let (_, _, after) = export(&app, &mara, "?since=1100").await;
    assert_eq!(after, lines[1100..]);
    let last_at = lines.last().unwrap()["at"].as_str().unwrap().to_string();
    let (_, _, from_time) = export(&app, &mara, &format!("?since={}", last_at.replace('+', "%2B"))).await;
    assert!(!from_time.is_empty() && from_time.len() < lines.len(), "{} lines", from_time.len());
    assert!(from_time.iter().all(|l| l["at"].as_str().unwrap() >= last_at.as_str()));
    let (status, _, _) = export(&app, &mara, "?since=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // An operator naming no partner: the chain of accounts of no partner.
    let (status, _, theirs) = export(&app, &operator, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_one_chain(&theirs, 1);
    assert!(theirs.iter().all(|l| l.get("partner_id").is_none() && l["user_id"] == json!(w.operator)), "{theirs:?}");
    assert!(!theirs.is_empty());
});

app_test!(history_export_is_refused_to_those_not_shown_all_of_a_partners_history, |app| async move {
    let w = world(&app).await;
    let production_admin = app.member(Some(&w.sunrise), "paula.production@sunrise.example").await;
    app.admin(&production_admin, "production-academy", Some(HOME_THEATER)).await;
    for (email, partner, expected) in [
        ("pat.plain@sunrise.example", "", StatusCode::FORBIDDEN),
        ("paula.production@sunrise.example", "", StatusCode::FORBIDDEN),
        ("nina.north@northwind.example", w.sunrise.as_str(), StatusCode::NOT_FOUND),
        ("alex.academy@sunrise.example", "", StatusCode::OK),
        ("olivia.operator@starship.example", "not-a-partner", StatusCode::NOT_FOUND),
    ] {
        let client = app.signed_in(email).await;
        let query = if partner.is_empty() { String::new() } else { format!("?partner_id={partner}") };
        let (status, _, answer) = export(&app, &client, &query).await;
        assert_eq!(status, expected, "{email}: {answer:?}");
    }
    let (status, _, _) = export(&app, &app.client(), "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});
