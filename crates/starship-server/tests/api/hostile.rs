//! Hostile and concurrent use: ids of another partner on every endpoint
//! of the OpenAPI document, escalation attempts, races, fixation.

use starship_core::ids::{PartnerId, UserId};
use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::isolation::{crossing, person, Holds, OLGA, OSCAR, UNKNOWN};
use crate::portal::portal_world;
use crate::source;
use crate::support::*;

/// An operation taking a record's id in its path, and for whom the request
/// is valid: the kind of record, what a person named must hold, the body.
struct Operation {
    method: &'static str,
    path: &'static str,
    holds: Holds,
    body: fn(&Ids) -> Option<Value>,
    /// What the same request on one's own record answers.
    success: StatusCode,
}

/// The records one request names, on one side.
struct Ids {
    user: String,
    grant: Option<String>,
    privilege: Option<String>,
    token: String,
    appliance: String,
    ticket: String,
    site: String,
    /// An access review, and a grant in it.
    review: (String, String),
    /// A partner, and a SCIM token of it.
    partner: String,
    scim_token: String,
    /// A directory group of the partner, and a role mapping of it.
    scim_group: String,
    scim_mapping: String,
    n: usize,
}

impl Ids {
    fn path(&self, template: &str) -> String {
        let mut out = String::new();
        let mut previous = "";
        for segment in template.trim_start_matches('/').split('/') {
            let value = match (segment, previous) {
                ("{id}", "users") => self.user.clone(),
                ("{id}", "tokens") => self.token.clone(),
                ("{id}", "grants") => self.grant.clone().expect("a grant"),
                ("{id}", "appliances") => self.appliance.clone(),
                ("{id}", "tickets") => self.ticket.clone(),
                ("{id}", "sites") => self.site.clone(),
                ("{id}", "access-reviews") => self.review.0.clone(),
                ("{id}", "partners") => self.partner.clone(),
                ("{token_id}", _) => self.scim_token.clone(),
                ("{group_id}", _) => self.scim_group.clone(),
                ("{mapping_id}", _) => self.scim_mapping.clone(),
                ("{pid}", _) => self.privilege.clone().expect("an admin privilege"),
                ("{application}", _) => "production-academy".to_string(),
                (other, _) if other.starts_with('{') => panic!("no value for {other} in {template}"),
                (other, _) => other.to_string(),
            };
            out.push('/');
            out.push_str(&value);
            previous = segment;
        }
        out
    }
}

const fn op(
    method: &'static str,
    path: &'static str,
    holds: Holds,
    body: fn(&Ids) -> Option<Value>,
    success: StatusCode,
) -> Operation {
    Operation { method, path, holds, body, success }
}

fn none(_: &Ids) -> Option<Value> {
    None
}

const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;
const ACCEPTED: StatusCode = StatusCode::ACCEPTED;
const NO_CONTENT: StatusCode = StatusCode::NO_CONTENT;

