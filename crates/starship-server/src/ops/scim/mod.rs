//! SCIM 2.0 provisioning, per partner: the partner's SCIM tokens, and the
//! Users a partner's identity provider creates, reads, changes and deletes.
//! A SCIM token acts with what its creator may do (checked at each use) and
//! writes History with source `scim` and the token's name as the actor.
//! Every change goes through the same parts as the API's (create a person,
//! edit a profile, deactivate, delete a contact).

pub mod groups;

use serde_json::{json, Map, Value};
use starship_core::authz::{self, Principal};
use starship_core::domain::{Email, Title};
use starship_core::history::Kind;
use starship_core::ids::{PartnerId, ScimTokenId, UserId};
use starship_core::scim_filter::{self, Attr, Filter, PatchPath};
use starship_core::Invalid;
use starship_store::history::{self, Actor, Source};
use starship_store::scim::{self, DirectoryUser, ScimFields, ScimToken, Sort};
use starship_store::users::{self, User};
use starship_store::{partners, Conn};

use crate::ops::users::{Identity, PersonInput, ProfileEdit};
use crate::ops::{self, OperationError, OperationResult};
use crate::security::{new_secret, secret_hash};
use crate::state::AppState;

/// The name a SCIM token gets when its creator gives none.
pub const DEFAULT_NAME: &str = "SCIM";

/// The most resources one list returns (ServiceProviderConfig's
/// `filter.maxResults`).
pub const MAX_RESULTS: i64 = 200;

/// Who may manage a partner's SCIM tokens, and what a token may do at each
/// use: the rule that decides creating that partner's users.
fn provisioning(caller: &Principal, state: &AppState, partner_id: &PartnerId) -> authz::Decision {
    authz::create_user(caller, &state.catalogue, partner_id)
}

/// A new token and its secret, shown this once.
pub struct Minted {
    pub token: ScimToken,
    pub secret: String,
}

