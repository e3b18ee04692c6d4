//! The operations Starship performs, each inside the caller's transaction:
//! the API, the CLI and the demo loader all call these, so a rule or a side
//! effect (history, email) is written once.

pub mod access;
pub mod appliances;
pub mod clients;
pub mod communications;
pub mod contacts;
mod error;
pub mod expiry;
pub mod keys;
pub mod oidc;
pub mod people;
pub mod platform;
pub mod preferences;
pub mod reviews;
pub mod scim;
pub mod session;
pub mod sites;
pub mod tickets;
pub mod tokens;

pub use error::{OperationError, OperationResult};

use serde_json::json;
use starship_core::authz::{self, Permit, Principal};
use starship_core::catalogue::{AdminScope, Catalogue, RequestedRole, RoleRef};
use starship_core::domain::{Email, Locale, Password, PersonName, UserStatus};
use starship_core::error::all4;
use starship_core::history::Kind;
use starship_core::ids::{AdminPrivilegeId, GrantId, PartnerId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor, Source};
use starship_store::outbox::{self, NewMessage};
use starship_store::users::{self, NewUser, User};
use starship_store::{grants, now_millis, partners, sessions, Conn, Store};

use crate::email;
use crate::security::{hash_password, new_secret, secret_hash};
use crate::state::{AppState, Config};

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

pub const ACTIVATION: &str = "activation";

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

/// One line of a grant confirmation: who got which role.
#[derive(Debug, Clone)]
pub struct Granted {
    pub grant: grants::Grant,
    pub user: User,
    /// False when the user already held the role.
    pub new: bool,
    pub outcome: grants::Granting,
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

/// Grants every role, each with its end date (`None`: no end), to every
/// user, all or nothing: each pair is checked against the rules before
/// anything is written. A role already held takes the end date asked:
/// changing or removing an end date is a grant under the same rule.
pub async fn grant_roles(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    people: &[User],
    roles: &[(RoleRef, Option<i64>)],
) -> OperationResult<Vec<Granted>> {
    // The rule does not look at the person beyond their partner: one
    // permit per role serves everyone it was checked for.
    let mut permits = Vec::with_capacity(roles.len());
    for (i, user) in people.iter().enumerate() {
        for (role, _) in roles {
            let permit = authz::grant_role(caller, user.partner(), role)?;
            if i == 0 {
                permits.push(permit);
            }
        }
    }
    let ends = with_production_ends(conn, roles).await?;
    let permitted: Vec<(Permit<RoleRef>, Option<i64>)> =
        permits.into_iter().zip(ends).map(|(permit, (_, end))| (permit, end)).collect();
    let user_ids: Vec<&UserId> = people.iter().map(|u| &u.id).collect();
    let granted = grants::grant_many(conn, &user_ids, &permitted, caller.acting_user()).await?;
    let entries = granted
        .iter()
        .filter_map(|(grant, outcome)| match outcome {
            grants::Granting::New => Some((grant.user_id.clone(), Kind::RoleGranted, grant_details(grant, None))),
            grants::Granting::ExpiryChanged { from } => {
                Some((grant.user_id.clone(), Kind::RoleExpiryChanged, grant_details(grant, Some(*from))))
            }
            grants::Granting::Held => None,
        })
        .collect();
    history::append_many(conn, actor, entries).await?;
    // grant_many answers users outer, roles inner: the people's order.
    let owners = people.iter().flat_map(|user| std::iter::repeat_n(user, roles.len()));
    Ok(granted
        .into_iter()
        .zip(owners)
        .map(|((grant, outcome), user)| Granted { grant, user: user.clone(), new: outcome.is_new(), outcome })
        .collect())
}

/// Grants each person the roles asked for them (no end unless their
/// production ends), in the caller's transaction: people asking the same
/// roles are granted together, under the rules `grant_roles` checks.
pub async fn grant_each(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    people: &[User],
    roles_per_person: &[Vec<RoleRef>],
) -> OperationResult<usize> {
    let mut alike: std::collections::HashMap<&[RoleRef], Vec<User>> = std::collections::HashMap::new();
    for (person, roles) in people.iter().zip(roles_per_person) {
        if !roles.is_empty() {
            alike.entry(roles.as_slice()).or_default().push(person.clone());
        }
    }
    let mut granted = 0;
    for (roles, people) in alike {
        let roles: Vec<(RoleRef, Option<i64>)> = roles.iter().map(|role| (role.clone(), None)).collect();
        granted += grant_roles(conn, caller, actor, &people, &roles).await?.len();
    }
    Ok(granted)
}

/// A production role asked for without an end ends with its production,
/// when the production has a (future) end.
async fn with_production_ends(
    conn: &mut Conn,
    roles: &[(RoleRef, Option<i64>)],
) -> OperationResult<Vec<(RoleRef, Option<i64>)>> {
    let unended: Vec<i64> =
        roles.iter().filter(|(_, end)| end.is_none()).filter_map(|(r, _)| r.production.map(|p| p.get())).collect();
    if unended.is_empty() {
        return Ok(roles.to_vec());
    }
    let ends = starship_store::partners::production_ends(conn, &unended).await?;
    let now = starship_store::now_millis();
    Ok(roles
        .iter()
        .map(|(role, end)| {
            let by_production = role.production.and_then(|p| ends.get(&p.get()).copied()).filter(|at| *at > now);
            (role.clone(), end.or(by_production))
        })
        .collect())
}

/// Checks requested end dates (RFC 3339, in the future), each named by its
/// role's index; `None` where no end was asked.
pub fn parse_expiries(requested: &[Option<&str>], now: i64) -> Result<Vec<Option<i64>>, Invalid> {
    let mut errors = Vec::new();
    let parsed = requested
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let text = (*text)?;
            future_end(format!("roles[{i}].expires_at"), text, now).map_err(|e| errors.push(e)).ok()
        })
        .collect();
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Invalid(errors))
    }
}

