//! The Partner Portal: invitations, access, permission levels, contact
//! details, appliances, tickets and communications, under the portal
//! matrix in `starship_core::portal`. Shared by the API and the pages.

use starship_core::history::Kind;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::catalogue::{keys, RoleRef};
use starship_core::communications::{self, Communication};
use starship_core::domain::{Email, Title, UserStatus};
use starship_core::portal::{PortalAction, PortalLevel, Standing, TicketStatus};
use starship_core::{FieldError, Invalid};
use starship_store::communications::{reachable, Reachable};
use starship_store::history::{self, Actor};
use starship_store::outbox;
use starship_store::users::{self, User};
use starship_store::{appliances, contacts, grants, now_millis, partners, sessions, sites, tickets, Conn};

use crate::email;
use crate::ops::people::visible_user;
use crate::ops::ACTIVATION;
use crate::problem::{ApiError, ApiResult};
use crate::security::{new_secret, secret_hash};
use crate::state::AppState;

fn owner(user: &User) -> &str {
    user.partner_id.as_deref().unwrap_or("")
}

/// Replaces a person's portal level (or removes it).
async fn put_level(conn: &mut Conn, user: &User, level: Option<PortalLevel>, by: &str) -> ApiResult<()> {
    users::revoke_application_roles(conn, &user.id, keys::PARTNER_PORTAL).await?;
    if let Some(level) = level {
        let role =
            RoleRef { application: keys::PARTNER_PORTAL.into(), role: level.role_key().into(), production: None };
        grants::grant(conn, &user.id, &role, Some(by)).await?;
    }
    Ok(())
}

/// Invites a contact to the portal: a single-use, expiring link by email
/// that replaces any earlier one, and the permission level to have.
pub async fn invite(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &str,
    level: Option<PortalLevel>,
) -> ApiResult<User> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let level = level.unwrap_or(PortalLevel::ReadOnly);
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::set_portal_level(caller, owner(&user), (&user.id, standing), level))?;
    if user.status == UserStatus::Active {
        return Err(ApiError::Conflict("this person can sign in already".into()));
    }
    users::set_status(&mut tx, &user.id, UserStatus::Pending).await?;
    put_level(&mut tx, &user, Some(level), &caller.user_id).await?;
    let partner = partners::get(&mut tx, owner(&user)).await?.ok_or(ApiError::NotFound)?;
    let token = new_secret("");
    let expires_at = now_millis() + state.config.activation_ttl.as_millis() as i64;
    outbox::insert_link(&mut tx, &secret_hash(&token), &user.id, ACTIVATION, expires_at).await?;
    let link = format!("{}/activate?token={token}", state.config.public_url);
    let mail = email::invitation(
        &user.locale,
        &user.first_name,
        &partner.name,
        &link,
        state.config.activation_ttl.as_secs() / 3600,
    );
    outbox::enqueue(&mut tx, &mail.to(&user, "invitation")).await?;
    history::append(&mut tx, &user.id, actor, Kind::PortalInvited, json!({"level": level})).await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

