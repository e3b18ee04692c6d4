//! Roles and admin privileges held by users.

use starship_core::authz::{self, Permit, Principal};
use starship_core::catalogue::{keys, AdminScope, RoleRef};
use starship_core::ids::{GrantId, PartnerId, UserId};
use starship_store::users::User;
use starship_store::{catalogue, grants, users, Conn};

use crate::fixtures::{self, production_id};
use crate::support::store_test;

const DEMO: i64 = 70030433;
const OTHER_SHOW: i64 = 123;

/// The store writes access only with a rule's permit: these are the
/// console's, an operator's, who may grant anything anywhere.
fn permit(role: &RoleRef) -> Permit<RoleRef> {
    authz::grant_role(&Principal::console(), &PartnerId::from_static("any"), role).expect("the console grants")
}

fn admin_permit(scope: &AdminScope) -> Permit<AdminScope> {
    authz::grant_admin(&Principal::console(), &PartnerId::from_static("any"), scope).expect("the console grants")
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

fn academy_user(production: i64) -> RoleRef {
    RoleRef {
        application: keys::PRODUCTION_ACADEMY.into(),
        role: keys::ACADEMY_USER.into(),
        production: Some(production_id(production)),
    }
}

fn admin_of(application: &str, production: Option<i64>) -> AdminScope {
    AdminScope { application: application.into(), production: production.map(production_id) }
}

/// Acme with an admin and Ana; the two productions of seed 001.
async fn setup(conn: &mut Conn) -> starship_store::Result<(User, User)> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    fixtures::production(conn, DEMO, "Home Theater Demo - MID").await?;
    fixtures::production(conn, OTHER_SHOW, "Another Show").await?;
    let admin = fixtures::user(conn, Some(&acme), "admin@acme.example", "Alex", "Admin").await?;
    let ana = fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?;
    Ok((admin, ana))
}

store_test!(granting_a_role_twice_keeps_one_grant, |store| async move {
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    let (first, inserted) = grants::grant(&mut conn, &ana.id, &permit(&master()), Some(&admin.id)).await?;
    assert!(inserted);
    assert_eq!(
        (first.user_id.as_str(), &first.role, first.granted_by.as_deref()),
        (ana.id.as_str(), &master(), Some(admin.id.as_str()))
    );

    let (second, inserted) = grants::grant(&mut conn, &ana.id, &permit(&master()), None).await?;
    assert!(!inserted, "the second grant of the same role inserted a row");
    assert_eq!(second.id, first.id);
    assert_eq!(second.granted_by.as_deref(), Some(admin.id.as_str()), "the existing grant is kept as it was");

    let held: Vec<RoleRef> = grants::of_user(&mut conn, &ana.id).await?.into_iter().map(|g| g.role).collect();
    assert_eq!(held, [master()]);
    Ok(())
});

store_test!(academy_user_is_a_grant_per_production, |store| async move {
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    assert!(grants::grant(&mut conn, &ana.id, &permit(&academy_user(DEMO)), Some(&admin.id)).await?.1);
    assert!(grants::grant(&mut conn, &ana.id, &permit(&academy_user(OTHER_SHOW)), Some(&admin.id)).await?.1);
    assert!(!grants::grant(&mut conn, &ana.id, &permit(&academy_user(DEMO)), Some(&admin.id)).await?.1);
    assert!(
        grants::grant(&mut conn, &admin.id, &permit(&academy_user(DEMO)), None).await?.1,
        "another user's grant is their own"
    );

    let held: Vec<RoleRef> = grants::of_user(&mut conn, &ana.id).await?.into_iter().map(|g| g.role).collect();
    assert_eq!(held, [academy_user(OTHER_SHOW), academy_user(DEMO)]);
    Ok(())
});