pub async fn create_token(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    name: Option<&str>,
) -> OperationResult<Minted> {
    let by = caller.person()?;
    provisioning(caller, state, partner_id)?;
    let name = Title::parse("name", name.unwrap_or(DEFAULT_NAME))?;
    let secret = new_secret("sscim_");
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, partner_id).await?.ok_or(OperationError::NotFound)?;
    let token = scim::insert_token(&mut tx, partner_id, by, name.as_str(), &secret_hash(&secret)).await?;
    history::append(
        &mut tx,
        by,
        actor,
        Kind::ScimTokenCreated,
        json!({"token_id": token.id, "name": token.name, "partner_id": partner_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(Minted { token, secret })
}

pub async fn list_tokens(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<ScimToken>> {
    provisioning(caller, state, partner_id)?;
    let mut conn = state.store.conn().await?;
    partners::get(&mut conn, partner_id).await?.ok_or(OperationError::NotFound)?;
    Ok(scim::list_tokens(&mut conn, partner_id).await?)
}

pub async fn revoke_token(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    partner_id: &PartnerId,
    token_id: &ScimTokenId,
) -> OperationResult<()> {
    let by = caller.person()?;
    provisioning(caller, state, partner_id)?;
    let mut tx = state.store.begin().await?;
    let token = scim::revoke_token(&mut tx, partner_id, token_id).await?.ok_or(OperationError::NotFound)?;
    history::append(
        &mut tx,
        by,
        actor,
        Kind::ScimTokenRevoked,
        json!({"token_id": token.id, "name": token.name, "partner_id": partner_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A request's SCIM token with the creator it acts for.
pub struct ScimCaller {
    pub token: ScimToken,
    pub principal: Principal,
}

impl ScimCaller {
    pub fn partner_id(&self) -> &PartnerId {
        &self.token.partner_id
    }

    /// History names the token; its creator is the accountable person.
    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.token.created_by.clone()), label: self.token.name.clone(), source: Source::Scim }
    }
}

/// A SCIM error: status, `scimType` and what went wrong.
#[derive(Debug, Clone)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

pub type ScimResult<T> = Result<T, ScimError>;

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }
}

impl From<OperationError> for ScimError {
    fn from(e: OperationError) -> Self {
        let detail = e.to_string();
        match e {
            OperationError::Invalid(Invalid(errors)) => Self::invalid_value(
                errors.iter().map(|f| format!("{}: {}", f.field, f.reason)).collect::<Vec<_>>().join("; "),
            ),
            OperationError::BadRequest(d) => Self::new(400, Some("invalidSyntax"), d),
            OperationError::UnsupportedMediaType(d) => Self::new(415, None, d),
            OperationError::PayloadTooLarge => Self::new(413, Some("tooLarge"), detail),
            OperationError::Unauthenticated
            | OperationError::BadCredentials
            | OperationError::MfaRequired
            | OperationError::MfaCodeUsed => Self::new(401, None, "send a live SCIM token as Authorization: Bearer"),
            OperationError::Forbidden(why) => Self::new(403, None, why),
            OperationError::NotFound => Self::new(404, None, "no such resource"),
            OperationError::Conflict(d) => Self::new(409, Some("uniqueness"), d),
            OperationError::Throttled { .. } => Self::new(429, Some("tooMany"), detail),
            OperationError::Unavailable => Self::new(503, None, detail),
            OperationError::Internal(_) => Self::new(500, None, "internal error"),
        }
    }
}

impl From<starship_store::StoreError> for ScimError {
    fn from(e: starship_store::StoreError) -> Self {
        OperationError::from(e).into()
    }
}

impl From<starship_store::sqlx::Error> for ScimError {
    fn from(e: starship_store::sqlx::Error) -> Self {
        OperationError::from(e).into()
    }
}

/// The caller behind a bearer secret: a live SCIM token whose creator may
/// still sign in (401 otherwise) and may still create the partner's users
/// (403 otherwise). A personal API token is no SCIM token.
pub async fn authenticate(state: &AppState, bearer: Option<&str>) -> ScimResult<ScimCaller> {
    let unauthenticated = || ScimError::from(OperationError::Unauthenticated);
    let bearer = bearer.ok_or_else(unauthenticated)?;
    let mut conn = state.store.conn().await.map_err(OperationError::from)?;
    let token = scim::token_by_hash(&mut conn, &secret_hash(bearer)).await?.ok_or_else(unauthenticated)?;
    let creator = users::get(&mut conn, &token.created_by).await?.ok_or_else(unauthenticated)?;
    if !crate::ops::session::may_sign_in(&creator) {
        return Err(unauthenticated());
    }
    let principal = users::principal(&mut conn, &creator).await?;
    if provisioning(&principal, state, &token.partner_id).is_err() {
        return Err(ScimError::new(
            403,
            None,
            "the person who created this SCIM token may no longer create this partner's users",
        ));
    }
    Ok(ScimCaller { token, principal })
}

/// The ETag version of a user: it changes with every write.
pub fn version(user: &User) -> String {
    format!("W/\"{}\"", user.updated_at)
}

/// `If-Match`: `*` or one of the listed versions, else 412.
pub fn check_if_match(user: &User, if_match: Option<&str>) -> ScimResult<()> {
    check_version(&version(user), if_match)
}

/// `If-Match` against a resource's current version.
pub fn check_version(current: &str, if_match: Option<&str>) -> ScimResult<()> {
    let Some(wanted) = if_match else {
        return Ok(());
    };
    let bare = |v: &str| v.trim().trim_start_matches("W/").trim_matches('"').to_string();
    if wanted.split(',').any(|v| v.trim() == "*" || bare(v) == bare(current)) {
        Ok(())
    } else {
        Err(ScimError::new(412, None, "the resource changed since that version"))
    }
}

pub async fn get_user(state: &AppState, caller: &ScimCaller, id: &UserId) -> ScimResult<DirectoryUser> {
    let mut conn = state.store.conn().await.map_err(OperationError::from)?;
    load(&mut conn, caller, id).await
}

async fn load(conn: &mut Conn, caller: &ScimCaller, id: &UserId) -> ScimResult<DirectoryUser> {
    scim::get_user(conn, caller.partner_id(), id).await?.ok_or_else(|| OperationError::NotFound.into())
}

/// What a list asks for.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
}

/// A page of the partner's directory: (total, 1-based start, users).
pub async fn list_users(
    state: &AppState,
    caller: &ScimCaller,
    query: &ListQuery,
) -> ScimResult<(i64, i64, Vec<DirectoryUser>)> {
    let filter = match query.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(text) => Some(parse_filter(text)?),
        None => None,
    };
    let sort = match &query.sort_by {
        Some(by) => {
            let by = Attr::parse(by).ok_or_else(|| ScimError::new(400, Some("invalidValue"), "cannot sort by that"))?;
            let descending = query.sort_order.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("descending"));
            Some(Sort { by, descending })
        }
        None => None,
    };
    let start = query.start_index.unwrap_or(1).max(1);
    let count = query.count.unwrap_or(MAX_RESULTS).clamp(0, MAX_RESULTS);
    let mut conn = state.store.conn().await.map_err(OperationError::from)?;
    let (total, users) =
        scim::list_users(&mut conn, caller.partner_id(), filter.as_ref(), sort, start - 1, count).await?;
    Ok((total, start, users))
}

