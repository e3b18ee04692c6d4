//! Appliances: registered one by one or from a CSV (all or nothing) and
//! retired by operators, drained and given BGP configuration versions by
//! the partner's portal users; listed with their history.

use starship_core::ids::{ApplianceId, PartnerId, SiteId};
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::domain::Title;
use starship_core::history::Kind;
use starship_core::portal::PortalAction;
use starship_core::{FieldError, Invalid};
use starship_store::appliances::{self, Appliance, ApplianceEvent, BgpConfig};
use starship_store::history::{self, Actor};
use starship_store::{partners, sites};

use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// Appliance self-service: drain for maintenance, or return to service.
pub async fn set_drained(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    appliance_id: &ApplianceId,
    drained: bool,
) -> OperationResult<appliances::Appliance> {
    let by = caller.person()?;
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::ApplianceSelfService, &appliance.partner_id, None)?;
    in_service(&appliance)?;
    appliances::set_appliance_status(&mut tx, &appliance.id, drained, by).await?;
    let action = if drained { Kind::ApplianceDrained } else { Kind::ApplianceUndrained };
    history::append(&mut tx, by, actor, action, json!({"appliance_id": appliance.id, "serial": appliance.serial}))
        .await?;
    let appliance = appliances::get_appliance(&mut tx, &appliance.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(appliance)
}

/// A retired appliance is drained and configured no more.
fn in_service(appliance: &appliances::Appliance) -> OperationResult<()> {
    match appliance.retired_at {
        Some(_) => Err(OperationError::Conflict(format!("appliance {} is retired", appliance.serial))),
        None => Ok(()),
    }
}

/// An appliance's serial: 1 to 64 letters, digits, '-', '_' or '.'.
fn check_serial(field: &str, serial: &str) -> Result<String, FieldError> {
    let serial = serial.trim();
    let fine = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if serial.is_empty() || serial.len() > 64 || !serial.chars().all(fine) {
        return Err(FieldError::new(field, "must be 1 to 64 letters, digits, '-', '_' or '.'"));
    }
    Ok(serial.to_string())
}

/// An appliance to register, as typed.
#[derive(Debug, Clone, Default)]
pub struct ApplianceInput {
    pub site_id: String,
    pub serial: String,
    pub model: String,
}

