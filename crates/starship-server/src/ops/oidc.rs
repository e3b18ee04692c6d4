//! Starship as the OpenID Connect provider of its applications: the
//! authorization code flow with PKCE, the token endpoint's three grants,
//! userinfo, revocation (RFC 7009), introspection (RFC 7662) and
//! RP-initiated logout.
//!
//! Codes and tokens are random secrets kept as hashes; ID tokens are JWTs
//! signed with the store's key (`ops::keys`), so every instance issues and
//! verifies alike. Tokens live in families (`starship_store::oidc`): a
//! refresh rotates within its family, and a reused refresh token or code
//! ends the family whole. A person holds a family only while they may sign
//! in and hold a role in the client's application: a refresh re-reads both,
//! and fails once a grant held at the last refresh is gone.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use starship_core::authz;
use starship_core::catalogue::RoleRef;
use starship_core::history::Kind;
use starship_core::ids::{ClientId, GrantId, UserId};
use starship_store::clients::{self, Client};
use starship_store::history::{self, Actor, Source};
use starship_store::oidc::{self as store, Redeemed, Token, TokenKind};
use starship_store::users::User;
use starship_store::{grants, now_millis, partners, sessions, users, Conn};

use crate::jwt::Key;
use crate::ops::OperationError;
use crate::security::{new_secret, same_secret, secret_hash};
use crate::state::AppState;

/// How long an authorization code may wait for its exchange.
pub const CODE_TTL_MS: i64 = 60_000;

/// The scopes the provider knows; others are ignored, as OIDC allows.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// An RFC 6749 §5.2 error: the JSON a client reads.
#[derive(Debug)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self { error, description: description.into() }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_client() -> Self {
        Self::new("invalid_client", "the client is unknown, revoked, or its secret is not right")
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    fn unauthorized_client(grant: &str) -> Self {
        Self::new("unauthorized_client", format!("this client is not registered for {grant}"))
    }

    /// The HTTP status RFC 6749 gives the error.
    pub fn status(&self) -> u16 {
        match self.error {
            "invalid_client" => 401,
            "invalid_token" => 401,
            "server_error" => 500,
            _ => 400,
        }
    }
}

impl From<OperationError> for OAuthError {
    fn from(error: OperationError) -> Self {
        tracing::error!(%error, "OpenID Connect request failed");
        Self::new("server_error", "the server could not complete the request")
    }
}

impl From<starship_store::sqlx::Error> for OAuthError {
    fn from(error: starship_store::sqlx::Error) -> Self {
        OperationError::from(starship_store::StoreError::from(error)).into()
    }
}

impl From<starship_store::StoreError> for OAuthError {
    fn from(error: starship_store::StoreError) -> Self {
        OperationError::from(error).into()
    }
}

type OAuthResult<T> = Result<T, OAuthError>;

/// How a client proved who it is: the `Authorization: Basic` header, or
/// `client_id` and `client_secret` in the form.
pub struct ClientAuth {
    pub client_id: ClientId,
    pub secret: String,
}

/// The live client these credentials name.
async fn authenticate(conn: &mut Conn, auth: Option<&ClientAuth>) -> OAuthResult<Client> {
    let auth = auth.ok_or_else(OAuthError::invalid_client)?;
    match clients::by_client_id(conn, &auth.client_id).await? {
        Some((client, hash)) if same_secret(&hash, &secret_hash(&auth.secret)) => Ok(client),
        _ => Err(OAuthError::invalid_client()),
    }
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)).
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A person's roles in one application, as tokens carry them.
fn roles_in<'a>(roles: &'a [RoleRef], application: &str) -> Vec<&'a RoleRef> {
    roles.iter().filter(|r| r.application == application).collect()
}

