//! The web UI: server-rendered pages (askama) over the same operations the
//! API calls (`crate::ops`, `starship_core::authz`). No rule lives here:
//! pages parse forms, call an operation, and show its answer or its errors
//! next to the fields they name.
//!
//! Signed-in pages ride on the API's session cookie. Every POST carries a
//! CSRF token derived from that cookie ([`WebPost`]); the forms used before
//! a session exists use a double-submit cookie ([`AnonPost`]).

mod account;
pub mod action;
mod appliances;
mod applications;
mod assets;
mod auth;
mod clients;
mod contacts;
mod oidc;
mod onboard;
mod outbox;
pub mod page;
mod portal;
mod reviews;
mod scim;
mod scim_groups;
mod security;
mod sites;
mod tickets;
mod users;
mod widgets;

use std::sync::LazyLock;

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use starship_core::authz::{self, Principal};
use starship_core::FieldError;
use starship_store::history::{Actor, Source};
use starship_store::users::User;
use starship_store::StoreError;

use crate::extract::{self, Credential};
use crate::ops::OperationError;
use crate::security::{same_secret, secret_hash};
use crate::state::AppState;
pub use action::Action;
pub use page::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(Page::MY_ACCOUNT, get(account::my_account))
        .route(Page::SIGN_IN, get(auth::sign_in_page).post(auth::sign_in))
        .route(Action::SIGN_OUT, post(auth::sign_out))
        .route(Page::ACTIVATE, get(auth::activate_page).post(auth::activate))
        .route(Page::CONFIRM_EMAIL, get(auth::confirm_email_page).post(auth::confirm_email))
        .route(Page::USERS, get(users::users_tab))
        .route(Page::PROFILE, get(account::profile))
        .route(Action::NOTIFICATIONS, post(account::change_notification))
        .route(Action::METADATA, post(account::save_metadata))
        .route(Action::ADD_ADMIN_PRIVILEGE, post(account::add_admin_privilege))
        .route(Action::REMOVE_ADMIN_PRIVILEGE, post(account::remove_admin_privilege))
        .route(Action::REVOKE_ROLE, post(account::revoke_role))
        .route(Action::RESTORE_ROLE, post(account::restore_role))
        .route(Action::SET_ROLE_END, post(account::set_role_end))
        .route(Action::DEACTIVATION, post(account::set_deactivated))
        .route(Page::SECURITY, get(security::show).post(security::act))
        .route(Action::CREATE_TOKEN, post(account::create_token))
        .route(Action::REVOKE_TOKEN, post(account::revoke_token))
        .route(Page::SCIM_TOKENS, get(scim::show).post(scim::create))
        .route(Page::SCIM_GROUPS, get(scim_groups::show))
        .route(Action::MAP_GROUP_ROLE, post(scim_groups::add_role))
        .route(Action::UNMAP_GROUP_ROLE, post(scim_groups::remove_role))
        .route(Action::REVOKE_SCIM_TOKEN, post(scim::revoke))
        .route(Page::ONBOARD, get(onboard::create_and_onboard))
        .route(Action::ONBOARD_NEW, post(onboard::add_user))
        .route(Action::ONBOARD_CREATE, post(onboard::create_user))
        .route(Action::ONBOARD_BULK, post(onboard::bulk))
        .route(Page::ONBOARD_START, get(onboard::start))
        .route(Page::ONBOARD_PERMISSIONS, get(onboard::permissions).post(onboard::permissions_action))
        .route(Action::ONBOARD_METADATA, post(onboard::metadata_action))
        .route(Page::PORTAL, get(portal::home))
        .route(Page::CONTACTS, get(contacts::users).post(contacts::create_contact))
        .route(Action::CHANGE_CONTACT, post(contacts::change_contact))
        .route(Page::TICKETS, get(tickets::tickets).post(tickets::open_ticket))
        .route(Page::NEW_TICKET, get(tickets::new_ticket))
        .route(Page::TICKET, get(tickets::ticket))
        .route(Action::TICKET_STATUS, post(tickets::ticket_status))
        .route(Action::COMMENT, post(tickets::comment))
        .route(Page::SITES, get(sites::sites).post(sites::add_site))
        .route(Action::EDIT_SITE, post(sites::edit_site))
        .route(Page::APPLIANCES, get(appliances::appliances).post(appliances::register))
        .route(Action::IMPORT_APPLIANCES, post(appliances::import))
        .route(Action::RETIRE_APPLIANCE, post(appliances::retire))
        .route(Action::DRAIN_APPLIANCE, post(appliances::drain))
        .route(Action::APPLIANCE_BGP, post(appliances::bgp))
        .route(Page::APPLICATIONS, get(applications::index))
        .route(Page::APPLICATION_USERS, get(applications::users_of))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oauth2/jwks", get(oidc::jwks))
        .route("/oauth2/authorize", get(oidc::authorize))
        .route("/oauth2/token", post(oidc::token))
        .route("/oauth2/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oauth2/revoke", post(oidc::revoke))
        .route("/oauth2/introspect", post(oidc::introspect))
        .route("/oauth2/end-session", get(oidc::end_session).post(oidc::end_session))
        .route(Page::CLIENTS, get(clients::index).post(clients::create))
        .route(Action::CLIENT_SECRET, post(clients::rotate))
        .route(Action::REVOKE_CLIENT, post(clients::revoke))
        .route(Page::OUTBOX, get(outbox::index))
        .route(Action::RESEND, post(outbox::resend))
        .route(Page::REVIEWS, get(reviews::index))
        .route(Page::REVIEW, get(reviews::show))
        .route(Action::DECIDE, post(reviews::decide))
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js))
        .route("/static/favicon.svg", get(assets::icon))
}