/// Registers one appliance at a partner's site (operators only; the
/// partner is the site's). A serial taken already is a conflict.
pub async fn register_appliance(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    input: &ApplianceInput,
) -> OperationResult<appliances::Appliance> {
    let by = caller.person()?;
    let mut tx = state.store.begin().await?;
    let site = sites::get_site(&mut tx, &SiteId::from(input.site_id.trim())).await?.ok_or(OperationError::NotFound)?;
    authz::register_appliances(caller, &site.partner_id)?;
    let (serial, model) =
        starship_core::error::both(check_serial("serial", &input.serial), Title::parse("model", &input.model))?;
    let id =
        appliances::register_appliance(&mut tx, &site.partner_id, &site.id, &serial, model.as_str(), Some(by)).await?;
    history::append(
        &mut tx,
        by,
        actor,
        Kind::ApplianceRegistered,
        json!({"appliance_id": id, "serial": serial, "site_id": site.id, "partner_id": site.partner_id}),
    )
    .await?;
    let appliance = appliances::get_appliance(&mut tx, &id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(appliance)
}

/// Registers the appliances of a CSV (columns `site`, `serial`, `model`;
/// the site by name or id) at a partner's sites: every bad row is
/// reported (`rows[N].field`, N the line in the file) and then nothing is
/// written; otherwise all of them are.
pub async fn import_appliances(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: Option<&PartnerId>,
    csv_text: &str,
) -> OperationResult<Vec<appliances::Appliance>> {
    let by = caller.person()?;
    let partner = crate::ops::users::target_partner(caller, partner_id)?;
    authz::register_appliances(caller, &partner)?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(OperationError::NotFound)?;
    let sites = sites::sites_of_partner(&mut tx, &partner).await?;
    // Forms send CRLF line ends; the rows' line numbers count LFs.
    let csv_text = csv_text.replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(csv_text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.to_lowercase()).collect(),
        Err(e) => return Err(FieldError::new("csv", format!("is not CSV: {e}")).into()),
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(site_col), Some(serial_col), Some(model_col)) = (column("site"), column("serial"), column("model"))
    else {
        return Err(FieldError::new("csv", "the first line must name the columns site, serial and model").into());
    };
    let mut errors = Vec::new();
    let mut rows: Vec<(u64, SiteId, String, String)> = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(FieldError::new(format!("rows[{line}]"), format!("is not CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let field = |name: &str| format!("rows[{line}].{name}");
        let site_text = record.get(site_col).unwrap_or("");
        let site = sites.iter().find(|s| s.id == site_text || s.name.to_lowercase() == site_text.to_lowercase());
        if site.is_none() {
            errors.push(FieldError::new(field("site"), format!("'{site_text}' is not a site of this partner")));
        }
        let serial =
            check_serial(&field("serial"), record.get(serial_col).unwrap_or("")).map_err(|e| errors.push(e)).ok();
        let model = Title::parse(&field("model"), record.get(model_col).unwrap_or("")).map_err(|e| errors.push(e)).ok();
        if let Some(serial) = &serial {
            if rows.iter().any(|(_, _, s, _)| s == serial) {
                errors.push(FieldError::new(field("serial"), format!("{serial} is on an earlier line too")));
            }
        }
        if let (Some(site), Some(serial), Some(model)) = (site, serial, model) {
            rows.push((line, site.id.clone(), serial, model.as_str().to_string()));
        }
    }
    let serials: Vec<String> = rows.iter().map(|(_, _, s, _)| s.clone()).collect();
    for taken in appliances::serials_taken(&mut tx, &serials).await? {
        if let Some((line, ..)) = rows.iter().find(|(_, _, s, _)| *s == taken) {
            errors.push(FieldError::new(format!("rows[{line}].serial"), format!("{taken} is registered already")));
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("csv", "has no appliance below its first line"));
    }
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    let mut appliances = Vec::new();
    for (_, site, serial, model) in &rows {
        let id =
            appliances::register_appliance(&mut tx, &partner, &SiteId::from(site.as_str()), serial, model, Some(by))
                .await?;
        history::append(
            &mut tx,
            by,
            actor,
            Kind::ApplianceRegistered,
            json!({"appliance_id": id, "serial": serial, "site_id": site, "partner_id": partner}),
        )
        .await?;
        appliances.push(appliances::get_appliance(&mut tx, &id).await?.ok_or(OperationError::NotFound)?);
    }
    tx.commit().await?;
    Ok(appliances)
}

/// Retires an appliance (operators only): it stays listed, retired, with
/// its history; no drain or BGP change after.
pub async fn retire_appliance(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    appliance_id: &ApplianceId,
) -> OperationResult<appliances::Appliance> {
    let by = caller.person()?;
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(OperationError::NotFound)?;
    authz::register_appliances(caller, &appliance.partner_id)?;
    if !appliances::retire_appliance(&mut tx, &appliance.id, by).await? {
        return Err(OperationError::Conflict(format!("appliance {} is retired already", appliance.serial)));
    }
    history::append(
        &mut tx,
        by,
        actor,
        Kind::ApplianceRetired,
        json!({"appliance_id": appliance.id, "serial": appliance.serial}),
    )
    .await?;
    let appliance = appliances::get_appliance(&mut tx, &appliance.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(appliance)
}

/// A BGP configuration as typed.
#[derive(Debug, Clone)]
pub struct BgpInput {
    pub peer_asn: i64,
    pub neighbor_ipv4: Option<String>,
    pub neighbor_ipv6: Option<String>,
}

/// Checks an ASN and neighbour addresses, naming every bad field.
pub fn check_bgp(input: &BgpInput) -> Result<(Option<Ipv4Addr>, Option<Ipv6Addr>), Invalid> {
    let mut errors = Vec::new();
    // 0, AS_TRANS, the last 16- and 32-bit numbers and the documentation ranges are not peers.
    let reserved = [0, 23456, 65535, 4_294_967_295];
    let documentation = (64496..=64511).contains(&input.peer_asn) || (65536..=65551).contains(&input.peer_asn);
    if !(1..=4_294_967_294).contains(&input.peer_asn) || reserved.contains(&input.peer_asn) || documentation {
        errors.push(FieldError::new(
            "peer_asn",
            "must be a usable AS number (1–4294967294, not reserved or for documentation)",
        ));
    }
    let v4 = match input.neighbor_ipv4.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<Ipv4Addr>() {
            Ok(ip) if !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast()) => Some(ip),
            Ok(_) => {
                errors.push(FieldError::new("neighbor_ipv4", "must be a unicast address"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("neighbor_ipv4", format!("'{text}' is not an IPv4 address")));
                None
            }
        },
    };
    let v6 = match input.neighbor_ipv6.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<Ipv6Addr>() {
            Ok(ip) if !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast()) => Some(ip),
            Ok(_) => {
                errors.push(FieldError::new("neighbor_ipv6", "must be a unicast address"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new("neighbor_ipv6", format!("'{text}' is not an IPv6 address")));
                None
            }
        },
    };
    if input.neighbor_ipv4.as_deref().is_none_or(|s| s.trim().is_empty())
        && input.neighbor_ipv6.as_deref().is_none_or(|s| s.trim().is_empty())
    {
        errors.push(FieldError::new("neighbor_ipv4", "give an IPv4 or an IPv6 neighbour address"));
    }
    if errors.is_empty() {
        Ok((v4, v6))
    } else {
        Err(Invalid(errors))
    }
}

/// Saves a new version of an appliance's BGP configuration; earlier
/// versions stay readable.
pub async fn update_bgp(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    appliance_id: &ApplianceId,
    input: &BgpInput,
) -> OperationResult<i64> {
    let by = caller.person()?;
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::ApplianceSelfService, &appliance.partner_id, None)?;
    in_service(&appliance)?;
    let (v4, v6) = check_bgp(input)?;
    let (v4, v6) = (v4.map(|ip| ip.to_string()), v6.map(|ip| ip.to_string()));
    let version =
        appliances::add_bgp_version(&mut tx, &appliance.id, input.peer_asn, v4.as_deref(), v6.as_deref(), by).await?;
    let details = json!({"appliance_id": appliance.id, "serial": appliance.serial, "version": version, "peer_asn": input.peer_asn, "neighbor_ipv4": v4, "neighbor_ipv6": v6});
    history::append(&mut tx, by, actor, Kind::ApplianceBgpChanged, details).await?;
    tx.commit().await?;
    Ok(version)
}