pub fn parse_filter(text: &str) -> ScimResult<Filter> {
    scim_filter::parse(text).map_err(|e| ScimError::new(400, Some("invalidFilter"), e.0))
}

/// A user as SCIM describes it, reduced to what Starship keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// SCIM's userName: the email, unless the provider names people otherwise.
    pub user_name: String,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub locale: String,
    pub external_id: Option<String>,
    pub active: bool,
    /// The enterprise User extension as sent.
    pub enterprise: Map<String, Value>,
}

impl Desired {
    pub fn of(current: &DirectoryUser) -> Self {
        Self {
            user_name: current.user_name.clone().unwrap_or_else(|| current.user.email.clone()),
            email: current.user.email.clone(),
            given_name: current.user.first_name.clone(),
            family_name: current.user.last_name.clone(),
            locale: current.user.locale.clone(),
            external_id: current.external_id.clone(),
            active: current.user.deactivated_at.is_none(),
            enterprise: current
                .enterprise
                .as_deref()
                .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
                .unwrap_or_default(),
        }
    }

    /// What the store keeps beside the profile: a userName only when it is
    /// not the email.
    fn fields(&self) -> ScimFields {
        ScimFields {
            external_id: self.external_id.clone(),
            user_name: (!self.user_name.eq_ignore_ascii_case(&self.email)).then(|| self.user_name.clone()),
            enterprise: (!self.enterprise.is_empty()).then(|| Value::Object(self.enterprise.clone()).to_string()),
        }
    }
}

async fn check_user_name(conn: &mut Conn, caller: &ScimCaller, desired: &Desired, except: &str) -> ScimResult<()> {
    if desired.user_name.trim().is_empty() {
        return Err(ScimError::invalid_value("userName is required"));
    }
    if scim::user_name_taken(conn, caller.partner_id(), &desired.user_name, except).await? {
        return Err(ScimError::new(409, Some("uniqueness"), "another person of this partner has this userName"));
    }
    Ok(())
}

/// Creates a user of the partner: the same path as the API's (History,
/// welcome email with its activation link).
pub async fn create_user(state: &AppState, caller: &ScimCaller, desired: &Desired) -> ScimResult<DirectoryUser> {
    {
        let mut conn = state.store.conn().await.map_err(OperationError::from)?;
        check_user_name(&mut conn, caller, desired, "").await?;
    }
    let input = PersonInput {
        email: desired.email.clone(),
        first_name: desired.given_name.clone(),
        last_name: desired.family_name.clone(),
        locale: desired.locale.clone(),
        portal_access: true,
        scim: Some(desired.fields()),
        ..Default::default()
    };
    let actor = caller.actor();
    let user = ops::users::create_person(state, &caller.principal, &actor, caller.partner_id(), &input).await?;
    if !desired.active {
        ops::users::set_deactivated(state, &caller.principal, &actor, &user.id, true).await?;
    }
    get_user(state, caller, &user.id).await
}

/// Creates users of the partner together, in one transaction through the
/// bulk write path the CSV import takes (`ops::users::create_users`): of
/// `desired`, the longest run from its start that `create_user`, called
/// for each in turn, would create without an error, and nothing else.
/// What ends the run (a bad field, a userName or address taken by the
/// partner's people, by anyone else's or by one earlier in the run, an
/// inactive user) is left to the caller to create through `create_user`,
/// so it gets that answer; so is the whole run when it cannot be written
/// (an address taken meanwhile by another request): then nothing of it is.
pub async fn create_users_together(state: &AppState, caller: &ScimCaller, desired: &[Desired]) -> Vec<DirectoryUser> {
    match write_together(state, caller, desired).await {
        Ok(created) => created,
        Err(error) => {
            tracing::warn!(error = %error.detail, "SCIM users created one by one: writing them together failed");
            Vec::new()
        }
    }
}

