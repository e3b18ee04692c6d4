//! Who may do what, as a table: every actor against every action, each cell
//! the decision the rules must give.

use starship_core::authz::{self, Decision, Denied, Principal};
use starship_core::catalogue::{keys, AdminScope, Application, Capability, Catalogue, Role, RoleRef, RoleScope};
use starship_core::domain::ProductionId;
use starship_core::ids::{PartnerId, UserId};

const PARTNER_A: &PartnerId = &PartnerId::from_static("partner-a");
const PARTNER_B: &PartnerId = &PartnerId::from_static("partner-b");
/// A user of partner A who is none of the actors.
const TARGET: &UserId = &UserId::from_static("user-a-target");
/// Home Theater Demo - MID, the production of seed 001.
const DEMO: i64 = 70030433;
const OTHER_SHOW: i64 = 123;

const SHARED_BACKLOT_CAPABILITIES: [&str; 4] =
    ["source-management", "download-sources", "qc-subtitle-reports", "master-qc-reports"];

fn production(id: i64) -> ProductionId {
    ProductionId::parse("production", id).expect("a valid production id")
}

fn role(key: &str, name: &str, scope: RoleScope, capabilities: &[&str], default_notifications: &[&str]) -> Role {
    Role {
        key: key.into(),
        name: name.into(),
        scope,
        capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
        default_notifications: default_notifications.iter().map(|n| n.to_string()).collect(),
    }
}

fn application(key: &str, name: &str, capabilities: &[&str], roles: Vec<Role>) -> Application {
    Application {
        key: key.into(),
        name: name.into(),
        description: String::new(),
        url: format!("https://{key}.example"),
        roles,
        capabilities: capabilities.iter().map(|c| Capability { key: c.to_string(), name: c.to_string() }).collect(),
        notification_types: vec![],
        metadata_schema: vec![],
    }
}

/// The parts of the migrations' catalogue the rules read.
fn catalogue() -> Catalogue {
    let master_capabilities =
        [SHARED_BACKLOT_CAPABILITIES.as_slice(), &["backlot-api-keys", keys::CREATE_USERS]].concat();
    let backlot = application(
        keys::BACKLOT,
        "Backlot",
        &master_capabilities,
        vec![
            role(
                keys::MASTER_CONTENT_PARTNER_OPERATIONS,
                "Master Content Partner Operations",
                RoleScope::Application,
                &master_capabilities,
                &[],
            ),
            role(
                keys::CONTENT_PARTNER_OPERATIONS,
                "Content Partner Operations",
                RoleScope::Application,
                &SHARED_BACKLOT_CAPABILITIES,
                &["source-request", "qc-report"],
            ),
        ],
    );
    let academy = application(
        keys::PRODUCTION_ACADEMY,
        "Production Academy",
        &["e-learning"],
        vec![role(keys::ACADEMY_USER, "Academy User", RoleScope::Production, &["e-learning"], &[])],
    );
    Catalogue { applications: vec![backlot, academy], contact_roles: vec![] }
}

fn master() -> RoleRef {
    RoleRef {
        application: keys::BACKLOT.into(),
        role: keys::MASTER_CONTENT_PARTNER_OPERATIONS.into(),
        production: None,
    }
}

fn operations() -> RoleRef {
    RoleRef { application: keys::BACKLOT.into(), role: keys::CONTENT_PARTNER_OPERATIONS.into(), production: None }
}

fn academy_user(on: i64) -> RoleRef {
    RoleRef {
        application: keys::PRODUCTION_ACADEMY.into(),
        role: keys::ACADEMY_USER.into(),
        production: Some(production(on)),
    }
}

fn admin_of(application: &str, on: Option<i64>) -> AdminScope {
    AdminScope { application: application.into(), production: on.map(production) }
}

fn principal(user_id: &str, partner: Option<&PartnerId>, roles: Vec<RoleRef>, admin: Vec<AdminScope>) -> Principal {
    Principal { account: Some(user_id.into()), partner_id: partner.cloned(), operator: partner.is_none(), roles, admin }
}