store_test!(a_revoked_role_is_gone, |store| async move {
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    let (kept, _) = grants::grant(&mut conn, &ana.id, &permit(&operations()), Some(&admin.id)).await?;
    let (revoked, _) = grants::grant(&mut conn, &ana.id, &permit(&master()), Some(&admin.id)).await?;
    assert_eq!(grants::get(&mut conn, &revoked.id).await?.map(|g| g.role), Some(master()));

    assert!(grants::revoke(&mut conn, &revoked.id, &permit(&master())).await?);
    assert!(!grants::revoke(&mut conn, &revoked.id, &permit(&master())).await?, "revoking twice");
    assert!(grants::get(&mut conn, &revoked.id).await?.is_none());
    let held: Vec<GrantId> = grants::of_user(&mut conn, &ana.id).await?.into_iter().map(|g| g.id).collect();
    assert_eq!(held, [kept.id.as_str()]);

    let (again, inserted) = grants::grant(&mut conn, &ana.id, &permit(&master()), Some(&admin.id)).await?;
    assert!(inserted && again.id != revoked.id, "a revoked role can be granted again");
    Ok(())
});

store_test!(the_database_refuses_grants_of_unknown_roles_and_productions, |store| async move {
    let mut conn = store.conn().await?;
    let (_, ana) = setup(&mut conn).await?;
    let unknown_role = RoleRef { application: keys::BACKLOT.into(), role: "no-such-role".into(), production: None };
    assert!(grants::grant(&mut conn, &ana.id, &permit(&unknown_role), None).await.is_err());
    assert!(
        grants::grant(&mut conn, &ana.id, &permit(&academy_user(999)), None).await.is_err(),
        "a production that does not exist"
    );
    assert!(grants::grant(&mut conn, &UserId::from("no-such-user"), &permit(&master()), None).await.is_err());
    assert!(grants::add_admin(&mut conn, &ana.id, &admin_permit(&admin_of("no-such-application", None)), None)
        .await
        .is_err());
    assert!(grants::of_user(&mut conn, &ana.id).await?.is_empty());
    assert!(grants::admin_of_user(&mut conn, &ana.id).await?.is_empty());
    Ok(())
});

store_test!(the_applications_tab_lists_grants_of_one_application_for_the_users_shown, |store| async move {
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    grants::grant(&mut conn, &ana.id, &permit(&operations()), None).await?;
    grants::grant(&mut conn, &ana.id, &permit(&master()), None).await?;
    grants::grant(&mut conn, &ana.id, &permit(&academy_user(DEMO)), None).await?;
    grants::grant(&mut conn, &admin.id, &permit(&master()), None).await?;

    let shown = vec![ana.id.clone()];
    let backlot: Vec<RoleRef> =
        grants::of_users_in_application(&mut conn, &shown, keys::BACKLOT).await?.into_iter().map(|g| g.role).collect();
    assert_eq!(backlot, [operations(), master()]);
    let both = [ana.id.clone(), admin.id.clone()];
    assert_eq!(grants::of_users_in_application(&mut conn, &both, keys::BACKLOT).await?.len(), 3);
    assert_eq!(grants::of_users_in_application(&mut conn, &both, keys::PRODUCTION_ACADEMY).await?.len(), 1);
    assert!(grants::of_users_in_application(&mut conn, &[], keys::BACKLOT).await?.is_empty());
    Ok(())
});

store_test!(an_admin_privilege_is_held_once_per_application_or_production, |store| async move {
    let mut conn = store.conn().await?;
    let (granter, ana) = setup(&mut conn).await?;
    let scopes = [
        admin_of(keys::BACKLOT, None),
        admin_of(keys::PRODUCTION_ACADEMY, None),
        admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO)),
    ];
    let mut ids = vec![];
    for scope in &scopes {
        let (privilege, inserted) =
            grants::add_admin(&mut conn, &ana.id, &admin_permit(scope), Some(&granter.id)).await?;
        assert!(inserted, "{scope:?}");
        assert_eq!(&privilege.scope, scope);
        assert_eq!(privilege.granted_by.as_deref(), Some(granter.id.as_str()));
        ids.push(privilege.id);
    }
    for (scope, id) in scopes.iter().zip(&ids) {
        let (again, inserted) = grants::add_admin(&mut conn, &ana.id, &admin_permit(scope), None).await?;
        assert!(!inserted, "granting {scope:?} twice inserted a row");
        assert_eq!(&again.id, id);
    }
    let held: Vec<AdminScope> = grants::admin_of_user(&mut conn, &ana.id).await?.into_iter().map(|p| p.scope).collect();
    assert_eq!(held.len(), 3);
    for scope in &scopes {
        assert!(held.contains(scope), "{scope:?} missing from {held:?}");
    }

    assert_eq!(grants::get_admin(&mut conn, &ids[0]).await?.map(|p| p.scope), Some(scopes[0].clone()));
    assert!(grants::remove_admin(&mut conn, &ids[0], &admin_permit(&scopes[0])).await?);
    assert!(!grants::remove_admin(&mut conn, &ids[0], &admin_permit(&scopes[0])).await?);
    assert!(grants::get_admin(&mut conn, &ids[0]).await?.is_none());
    assert_eq!(grants::admin_of_user(&mut conn, &ana.id).await?.len(), 2);
    Ok(())
});

