//! Contacts and the portal access of people: invitations, revoking
//! access, permission levels, deletion, contact roles and sites, under the
//! portal matrix in `starship_core::portal`; and what the portal lists of
//! them, behind the rule that shows it.

use serde_json::json;
use starship_core::authz::{self, Denied, Principal};
use starship_core::domain::UserStatus;
use starship_core::history::Kind;
use starship_core::ids::{PartnerId, UserId};
use starship_core::portal::{PortalAction, PortalLevel, Standing};
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor};
use starship_store::outbox;
use starship_store::users::{self, User};
use starship_store::{contacts, grants, now_millis, partners, sessions, sites, Conn};

use crate::email;
use crate::ops::users::visible_user;
use crate::ops::ACTIVATION;
use crate::ops::{OperationError, OperationResult};
use crate::security::{new_secret, secret_hash};
use crate::state::AppState;

/// Invites a contact to the portal: a single-use, expiring link by email
/// that replaces any earlier one, and the permission level to have.
pub async fn invite(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    level: Option<PortalLevel>,
) -> OperationResult<User> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let level = level.unwrap_or(PortalLevel::ReadOnly);
    let standing = Standing::of_account(user.status, &held.roles);
    let permit = authz::act_on_person(
        caller,
        &held,
        authz::set_portal_level(caller, user.partner(), (&user.id, standing), level),
    )?;
    if user.status == UserStatus::Active {
        return Err(OperationError::Conflict("this person can sign in already".into()));
    }
    users::set_status(&mut tx, &user.id, UserStatus::Pending).await?;
    grants::set_portal_access(&mut tx, &user.id, &permit, caller.acting_user()).await?;
    let partner = partners::get(&mut tx, user.partner()).await?.ok_or(OperationError::NotFound)?;
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
    let user = users::get(&mut tx, &user.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

/// Loads a person the caller administers, under the portal matrix and the
/// rule for acting on a person; never oneself (`self_refusal` says why).
async fn administered<P>(
    conn: &mut Conn,
    caller: &Principal,
    user_id: &UserId,
    self_refusal: &'static str,
    rule: impl FnOnce(&PartnerId, (&UserId, Standing)) -> Result<P, Denied>,
) -> OperationResult<(User, P)> {
    let user = visible_user(conn, caller, user_id).await?;
    let held = users::principal(conn, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    let allowed = authz::act_on_person(caller, &held, rule(user.partner(), (&user.id, standing)))?;
    if caller.is(&user.id) {
        return Err(OperationError::Forbidden(self_refusal));
    }
    Ok((user, allowed))
}

/// The matrix's user administration of a person, for what needs no permit.
fn user_administration(caller: &Principal) -> impl FnOnce(&PartnerId, (&UserId, Standing)) -> authz::Decision + '_ {
    move |partner, target| authz::portal(caller, PortalAction::UserAdministration, partner, Some(target))
}

/// Ends a person's sign-in at once (sessions, tokens, pending links); the
/// contact and its History stay.
pub async fn revoke_access(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
) -> OperationResult<User> {
    let mut tx = state.store.begin().await?;
    let (user, permit) =
        administered(&mut tx, caller, user_id, "you cannot revoke your own access", |partner, target| {
            authz::revoke_portal_access(caller, partner, target)
        })
        .await?;
    end_access(&mut tx, &user).await?;
    // The level held is the one the change just took away: no second read.
    let (before, _) = grants::set_portal_access(&mut tx, &user.id, &permit, caller.acting_user()).await?;
    let level = PortalLevel::highest(before.iter().map(|key| key.as_str()));
    history::append(&mut tx, &user.id, actor, Kind::PortalAccessRevoked, json!({"level": level})).await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

async fn end_access(conn: &mut Conn, user: &User) -> OperationResult<()> {
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
    user_id: &UserId,
    level: PortalLevel,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    let permit = authz::act_on_person(
        caller,
        &held,
        authz::set_portal_level(caller, user.partner(), (&user.id, standing), level),
    )?;
    if standing == Standing::NoAccess {
        return Err(OperationError::Conflict("a contact without portal access gets a level with an invitation".into()));
    }
    let before = match standing {
        Standing::User(l) => Some(l),
        Standing::NoAccess => None,
    };
    grants::set_portal_access(&mut tx, &user.id, &permit, caller.acting_user()).await?;
    history::append(&mut tx, &user.id, actor, Kind::PortalLevelChanged, json!({"from": before, "to": level})).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a contact: gone from lists and sign-in; History stays.
pub async fn delete_contact(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let (user, ()) =
        administered(&mut tx, caller, user_id, "you cannot delete yourself", user_administration(caller)).await?;
    delete_in(&mut tx, &user, actor).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a person whom the caller's rule allowed deleting, in the
/// caller's transaction: gone from lists and sign-in; History stays.
pub(crate) async fn delete_in(tx: &mut Conn, user: &User, actor: &Actor) -> OperationResult<()> {
    if !users::mark_deleted(tx, &user.id).await? {
        return Err(OperationError::NotFound);
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
    user_id: &UserId,
    edit: &ContactEdit,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::edit_contact_links(caller, user.partner(), (&user.id, standing)))?;
    let mut errors = Vec::new();
    if let Some(roles) = &edit.contact_roles {
        for (i, role) in roles.iter().enumerate() {
            if !state.catalogue.contact_roles.iter().any(|r| &r.key == role) {
                errors.push(FieldError::new(format!("contact_roles[{i}]"), format!("unknown contact role '{role}'")));
            }
        }
    }
    if let Some(sites) = &edit.sites {
        let partner_sites = sites::sites_of_partner(&mut tx, user.partner()).await?;
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

/// A contact or portal user, with where they stand in the portal.
pub struct ContactRow {
    pub user: User,
    pub standing: Standing,
    pub level: Option<PortalLevel>,
    pub contact_roles: Vec<String>,
    /// Site ids.
    pub sites: Vec<String>,
}

/// Every contact and portal user of a partner, in name order. Each aspect
/// (roles, contact roles, sites) is one query for the whole list, however
/// many people the partner has.
pub async fn contacts(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<ContactRow>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut tx = state.store.begin_read().await?;
    let mut roles = users::roles_of_partner_users(&mut tx, partner_id).await?;
    let mut contact_roles = contacts::contact_roles_of_partner(&mut tx, partner_id).await?;
    let mut sites = sites::sites_of_partner_users(&mut tx, partner_id).await?;
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = users::page_of_partner(&mut tx, partner_id, after.as_deref(), None, 500).await?;
        let done = page.len() < 500;
        after = page.last().map(|u| u.id.to_string());
        for user in page {
            let roles = roles.remove(&user.id).unwrap_or_default();
            rows.push(ContactRow {
                standing: Standing::of_account(user.status, &roles),
                level: PortalLevel::of(&roles),
                contact_roles: contact_roles.remove(&user.id).unwrap_or_default(),
                sites: sites.remove(&user.id).unwrap_or_default(),
                user,
            });
        }
        if done {
            tx.commit().await?;
            return Ok(rows);
        }
    }
}

/// One person the caller may see, as a contact.
pub async fn contact(state: &AppState, caller: &Principal, user_id: &UserId) -> OperationResult<ContactRow> {
    let mut tx = state.store.begin_read().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let roles = users::roles_of(&mut tx, &user.id).await?;
    let contact_roles = contacts::contact_roles_of(&mut tx, &user.id).await?;
    let sites = sites::sites_of_user(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(ContactRow {
        standing: Standing::of_account(user.status, &roles),
        level: PortalLevel::of(&roles),
        contact_roles,
        sites,
        user,
    })
}