async fn write_together(state: &AppState, caller: &ScimCaller, desired: &[Desired]) -> ScimResult<Vec<DirectoryUser>> {
    let partner_id = caller.partner_id();
    // `create_person`'s rules for a SCIM token's creator, once for all.
    if authz::create_user(&caller.principal, &state.catalogue, partner_id).is_err()
        || authz::create_person(&caller.principal, &state.catalogue, partner_id, None).is_err()
    {
        return Ok(Vec::new());
    }
    let parsed: Vec<(&Desired, Identity)> = desired
        .iter()
        .map_while(|d| {
            let plain = d.active && !d.user_name.trim().is_empty();
            let identity = Identity::parse("", &d.email, &d.given_name, &d.family_name, &d.locale).ok();
            identity.filter(|_| plain).map(|identity| (d, identity))
        })
        .collect();
    if parsed.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let names: Vec<String> = parsed.iter().map(|(d, _)| d.user_name.to_lowercase()).collect();
    let emails: Vec<String> = parsed.iter().map(|(_, identity)| identity.email.normalized()).collect();
    let mut names_taken = scim::user_names_taken(&mut tx, partner_id, &names).await?;
    let mut emails_taken: std::collections::HashSet<String> =
        users::owners_of_emails(&mut tx, &emails).await?.into_iter().map(|(email, _)| email).collect();
    let mut run = Vec::with_capacity(parsed.len());
    for ((d, identity), (name, email)) in parsed.into_iter().zip(names.into_iter().zip(emails)) {
        if names_taken.contains(&name) || emails_taken.contains(&email) {
            break;
        }
        // A later userName may not repeat this one's, whichever of its
        // name and address the store compares (`user_name_taken`).
        names_taken.insert(d.email.to_lowercase());
        names_taken.insert(name);
        emails_taken.insert(email);
        run.push((d, identity));
    }
    if run.is_empty() {
        return Ok(Vec::new());
    }
    let identities: Vec<Identity> = run.iter().map(|(_, identity)| identity.clone()).collect();
    let actor = caller.actor();
    let users =
        ops::users::create_users(&mut tx, &state.config, &actor, partner_id, &identities, ops::users::Access::SignIn)
            .await?;
    let fields: Vec<ScimFields> = run.iter().map(|(d, _)| d.fields()).collect();
    let changes: Vec<(&str, &ScimFields)> = users.iter().map(|u| u.id.as_str()).zip(&fields).collect();
    let at = scim::set_fields_many(&mut tx, &changes).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(users
        .into_iter()
        .zip(fields)
        .map(|(user, fields)| DirectoryUser {
            user: User { updated_at: at, ..user },
            external_id: fields.external_id,
            user_name: fields.user_name,
            enterprise: fields.enterprise,
        })
        .collect())
}

