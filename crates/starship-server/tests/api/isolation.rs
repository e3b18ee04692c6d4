//! A partner caller never reaches another partner's people or records:
//! every id they can send (in a path, a query or a body, to the API or to a
//! page) answers as an unknown one would, and nothing changes. Each refusal
//! comes with a control call on the caller's own records that succeeds, so
//! a 404 from a route that is not there cannot pass.

use starship_core::ids::{PartnerId, UserId};
use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_core::domain::UserStatus;

use crate::portal::{portal_world, Portal};
use crate::support::*;
use crate::web::{browser, csrf_of, page, signed_in_browser};

/// What a person acted on holds: each call gets a person for whom the
/// request is valid, so only the partner can refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Nothing,
    /// A contact without sign-in.
    Contact,
    ReadOnlyLevel,
    /// Content Partner Operations (a grant to revoke, notifications to set).
    BacklotRole,
    /// Academy User on Home Theater (metadata to save).
    AcademyLearner,
    /// Backlot admin privileges (a privilege to remove).
    BacklotAdmin,
    /// Two-step sign-in turned on (to reset).
    Mfa,
    /// Deactivated (to reactivate).
    Deactivated,
}

pub struct Person {
    pub id: String,
    pub email: String,
    pub grant: Option<String>,
    pub privilege: Option<String>,
}

pub async fn person(app: &TestApp, partner: &str, email: &str, holds: Holds) -> Person {
    let id = app.member(Some(partner), email).await;
    let (mut grant, mut privilege) = (None, None);
    match holds {
        Holds::Nothing => {}
        Holds::Contact => {
            let mut conn = app.store.conn().await.unwrap();
            starship_store::users::set_status(&mut conn, &UserId::from(id.as_str()), UserStatus::Contact)
                .await
                .unwrap();
        }
        Holds::ReadOnlyLevel => {
            app.grant(&id, "partner-portal", "read-only", None).await;
        }
        Holds::BacklotRole => grant = Some(app.grant(&id, "backlot", "content-partner-operations", None).await),
        Holds::AcademyLearner => {
            grant = Some(app.grant(&id, "production-academy", "academy-user", Some(HOME_THEATER)).await);
        }
        Holds::BacklotAdmin => privilege = Some(app.admin(&id, "backlot", None).await),
        Holds::Mfa => app.with_mfa(&id).await,
        Holds::Deactivated => {
            let mut conn = app.store.conn().await.unwrap();
            starship_store::users::set_deactivated(&mut conn, &UserId::from(id.as_str()), true).await.unwrap();
        }
    }
    Person { id, email: email.to_string(), grant, privilege }
}

/// Two partners. Metro Fiber is the other partner, whose records the caller
/// names; Other ISP is the caller's: Oscar holds every privilege that would
/// let him act on those records were they his partner's (portal Admin, the
/// Master role, Backlot and Production Academy admin, Home Theater admin),
/// Olga holds nothing.
pub struct Crossing {
    pub metro: Portal,
    pub ours: String,
    pub our_site: String,
    pub our_appliance: String,
    pub our_ticket: String,
    /// A Metro person for each kind of holding.
    pub theirs: Vec<(Holds, Person)>,
    /// A token of a Metro person.
    pub their_token: String,
    /// Oscar's own token.
    pub our_token: String,
    /// An open access review of Metro's Backlot grants, and one grant in it.
    pub their_review: (String, String),
    /// An open access review of Other ISP's Backlot grants, and a grant in
    /// it that is not Oscar's.
    pub our_review: (String, String),
}

pub const ALL_HOLDS: [Holds; 8] = [
    Holds::Nothing,
    Holds::Contact,
    Holds::ReadOnlyLevel,
    Holds::BacklotRole,
    Holds::AcademyLearner,
    Holds::BacklotAdmin,
    Holds::Mfa,
    Holds::Deactivated,
];

impl Crossing {
    pub fn their(&self, holds: Holds) -> &Person {
        &self.theirs.iter().find(|(h, _)| *h == holds).expect("a Metro person for every holding").1
    }
}

pub const OSCAR: &str = "oscar.other@otherisp.example";
pub const OLGA: &str = "olga.plain@otherisp.example";

pub async fn crossing(app: &TestApp) -> Crossing {
    let metro = portal_world(app).await;
    app.production(HOME_THEATER, "Home Theater Demo - MID").await;
    let mut conn = app.store.conn().await.unwrap();
    let oscar = metro.outsider.clone();
    let ours = starship_store::users::get(&mut conn, &UserId::from(oscar.as_str()))
        .await
        .unwrap()
        .unwrap()
        .partner_id
        .unwrap()
        .into_string();
    drop(conn);
    app.grant(&oscar, "backlot", "master-content-partner-operations", None).await;
    app.admin(&oscar, "backlot", None).await;
    app.admin(&oscar, "production-academy", None).await;
    app.admin(&oscar, "production-academy", Some(HOME_THEATER)).await;
    app.member(Some(&ours), OLGA).await;
    let mut conn = app.store.conn().await.unwrap();
    use starship_store::{appliances, sites, tickets};
    let our_site =
        sites::insert_site(&mut conn, &PartnerId::from(ours.as_str()), "Reno DC", "Reno, US").await.unwrap().id;
    let our_appliance =
        appliances::insert_appliance(&mut conn, &PartnerId::from(ours.as_str()), &our_site, "OCA-9", "Flash OCA")
            .await
            .unwrap();
    let our_ticket =
        tickets::insert_ticket(&mut conn, &PartnerId::from(ours.as_str()), "Link flaps", "Twice a day", None)
            .await
            .unwrap();
    drop(conn);
    let (our_site, our_appliance, our_ticket) =
        (our_site.into_string(), our_appliance.into_string(), our_ticket.into_string());
    let mut theirs = Vec::new();
    for (i, holds) in ALL_HOLDS.into_iter().enumerate() {
        theirs.push((holds, person(app, &metro.metro, &format!("theirs.{i}@metrofiber.example"), holds).await));
    }
    let their_token = app.token_of(&theirs[0].1.id, "their-token-hash").await;
    let our_token = app.token_of(&oscar, "our-token-hash").await;
    // An access review of Backlot on each side, each with a grant Oscar
    // could decide on were it his partner's.
    let reviewed = person(app, &ours, "reviewed.person@otherisp.example", Holds::BacklotRole).await;
    let due_at = starship_store::now_millis() + 86_400_000;
    let mut conn = app.store.conn().await.unwrap();
    use starship_store::reviews;
    let their_review = reviews::open(
        &mut conn,
        &PartnerId::from(metro.metro.as_str()),
        "backlot",
        None,
        due_at,
        &UserId::from(metro.admin.as_str()),
    )
    .await
    .unwrap()
    .id;
    let our_review = reviews::open(
        &mut conn,
        &PartnerId::from(ours.as_str()),
        "backlot",
        None,
        due_at,
        &UserId::from(oscar.as_str()),
    )
    .await
    .unwrap()
    .id;
    drop(conn);
    let their_review = (
        their_review.into_string(),
        theirs.iter().find(|(h, _)| *h == Holds::BacklotRole).and_then(|(_, p)| p.grant.clone()).unwrap(),
    );
    let our_review = (our_review.into_string(), reviewed.grant.expect("the reviewed person's Backlot role"));
    Crossing {
        metro,
        ours,
        our_site,
        our_appliance,
        our_ticket,
        theirs,
        their_token,
        our_token,
        their_review,
        our_review,
    }
}

