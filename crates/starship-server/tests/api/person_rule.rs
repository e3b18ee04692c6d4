//! The rule for acting on a person, generated: people with random roles,
//! admin privileges and portal levels in one partner; every person action by
//! every actor on a fresh copy of every target, through the API, compared
//! with an expectation written here from PRODUCT.md (not from the rules
//! module); then the takeover chain (email change → revoke → invite →
//! accept) by every actor on every target, which may complete only where
//! the actor could have given the target everything they hold.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::ids::UserId;

use crate::support::*;

const BACKLOT_ROLES: [&str; 2] = ["content-partner-operations", "master-content-partner-operations"];

/// What one person holds.
#[derive(Debug, Clone, Default)]
struct Holdings {
    backlot_roles: Vec<&'static str>,
    academy_user_on_home_theater: bool,
    backlot_admin: bool,
    academy_admin: bool,
    home_theater_admin: bool,
    /// 0 admin, 1 engineering, 2 read-only (a lower number ranks higher).
    level: Option<u8>,
}

const LEVELS: [&str; 3] = ["admin", "engineering", "read-only"];

impl Holdings {
    fn random(rng: &mut Rng) -> Self {
        Holdings {
            backlot_roles: BACKLOT_ROLES.into_iter().filter(|_| rng.chance(3)).collect(),
            academy_user_on_home_theater: rng.chance(3),
            backlot_admin: rng.chance(4),
            academy_admin: rng.chance(5),
            home_theater_admin: rng.chance(4),
            level: match rng.below(4) {
                3 => None,
                l => Some(l as u8),
            },
        }
    }

    /// Whoever holds `self` could have given `target` everything: the
    /// admin privilege of each role's scope, each admin privilege, a level
    /// at least theirs.
    fn could_have_given(&self, target: &Holdings) -> bool {
        let roles = (target.backlot_roles.is_empty() || self.backlot_admin)
            && (!target.academy_user_on_home_theater || self.home_theater_admin);
        let privileges = (!target.backlot_admin || self.backlot_admin)
            && (!target.academy_admin || self.academy_admin)
            && (!target.home_theater_admin || self.home_theater_admin);
        let level = match (target.level, self.level) {
            (None, _) => true,
            (Some(theirs), Some(own)) => own <= theirs,
            (Some(_), None) => false,
        };
        roles && privileges && level
    }

    fn may_create_users(&self) -> bool {
        self.backlot_roles.contains(&"master-content-partner-operations")
    }

    /// The seed's matrix for people, on a target who can sign in (a person
    /// who signs in without a level stands as read-only).
    fn matrix_reaches(&self, target: &Holdings) -> bool {
        match self.level {
            Some(0) => true,
            Some(1) => target.level.unwrap_or(2) == 2,
            _ => false,
        }
    }

    async fn give(&self, app: &TestApp, user: &str) {
        for role in &self.backlot_roles {
            app.grant(user, "backlot", role, None).await;
        }
        if self.academy_user_on_home_theater {
            app.grant(user, "production-academy", "academy-user", Some(HOME_THEATER)).await;
        }
        if self.backlot_admin {
            app.admin(user, "backlot", None).await;
        }
        if self.academy_admin {
            app.admin(user, "production-academy", None).await;
        }
        if self.home_theater_admin {
            app.admin(user, "production-academy", Some(HOME_THEATER)).await;
        }
        if let Some(level) = self.level {
            app.grant(user, "partner-portal", LEVELS[level as usize], None).await;
        }
    }
}

/// A small deterministic generator: the same people on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// One chance in `n`.
    fn chance(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    EditName,
    ChangeEmail,
    Delete,
    RevokeAccess,
    SetLevelReadOnly,
    ResetMfa,
    EditContactRoles,
    Deactivate,
}

const ACTIONS: [Action; 8] = [
    Action::EditName,
    Action::ChangeEmail,
    Action::Delete,
    Action::RevokeAccess,
    Action::SetLevelReadOnly,
    Action::ResetMfa,
    Action::EditContactRoles,
    Action::Deactivate,
];

/// What PRODUCT.md says, for an actor of the partner on another person.
fn expected(actor: &Holdings, target: &Holdings, action: Action) -> bool {
    let reach = actor.could_have_given(target);
    let matrix = actor.matrix_reaches(target);
    reach
        && match action {
            Action::EditName | Action::ChangeEmail => actor.may_create_users() || matrix,
            Action::Delete | Action::RevokeAccess | Action::SetLevelReadOnly | Action::ResetMfa => matrix,
            // Contact roles and sites are not phone, names or email.
            Action::EditContactRoles => matrix && actor.level != Some(2),
            // The whole person: whoever may create users, or the matrix's administration.
            Action::Deactivate => actor.may_create_users() || matrix,
        }
}

async fn perform(
    app: &TestApp,
    client: &reqwest::Client,
    target: &str,
    action: Action,
    n: usize,
) -> (StatusCode, Value) {
    let user = format!("/api/v1/users/{target}");
    match action {
        Action::EditName => app.call(client, "PATCH", &user, Some(json!({"last_name": "Renamed"}))).await,
        Action::ChangeEmail => {
            app.post(client, &format!("{user}/email-change"), json!({"email": format!("moved{n}@elsewhere.example")}))
                .await
        }
        Action::Delete => app.delete(client, &user).await,
        Action::RevokeAccess => app.delete(client, &format!("{user}/portal-access")).await,
        Action::SetLevelReadOnly => {
            app.call(client, "PUT", &format!("{user}/portal-level"), Some(json!({"level": "read-only"}))).await
        }
        Action::ResetMfa => app.delete(client, &format!("{user}/mfa")).await,
        Action::EditContactRoles => {
            app.call(client, "PUT", &format!("{user}/contact"), Some(json!({"contact_roles": ["noc"]}))).await
        }
        Action::Deactivate => app.post(client, &format!("{user}/deactivation"), json!({})).await,
    }
}