/// What a page handler can fail with: a visitor who must sign in first, or
/// an error shown as a page.
#[derive(Debug)]
pub enum WebError {
    SignIn { next: Option<String> },
    Api(OperationError),
}

impl From<OperationError> for WebError {
    fn from(e: OperationError) -> Self {
        Self::Api(e)
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        Self::Api(e.into())
    }
}

impl From<authz::Denied> for WebError {
    fn from(e: authz::Denied) -> Self {
        Self::Api(e.into())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        Self::Api(OperationError::Internal(format!("rendering a page: {e}")))
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { next } => {
                let next = next.as_deref().and_then(safe_next).filter(|next| *next != "/");
                Redirect::to(&Page::SignIn { next: next.map(str::to_string), email: None }.to_string()).into_response()
            }
            Self::Api(error) => {
                if let OperationError::Internal(cause) = &error {
                    tracing::error!(%cause, "page failed");
                }
                let status = error.status();
                let problem = error.problem();
                let detail = capitalised(&problem.detail);
                let page = ErrorPage { layout: Layout::bare(&problem.title), status: problem.status, detail };
                match page.render() {
                    Ok(html) => (status, Html(html)).into_response(),
                    Err(_) => (status, problem.title).into_response(),
                }
            }
        }
    }
}

/// An unknown address: a page for people, a problem document for the API.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        OperationError::NotFound.into_response()
    } else {
        WebError::Api(OperationError::NotFound).into_response()
    }
}

/// Renders a page with status 200.
pub fn page(template: &impl Template) -> WebResult {
    Ok(Html(template.render()?).into_response())
}

/// Renders a form again with its errors: 422, so scripts and tests see the refusal.
pub fn refused(template: &impl Template) -> WebResult {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(template.render()?)).into_response())
}

/// After a POST that changed something: go to the page that shows it.
pub fn see_other(to: Page) -> WebResult {
    Ok(Redirect::to(&to.to_string()).into_response())
}