/// Loads a person the caller administers, under the portal matrix and the
/// rule for acting on a person; never oneself (`self_refusal` says why).
async fn administered(
    conn: &mut Conn,
    caller: &Principal,
    user_id: &str,
    self_refusal: &'static str,
) -> ApiResult<User> {
    let user = visible_user(conn, caller, user_id).await?;
    let held = users::principal(conn, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(
        caller,
        &held,
        authz::portal(caller, PortalAction::UserAdministration, owner(&user), Some((&user.id, standing))),
    )?;
    if user.id == caller.user_id {
        return Err(ApiError::Forbidden(self_refusal));
    }
    Ok(user)
}

/// Ends a person's sign-in at once (sessions, tokens, pending links); the
/// contact and its History stay.
pub async fn revoke_access(state: &AppState, caller: &Principal, actor: &Actor, user_id: &str) -> ApiResult<User> {
    let mut tx = state.store.begin().await?;
    let user = administered(&mut tx, caller, user_id, "you cannot revoke your own access").await?;
    end_access(&mut tx, &user).await?;
    let level = PortalLevel::of(&users::roles_of(&mut tx, &user.id).await?);
    history::append(&mut tx, &user.id, actor, Kind::PortalAccessRevoked, json!({"level": level})).await?;
    put_level(&mut tx, &user, None, &caller.user_id).await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

async fn end_access(conn: &mut Conn, user: &User) -> ApiResult<()> {
    users::set_status(conn, &user.id, UserStatus::Contact).await?;
    sessions::end_all_for_user(conn, &user.id).await?;
    outbox::void_links(conn, &user.id).await?;
    Ok(())
}

/// Changes a portal user's permission level.
pub async fn set_level(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &str,
    level: PortalLevel,
) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::set_portal_level(caller, owner(&user), (&user.id, standing), level))?;
    if standing == Standing::NoAccess {
        return Err(ApiError::Conflict("a contact without portal access gets a level with an invitation".into()));
    }
    let before = match standing {
        Standing::User(l) => Some(l),
        Standing::NoAccess => None,
    };
    put_level(&mut tx, &user, Some(level), &caller.user_id).await?;
    history::append(&mut tx, &user.id, actor, Kind::PortalLevelChanged, json!({"from": before, "to": level})).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a contact: gone from lists and sign-in; History stays.
pub async fn delete_contact(state: &AppState, caller: &Principal, actor: &Actor, user_id: &str) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    let user = administered(&mut tx, caller, user_id, "you cannot delete yourself").await?;
    delete_in(&mut tx, &user, actor).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a person whom the caller's rule allowed deleting, in the
/// caller's transaction: gone from lists and sign-in; History stays.
pub(crate) async fn delete_in(tx: &mut Conn, user: &User, actor: &Actor) -> ApiResult<()> {
    if !users::mark_deleted(tx, &user.id).await? {
        return Err(ApiError::NotFound);
    }
    end_access(tx, user).await?;
    history::append(tx, &user.id, actor, Kind::ContactDeleted, json!({"email": user.email})).await?;
    Ok(())
}

/// Contact details beyond the profile: roles and sites.
#[derive(Debug, Clone, Default)]
pub struct ContactEdit {
    pub contact_roles: Option<Vec<String>>,
    pub sites: Option<Vec<String>>,
}

pub async fn edit_contact(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &str,
    edit: &ContactEdit,
) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::edit_contact_links(caller, owner(&user), (&user.id, standing)))?;
    let mut errors = Vec::new();
    if let Some(roles) = &edit.contact_roles {
        for (i, role) in roles.iter().enumerate() {
            if !state.catalogue.contact_roles.iter().any(|r| &r.key == role) {
                errors.push(FieldError::new(format!("contact_roles[{i}]"), format!("unknown contact role '{role}'")));
            }
        }
    }
    if let Some(sites) = &edit.sites {
        let partner_sites = sites::sites_of_partner(&mut tx, owner(&user)).await?;
        for (i, site) in sites.iter().enumerate() {
            if !partner_sites.iter().any(|s| &s.id == site) {
                errors.push(FieldError::new(format!("sites[{i}]"), "no such site of this partner"));
            }
        }
    }
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    let mut changed = serde_json::Map::new();
    if let Some(roles) = &edit.contact_roles {
        let before = contacts::contact_roles_of(&mut tx, &user.id).await?;
        contacts::set_contact_roles(&mut tx, &user.id, roles).await?;
        changed.insert("contact_roles".into(), json!({"from": before, "to": roles}));
    }
    if let Some(sites) = &edit.sites {
        let before = sites::sites_of_user(&mut tx, &user.id).await?;
        sites::set_sites(&mut tx, &user.id, sites).await?;
        changed.insert("sites".into(), json!({"from": before, "to": sites}));
    }
    if !changed.is_empty() {
        history::append(&mut tx, &user.id, actor, Kind::ContactUpdated, serde_json::Value::Object(changed)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Asks to change an email address: nothing changes until the new address
/// confirms through the link sent to it; the old address is told.
pub async fn request_email_change(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &str,
    new_email: &str,
) -> ApiResult<()> {
    let email = Email::parse("email", new_email)?;
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(
        caller,
        &held,
        authz::edit_details(caller, &state.catalogue, (&user.id, owner(&user)), standing),
    )?;
    if email.normalized() == user.email.to_lowercase() {
        return Err(FieldError::new("email", "is the current address").into());
    }
    if users::get_by_email(&mut tx, &email).await?.is_some() {
        return Err(ApiError::Conflict(users::EMAIL_TAKEN.into()));
    }
    let token = new_secret("");
    let expires_at = now_millis() + state.config.activation_ttl.as_millis() as i64;
    outbox::insert_email_change(&mut tx, &secret_hash(&token), &user.id, email.as_str(), expires_at).await?;
    let link = format!("{}/confirm-email?token={token}", state.config.public_url);
    let confirm = email::confirm_email(&user.locale, &user.first_name, &link);
    let notice = email::email_change_notice(&user.locale, &user.first_name, email.as_str());
    outbox::enqueue_many(
        &mut tx,
        &[confirm.to_address(&user, email.as_str(), "email-confirmation"), notice.to(&user, "email-change-notice")],
    )
    .await?;
    history::append(
        &mut tx,
        &user.id,
        actor,
        Kind::EmailChangeRequested,
        json!({"from": user.email, "to": email.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms a new address from the link sent to it.
pub async fn confirm_email(state: &AppState, token: &str, source: starship_store::history::Source) -> ApiResult<User> {
    let mut tx = state.store.begin().await?;
    let invalid = || FieldError::new("token", "this link is not valid: it was used or replaced, or it has expired");
    let (user_id, new_email) =
        outbox::use_email_change(&mut tx, &secret_hash(token.trim())).await?.ok_or_else(invalid)?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(invalid)?;
    let email = Email::parse("email", &new_email)?;
    crate::ops::people::apply_email_change(&mut tx, state, &user, &email, &Actor::user(&user.id, &user.email, source))
        .await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or_else(invalid)?;
    tx.commit().await?;
    Ok(user)
}

/// Appliance self-service: drain for maintenance, or return to service.
pub async fn set_drained(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    appliance_id: &str,
    drained: bool,
) -> ApiResult<appliances::Appliance> {
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::ApplianceSelfService, &appliance.partner_id, None)?;
    in_service(&appliance)?;
    let status = if drained { "drained" } else { "serving" };
    appliances::set_appliance_status(&mut tx, &appliance.id, status, &caller.user_id).await?;
    let action = if drained { Kind::ApplianceDrained } else { Kind::ApplianceUndrained };
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        action,
        json!({"appliance_id": appliance.id, "serial": appliance.serial}),
    )
    .await?;
    let appliance = appliances::get_appliance(&mut tx, &appliance.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(appliance)
}

/// A retired appliance is drained and configured no more.
fn in_service(appliance: &appliances::Appliance) -> ApiResult<()> {
    match appliance.retired_at {
        Some(_) => Err(ApiError::Conflict(format!("appliance {} is retired", appliance.serial))),
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
) -> ApiResult<appliances::Appliance> {
    let mut tx = state.store.begin().await?;
    let site = sites::get_site(&mut tx, input.site_id.trim()).await?.ok_or(ApiError::NotFound)?;
    authz::register_appliances(caller, &site.partner_id)?;
    let (serial, model) =
        starship_core::error::both(check_serial("serial", &input.serial), Title::parse("model", &input.model))?;
    let id = appliances::register_appliance(
        &mut tx,
        &site.partner_id,
        &site.id,
        &serial,
        model.as_str(),
        Some(&caller.user_id),
    )
    .await?;
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        Kind::ApplianceRegistered,
        json!({"appliance_id": id, "serial": serial, "site_id": site.id, "partner_id": site.partner_id}),
    )
    .await?;
    let appliance = appliances::get_appliance(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
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
    partner_id: Option<&str>,
    csv_text: &str,
) -> ApiResult<Vec<appliances::Appliance>> {
    let partner = crate::ops::people::target_partner(caller, partner_id)?;
    authz::register_appliances(caller, &partner)?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(ApiError::NotFound)?;
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
    let mut rows: Vec<(u64, String, String, String)> = Vec::new();
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
        let id = appliances::register_appliance(&mut tx, &partner, site, serial, model, Some(&caller.user_id)).await?;
        history::append(
            &mut tx,
            &caller.user_id,
            actor,
            Kind::ApplianceRegistered,
            json!({"appliance_id": id, "serial": serial, "site_id": site, "partner_id": partner}),
        )
        .await?;
        appliances.push(appliances::get_appliance(&mut tx, &id).await?.ok_or(ApiError::NotFound)?);
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
    appliance_id: &str,
) -> ApiResult<appliances::Appliance> {
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(ApiError::NotFound)?;
    authz::register_appliances(caller, &appliance.partner_id)?;
    if !appliances::retire_appliance(&mut tx, &appliance.id, &caller.user_id).await? {
        return Err(ApiError::Conflict(format!("appliance {} is retired already", appliance.serial)));
    }
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        Kind::ApplianceRetired,
        json!({"appliance_id": appliance.id, "serial": appliance.serial}),
    )
    .await?;
    let appliance = appliances::get_appliance(&mut tx, &appliance.id).await?.ok_or(ApiError::NotFound)?;
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

/// Adds a site to a partner: operators name the partner, a portal admin
/// adds to their own.
pub async fn add_site(
    state: &AppState,
    caller: &Principal,
    partner_id: Option<&str>,
    name: &str,
    location: &str,
) -> ApiResult<sites::Site> {
    let partner = crate::ops::people::target_partner(caller, partner_id)?;
    authz::add_site(caller, &partner)?;
    let (name, location) = starship_core::error::both(Title::parse("name", name), Title::parse("location", location))?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(ApiError::NotFound)?;
    let site = sites::insert_site(&mut tx, &partner, name.as_str(), location.as_str()).await?;
    tx.commit().await?;
    Ok(site)
}

/// Renames a site or changes its location (operators, and the partner's
/// portal admins).
pub async fn edit_site(
    state: &AppState,
    caller: &Principal,
    site_id: &str,
    name: &str,
    location: &str,
) -> ApiResult<sites::Site> {
    let mut tx = state.store.begin().await?;
    let site = sites::get_site(&mut tx, site_id).await?.ok_or(ApiError::NotFound)?;
    authz::add_site(caller, &site.partner_id)?;
    let (name, location) = starship_core::error::both(Title::parse("name", name), Title::parse("location", location))?;
    sites::update_site(&mut tx, &site.id, name.as_str(), location.as_str()).await?;
    let site = sites::get_site(&mut tx, &site.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(site)
}

/// Saves a new version of an appliance's BGP configuration; earlier
/// versions stay readable.
pub async fn update_bgp(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    appliance_id: &str,
    input: &BgpInput,
) -> ApiResult<i64> {
    let mut tx = state.store.begin().await?;
    let appliance = appliances::get_appliance(&mut tx, appliance_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::ApplianceSelfService, &appliance.partner_id, None)?;
    in_service(&appliance)?;
    let (v4, v6) = check_bgp(input)?;
    let (v4, v6) = (v4.map(|ip| ip.to_string()), v6.map(|ip| ip.to_string()));
    let version = appliances::add_bgp_version(
        &mut tx,
        &appliance.id,
        input.peer_asn,
        v4.as_deref(),
        v6.as_deref(),
        &caller.user_id,
    )
    .await?;
    let details = json!({"appliance_id": appliance.id, "serial": appliance.serial, "version": version, "peer_asn": input.peer_asn, "neighbor_ipv4": v4, "neighbor_ipv6": v6});
    history::append(&mut tx, &caller.user_id, actor, Kind::ApplianceBgpChanged, details).await?;
    tx.commit().await?;
    Ok(version)
}

/// A ticket's body or comment: 1 to 10,000 characters once trimmed.
fn ticket_text(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 10_000 {
        return Err(FieldError::new(field, "must be between 1 and 10000 characters"));
    }
    Ok(text.to_string())
}

/// Queues the email about a ticket's news to its watchers (opener and
/// commenters) and the partner's NOC contacts, except the one who acted.
async fn tell_ticket_audience(
    conn: &mut Conn,
    state: &AppState,
    ticket: &tickets::Ticket,
    caller: &Principal,
    by: &str,
    news: &email::TicketNews<'_>,
) -> ApiResult<()> {
    let link = format!("{}/portal/tickets/{}", state.config.public_url, ticket.id);
    let audience: Vec<String> =
        tickets::ticket_audience(conn, &ticket.id).await?.into_iter().filter(|id| *id != caller.user_id).collect();
    let mails: Vec<_> = users::get_many(conn, &audience)
        .await?
        .into_iter()
        .map(|person| {
            let mail = email::ticket_news(&person.locale, &person.first_name, &ticket.subject, by, news, &link);
            (person, mail)
        })
        .collect();
    let messages: Vec<_> = mails.iter().map(|(person, mail)| mail.to(person, "ticket")).collect();
    outbox::enqueue_many(conn, &messages).await?;
    Ok(())
}

/// A ticket as asked for: operators name the partner.
#[derive(Debug, Clone, Default)]
pub struct TicketInput {
    pub partner_id: Option<String>,
    pub subject: String,
    pub body: String,
    pub site_id: Option<String>,
    pub appliance_id: Option<String>,
}

/// Opens a ticket (every portal level, and operators for a partner); a
/// site or appliance named must be the partner's. Its watchers start with
/// the opener; the partner's NOC contacts are told.
pub async fn open_ticket(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    input: &TicketInput,
) -> ApiResult<tickets::Ticket> {
    let partner = crate::ops::people::target_partner(caller, input.partner_id.as_deref())?;
    authz::portal(caller, PortalAction::Tickets, &partner, None)?;
    let (subject, body) =
        starship_core::error::both(Title::parse("subject", &input.subject), ticket_text("body", &input.body))?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(ApiError::NotFound)?;
    let site_id = input.site_id.as_deref().filter(|s| !s.is_empty());
    let appliance_id = input.appliance_id.as_deref().filter(|s| !s.is_empty());
    if let Some(site) = site_id {
        let found = sites::get_site(&mut tx, site).await?;
        if found.is_none_or(|s| s.partner_id != partner) {
            return Err(ApiError::NotFound);
        }
    }
    if let Some(appliance) = appliance_id {
        let found = appliances::get_appliance(&mut tx, appliance).await?.ok_or(ApiError::NotFound)?;
        if found.partner_id != partner {
            return Err(ApiError::NotFound);
        }
        if site_id.is_some_and(|site| site != found.site_id) {
            return Err(FieldError::new("appliance_id", "this appliance is at another site").into());
        }
    }
    let new = tickets::NewTicket {
        partner_id: &partner,
        subject: subject.as_str(),
        body: &body,
        site_id,
        appliance_id,
        opened_by: Some(&caller.user_id),
    };
    let id = tickets::open_ticket(&mut tx, &new).await?;
    let ticket = tickets::get_ticket(&mut tx, &id).await?.ok_or(ApiError::NotFound)?;
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        Kind::TicketOpened,
        json!({"ticket_id": id, "partner_id": partner, "subject": ticket.subject}),
    )
    .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, &actor.label, &email::TicketNews::Opened { body: &body })
        .await?;
    tx.commit().await?;
    Ok(ticket)
}

/// Moves a ticket to another status (operators and the partner's portal
/// admins), along the transitions `TicketStatus::next` allows.
pub async fn set_ticket_status(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    ticket_id: &str,
    to: TicketStatus,
) -> ApiResult<tickets::Ticket> {
    let mut tx = state.store.begin().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::TicketStatus, &ticket.partner_id, None)?;
    let from = TicketStatus::parse(&ticket.status)
        .ok_or_else(|| ApiError::Conflict(format!("the ticket has an unknown status '{}'", ticket.status)))?;
    if !from.may_become(to) {
        return Err(ApiError::Conflict(format!(
            "a ticket that is {} cannot become {}",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    if !tickets::set_ticket_status(&mut tx, &ticket.id, from.as_str(), to.as_str(), &caller.user_id).await? {
        return Err(ApiError::Conflict("the ticket changed meanwhile; reload it".into()));
    }
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        Kind::TicketStatusChanged,
        json!({"ticket_id": ticket.id, "from": from, "to": to}),
    )
    .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, &actor.label, &email::TicketNews::StatusChanged { from, to })
        .await?;
    let ticket = tickets::get_ticket(&mut tx, &ticket.id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(ticket)
}

/// Comments on a ticket (every portal level); the commenter watches it
/// from then on, and the watchers and NOC contacts are told.
pub async fn comment_on_ticket(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    author_email: &str,
    ticket_id: &str,
    body: &str,
) -> ApiResult<String> {
    let text = ticket_text("body", body)?;
    let mut tx = state.store.begin().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &ticket.partner_id, None)?;
    let id = tickets::insert_ticket_comment(&mut tx, &ticket.id, Some(&caller.user_id), author_email, &text).await?;
    history::append(
        &mut tx,
        &caller.user_id,
        actor,
        Kind::TicketCommented,
        json!({"ticket_id": ticket.id, "comment_id": id}),
    )
    .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, author_email, &email::TicketNews::Commented { body: &text })
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Who a communication reaches among a partner's people (contacts without
/// sign-in count), optionally only at one site.
pub async fn recipients(
    state: &AppState,
    caller: &Principal,
    kind: &str,
    partner_id: &str,
    site: Option<&str>,
) -> ApiResult<Vec<Reachable>> {
    let communication = Communication::parse(kind).ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut conn = state.store.conn().await?;
    if let Some(site) = site {
        let found = sites::get_site(&mut conn, site).await?;
        if found.is_none_or(|s| s.partner_id != partner_id) {
            return Err(FieldError::new("site", "no such site of this partner").into());
        }
    }
    let people = reachable(&mut conn, partner_id, site).await?;
    Ok(people.into_iter().filter(|p| communications::reaches(communication, &p.contact_roles, p.on_survey)).collect())
}
