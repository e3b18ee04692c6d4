//! Partner Portal records: contact roles, sites, appliances, tickets.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{grouped, new_id, now_millis, Conn, Result, StoreError};

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

/// The keys a person is linked to in a link table (contact roles, sites),
/// in order.
async fn linked_keys(conn: &mut Conn, table: &str, column: &str, user_id: &str) -> Result<Vec<String>> {
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
async fn linked_keys_of_partner(
    conn: &mut Conn,
    table: &str,
    column: &str,
    partner_id: &str,
) -> Result<HashMap<String, Vec<String>>> {
    let rows = sqlx::query(&format!(
        "SELECT l.user_id, l.{column} FROM {table} l JOIN users u ON u.id = l.user_id \
         WHERE u.partner_id = $1 ORDER BY l.user_id, l.{column}"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "user_id", |r| Ok(r.try_get(column)?))
}

pub async fn contact_roles_of(conn: &mut Conn, user_id: &str) -> Result<Vec<String>> {
    linked_keys(conn, "user_contact_roles", "contact_role", user_id).await
}

/// The contact roles of every person of a partner, by user id.
pub async fn contact_roles_of_partner(conn: &mut Conn, partner_id: &str) -> Result<HashMap<String, Vec<String>>> {
    linked_keys_of_partner(conn, "user_contact_roles", "contact_role", partner_id).await
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

/// Renames a site or changes its location.
pub async fn update_site(conn: &mut Conn, id: &str, name: &str, location: &str) -> Result<()> {
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

/// A person associated with a site.
#[derive(Debug, Clone)]
pub struct SiteContact {
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Named in the site's deployment survey.
    pub on_survey: bool,
}

/// The people associated with each site of a partner (ticked on the
/// contact, or named in the site's deployment survey), by site id, in
/// name order.
pub async fn site_contacts_of_partner(conn: &mut Conn, partner_id: &str) -> Result<HashMap<String, Vec<SiteContact>>> {
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
    register_appliance(conn, partner_id, site_id, serial, model, None).await
}

/// Registers an appliance at a site, in service; its history starts with
/// the registration.
pub async fn register_appliance(
    conn: &mut Conn,
    partner_id: &str,
    site_id: &str,
    serial: &str,
    model: &str,
    by: Option<&str>,
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
    add_appliance_event(conn, &id, "registered", by).await?;
    Ok(id)
}

/// One line of an appliance's history: registered, drained, undrained, retired.
pub async fn add_appliance_event(conn: &mut Conn, appliance_id: &str, event: &str, by: Option<&str>) -> Result<()> {
    sqlx::query("INSERT INTO appliance_events (id, appliance_id, event, by_user, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(appliance_id)
        .bind(event)
        .bind(by)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ApplianceEvent {
    pub event: String,
    /// The email of who did it, when a person did.
    pub by: Option<String>,
    pub at: i64,
}

/// The history of every appliance of a partner, by appliance id, oldest first.
pub async fn appliance_events_of_partner(
    conn: &mut Conn,
    partner_id: &str,
) -> Result<HashMap<String, Vec<ApplianceEvent>>> {
    let rows = sqlx::query(
        "SELECT e.appliance_id, e.event, u.email, e.at FROM appliance_events e \
         JOIN appliances a ON a.id = e.appliance_id LEFT JOIN users u ON u.id = e.by_user \
         WHERE a.partner_id = $1 ORDER BY e.appliance_id, e.at, e.id",
    )
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "appliance_id", |r| {
        Ok(ApplianceEvent { event: r.try_get("event")?, by: r.try_get("email")?, at: r.try_get("at")? })
    })
}

/// The serials among `serials` that are taken already.
pub async fn serials_taken(conn: &mut Conn, serials: &[String]) -> Result<Vec<String>> {
    let mut taken = Vec::new();
    for chunk in serials.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT serial FROM appliances WHERE serial IN ({})", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for serial in chunk {
            query = query.bind(serial);
        }
        for row in query.fetch_all(&mut *conn).await? {
            taken.push(row.try_get("serial")?);
        }
    }
    Ok(taken)
}

/// Retires an appliance; false when it was retired already.
pub async fn retire_appliance(conn: &mut Conn, id: &str, by: &str) -> Result<bool> {
    let done =
        sqlx::query("UPDATE appliances SET retired_at = $2, retired_by = $3 WHERE id = $1 AND retired_at IS NULL")
            .bind(id)
            .bind(now_millis())
            .bind(by)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 1 {
        add_appliance_event(conn, id, "retired", Some(by)).await?;
    }
    Ok(done.rows_affected() == 1)
}

pub async fn insert_ticket(
    conn: &mut Conn,
    partner_id: &str,
    subject: &str,
    body: &str,
    opened_by: Option<&str>,
) -> Result<String> {
    open_ticket(conn, &NewTicket { partner_id, subject, body, site_id: None, appliance_id: None, opened_by }).await
}

/// A ticket to open: the site and appliance, when named, are the partner's
/// (the caller checked).
pub struct NewTicket<'a> {
    pub partner_id: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub site_id: Option<&'a str>,
    pub appliance_id: Option<&'a str>,
    pub opened_by: Option<&'a str>,
}

pub async fn open_ticket(conn: &mut Conn, t: &NewTicket<'_>) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO tickets (id, partner_id, subject, body, status, opened_by, created_at, site_id, appliance_id) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(t.partner_id)
    .bind(t.subject)
    .bind(t.body)
    .bind(t.opened_by)
    .bind(now_millis())
    .bind(t.site_id)
    .bind(t.appliance_id)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Moves a ticket from one status to another; false when it was no longer
/// in `from` (someone else moved it meanwhile).
pub async fn set_ticket_status(conn: &mut Conn, id: &str, from: &str, to: &str, by: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE tickets SET status = $3, status_changed_by = $4, status_changed_at = $5 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who hears about a ticket: its watchers (the opener and everyone who
/// commented) and the partner's NOC contacts; people deleted or
/// deactivated are left out. User ids, in order.
pub async fn ticket_audience(conn: &mut Conn, ticket_id: &str) -> Result<Vec<String>> {
    sqlx::query(
        "SELECT u.id FROM users u WHERE u.deleted_at IS NULL AND u.deactivated_at IS NULL AND ( \
           u.id IN (SELECT opened_by FROM tickets WHERE id = $1) \
           OR u.id IN (SELECT author_id FROM ticket_comments WHERE ticket_id = $1) \
           OR (u.partner_id = (SELECT partner_id FROM tickets WHERE id = $1) \
               AND EXISTS (SELECT 1 FROM user_contact_roles r WHERE r.user_id = u.id AND r.contact_role = 'noc'))) \
         ORDER BY u.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(r.try_get("id")?))
    .collect()
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

pub async fn sites_of_user(conn: &mut Conn, user_id: &str) -> Result<Vec<String>> {
    linked_keys(conn, "user_sites", "site_id", user_id).await
}

/// The site ids of every person of a partner, by user id.
pub async fn sites_of_partner_users(conn: &mut Conn, partner_id: &str) -> Result<HashMap<String, Vec<String>>> {
    linked_keys_of_partner(conn, "user_sites", "site_id", partner_id).await
}

pub async fn set_sites(conn: &mut Conn, user_id: &str, sites: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM user_sites WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for site in sites {
        link_site(conn, user_id, site).await?;
    }
    Ok(())
}

pub async fn get_site(conn: &mut Conn, id: &str) -> Result<Option<Site>> {
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

/// A person of the partner as the communications rules see them.
#[derive(Debug, Clone)]
pub struct Reachable {
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: String,
    pub contact_roles: Vec<String>,
    /// Named in the deployment survey (of the site asked about, or of any).
    pub on_survey: bool,
}

/// The partner's people (with or without sign-in) with their contact roles,
/// only those associated with `site` when one is given.
pub async fn reachable(conn: &mut Conn, partner_id: &str, site: Option<&str>) -> Result<Vec<Reachable>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.first_name, u.last_name, u.status, r.contact_role, \
           EXISTS (SELECT 1 FROM site_survey_contacts s WHERE s.user_id = u.id AND (CAST($2 AS TEXT) IS NULL OR s.site_id = CAST($2 AS TEXT))) AS on_survey \
         FROM users u LEFT JOIN user_contact_roles r ON r.user_id = u.id \
         WHERE u.partner_id = $1 AND u.deleted_at IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND us.site_id = CAST($2 AS TEXT)) \
                OR EXISTS (SELECT 1 FROM site_survey_contacts s WHERE s.user_id = u.id AND s.site_id = CAST($2 AS TEXT))) \
         ORDER BY u.full_lower, u.id, r.contact_role",
    )
    .bind(partner_id)
    .bind(site)
    .fetch_all(&mut *conn)
    .await?;
    let mut people: Vec<Reachable> = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let role: Option<String> = r.try_get("contact_role")?;
        let on_survey: bool = match r.try_get::<i64, _>("on_survey") {
            Ok(v) => v != 0,
            Err(_) => r.try_get::<bool, _>("on_survey")?,
        };
        match people.last_mut() {
            Some(last) if last.user_id == id => last.contact_roles.extend(role),
            _ => people.push(Reachable {
                user_id: id,
                email: r.try_get("email")?,
                first_name: r.try_get("first_name")?,
                last_name: r.try_get("last_name")?,
                status: r.try_get("status")?,
                contact_roles: role.into_iter().collect(),
                on_survey,
            }),
        }
    }
    Ok(people)
}

#[derive(Debug, Clone)]
pub struct Appliance {
    pub id: String,
    pub partner_id: String,
    pub site_id: String,
    pub serial: String,
    pub model: String,
    pub status: String,
    pub status_changed_by: Option<String>,
    pub status_changed_at: Option<i64>,
    pub retired_at: Option<i64>,
}

const APPLIANCE_COLUMNS: &str =
    "id, partner_id, site_id, serial, model, status, status_changed_by, status_changed_at, retired_at";

fn appliance_from_row(r: &sqlx::any::AnyRow) -> Result<Appliance> {
    Ok(Appliance {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        site_id: r.try_get("site_id")?,
        serial: r.try_get("serial")?,
        model: r.try_get("model")?,
        status: r.try_get("status")?,
        status_changed_by: r.try_get("status_changed_by")?,
        status_changed_at: r.try_get("status_changed_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

pub async fn appliances_of_partner(conn: &mut Conn, partner_id: &str) -> Result<Vec<Appliance>> {
    sqlx::query(&format!("SELECT {APPLIANCE_COLUMNS} FROM appliances WHERE partner_id = $1 ORDER BY serial"))
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(appliance_from_row)
        .collect()
}

pub async fn get_appliance(conn: &mut Conn, id: &str) -> Result<Option<Appliance>> {
    sqlx::query(&format!("SELECT {APPLIANCE_COLUMNS} FROM appliances WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(appliance_from_row)
        .transpose()
}

/// Drains an appliance or returns it to service, in its history too.
pub async fn set_appliance_status(conn: &mut Conn, id: &str, status: &str, by: &str) -> Result<()> {
    sqlx::query("UPDATE appliances SET status = $2, status_changed_by = $3, status_changed_at = $4 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(by)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    let event = if status == "drained" { "drained" } else { "undrained" };
    add_appliance_event(conn, id, event, Some(by)).await
}

#[derive(Debug, Clone)]
pub struct BgpConfig {
    pub version: i64,
    pub peer_asn: i64,
    pub neighbor_ipv4: Option<String>,
    pub neighbor_ipv6: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// Adds the next version of an appliance's BGP configuration.
pub async fn add_bgp_version(
    conn: &mut Conn,
    appliance_id: &str,
    peer_asn: i64,
    ipv4: Option<&str>,
    ipv6: Option<&str>,
    by: &str,
) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM bgp_configs WHERE appliance_id = $1")
        .bind(appliance_id)
        .fetch_one(&mut *conn)
        .await?;
    let version: i64 = row.try_get("next")?;
    sqlx::query(
        "INSERT INTO bgp_configs (id, appliance_id, version, peer_asn, neighbor_ipv4, neighbor_ipv6, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(appliance_id)
    .bind(version)
    .bind(peer_asn)
    .bind(ipv4)
    .bind(ipv6)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await
    .map_err(StoreError::on_unique("the BGP configuration changed meanwhile; try again"))?;
    Ok(version)
}

/// Newest first.
const BGP_COLUMNS: &str =
    "b.appliance_id, b.version, b.peer_asn, b.neighbor_ipv4, b.neighbor_ipv6, b.created_by, b.created_at";

fn bgp_config(r: &AnyRow) -> Result<BgpConfig> {
    Ok(BgpConfig {
        version: r.try_get("version")?,
        peer_asn: r.try_get("peer_asn")?,
        neighbor_ipv4: r.try_get("neighbor_ipv4")?,
        neighbor_ipv6: r.try_get("neighbor_ipv6")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

/// An appliance's BGP configuration versions, newest first.
pub async fn bgp_versions(conn: &mut Conn, appliance_id: &str) -> Result<Vec<BgpConfig>> {
    sqlx::query(&format!("SELECT {BGP_COLUMNS} FROM bgp_configs b WHERE b.appliance_id = $1 ORDER BY b.version DESC"))
        .bind(appliance_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(bgp_config)
        .collect()
}

/// The BGP versions of every appliance of a partner, by appliance id,
/// newest first.
pub async fn bgp_versions_of_partner(conn: &mut Conn, partner_id: &str) -> Result<HashMap<String, Vec<BgpConfig>>> {
    let rows = sqlx::query(&format!(
        "SELECT {BGP_COLUMNS} FROM bgp_configs b JOIN appliances a ON a.id = b.appliance_id \
         WHERE a.partner_id = $1 ORDER BY b.appliance_id, b.version DESC"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "appliance_id", bgp_config)
}

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: String,
    pub partner_id: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub opened_by: Option<String>,
    pub created_at: i64,
    pub site_id: Option<String>,
    pub appliance_id: Option<String>,
    pub status_changed_at: Option<i64>,
}

const TICKET_COLUMNS: &str =
    "id, partner_id, subject, body, status, opened_by, created_at, site_id, appliance_id, status_changed_at";

fn ticket_from_row(r: &sqlx::any::AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        opened_by: r.try_get("opened_by")?,
        created_at: r.try_get("created_at")?,
        site_id: r.try_get("site_id")?,
        appliance_id: r.try_get("appliance_id")?,
        status_changed_at: r.try_get("status_changed_at")?,
    })
}

pub async fn tickets_of_partner(conn: &mut Conn, partner_id: &str) -> Result<Vec<Ticket>> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE partner_id = $1 ORDER BY created_at DESC, id"))
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(ticket_from_row)
        .collect()
}

pub async fn get_ticket(conn: &mut Conn, id: &str) -> Result<Option<Ticket>> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(ticket_from_row)
        .transpose()
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub author_id: Option<String>,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

const COMMENT_COLUMNS: &str = "c.ticket_id, c.id, c.author_id, c.author, c.body, c.created_at";

fn comment(r: &AnyRow) -> Result<Comment> {
    Ok(Comment {
        id: r.try_get("id")?,
        author_id: r.try_get("author_id")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

/// A ticket's comments, oldest first.
pub async fn ticket_comments(conn: &mut Conn, ticket_id: &str) -> Result<Vec<Comment>> {
    sqlx::query(&format!(
        "SELECT {COMMENT_COLUMNS} FROM ticket_comments c WHERE c.ticket_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(comment)
    .collect()
}

/// The comments of every ticket of a partner, by ticket id, oldest first.
pub async fn comments_of_partner_tickets(conn: &mut Conn, partner_id: &str) -> Result<HashMap<String, Vec<Comment>>> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMENT_COLUMNS} FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.partner_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "ticket_id", comment)
}
