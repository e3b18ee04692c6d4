//! People: creating them (with History and a welcome email with an
//! activation link, one at a time or in bulk from checked rows), editing
//! their profiles and addresses, deactivating them, finding them, and
//! their History: shared by the API, the web pages, the CLI and the demo
//! loader.

use serde::Serialize;
use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::catalogue::RoleRef;
use starship_core::domain::{Email, Locale, Password, PersonName, Phone, UserStatus};
use starship_core::error::{all4, Collector};
use starship_core::history::Kind;
use starship_core::ids::{AdminPrivilegeId, ApplicationKey, GrantId, PartnerId, RoleKey, SiteId, UserId};
use starship_core::portal::PortalLevel;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor, Source};
use starship_store::outbox::NewMessage;
use starship_store::users::{self, NewUser, ProfileChanges, User};
use starship_store::{contacts, grants, now_millis, outbox, partners, sessions, sites, Conn, Store};

use crate::email;
use crate::ops::platform::PartnerView;
use crate::ops::{self, OperationError, OperationResult, ACTIVATION};
use crate::security::{hash_password, new_secret, secret_hash};
use crate::state::{AppState, Config};
use utoipa::ToSchema;

/// The partner a new person joins: the caller's own, or for operators the
/// one they name. Naming another partner is 404, like any foreign id.
pub fn target_partner(caller: &Principal, requested: Option<&PartnerId>) -> OperationResult<PartnerId> {
    match (caller.operator, requested, caller.partner_id.as_ref()) {
        (true, Some(partner), _) => Ok(partner.clone()),
        (true, None, _) => Err(FieldError::new("partner_id", "operators must name the partner").into()),
        (false, Some(partner), Some(own)) if partner != own => Err(OperationError::NotFound),
        (false, _, Some(own)) => Ok(own.clone()),
        (false, _, None) => Err(OperationError::NotFound),
    }
}

/// A person to add, as typed.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    pub phone: Option<String>,
    /// Sign-in (an activation link is emailed) or a contact only.
    pub portal_access: bool,
    pub contact_roles: Vec<String>,
    pub sites: Vec<String>,
    /// The Partner Portal permission level of a portal user.
    pub portal_level: Option<PortalLevel>,
    /// What a partner's directory keeps beside the profile (SCIM).
    pub scim: Option<starship_store::scim::ScimFields>,
}

/// Whether an address already belongs to someone, asked before the rest
/// of a new person's form (the wizard's first step).
#[derive(Debug, PartialEq, Eq)]
pub enum EmailInUse {
    Free,
    /// A person the caller may open: one of `partner_id`'s (or, for
    /// operators, anyone).
    Ours {
        user_id: UserId,
    },
    /// Someone the caller may not know of: the API's neutral answer, and
    /// counted against the caller like it.
    Elsewhere,
}

pub async fn email_in_use(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
    email: &starship_core::domain::Email,
) -> OperationResult<EmailInUse> {
    authz::create_person(caller, &state.catalogue, partner_id, None)?;
    let mut conn = state.store.conn().await?;
    let owner = users::get_by_email(&mut conn, email).await?;
    drop(conn);
    match owner {
        None => Ok(EmailInUse::Free),
        Some(user) if caller.operator || user.partner_id.as_ref() == Some(partner_id) => {
            Ok(EmailInUse::Ours { user_id: user.id })
        }
        Some(_) => {
            count_elsewhere_answers(state, caller, 1).await?;
            Ok(EmailInUse::Elsewhere)
        }
    }
}

