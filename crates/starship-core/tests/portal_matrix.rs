//! The Partner Portal matrix as a table: every actor level × every target
//! standing × every action, plus another partner's people.

use starship_core::authz::{self, Denied, PortalAccess, Principal};
use starship_core::catalogue::RoleRef;
use starship_core::ids::{PartnerId, UserId};
use starship_core::portal::{PortalAction, PortalLevel, Standing};

const PARTNER: &PartnerId = &PartnerId::from_static("metro");
const OTHER: &PartnerId = &PartnerId::from_static("other");

fn portal_user(id: &str, partner: &PartnerId, level: Option<PortalLevel>) -> Principal {
    Principal {
        account: Some(id.into()),
        partner_id: Some(partner.clone()),
        operator: false,
        roles: level
            .map(|l| {
                vec![RoleRef { application: "partner-portal".into(), role: l.role_key().into(), production: None }]
            })
            .unwrap_or_default(),
        admin: vec![],
    }
}

use PortalAction::*;
use PortalLevel::*;

const TARGETS: [(&str, Standing); 4] = [
    ("an admin", Standing::User(Admin)),
    ("an engineering user", Standing::User(Engineering)),
    ("a read-only user", Standing::User(ReadOnly)),
    ("a contact without access", Standing::NoAccess),
];

/// Expected allow per (actor level, action), over TARGETS, then self.
const PEOPLE_TABLE: [(PortalLevel, PortalAction, [bool; 4], bool); 6] = [
    (Admin, UserAdministration, [true, true, true, true], true),
    (Engineering, UserAdministration, [false, false, true, true], false),
    (ReadOnly, UserAdministration, [false, false, false, false], false),
    (Admin, EditDetails, [true, true, true, true], true),
    (Engineering, EditDetails, [false, false, true, true], true),
    (ReadOnly, EditDetails, [false, false, false, false], true),
];