/// Brings a user to the desired state in one transaction: profile, email,
/// SCIM fields, active. Each part goes through the rule and History entry
/// the API's own change uses.
pub async fn update_user(
    state: &AppState,
    caller: &ScimCaller,
    id: &UserId,
    if_match: Option<&str>,
    change: impl FnOnce(&DirectoryUser) -> ScimResult<Desired>,
) -> ScimResult<DirectoryUser> {
    let actor = caller.actor();
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let current = load(&mut tx, caller, id).await?;
    check_if_match(&current.user, if_match)?;
    let desired = change(&current)?;
    check_user_name(&mut tx, caller, &desired, &current.user.id).await?;
    let before = Desired::of(&current);
    let mut user = current.user.clone();
    if desired.given_name != before.given_name
        || desired.family_name != before.family_name
        || desired.locale != before.locale
    {
        let edit = ProfileEdit {
            first_name: Some(desired.given_name.clone()),
            last_name: Some(desired.family_name.clone()),
            locale: Some(desired.locale.clone()),
            phone: None,
        };
        user = ops::users::edit_profile_in(&mut tx, state, &caller.principal, &actor, &user, &edit).await?;
    }
    if !desired.email.eq_ignore_ascii_case(&before.email) {
        let email = Email::parse("emails.value", &desired.email).map_err(OperationError::from)?;
        ops::users::change_email_in(&mut tx, state, &caller.principal, &actor, &user, &email).await?;
    }
    let (was, will) = (before.fields(), desired.fields());
    if was != will {
        scim::set_fields(&mut tx, &user.id, &will).await?;
        let mut diff = Map::new();
        for (field, from, to) in [
            ("external_id", &was.external_id, &will.external_id),
            ("scim_user_name", &was.user_name, &will.user_name),
            ("enterprise", &was.enterprise, &will.enterprise),
        ] {
            if from != to {
                diff.insert(field.into(), json!({"from": from, "to": to}));
            }
        }
        history::append(&mut tx, &user.id, &actor, Kind::UserUpdated, Value::Object(diff)).await?;
    }
    if desired.active != before.active {
        ops::users::set_deactivated_in(&mut tx, state, &caller.principal, &actor, &user, !desired.active).await?;
    }
    let updated = load(&mut tx, caller, id).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(updated)
}

/// Removes a user from the partner's directory, under the rule for
/// administering a person: the API's contact deletion, History kept.
pub async fn delete_user(state: &AppState, caller: &ScimCaller, id: &UserId, if_match: Option<&str>) -> ScimResult<()> {
    let mut tx = state.store.begin().await.map_err(OperationError::from)?;
    let current = load(&mut tx, caller, id).await?;
    check_if_match(&current.user, if_match)?;
    let user = &current.user;
    let held = users::principal(&mut tx, user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    authz::act_on_person(
        &caller.principal,
        &held,
        authz::administer_person(&caller.principal, &state.catalogue, (&user.id, caller.partner_id()), standing),
    )
    .map_err(OperationError::from)?;
    groups::leave_all(&mut tx, &caller.actor(), caller.partner_id(), &user.id).await?;
    crate::ops::contacts::delete_in(&mut tx, user, &caller.actor()).await?;
    tx.commit().await.map_err(OperationError::from)?;
    Ok(())
}

/// The enterprise User extension's schema URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn is_enterprise(key: &str) -> bool {
    key.eq_ignore_ascii_case(ENTERPRISE)
}

/// An enterprise attribute path (`urn:…:enterprise:2.0:User:department`),
/// as its part after the URN.
fn enterprise_attribute(path: &str) -> Option<&str> {
    let prefix = ENTERPRISE.len();
    (path.len() > prefix + 1 && path[..prefix].eq_ignore_ascii_case(ENTERPRISE) && &path[prefix..=prefix] == ":")
        .then(|| &path[prefix + 1..])
}

/// Booleans as identity providers send them: `true`, `"True"`, `"false"`.
pub fn boolean(value: &Value) -> ScimResult<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ScimError::invalid_value(format!("expected a boolean, got {other}"))),
    }
}

pub(crate) fn string(value: &Value, what: &str) -> ScimResult<String> {
    value.as_str().map(str::to_string).ok_or_else(|| ScimError::invalid_value(format!("{what} must be a string")))
}

fn object<'a>(value: &'a Value, what: &str) -> ScimResult<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| ScimError::invalid_value(format!("{what} must be an object")))
}

/// The address a SCIM `emails` array names: its primary one, or the first.
fn email_of(value: &Value) -> ScimResult<Option<String>> {
    let items = match value {
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![value.clone()],
        _ => return Err(ScimError::invalid_value("emails must be an array")),
    };
    let primary = items.iter().find(|e| e.get("primary").map(boolean).transpose().ok().flatten() == Some(true));
    match primary.or(items.first()) {
        Some(item) => Ok(Some(string(item.get("value").unwrap_or(&Value::Null), "emails.value")?)),
        None => Ok(None),
    }
}