/// A same-site path to return to after signing in; anything else (other
/// hosts, protocol-relative `//host`, odd characters) is refused.
pub fn safe_next(next: &str) -> Option<&str> {
    let mut chars = next.chars();
    let ok = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && next.chars().all(|c| c.is_ascii_graphic())
        && next.len() <= 2000;
    ok.then_some(next)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The signed-in person behind a page request.
pub struct WebUser {
    pub user: User,
    pub principal: Principal,
    pub session_hash: String,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// Whether an open access review awaits the viewer: the navigation's link.
    pub reviews_to_act_on: bool,
}

impl WebUser {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.id, &self.user.email, Source::Web)
    }

    /// The header and navigation of a signed-in page.
    pub fn layout(&self, state: &AppState, title: impl Into<String>, section: Section) -> Layout {
        let applications =
            state.catalogue.applications.iter().any(|a| authz::applications_tab(&self.principal, &a.key).is_ok());
        Layout {
            title: title.into(),
            assets: asset_version(),
            nav: Some(Nav {
                name: self.user.full_name(),
                email: self.user.email.clone(),
                csrf: self.csrf.clone(),
                section,
                applications,
                portal: starship_core::portal::PortalLevel::of(&self.principal.roles).is_some(),
                reviews: self.reviews_to_act_on,
                clients: authz::manage_clients(&self.principal).is_ok(),
                outbox: authz::manage_platform(&self.principal).is_ok(),
            }),
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let signed_out = || WebError::SignIn {
            next: (parts.method == axum::http::Method::GET)
                .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
                .flatten(),
        };
        let Some(cookie) = extract::session_cookie(parts) else {
            return Err(signed_out());
        };
        let Some((user, Credential::Session { token_hash }, principal)) = extract::signed_in(state, parts).await?
        else {
            return Err(signed_out());
        };
        let reviews_to_act_on = crate::ops::reviews::any_to_act_on(state, &principal).await?;
        Ok(Self {
            user,
            principal,
            session_hash: token_hash,
            csrf: secret_hash(&format!("csrf:{cookie}")),
            reviews_to_act_on,
        })
    }
}

/// A submitted form: its fields in order, repeated names kept. For forms
/// whose field names are data (an application's metadata fields, a
/// production per role); a form of known fields reads into its own struct.
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of a field, trimmed of nothing; "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.opt(name).unwrap_or("")
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Every field, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer).map(Fields)
    }
}

/// A form that is a button alone: nothing to read but its CSRF token.
#[derive(serde::Deserialize)]
pub struct Button {}

/// The token every form carries; the rest of its fields are the form's.
#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form's body read twice: its CSRF token, and its fields as `F`.
async fn read_form<F: DeserializeOwned>(request: Request, state: &AppState) -> Result<(String, F), WebError> {
    let is_form = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(WebError::Api(OperationError::BadRequest(
            "expected a form (application/x-www-form-urlencoded)".into(),
        )));
    }
    let body = axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|rejection| WebError::Api(OperationError::BadRequest(rejection.body_text())))?;
    let unreadable = |e: serde_html_form::de::Error| {
        WebError::Api(OperationError::BadRequest(format!("this form is not right: {e}")))
    };
    let CsrfField { csrf } = serde_html_form::from_bytes(&body).map_err(unreadable)?;
    Ok((csrf, serde_html_form::from_bytes(&body).map_err(unreadable)?))
}

const FORGED: &str = "this form has expired or did not come from Starship: go back, reload the page and try again";

/// A POST from a signed-in page whose CSRF token matched the session, its
/// fields read into `F`: a form struct, or the raw `Fields`.
pub struct WebPost<F> {
    pub user: WebUser,
    pub form: F,
}

impl<F: DeserializeOwned> FromRequest<AppState> for WebPost<F> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let (csrf, form) = read_form(Request::from_parts(parts, body), state).await?;
        if !same_secret(&csrf, &user.csrf) {
            return Err(WebError::Api(OperationError::Forbidden(FORGED)));
        }
        Ok(Self { user, form })
    }
}

/// The cookie of the double-submit CSRF check for forms shown before
/// signing in.
pub const CSRF_COOKIE: &str = "starship_csrf";

/// A POST from a page shown before signing in (sign-in, activation): the
/// form's token must equal the CSRF cookie set when the page was shown.
pub struct AnonPost<F> {
    pub form: F,
    /// The token the form carried, to carry on a page shown again.
    pub csrf: String,
    pub client: std::net::IpAddr,
}