/// The actors, in the order of the table's columns.
fn actors() -> Vec<(&'static str, Principal)> {
    vec![
        ("operator", principal("operator", None, vec![], vec![])),
        (
            "Backlot admin of A",
            principal("a-backlot-admin", Some(PARTNER_A), vec![], vec![admin_of(keys::BACKLOT, None)]),
        ),
        (
            "admin of Production Academy on 70030433, of A",
            principal(
                "a-production-admin",
                Some(PARTNER_A),
                vec![],
                vec![admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))],
            ),
        ),
        (
            "admin of Production Academy without a production, of A",
            principal("a-academy-admin", Some(PARTNER_A), vec![], vec![admin_of(keys::PRODUCTION_ACADEMY, None)]),
        ),
        (
            "Master Content Partner Operations of A, no admin",
            principal("a-master", Some(PARTNER_A), vec![master()], vec![]),
        ),
        (
            "Content Partner Operations of A, no admin",
            principal("a-operations", Some(PARTNER_A), vec![operations()], vec![]),
        ),
        ("plain user of A", principal("a-plain", Some(PARTNER_A), vec![], vec![])),
        (
            "admin and Master of partner B",
            principal(
                "b-admin",
                Some(PARTNER_B),
                vec![master(), academy_user(DEMO)],
                vec![
                    admin_of(keys::BACKLOT, None),
                    admin_of(keys::PRODUCTION_ACADEMY, None),
                    admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO)),
                ],
            ),
        ),
    ]
}

type Check = fn(&Principal, &Catalogue) -> Decision;

/// The actor's own account, for actions on themself.
fn own_id(p: &Principal) -> &UserId {
    p.acting_user().expect("every actor of the table has an account")
}

/// The partner an actor belongs to, for actions on themself.
fn own_partner(p: &Principal) -> &PartnerId {
    p.partner_id.as_ref().unwrap_or(PARTNER_A)
}

/// The actions, in the order of the table's rows: name, whether the action
/// is on something of partner A, and the rule deciding it.
fn actions() -> Vec<(&'static str, bool, Check)> {
    vec![
        ("create a user in A", true, |p, c| authz::create_user(p, c, PARTNER_A)),
        ("grant Master Content Partner Operations to a user of A", true, |p, _| {
            authz::grant_role(p, PARTNER_A, &master()).map(drop)
        }),
        ("grant Academy User on 70030433 to a user of A", true, |p, _| {
            authz::grant_role(p, PARTNER_A, &academy_user(DEMO)).map(drop)
        }),
        ("grant Academy User on 123 to a user of A", true, |p, _| {
            authz::grant_role(p, PARTNER_A, &academy_user(OTHER_SHOW)).map(drop)
        }),
        ("grant Backlot admin privileges to a user of A", true, |p, _| {
            authz::grant_admin(p, PARTNER_A, &admin_of(keys::BACKLOT, None)).map(drop)
        }),
        ("grant Production Academy admin on 70030433 to a user of A", true, |p, _| {
            authz::grant_admin(p, PARTNER_A, &admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))).map(drop)
        }),
        ("see the admin privileges of a user of A", true, |p, _| authz::see_admin_privileges(p, TARGET, PARTNER_A)),
        ("see the history of a user of A", true, |p, _| authz::see_history(p, PARTNER_A, &learner_on_demo())),
        ("open the Applications tab of Backlot", false, |p, _| authz::applications_tab(p, keys::BACKLOT)),
        ("open the Applications tab of Production Academy", false, |p, _| {
            authz::applications_tab(p, keys::PRODUCTION_ACADEMY)
        }),
        ("read the Production Academy metadata of a user of A", true, |p, _| {
            authz::user_metadata(p, (TARGET, PARTNER_A), &learner_on_demo(), keys::PRODUCTION_ACADEMY)
        }),
        ("see anything of A", true, |p, _| authz::see_partner_resource(p, PARTNER_A)),
        ("manage the platform", false, |p, _| authz::manage_platform(p)),
        ("manage application clients", false, |p, _| authz::manage_clients(p)),
        ("edit the profile of a user of A", true, |p, c| authz::edit_profile(p, c, TARGET, PARTNER_A)),
        ("edit their own profile", false, |p, c| authz::edit_profile(p, c, own_id(p), own_partner(p))),
        ("see their own admin privileges", false, |p, _| authz::see_admin_privileges(p, own_id(p), own_partner(p))),
        ("read their own Production Academy metadata", false, |p, _| {
            authz::user_metadata(p, (own_id(p), own_partner(p)), &[], keys::PRODUCTION_ACADEMY)
        }),
        ("open or read a review of Production Academy in A", true, |p, _| {
            authz::see_review(p, PARTNER_A, keys::PRODUCTION_ACADEMY, None)
        }),
        ("open or read a review of Production Academy on 70030433 in A", true, |p, _| {
            authz::see_review(p, PARTNER_A, keys::PRODUCTION_ACADEMY, Some(production(DEMO)))
        }),
        ("decide on another's grant in a review of Production Academy on 70030433 in A", true, |p, _| {
            authz::decide_review_item(p, (PARTNER_A, keys::PRODUCTION_ACADEMY, Some(production(DEMO))), TARGET)
        }),
        ("decide on their own grant in a review of Production Academy in A", true, |p, _| {
            authz::decide_review_item(p, (PARTNER_A, keys::PRODUCTION_ACADEMY, None), own_id(p))
        }),
    ]
}

