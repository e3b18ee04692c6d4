//! Roles granted to users, and admin privileges.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::catalogue::{AdminScope, RoleRef};

use crate::users::production_of;
use crate::{new_id, now_millis, placeholder, Conn, Result, Value};

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: String,
    pub user_id: String,
    pub role: RoleRef,
    pub granted_by: Option<String>,
    pub created_at: i64,
}

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        role: RoleRef {
            application: r.try_get("application")?,
            role: r.try_get("role")?,
            production: production_of(r)?,
        },
        granted_by: r.try_get("granted_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Grants a role; granting one already held returns the existing grant and
/// `false` rather than a duplicate.
pub async fn grant(conn: &mut Conn, user_id: &str, role: &RoleRef, granted_by: Option<&str>) -> Result<(Grant, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO grants (id, user_id, application, role, production_id, granted_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map(|p| p.get()))
    .bind(granted_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query(
        "SELECT id, user_id, application, role, production_id, granted_by, created_at FROM grants \
         WHERE user_id = $1 AND application = $2 AND role = $3 AND COALESCE(production_id, 0) = $4",
    )
    .bind(user_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map_or(0, |p| p.get()))
    .fetch_one(&mut *conn)
    .await?;
    Ok((grant_from_row(&row)?, inserted))
}

/// Grants every role to every user in a few statements, whatever the
/// count: the path of a large grant. Returns each (user, role) pair's grant
/// in the order asked (users outer, roles inner), `true` where it is new.
pub async fn grant_many(
    conn: &mut Conn,
    user_ids: &[&str],
    roles: &[RoleRef],
    granted_by: Option<&str>,
) -> Result<Vec<(Grant, bool)>> {
    type Key = (String, String, String, Option<i64>);
    let key = |user: &str, role: &RoleRef| -> Key {
        (user.to_string(), role.application.clone(), role.role.clone(), role.production.map(|p| p.get()))
    };
    let wanted: Vec<(&str, &RoleRef)> =
        user_ids.iter().flat_map(|user| roles.iter().map(move |role| (*user, role))).collect();
    let mut fresh_ids = std::collections::HashSet::with_capacity(wanted.len());
    let mut held: std::collections::HashMap<Key, Grant> = std::collections::HashMap::with_capacity(wanted.len());
    // A grant held before may be revoked by another transaction between the
    // insert that skipped it and the read: the next round writes it anew.
    for _ in 0..3 {
        let missing: Vec<&(&str, &RoleRef)> =
            wanted.iter().filter(|(user, role)| !held.contains_key(&key(user, role))).collect();
        if missing.is_empty() {
            break;
        }
        let now = now_millis();
        let rows = missing
            .iter()
            .map(|(user_id, role)| {
                let id = new_id();
                fresh_ids.insert(id.clone());
                vec![
                    Value::Text(id),
                    Value::Text(user_id.to_string()),
                    Value::Text(role.application.clone()),
                    Value::Text(role.role.clone()),
                    Value::NullableInt(role.production.map(|p| p.get())),
                    Value::NullableText(granted_by.map(str::to_string)),
                    Value::Int(now),
                ]
            })
            .collect();
        crate::insert_many_skipping_existing(
            conn,
            "grants",
            &["id", "user_id", "application", "role", "production_id", "granted_by", "created_at"],
            rows,
        )
        .await?;
        let mut users: Vec<&str> = missing.iter().map(|(user, _)| *user).collect();
        users.sort_unstable();
        users.dedup();
        for chunk in users.chunks(1_000) {
            let list = (1..=chunk.len()).map(|n| placeholder(conn, n)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT id, user_id, application, role, production_id, granted_by, created_at FROM grants \
                 WHERE user_id IN ({list})"
            );
            let mut query = sqlx::query(&sql);
            for user_id in chunk {
                query = query.bind(*user_id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let grant = grant_from_row(&row)?;
                held.insert(key(&grant.user_id, &grant.role), grant);
            }
        }
    }
    wanted
        .iter()
        .map(|(user_id, role)| {
            let grant = held.get(&key(user_id, role)).cloned().ok_or(crate::StoreError::Conflict(
                "a grant was revoked again and again while it was being written; try again",
            ))?;
            // A pair asked twice is new once.
            let new = fresh_ids.remove(&grant.id);
            Ok((grant, new))
        })
        .collect()
}

pub async fn of_user(conn: &mut Conn, user_id: &str) -> Result<Vec<Grant>> {
    sqlx::query(
        "SELECT id, user_id, application, role, production_id, granted_by, created_at FROM grants \
         WHERE user_id = $1 ORDER BY application, role, production_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<Grant>> {
    sqlx::query(
        "SELECT id, user_id, application, role, production_id, granted_by, created_at FROM grants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(grant_from_row)
    .transpose()
}

/// Revokes a grant; `false` when it was already gone.
pub async fn revoke(conn: &mut Conn, id: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM grants WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected() == 1)
}

/// For one page of users, their grants in one application.
pub async fn of_users_in_application(conn: &mut Conn, user_ids: &[String], application: &str) -> Result<Vec<Grant>> {
    if user_ids.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (0..user_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT id, user_id, application, role, production_id, granted_by, created_at FROM grants \
         WHERE application = $1 AND user_id IN ({}) ORDER BY role, production_id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(application);
    for id in user_ids {
        query = query.bind(id);
    }
    query.fetch_all(&mut *conn).await?.iter().map(grant_from_row).collect()
}

#[derive(Debug, Clone)]
pub struct AdminPrivilege {
    pub id: String,
    pub user_id: String,
    pub scope: AdminScope,
    pub granted_by: Option<String>,
    pub created_at: i64,
}

fn privilege_from_row(r: &AnyRow) -> Result<AdminPrivilege> {
    Ok(AdminPrivilege {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        scope: AdminScope { application: r.try_get("application")?, production: production_of(r)? },
        granted_by: r.try_get("granted_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn add_admin(
    conn: &mut Conn,
    user_id: &str,
    scope: &AdminScope,
    granted_by: Option<&str>,
) -> Result<(AdminPrivilege, bool)> {
    let inserted = sqlx::query(
        "INSERT INTO admin_privileges (id, user_id, application, production_id, granted_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(&scope.application)
    .bind(scope.production.map(|p| p.get()))
    .bind(granted_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges \
         WHERE user_id = $1 AND application = $2 AND COALESCE(production_id, 0) = $3",
    )
    .bind(user_id)
    .bind(&scope.application)
    .bind(scope.production.map_or(0, |p| p.get()))
    .fetch_one(&mut *conn)
    .await?;
    Ok((privilege_from_row(&row)?, inserted))
}

pub async fn admin_of_user(conn: &mut Conn, user_id: &str) -> Result<Vec<AdminPrivilege>> {
    sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges \
         WHERE user_id = $1 ORDER BY application, production_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(privilege_from_row)
    .collect()
}

pub async fn get_admin(conn: &mut Conn, id: &str) -> Result<Option<AdminPrivilege>> {
    sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(privilege_from_row)
    .transpose()
}

pub async fn remove_admin(conn: &mut Conn, id: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM admin_privileges WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected()
        == 1)
}