impl<F: DeserializeOwned> FromRequest<AppState> for AnonPost<F> {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let cookie = extract::cookie_value(&parts, CSRF_COOKIE);
        let peer = axum::extract::ConnectInfo::<std::net::SocketAddr>::from_request_parts(&mut parts, state)
            .await
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let client = extract::client_address(&parts.headers, peer, &state.config.trusted_proxies);
        let (csrf, form) = read_form(Request::from_parts(parts, body), state).await?;
        match cookie {
            Some(cookie) if !cookie.is_empty() && same_secret(&csrf, &cookie) => Ok(Self { form, csrf, client }),
            _ => Err(WebError::Api(OperationError::Forbidden(FORGED))),
        }
    }
}

/// Which part of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Account,
    Users,
    Applications,
    Portal,
    Reviews,
    Clients,
    Outbox,
}

/// What the shared page frame needs.
pub struct Layout {
    pub title: String,
    pub assets: &'static str,
    /// The navigation of signed-in pages; `None` before signing in.
    pub nav: Option<Nav>,
}

impl Layout {
    pub fn bare(title: &str) -> Self {
        Self { title: title.to_string(), assets: asset_version(), nav: None }
    }
}

pub struct Nav {
    pub name: String,
    pub email: String,
    pub csrf: String,
    pub section: Section,
    pub applications: bool,
    /// A Partner Portal permission level: the portal's pages.
    pub portal: bool,
    /// An open access review the viewer may act on.
    pub reviews: bool,
    /// The application clients page (operators).
    pub clients: bool,
    /// The outbox page (operators).
    pub outbox: bool,
}

impl Nav {
    /// Whether the page belongs to the section named `account`, `users`
    /// or `applications`.
    pub fn is(&self, name: &str) -> bool {
        let current = match self.section {
            Section::Account => "account",
            Section::Users => "users",
            Section::Applications => "applications",
            Section::Portal => "portal",
            Section::Reviews => "reviews",
            Section::Clients => "clients",
            Section::Outbox => "outbox",
        };
        current == name
    }
}

/// Field errors of a form, by the field names the operations report.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    pub fields: Vec<FieldError>,
    /// Errors that name no field of the form.
    pub general: Vec<String>,
}

impl FormErrors {
    /// Sorts an operation's error into the form's fields (those in
    /// `known`) and general messages.
    pub fn from_error(error: OperationError, known: &[&str]) -> Result<Self, WebError> {
        let mut errors = Self::default();
        match error {
            OperationError::Invalid(invalid) => {
                for e in invalid.0 {
                    if known.contains(&e.field.as_str()) {
                        errors.fields.push(FieldError { reason: capitalised(&e.reason), ..e });
                    } else {
                        errors.general.push(capitalised(&e.reason));
                    }
                }
            }
            OperationError::Forbidden(why) => errors.general.push(capitalised(why)),
            OperationError::Conflict(why) => errors.general.push(capitalised(&why)),
            OperationError::Throttled { .. } | OperationError::BadCredentials => {
                errors.general.push(capitalised(&error.to_string()))
            }
            other => return Err(WebError::Api(other)),
        }
        Ok(errors)
    }

    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        Self { fields: vec![FieldError::new(field, capitalised(&reason.into()))], general: vec![] }
    }

    pub fn general(message: impl Into<String>) -> Self {
        Self { fields: vec![], general: vec![message.into()] }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|e| e.field == field).map(|e| e.reason.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.get(field).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Moves a field's error to another field name (an operation's field
    /// shown by a differently named input).
    pub fn rename(&mut self, from: &str, to: &str) {
        for e in &mut self.fields {
            if e.field == from {
                e.field = to.to_string();
            }
        }
    }
}

pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A short fingerprint of the stylesheet and script, so their URLs change
/// when they do and browsers may cache them.
pub fn asset_version() -> &'static str {
    static VERSION: LazyLock<String> =
        LazyLock::new(|| secret_hash(&format!("{}{}{}", assets::CSS, assets::JS, assets::ICON))[..12].to_string());
    &VERSION
}

/// A timestamp as people read it, in UTC.
pub fn when(millis: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| millis.to_string())
}
