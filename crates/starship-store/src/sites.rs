//! Sites: a partner's places, and the people associated with each (linked
//! on the contact, or named in the site's deployment survey).

use starship_core::ids::{PartnerId, SiteId, UserId};
use std::collections::HashMap;

use sqlx::Row;

use crate::contacts::{linked_keys, linked_keys_of_partner};
use crate::{grouped, new_id, now_millis, Conn, Result, StoreError};

#[derive(Debug, Clone)]
pub struct Site {
    pub id: SiteId,
    pub partner_id: PartnerId,
    pub name: String,
    pub location: String,
    pub created_at: i64,
}

pub async fn insert_site(conn: &mut Conn, partner_id: &PartnerId, name: &str, location: &str) -> Result<Site> {
    let site = Site {
        id: SiteId::from(new_id()),
        partner_id: partner_id.clone(),
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

/// Renames a site or changes its location.
pub async fn update_site(conn: &mut Conn, id: &SiteId, name: &str, location: &str) -> Result<()> {
    sqlx::query("UPDATE sites SET name = $2, name_lower = $3, location = $4 WHERE id = $1")
        .bind(id)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(location)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::on_unique("this partner already has a site with this name"))?;
    Ok(())
}

pub async fn get_site(conn: &mut Conn, id: &SiteId) -> Result<Option<Site>> {
    let row = sqlx::query("SELECT id, partner_id, name, location, created_at FROM sites WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(Site {
            id: r.try_get("id")?,
            partner_id: r.try_get("partner_id")?,
            name: r.try_get("name")?,
            location: r.try_get("location")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

pub async fn sites_of_partner(conn: &mut Conn, partner_id: &PartnerId) -> Result<Vec<Site>> {
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

/// A person associated with a site.
#[derive(Debug, Clone)]
pub struct SiteContact {
    pub user_id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Named in the site's deployment survey.
    pub on_survey: bool,
}

/// The people associated with each site of a partner (ticked on the
/// contact, or named in the site's deployment survey), by site id, in
/// name order.
pub async fn site_contacts_of_partner(
    conn: &mut Conn,
    partner_id: &PartnerId,
) -> Result<HashMap<SiteId, Vec<SiteContact>>> {
    let rows = sqlx::query(
        "SELECT l.site_id, u.id, u.first_name, u.last_name, u.email, \
           EXISTS (SELECT 1 FROM site_survey_contacts v WHERE v.site_id = l.site_id AND v.user_id = u.id) AS on_survey \
         FROM (SELECT site_id, user_id FROM user_sites UNION SELECT site_id, user_id FROM site_survey_contacts) l \
         JOIN users u ON u.id = l.user_id JOIN sites s ON s.id = l.site_id \
         WHERE s.partner_id = $1 AND u.deleted_at IS NULL ORDER BY l.site_id, u.full_lower, u.id",
    )
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "site_id", |r| {
        let on_survey = match r.try_get::<i64, _>("on_survey") {
            Ok(v) => v != 0,
            Err(_) => r.try_get::<bool, _>("on_survey")?,
        };
        Ok(SiteContact {
            user_id: r.try_get("id")?,
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            email: r.try_get("email")?,
            on_survey,
        })
    })
}

pub async fn link_site(conn: &mut Conn, user_id: &UserId, site_id: &SiteId) -> Result<()> {
    sqlx::query("INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(site_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn add_survey_contact(conn: &mut Conn, site_id: &SiteId, user_id: &UserId) -> Result<()> {
    sqlx::query("INSERT INTO site_survey_contacts (site_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(site_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn sites_of_user(conn: &mut Conn, user_id: &UserId) -> Result<Vec<String>> {
    linked_keys(conn, "user_sites", "site_id", user_id).await
}

/// The site ids of every person of a partner, by user id.
pub async fn sites_of_partner_users(conn: &mut Conn, partner_id: &PartnerId) -> Result<HashMap<UserId, Vec<String>>> {
    linked_keys_of_partner(conn, "user_sites", "site_id", partner_id).await
}

pub async fn set_sites(conn: &mut Conn, user_id: &UserId, sites: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_sites WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for site in sites {
        link_site(conn, user_id, &SiteId::from(site.as_str())).await?;
    }
    Ok(())
}