/// An end typed as RFC 3339 that must still lie ahead: a role's, a production's.
pub fn future_end(field: impl Into<String>, text: &str, now: i64) -> Result<i64, FieldError> {
    match starship_core::time_fmt::millis_from_rfc3339(text) {
        None => Err(FieldError::new(field, "give the end as an RFC 3339 date and time")),
        Some(at) if at <= now => Err(FieldError::new(field, "the end must be in the future")),
        Some(at) => Ok(at),
    }
}

/// Pairs resolved roles with the end dates asked for them: a role asked
/// twice takes its first end date.
pub fn with_expiries(
    catalogue: &Catalogue,
    requested: &[RequestedRole],
    expiries: &[Option<i64>],
    roles: Vec<RoleRef>,
) -> Vec<(RoleRef, Option<i64>)> {
    roles
        .into_iter()
        .map(|role| {
            let at = requested.iter().zip(expiries).find_map(|(asked, at)| {
                let same = catalogue
                    .resolve_role(
                        "",
                        &asked.application,
                        &asked.role,
                        asked.production.and_then(|p| starship_core::domain::ProductionId::parse("", p).ok()),
                    )
                    .is_ok_and(|r| r == role);
                same.then_some(*at)
            });
            (role, at.flatten())
        })
        .collect()
}

/// A grant's History details with its end date, and the one it replaced
/// when `previous` is given (an end date changed).
pub fn grant_details(grant: &grants::Grant, previous: Option<Option<i64>>) -> serde_json::Value {
    let mut details = role_details(&grant.id, &grant.role);
    if grant.expires_at.is_some() || previous.is_some() {
        details["expires_at"] = json!(grant.expires_at.map(rfc3339_from_millis));
    }
    if let Some(previous) = previous {
        details["previous_expires_at"] = json!(previous.map(rfc3339_from_millis));
    }
    details
}

pub fn role_details(grant_id: &GrantId, role: &RoleRef) -> serde_json::Value {
    json!({
        "grant_id": grant_id,
        "application": role.application,
        "role": role.role,
        "production": role.production.map(|p| p.get()),
    })
}