/// The claims about a person an application reads (ID token, userinfo).
async fn person_claims(
    state: &AppState,
    conn: &mut Conn,
    user: &User,
    roles: &[RoleRef],
    application: &str,
) -> OAuthResult<Map<String, Value>> {
    let partner = match &user.partner_id {
        Some(id) => partners::get(conn, id).await?.map(|p| json!({"id": p.id, "name": p.name})),
        None => None,
    };
    let held = roles_in(roles, application);
    let production = |r: &RoleRef| r.production.map(|p| p.get());
    let role_claims: Vec<Value> = held
        .iter()
        .map(|r| match production(r) {
            Some(p) => json!({"role": r.role, "production": p}),
            None => json!({"role": r.role}),
        })
        .collect();
    let mut capabilities: Vec<(String, Option<i64>)> = held
        .iter()
        .flat_map(|r| {
            let opened = state.catalogue.role(application, &r.role).map(|c| c.capabilities.clone()).unwrap_or_default();
            opened.into_iter().map(move |c| (c, production(r)))
        })
        .collect();
    capabilities.sort();
    capabilities.dedup();
    let capability_claims: Vec<Value> = capabilities
        .into_iter()
        .map(|(c, p)| match p {
            Some(p) => json!({"capability": c, "production": p}),
            None => json!({"capability": c}),
        })
        .collect();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    claims.insert("email".into(), json!(user.email));
    // An active account set its password from the link emailed to it.
    claims.insert("email_verified".into(), json!(user.status == starship_core::domain::UserStatus::Active));
    claims.insert("name".into(), json!(user.full_name()));
    claims.insert("given_name".into(), json!(user.first_name));
    claims.insert("family_name".into(), json!(user.last_name));
    claims.insert("locale".into(), json!(user.locale));
    claims.insert("partner".into(), partner.unwrap_or(Value::Null));
    claims.insert("roles".into(), json!(role_claims));
    claims.insert("capabilities".into(), json!(capability_claims));
    Ok(claims)
}

/// The provider's metadata (OpenID Connect Discovery 1.0).
pub fn discovery(state: &AppState) -> Value {
    let issuer = &state.config.public_url;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "jwks_uri": format!("{issuer}/oauth2/jwks"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "end_session_endpoint": format!("{issuer}/oauth2/end-session"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "email",
            "email_verified", "name", "given_name", "family_name", "locale", "partner", "roles", "capabilities"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

/// What the authorization endpoint was asked (OIDC Core §3.1.2.1).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: Option<ClientId>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
}

/// The signed-in person at the authorization endpoint.
pub struct Authorizing<'a> {
    pub user: &'a User,
    pub roles: &'a [RoleRef],
    pub session_hash: &'a str,
}

pub enum Authorized {
    /// The client or its redirect URI could not be verified: say so on a
    /// Starship page, never redirect.
    Refused(String),
    /// The person must sign in first, then come back.
    SignIn,
    /// Send the browser to the client: a code, or an error, with `state`.
    Redirect(String),
}

/// Adds query parameters to a registered redirect URI.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        out.push_str(name);
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        separator = '&';
    }
    out
}

/// The authorization endpoint: verifies the client and its redirect URI
/// first (no redirect before that), then the request, then the person.
pub async fn authorize(
    state: &AppState,
    person: Option<Authorizing<'_>>,
    request: &AuthorizeRequest,
) -> Result<Authorized, OperationError> {
    let mut conn = state.store.conn().await?;
    let Some(client_id) = request.client_id.as_ref().filter(|c| !c.is_empty()) else {
        return Ok(Authorized::Refused("The application did not say who it is (client_id is missing).".into()));
    };
    let Some((client, _)) = clients::by_client_id(&mut conn, client_id).await? else {
        return Ok(Authorized::Refused("This application is not registered with Starship, or was revoked.".into()));
    };
    let Some(redirect_uri) = request.redirect_uri.as_deref().filter(|r| client.redirect_uris.iter().any(|u| u == r))
    else {
        return Ok(Authorized::Refused(
            "The address this application asked to return to is not one registered for it.".into(),
        ));
    };
    let issuer = state.config.public_url.as_str();
    let client_state = request.state.as_deref();
    let back = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(s) = client_state {
            params.push(("state", s));
        }
        params.push(("iss", issuer));
        Ok(Authorized::Redirect(with_query(redirect_uri, &params)))
    };
    if !client.allows_grant("authorization_code") {
        return back("unauthorized_client", "this client is not registered for the authorization code flow");
    }
    if request.response_type.as_deref() != Some("code") {
        return back("unsupported_response_type", "only response_type=code is supported");
    }
    let scope = request.scope.as_deref().unwrap_or("");
    if !scope.split(' ').any(|s| s == "openid") {
        return back("invalid_scope", "the scope must include openid");
    }
    let challenge = request.code_challenge.as_deref().unwrap_or("");
    if request.code_challenge_method.as_deref() != Some("S256") || challenge.len() != 43 {
        return back("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256");
    }
    if request.nonce.as_deref().is_some_and(|n| n.len() > 512) || client_state.is_some_and(|s| s.len() > 2000) {
        return back("invalid_request", "nonce or state is too long");
    }
    let prompt_none = request.prompt.as_deref().is_some_and(|p| p.split(' ').any(|p| p == "none"));
    let Some(person) = person else {
        if prompt_none {
            return back("login_required", "the person is not signed in to Starship");
        }
        return Ok(Authorized::SignIn);
    };
    if authz::sign_in_to_application(person.roles, &client.application).is_err() {
        return back("access_denied", "this person holds no role in the application");
    }
    let scope: Vec<&str> = scope.split(' ').filter(|s| SCOPES.contains(s)).collect();
    let auth_time = sessions::started_at(&mut conn, person.session_hash).await?.unwrap_or_else(now_millis);
    drop(conn);
    let code = new_secret("sac_");
    let mut tx = state.store.begin().await?;
    store::insert_code(
        &mut tx,
        &secret_hash(&code),
        &store::Code {
            client_id: client.id.clone(),
            user_id: person.user.id.clone(),
            redirect_uri: redirect_uri.to_string(),
            code_challenge: challenge.to_string(),
            nonce: request.nonce.clone(),
            scope: scope.join(" "),
            auth_time,
            expires_at: now_millis() + CODE_TTL_MS,
            used_at: None,
            family_id: None,
        },
    )
    .await?;
    tx.commit().await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    Ok(Authorized::Redirect(with_query(redirect_uri, &params)))
}