/// Sets one enterprise attribute (`department`, `manager.value`).
fn set_enterprise(enterprise: &mut Map<String, Value>, attribute: &str, value: &Value) {
    match attribute.split_once('.') {
        Some((outer, inner)) => {
            let entry = enterprise.entry(outer.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Some(map) = entry.as_object_mut() {
                map.insert(inner.to_string(), value.clone());
            }
        }
        None => {
            enterprise.insert(attribute.to_string(), value.clone());
        }
    }
}

fn remove_enterprise(enterprise: &mut Map<String, Value>, attribute: &str) {
    match attribute.split_once('.') {
        Some((outer, inner)) => {
            if let Some(map) = enterprise.get_mut(outer).and_then(Value::as_object_mut) {
                map.remove(inner);
            }
        }
        None => {
            enterprise.remove(attribute);
        }
    }
}

/// Reads a whole User resource (POST, PUT). Attributes Starship does not
/// keep are refused, read-only ones ignored, as RFC 7643 says. The email
/// is the primary of `emails`, or else `userName` when it is an address.
pub fn desired_from_resource(body: &Value, current: Option<&Desired>) -> ScimResult<Desired> {
    let body = object(body, "the body")?;
    let mut desired = Desired {
        user_name: String::new(),
        email: String::new(),
        given_name: String::new(),
        family_name: String::new(),
        locale: "en-US".into(),
        external_id: None,
        active: true,
        enterprise: Map::new(),
    };
    let mut email = None;
    for (key, value) in body {
        if is_enterprise(key) {
            desired.enterprise = object(value, "the enterprise extension")?.clone();
            continue;
        }
        match key.to_ascii_lowercase().as_str() {
            "schemas" | "id" | "meta" | "displayname" | "groups" => {}
            "username" => desired.user_name = string(value, "userName")?,
            "externalid" => desired.external_id = value.as_str().map(str::to_string),
            "active" => desired.active = boolean(value)?,
            "locale" | "preferredlanguage" => {
                if let Some(l) = value.as_str() {
                    desired.locale = l.to_string();
                }
            }
            "name" => {
                for (k, v) in object(value, "name")? {
                    match k.to_ascii_lowercase().as_str() {
                        "givenname" => desired.given_name = string(v, "name.givenName")?,
                        "familyname" => desired.family_name = string(v, "name.familyName")?,
                        "formatted" | "middlename" | "honorificprefix" | "honorificsuffix" => {}
                        other => return Err(ScimError::invalid_value(format!("unknown attribute name.{other}"))),
                    }
                }
            }
            "emails" => email = email_of(value)?,
            other => return Err(ScimError::invalid_value(format!("unknown attribute '{other}'"))),
        }
    }
    if desired.user_name.is_empty() {
        return Err(ScimError::invalid_value("userName is required"));
    }
    desired.email = match email {
        Some(email) => email,
        None if Email::parse("userName", &desired.user_name).is_ok() => desired.user_name.clone(),
        None => return Err(ScimError::invalid_value("emails is required when userName is not an email address")),
    };
    if let Some(current) = current {
        if desired.given_name.is_empty() {
            desired.given_name = current.given_name.clone();
        }
        if desired.family_name.is_empty() {
            desired.family_name = current.family_name.clone();
        }
    }
    Ok(desired)
}

/// One operation of a PatchOp request: its op in lower case (identity
/// providers capitalise it), its path unless empty, and its value.
pub(crate) struct PatchOperation<'a> {
    pub op: String,
    pub path: Option<&'a str>,
    pub value: Option<&'a Value>,
}

/// The operations of a PatchOp request, in order.
pub(crate) fn patch_operations(body: &Value) -> ScimResult<Vec<PatchOperation<'_>>> {
    let body = object(body, "the body")?;
    let operations = body
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "a PatchOp needs Operations"))?;
    operations
        .iter()
        .map(|operation| {
            let op = operation
                .get("op")
                .and_then(Value::as_str)
                .ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "each operation needs an op"))?
                .to_ascii_lowercase();
            let path = operation.get("path").and_then(Value::as_str).map(str::trim).filter(|p| !p.is_empty());
            Ok(PatchOperation { op, path, value: operation.get("value") })
        })
        .collect()
}

