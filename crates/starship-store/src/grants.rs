//! Roles granted to users, and admin privileges.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::catalogue::{AdminScope, RoleRef};

use crate::users::production_of;
use crate::{new_id, now_millis, Conn, Result};

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
