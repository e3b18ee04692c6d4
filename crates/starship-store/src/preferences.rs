//! Notification choices and application metadata of users.

use serde_json::{Map, Value};
use sqlx::Row;
use starship_core::catalogue::RoleRef;
use starship_core::ids::{ApplicationKey, PartnerId, UserId};
use starship_core::preferences::CustomChoice;

use crate::users::production_of;
use crate::{now_millis, Conn, Result};

pub async fn choices_of(conn: &mut Conn, user_id: &UserId) -> Result<Vec<CustomChoice>> {
    sqlx::query("SELECT application, notification_type, enabled FROM notification_preferences WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let enabled: i64 = r.try_get("enabled")?;
            Ok(CustomChoice {
                application: r.try_get("application")?,
                notification_type: r.try_get("notification_type")?,
                enabled: enabled != 0,
            })
        })
        .collect()
}

pub async fn set_choice(conn: &mut Conn, user_id: &UserId, choice: &CustomChoice) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_preferences (user_id, application, notification_type, enabled, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, application, notification_type) DO UPDATE SET enabled = $4, updated_at = $5",
    )
    .bind(user_id)
    .bind(&choice.application)
    .bind(&choice.notification_type)
    .bind(i64::from(choice.enabled))
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets a choice, so the roles' default applies again.
pub async fn clear_choice(conn: &mut Conn, user_id: &UserId, application: &str, notification_type: &str) -> Result<()> {
    sqlx::query(
        "DELETE FROM notification_preferences WHERE user_id = $1 AND application = $2 AND notification_type = $3",
    )
    .bind(user_id)
    .bind(application)
    .bind(notification_type)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn metadata_of(conn: &mut Conn, user_id: &UserId, application: &str) -> Result<Option<Map<String, Value>>> {
    let row = sqlx::query("SELECT data FROM user_metadata WHERE user_id = $1 AND application = $2")
        .bind(user_id)
        .bind(application)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| r.try_get::<String, _>("data"))
        .transpose()?
        .and_then(|data| serde_json::from_str::<Value>(&data).ok())
        .and_then(|v| v.as_object().cloned()))
}

pub async fn set_metadata(
    conn: &mut Conn,
    user_id: &UserId,
    application: &str,
    data: &Map<String, Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_metadata (user_id, application, data, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, application) DO UPDATE SET data = $3, updated_at = $4",
    )
    .bind(user_id)
    .bind(application)
    .bind(Value::Object(data.clone()).to_string())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What fanning a notification out needs, in two queries: the partner's
/// active users holding roles in the application with those roles, and
/// their choices for it. The settings rule itself stays in the core.
pub async fn audience(conn: &mut Conn, partner_id: &PartnerId, application: &str) -> Result<Vec<Audience>> {
    let rows = sqlx::query(&format!(
        "SELECT u.id, u.email, u.locale, g.role, g.production_id FROM users u JOIN grants g ON g.user_id = u.id \
         WHERE u.partner_id = $1 AND g.application = $2 AND u.status = 'active' AND {} ORDER BY u.id",
        crate::grants::counting("g", 3)
    ))
    .bind(partner_id)
    .bind(application)
    .bind(crate::now_millis())
    .fetch_all(&mut *conn)
    .await?;
    let mut people: Vec<Audience> = Vec::new();
    for r in rows {
        let id: UserId = r.try_get("id")?;
        let role = RoleRef {
            application: ApplicationKey::from(application),
            role: r.try_get("role")?,
            production: production_of(&r)?,
        };
        match people.last_mut() {
            Some(last) if last.user_id == id => last.roles.push(role),
            _ => people.push(Audience {
                user_id: id,
                email: r.try_get("email")?,
                locale: r.try_get("locale")?,
                roles: vec![role],
                choices: vec![],
            }),
        }
    }
    let choices = sqlx::query(
        "SELECT p.user_id, p.notification_type, p.enabled FROM notification_preferences p JOIN users u ON u.id = p.user_id \
         WHERE u.partner_id = $1 AND p.application = $2",
    )
    .bind(partner_id)
    .bind(application)
    .fetch_all(&mut *conn)
    .await?;
    let index: std::collections::HashMap<UserId, usize> =
        people.iter().enumerate().map(|(i, p)| (p.user_id.clone(), i)).collect();
    for r in choices {
        let user_id: String = r.try_get("user_id")?;
        let enabled: i64 = r.try_get("enabled")?;
        if let Some(&i) = index.get(user_id.as_str()) {
            people[i].choices.push(CustomChoice {
                application: ApplicationKey::from(application),
                notification_type: r.try_get("notification_type")?,
                enabled: enabled != 0,
            });
        }
    }
    Ok(people)
}

#[derive(Debug, Clone)]
pub struct Audience {
    pub user_id: UserId,
    pub email: String,
    pub locale: String,
    pub roles: Vec<RoleRef>,
    pub choices: Vec<CustomChoice>,
}