/// Applies a PatchOp request to a user's desired state. Ops may be
/// capitalised, may carry no path (a value object, dotted keys allowed),
/// and may target `emails[type eq "work"].value`. A userName that was the
/// email keeps being the email when either of them changes alone.
pub fn apply_patch(current: &Desired, body: &Value) -> ScimResult<Desired> {
    let mut desired = current.clone();
    let mut emails_touched = false;
    for PatchOperation { op, path, value } in patch_operations(body)? {
        match (op.as_str(), path) {
            ("add" | "replace", Some(path)) => {
                let value = value.ok_or_else(|| ScimError::invalid_value("this operation needs a value"))?;
                emails_touched |= set(&mut desired, path, value)?;
            }
            ("add" | "replace", None) => {
                let value = object(value.unwrap_or(&Value::Null), "without a path, the value")?;
                for (key, v) in value {
                    if is_enterprise(key) {
                        for (k, v) in object(v, "the enterprise extension")? {
                            set_enterprise(&mut desired.enterprise, k, v);
                        }
                    } else if key.eq_ignore_ascii_case("name") {
                        for (k, v) in object(v, "name")? {
                            set(&mut desired, &format!("name.{k}"), v)?;
                        }
                    } else {
                        emails_touched |= set(&mut desired, key, v)?;
                    }
                }
            }
            ("remove", Some(path)) => remove(&mut desired, path)?,
            ("remove", None) => return Err(ScimError::new(400, Some("noTarget"), "remove needs a path")),
            (other, _) => return Err(ScimError::new(400, Some("invalidSyntax"), format!("unknown op '{other}'"))),
        }
    }
    if !emails_touched
        && desired.user_name != current.user_name
        && current.user_name.eq_ignore_ascii_case(&current.email)
        && Email::parse("userName", &desired.user_name).is_ok()
    {
        desired.email = desired.user_name.clone();
    }
    if emails_touched
        && desired.user_name == current.user_name
        && current.user_name.eq_ignore_ascii_case(&current.email)
    {
        desired.user_name = desired.email.clone();
    }
    Ok(desired)
}

fn parse_path(path: &str) -> ScimResult<PatchPath> {
    scim_filter::parse_patch_path(path).map_err(|e| ScimError::new(400, Some("invalidPath"), e.0))
}

/// Sets one attribute; says whether it was the email.
fn set(desired: &mut Desired, path: &str, value: &Value) -> ScimResult<bool> {
    if let Some(attribute) = enterprise_attribute(path) {
        set_enterprise(&mut desired.enterprise, attribute, value);
        return Ok(false);
    }
    if is_enterprise(path) {
        desired.enterprise = object(value, "the enterprise extension")?.clone();
        return Ok(false);
    }
    let path = parse_path(path)?;
    if let Some(filter) = &path.email_filter {
        if !filter.matches(&desired.email) {
            return Err(ScimError::new(400, Some("noTarget"), "no email matches that filter"));
        }
        return match path.sub_attribute.as_deref() {
            Some("value") => {
                desired.email = string(value, "emails.value")?;
                Ok(true)
            }
            Some("type" | "primary" | "display") => Ok(false),
            None => {
                if let Some(v) = value.get("value") {
                    desired.email = string(v, "emails.value")?;
                }
                Ok(true)
            }
            Some(other) => Err(ScimError::new(400, Some("invalidPath"), format!("emails has no '{other}'"))),
        };
    }
    match path.attribute.as_str() {
        "username" => desired.user_name = string(value, "userName")?,
        "emails.value" => {
            desired.email = string(value, "emails.value")?;
            return Ok(true);
        }
        "emails" => {
            if let Some(email) = email_of(value)? {
                desired.email = email;
            }
            return Ok(true);
        }
        "emails.type" | "emails.primary" | "emails.display" => {}
        "name.givenname" => desired.given_name = string(value, "name.givenName")?,
        "name.familyname" => desired.family_name = string(value, "name.familyName")?,
        "name" => {
            for (k, v) in object(value, "name")? {
                set(desired, &format!("name.{k}"), v)?;
            }
        }
        "name.formatted" | "displayname" => {}
        "externalid" => desired.external_id = value.as_str().map(str::to_string),
        "active" => desired.active = boolean(value)?,
        "locale" | "preferredlanguage" => desired.locale = string(value, "locale")?,
        "id" | "meta" | "schemas" => {
            return Err(ScimError::new(400, Some("mutability"), format!("'{}' cannot be changed", path.attribute)))
        }
        other => return Err(ScimError::new(400, Some("invalidPath"), format!("unknown attribute '{other}'"))),
    }
    Ok(false)
}

