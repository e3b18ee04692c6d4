//! Partner Portal records: contact roles, sites, appliances, tickets.

use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result, StoreError};

pub async fn set_contact_roles(conn: &mut Conn, user_id: &str, roles: &[String]) -> Result<()> {
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

pub async fn contact_roles_of(conn: &mut Conn, user_id: &str) -> Result<Vec<String>> {
    sqlx::query("SELECT contact_role FROM user_contact_roles WHERE user_id = $1 ORDER BY contact_role")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("contact_role")?))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub location: String,
    pub created_at: i64,
}

pub async fn insert_site(conn: &mut Conn, partner_id: &str, name: &str, location: &str) -> Result<Site> {
    let site = Site {
        id: new_id(),
        partner_id: partner_id.to_string(),
        name: name.to_string(),
        location: location.to_string(),
        created_at: now_millis(),
    };
    sqlx::query(
        "INSERT INTO sites (id, partner_id, name, name_lower, location, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&site.id)
    .bind(&site.partner_id)
    .bind(&site.name)
    .bind(site.name.to_lowercase())
    .bind(&site.location)
    .bind(site.created_at)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::on_unique("this partner already has a site with this name"))?;
    Ok(site)
}

pub async fn sites_of_partner(conn: &mut Conn, partner_id: &str) -> Result<Vec<Site>> {
    sqlx::query(
        "SELECT id, partner_id, name, location, created_at FROM sites WHERE partner_id = $1 ORDER BY name_lower",
    )
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Site {
            id: r.try_get("id")?,
            partner_id: r.try_get("partner_id")?,
            name: r.try_get("name")?,
            location: r.try_get("location")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .collect()
}

pub async fn link_site(conn: &mut Conn, user_id: &str, site_id: &str) -> Result<()> {
    sqlx::query("INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(site_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn add_survey_contact(conn: &mut Conn, site_id: &str, user_id: &str) -> Result<()> {
    sqlx::query("INSERT INTO site_survey_contacts (site_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(site_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn insert_appliance(
    conn: &mut Conn,
    partner_id: &str,
    site_id: &str,
    serial: &str,
    model: &str,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO appliances (id, partner_id, site_id, serial, model, status, created_at) VALUES ($1, $2, $3, $4, $5, 'serving', $6)",
    )
    .bind(&id)
    .bind(partner_id)
    .bind(site_id)
    .bind(serial)
    .bind(model)
    .bind(now_millis())
    .execute(&mut *conn)
    .await
    .map_err(StoreError::on_unique("an appliance with this serial already exists"))?;
    Ok(id)
}

pub async fn insert_ticket(
    conn: &mut Conn,
    partner_id: &str,
    subject: &str,
    body: &str,
    opened_by: Option<&str>,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO tickets (id, partner_id, subject, body, status, opened_by, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6)",
    )
    .bind(&id)
    .bind(partner_id)
    .bind(subject)
    .bind(body)
    .bind(opened_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

pub async fn insert_ticket_comment(
    conn: &mut Conn,
    ticket_id: &str,
    author_id: Option<&str>,
    author: &str,
    body: &str,
) -> Result<String> {
    let id = new_id();
    sqlx::query("INSERT INTO ticket_comments (id, ticket_id, author_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(ticket_id)
        .bind(author_id)
        .bind(author)
        .bind(body)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Whether the store holds any partner yet (the demo loads only into an empty one).
pub async fn is_empty(conn: &mut Conn) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM partners LIMIT 1").fetch_optional(&mut *conn).await?.is_none()
        && sqlx::query("SELECT 1 FROM users LIMIT 1").fetch_optional(&mut *conn).await?.is_none())
}