/// The person of A acted on in the table: an Academy User on the demo
/// production, so that production's admins reach them.
fn learner_on_demo() -> Vec<RoleRef> {
    vec![RoleRef {
        application: keys::PRODUCTION_ACADEMY.into(),
        role: "academy-user".into(),
        production: Some(ProductionId::parse("production", DEMO).unwrap()),
    }]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Forbidden,
    NotFound,
}

impl Expect {
    fn of(decision: Decision) -> Self {
        match decision {
            Ok(()) => Self::Allowed,
            Err(Denied::Forbidden(_)) => Self::Forbidden,
            Err(Denied::NotFound) => Self::NotFound,
            Err(Denied::Conflict(why)) => panic!("no rule of the table answers a conflict: {why}"),
        }
    }
}

use Expect::{Allowed as OK, Forbidden as NO, NotFound as NF};

/// Rows follow `actions()`, columns follow `actors()`:
/// op = operator; bk = Backlot admin; pr = Production Academy admin on
/// 70030433; ac = Production Academy admin without a production; ma = Master
/// Content Partner Operations; co = Content Partner Operations; pl = plain
/// user; B = partner B's admin. All but op and B are of partner A.
#[rustfmt::skip]
const EXPECTED: [[Expect; 8]; 22] = [
    //  op  bk  pr  ac  ma  co  pl  B
    [OK, NO, NO, NO, OK, NO, NO, NF], // create a user in A
    [OK, OK, NO, NO, NO, NO, NO, NF], // grant Master Content Partner Operations
    [OK, NO, OK, NO, NO, NO, NO, NF], // grant Academy User on 70030433
    [OK, NO, NO, NO, NO, NO, NO, NF], // grant Academy User on 123
    [OK, OK, NO, NO, NO, NO, NO, NF], // grant Backlot admin privileges
    [OK, NO, OK, NO, NO, NO, NO, NF], // grant Production Academy admin on 70030433
    [OK, OK, OK, OK, NO, NO, NO, NF], // see another user's admin privileges
    [OK, OK, OK, OK, NO, NO, NO, NF], // see history
    [OK, OK, NO, NO, NO, NO, NO, OK], // Applications tab of Backlot (B: its own users)
    [OK, NO, OK, OK, NO, NO, NO, OK], // Applications tab of Production Academy
    [OK, NO, OK, OK, NO, NO, NO, NF], // another user's Production Academy metadata
    [OK, OK, OK, OK, OK, OK, OK, NF], // see anything of A
    [OK, NO, NO, NO, NO, NO, NO, NO], // manage the platform
    [OK, NO, NO, NO, NO, NO, NO, NO], // manage application clients
    [OK, NO, NO, NO, OK, NO, NO, NF], // edit another user's profile
    [OK, OK, OK, OK, OK, OK, OK, OK], // edit own profile
    [OK, OK, OK, OK, OK, OK, OK, OK], // see own admin privileges
    [OK, OK, OK, OK, OK, OK, OK, OK], // own Production Academy metadata
    [OK, NO, NO, OK, NO, NO, NO, NF], // a review of the whole of Production Academy
    [OK, NO, OK, OK, NO, NO, NO, NF], // a review of Production Academy on 70030433
    [OK, NO, OK, OK, NO, NO, NO, NF], // decide on another's grant in that review
    [NO, NO, NO, NO, NO, NO, NO, NF], // decide on one's own grant
];

