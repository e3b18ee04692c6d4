use sqlx::{AnyPool, Row};
use starship_core::catalogue::{
    Application, Capability, Catalogue, ContactRole, FieldKind, FieldOption, MetadataField, NotificationType, Role,
    RoleScope,
};

use crate::Result;

/// Loads the whole catalogue. It is small and changes only with migrations,
/// so the server loads it once at start-up.
pub async fn load(pool: &AnyPool) -> Result<Catalogue> {
    let mut applications: Vec<Application> =
        sqlx::query("SELECT key, name, description, url FROM applications ORDER BY position")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| {
                Ok(Application {
                    key: r.try_get("key")?,
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    url: r.try_get("url")?,
                    roles: vec![],
                    capabilities: vec![],
                    notification_types: vec![],
                    metadata_schema: vec![],
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let index = |apps: &mut Vec<Application>, key: &str| apps.iter().position(|a| a.key == key);

    for r in sqlx::query("SELECT application, key, name FROM capabilities ORDER BY application, position")
        .fetch_all(pool)
        .await?
    {
        let app: String = r.try_get("application")?;
        if let Some(i) = index(&mut applications, &app) {
            applications[i].capabilities.push(Capability { key: r.try_get("key")?, name: r.try_get("name")? });
        }
    }
    for r in sqlx::query("SELECT application, key, name, scope FROM roles ORDER BY application, position")
        .fetch_all(pool)
        .await?
    {
        let app: String = r.try_get("application")?;
        let scope: String = r.try_get("scope")?;
        if let Some(i) = index(&mut applications, &app) {
            applications[i].roles.push(Role {
                key: r.try_get("key")?,
                name: r.try_get("name")?,
                scope: RoleScope::parse(&scope).unwrap_or(RoleScope::Application),
                capabilities: vec![],
                default_notifications: vec![],
            });
        }
    }
    let role_links = sqlx::query(
        "SELECT rc.application, rc.role, rc.capability AS item, 'capability' AS link FROM role_capabilities rc \
         JOIN capabilities c ON c.application = rc.application AND c.key = rc.capability \
         UNION ALL \
         SELECT d.application, d.role, d.notification_type AS item, 'notification' AS link FROM role_notification_defaults d",
    )
    .fetch_all(pool)
    .await?;
    for r in role_links {
        let app: String = r.try_get("application")?;
        let role: String = r.try_get("role")?;
        let item: String = r.try_get("item")?;
        let link: String = r.try_get("link")?;
        if let Some(role) =
            index(&mut applications, &app).and_then(|i| applications[i].roles.iter_mut().find(|x| x.key == role))
        {
            if link == "capability" {
                role.capabilities.push(item);
            } else {
                role.default_notifications.push(item);
            }
        }
    }
    // Keep capability lists in the catalogue's order, not the join's.
    for app in &mut applications {
        let order: Vec<String> = app.capabilities.iter().map(|c| c.key.clone()).collect();
        for role in &mut app.roles {
            role.capabilities.sort_by_key(|c| order.iter().position(|o| o == c));
        }
    }
    for r in
        sqlx::query("SELECT application, key, name, description FROM notification_types ORDER BY application, position")
            .fetch_all(pool)
            .await?
    {
        let app: String = r.try_get("application")?;
        if let Some(i) = index(&mut applications, &app) {
            applications[i].notification_types.push(NotificationType {
                key: r.try_get("key")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
            });
        }
    }
    for r in sqlx::query(
        "SELECT application, key, label, kind, required FROM metadata_fields ORDER BY application, position",
    )
    .fetch_all(pool)
    .await?
    {
        let app: String = r.try_get("application")?;
        let kind: String = r.try_get("kind")?;
        let required: i64 = r.try_get("required")?;
        if let Some(i) = index(&mut applications, &app) {
            applications[i].metadata_schema.push(MetadataField {
                key: r.try_get("key")?,
                label: r.try_get("label")?,
                kind: FieldKind::parse(&kind).unwrap_or(FieldKind::Text),
                required: required != 0,
                options: vec![],
            });
        }
    }
    for r in sqlx::query(
        "SELECT application, field, value, name, description FROM metadata_field_options ORDER BY application, field, position",
    )
    .fetch_all(pool)
    .await?
    {
        let app: String = r.try_get("application")?;
        let field: String = r.try_get("field")?;
        if let Some(f) = index(&mut applications, &app).and_then(|i| applications[i].metadata_schema.iter_mut().find(|f| f.key == field)) {
            f.options.push(FieldOption { value: r.try_get("value")?, name: r.try_get("name")?, description: r.try_get("description")? });
        }
    }
    let contact_roles = sqlx::query("SELECT key, name FROM contact_roles ORDER BY position")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| Ok(ContactRole { key: r.try_get("key")?, name: r.try_get("name")? }))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Catalogue { applications, contact_roles })
}