/// Every operation of the API that takes a record's id in its path.
const OPERATIONS: [Operation; 37] = [
    op("DELETE", "/api/v1/tokens/{id}", Holds::Nothing, none, NO_CONTENT),
    op("GET", "/api/v1/users/{id}", Holds::Nothing, none, OK),
    op("PATCH", "/api/v1/users/{id}", Holds::Nothing, |_| Some(json!({"last_name": "Renamed"})), OK),
    op("DELETE", "/api/v1/users/{id}", Holds::Contact, none, NO_CONTENT),
    op("POST", "/api/v1/users/{id}/invitation", Holds::Contact, |_| Some(json!({"level": "read-only"})), OK),
    op("DELETE", "/api/v1/users/{id}/portal-access", Holds::ReadOnlyLevel, none, OK),
    op(
        "PUT",
        "/api/v1/users/{id}/portal-level",
        Holds::ReadOnlyLevel,
        |_| Some(json!({"level": "engineering"})),
        NO_CONTENT,
    ),
    op(
        "PUT",
        "/api/v1/users/{id}/contact",
        Holds::Contact,
        |ids| Some(json!({"contact_roles": ["noc"], "sites": [ids.site]})),
        OK,
    ),
    op(
        "POST",
        "/api/v1/users/{id}/email-change",
        Holds::Nothing,
        |ids| Some(json!({"email": format!("moved.{}@elsewhere.example", ids.n)})),
        ACCEPTED,
    ),
    op("DELETE", "/api/v1/users/{id}/mfa", Holds::Mfa, none, NO_CONTENT),
    op("POST", "/api/v1/users/{id}/deactivation", Holds::Nothing, none, NO_CONTENT),
    op("DELETE", "/api/v1/users/{id}/deactivation", Holds::Deactivated, none, NO_CONTENT),
    op("GET", "/api/v1/users/{id}/history", Holds::Nothing, none, OK),
    op(
        "POST",
        "/api/v1/users/{id}/admin-privileges",
        Holds::Nothing,
        |_| Some(json!({"application": "backlot"})),
        CREATED,
    ),
    op("DELETE", "/api/v1/users/{id}/admin-privileges/{pid}", Holds::BacklotAdmin, none, NO_CONTENT),
    op("DELETE", "/api/v1/grants/{id}", Holds::BacklotRole, none, NO_CONTENT),
    op("GET", "/api/v1/users/{id}/notifications", Holds::BacklotRole, none, OK),
    op(
        "PUT",
        "/api/v1/users/{id}/notifications",
        Holds::BacklotRole,
        |_| Some(json!([{"application": "backlot", "type": "source-request", "enabled": false}])),
        OK,
    ),
    op("GET", "/api/v1/users/{id}/metadata/{application}", Holds::AcademyLearner, none, OK),
    op(
        "PUT",
        "/api/v1/users/{id}/metadata/{application}",
        Holds::AcademyLearner,
        |_| Some(json!({"crew_department": "sound", "country": "fr", "courses": ["IMF101"]})),
        OK,
    ),
    op("POST", "/api/v1/appliances/{id}/drain", Holds::Nothing, none, OK),
    // Partners are refused on their own: operators retire appliances.
    op("POST", "/api/v1/appliances/{id}/retirement", Holds::Nothing, none, StatusCode::FORBIDDEN),
    op("DELETE", "/api/v1/appliances/{id}/drain", Holds::Nothing, none, OK),
    op("GET", "/api/v1/appliances/{id}/bgp", Holds::Nothing, none, OK),
    op(
        "PUT",
        "/api/v1/appliances/{id}/bgp",
        Holds::Nothing,
        |_| Some(json!({"peer_asn": 2906, "neighbor_ipv4": "198.51.100.9"})),
        OK,
    ),
    op("GET", "/api/v1/tickets/{id}", Holds::Nothing, none, OK),
    op("POST", "/api/v1/tickets/{id}/comments", Holds::Nothing, |_| Some(json!({"body": "Seen."})), CREATED),
    op("PUT", "/api/v1/tickets/{id}/status", Holds::Nothing, |_| Some(json!({"status": "resolved"})), OK),
    op(
        "PUT",
        "/api/v1/sites/{id}",
        Holds::Nothing,
        |ids| Some(json!({"name": format!("Renamed {}", ids.n), "location": "Denver, US"})),
        OK,
    ),
    op("GET", "/api/v1/access-reviews/{id}", Holds::Nothing, none, OK),
    op("GET", "/api/v1/partners/{id}/scim-tokens", Holds::Nothing, none, OK),
    op("POST", "/api/v1/partners/{id}/scim-tokens", Holds::Nothing, |_| Some(json!({"name": "IdP"})), CREATED),
    op("DELETE", "/api/v1/partners/{id}/scim-tokens/{token_id}", Holds::Nothing, none, NO_CONTENT),
    op("GET", "/api/v1/partners/{id}/scim-groups", Holds::Nothing, none, OK),
    op(
        "POST",
        "/api/v1/partners/{id}/scim-groups/{group_id}/roles",
        Holds::Nothing,
        |_| Some(json!({"application": "backlot", "role": "content-partner-operations"})),
        CREATED,
    ),
    op("DELETE", "/api/v1/partners/{id}/scim-groups/{group_id}/roles/{mapping_id}", Holds::Nothing, none, NO_CONTENT),
    op(
        "POST",
        "/api/v1/access-reviews/{id}/decisions",
        Holds::Nothing,
        |ids| Some(json!({"grant_id": ids.review.1, "decision": "keep"})),
        OK,
    ),
];