/// The token endpoint's answer (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, serde::Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

/// The History entry of a refused reuse, in the person's History.
async fn record_reuse(
    conn: &mut Conn,
    client: &Client,
    user_id: Option<&UserId>,
    what: &str,
    ended: bool,
) -> OAuthResult<()> {
    if let Some(user_id) = user_id {
        let actor = Actor { user_id: None, label: client.name.clone(), source: Source::Oidc };
        history::append(
            conn,
            user_id,
            &actor,
            Kind::TokenReuseRefused,
            json!({"client_id": client.client_id, "application": client.application, "reused": what,
                   "family_ended": ended}),
        )
        .await?;
    }
    Ok(())
}

/// The grants a person holds in an application now, and their ids.
async fn held_in(conn: &mut Conn, user_id: &UserId, application: &str) -> OAuthResult<(Vec<RoleRef>, Vec<GrantId>)> {
    let held: Vec<_> = grants::of_user(conn, user_id).await?;
    let roles = held.iter().map(|g| g.role.clone()).collect();
    let ids = held.iter().filter(|g| g.role.application == application).map(|g| g.id.clone()).collect();
    Ok((roles, ids))
}

/// The token endpoint: `params` is the form, each name at most once.
pub async fn token(
    state: &AppState,
    auth: Option<&ClientAuth>,
    params: &std::collections::HashMap<String, String>,
) -> OAuthResult<Tokens> {
    let grant_type = params.get("grant_type").map(String::as_str).unwrap_or("");
    if grant_type.is_empty() {
        return Err(OAuthError::invalid_request("grant_type is missing"));
    }
    if !matches!(grant_type, "authorization_code" | "refresh_token" | "client_credentials") {
        return Err(OAuthError::new("unsupported_grant_type", format!("{grant_type} is not supported")));
    }
    let client = {
        let mut conn = state.store.conn().await?;
        authenticate(&mut conn, auth).await?
    };
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(grant_type));
    }
    let required = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
    };
    match grant_type {
        "authorization_code" => {
            let (code, redirect_uri, verifier) =
                (required("code")?, required("redirect_uri")?, required("code_verifier")?);
            exchange_code(state, &client, code, redirect_uri, verifier).await
        }
        "refresh_token" => refresh(state, &client, required("refresh_token")?).await,
        _ => client_credentials(state, &client).await,
    }
}