/// An appliance with its BGP configuration versions (newest first) and
/// its history (registered, drained, back in service, retired; oldest first).
pub struct ListedAppliance {
    pub appliance: Appliance,
    pub versions: Vec<BgpConfig>,
    pub events: Vec<ApplianceEvent>,
}

/// A partner's appliances: shown to every portal level.
pub async fn appliances(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<ListedAppliance>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut tx = state.store.begin_read().await?;
    let appliances = appliances::appliances_of_partner(&mut tx, partner_id).await?;
    let mut versions = appliances::bgp_versions_of_partner(&mut tx, partner_id).await?;
    let mut events = appliances::appliance_events_of_partner(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(appliances
        .into_iter()
        .map(|appliance| ListedAppliance {
            versions: versions.remove(&appliance.id).unwrap_or_default(),
            events: events.remove(&appliance.id).unwrap_or_default(),
            appliance,
        })
        .collect())
}

/// One appliance the caller may see.
pub async fn appliance(state: &AppState, caller: &Principal, appliance_id: &ApplianceId) -> OperationResult<Appliance> {
    let mut conn = state.store.conn().await?;
    let appliance = appliances::get_appliance(&mut conn, appliance_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &appliance.partner_id, None)?;
    Ok(appliance)
}

/// One appliance's BGP configuration versions, newest first.
pub async fn bgp_versions(
    state: &AppState,
    caller: &Principal,
    appliance_id: &ApplianceId,
) -> OperationResult<Vec<BgpConfig>> {
    let mut conn = state.store.conn().await?;
    let appliance = appliances::get_appliance(&mut conn, appliance_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &appliance.partner_id, None)?;
    Ok(appliances::bgp_versions(&mut conn, &appliance.id).await?)
}
