//! The built-in catalogue the migrations write, as the store loads it.

use starship_core::authz::roles_allow;
use starship_core::catalogue::{keys, Catalogue, FieldKind, RoleRef, RoleScope};
use starship_store::catalogue;

use crate::fixtures::production_id;
use crate::support::store_test;

const SHARED_BACKLOT_CAPABILITIES: [&str; 4] =
    ["source-management", "download-sources", "qc-subtitle-reports", "master-qc-reports"];

fn backlot_role(catalogue: &Catalogue, role: &str) -> RoleRef {
    assert!(catalogue.role(keys::BACKLOT, role).is_some(), "Backlot has no role {role}");
    RoleRef { application: keys::BACKLOT.into(), role: role.into(), production: None }
}

store_test!(the_catalogue_offers_backlot_production_academy_partner_portal_and_content_hub, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let keys: Vec<&str> = catalogue.applications.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["backlot", "production-academy", "partner-portal", "content-hub"]);
    let names: Vec<&str> = catalogue.applications.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Backlot", "Production Academy", "Partner Portal", "Content Hub"]);
    for app in &catalogue.applications {
        assert!(!app.roles.is_empty(), "{} has no roles", app.key);
        assert!(app.url.starts_with("https://"), "{} has no link: {:?}", app.key, app.url);
    }
    Ok(())
});

store_test!(
    master_content_partner_operations_opens_api_keys_and_user_creation_and_content_partner_operations_does_not,
    |store| async move {
        let catalogue = catalogue::load(store.pool()).await?;
        let master = catalogue.role(keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS).expect("the Master role");
        let operations = catalogue.role(keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS).expect("the Operations role");
        assert_eq!(master.name, "Master Content Partner Operations");
        assert_eq!(operations.name, "Content Partner Operations");
        for capability in ["backlot-api-keys", keys::CREATE_USERS] {
            assert!(master.capabilities.iter().any(|c| c == capability), "Master lacks {capability}");
            assert!(!operations.capabilities.iter().any(|c| c == capability), "Operations has {capability}");
        }

        let master_held = [backlot_role(&catalogue, keys::MASTER_CONTENT_PARTNER_OPERATIONS)];
        let operations_held = [backlot_role(&catalogue, keys::CONTENT_PARTNER_OPERATIONS)];
        assert!(roles_allow(&catalogue, &master_held, keys::BACKLOT, "backlot-api-keys", None));
        assert!(roles_allow(&catalogue, &master_held, keys::BACKLOT, keys::CREATE_USERS, None));
        assert!(!roles_allow(&catalogue, &operations_held, keys::BACKLOT, "backlot-api-keys", None));
        assert!(!roles_allow(&catalogue, &operations_held, keys::BACKLOT, keys::CREATE_USERS, None));

        let backlot = catalogue.application(keys::BACKLOT).expect("Backlot");
        let capability_name = |key: &str| backlot.capabilities.iter().find(|c| c.key == key).map(|c| c.name.as_str());
        assert_eq!(capability_name("backlot-api-keys"), Some("Backlot API keys"));
        assert_eq!(capability_name(keys::CREATE_USERS), Some("Create users"));
        Ok(())
    }
);

store_test!(both_backlot_roles_open_source_management_download_sources_and_qc_reports, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let backlot = catalogue.application(keys::BACKLOT).expect("Backlot");
    for role in [keys::MASTER_CONTENT_PARTNER_OPERATIONS, keys::CONTENT_PARTNER_OPERATIONS] {
        let held = [backlot_role(&catalogue, role)];
        for capability in SHARED_BACKLOT_CAPABILITIES {
            assert!(
                roles_allow(&catalogue, &held, keys::BACKLOT, capability, None),
                "{role} does not open {capability}"
            );
        }
    }
    let names: Vec<&str> = SHARED_BACKLOT_CAPABILITIES
        .iter()
        .map(|key| backlot.capabilities.iter().find(|c| c.key == *key).map_or("?", |c| c.name.as_str()))
        .collect();
    assert_eq!(names, ["Source Management", "Download Sources", "QC Subtitle Reports", "Master QC Reports"]);
    let operations = catalogue.role(keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS).expect("the Operations role");
    assert_eq!(operations.capabilities, SHARED_BACKLOT_CAPABILITIES, "capabilities keep the catalogue's order");
    Ok(())
});