store_test!(the_principal_carries_the_roles_and_admin_privileges_held, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    let before = users::principal(&mut conn, &ana).await?;
    assert!(before.roles.is_empty() && before.admin.is_empty());
    assert_eq!(
        (before.acting_user(), before.partner_id.as_deref(), before.operator),
        (Some(&ana.id), ana.partner_id.as_deref(), false)
    );

    let (master_grant, _) = grants::grant(&mut conn, &ana.id, &permit(&master()), Some(&admin.id)).await?;
    grants::grant(&mut conn, &ana.id, &permit(&academy_user(DEMO)), Some(&admin.id)).await?;
    let (privilege, _) =
        grants::add_admin(&mut conn, &ana.id, &admin_permit(&admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))), None)
            .await?;

    let principal = users::principal(&mut conn, &ana).await?;
    assert_eq!(principal.roles.len(), 2);
    assert!(principal.roles.contains(&master()) && principal.roles.contains(&academy_user(DEMO)));
    assert_eq!(principal.admin, [admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO))]);
    assert!(principal.holds_capability(&catalogue, keys::BACKLOT, keys::CREATE_USERS));
    assert!(authz::roles_allow(
        &catalogue,
        &principal.roles,
        keys::PRODUCTION_ACADEMY,
        "e-learning",
        Some(production_id(DEMO))
    ));
    assert!(!authz::roles_allow(
        &catalogue,
        &principal.roles,
        keys::PRODUCTION_ACADEMY,
        "e-learning",
        Some(production_id(OTHER_SHOW))
    ));
    assert!(authz::grant_role(&principal, ana.partner_id.as_ref().expect("a partner"), &academy_user(DEMO)).is_ok());
    assert!(authz::grant_role(&principal, ana.partner_id.as_ref().expect("a partner"), &master()).is_err());
    assert_eq!(users::roles_of(&mut conn, &ana.id).await?.len(), 2);

    grants::revoke(&mut conn, &master_grant.id, &permit(&master())).await?;
    grants::remove_admin(&mut conn, &privilege.id, &admin_permit(&privilege.scope)).await?;
    let after = users::principal(&mut conn, &ana).await?;
    assert_eq!(after.roles, [academy_user(DEMO)]);
    assert!(after.admin.is_empty());
    assert!(!after.holds_capability(&catalogue, keys::BACKLOT, keys::CREATE_USERS));
    Ok(())
});