// Every operation taking a record's id, read from the router and from the
// OpenAPI document (which must agree), called with another partner's ids
// and a valid body by a partner admin who could do it in their own partner
// and by a plain user: 404, the same answer as for an id nobody has, and
// nothing in the store changes. Then the same call on the admin's own
// records succeeds, so no 404 comes from a route that is not there.
app_test!(every_operation_taking_an_id_hides_another_partners_records, |app| async move {
    let c = crossing(&app).await;
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let documented: BTreeSet<(String, String)> =
        crate::openapi::documented(&doc).into_iter().filter(|(_, p)| source::takes_id(p)).collect();
    let routed: BTreeSet<(String, String)> =
        source::routes("api/mod.rs").into_iter().filter(|(_, p)| source::takes_id(p)).collect();
    assert_eq!(routed, documented, "the router and the OpenAPI document disagree on the operations taking an id");
    // Records of no partner, for operators only: partner people are refused
    // them whole (clients::only_operators_manage_application_clients).
    let tabled: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|o| (o.method, o.path))
        .chain(crate::clients::OPERATOR_ONLY_OPERATIONS)
        .chain(crate::outbox::OPERATOR_ONLY_OPERATIONS)
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let untested: Vec<_> = routed.difference(&tabled).collect();
    let gone: Vec<_> = tabled.difference(&routed).collect();
    assert!(
        untested.is_empty() && gone.is_empty(),
        "operations without a case: {untested:?}; cases without a route: {gone:?}"
    );

    let scim_token_of = |partner: String, creator: String, n: usize| {
        let store = app.store.clone();
        async move {
            let mut conn = store.conn().await.unwrap();
            starship_store::scim::insert_token(
                &mut conn,
                &PartnerId::from(partner.as_str()),
                &UserId::from(creator.as_str()),
                "IdP",
                &format!("scim-hash-{partner}-{n}"),
            )
            .await
            .unwrap()
            .id
            .into_string()
        }
    };
    let their_scim_token = scim_token_of(c.metro.metro.clone(), c.metro.admin.clone(), 0).await;
    // A directory group with a mapping to Master Content Partner Operations.
    let scim_group_of = |partner: String, creator: String, n: usize| {
        let store = app.store.clone();
        async move {
            use starship_store::scim_groups;
            let mut conn = store.conn().await.unwrap();
            let group = scim_groups::insert(&mut conn, &PartnerId::from(partner.as_str()), &format!("Group {n}"), None)
                .await
                .unwrap()
                .id;
            let master = starship_core::catalogue::RoleRef {
                application: "backlot".into(),
                role: "master-content-partner-operations".into(),
                production: None,
            };
            let mapping = scim_groups::insert_mapping(&mut conn, &group, &master, &UserId::from(creator.as_str()))
                .await
                .unwrap()
                .unwrap()
                .id;
            (group.into_string(), mapping.into_string())
        }
    };
    let (their_group, their_mapping) = scim_group_of(c.metro.metro.clone(), c.metro.admin.clone(), 0).await;
    let theirs = |o: &Operation, n: usize| {
        let person = c.their(o.holds);
        Ids {
            user: person.id.clone(),
            grant: person.grant.clone(),
            privilege: person.privilege.clone(),
            token: c.their_token.clone(),
            appliance: c.metro.appliance.clone(),
            ticket: c.metro.ticket.clone(),
            site: c.metro.site.clone(),
            review: c.their_review.clone(),
            partner: c.metro.metro.clone(),
            scim_token: their_scim_token.clone(),
            scim_group: their_group.clone(),
            scim_mapping: their_mapping.clone(),
            n,
        }
    };
    let unknown = |n: usize| Ids {
        user: UNKNOWN.into(),
        grant: Some(UNKNOWN.into()),
        privilege: Some(UNKNOWN.into()),
        token: UNKNOWN.into(),
        appliance: UNKNOWN.into(),
        ticket: UNKNOWN.into(),
        site: UNKNOWN.into(),
        review: (UNKNOWN.into(), UNKNOWN.into()),
        partner: UNKNOWN.into(),
        scim_token: UNKNOWN.into(),
        scim_group: UNKNOWN.into(),
        scim_mapping: UNKNOWN.into(),
        n,
    };
    let oscar = app.signed_in(OSCAR).await;
    let olga = app.signed_in(OLGA).await;
    let own = person(&app, &c.ours, "owner.of.nothing@otherisp.example", Holds::Nothing).await;
    let before = app.snapshot().await;
    let mut failures = Vec::new();
    for (n, o) in OPERATIONS.iter().enumerate() {
        let ids = theirs(o, n);
        let (path, body) = (ids.path(o.path), (o.body)(&ids));
        let (status, answer) = app.call(&oscar, o.method, &path, body.clone()).await;
        let none = unknown(n);
        let (unknown_status, unknown_answer) = app.call(&oscar, o.method, &none.path(o.path), (o.body)(&none)).await;
        if status != StatusCode::NOT_FOUND || answer["title"] != "Not found" {
            failures.push(format!("{} {path} as a partner admin: {status} {answer}", o.method));
        }
        if (status, &answer) != (unknown_status, &unknown_answer) {
            failures.push(format!("{} {path}: {answer}, but for an unknown id: {unknown_answer}", o.method));
        }
        let (status, answer) = app.call(&olga, o.method, &path, body).await;
        if status != StatusCode::NOT_FOUND {
            failures.push(format!("{} {path} as a plain user: {status} {answer}", o.method));
        }
    }
    // Their record under our own person: still not ours.
    let privilege = c.their(Holds::BacklotAdmin).privilege.clone().unwrap();
    let (status, _) = app.delete(&oscar, &format!("/api/v1/users/{}/admin-privileges/{privilege}", own.id)).await;
    if status != StatusCode::NOT_FOUND {
        failures.push(format!("removing their admin privilege through our own person: {status}"));
    }
    let after = app.snapshot().await;
    let changed = snapshot_difference(&before, &after);
    assert!(changed.is_empty(), "another partner's ids changed the store:\n{}", changed.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The controls: each operation on Other ISP's own records, by Oscar.
    for (n, o) in OPERATIONS.iter().enumerate() {
        let mine = person(&app, &c.ours, &format!("control.{n}@otherisp.example"), o.holds).await;
        let oscar_id = app.signed_in_id(OSCAR).await;
        let scim_token = scim_token_of(c.ours.clone(), oscar_id.clone(), 100 + n).await;
        let (scim_group, scim_mapping) = scim_group_of(c.ours.clone(), oscar_id, 100 + n).await;
        let ids = Ids {
            user: mine.id,
            grant: mine.grant,
            privilege: mine.privilege,
            token: c.our_token.clone(),
            appliance: c.our_appliance.clone(),
            ticket: c.our_ticket.clone(),
            site: c.our_site.clone(),
            review: c.our_review.clone(),
            partner: c.ours.clone(),
            scim_token,
            scim_group,
            scim_mapping,
            n: 100 + n,
        };
        let path = ids.path(o.path);
        let (status, answer) = app.call(&oscar, o.method, &path, (o.body)(&ids)).await;
        if status != o.success {
            failures.push(format!("{} {path} on our own record: {status} {answer}, expected {}", o.method, o.success));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
});

// Each refusal here comes from one rule alone: the actor holds everything
// else that would let the request through.
app_test!(nobody_grants_themself_admin_or_roles_they_do_not_admin, |app| async move {
    let w = world(&app).await;
    // Alex administers Production Academy (the application and a
    // production): an admin, but not of Backlot.
    let alex = app.signed_in("alex.academy@sunrise.example").await;
    let (status, problem) = app
        .post(&alex, &format!("/api/v1/users/{}/admin-privileges", w.academy_admin), json!({"application": "backlot"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "granting oneself admin of an application one does not admin: {problem}");
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app
        .post(&admin, "/api/v1/grants", json!({"user_ids": [w.backlot_admin], "roles": [{"application": "content-hub", "role": "content-hub-user", "production": HOME_THEATER}]}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a role of an application one does not admin");
    // Mara also holds the portal's Admin level (which may give any level
    // under the portal matrix) and admin privileges of the Partner Portal
    // application (which grant its roles, were levels roles like others):
    // only the rule that levels go through the portal matrix refuses.
    app.grant(&w.backlot_admin, "partner-portal", "admin", None).await;
    app.admin(&w.backlot_admin, "partner-portal", None).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, problem) = app
        .post(
            &admin,
            "/api/v1/grants",
            json!({"user_ids": [w.plain], "roles": [{"application": "partner-portal", "role": "admin"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "portal levels only under the portal matrix: {problem}");
    let (status, _) = app
        .call(&admin, "PUT", &format!("/api/v1/users/{}/portal-level", w.plain), Some(json!({"level": "admin"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the same level under the portal matrix is hers to give");
});

app_test!(the_same_invitation_accepted_twice_at_once_has_one_winner, |app| async move {
    let p = portal_world(&app).await;
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    app.post(&nora, &format!("/api/v1/users/{}/invitation", p.contact), json!({})).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=noah.noc@metrofiber.example").await;
    let body = outbox[0]["body"].as_str().unwrap();
    let token = body[body.find("token=").unwrap() + 6..].split_whitespace().next().unwrap().to_string();
    let accept = |password: &'static str| {
        let client = app.client();
        let url = app.url("/api/v1/invitations/accept");
        let token = token.clone();
        async move { client.post(url).json(&json!({"token": token, "password": password})).send().await.unwrap().status() }
    };
    let (a, b) = tokio::join!(accept("first racer's password"), accept("second racer's password"));
    let wins = [a, b].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(wins, 1, "{a} {b}");
    let first = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "noah.noc@metrofiber.example", "password": "first racer's password"}),
        )
        .await
        .0;
    let second = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "noah.noc@metrofiber.example", "password": "second racer's password"}),
        )
        .await
        .0;
    assert_eq!(
        [first, second].iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "the winner's password is the one that works"
    );
});

app_test!(two_admins_granting_and_revoking_at_once_leave_a_consistent_store, |app| async move {
    let w = world(&app).await;
    app.admin(&w.master_only, "backlot", None).await;
    let first = app.signed_in("mara.master@sunrise.example").await;
    let second = app.signed_in("morgan.master@sunrise.example").await;
    let body =
        json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]});
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.post(&first, "/api/v1/grants", body.clone()),
            app.post(&second, "/api/v1/grants", body.clone())
        );
        assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
        assert_eq!(a.1["granted"][0]["grant_id"], b.1["granted"][0]["grant_id"], "one grant, not two");
        let id = a.1["granted"][0]["grant_id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/grants/{id}");
        let (x, y) = tokio::join!(app.delete(&first, &path), app.delete(&second, &path));
        let mut statuses = [x.0, y.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND]);
    }
    assert_eq!(app.count("grants").await, 3, "only the world's own grants remain");
    let (_, history) = app.get(&first, &format!("/api/v1/users/{}/history?limit=500", w.plain)).await;
    let granted = history.as_array().unwrap().iter().filter(|h| h["action"] == "role.granted").count();
    let revoked = history.as_array().unwrap().iter().filter(|h| h["action"] == "role.revoked").count();
    assert_eq!((granted, revoked), (5, 5), "each grant and revoke recorded once");
});