async fn exchange_code(
    state: &AppState,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> OAuthResult<Tokens> {
    let code_hash = secret_hash(code);
    let mut tx = state.store.begin().await?;
    let code = match store::redeem_code(&mut tx, &code_hash).await? {
        Redeemed::Unknown => return Err(OAuthError::invalid_grant("the code is not valid")),
        Redeemed::Used(used) => {
            if used.client_id != client.id {
                return Err(OAuthError::invalid_grant("the code is not valid"));
            }
            // RFC 6749 §4.1.2: a replayed code revokes what it gave.
            let ended = match &used.family_id {
                Some(family) => store::end_family(&mut tx, family, "authorization code reused").await?,
                None => false,
            };
            record_reuse(&mut tx, client, Some(&used.user_id), "authorization_code", ended).await?;
            tx.commit().await?;
            return Err(OAuthError::invalid_grant("the code was used already"));
        }
        Redeemed::Fresh(code) => code,
    };
    // Another client's code is not burnt by this one's attempt.
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant("the code is not valid"));
    }
    let refusal = if code.expires_at <= now_millis() {
        Some("the code has expired")
    } else if code.redirect_uri != redirect_uri {
        Some("redirect_uri is not the one the code was issued for")
    } else if !valid_verifier(verifier) || !same_secret(&s256(verifier), &code.code_challenge) {
        Some("the code_verifier does not match the code_challenge")
    } else {
        None
    };
    if let Some(refusal) = refusal {
        // The code stays spent: a wrong verifier may not be tried again.
        tx.commit().await?;
        return Err(OAuthError::invalid_grant(refusal));
    }
    let user = users::get(&mut tx, &code.user_id).await?.filter(crate::ops::session::may_sign_in);
    let Some(user) = user else {
        tx.commit().await?;
        return Err(OAuthError::invalid_grant("this person may no longer sign in"));
    };
    let (roles, grant_ids) = held_in(&mut tx, &user.id, &client.application).await?;
    if grant_ids.is_empty() {
        tx.commit().await?;
        return Err(OAuthError::invalid_grant("this person holds no role in the application"));
    }
    let family =
        store::insert_family(&mut tx, &client.id, Some(&user.id), &code.scope, Some(code.auth_time), &grant_ids)
            .await?;
    store::set_code_family(&mut tx, &code_hash, &family.id).await?;
    let tokens = issue(state, &mut tx, client, &family, Some((&user, &roles)), code.nonce.as_deref()).await?;
    tx.commit().await?;
    Ok(tokens)
}

async fn refresh(state: &AppState, client: &Client, refresh_token: &str) -> OAuthResult<Tokens> {
    let hash = secret_hash(refresh_token);
    let mut tx = state.store.begin().await?;
    let token = store::token(&mut tx, &hash).await?;
    let Some(token) = token.filter(|t| t.kind == TokenKind::Refresh && t.family.client_id == client.id) else {
        return Err(OAuthError::invalid_grant("the refresh token is not valid"));
    };
    let family = token.family.clone();
    if token.used_at.is_some() {
        let refused = refuse_reuse(&mut tx, client, &family).await?;
        tx.commit().await?;
        return Err(refused);
    }
    if !token.live(now_millis()) {
        return Err(OAuthError::invalid_grant("the refresh token has expired or was revoked"));
    }
    if !store::use_refresh_token(&mut tx, &hash).await? {
        let refused = refuse_reuse(&mut tx, client, &family).await?;
        tx.commit().await?;
        return Err(refused);
    }
    let end = |reason: &'static str| (reason, OAuthError::invalid_grant(reason));
    let user = match &family.user_id {
        Some(id) => users::get(&mut tx, id).await?,
        None => None,
    };
    let refused = match user.as_ref().filter(|u| crate::ops::session::may_sign_in(u)) {
        None => Err(end("this person may no longer sign in")),
        Some(user) => {
            let (roles, grant_ids) = held_in(&mut tx, &user.id, &client.application).await?;
            if grant_ids.is_empty() {
                Err(end("this person no longer holds a role in the application"))
            } else if family.grant_ids.iter().any(|g| !grant_ids.contains(g)) {
                Err(end("a role this sign-in was given has been revoked"))
            } else {
                Ok((user, roles, grant_ids))
            }
        }
    };
    let (user, roles, grant_ids) = match refused {
        Ok(held) => held,
        Err((reason, error)) => {
            store::end_family(&mut tx, &family.id, reason).await?;
            tx.commit().await?;
            return Err(error);
        }
    };
    store::set_family_grants(&mut tx, &family.id, &grant_ids).await?;
    let tokens = issue(state, &mut tx, client, &family, Some((user, &roles)), None).await?;
    tx.commit().await?;
    Ok(tokens)
}

/// A refresh token used twice: whoever holds the family may be a thief, so
/// it ends whole, and History says so; the caller commits.
async fn refuse_reuse(tx: &mut starship_store::Tx, client: &Client, family: &store::Family) -> OAuthResult<OAuthError> {
    let ended = store::end_family(tx, &family.id, "refresh token reused").await?;
    record_reuse(tx, client, family.user_id.as_ref(), "refresh_token", ended).await?;
    Ok(OAuthError::invalid_grant("the refresh token was used already: its sign-in has ended"))
}