/// Resolves requested roles against the catalogue and checks productions
/// exist, naming every bad entry.
pub async fn resolve_roles(
    conn: &mut Conn,
    catalogue: &Catalogue,
    requested: &[RequestedRole],
) -> OperationResult<Vec<RoleRef>> {
    let mut errors = Vec::new();
    let mut roles: Vec<RoleRef> = Vec::new();
    for (i, RequestedRole { application, role, production }) in requested.iter().enumerate() {
        let field = format!("roles[{i}]");
        let production =
            match production.map(|p| starship_core::domain::ProductionId::parse(&format!("{field}.production"), p)) {
                Some(Ok(p)) => Some(p),
                Some(Err(e)) => {
                    errors.push(e);
                    continue;
                }
                None => None,
            };
        match catalogue.resolve_role(&field, application, role, production) {
            Ok(resolved) => {
                if let Some(p) = resolved.production {
                    if !partners::production_exists(conn, p).await? {
                        errors.push(FieldError::new(format!("{field}.production"), format!("no production {p}")));
                        continue;
                    }
                }
                if !roles.contains(&resolved) {
                    roles.push(resolved);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(roles)
    } else {
        Err(Invalid(errors).into())
    }
}

/// Checks an admin privilege names a known application and production.
pub async fn resolve_admin_scope(
    conn: &mut Conn,
    catalogue: &Catalogue,
    application: &str,
    production: Option<i64>,
) -> OperationResult<AdminScope> {
    let Some(app) = catalogue.application(application) else {
        return Err(FieldError::new("application", format!("unknown application '{application}'")).into());
    };
    let production = production.map(|p| starship_core::domain::ProductionId::parse("production", p)).transpose()?;
    if let Some(p) = production {
        if !partners::production_exists(conn, p).await? {
            return Err(FieldError::new("production", format!("no production {p}")).into());
        }
    }
    Ok(AdminScope { application: app.key.clone(), production })
}

pub async fn add_admin_privilege(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    user: &User,
    scope: &AdminScope,
) -> OperationResult<(grants::AdminPrivilege, bool)> {
    let permit = authz::grant_admin(caller, user.partner(), scope)?;
    let (privilege, new) = grants::add_admin(conn, &user.id, &permit, caller.acting_user()).await?;
    if new {
        history::append(
            conn,
            &user.id,
            actor,
            Kind::AdminPrivilegeAdded,
            json!({"privilege_id": privilege.id, "application": scope.application, "production": scope.production.map(|p| p.get())}),
        )
        .await?;
    }
    Ok((privilege, new))
}

/// Revokes one grant, under the rule that grants it. With `of_user`, the
/// grant must be that person's. Returns whose grant it was, and the grant.
pub async fn revoke_role(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    grant_id: &GrantId,
    of_user: Option<&UserId>,
) -> OperationResult<(User, grants::Grant)> {
    let grant = grants::get(conn, grant_id)
        .await?
        .filter(|g| of_user.is_none_or(|u| g.user_id == *u))
        .ok_or(OperationError::NotFound)?;
    let user = people::visible_user(conn, caller, &grant.user_id).await?;
    let permit = authz::grant_role(caller, user.partner(), &grant.role)?;
    // Two revokes racing: the second deletes nothing and must say so.
    if !grants::revoke(conn, &grant.id, &permit).await? {
        return Err(OperationError::NotFound);
    }
    history::append(conn, &user.id, actor, Kind::RoleRevoked, role_details(&grant.id, &grant.role)).await?;
    Ok((user, grant))
}

/// After removing one of the caller's own roles or admin privileges, in
/// the same transaction: refuses it when it ended the caller's last admin
/// path and no other active admin of the partner has one
/// (`authz::remove_own_admin_path`).
pub async fn keep_own_admin_path(
    conn: &mut Conn,
    catalogue: &Catalogue,
    caller: &Principal,
    user: &User,
) -> OperationResult<()> {
    if !caller.is(&user.id) {
        return Ok(());
    }
    let after = users::principal(conn, user).await?;
    if authz::remove_own_admin_path(catalogue, caller, &after, false).is_ok() {
        return Ok(());
    }
    let mut another_admin_remains = false;
    let partner = user.partner();
    for other in grants::other_admins(conn, partner, &user.id).await? {
        if authz::has_admin_path(catalogue, &users::principal(conn, &other).await?) {
            another_admin_remains = true;
            break;
        }
    }
    authz::remove_own_admin_path(catalogue, caller, &after, another_admin_remains)?;
    Ok(())
}

/// Removes one of a person's admin privileges, under the rule that grants it.
pub async fn remove_admin_privilege(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    privilege_id: &AdminPrivilegeId,
) -> OperationResult<(User, AdminScope)> {
    let user = people::visible_user(conn, caller, user_id).await?;
    let privilege = grants::get_admin(conn, privilege_id)
        .await?
        .filter(|p| p.user_id == user.id)
        .ok_or(OperationError::NotFound)?;
    let permit = authz::grant_admin(caller, user.partner(), &privilege.scope)?;
    if !grants::remove_admin(conn, &privilege.id, &permit).await? {
        return Err(OperationError::NotFound);
    }
    history::append(
        conn,
        &user.id,
        actor,
        Kind::AdminPrivilegeRemoved,
        json!({"privilege_id": privilege.id, "application": privilege.scope.application, "production": privilege.scope.production.map(|p| p.get())}),
    )
    .await?;
    Ok((user, privilege.scope))
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

/// Sets, changes or removes (`None`) the end of one of a person's roles
/// that still counts: a grant of the same role, under the rule that
/// grants it.
pub async fn set_role_end(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    grant_id: &GrantId,
    end: Option<i64>,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let grant = grants::get(&mut tx, grant_id)
        .await?
        .filter(|g| g.user_id == *user_id && !g.expired_at(now_millis()))
        .ok_or(OperationError::NotFound)?;
    let people = visible_users(&mut tx, caller, std::slice::from_ref(user_id)).await?;
    grant_roles(&mut tx, caller, actor, &people, &[(grant.role, end)]).await?;
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

/// Roles asked for some people, each with its end (`None`: no end).
pub struct GrantRequest<'a> {
    pub user_ids: &'a [UserId],
    pub requested: &'a [RequestedRole],
    pub expiries: &'a [Option<i64>],
}

/// Grants every request, all in one transaction: each role of each
/// request to each of its people, under the rules `grant_roles` checks.
pub async fn grant(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    requests: &[GrantRequest<'_>],
) -> OperationResult<Vec<Granted>> {
    let mut tx = state.store.begin().await?;
    let mut granted = Vec::new();
    for request in requests {
        let roles = resolve_roles(&mut tx, &state.catalogue, request.requested).await?;
        let roles = with_expiries(&state.catalogue, request.requested, request.expiries, roles);
        let people = visible_users(&mut tx, caller, request.user_ids).await?;
        granted.extend(grant_roles(&mut tx, caller, actor, &people, &roles).await?);
    }
    tx.commit().await?;
    Ok(granted)
}

/// Checks roles asked by name against the catalogue and the productions.
pub async fn resolve(state: &AppState, requested: &[RequestedRole]) -> OperationResult<Vec<RoleRef>> {
    let mut conn = state.store.conn().await?;
    resolve_roles(&mut conn, &state.catalogue, requested).await
}

/// Revokes one grant in its own transaction (see `revoke_role`), unless
/// it was the caller's own last admin path (`keep_own_admin_path`).
pub async fn revoke(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    grant_id: &GrantId,
    of_user: Option<&UserId>,
) -> OperationResult<(User, grants::Grant)> {
    let mut tx = state.store.begin().await?;
    let (user, grant) = revoke_role(&mut tx, caller, actor, grant_id, of_user).await?;
    keep_own_admin_path(&mut tx, &state.catalogue, caller, &user).await?;
    tx.commit().await?;
    Ok((user, grant))
}

/// Grants a person an admin privilege named by application (and
/// production), in its own transaction; answers the person, the
/// privilege, and whether it is new.
pub async fn grant_admin(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    application: &str,
    production: Option<i64>,
) -> OperationResult<(User, grants::AdminPrivilege, bool)> {
    let mut tx = state.store.begin().await?;
    let user = people::visible_user(&mut tx, caller, user_id).await?;
    let scope = resolve_admin_scope(&mut tx, &state.catalogue, application, production).await?;
    let (privilege, new) = add_admin_privilege(&mut tx, caller, actor, &user, &scope).await?;
    tx.commit().await?;
    Ok((user, privilege, new))
}

/// Removes an admin privilege in its own transaction (see
/// `remove_admin_privilege`), unless it was the caller's own last admin
/// path (`keep_own_admin_path`); answers what was removed.
pub async fn remove_admin(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    privilege_id: &AdminPrivilegeId,
) -> OperationResult<AdminScope> {
    let mut tx = state.store.begin().await?;
    let (user, scope) = remove_admin_privilege(&mut tx, caller, actor, user_id, privilege_id).await?;
    keep_own_admin_path(&mut tx, &state.catalogue, caller, &user).await?;
    tx.commit().await?;
    Ok(scope)
}