async fn with_mfa(app: &TestApp, user: &str) {
    let mut conn = app.store.conn().await.unwrap();
    starship_store::mfa::begin_enrolment(&mut conn, &UserId::from(user), "JBSWY3DPEHPK3PXP").await.unwrap();
    starship_store::mfa::enable(&mut conn, &UserId::from(user)).await.unwrap();
}

const PEOPLE: usize = 7;

app_test!(every_person_action_follows_the_rule_for_acting_on_a_person, |app| async move {
    let w = world(&app).await;
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let people: Vec<Holdings> = (0..PEOPLE).map(|_| Holdings::random(&mut rng)).collect();
    let mut actors = Vec::new();
    for (i, holds) in people.iter().enumerate() {
        let email = format!("actor.{i}@sunrise.example");
        let id = app.member(Some(&w.sunrise), &email).await;
        holds.give(&app, &id).await;
        actors.push((id, app.signed_in(&email).await));
    }
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let mut failures = Vec::new();
    let mut allowed_cells = 0;
    let mut n = 0;
    for (a, actor) in people.iter().enumerate() {
        for target in &people {
            for action in ACTIONS {
                n += 1;
                let copy = app.member(Some(&w.sunrise), &format!("target.{n}@sunrise.example")).await;
                target.give(&app, &copy).await;
                with_mfa(&app, &copy).await;
                let want = expected(actor, target, action);
                allowed_cells += usize::from(want);
                let (status, body) = perform(&app, &actors[a].1, &copy, action, n).await;
                let ok = status.is_success();
                if ok != want || (!ok && status != StatusCode::FORBIDDEN) {
                    failures.push(format!(
                        "actor {a} {actor:?} → {target:?}: {action:?} answered {status} {body}, expected {}",
                        if want { "success" } else { "403" }
                    ));
                }
            }
        }
        // Oneself: names and email are always one's own to change.
        let (status, _) = perform(&app, &actors[a].1, &actors[a].0, Action::EditName, 0).await;
        if status != StatusCode::OK {
            failures.push(format!("actor {a} could not edit their own name: {status}"));
        }
    }
    // Operators act on anyone.
    for (i, target) in people.iter().enumerate() {
        let copy = app.member(Some(&w.sunrise), &format!("for.operator.{i}@sunrise.example")).await;
        target.give(&app, &copy).await;
        let (status, _) = perform(&app, &operator, &copy, Action::EditName, 0).await;
        if status != StatusCode::OK {
            failures.push(format!("the operator could not edit {target:?}: {status}"));
        }
    }
    assert!(
        allowed_cells > 20 && allowed_cells < PEOPLE * PEOPLE * ACTIONS.len() - 20,
        "the people cover both answers"
    );
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
});

fn link_token(outbox: &Value, recipient: &str, kind: &str) -> Option<String> {
    let message = outbox.as_array()?.iter().find(|m| m["recipient"] == recipient && m["kind"] == kind)?;
    let body = message["body"].as_str()?;
    let start = body.find("token=")? + "token=".len();
    Some(body[start..].split_whitespace().next()?.to_string())
}

app_test!(no_chain_of_allowed_actions_takes_over_someone_who_holds_more, |app| async move {
    let w = world(&app).await;
    let mut rng = Rng(0x7a6e_0000_beef_0002);
    let people: Vec<Holdings> = (0..PEOPLE).map(|_| Holdings::random(&mut rng)).collect();
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let mut failures = Vec::new();
    let (mut taken, mut n) = (0, 0);
    for (a, actor) in people.iter().enumerate() {
        let email = format!("attacker.{a}@sunrise.example");
        let id = app.member(Some(&w.sunrise), &email).await;
        actor.give(&app, &id).await;
        let attacker = app.signed_in(&email).await;
        for target in &people {
            n += 1;
            let victim = app.member(Some(&w.sunrise), &format!("victim.{n}@sunrise.example")).await;
            target.give(&app, &victim).await;
            let inbox = format!("inbox.{n}@attacker.example");
            let user = format!("/api/v1/users/{victim}");
            let (status, _) = app.post(&attacker, &format!("{user}/email-change"), json!({"email": inbox})).await;
            if !status.is_success() {
                continue;
            }
            let (_, outbox) = app.get(&operator, &format!("/api/v1/outbox?recipient={inbox}")).await;
            let token = link_token(&outbox, &inbox, "email-confirmation").expect("a confirmation link");
            let (status, _) = app.post(&app.client(), "/api/v1/email-confirmations", json!({"token": token})).await;
            assert!(status.is_success(), "the attacker confirms from their own inbox");
            let (status, _) = app.delete(&attacker, &format!("{user}/portal-access")).await;
            if !status.is_success() {
                continue;
            }
            let level = LEVELS[actor.level.unwrap_or(2) as usize];
            let (status, _) = app.post(&attacker, &format!("{user}/invitation"), json!({"level": level})).await;
            if !status.is_success() {
                continue;
            }
            let (_, outbox) = app.get(&operator, &format!("/api/v1/outbox?recipient={inbox}")).await;
            let token = link_token(&outbox, &inbox, "invitation").expect("an invitation");
            let (status, _) = app
                .post(&app.client(), "/api/v1/invitations/accept", json!({"token": token, "password": PASSWORD}))
                .await;
            assert!(status.is_success(), "the invitation is accepted");
            app.signed_in(&inbox).await;
            taken += 1;
            if !actor.could_have_given(target) {
                failures.push(format!("actor {actor:?} took over {target:?}"));
            }
        }
    }
    assert!(taken > 0, "the chain itself works where the rule allows it");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
});