#[test]
fn every_actor_gets_the_decision_the_table_says_for_every_action() {
    let catalogue = catalogue();
    let (actors, actions) = (actors(), actions());
    assert_eq!(EXPECTED.len(), actions.len(), "one table row per action");
    let mut wrong = vec![];
    for ((action, _, check), row) in actions.iter().zip(EXPECTED) {
        assert_eq!(row.len(), actors.len(), "one table column per actor");
        for ((actor, principal), expected) in actors.iter().zip(row) {
            let decision = check(principal, &catalogue);
            if Expect::of(decision) != expected {
                wrong.push(format!("{actor} / {action}: expected {expected:?}, got {decision:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} cells differ from the table:\n  {}", wrong.len(), wrong.join("\n  "));
}

#[test]
fn another_partner_never_learns_that_anything_of_partner_a_exists() {
    let catalogue = catalogue();
    let (name, outsider) = actors().pop().expect("the partner B actor");
    assert_eq!(outsider.partner_id.as_ref(), Some(PARTNER_B), "{name}");
    for (action, on_partner_a, check) in actions() {
        if on_partner_a {
            assert_eq!(check(&outsider, &catalogue), Err(Denied::NotFound), "{name} / {action}");
        }
    }
}

#[test]
fn a_refusal_says_what_is_missing() {
    let plain = principal("a-plain", Some(PARTNER_A), vec![], vec![]);
    let reason = |decision: Decision| match decision {
        Err(Denied::Forbidden(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(reason(authz::create_user(&plain, &catalogue(), PARTNER_A)).contains("Master Content Partner Operations"));
    assert!(reason(authz::grant_role(&plain, PARTNER_A, &academy_user(DEMO)).map(drop)).contains("production"));
    assert!(reason(authz::grant_role(&plain, PARTNER_A, &master()).map(drop)).contains("application"));
}

#[test]
fn production_scoped_roles_open_capabilities_only_on_their_production() {
    let catalogue = catalogue();
    let on_demo = [academy_user(DEMO)];
    let allows = |roles: &[RoleRef], on: Option<i64>| {
        authz::roles_allow(&catalogue, roles, keys::PRODUCTION_ACADEMY, "e-learning", on.map(production))
    };
    assert!(allows(&on_demo, Some(DEMO)));
    assert!(!allows(&on_demo, Some(OTHER_SHOW)), "another production");
    assert!(!allows(&on_demo, None), "no production named");
    let on_both = [academy_user(DEMO), academy_user(OTHER_SHOW)];
    assert!(allows(&on_both, Some(DEMO)) && allows(&on_both, Some(OTHER_SHOW)));
    assert!(!allows(&[], Some(DEMO)));

    let learner = principal("a-learner", Some(PARTNER_A), on_demo.to_vec(), vec![]);
    assert!(
        !learner.holds_capability(&catalogue, keys::PRODUCTION_ACADEMY, "e-learning"),
        "holds_capability names no production"
    );
}

#[test]
fn application_roles_open_their_capabilities_on_any_production() {
    let catalogue = catalogue();
    for on in [None, Some(production(DEMO))] {
        assert!(authz::roles_allow(&catalogue, &[master()], keys::BACKLOT, "backlot-api-keys", on), "{on:?}");
    }
}

#[test]
fn master_opens_backlot_api_keys_and_user_creation_and_content_partner_operations_does_not() {
    let catalogue = catalogue();
    let allows = |held: &RoleRef, capability: &str| {
        authz::roles_allow(&catalogue, std::slice::from_ref(held), keys::BACKLOT, capability, None)
    };
    for capability in ["backlot-api-keys", keys::CREATE_USERS] {
        assert!(allows(&master(), capability), "Master / {capability}");
        assert!(!allows(&operations(), capability), "Content Partner Operations / {capability}");
    }
    for capability in SHARED_BACKLOT_CAPABILITIES {
        assert!(allows(&master(), capability), "Master / {capability}");
        assert!(allows(&operations(), capability), "Content Partner Operations / {capability}");
    }
    assert!(
        authz::roles_allow(&catalogue, &[operations(), master()], keys::BACKLOT, "backlot-api-keys", None),
        "any role held opens it"
    );
}

#[test]
fn roles_open_nothing_outside_their_application_or_the_catalogue() {
    let catalogue = catalogue();
    assert!(!authz::roles_allow(
        &catalogue,
        &[master()],
        keys::PRODUCTION_ACADEMY,
        "e-learning",
        Some(production(DEMO))
    ));
    assert!(!authz::roles_allow(
        &catalogue,
        &[academy_user(DEMO)],
        keys::BACKLOT,
        "source-management",
        Some(production(DEMO))
    ));
    let ghost = RoleRef { application: keys::BACKLOT.into(), role: "ghost".into(), production: None };
    assert!(!authz::roles_allow(&catalogue, &[ghost], keys::BACKLOT, "source-management", None));
    assert!(!authz::roles_allow(&catalogue, &[master()], keys::BACKLOT, "no-such-capability", None));
}

#[test]
fn granting_a_role_needs_the_admin_privilege_of_its_application_or_production() {
    assert_eq!(authz::scope_granting(&master()), admin_of(keys::BACKLOT, None));
    assert_eq!(authz::scope_granting(&academy_user(DEMO)), admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO)));
}

#[test]
fn only_a_signed_in_session_mints_api_tokens() {
    assert_eq!(authz::create_api_token(authz::SignedInWith::Session), Ok(()));
    assert!(matches!(authz::create_api_token(authz::SignedInWith::ApiToken), Err(Denied::Forbidden(_))));
}

/// The last admin path: the Master role and an admin privilege together
/// let a person onboard; losing either ends it.
fn onboarding_admin(roles: Vec<RoleRef>, admin: Vec<AdminScope>) -> Principal {
    principal("a-onboarding-admin", Some(PARTNER_A), roles, admin)
}

#[test]
fn an_admin_path_needs_the_master_role_and_an_admin_privilege() {
    let c = catalogue();
    assert!(authz::has_admin_path(&c, &onboarding_admin(vec![master()], vec![admin_of(keys::BACKLOT, None)])));
    assert!(authz::has_admin_path(
        &c,
        &onboarding_admin(vec![master()], vec![admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))])
    ));
    assert!(!authz::has_admin_path(&c, &onboarding_admin(vec![master()], vec![])));
    assert!(!authz::has_admin_path(&c, &onboarding_admin(vec![operations()], vec![admin_of(keys::BACKLOT, None)])));
}

#[test]
fn removing_ones_own_master_role_is_refused_while_nobody_else_can_onboard() {
    let c = catalogue();
    let before = onboarding_admin(vec![master(), operations()], vec![admin_of(keys::BACKLOT, None)]);
    let without_master = onboarding_admin(vec![operations()], vec![admin_of(keys::BACKLOT, None)]);
    assert!(matches!(authz::remove_own_admin_path(&c, &before, &without_master, false), Err(Denied::Conflict(_))));
    assert_eq!(authz::remove_own_admin_path(&c, &before, &without_master, true), Ok(()));
}

#[test]
fn removing_ones_last_admin_privilege_is_refused_while_nobody_else_can_onboard() {
    let c = catalogue();
    let before = onboarding_admin(vec![master()], vec![admin_of(keys::BACKLOT, None)]);
    let after = onboarding_admin(vec![master()], vec![]);
    assert!(matches!(authz::remove_own_admin_path(&c, &before, &after, false), Err(Denied::Conflict(_))));
    assert_eq!(authz::remove_own_admin_path(&c, &before, &after, true), Ok(()));
}

#[test]
fn removing_what_leaves_the_admin_path_whole_is_allowed() {
    let c = catalogue();
    let two_privileges = vec![admin_of(keys::BACKLOT, None), admin_of(keys::PRODUCTION_ACADEMY, None)];
    let before = onboarding_admin(vec![master(), academy_user(DEMO)], two_privileges);
    let one_privilege_less = onboarding_admin(vec![master(), academy_user(DEMO)], vec![admin_of(keys::BACKLOT, None)]);
    assert_eq!(authz::remove_own_admin_path(&c, &before, &one_privilege_less, false), Ok(()));
    let one_role_less = onboarding_admin(vec![master()], vec![admin_of(keys::BACKLOT, None)]);
    let with_academy = onboarding_admin(vec![master(), academy_user(DEMO)], vec![admin_of(keys::BACKLOT, None)]);
    assert_eq!(authz::remove_own_admin_path(&c, &with_academy, &one_role_less, false), Ok(()));
}

#[test]
fn who_had_no_admin_path_has_none_to_lose() {
    let c = catalogue();
    let before = onboarding_admin(vec![master()], vec![]);
    let after = onboarding_admin(vec![], vec![]);
    assert_eq!(authz::remove_own_admin_path(&c, &before, &after, false), Ok(()));
    let operator = principal("operator", None, vec![master()], vec![admin_of(keys::BACKLOT, None)]);
    let operator_after = principal("operator", None, vec![], vec![]);
    assert_eq!(authz::remove_own_admin_path(&c, &operator, &operator_after, false), Ok(()));
}

#[test]
fn an_application_token_checks_only_its_own_application() {
    for asking in [keys::BACKLOT, keys::PRODUCTION_ACADEMY, keys::PARTNER_PORTAL] {
        for asked in [keys::BACKLOT, keys::PRODUCTION_ACADEMY, keys::PARTNER_PORTAL] {
            let decision = authz::service_check(asking, asked);
            assert_eq!(decision.is_ok(), asking == asked, "{asking} asking about {asked}: {decision:?}");
            if asking != asked {
                assert!(matches!(decision, Err(Denied::Forbidden(_))));
            }
        }
    }
}

#[test]
fn a_person_signs_in_to_an_application_only_while_holding_a_role_in_it() {
    assert!(authz::sign_in_to_application(&[operations()], keys::BACKLOT).is_ok());
    assert!(authz::sign_in_to_application(&[academy_user(DEMO)], keys::PRODUCTION_ACADEMY).is_ok());
    assert!(authz::sign_in_to_application(&[academy_user(DEMO)], keys::BACKLOT).is_err());
    assert!(authz::sign_in_to_application(&[], keys::BACKLOT).is_err());
}

#[test]
fn a_client_introspects_only_tokens_of_its_own_application() {
    for asking in [keys::BACKLOT, keys::PRODUCTION_ACADEMY, keys::PARTNER_PORTAL] {
        for issued_to in [keys::BACKLOT, keys::PRODUCTION_ACADEMY, keys::PARTNER_PORTAL] {
            let decision = authz::introspect_token(asking, issued_to);
            assert_eq!(decision.is_ok(), asking == issued_to, "{asking} asking about a token of {issued_to}");
            if asking != issued_to {
                assert_eq!(decision, Err(Denied::NotFound), "another application's token is as good as unknown");
            }
        }
    }
}

#[test]
fn logout_ends_only_the_sign_in_of_the_person_in_that_browser() {
    assert_eq!(authz::end_own_sign_in(Some(&UserId::from("u1")), "u1"), Ok(()));
    assert_eq!(
        authz::end_own_sign_in(Some(&UserId::from("u1")), "u2"),
        Err(Denied::NotFound),
        "another person's ID token"
    );
    assert_eq!(authz::end_own_sign_in(None, "u1"), Err(Denied::NotFound), "nobody signed in here");
    assert_eq!(authz::end_own_sign_in(Some(&UserId::from("")), ""), Err(Denied::NotFound), "a token naming nobody");
}

#[test]
fn a_permit_names_exactly_the_role_or_privilege_the_rule_allowed() {
    let admin =
        principal("a-academy-admin", Some(PARTNER_A), vec![], vec![admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))]);
    let permit = authz::grant_role(&admin, PARTNER_A, &academy_user(DEMO)).expect("the production's admin grants");
    assert_eq!(permit.allows(), &academy_user(DEMO));
    let scope = admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO));
    assert_eq!(
        authz::grant_admin(&admin, PARTNER_A, &scope).expect("an admin grants their own scope").allows(),
        &scope
    );
    assert!(authz::grant_role(&admin, PARTNER_A, &academy_user(OTHER_SHOW)).is_err(), "no permit for another show");
    assert!(authz::grant_admin(&admin, PARTNER_A, &admin_of(keys::PRODUCTION_ACADEMY, None)).is_err());
    let grant = academy_user(OTHER_SHOW);
    assert_eq!(authz::review_takes_back(&grant).allows(), &grant);
    assert_eq!(authz::mapping_takes_back(&grant).allows(), &grant);
}

#[test]
fn the_console_acts_for_no_account() {
    let console = Principal::console();
    assert_eq!(console.acting_user(), None);
    assert!(!console.is(&UserId::from("")), "no id, not even an empty one, is the console's");
    assert!(matches!(console.person(), Err(Denied::Forbidden(_))), "what a person records is refused");
    assert!(authz::grant_role(&console, PARTNER_A, &master()).is_ok(), "it grants as an operator");
    let admin = principal("a-admin", Some(PARTNER_A), vec![], vec![]);
    assert_eq!(admin.person(), Ok(&UserId::from("a-admin")));
    assert!(admin.is(&UserId::from("a-admin")) && !admin.is(TARGET));
}