/// An id no record has.
pub const UNKNOWN: &str = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

fn differences(before: &[(&'static str, Vec<String>)], after: &[(&'static str, Vec<String>)]) -> String {
    snapshot_difference(before, after).join("\n")
}

// The API: an id in a query string or a body. The inputs come from the
// OpenAPI document (every query parameter and top-level body property that
// names a record), so a new one without a case here fails.
app_test!(ids_in_queries_and_bodies_answer_as_unknown_ones_and_change_nothing, |app| async move {
    let c = crossing(&app).await;
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let names_a_record =
        |name: &str| name.ends_with("_id") || name.ends_with("_ids") || matches!(name, "site" | "sites" | "after");
    let mut inputs = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                // The Applications tab's and the Users list's `before` is a
                // person, like their `after` (History's `before` is an entry
                // cursor of the caller's own).
                let person_cursor =
                    name == "before" && (path.starts_with("/api/v1/applications/") || path == "/api/v1/users");
                if parameter["in"] == "query" && (names_a_record(name) || person_cursor) {
                    inputs.insert((method.to_uppercase(), path.clone(), name.to_string()));
                }
            }
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let schema = match schema["$ref"].as_str() {
                Some(reference) => &doc["components"]["schemas"][reference.rsplit('/').next().unwrap()],
                None => schema,
            };
            for name in schema["properties"].as_object().into_iter().flat_map(|p| p.keys()) {
                if names_a_record(name) {
                    inputs.insert((method.to_uppercase(), path.clone(), name.clone()));
                }
            }
        }
    }

    let their_user = &c.their(Holds::Nothing).id;
    let our_user = app.member(Some(&c.ours), "owen.own@otherisp.example").await;
    let new_person = |n: usize, extra: Value| {
        let mut body = json!({"email": format!("new.{n}@otherisp.example"), "first_name": "New", "last_name": "Person", "locale": "en-US", "portal_access": false});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let bulk = |n: usize, partner: &str| json!({"rows": [{"email": format!("bulk.{n}@otherisp.example"), "locale": "en-US", "first_name": "Bulk", "last_name": "Row"}], "partner_id": partner});
    let grant = |user: &str| json!({"user_ids": [user], "roles": [{"application": "backlot", "role": "content-partner-operations"}]});
    let check = |user: &str| json!({"user_id": user, "application": "backlot", "capability": "source-management"});
    let notification = |partner: &str| json!({"application": "backlot", "type": "source-request", "partner_id": partner, "subject": "Hello", "body": "A source is requested."});
    let site =
        |partner: &str, n: usize| json!({"name": format!("Site {n}"), "location": "Reno, US", "partner_id": partner});
    let contact_edit = format!("/api/v1/users/{our_user}/contact");
    // (operation, input), the request naming their record, an unknown one
    // and our own, what a partner admin gets for theirs (what they get for
    // an unknown one too), and what our own answers.
    type Request = (String, Option<Value>);
    type Case = ((&'static str, &'static str, &'static str), [Request; 3], StatusCode, StatusCode);
    let mut cases: Vec<Case> = vec![
        (
            ("POST", "/api/v1/users", "partner_id"),
            [
                ("/api/v1/users".into(), Some(new_person(1, json!({"partner_id": c.metro.metro})))),
                ("/api/v1/users".into(), Some(new_person(2, json!({"partner_id": UNKNOWN})))),
                ("/api/v1/users".into(), Some(new_person(3, json!({"partner_id": c.ours})))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::CREATED,
        ),
        (
            ("POST", "/api/v1/users", "sites"),
            [
                ("/api/v1/users".into(), Some(new_person(4, json!({"sites": [c.metro.site]})))),
                ("/api/v1/users".into(), Some(new_person(4, json!({"sites": [UNKNOWN]})))),
                ("/api/v1/users".into(), Some(new_person(5, json!({"sites": [c.our_site]})))),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::CREATED,
        ),
        (
            ("PUT", "/api/v1/users/{id}/contact", "sites"),
            [
                (contact_edit.clone(), Some(json!({"contact_roles": ["noc"], "sites": [c.metro.site]}))),
                (contact_edit.clone(), Some(json!({"contact_roles": ["noc"], "sites": [UNKNOWN]}))),
                (contact_edit.clone(), Some(json!({"contact_roles": ["noc"], "sites": [c.our_site]}))),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::OK,
        ),
        (
            ("POST", "/api/v1/users/bulk", "partner_id"),
            [
                ("/api/v1/users/bulk".into(), Some(bulk(1, &c.metro.metro))),
                ("/api/v1/users/bulk".into(), Some(bulk(2, UNKNOWN))),
                ("/api/v1/users/bulk".into(), Some(bulk(3, &c.ours))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::CREATED,
        ),
        (
            ("POST", "/api/v1/grants", "user_ids"),
            [
                ("/api/v1/grants".into(), Some(grant(their_user))),
                ("/api/v1/grants".into(), Some(grant(UNKNOWN))),
                ("/api/v1/grants".into(), Some(grant(&our_user))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::OK,
        ),
        (
            ("POST", "/api/v1/check", "user_id"),
            [
                ("/api/v1/check".into(), Some(check(their_user))),
                ("/api/v1/check".into(), Some(check(UNKNOWN))),
                ("/api/v1/check".into(), Some(check(&our_user))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::OK,
        ),
        (
            ("POST", "/api/v1/sites", "partner_id"),
            [
                ("/api/v1/sites".into(), Some(site(&c.metro.metro, 1))),
                ("/api/v1/sites".into(), Some(site(UNKNOWN, 2))),
                ("/api/v1/sites".into(), Some(site(&c.ours, 3))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::CREATED,
        ),
        (
            // Operators only: a partner caller is refused alike for any partner.
            ("POST", "/api/v1/notifications", "partner_id"),
            [
                ("/api/v1/notifications".into(), Some(notification(&c.metro.metro))),
                ("/api/v1/notifications".into(), Some(notification(UNKNOWN))),
                ("/api/v1/notifications".into(), Some(notification(&c.ours))),
            ],
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
        ),
        (
            ("GET", "/api/v1/applications/{key}/users", "after"),
            [
                (format!("/api/v1/applications/backlot/users?after={their_user}"), None),
                (format!("/api/v1/applications/backlot/users?after={UNKNOWN}"), None),
                (format!("/api/v1/applications/backlot/users?after={our_user}"), None),
            ],
            StatusCode::OK,
            StatusCode::OK,
        ),
        (
            ("GET", "/api/v1/applications/{key}/users", "before"),
            [
                (format!("/api/v1/applications/backlot/users?before={their_user}"), None),
                (format!("/api/v1/applications/backlot/users?before={UNKNOWN}"), None),
                (format!("/api/v1/applications/backlot/users?before={our_user}"), None),
            ],
            StatusCode::OK,
            StatusCode::OK,
        ),
        (
            ("GET", "/api/v1/users", "after"),
            [
                (format!("/api/v1/users?after={their_user}"), None),
                (format!("/api/v1/users?after={UNKNOWN}"), None),
                (format!("/api/v1/users?after={our_user}"), None),
            ],
            StatusCode::OK,
            StatusCode::OK,
        ),
        (
            ("GET", "/api/v1/users", "before"),
            [
                (format!("/api/v1/users?before={their_user}"), None),
                (format!("/api/v1/users?before={UNKNOWN}"), None),
                (format!("/api/v1/users?before={our_user}"), None),
            ],
            StatusCode::OK,
            StatusCode::OK,
        ),
        (
            ("GET", "/api/v1/communications/{type}/recipients", "site"),
            [
                (format!("/api/v1/communications/maintenance/recipients?site={}", c.metro.site), None),
                (format!("/api/v1/communications/maintenance/recipients?site={UNKNOWN}"), None),
                (format!("/api/v1/communications/maintenance/recipients?site={}", c.our_site), None),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::OK,
        ),
    ];
    let due = starship_core::time_fmt::rfc3339_from_millis(starship_store::now_millis() + 86_400_000);
    let review = |partner: &str| json!({"partner_id": partner, "application": "backlot", "due_at": due});
    cases.push((
        ("POST", "/api/v1/access-reviews", "partner_id"),
        [
            ("/api/v1/access-reviews".into(), Some(review(&c.metro.metro))),
            ("/api/v1/access-reviews".into(), Some(review(UNKNOWN))),
            ("/api/v1/access-reviews".into(), Some(review(&c.ours))),
        ],
        StatusCode::NOT_FOUND,
        StatusCode::CREATED,
    ));
    // A grant of theirs is no item of our review: named like an unknown one.
    let decisions = format!("/api/v1/access-reviews/{}/decisions", c.our_review.0);
    let decision = |grant: &str| json!({"grant_id": grant, "decision": "keep"});
    cases.push((
        ("POST", "/api/v1/access-reviews/{id}/decisions", "grant_id"),
        [
            (decisions.clone(), Some(decision(&c.their_review.1))),
            (decisions.clone(), Some(decision(UNKNOWN))),
            (decisions.clone(), Some(decision(&c.our_review.1))),
        ],
        StatusCode::UNPROCESSABLE_ENTITY,
        StatusCode::OK,
    ));
    for (path, concrete) in [
        ("/api/v1/contacts", "/api/v1/contacts"),
        ("/api/v1/sites", "/api/v1/sites"),
        ("/api/v1/appliances", "/api/v1/appliances"),
        ("/api/v1/tickets", "/api/v1/tickets"),
        ("/api/v1/applications/{key}/users", "/api/v1/applications/backlot/users"),
        ("/api/v1/communications/{type}/recipients", "/api/v1/communications/maintenance/recipients"),
    ] {
        cases.push((
            ("GET", path, "partner_id"),
            [
                (format!("{concrete}?partner_id={}", c.metro.metro), None),
                (format!("{concrete}?partner_id={UNKNOWN}"), None),
                (format!("{concrete}?partner_id={}", c.ours), None),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::OK,
        ));
    }
    let ticket = |field: &str, id: &str| json!({"subject": "Loss", "body": "3% loss", field: id});
    for (field, theirs, ours) in [
        ("partner_id", &c.metro.metro, &c.ours),
        ("site_id", &c.metro.site, &c.our_site),
        ("appliance_id", &c.metro.appliance, &c.our_appliance),
    ] {
        cases.push((
            ("POST", "/api/v1/tickets", field),
            [
                ("/api/v1/tickets".into(), Some(ticket(field, theirs))),
                ("/api/v1/tickets".into(), Some(ticket(field, UNKNOWN))),
                ("/api/v1/tickets".into(), Some(ticket(field, ours))),
            ],
            StatusCode::NOT_FOUND,
            StatusCode::CREATED,
        ));
    }
    // Operators only: a partner's own site or partner is refused, another's unknown.
    let appliance = |site: &str| json!({"site_id": site, "serial": "OCA-X", "model": "Flash OCA"});
    cases.push((
        ("POST", "/api/v1/appliances", "site_id"),
        [
            ("/api/v1/appliances".into(), Some(appliance(&c.metro.site))),
            ("/api/v1/appliances".into(), Some(appliance(UNKNOWN))),
            ("/api/v1/appliances".into(), Some(appliance(&c.our_site))),
        ],
        StatusCode::NOT_FOUND,
        StatusCode::FORBIDDEN,
    ));
    let import = |partner: &str| json!({"partner_id": partner, "csv": "site,serial,model\nReno DC,OCA-Y,Flash OCA\n"});
    cases.push((
        ("POST", "/api/v1/appliances/import", "partner_id"),
        [
            ("/api/v1/appliances/import".into(), Some(import(&c.metro.metro))),
            ("/api/v1/appliances/import".into(), Some(import(UNKNOWN))),
            ("/api/v1/appliances/import".into(), Some(import(&c.ours))),
        ],
        StatusCode::NOT_FOUND,
        StatusCode::FORBIDDEN,
    ));
    // The outbox is the operators' whole: a partner's people are refused
    // it, whatever message a cursor names.
    cases.push((
        ("GET", "/api/v1/outbox", "after"),
        [
            (format!("/api/v1/outbox?after={}", c.metro.ticket), None),
            (format!("/api/v1/outbox?after={UNKNOWN}"), None),
            (format!("/api/v1/outbox?after={}", c.ours), None),
        ],
        StatusCode::FORBIDDEN,
        StatusCode::FORBIDDEN,
    ));
    cases.push((
        ("GET", "/api/v1/history/export", "partner_id"),
        [
            (format!("/api/v1/history/export?partner_id={}", c.metro.metro), None),
            (format!("/api/v1/history/export?partner_id={UNKNOWN}"), None),
            (format!("/api/v1/history/export?partner_id={}", c.ours), None),
        ],
        StatusCode::NOT_FOUND,
        StatusCode::OK,
    ));
    let covered: BTreeSet<(String, String, String)> =
        cases.iter().map(|((m, p, i), ..)| (m.to_string(), p.to_string(), i.to_string())).collect();
    let missing: Vec<_> = inputs.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&inputs).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "inputs naming a record without a case: {missing:?}; cases for no input: {stale:?}"
    );

    let oscar = app.signed_in(OSCAR).await;
    let olga = app.signed_in(OLGA).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let mut failures = Vec::new();
    for ((method, path, input), [theirs, unknown, own], foreign, control) in &cases {
        let what = format!("{method} {path} with another partner's {input}");
        let before = app.snapshot().await;
        let (status, answer) = app.call(&oscar, method, &theirs.0, theirs.1.clone()).await;
        let (unknown_status, unknown_answer) = app.call(&oscar, method, &unknown.0, unknown.1.clone()).await;
        if status != *foreign {
            failures.push(format!("{what}: {status} {answer}, expected {foreign}"));
        }
        if (status, &answer) != (unknown_status, &unknown_answer) {
            failures.push(format!("{what}: {status} {answer}, but an unknown id: {unknown_status} {unknown_answer}"));
        }
        if answer.to_string().contains("metrofiber") {
            failures.push(format!("{what}: the answer names the other partner's people: {answer}"));
        }
        let (plain, answer) = app.call(&olga, method, &theirs.0, theirs.1.clone()).await;
        // Every member may list their own partner's people: a plain user is
        // answered, like the admin, as for an unknown person.
        let open_to_members = *path == "/api/v1/users";
        if open_to_members {
            let (_, unknown_answer) = app.call(&olga, method, &unknown.0, unknown.1.clone()).await;
            if answer != unknown_answer || answer.to_string().contains("metrofiber") {
                failures.push(format!("{what}, as a plain user: {plain} {answer}"));
            }
        } else if plain.is_success() {
            failures.push(format!("{what}, as a plain user: {plain} {answer}"));
        }
        let after = app.snapshot().await;
        if before != after {
            failures.push(format!("{what} changed the store:\n{}", differences(&before, &after)));
        }
        // Operators-only operations are controlled by an operator.
        let controller = if *control == StatusCode::FORBIDDEN { &operator } else { &oscar };
        let (status, answer) = app.call(controller, method, &own.0, own.1.clone()).await;
        // (an operator's success: 200, or 201 where the operation creates)
        let succeeded = if *control == StatusCode::FORBIDDEN { status.is_success() } else { status == *control };
        if !succeeded {
            failures.push(format!("{method} {path} with our own {input}: {status} {answer}, expected {control}"));
        }
        if *control == StatusCode::FORBIDDEN {
            let (status, _) = app.call(&oscar, method, &own.0, own.1.clone()).await;
            if status != StatusCode::FORBIDDEN {
                failures.push(format!("{method} {path}: a partner admin got {status} for their own partner"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
});

/// A form's fields, as a browser posts them.
type Form = Vec<(&'static str, String)>;

/// A page request: GET, or POST with the session's CSRF token and form fields.
struct PageCall {
    method: &'static str,
    path: String,
    form: Form,
}

impl PageCall {
    fn get(path: String) -> Self {
        Self { method: "GET", path, form: vec![] }
    }

    fn post(path: String, form: Form) -> Self {
        Self { method: "POST", path, form }
    }

    /// The same call with each of `ids` replaced by `instead`.
    fn naming_instead(&self, ids: &[String], instead: &str) -> Self {
        let swap = |text: &str| ids.iter().fold(text.to_string(), |t, id| t.replace(id.as_str(), instead));
        Self {
            method: self.method,
            path: swap(&self.path),
            form: self.form.iter().map(|(k, v)| (*k, swap(v))).collect(),
        }
    }

    async fn send(&self, app: &TestApp, client: &Client, csrf: &str) -> (StatusCode, String) {
        let response = if self.method == "GET" {
            client.get(app.url(&self.path)).send().await.unwrap()
        } else {
            let mut form = vec![("csrf", csrf.to_string())];
            form.extend(self.form.iter().cloned());
            client.post(app.url(&self.path)).form(&form).send().await.unwrap()
        };
        (response.status(), response.text().await.unwrap())
    }
}

// The pages: every route of web/mod.rs whose path names a record, and the
// pages that take a record's id in their query or form, with another
// partner's ids (404, nothing of them shown, nothing changed), then with the
// caller's own (the page works).
app_test!(every_page_taking_an_id_hides_another_partners_records, |app| async move {
    let c = crossing(&app).await;
    let web_routes: BTreeSet<(String, String)> =
        crate::source::routes("web/mod.rs").into_iter().filter(|(_, path)| crate::source::takes_id(path)).collect();

    let mut n = 0;
    // For each case: (route, what the call names, a call with the other
    // partner's ids, a call with our own, the status our own answers).
    type Case = ((&'static str, &'static str), String, PageCall, PageCall, StatusCode);
    let mut cases: Vec<Case> = Vec::new();
    let see_other = StatusCode::SEE_OTHER;
    let theirs = |h: Holds| c.their(h).id.clone();
    let mut ours = Vec::new();
    for holds in ALL_HOLDS {
        n += 1;
        ours.push((holds, person(&app, &c.ours, &format!("ours.{n}@otherisp.example"), holds).await));
    }
    let our = |h: Holds| -> &Person { &ours.iter().find(|(x, _)| *x == h).unwrap().1 };

    cases.push((
        ("GET", "/users/{id}"),
        "a profile".into(),
        PageCall::get(format!("/users/{}", theirs(Holds::Nothing))),
        PageCall::get(format!("/users/{}", our(Holds::Nothing).id)),
        StatusCode::OK,
    ));
    let notification =
        || vec![("application", "backlot".into()), ("type", "source-request".into()), ("action", "off".into())];
    cases.push((
        ("POST", "/users/{id}/notifications"),
        "a notification choice".into(),
        PageCall::post(format!("/users/{}/notifications", theirs(Holds::BacklotRole)), notification()),
        PageCall::post(format!("/users/{}/notifications", our(Holds::BacklotRole).id), notification()),
        see_other,
    ));
    let metadata = || vec![("crew_department", "sound".into()), ("country", "fr".into()), ("courses", "IMF101".into())];
    cases.push((
        ("POST", "/users/{id}/metadata/{application}"),
        "academy metadata".into(),
        PageCall::post(format!("/users/{}/metadata/production-academy", theirs(Holds::AcademyLearner)), metadata()),
        PageCall::post(format!("/users/{}/metadata/production-academy", our(Holds::AcademyLearner).id), metadata()),
        see_other,
    ));
    cases.push((
        ("POST", "/users/{id}/admin-privileges"),
        "an admin privilege to add".into(),
        PageCall::post(
            format!("/users/{}/admin-privileges", theirs(Holds::Nothing)),
            vec![("scope", "backlot".into())],
        ),
        PageCall::post(
            format!("/users/{}/admin-privileges", our(Holds::Nothing).id),
            vec![("scope", "backlot".into())],
        ),
        see_other,
    ));
    let their_admin = c.their(Holds::BacklotAdmin);
    let our_admin = our(Holds::BacklotAdmin);
    cases.push((
        ("POST", "/users/{id}/admin-privileges/{pid}/remove"),
        "an admin privilege to remove".into(),
        PageCall::post(
            format!("/users/{}/admin-privileges/{}/remove", their_admin.id, their_admin.privilege.as_ref().unwrap()),
            vec![],
        ),
        PageCall::post(
            format!("/users/{}/admin-privileges/{}/remove", our_admin.id, our_admin.privilege.as_ref().unwrap()),
            vec![],
        ),
        see_other,
    ));
    let their_role = c.their(Holds::BacklotRole);
    let our_role = our(Holds::BacklotRole);
    cases.push((
        ("POST", "/users/{id}/roles/{grant}/revoke"),
        "a role to remove".into(),
        PageCall::post(format!("/users/{}/roles/{}/revoke", their_role.id, their_role.grant.as_ref().unwrap()), vec![]),
        PageCall::post(format!("/users/{}/roles/{}/revoke", our_role.id, our_role.grant.as_ref().unwrap()), vec![]),
        see_other,
    ));
    let restore = || {
        vec![
            ("application", "backlot".to_string()),
            ("role", "content-partner-operations".to_string()),
            ("production", String::new()),
            ("end", String::new()),
        ]
    };
    cases.push((
        ("POST", "/users/{id}/roles/restore"),
        "a removed role given back (Undo)".into(),
        PageCall::post(format!("/users/{}/roles/restore", theirs(Holds::Nothing)), restore()),
        PageCall::post(format!("/users/{}/roles/restore", our(Holds::Nothing).id), restore()),
        see_other,
    ));
    n += 1;
    let our_ending = person(&app, &c.ours, &format!("ending.{n}@otherisp.example"), Holds::BacklotRole).await;
    let end = || vec![("until", "2999-05-03".to_string())];
    cases.push((
        ("POST", "/users/{id}/roles/{grant}/end"),
        "a role's end date".into(),
        PageCall::post(format!("/users/{}/roles/{}/end", their_role.id, their_role.grant.as_ref().unwrap()), end()),
        PageCall::post(format!("/users/{}/roles/{}/end", our_ending.id, our_ending.grant.as_ref().unwrap()), end()),
        see_other,
    ));
    let their_person = c.their(Holds::Nothing);
    n += 1;
    let our_person = person(&app, &c.ours, &format!("deactivated.{n}@otherisp.example"), Holds::Nothing).await;
    cases.push((
        ("POST", "/users/{id}/deactivation"),
        "a person to deactivate".into(),
        PageCall::post(format!("/users/{}/deactivation", their_person.id), vec![("action", "deactivate".into())]),
        PageCall::post(format!("/users/{}/deactivation", our_person.id), vec![("action", "deactivate".into())]),
        see_other,
    ));
    cases.push((
        ("POST", "/tokens/{id}/revoke"),
        "a personal API token".into(),
        PageCall::post(format!("/tokens/{}/revoke", c.their_token), vec![]),
        PageCall::post(format!("/tokens/{}/revoke", c.our_token), vec![]),
        see_other,
    ));
    // The portal panel's forms, one action each.
    let panel: [(&str, Holds, Form); 8] = [
        (
            "details",
            Holds::Nothing,
            vec![("first_name", "Renamed".into()), ("last_name", "Person".into()), ("phone", "".into())],
        ),
        ("email", Holds::Nothing, vec![("email", "moved.page@elsewhere.example".into())]),
        ("contact", Holds::Contact, vec![("contact_roles", "noc".into())]),
        ("level", Holds::ReadOnlyLevel, vec![("level", "engineering".into())]),
        ("invite", Holds::Contact, vec![("level", "read-only".into())]),
        ("revoke", Holds::ReadOnlyLevel, vec![]),
        ("mfa", Holds::Mfa, vec![]),
        ("delete", Holds::Contact, vec![]),
    ];
    for (action, holds, fields) in panel {
        let mut form = vec![("action", action.to_string())];
        form.extend(fields);
        // Each of our own actions acts on a person of its own.
        n += 1;
        let own = person(&app, &c.ours, &format!("panel.{n}@otherisp.example"), holds).await;
        cases.push((
            ("POST", "/portal/users/{id}"),
            format!("the portal panel's {action}"),
            PageCall::post(format!("/portal/users/{}", theirs(holds)), form.clone()),
            PageCall::post(format!("/portal/users/{}", own.id), form),
            see_other,
        ));
    }
    cases.push((
        ("POST", "/portal/tickets/{id}/comments"),
        "a ticket comment".into(),
        PageCall::post(format!("/portal/tickets/{}/comments", c.metro.ticket), vec![("body", "Seen.".into())]),
        PageCall::post(format!("/portal/tickets/{}/comments", c.our_ticket), vec![("body", "Seen.".into())]),
        see_other,
    ));
    cases.push((
        ("GET", "/portal/tickets/{id}"),
        "a ticket's page".into(),
        PageCall::get(format!("/portal/tickets/{}", c.metro.ticket)),
        PageCall::get(format!("/portal/tickets/{}", c.our_ticket)),
        StatusCode::OK,
    ));
    cases.push((
        ("POST", "/portal/tickets/{id}/status"),
        "a ticket's status".into(),
        PageCall::post(format!("/portal/tickets/{}/status", c.metro.ticket), vec![("status", "resolved".into())]),
        PageCall::post(format!("/portal/tickets/{}/status", c.our_ticket), vec![("status", "resolved".into())]),
        see_other,
    ));
    let site_form = || vec![("name", "Renamed DC".to_string()), ("location", "Reno, US".to_string())];
    cases.push((
        ("POST", "/portal/sites/{id}"),
        "a site".into(),
        PageCall::post(format!("/portal/sites/{}", c.metro.site), site_form()),
        PageCall::post(format!("/portal/sites/{}", c.our_site), site_form()),
        see_other,
    ));
    cases.push((
        ("POST", "/portal/appliances/{id}/retirement"),
        "retiring an appliance (operators only: refused on one's own)".into(),
        PageCall::post(format!("/portal/appliances/{}/retirement", c.metro.appliance), vec![]),
        PageCall::post(format!("/portal/appliances/{}/retirement", c.our_appliance), vec![]),
        StatusCode::FORBIDDEN,
    ));
    cases.push((
        ("POST", "/portal/appliances/{id}/drain"),
        "draining an appliance".into(),
        PageCall::post(format!("/portal/appliances/{}/drain", c.metro.appliance), vec![("action", "drain".into())]),
        PageCall::post(format!("/portal/appliances/{}/drain", c.our_appliance), vec![("action", "drain".into())]),
        see_other,
    ));
    let bgp =
        || vec![("peer_asn", "2906".into()), ("neighbor_ipv4", "198.51.100.9".into()), ("neighbor_ipv6", "".into())];
    cases.push((
        ("POST", "/portal/appliances/{id}/bgp"),
        "a BGP configuration".into(),
        PageCall::post(format!("/portal/appliances/{}/bgp", c.metro.appliance), bgp()),
        PageCall::post(format!("/portal/appliances/{}/bgp", c.our_appliance), bgp()),
        see_other,
    ));
    cases.push((
        ("GET", "/reviews/{id}"),
        "an access review".into(),
        PageCall::get(format!("/reviews/{}", c.their_review.0)),
        PageCall::get(format!("/reviews/{}", c.our_review.0)),
        StatusCode::OK,
    ));
    let decision = |grant: &str| vec![("grant_id", grant.to_string()), ("decision", "keep".to_string())];
    cases.push((
        ("POST", "/reviews/{id}/decisions"),
        "a decision in an access review".into(),
        PageCall::post(format!("/reviews/{}/decisions", c.their_review.0), decision(&c.their_review.1)),
        PageCall::post(format!("/reviews/{}/decisions", c.our_review.0), decision(&c.our_review.1)),
        see_other,
    ));
    // Pages that take an id in the query or the form.
    cases.push((
        ("GET", "/portal/users?edit="),
        "the portal panel".into(),
        PageCall::get(format!("/portal/users?edit={}", theirs(Holds::ReadOnlyLevel))),
        PageCall::get(format!("/portal/users?edit={}", our(Holds::ReadOnlyLevel).id)),
        StatusCode::OK,
    ));
    cases.push((
        ("GET", "/onboard/start?user="),
        "onboarding a person".into(),
        PageCall::get(format!("/onboard/start?user={}", theirs(Holds::Nothing))),
        PageCall::get(format!("/onboard/start?user={}", our(Holds::Nothing).id)),
        StatusCode::OK,
    ));
    cases.push((
        ("GET", "/onboard/permissions?user="),
        "choosing a person's roles".into(),
        PageCall::get(format!("/onboard/permissions?user={}", theirs(Holds::Nothing))),
        PageCall::get(format!("/onboard/permissions?user={}", our(Holds::Nothing).id)),
        StatusCode::OK,
    ));
    let grant_form = |user: &str| {
        vec![
            ("user", user.to_string()),
            ("assign", format!("{user}|backlot|content-partner-operations|")),
            ("action", "grant".to_string()),
        ]
    };
    cases.push((
        ("POST", "/onboard/permissions"),
        "granting a person roles".into(),
        PageCall::post("/onboard/permissions".into(), grant_form(&theirs(Holds::Nothing))),
        PageCall::post("/onboard/permissions".into(), grant_form(&our(Holds::Nothing).id)),
        StatusCode::OK,
    ));
    let metadata_form = |user: &str| {
        let mut form = vec![
            (
                "trail",
                json!({"users": [user], "grants": [], "saved": [],
                        "queue": [{"user_id": user, "application": "production-academy"}]})
                .to_string(),
            ),
            ("action", "save".to_string()),
        ];
        form.extend(metadata());
        form
    };
    cases.push((
        ("POST", "/onboard/metadata"),
        "onboarding metadata".into(),
        PageCall::post("/onboard/metadata".into(), metadata_form(&theirs(Holds::AcademyLearner))),
        PageCall::post("/onboard/metadata".into(), metadata_form(&our(Holds::AcademyLearner).id)),
        StatusCode::OK,
    ));

    // A partner's SCIM tokens.
    let (their_scim, our_scim) = {
        let oscar_id = app.signed_in_id(OSCAR).await;
        let mut conn = app.store.conn().await.unwrap();
        let theirs = starship_store::scim::insert_token(
            &mut conn,
            &PartnerId::from(c.metro.metro.as_str()),
            &UserId::from(c.metro.admin.as_str()),
            "IdP",
            "their-scim",
        )
        .await
        .unwrap()
        .id;
        let ours = starship_store::scim::insert_token(
            &mut conn,
            &PartnerId::from(c.ours.as_str()),
            &UserId::from(oscar_id.as_str()),
            "IdP",
            "our-scim",
        )
        .await
        .unwrap()
        .id;
        (theirs, ours)
    };
    cases.push((
        ("GET", "/partners/{id}/scim-tokens"),
        "a partner's SCIM tokens".into(),
        PageCall::get(format!("/partners/{}/scim-tokens", c.metro.metro)),
        PageCall::get(format!("/partners/{}/scim-tokens", c.ours)),
        StatusCode::OK,
    ));
    cases.push((
        ("POST", "/partners/{id}/scim-tokens"),
        "a new SCIM token".into(),
        PageCall::post(format!("/partners/{}/scim-tokens", c.metro.metro), vec![("name", "IdP".into())]),
        PageCall::post(format!("/partners/{}/scim-tokens", c.ours), vec![("name", "IdP".into())]),
        StatusCode::OK,
    ));
    cases.push((
        ("POST", "/partners/{id}/scim-tokens/{token}/revoke"),
        "a SCIM token to revoke".into(),
        PageCall::post(format!("/partners/{}/scim-tokens/{their_scim}/revoke", c.metro.metro), vec![]),
        PageCall::post(format!("/partners/{}/scim-tokens/{our_scim}/revoke", c.ours), vec![]),
        see_other,
    ));

    let cpo = starship_core::catalogue::RoleRef {
        application: "backlot".into(),
        role: "content-partner-operations".into(),
        production: None,
    };
    let (their_group, their_mapping, our_group, our_mapped_group, our_mapping) = {
        use starship_store::scim_groups;
        let mut conn = app.store.conn().await.unwrap();
        let their_group = scim_groups::insert(&mut conn, &PartnerId::from(c.metro.metro.as_str()), "Their Group", None)
            .await
            .unwrap()
            .id;
        let their_mapping =
            scim_groups::insert_mapping(&mut conn, &their_group, &cpo, &UserId::from(c.metro.admin.as_str()))
                .await
                .unwrap()
                .unwrap()
                .id;
        let our_group =
            scim_groups::insert(&mut conn, &PartnerId::from(c.ours.as_str()), "Our Group", None).await.unwrap().id;
        let our_mapped = scim_groups::insert(&mut conn, &PartnerId::from(c.ours.as_str()), "Our Mapped Group", None)
            .await
            .unwrap()
            .id;
        let oscar_id = c.metro.outsider.clone();
        let our_mapping = scim_groups::insert_mapping(&mut conn, &our_mapped, &cpo, &UserId::from(oscar_id.as_str()))
            .await
            .unwrap()
            .unwrap()
            .id;
        (their_group, their_mapping, our_group, our_mapped, our_mapping)
    };
    let role_form = || vec![("role", "backlot|content-partner-operations".to_string())];
    cases.push((
        ("GET", "/partners/{id}/scim-groups"),
        "a partner's directory groups".into(),
        PageCall::get(format!("/partners/{}/scim-groups", c.metro.metro)),
        PageCall::get(format!("/partners/{}/scim-groups", c.ours)),
        StatusCode::OK,
    ));
    cases.push((
        ("POST", "/partners/{id}/scim-groups/{group}/roles"),
        "a role for a directory group".into(),
        PageCall::post(format!("/partners/{}/scim-groups/{their_group}/roles", c.metro.metro), role_form()),
        PageCall::post(format!("/partners/{}/scim-groups/{our_group}/roles", c.ours), role_form()),
        see_other,
    ));
    cases.push((
        ("POST", "/partners/{id}/scim-groups/{group}/roles/{mapping}/remove"),
        "a directory group's role mapping".into(),
        PageCall::post(
            format!("/partners/{}/scim-groups/{their_group}/roles/{their_mapping}/remove", c.metro.metro),
            vec![],
        ),
        PageCall::post(
            format!("/partners/{}/scim-groups/{our_mapped_group}/roles/{our_mapping}/remove", c.ours),
            vec![],
        ),
        see_other,
    ));

    let mut covered: BTreeSet<(String, String)> =
        cases.iter().map(|((m, p), ..)| (m.to_string(), p.to_string())).collect();
    // Records of no partner, for operators only: partner people are refused
    // them whole (clients::the_operator_page_registers_rotates_and_revokes_clients).
    covered.extend(crate::clients::OPERATOR_ONLY_PAGES.map(|(m, p)| (m.to_string(), p.to_string())));
    covered.extend(crate::outbox::OPERATOR_ONLY_PAGES.map(|(m, p)| (m.to_string(), p.to_string())));
    let missing: Vec<_> = web_routes.difference(&covered).collect();
    assert!(missing.is_empty(), "pages taking an id without a cross-partner case: {missing:?}");
    assert!(web_routes.len() >= 11, "the scan read only {web_routes:?}");

    let oscar = signed_in_browser(&app, OSCAR).await;
    let (_, home) = page(&app, &oscar, "/").await;
    let csrf = csrf_of(&home);
    let olga = signed_in_browser(&app, OLGA).await;
    let (_, home) = page(&app, &olga, "/").await;
    let olga_csrf = csrf_of(&home);
    let their_emails: Vec<String> = c.theirs.iter().map(|(_, p)| p.email.clone()).collect();
    let mut their_ids: Vec<String> =
        vec![c.metro.ticket.clone(), c.metro.appliance.clone(), c.their_token.clone(), c.their_review.0.clone()];
    their_ids.extend([
        c.metro.metro.clone(),
        their_scim.to_string(),
        their_group.to_string(),
        their_mapping.to_string(),
    ]);
    for (_, p) in &c.theirs {
        their_ids.extend([Some(p.id.clone()), p.grant.clone(), p.privilege.clone()].into_iter().flatten());
    }
    let mut failures = Vec::new();
    for ((method, route), what, theirs_call, own_call, control) in &cases {
        let unknown_call = theirs_call.naming_instead(&their_ids, UNKNOWN);
        let before = app.snapshot().await;
        for (who, client, token) in [("Oscar", &oscar, &csrf), ("Olga", &olga, &olga_csrf)] {
            let (status, html) = theirs_call.send(&app, client, token).await;
            let (unknown, _) = unknown_call.send(&app, client, token).await;
            // Oscar could do each of these in his own partner: only the
            // partner refuses him. Olga may be refused earlier, but alike
            // for their record and for none.
            if (who == "Oscar" && status != StatusCode::NOT_FOUND) || status != unknown || status.as_u16() < 400 {
                failures.push(format!(
                    "{method} {route} ({what}) with another partner's id, as {who}: {status} (an unknown id: {unknown})"
                ));
            }
            if let Some(email) = their_emails.iter().find(|e| html.contains(e.as_str())) {
                failures.push(format!("{method} {route} ({what}) as {who} shows {email}"));
            }
        }
        let after = app.snapshot().await;
        if before != after {
            failures.push(format!("{method} {route} ({what}) changed the store:\n{}", differences(&before, &after)));
        }
        let (status, html) = own_call.send(&app, &oscar, &csrf).await;
        if status != *control {
            failures.push(format!("{method} {route} ({what}) with our own id: {status}, expected {control}\n{html}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Signed out, a page with any id sends to sign-in, not to an answer.
    let (status, _) = page(&app, &browser(), &format!("/users/{}", theirs(Holds::Nothing))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
});

app_test!(another_partners_ids_answer_404_everywhere, |app| async move {
    let w = world(&app).await;
    let foreign_grant = app.grant(&w.outsider, "backlot", "content-partner-operations", None).await;
    let foreign_privilege = app.admin(&w.outsider, "production-academy", None).await;
    let u = &w.outsider;
    let (their_group, their_mapping) = {
        let mut conn = app.store.conn().await.unwrap();
        let group =
            starship_store::scim_groups::insert(&mut conn, &PartnerId::from(w.northwind.as_str()), "Their Group", None)
                .await
                .unwrap();
        let role = starship_core::catalogue::RoleRef {
            application: "backlot".into(),
            role: "content-partner-operations".into(),
            production: None,
        };
        let mapping =
            starship_store::scim_groups::insert_mapping(&mut conn, &group.id, &role, &UserId::from(u.as_str()))
                .await
                .unwrap()
                .unwrap();
        (group.id, mapping.id)
    };
    let (n, g) = (&w.northwind, &their_group);
    let attempts: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", format!("/api/v1/partners/{n}/scim-groups"), None),
        (
            "POST",
            format!("/api/v1/partners/{n}/scim-groups/{g}/roles"),
            Some(json!({"application": "backlot", "role": "content-partner-operations"})),
        ),
        ("DELETE", format!("/api/v1/partners/{n}/scim-groups/{g}/roles/{their_mapping}"), None),
        ("GET", format!("/api/v1/users/{u}"), None),
        ("PATCH", format!("/api/v1/users/{u}"), Some(json!({"first_name": "Hacked"}))),
        ("GET", format!("/api/v1/users/{u}/history"), None),
        ("POST", format!("/api/v1/users/{u}/admin-privileges"), Some(json!({"application": "backlot"}))),
        ("DELETE", format!("/api/v1/users/{u}/admin-privileges/{foreign_privilege}"), None),
        ("DELETE", format!("/api/v1/grants/{foreign_grant}"), None),
        (
            "POST",
            "/api/v1/grants".to_string(),
            Some(json!({"user_ids": [u], "roles": [{"application": "backlot", "role": "content-partner-operations"}]})),
        ),
        (
            "POST",
            "/api/v1/check".to_string(),
            Some(json!({"user_id": u, "application": "backlot", "capability": "source-management"})),
        ),
        (
            "POST",
            "/api/v1/users".to_string(),
            Some(
                json!({"email": "x@y.example", "first_name": "X", "last_name": "Y", "locale": "en-US", "partner_id": w.northwind}),
            ),
        ),
        ("GET", format!("/api/v1/applications/backlot/users?partner_id={}", w.northwind), None),
    ];
    for email in ["mara.master@sunrise.example", "pat.plain@sunrise.example"] {
        let client = app.signed_in(email).await;
        let before = app.snapshot().await;
        for (method, path, body) in &attempts {
            let (status, problem) = app.call(&client, method, path, body.clone()).await;
            // The Applications tab refuses a plain user before looking at the partner.
            if email.starts_with("pat") && path.starts_with("/api/v1/applications") {
                assert_eq!(status, StatusCode::FORBIDDEN);
                continue;
            }
            assert_eq!(status, StatusCode::NOT_FOUND, "{email}: {method} {path} answered {status} {problem}");
            assert_eq!(problem["title"], "Not found", "no hint of existence: {problem}");
        }
        let after = app.snapshot().await;
        assert!(before == after, "{email}: nothing changed:\n{}", differences(&before, &after));
    }
    // And an id that exists nowhere answers the same.
    let client = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.get(&client, "/api/v1/users/no-such-user").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});