async fn client_credentials(state: &AppState, client: &Client) -> OAuthResult<Tokens> {
    let mut tx = state.store.begin().await?;
    let family = store::insert_family(&mut tx, &client.id, None, "", None, &[]).await?;
    let tokens = issue(state, &mut tx, client, &family, None, None).await?;
    tx.commit().await?;
    Ok(tokens)
}

/// New tokens of a family: an access token; for a person, a refresh token
/// (when the client may refresh) and an ID token.
async fn issue(
    state: &AppState,
    conn: &mut Conn,
    client: &Client,
    family: &store::Family,
    person: Option<(&User, &[RoleRef])>,
    nonce: Option<&str>,
) -> OAuthResult<Tokens> {
    let now = now_millis();
    let ttl = state.config.access_token_ttl;
    let access_token = new_secret("sat_");
    store::insert_token(conn, &secret_hash(&access_token), &family.id, TokenKind::Access, now + ttl.as_millis() as i64)
        .await?;
    let Some((user, roles)) = person else {
        return Ok(Tokens {
            access_token,
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
            refresh_token: None,
            id_token: None,
            scope: family.scope.clone(),
        });
    };
    let refresh_token = if client.allows_grant("refresh_token") {
        let token = new_secret("srt_");
        let end = now + state.config.refresh_token_ttl.as_millis() as i64;
        store::insert_token(conn, &secret_hash(&token), &family.id, TokenKind::Refresh, end).await?;
        Some(token)
    } else {
        None
    };
    let mut claims = person_claims(state, conn, user, roles, &client.application).await?;
    claims.insert("iss".into(), json!(state.config.public_url));
    claims.insert("aud".into(), json!(client.client_id));
    claims.insert("azp".into(), json!(client.client_id));
    claims.insert("iat".into(), json!(now / 1000));
    claims.insert("exp".into(), json!(now / 1000 + ttl.as_secs() as i64));
    if let Some(auth_time) = family.auth_time {
        claims.insert("auth_time".into(), json!(auth_time / 1000));
    }
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let key = signer(state).await?;
    let id_token = key.sign(&Value::Object(claims));
    Ok(Tokens {
        access_token,
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
        refresh_token,
        id_token: Some(id_token),
        scope: family.scope.clone(),
    })
}

async fn signer(state: &AppState) -> OAuthResult<Key> {
    Ok(crate::ops::keys::signer(&state.store).await?)
}

/// A live access token of a person, with its client.
async fn person_access(conn: &mut Conn, access_token: &str) -> OAuthResult<(Token, Client, User)> {
    let invalid = || OAuthError::new("invalid_token", "the access token is not valid");
    let token = store::token(conn, &secret_hash(access_token)).await?;
    let token = token.filter(|t| t.kind == TokenKind::Access && t.live(now_millis())).ok_or_else(invalid)?;
    let user_id = token.family.user_id.clone().ok_or_else(invalid)?;
    let client = clients::get(conn, &token.family.client_id).await?.ok_or_else(invalid)?;
    let user = users::get(conn, &user_id).await?.filter(crate::ops::session::may_sign_in).ok_or_else(invalid)?;
    Ok((token, client, user))
}

/// The userinfo endpoint: the person's claims as the ID token has them.
pub async fn userinfo(state: &AppState, access_token: &str) -> OAuthResult<Value> {
    let mut conn = state.store.conn().await?;
    let (_, client, user) = person_access(&mut conn, access_token).await?;
    let (roles, _) = held_in(&mut conn, &user.id, &client.application).await?;
    Ok(Value::Object(person_claims(state, &mut conn, &user, &roles, &client.application).await?))
}

/// RFC 7009: revokes a token the client holds. A refresh token ends its
/// family; an access token ends alone. Unknown tokens, and other clients'
/// tokens, are answered the same and left alone.
pub async fn revoke(state: &AppState, auth: Option<&ClientAuth>, token: Option<&str>) -> OAuthResult<()> {
    let mut tx = state.store.begin().await?;
    let client = authenticate(&mut tx, auth).await?;
    let token_text = token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let hash = secret_hash(token_text);
    if let Some(found) = store::token(&mut tx, &hash).await?.filter(|t| t.family.client_id == client.id) {
        match found.kind {
            TokenKind::Refresh => {
                store::end_family(&mut tx, &found.family.id, "revoked by the application").await?;
            }
            TokenKind::Access => store::revoke_token(&mut tx, &hash).await?,
        }
    }
    tx.commit().await?;
    Ok(())
}