store_test!(only_content_partner_operations_turns_on_default_notifications, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let backlot = catalogue.application(keys::BACKLOT).expect("Backlot");
    let master = backlot.role(keys::MASTER_CONTENT_PARTNER_OPERATIONS).expect("the Master role");
    let operations = backlot.role(keys::CONTENT_PARTNER_OPERATIONS).expect("the Operations role");
    assert!(
        master.default_notifications.is_empty(),
        "Master alone must get no default notifications: {:?}",
        master.default_notifications
    );
    assert!(!operations.default_notifications.is_empty());
    for notification in &operations.default_notifications {
        assert!(
            backlot.notification_types.iter().any(|t| &t.key == notification),
            "unknown notification type {notification}"
        );
    }
    for app in catalogue.applications.iter().filter(|a| a.key != keys::BACKLOT) {
        for role in &app.roles {
            assert!(role.default_notifications.is_empty(), "{} / {} has default notifications", app.key, role.key);
        }
    }
    Ok(())
});

store_test!(academy_user_is_granted_on_a_production, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let academy_user = catalogue.role(keys::PRODUCTION_ACADEMY, keys::ACADEMY_USER).expect("Academy User");
    assert_eq!(academy_user.name, "Academy User");
    assert_eq!(academy_user.scope, RoleScope::Production);
    assert_eq!(academy_user.capabilities, ["e-learning"]);
    let demo = production_id(70030433);
    assert!(catalogue.resolve_role("role", keys::PRODUCTION_ACADEMY, keys::ACADEMY_USER, Some(demo)).is_ok());
    assert!(catalogue.resolve_role("role", keys::PRODUCTION_ACADEMY, keys::ACADEMY_USER, None).is_err());
    let master = catalogue.role(keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS).expect("the Master role");
    assert_eq!(master.scope, RoleScope::Application);
    Ok(())
});

store_test!(the_academy_asks_for_crew_department_country_and_the_nine_courses, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let academy = catalogue.application(keys::PRODUCTION_ACADEMY).expect("Production Academy");
    let fields: Vec<(&str, FieldKind)> = academy.metadata_schema.iter().map(|f| (f.key.as_str(), f.kind)).collect();
    assert_eq!(
        fields,
        [("crew_department", FieldKind::Enum), ("country", FieldKind::Country), ("courses", FieldKind::MultiSelect)]
    );
    let crew = &academy.metadata_schema[0];
    assert!(crew.required && !crew.options.is_empty());

    let courses = &academy.metadata_schema[2];
    let listed: Vec<(&str, &str)> = courses.options.iter().map(|o| (o.value.as_str(), o.name.as_str())).collect();
    assert_eq!(
        listed,
        [
            ("IMF101", "Welcome to IMF"),
            ("IMF102", "Creating Your IMP"),
            ("IMF103", "Using Backlot to Fulfill IMF"),
            ("ECH_Overview", "External Content Hub - Overview"),
            ("ECH_DL", "External Content Hub - Collaborating on the Delivery List"),
            ("ECH_Archival", "External Content Hub - Delivering Archival Assets To Netflix"),
            ("ECH_LockedCut", "External Content Hub - Delivering a Locked Cut"),
            ("ECH_Sharing", "External Content Hub - Storing and Sharing Media via Workspace and Assets"),
            ("ECH_Download", "External Content Hub - Downloading Media"),
        ]
    );
    for course in &courses.options {
        assert!(course.description.starts_with("Learn"), "{} has no description", course.value);
    }
    Ok(())
});

store_test!(contacts_can_be_engineering_noc_logistics_customs_or_shipping, |store| async move {
    let catalogue = catalogue::load(store.pool()).await?;
    let roles: Vec<(&str, &str)> = catalogue.contact_roles.iter().map(|r| (r.key.as_str(), r.name.as_str())).collect();
    for expected in [
        ("engineering", "Engineering"),
        ("noc", "NOC"),
        ("logistics", "Logistics"),
        ("customs", "Customs"),
        ("shipping", "Shipping"),
    ] {
        assert!(roles.contains(&expected), "missing contact role {expected:?} in {roles:?}");
    }
    Ok(())
});