store_test!(a_large_grant_writes_each_new_pair_once_and_answers_in_the_order_asked, |store| async move {
    let mut tx = store.begin().await?;
    let (admin, ana) = setup(&mut tx).await?;
    let (held, _) = grants::grant(&mut tx, &ana.id, &permit(&master()), None).await?;
    let users = [&ana.id, &admin.id, &ana.id];
    let roles = [master(), academy_user(DEMO), academy_user(OTHER_SHOW)];
    let with_ends: Vec<(Permit<RoleRef>, Option<i64>)> = roles.iter().map(|r| (permit(r), None)).collect();
    let granted = grants::grant_many(&mut tx, &users, &with_ends, Some(&admin.id)).await?;
    tx.commit().await?;

    let asked: Vec<(&UserId, &RoleRef)> = users.iter().flat_map(|u| roles.iter().map(move |r| (*u, r))).collect();
    let answered: Vec<(&UserId, &RoleRef)> = granted.iter().map(|(g, _)| (&g.user_id, &g.role)).collect();
    assert_eq!(answered, asked, "one answer per pair, in the order asked");
    let new: Vec<bool> = granted.iter().map(|(_, outcome)| outcome.is_new()).collect();
    assert_eq!(
        new,
        [false, true, true, true, true, true, false, false, false],
        "held before, or asked twice: not new again"
    );
    assert_eq!(granted[0].0.id, held.id, "the grant held before is answered, not duplicated");
    assert_eq!(granted[1].0.granted_by.as_deref(), Some(admin.id.as_str()));

    let mut conn = store.conn().await?;
    assert_eq!(grants::of_user(&mut conn, &ana.id).await?.len(), 3);
    assert_eq!(grants::of_user(&mut conn, &admin.id).await?.len(), 3);
    Ok(())
});

store_test!(a_permit_for_one_role_or_privilege_takes_back_no_other, |store| async move {
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    let (master_grant, _) = grants::grant(&mut conn, &ana.id, &permit(&master()), Some(&admin.id)).await?;
    assert!(!grants::revoke(&mut conn, &master_grant.id, &permit(&operations())).await?, "another role's permit");
    assert!(!grants::revoke(&mut conn, &master_grant.id, &permit(&academy_user(DEMO))).await?);
    assert!(grants::get(&mut conn, &master_grant.id).await?.is_some(), "the grant stays");

    let on_demo = admin_of(keys::PRODUCTION_ACADEMY, Some(DEMO));
    let (privilege, _) = grants::add_admin(&mut conn, &ana.id, &admin_permit(&on_demo), None).await?;
    let whole_application = admin_of(keys::PRODUCTION_ACADEMY, None);
    assert!(!grants::remove_admin(&mut conn, &privilege.id, &admin_permit(&whole_application)).await?);
    assert!(grants::get_admin(&mut conn, &privilege.id).await?.is_some(), "the privilege stays");
    assert!(grants::remove_admin(&mut conn, &privilege.id, &admin_permit(&on_demo)).await?);
    Ok(())
});

store_test!(setting_portal_access_replaces_the_level_held, |store| async move {
    use starship_core::authz::PortalAccess;
    use starship_core::portal::{PortalLevel, Standing};
    let mut conn = store.conn().await?;
    let (admin, ana) = setup(&mut conn).await?;
    let partner = ana.partner_id.clone().expect("a partner");
    let console = Principal::console();
    let target = (&ana.id, Standing::NoAccess);
    let portal_roles = |roles: Vec<RoleRef>| -> Vec<RoleRef> {
        roles.into_iter().filter(|r| r.application == keys::PARTNER_PORTAL).collect()
    };
    grants::grant(&mut conn, &ana.id, &permit(&master()), None).await?;

    let engineering = authz::set_portal_level(&console, &partner, target, PortalLevel::Engineering).unwrap();
    let (before, granted) = grants::set_portal_access(&mut conn, &ana.id, &engineering, Some(&admin.id)).await?;
    assert!(before.is_empty());
    assert_eq!(granted.map(|g| g.role), Some(PortalLevel::Engineering.role()));
    let read_only = authz::set_portal_level(&console, &partner, target, PortalLevel::ReadOnly).unwrap();
    let (before, _) = grants::set_portal_access(&mut conn, &ana.id, &read_only, Some(&admin.id)).await?;
    assert_eq!(before, [PortalLevel::Engineering.role_key()]);
    assert_eq!(portal_roles(users::roles_of(&mut conn, &ana.id).await?), [PortalLevel::ReadOnly.role()]);

    let revoked = authz::revoke_portal_access(&console, &partner, target).unwrap();
    assert_eq!(*revoked.allows(), PortalAccess::Revoked);
    let (_, granted) = grants::set_portal_access(&mut conn, &ana.id, &revoked, None).await?;
    assert!(granted.is_none());
    assert_eq!(users::roles_of(&mut conn, &ana.id).await?, [master()], "the other roles stay");
    Ok(())
});