app_test!(a_session_cookie_chosen_by_an_attacker_is_never_adopted, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let planted = "attacker-chosen-session-value";
    let response = app
        .client()
        .post(app.url("/api/v1/session"))
        .header("cookie", format!("starship_session={planted}"))
        .json(&json!({"email": "ana.lopez@sunrise.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(!set_cookie.contains(planted), "a fresh session value is issued: {set_cookie}");
    let response = app
        .client()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("starship_session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
});

app_test!(responses_carry_security_headers, |app| async move {
    let response = app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
});

app_test!(search_and_invitations_do_not_reveal_other_partners_people, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (_, found) = app.get(&admin, "/api/v1/users?q=nina.north%40northwind.example").await;
    assert_eq!(found, json!([]));
    let (unknown, a) = app.post(&admin, "/api/v1/users/no-such-user/invitation", json!({})).await;
    let (foreign, b) = app.post(&admin, &format!("/api/v1/users/{}/invitation", w.outsider), json!({})).await;
    assert_eq!((unknown, foreign), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(a, b, "the same answer for a stranger and nobody");
    let _: Value = a;
});

app_test!(two_instances_on_one_database_serve_the_same_sessions, |app| async move {
    let w = world(&app).await;
    let (second, stop) = app.second_instance().await;
    let client = app.signed_in("mara.master@sunrise.example").await;
    // The cookie store is per host; carry the session by hand to the other instance.
    let response = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "mara.master@sunrise.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let other = app.client();
    let me = other.get(format!("{second}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "a session made on one instance works on the other");
    let granted = other
        .post(format!("{second}/api/v1/grants"))
        .header("cookie", &cookie)
        .json(&json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    // Signing out on the first ends it on the second.
    app.client().delete(app.url("/api/v1/session")).header("cookie", &cookie).send().await.unwrap();
    let after = other.get(format!("{second}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let _ = stop.send(());
});