/// Adds one user or contact with its contact details, History and welcome
/// email, in one transaction.
pub async fn create_person(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    input: &PersonInput,
) -> OperationResult<User> {
    // A portal user administrator gives sign-in as a portal level; a
    // Master Content Partner Operations user creates Starship users.
    let portal_level = match (input.portal_access, input.portal_level) {
        (false, _) => None,
        (true, Some(level)) => Some(level),
        (true, None) if authz::create_user(caller, &state.catalogue, partner_id).is_err() => {
            Some(PortalLevel::ReadOnly)
        }
        (true, None) => None,
    };
    let level_permit = authz::create_person(caller, &state.catalogue, partner_id, portal_level)?;
    let mut errors = Vec::new();
    let identity = Identity::parse("", &input.email, &input.first_name, &input.last_name, &input.locale)
        .map_err(|Invalid(e)| errors.extend(e))
        .ok();
    let phone = match input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(|p| Phone::parse("phone", p))
    {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    for (i, role) in input.contact_roles.iter().enumerate() {
        if !state.catalogue.contact_roles.iter().any(|r| &r.key == role) {
            errors.push(FieldError::new(format!("contact_roles[{i}]"), format!("unknown contact role '{role}'")));
        }
    }
    if let Some(identity) = &identity {
        let mut conn = state.store.conn().await?;
        let owners = users::owners_of_emails(&mut conn, &[identity.email.normalized()]).await?;
        drop(conn);
        if let Some((_, owner)) = owners.first() {
            if caller.operator || owner.as_deref() == Some(partner_id) {
                return Err(OperationError::Conflict(users::EMAIL_TAKEN.into()));
            }
            count_elsewhere_answers(state, caller, 1).await?;
            return Err(OperationError::Conflict(users::EMAIL_UNAVAILABLE.into()));
        }
    }
    let mut tx = state.store.begin().await?;
    let partner_sites = sites::sites_of_partner(&mut tx, partner_id).await?;
    for (i, site) in input.sites.iter().enumerate() {
        if !partner_sites.iter().any(|s| &s.id == site) {
            errors.push(FieldError::new(format!("sites[{i}]"), "no such site of this partner"));
        }
    }
    let identity = match identity {
        Some(identity) if errors.is_empty() => identity,
        _ => return Err(Invalid(errors).into()),
    };
    let access = if input.portal_access { Access::SignIn } else { Access::ContactOnly };
    let mut user = create_users(&mut tx, &state.config, actor, partner_id, &[identity], access).await?.remove(0);
    if let Some(phone) = phone {
        user =
            users::update_profile(&mut tx, &user, &ProfileChanges { phone: Some(Some(phone)), ..Default::default() })
                .await?;
    }
    if let Some(permit) = &level_permit {
        let (_, granted) = grants::set_portal_access(&mut tx, &user.id, permit, caller.acting_user()).await?;
        if let Some(grant) = granted {
            history::append(&mut tx, &user.id, actor, Kind::RoleGranted, ops::role_details(&grant.id, &grant.role))
                .await?;
        }
    }
    if let Some(fields) = &input.scim {
        starship_store::scim::set_fields(&mut tx, &user.id, fields).await?;
    }
    if !input.contact_roles.is_empty() {
        contacts::set_contact_roles(&mut tx, &user.id, &input.contact_roles).await?;
    }
    for site in &input.sites {
        sites::link_site(&mut tx, &user.id, &SiteId::from(site.as_str())).await?;
    }
    if user.phone.is_some() || !input.contact_roles.is_empty() || !input.sites.is_empty() {
        let details = json!({"phone": user.phone, "contact_roles": input.contact_roles, "sites": input.sites});
        history::append(&mut tx, &user.id, actor, Kind::ContactDetailsSet, details).await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// The outcome of a bulk add.
pub struct BulkOutcome {
    pub valid: usize,
    pub errors: Vec<FieldError>,
    /// Empty for a dry run.
    pub created: Vec<User>,
}

/// The most rows one bulk add takes.
pub const BULK_MAX_ROWS: usize = 100_000;

/// Checks every row; a dry run reports, a commit writes every row or, with
/// any bad row, nothing.
pub async fn bulk_add(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    rows: &[BulkRow],
    dry_run: bool,
) -> OperationResult<BulkOutcome> {
    authz::create_user(caller, &state.catalogue, partner_id)?;
    if rows.is_empty() {
        return Err(FieldError::new("rows", "add at least one row").into());
    }
    if rows.len() > BULK_MAX_ROWS {
        return Err(FieldError::new("rows", format!("at most {BULK_MAX_ROWS} rows at once")).into());
    }
    let mut tx = state.store.begin().await?;
    let own = (!caller.operator).then_some(partner_id);
    let checked = check_bulk(&mut tx, rows, own).await?;
    if checked.held_elsewhere > 0 {
        drop(tx);
        count_elsewhere_answers(state, caller, checked.held_elsewhere).await?;
        if dry_run {
            return Ok(BulkOutcome { valid: checked.valid.len(), errors: checked.errors, created: vec![] });
        }
        return Err(Invalid(checked.errors).into());
    }
    if dry_run {
        return Ok(BulkOutcome { valid: checked.valid.len(), errors: checked.errors, created: vec![] });
    }
    if !checked.errors.is_empty() {
        return Err(Invalid(checked.errors).into());
    }
    let created = create_users(&mut tx, &state.config, actor, partner_id, &checked.valid, Access::SignIn).await?;
    tx.commit().await?;
    Ok(BulkOutcome { valid: created.len(), errors: vec![], created })
}

/// Changes to names, locale and phone, as typed; `None` leaves a field, an
/// empty phone removes it.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub phone: Option<String>,
}

pub async fn edit_profile(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    edit: &ProfileEdit,
) -> OperationResult<User> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let updated = edit_profile_in(&mut tx, state, caller, actor, &user, edit).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Edits a profile the caller may edit, with its History entry, in the
/// caller's transaction.
pub async fn edit_profile_in(
    tx: &mut Conn,
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user: &User,
    edit: &ProfileEdit,
) -> OperationResult<User> {
    let owner = user.partner();
    let held = users::principal(tx, user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::edit_details(caller, &state.catalogue, (&user.id, owner), standing))?;
    let mut errors = Collector::default();
    let changes = ProfileChanges {
        first_name: edit.first_name.as_deref().and_then(|v| errors.take(PersonName::parse("first_name", v))),
        last_name: edit.last_name.as_deref().and_then(|v| errors.take(PersonName::parse("last_name", v))),
        locale: edit.locale.as_deref().and_then(|v| errors.take(Locale::parse("locale", v))),
        phone: match edit.phone.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(v) => errors.take(Phone::parse("phone", v)).map(Some),
        },
    };
    errors.finish()?;
    let updated = users::update_profile(tx, user, &changes).await?;
    let mut diff = serde_json::Map::new();
    for (field, before, after) in [
        ("first_name", Some(&user.first_name), Some(&updated.first_name)),
        ("last_name", Some(&user.last_name), Some(&updated.last_name)),
        ("locale", Some(&user.locale), Some(&updated.locale)),
        ("phone", user.phone.as_ref(), updated.phone.as_ref()),
    ] {
        if before != after {
            diff.insert(field.to_string(), json!({"from": before, "to": after}));
        }
    }
    if !diff.is_empty() {
        history::append(tx, &user.id, actor, Kind::UserUpdated, serde_json::Value::Object(diff)).await?;
    }
    Ok(updated)
}

/// Deactivates a person, or reactivates them: deactivated, they cannot
/// sign in, every session and token of theirs ends at once and their roles
/// stop counting; nothing they hold is removed, so reactivation restores
/// all of it (tokens excepted: they stay ended).
pub async fn set_deactivated(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    deactivated: bool,
) -> OperationResult<User> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    set_deactivated_in(&mut tx, state, caller, actor, &user, deactivated).await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(user)
}

