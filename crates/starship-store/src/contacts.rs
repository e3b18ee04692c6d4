//! Contacts: the contact roles people hold, and the link tables that tie a
//! person to keys (contact roles, sites) read one person or one partner at
//! a time.

use starship_core::ids::{PartnerId, UserId};
use std::collections::HashMap;

use sqlx::Row;

use crate::{grouped, Conn, Result};

pub async fn set_contact_roles(conn: &mut Conn, user_id: &UserId, roles: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_contact_roles WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for role in roles {
        sqlx::query("INSERT INTO user_contact_roles (user_id, contact_role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(role)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The keys a person is linked to in a link table (contact roles, sites),
/// in order.
pub(crate) async fn linked_keys(conn: &mut Conn, table: &str, column: &str, user_id: &UserId) -> Result<Vec<String>> {
    sqlx::query(&format!("SELECT {column} FROM {table} WHERE user_id = $1 ORDER BY {column}"))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get(column)?))
        .collect()
}

/// The same for every person of a partner, by user id: one query for a
/// whole list.
pub(crate) async fn linked_keys_of_partner(
    conn: &mut Conn,
    table: &str,
    column: &str,
    partner_id: &PartnerId,
) -> Result<HashMap<UserId, Vec<String>>> {
    let rows = sqlx::query(&format!(
        "SELECT l.user_id, l.{column} FROM {table} l JOIN users u ON u.id = l.user_id \
         WHERE u.partner_id = $1 ORDER BY l.user_id, l.{column}"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "user_id", |r| Ok(r.try_get(column)?))
}

pub async fn contact_roles_of(conn: &mut Conn, user_id: &UserId) -> Result<Vec<String>> {
    linked_keys(conn, "user_contact_roles", "contact_role", user_id).await
}

/// The contact roles of every person of a partner, by user id.
pub async fn contact_roles_of_partner(conn: &mut Conn, partner_id: &PartnerId) -> Result<HashMap<UserId, Vec<String>>> {
    linked_keys_of_partner(conn, "user_contact_roles", "contact_role", partner_id).await
}
