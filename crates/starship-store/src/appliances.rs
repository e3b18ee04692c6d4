//! Appliances: registered at a partner's site, drained, retired, with
//! their history (`appliance_events`) and their BGP configuration versions.

use starship_core::ids::{ApplianceId, PartnerId, SiteId, UserId};
use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use starship_core::portal::ApplianceStatus;

use crate::{grouped, new_id, now_millis, Conn, Result, StoreError};

#[derive(Debug, Clone)]
pub struct Appliance {
    pub id: ApplianceId,
    pub partner_id: PartnerId,
    pub site_id: SiteId,
    pub serial: String,
    pub model: String,
    /// Retired once `retired_at` is set, whatever it was before.
    pub status: ApplianceStatus,
    pub status_changed_by: Option<UserId>,
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
        status: match (r.try_get::<Option<i64>, _>("retired_at")?, r.try_get::<String, _>("status")?) {
            (Some(_), _) => ApplianceStatus::Retired,
            (None, status) => ApplianceStatus::parse(&status)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown appliance status {status}").into()))?,
        },
        status_changed_by: r.try_get("status_changed_by")?,
        status_changed_at: r.try_get("status_changed_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

pub async fn appliances_of_partner(conn: &mut Conn, partner_id: &PartnerId) -> Result<Vec<Appliance>> {
    sqlx::query(&format!("SELECT {APPLIANCE_COLUMNS} FROM appliances WHERE partner_id = $1 ORDER BY serial"))
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(appliance_from_row)
        .collect()
}

pub async fn get_appliance(conn: &mut Conn, id: &ApplianceId) -> Result<Option<Appliance>> {
    sqlx::query(&format!("SELECT {APPLIANCE_COLUMNS} FROM appliances WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(appliance_from_row)
        .transpose()
}

pub async fn insert_appliance(
    conn: &mut Conn,
    partner_id: &PartnerId,
    site_id: &SiteId,
    serial: &str,
    model: &str,
) -> Result<ApplianceId> {
    register_appliance(conn, partner_id, site_id, serial, model, None).await
}

/// Registers an appliance at a site, in service; its history starts with
/// the registration.
pub async fn register_appliance(
    conn: &mut Conn,
    partner_id: &PartnerId,
    site_id: &SiteId,
    serial: &str,
    model: &str,
    by: Option<&UserId>,
) -> Result<ApplianceId> {
    let id = ApplianceId::from(new_id());
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
pub async fn add_appliance_event(
    conn: &mut Conn,
    appliance_id: &ApplianceId,
    event: &str,
    by: Option<&UserId>,
) -> Result<()> {
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
    partner_id: &PartnerId,
) -> Result<HashMap<ApplianceId, Vec<ApplianceEvent>>> {
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
pub async fn retire_appliance(conn: &mut Conn, id: &ApplianceId, by: &UserId) -> Result<bool> {
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

/// Drains an appliance or returns it to service, in its history too.
pub async fn set_appliance_status(conn: &mut Conn, id: &ApplianceId, drained: bool, by: &UserId) -> Result<()> {
    let status = if drained { ApplianceStatus::Drained } else { ApplianceStatus::Serving };
    sqlx::query("UPDATE appliances SET status = $2, status_changed_by = $3, status_changed_at = $4 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(by)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    let event = if drained { "drained" } else { "undrained" };
    add_appliance_event(conn, id, event, Some(by)).await
}

#[derive(Debug, Clone)]
pub struct BgpConfig {
    pub version: i64,
    pub peer_asn: i64,
    pub neighbor_ipv4: Option<String>,
    pub neighbor_ipv6: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// Adds the next version of an appliance's BGP configuration.
pub async fn add_bgp_version(
    conn: &mut Conn,
    appliance_id: &ApplianceId,
    peer_asn: i64,
    ipv4: Option<&str>,
    ipv6: Option<&str>,
    by: &UserId,
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
pub async fn bgp_versions(conn: &mut Conn, appliance_id: &ApplianceId) -> Result<Vec<BgpConfig>> {
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
pub async fn bgp_versions_of_partner(
    conn: &mut Conn,
    partner_id: &PartnerId,
) -> Result<HashMap<ApplianceId, Vec<BgpConfig>>> {
    let rows = sqlx::query(&format!(
        "SELECT {BGP_COLUMNS} FROM bgp_configs b JOIN appliances a ON a.id = b.appliance_id \
         WHERE a.partner_id = $1 ORDER BY b.appliance_id, b.version DESC"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "appliance_id", bgp_config)
}