/// Deactivates or reactivates a person the caller may administer, with
/// its History entry, in the caller's transaction.
pub async fn set_deactivated_in(
    tx: &mut Conn,
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user: &User,
    deactivated: bool,
) -> OperationResult<()> {
    let held = users::principal(tx, user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    let owner = user.partner();
    authz::act_on_person(
        caller,
        &held,
        authz::administer_person(caller, &state.catalogue, (&user.id, owner), standing),
    )?;
    if !users::set_deactivated(tx, &user.id, deactivated).await? {
        let state = if deactivated { "deactivated already" } else { "not deactivated" };
        return Err(OperationError::Conflict(format!("this person is {state}")));
    }
    if deactivated {
        let ended = sessions::end_all_for_user_except(tx, &user.id, None).await?;
        history::append(
            tx,
            &user.id,
            actor,
            Kind::UserDeactivated,
            json!({"sessions_ended": ended.sessions, "tokens_ended": ended.tokens}),
        )
        .await?;
    } else {
        history::append(tx, &user.id, actor, Kind::UserReactivated, json!({})).await?;
    }
    Ok(())
}

/// Changes a person's address at once, under the rule for editing their
/// details (the partner's directory, which is authoritative for it).
pub async fn change_email_in(
    tx: &mut Conn,
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user: &User,
    email: &starship_core::domain::Email,
) -> OperationResult<()> {
    let owner = user.partner();
    let held = users::principal(tx, user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    authz::act_on_person(caller, &held, authz::edit_details(caller, &state.catalogue, (&user.id, owner), standing))?;
    if users::get_by_email(tx, email).await?.is_some_and(|other| other.id != user.id) {
        return Err(OperationError::Conflict(users::EMAIL_TAKEN.into()));
    }
    apply_email_change(tx, state, user, email, actor).await
}

/// Changes an address at once (a confirmed link, or the partner's directory,
/// which is authoritative): links sent to the old address stop working,
/// someone still to activate gets a fresh link, the old address is told.
pub(crate) async fn apply_email_change(
    tx: &mut Conn,
    state: &AppState,
    user: &User,
    email: &Email,
    actor: &Actor,
) -> OperationResult<()> {
    users::change_email(tx, &user.id, email).await?;
    // Links sent to the old address (a welcome to a mistyped one, an older
    // change) must not open the account any more; someone still to
    // activate gets a fresh link at the confirmed address.
    outbox::void_links(tx, &user.id).await?;
    let changed = users::get(tx, &user.id).await?.ok_or(OperationError::NotFound)?;
    if changed.status == UserStatus::Pending {
        let partner = partners::get(tx, changed.partner()).await?.ok_or(OperationError::NotFound)?;
        send_activation_links(tx, &state.config, &partner.name, std::slice::from_ref(&changed)).await?;
    }
    let notice = email::email_changed_notice(&user.locale, &user.first_name, email.as_str());
    outbox::enqueue(tx, &notice.to_address(user, &user.email, "email-changed-notice")).await?;
    history::append(tx, &user.id, actor, Kind::EmailChanged, json!({"from": user.email, "to": email.as_str()})).await?;
    Ok(())
}

/// Asks to change an email address: nothing changes until the new address
/// confirms through the link sent to it; the old address is told.
pub async fn request_email_change(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    new_email: &str,
) -> OperationResult<()> {
    let email = Email::parse("email", new_email)?;
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let held = users::principal(&mut tx, &user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    authz::act_on_person(
        caller,
        &held,
        authz::edit_details(caller, &state.catalogue, (&user.id, user.partner()), standing),
    )?;
    if email.normalized() == user.email.to_lowercase() {
        return Err(FieldError::new("email", "is the current address").into());
    }
    if users::get_by_email(&mut tx, &email).await?.is_some() {
        return Err(OperationError::Conflict(users::EMAIL_TAKEN.into()));
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
pub async fn confirm_email(
    state: &AppState,
    token: &str,
    source: starship_store::history::Source,
) -> OperationResult<User> {
    let mut tx = state.store.begin().await?;
    let invalid = || FieldError::new("token", "this link is not valid: it was used or replaced, or it has expired");
    let (user_id, new_email) =
        outbox::use_email_change(&mut tx, &secret_hash(token.trim())).await?.ok_or_else(invalid)?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(invalid)?;
    let email = Email::parse("email", &new_email)?;
    apply_email_change(&mut tx, state, &user, &email, &Actor::user(&user.id, &user.email, source)).await?;
    let user = users::get(&mut tx, &user.id).await?.ok_or_else(invalid)?;
    tx.commit().await?;
    Ok(user)
}

/// Loads a user the caller may see; anyone else's is 404.
pub async fn visible_user(conn: &mut Conn, caller: &Principal, id: &UserId) -> OperationResult<User> {
    Ok(visible_users(conn, caller, std::slice::from_ref(id)).await?.remove(0))
}

/// Users whose name or email starts with or contains `query`, best matches
/// first (`users::search`): the caller's own partner, or everyone for
/// operators.
pub async fn search(state: &AppState, caller: &Principal, query: &str, limit: i64) -> OperationResult<Vec<User>> {
    let scope = if caller.operator { None } else { caller.partner_id.as_ref() };
    if !caller.operator && scope.is_none() {
        return Ok(vec![]);
    }
    let mut conn = state.store.conn().await?;
    Ok(users::search(&mut conn, scope, query, limit).await?)
}

/// A page of the people the caller may find by search (their own
/// partner's, or everyone for operators), in `order`, keyset-paged from a
/// person of that list.
pub struct PeoplePage {
    pub people: Vec<User>,
    /// Where the previous and next pages start: the first and last person
    /// shown, when more lie that way.
    pub before: Option<UserId>,
    pub after: Option<UserId>,
}

pub async fn list(
    state: &AppState,
    caller: &Principal,
    order: users::ListOrder,
    from: users::PageFrom<'_>,
    limit: i64,
) -> OperationResult<PeoplePage> {
    let scope = if caller.operator { None } else { caller.partner_id.as_ref() };
    if !caller.operator && scope.is_none() {
        return Ok(PeoplePage { people: vec![], before: None, after: None });
    }
    let mut conn = state.store.conn().await?;
    let (people, more) = users::list(&mut conn, scope, order, from, limit).await?;
    let (more_before, more_after) = match from {
        users::PageFrom::Top => (false, more),
        users::PageFrom::After(_) => (true, more),
        users::PageFrom::Before(_) => (more, true),
    };
    let before = people.first().filter(|_| more_before).map(|u| u.id.clone());
    let after = people.last().filter(|_| more_after).map(|u| u.id.clone());
    Ok(PeoplePage { people, before, after })
}

/// A user's History, newest first, `limit` entries from before the cursor
/// `(at, entry id)`: shown to their partner's admins and operators.
pub async fn user_history(
    state: &AppState,
    caller: &Principal,
    user_id: &UserId,
    before: Option<(i64, &str)>,
    kinds: &[Kind],
    limit: i64,
) -> OperationResult<(User, Vec<history::Entry>)> {
    let mut conn = state.store.conn().await?;
    let user = if caller.operator {
        // Operators see every account, operators' own included: those
        // belong to no partner, and their History holds the platform's
        // changes (clients, keys, resent email).
        users::get(&mut conn, user_id).await?.ok_or(OperationError::NotFound)?
    } else {
        visible_user(&mut conn, caller, user_id).await?
    };
    let roles = users::roles_of(&mut conn, &user.id).await?;
    authz::see_history(caller, user.partner(), &roles)?;
    let limit = limit.clamp(1, 500);
    let Some(scopes) = authz::history_scope(caller) else {
        let entries = history::list(&mut conn, &user.id, before, kinds, limit).await?;
        return Ok((user, entries));
    };
    // A production's admin sees only the entries about their productions:
    // read on until a page is full or the History ends.
    let mut shown = Vec::new();
    let mut cursor = before.map(|(at, id)| (at, id.to_string()));
    loop {
        let page = history::list(&mut conn, &user.id, cursor.as_ref().map(|(at, id)| (*at, id.as_str())), kinds, limit)
            .await?;
        let ended = page.len() < limit as usize;
        cursor = page.last().map(|e| (e.at, e.id.clone()));
        shown.extend(page.into_iter().filter(|e| authz::entry_concerns(&scopes, &e.details)));
        if ended || shown.len() >= limit as usize {
            break;
        }
    }
    shown.truncate(limit as usize);
    Ok((user, shown))
}

/// Where a History export starts: after an entry's seq in the chain, or
/// at a time (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Seq(i64),
    At(i64),
}

impl Since {
    /// A whole number is a seq; anything else must be an RFC 3339 time.
    pub fn parse(text: &str) -> OperationResult<Self> {
        if let Ok(seq) = text.parse::<i64>() {
            return Ok(Self::Seq(seq));
        }
        let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
            OperationError::from(FieldError::new("since", "must be an entry's seq or an RFC 3339 time"))
        })?;
        Ok(Self::At((at.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

/// Entries per read of an export: the answer streams page by page, so a
/// large partner's History is never held in memory at once.
const EXPORT_PAGE: i64 = 1_000;

/// One partner's History chain (or, with no partner, the chain of accounts
/// of no partner), in seq order, as JSON Lines: checked here, then read a
/// page at a time while the answer streams. A partner's admin who names no
/// partner exports their own.
pub async fn history_export<L: serde::Serialize + 'static>(
    state: &AppState,
    caller: &Principal,
    partner_id: Option<&PartnerId>,
    since: Option<Since>,
    line: fn(history::ChainedEntry) -> L,
) -> OperationResult<impl futures_util::Stream<Item = Result<String, starship_store::StoreError>> + Send + 'static> {
    let partner = match (partner_id, caller.operator) {
        (None, false) => Some(caller.partner_id.clone().ok_or(OperationError::NotFound)?),
        (requested, _) => requested.cloned(),
    };
    authz::export_history(caller, partner.as_ref())?;
    if let Some(partner) = &partner {
        let mut conn = state.store.conn().await?;
        if starship_store::partners::get(&mut conn, partner).await?.is_none() {
            return Err(OperationError::NotFound);
        }
    }
    let chain = partner.map_or_else(|| history::NO_PARTNER_CHAIN.to_string(), PartnerId::into_string);
    let (after, at) = match since {
        None => (0, i64::MIN),
        Some(Since::Seq(seq)) => (seq, i64::MIN),
        Some(Since::At(at)) => (0, at),
    };
    let store = state.store.clone();
    Ok(futures_util::stream::try_unfold(Some(after), move |after| {
        let (store, chain) = (store.clone(), chain.clone());
        async move {
            let Some(after) = after else { return Ok(None) };
            let mut conn = store.conn().await?;
            let page = history::chain_page(&mut conn, &chain, after, at, EXPORT_PAGE).await?;
            if page.is_empty() {
                return Ok(None);
            }
            let next = (page.len() as i64 == EXPORT_PAGE).then(|| page.last().map_or(after, |e| e.seq));
            let mut text = String::new();
            for entry in page {
                text.push_str(&serde_json::to_string(&line(entry)).expect("an entry serializes"));
                text.push('\n');
            }
            Ok(Some((text, next)))
        }
    }))
}

/// What a profile shows of a person, as this viewer may see it.
pub struct Profile {
    pub partner: Option<starship_store::partners::Partner>,
    /// Each grant with who granted it (id and name), when known.
    pub grants: Vec<(grants::Grant, Option<(UserId, String)>)>,
    /// Shown to the person, their partner's admins and operators only.
    pub admin_privileges: Option<Vec<grants::AdminPrivilege>>,
    pub history_visible: bool,
}

/// A person's profile as `viewer` may see it: the caller has already
/// found the person visible.
pub async fn profile(state: &AppState, viewer: &Principal, user: &User) -> OperationResult<Profile> {
    let mut tx = state.store.begin_read().await?;
    let partner = match &user.partner_id {
        Some(id) => starship_store::partners::get(&mut tx, id).await?,
        None => None,
    };
    let held = grants::of_user(&mut tx, &user.id).await?;
    let held_roles: Vec<RoleRef> = held.iter().map(|g| g.role.clone()).collect();
    let mut names: std::collections::HashMap<UserId, Option<(UserId, String)>> = Default::default();
    let mut with_granters = Vec::with_capacity(held.len());
    for grant in held {
        let granted_by = match &grant.granted_by {
            Some(id) => {
                if !names.contains_key(id) {
                    let named = users::get(&mut tx, id).await?.map(|u| (u.id.clone(), u.full_name()));
                    names.insert(id.clone(), named);
                }
                names[id].clone()
            }
            None => None,
        };
        with_granters.push((grant, granted_by));
    }
    let owner = user.partner();
    let admin_privileges = if user.operator || authz::see_admin_privileges(viewer, &user.id, owner).is_ok() {
        Some(grants::admin_of_user(&mut tx, &user.id).await?)
    } else {
        None
    };
    let history_visible = user.partner_id.is_some() && authz::see_history(viewer, owner, &held_roles).is_ok();
    tx.commit().await?;
    Ok(Profile { partner, grants: with_granters, admin_privileges, history_visible })
}

/// A person the caller may see (`NotFound` otherwise).
pub async fn person(state: &AppState, caller: &Principal, user_id: &UserId) -> OperationResult<User> {
    let mut conn = state.store.conn().await?;
    visible_user(&mut conn, caller, user_id).await
}

/// The people the caller may act on (see `visible_users`).
pub async fn persons(state: &AppState, caller: &Principal, user_ids: &[UserId]) -> OperationResult<Vec<User>> {
    let mut conn = state.store.conn().await?;
    visible_users(&mut conn, caller, user_ids).await
}

/// A person's identity, fully validated.
#[derive(Debug, Clone)]
pub struct Identity {
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub locale: Locale,
}

impl Identity {
    /// Parses every field, reporting every bad one; `prefix` names the
    /// fields of a bulk row (`rows[3].email`).
    pub fn parse(prefix: &str, email: &str, first_name: &str, last_name: &str, locale: &str) -> Result<Self, Invalid> {
        let (email, first_name, last_name, locale) = all4(
            Email::parse(&format!("{prefix}email"), email),
            PersonName::parse(&format!("{prefix}first_name"), first_name),
            PersonName::parse(&format!("{prefix}last_name"), last_name),
            Locale::parse(&format!("{prefix}locale"), locale),
        )?;
        Ok(Self { email, first_name, last_name, locale })
    }
}

pub async fn create_operator(
    store: &Store,
    email: &Email,
    first_name: &str,
    last_name: &str,
    password: &Password,
) -> OperationResult<User> {
    let first_name = PersonName::parse("first_name", first_name)?;
    let last_name = PersonName::parse("last_name", last_name)?;
    let hash = hash_password(password);
    let mut tx = store.begin().await?;
    let operator = create_with_password(
        &mut tx,
        &Actor::system(Source::Cli),
        &NewUser {
            partner_id: None,
            email,
            first_name: &first_name,
            last_name: &last_name,
            locale: Locale::parse("locale", "en-US")?,
            phone: None,
            status: UserStatus::Active,
            password_hash: Some(&hash),
        },
        json!({"email": email.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(operator)
}

/// Someone who signs in with a password set from the start (an operator,
/// a demo account): no activation link, History says who made them.
/// Someone of no partner is an operator.
pub async fn create_with_password(
    conn: &mut Conn,
    actor: &Actor,
    person: &NewUser<'_>,
    details: serde_json::Value,
) -> OperationResult<User> {
    let kind = if person.partner_id.is_none() { Kind::OperatorCreated } else { Kind::UserCreated };
    let user = users::insert(conn, person).await?;
    history::append(conn, &user.id, actor, kind, details).await?;
    Ok(user)
}

/// Whether new people can sign in (an activation link is emailed) or are
/// contacts only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    SignIn,
    ContactOnly,
}

/// Creates users of one partner, each with a History entry and, for those
/// who will sign in, a welcome email with an activation link, all in the
/// caller's transaction. An email already taken fails the whole batch.
pub async fn create_users(
    conn: &mut Conn,
    config: &Config,
    actor: &Actor,
    partner_id: &PartnerId,
    people: &[Identity],
    access: Access,
) -> OperationResult<Vec<User>> {
    let partner = partners::get(conn, partner_id).await?.ok_or(OperationError::NotFound)?;
    let status = match access {
        Access::SignIn => UserStatus::Pending,
        Access::ContactOnly => UserStatus::Contact,
    };
    let new: Vec<NewUser> = people
        .iter()
        .map(|p| NewUser {
            partner_id: Some(partner_id),
            email: &p.email,
            first_name: &p.first_name,
            last_name: &p.last_name,
            locale: p.locale,
            phone: None,
            status,
            password_hash: None,
        })
        .collect();
    let created = users::insert_many(conn, &new).await?;
    history::append_many_of_partner(
        conn,
        actor,
        partner_id,
        created
            .iter()
            .map(|u| {
                let details = json!({
                    "email": u.email, "first_name": u.first_name, "last_name": u.last_name,
                    "locale": u.locale, "partner_id": partner_id, "status": u.status,
                });
                (u.id.clone(), Kind::UserCreated, details)
            })
            .collect(),
    )
    .await?;
    if access == Access::SignIn {
        send_activation_links(conn, config, &partner.name, &created).await?;
    }
    Ok(created)
}

pub(crate) async fn send_activation_links(
    conn: &mut Conn,
    config: &Config,
    partner_name: &str,
    people: &[User],
) -> OperationResult<()> {
    let hours = config.activation_ttl.as_secs() / 3600;
    let expires_at = now_millis() + config.activation_ttl.as_millis() as i64;
    let mut links = Vec::with_capacity(people.len());
    let mut mails = Vec::with_capacity(people.len());
    for user in people {
        let token = new_secret("");
        let link = format!("{}/activate?token={token}", config.public_url);
        links.push((secret_hash(&token), user.id.clone()));
        mails.push((user, email::welcome(&user.locale, &user.first_name, partner_name, &link, hours)));
    }
    outbox::insert_new_links(conn, links, ACTIVATION, expires_at).await?;
    let messages: Vec<NewMessage> = mails.iter().map(|(user, mail)| mail.to(user, "welcome")).collect();
    outbox::enqueue_many(conn, &messages).await?;
    Ok(())
}

/// Loads users the caller may act on; anyone invisible to the caller is
/// 404, named by index so a caller sees which id was wrong.
pub async fn visible_users(conn: &mut Conn, caller: &Principal, user_ids: &[UserId]) -> OperationResult<Vec<User>> {
    let mut found = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        let user = users::get(conn, id).await?.ok_or(OperationError::NotFound)?;
        let Some(partner) = user.partner_id.as_ref() else {
            return Err(OperationError::NotFound);
        };
        authz::see_partner_resource(caller, partner)?;
        if !found.iter().any(|u: &User| u.id == user.id) {
            found.push(user);
        }
    }
    Ok(found)
}

/// One row of a bulk add, as typed or uploaded.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRow {
    #[schema(value_type = starship_core::domain::Email)]
    pub email: String,
    #[schema(value_type = starship_core::domain::Locale)]
    pub locale: String,
    #[schema(value_type = starship_core::domain::PersonName)]
    pub first_name: String,
    #[schema(value_type = starship_core::domain::PersonName)]
    pub last_name: String,
}

/// A bulk add's rows, checked.
pub struct CheckedRows {
    pub valid: Vec<Identity>,
    /// Every bad row's reasons (1-based row numbers).
    pub errors: Vec<FieldError>,
    /// Rows refused because another partner's person holds the address.
    pub held_elsewhere: usize,
}

/// Checks every row of a bulk add: syntax, duplicates inside the batch and
/// against existing users. `own_partner` is the partner of a partner's
/// caller: an address of its own people "already exists", anyone else's
/// gets the neutral `EMAIL_UNAVAILABLE`; `None` (operators, the CLI) names
/// every taken address.
pub async fn check_bulk(
    conn: &mut Conn,
    rows: &[BulkRow],
    own_partner: Option<&PartnerId>,
) -> OperationResult<CheckedRows> {
    let mut errors = Vec::new();
    let mut parsed: Vec<(usize, Identity)> = Vec::with_capacity(rows.len());
    let mut first_row_of: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let number = i + 1;
        match Identity::parse("", &row.email, &row.first_name, &row.last_name, &row.locale) {
            Ok(identity) => match first_row_of.get(&identity.email.normalized()) {
                Some(first) => errors.push(FieldError::new("email", format!("duplicates row {first}")).in_row(number)),
                None => {
                    first_row_of.insert(identity.email.normalized(), number);
                    parsed.push((number, identity));
                }
            },
            Err(Invalid(row_errors)) => errors.extend(row_errors.into_iter().map(|e| e.in_row(number))),
        }
    }
    let emails: Vec<String> = parsed.iter().map(|(_, p)| p.email.normalized()).collect();
    let taken: std::collections::HashMap<String, Option<PartnerId>> =
        users::owners_of_emails(conn, &emails).await?.into_iter().collect();
    let mut valid = Vec::with_capacity(parsed.len());
    let mut held_elsewhere = 0;
    for (number, identity) in parsed {
        match taken.get(&identity.email.normalized()) {
            None => valid.push(identity),
            Some(owner) if own_partner.is_none() || owner.as_ref() == own_partner => {
                errors.push(FieldError::new("email", users::EMAIL_TAKEN).in_row(number));
            }
            Some(_) => {
                held_elsewhere += 1;
                errors.push(FieldError::new("email", users::EMAIL_UNAVAILABLE).in_row(number));
            }
        }
    }
    errors.sort_by_key(|e| e.row);
    Ok(CheckedRows { valid, errors, held_elsewhere })
}

/// How many addresses held by other partners' people one caller may be
/// told about in an hour: enough for typos, too few to map a directory.
pub const ELSEWHERE_ANSWERS_PER_HOUR: i64 = 20;

/// Counts answers about other partners' addresses against the caller; past
/// the limit the request is refused. Committed at once, so a refused or
/// dry-run request still counts.
pub async fn count_elsewhere_answers(state: &AppState, caller: &Principal, answers: usize) -> OperationResult<()> {
    if answers == 0 || caller.operator {
        return Ok(());
    }
    // The console acts for no account and is never counted.
    let Some(me) = caller.acting_user() else {
        return Ok(());
    };
    let throttle = sessions::Throttle::new(format!("elsewhere:{me}"), ELSEWHERE_ANSWERS_PER_HOUR);
    let mut tx = state.store.begin().await?;
    let within = sessions::spend(&mut tx, &throttle, answers as i64, 3_600_000).await?;
    if !within {
        return Err(OperationError::Throttled { retry_after_secs: 3600 });
    }
    tx.commit().await?;
    Ok(())
}

/// The people of an onboarding the caller may see, and of the grants
/// named, those that belong to one of them (`None` for any other).
pub async fn onboarded(
    state: &AppState,
    caller: &Principal,
    user_ids: &[UserId],
    grant_ids: &[&GrantId],
) -> OperationResult<(Vec<User>, Vec<Option<grants::Grant>>)> {
    let mut tx = state.store.begin_read().await?;
    let people = visible_users(&mut tx, caller, user_ids).await?;
    let mut found = Vec::with_capacity(grant_ids.len());
    for id in grant_ids {
        let grant = grants::get(&mut tx, id).await?.filter(|g| people.iter().any(|u| u.id == g.user_id));
        found.push(grant);
    }
    tx.commit().await?;
    Ok((people, found))
}

/// A person named: their id and full name.
#[derive(Serialize, ToSchema)]
pub struct PersonRef {
    pub id: UserId,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CapabilityView {
    pub key: String,
    pub name: String,
}

/// One role a user holds, with what it opens.
#[derive(Serialize, ToSchema)]
pub struct RoleGrantView {
    /// The grant's id, for revoking it.
    pub id: GrantId,
    pub application: ApplicationKey,
    pub application_name: String,
    pub role: RoleKey,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    pub capabilities: Vec<CapabilityView>,
    pub granted_at: String,
    /// Who granted it; absent when the system did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<PersonRef>,
    /// When it ends; absent for no end. An ended role is not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminPrivilegeView {
    pub id: AdminPrivilegeId,
    pub application: ApplicationKey,
    pub application_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    pub granted_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationLink {
    pub key: ApplicationKey,
    pub name: String,
    pub url: String,
}

/// A user's profile: identity, partner, roles and the applications they
/// open, and (where the viewer may see them) admin privileges.
#[derive(Serialize, ToSchema)]
pub struct UserProfile {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub status: UserStatus,
    pub operator: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerView>,
    pub roles: Vec<RoleGrantView>,
    /// The applications the roles open.
    pub applications: Vec<ApplicationLink>,
    /// Shown to the user, their partner's admins and operators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_privileges: Option<Vec<AdminPrivilegeView>>,
    /// The My Account tabs this viewer sees for this user.
    pub tabs: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    /// When the person was deactivated (no sign-in, roles not counting);
    /// absent while they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<String>,
}

/// A user's profile as the API answers it and My Account shows it: the
/// profile `profile` reads, named from the catalogue, with the tabs this
/// viewer sees.
pub async fn profile_view(state: &AppState, viewer: &Principal, user: &User) -> OperationResult<UserProfile> {
    let catalogue = &state.catalogue;
    let profile = profile(state, viewer, user).await?;
    let partner = profile.partner.map(PartnerView::from);
    let mut roles = Vec::with_capacity(profile.grants.len());
    let mut applications: Vec<ApplicationLink> = Vec::new();
    for (grant, granted_by) in profile.grants {
        let granted_by = granted_by.map(|(id, name)| PersonRef { id, name });
        let Some(app) = catalogue.application(&grant.role.application) else { continue };
        let Some(role) = app.role(&grant.role.role) else { continue };
        if !applications.iter().any(|a| a.key == app.key) {
            applications.push(ApplicationLink { key: app.key.clone(), name: app.name.clone(), url: app.url.clone() });
        }
        roles.push(RoleGrantView {
            id: grant.id,
            application: app.key.clone(),
            application_name: app.name.clone(),
            role: role.key.clone(),
            role_name: role.name.clone(),
            production: grant.role.production.map(|p| p.get()),
            capabilities: app
                .capabilities
                .iter()
                .filter(|c| role.capabilities.contains(&c.key))
                .map(|c| CapabilityView { key: c.key.clone(), name: c.name.clone() })
                .collect(),
            granted_at: rfc3339_from_millis(grant.created_at),
            granted_by,
            expires_at: grant.expires_at.map(rfc3339_from_millis),
        });
    }
    let admin_privileges = profile.admin_privileges.map(|privileges| {
        privileges
            .into_iter()
            .map(|p| AdminPrivilegeView {
                id: p.id,
                application_name: catalogue
                    .application(&p.scope.application)
                    .map_or_else(|| p.scope.application.to_string(), |a| a.name.clone()),
                application: p.scope.application,
                production: p.scope.production.map(|p| p.get()),
                granted_at: rfc3339_from_millis(p.created_at),
            })
            .collect::<Vec<_>>()
    });
    let mut tabs = vec!["roles"];
    if admin_privileges.as_ref().is_some_and(|p| !p.is_empty()) {
        tabs.push("admin-privileges");
    }
    tabs.extend(["notifications", "metadata"]);
    if profile.history_visible {
        tabs.push("history");
    }
    Ok(UserProfile {
        id: user.id.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locale: user.locale.clone(),
        phone: user.phone.clone(),
        status: user.status,
        operator: user.operator,
        partner,
        roles,
        applications,
        admin_privileges,
        tabs,
        created_at: rfc3339_from_millis(user.created_at),
        updated_at: rfc3339_from_millis(user.updated_at),
        deactivated_at: user.deactivated_at.map(rfc3339_from_millis),
    })
}
