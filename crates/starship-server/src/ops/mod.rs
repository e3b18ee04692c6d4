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
pub mod grants;
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
use starship_core::authz::{self, Principal};
use starship_core::catalogue::RoleRef;
use starship_core::domain::{Email, Locale, Password, PersonName, UserStatus};
use starship_core::error::all4;
use starship_core::history::Kind;
use starship_core::ids::{GrantId, PartnerId, UserId};
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor, Source};
use starship_store::outbox::{self, NewMessage};
use starship_store::users::{self, NewUser, User};
use starship_store::{now_millis, partners, sessions, Conn, Store};

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

pub fn role_details(grant_id: &GrantId, role: &RoleRef) -> serde_json::Value {
    json!({
        "grant_id": grant_id,
        "application": role.application,
        "role": role.role,
        "production": role.production.map(|p| p.get()),
    })
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
    let throttle = sessions::Throttle::new(format!("elsewhere:{}", caller.user_id), ELSEWHERE_ANSWERS_PER_HOUR);
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
) -> OperationResult<(Vec<User>, Vec<Option<starship_store::grants::Grant>>)> {
    let mut tx = state.store.begin_read().await?;
    let people = visible_users(&mut tx, caller, user_ids).await?;
    let mut found = Vec::with_capacity(grant_ids.len());
    for id in grant_ids {
        let grant =
            starship_store::grants::get(&mut tx, id).await?.filter(|g| people.iter().any(|u| u.id == g.user_id));
        found.push(grant);
    }
    tx.commit().await?;
    Ok((people, found))
}