#[test]
fn the_matrix_on_people_of_the_same_partner() {
    let mut wrong = Vec::new();
    for (level, action, expected, expected_self) in PEOPLE_TABLE {
        let actor = portal_user("actor", PARTNER, Some(level));
        for ((name, standing), allowed) in TARGETS.iter().zip(expected) {
            let got = authz::portal(&actor, action, PARTNER, Some((&UserId::from("someone"), *standing))).is_ok();
            if got != allowed {
                wrong.push(format!("{level:?} {action:?} on {name}: expected {allowed}, got {got}"));
            }
        }
        let got_self =
            authz::portal(&actor, action, PARTNER, Some((&UserId::from("actor"), Standing::User(level)))).is_ok();
        if got_self != expected_self {
            wrong.push(format!("{level:?} {action:?} on self: expected {expected_self}, got {got_self}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_matrix_on_things() {
    for (level, appliance, tickets) in [(Admin, true, true), (Engineering, true, true), (ReadOnly, false, true)] {
        let actor = portal_user("actor", PARTNER, Some(level));
        assert_eq!(
            authz::portal(&actor, ApplianceSelfService, PARTNER, None).is_ok(),
            appliance,
            "{level:?} appliances"
        );
        assert_eq!(authz::portal(&actor, Tickets, PARTNER, None).is_ok(), tickets, "{level:?} tickets");
    }
    let no_level = portal_user("actor", PARTNER, None);
    for action in [UserAdministration, EditDetails, ApplianceSelfService, Tickets] {
        assert!(matches!(authz::portal(&no_level, action, PARTNER, None), Err(Denied::Forbidden(_))), "{action:?}");
    }
}

#[test]
fn nobody_acts_on_another_partners_people_or_things() {
    for level in PortalLevel::ALL {
        let outsider = portal_user("outsider", OTHER, Some(level));
        for action in [UserAdministration, EditDetails, ApplianceSelfService, Tickets] {
            for (_, standing) in TARGETS {
                assert_eq!(
                    authz::portal(&outsider, action, PARTNER, Some((&UserId::from("x"), standing))),
                    Err(Denied::NotFound),
                    "{level:?} {action:?}"
                );
            }
            assert_eq!(authz::portal(&outsider, action, PARTNER, None), Err(Denied::NotFound));
        }
    }
}

#[test]
fn levels_are_granted_up_to_ones_own_and_only_to_those_one_administers() {
    let engineering = portal_user("eli", PARTNER, Some(Engineering));
    let rita = UserId::from("rita");
    let read_only_target = (&rita, Standing::User(ReadOnly));
    assert!(authz::set_portal_level(&engineering, PARTNER, read_only_target, Engineering).is_ok());
    assert!(authz::set_portal_level(&engineering, PARTNER, read_only_target, ReadOnly).is_ok());
    assert!(
        authz::set_portal_level(&engineering, PARTNER, read_only_target, Admin).is_err(),
        "an engineering user raising a read-only user to admin"
    );
    assert!(authz::set_portal_level(&engineering, PARTNER, (&UserId::from("nora"), Standing::User(Admin)), ReadOnly)
        .is_err());
    assert!(
        authz::set_portal_level(&engineering, PARTNER, (&UserId::from("eli"), Standing::User(Engineering)), Admin)
            .is_err(),
        "nor themself"
    );
    let admin = portal_user("nora", PARTNER, Some(Admin));
    assert!(
        authz::set_portal_level(&admin, PARTNER, (&UserId::from("eli"), Standing::User(Engineering)), Admin).is_ok()
    );
    let read_only = portal_user("rita", PARTNER, Some(ReadOnly));
    assert!(authz::set_portal_level(&read_only, PARTNER, (&UserId::from("c"), Standing::NoAccess), ReadOnly).is_err());
}

#[test]
fn portal_roles_are_not_granted_through_starship_admin_privileges() {
    let mut app_admin = portal_user("a", PARTNER, Some(Admin));
    app_admin
        .admin
        .push(starship_core::catalogue::AdminScope { application: "partner-portal".into(), production: None });
    let role = RoleRef { application: "partner-portal".into(), role: "admin".into(), production: None };
    assert!(matches!(authz::grant_role(&app_admin, PARTNER, &role), Err(Denied::Forbidden(_))));
}

#[test]
fn a_level_permit_names_the_level_allowed_and_nothing_else() {
    let admin = portal_user("nora", PARTNER, Some(Admin));
    let eli = UserId::from("eli");
    let permit = authz::set_portal_level(&admin, PARTNER, (&eli, Standing::User(ReadOnly)), Engineering).unwrap();
    assert_eq!(*permit.allows(), PortalAccess::Level(Engineering));
    assert_eq!(permit.allows().role(), Some(Engineering.role()));
    let ended = authz::revoke_portal_access(&admin, PARTNER, (&eli, Standing::User(ReadOnly))).unwrap();
    assert_eq!((*ended.allows(), ended.allows().role()), (PortalAccess::Revoked, None));
    assert_eq!(
        authz::revoke_portal_access(&admin, OTHER, (&eli, Standing::User(ReadOnly))).map(drop),
        Err(Denied::NotFound)
    );
    let read_only = portal_user("rita", PARTNER, Some(ReadOnly));
    assert!(authz::revoke_portal_access(&read_only, PARTNER, (&eli, Standing::User(ReadOnly))).is_err());
}

#[test]
fn creating_a_portal_user_carries_the_permit_for_their_level() {
    let catalogue = starship_core::catalogue::Catalogue::default();
    let engineering = portal_user("eli", PARTNER, Some(Engineering));
    let permit = authz::create_person(&engineering, &catalogue, PARTNER, Some(ReadOnly)).unwrap();
    assert_eq!(permit.map(|p| *p.allows()), Some(PortalAccess::Level(ReadOnly)));
    assert!(authz::create_person(&engineering, &catalogue, PARTNER, None).unwrap().is_none(), "a contact: no level");
    assert!(authz::create_person(&engineering, &catalogue, PARTNER, Some(Admin)).is_err(), "above their own");
}