/// RFC 7662: whether a token is active, for a client of the same
/// application as the one it was issued to; `{"active": false}` otherwise.
pub async fn introspect(state: &AppState, auth: Option<&ClientAuth>, token: Option<&str>) -> OAuthResult<Value> {
    let mut conn = state.store.conn().await?;
    let asking = authenticate(&mut conn, auth).await?;
    let token_text = token.filter(|t| !t.is_empty()).ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let inactive = json!({"active": false});
    let now = now_millis();
    let Some(found) = store::token(&mut conn, &secret_hash(token_text)).await? else { return Ok(inactive) };
    if !found.live(now) || (found.kind == TokenKind::Refresh && found.used_at.is_some()) {
        return Ok(inactive);
    }
    let Some(issued_to) = clients::get(&mut conn, &found.family.client_id).await? else { return Ok(inactive) };
    if authz::introspect_token(&asking.application, &issued_to.application).is_err() {
        return Ok(inactive);
    }
    let mut answer = json!({
        "active": true,
        "client_id": issued_to.client_id,
        "scope": found.family.scope,
        "iat": found.created_at / 1000,
        "exp": found.expires_at / 1000,
        "iss": state.config.public_url,
        "token_type": if found.kind == TokenKind::Access { "Bearer" } else { "refresh_token" },
    });
    if let Some(user_id) = &found.family.user_id {
        let Some(user) = users::get(&mut conn, user_id).await?.filter(crate::ops::session::may_sign_in) else {
            return Ok(inactive);
        };
        answer["sub"] = json!(user.id);
        answer["username"] = json!(user.email);
    }
    Ok(answer)
}

/// What RP-initiated logout was asked.
#[derive(Debug, Default, serde::Deserialize)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<ClientId>,
}

pub enum EndedSession {
    /// Send the browser here (the client's registered address, or
    /// Starship's sign-in page); `signed_out` when this browser's Starship
    /// session was the one ended.
    Redirect { to: String, signed_out: bool },
    /// Nothing was ended: say why on a Starship page.
    Refused(String),
}

/// RP-initiated logout: with an ID token Starship signed for the person
/// signed in in this browser (expired ones too), ends their Starship session
/// and their sign-in at that client, then returns to a registered address
/// of the client. Another person's ID token ends nothing.
pub async fn end_session(
    state: &AppState,
    session: Option<(&User, &str)>,
    request: &EndSessionRequest,
) -> Result<EndedSession, OperationError> {
    let keys = crate::ops::keys::in_use(&state.store).await?;
    let claims = request.id_token_hint.as_deref().and_then(|t| crate::jwt::verify(t, &keys));
    let Some(claims) = claims.filter(|c| c["iss"] == state.config.public_url.as_str()) else {
        return Ok(EndedSession::Refused(
            "Starship could not tell which sign-in to end: the application did not send a valid id_token_hint. \
             Sign out from Starship's own menu instead."
                .into(),
        ));
    };
    let audience = claims["aud"].as_str().unwrap_or("");
    if request.client_id.as_ref().is_some_and(|c| c != audience) {
        return Ok(EndedSession::Refused("The client_id does not match the id_token_hint.".into()));
    }
    let mut tx = state.store.begin().await?;
    let Some((client, _)) = clients::by_client_id(&mut tx, &ClientId::from(audience)).await? else {
        return Ok(EndedSession::Refused("This application is not registered with Starship, or was revoked.".into()));
    };
    let target = match request.post_logout_redirect_uri.as_deref() {
        None => format!("{}/sign-in", state.config.public_url),
        Some(uri) if client.redirect_uris.iter().any(|u| u == uri) => match request.state.as_deref() {
            Some(s) => with_query(uri, &[("state", s)]),
            None => uri.to_string(),
        },
        Some(_) => {
            return Ok(EndedSession::Refused(
                "The address this application asked to return to is not one registered for it.".into(),
            ))
        }
    };
    let subject = claims["sub"].as_str().unwrap_or("");
    let mut signed_out = false;
    let own = session.filter(|(user, _)| authz::end_own_sign_in(Some(&user.id), subject).is_ok());
    if let Some((user, session_hash)) = own {
        store::end_families_of_user(&mut tx, &user.id, Some(&client.id), "signed out").await?;
        if sessions::delete_session(&mut tx, session_hash).await?.is_some() {
            signed_out = true;
            let actor = Actor::user(&user.id, &user.email, Source::Oidc);
            history::append(&mut tx, &user.id, &actor, Kind::SignedOut, json!({"application": client.application}))
                .await?;
        }
    }
    tx.commit().await?;
    Ok(EndedSession::Redirect { to: target, signed_out })
}