fn remove(desired: &mut Desired, path: &str) -> ScimResult<()> {
    if let Some(attribute) = enterprise_attribute(path) {
        remove_enterprise(&mut desired.enterprise, attribute);
        return Ok(());
    }
    if is_enterprise(path) {
        desired.enterprise.clear();
        return Ok(());
    }
    let path = parse_path(path)?;
    match path.attribute.as_str() {
        "externalid" => desired.external_id = None,
        "locale" | "preferredlanguage" => desired.locale = "en-US".into(),
        "active" => desired.active = true,
        "displayname" | "name.formatted" | "emails.type" | "emails.primary" | "emails.display" => {}
        "username" | "name.givenname" | "name.familyname" | "name" | "emails" | "emails.value" | "id" => {
            return Err(ScimError::new(400, Some("mutability"), format!("'{}' is required", path.attribute)))
        }
        other => return Err(ScimError::new(400, Some("invalidPath"), format!("unknown attribute '{other}'"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> Desired {
        Desired {
            user_name: "jane@example.com".into(),
            email: "jane@example.com".into(),
            enterprise: Map::new(),
            given_name: "Jane".into(),
            family_name: "Doe".into(),
            locale: "en-US".into(),
            external_id: Some("e1".into()),
            active: true,
        }
    }

    #[test]
    fn capitalised_ops_and_string_booleans_are_understood() {
        let d = apply_patch(&jane(), &json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}))
            .unwrap();
        assert!(!d.active);
        let d = apply_patch(&jane(), &json!({"Operations": [{"op": "Add", "path": "name.givenName", "value": "J"}]}))
            .unwrap();
        assert_eq!(d.given_name, "J");
    }

    #[test]
    fn a_value_object_without_path_may_use_dotted_keys() {
        let d = apply_patch(
            &jane(),
            &json!({"Operations": [{"op": "replace", "value": {"name.familyName": "Roe", "active": false,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"}}}]}),
        )
        .unwrap();
        assert_eq!((d.family_name.as_str(), d.active), ("Roe", false));
        assert_eq!(d.enterprise["department"], "Ops");
    }

    #[test]
    fn a_value_path_filter_targets_the_work_email() {
        let d = apply_patch(
            &jane(),
            &json!({"Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "j@example.com"}]}),
        )
        .unwrap();
        assert_eq!(d.email, "j@example.com");
        let e = apply_patch(
            &jane(),
            &json!({"Operations": [{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}]}),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
    }

    #[test]
    fn unknown_attributes_and_required_removals_are_refused() {
        let e = apply_patch(&jane(), &json!({"Operations": [{"op": "replace", "path": "nickName", "value": "x"}]}))
            .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidPath"));
        let e = apply_patch(&jane(), &json!({"Operations": [{"op": "remove", "path": "userName"}]})).unwrap_err();
        assert_eq!(e.scim_type, Some("mutability"));
        let d = apply_patch(&jane(), &json!({"Operations": [{"op": "remove", "path": "externalId"}]})).unwrap();
        assert_eq!(d.external_id, None);
        let e = desired_from_resource(&json!({"userName": "a@b.c", "nickName": "x"}), None).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        let e = desired_from_resource(&json!({"userName": "jdoe"}), None).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"), "no email at all");
    }

    #[test]
    fn a_user_name_that_was_the_email_keeps_being_it_and_another_stands_apart() {
        let d = apply_patch(
            &jane(),
            &json!({"Operations": [{"op": "replace", "path": "userName", "value": "jd@example.com"}]}),
        )
        .unwrap();
        assert_eq!((d.user_name.as_str(), d.email.as_str()), ("jd@example.com", "jd@example.com"));
        let d = apply_patch(&jane(), &json!({"Operations": [{"op": "replace", "path": "userName", "value": "jdoe"}]}))
            .unwrap();
        assert_eq!((d.user_name.as_str(), d.email.as_str()), ("jdoe", "jane@example.com"));
        let d =
            desired_from_resource(&json!({"userName": "jdoe", "emails": [{"value": "j@x.io", "primary": true}]}), None)
                .unwrap();
        assert_eq!((d.user_name.as_str(), d.email.as_str()), ("jdoe", "j@x.io"));
    }
}
