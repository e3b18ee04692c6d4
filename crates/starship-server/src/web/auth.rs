//! Signing in and out, and accepting the activation link of the welcome email.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use starship_store::history::Source;

use super::{safe_next, AnonPost, FormErrors, Layout, WebError, WebPost, WebResult, WebUser, CSRF_COOKIE};
use crate::api::session::session_cookie;
use crate::ops;
use crate::problem::ApiError;
use crate::security::new_secret;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    csrf: String,
    next: String,
    email: String,
    errors: FormErrors,
    /// The password was right and the account has MFA: ask for a code too.
    mfa: bool,
    /// A code was typed: a refusal may be about it too.
    code_given: bool,
}

impl SignInPage {
    /// Whether a field is marked wrong for screen readers: its own error, or
    /// the page's refusal of the fields it is about (email and password,
    /// or the code once one is asked for).
    fn invalid(&self, field: &str) -> bool {
        let general = !self.errors.general.is_empty();
        self.errors.has(field)
            || match field {
                "totp" => general && (self.mfa || self.code_given),
                _ => general && !self.mfa,
            }
    }

    /// The ids of the messages that describe a field: its own error and the
    /// page's refusal, which names no single field.
    fn described_by(&self, field: &str) -> String {
        let mut ids = Vec::new();
        if self.errors.has(field) {
            ids.push(format!("{field}-error"));
        }
        if field == "totp" {
            ids.push("totp-hint".to_string());
        }
        if !self.errors.general.is_empty() {
            ids.push("sign-in-error".to_string());
        }
        ids.join(" ")
    }
}

/// The token of the double-submit check: the visitor's cookie if it has one,
/// else a new one to set.
fn anonymous_csrf(state: &AppState, parts: &axum::http::request::Parts) -> (String, Option<HeaderValue>) {
    if let Some(existing) = crate::extract::cookie_value(parts, CSRF_COOKIE).filter(|v| v.len() >= 32) {
        return (existing, None);
    }
    let token = new_secret("");
    let cookie = cookie::Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(cookie::SameSite::Strict)
        .build();
    (token, HeaderValue::from_str(&cookie.to_string()).ok())
}

fn with_cookie(cookie: Option<HeaderValue>, status: StatusCode, html: String) -> axum::response::Response {
    let mut response = (status, Html(html)).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub async fn sign_in_page(State(state): State<AppState>, request: Request) -> WebResult {
    let (mut parts, _) = request.into_parts();
    let query = Query::<SignInQuery>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
    let next = query.next.as_deref().and_then(safe_next).unwrap_or("/").to_string();
    if WebUser::from_request_parts(&mut parts, &state).await.is_ok() {
        return Ok(Redirect::to(&next).into_response());
    }
    let (csrf, cookie) = anonymous_csrf(&state, &parts);
    let page = SignInPage {
        layout: Layout::bare("Sign in"),
        csrf,
        next,
        email: query.email.unwrap_or_default(),
        errors: FormErrors::default(),
        mfa: false,
        code_given: false,
    };
    Ok(with_cookie(cookie, StatusCode::OK, page.render()?))
}

/// The way back to an application after signing in.
#[derive(Template)]
#[template(path = "continue.html")]
struct ContinuePage {
    layout: Layout,
    next: String,
}

pub async fn sign_in(State(state): State<AppState>, post: AnonPost) -> WebResult {
    let form = &post.form;
    let next = safe_next(form.get("next")).unwrap_or("/").to_string();
    let email = form.get("email").trim().to_string();
    let code = form.opt("totp").map(str::trim).filter(|c| !c.is_empty());
    let password = form.get("password").to_string();
    match ops::session::sign_in_with_code(&state, &email, password, code, post.client, Source::Web).await {
        Ok(signed_in) => {
            let cookie = session_cookie(&state, &signed_in.session_secret, state.config.session_ttl.as_secs() as i64);
            if next.starts_with("/oauth2/") {
                // The provider then redirects to the application: a browser
                // holds that redirect to this form's `form-action 'self'`
                // policy, so the way back starts as a new navigation.
                let page = ContinuePage { layout: Layout::bare("Signed in"), next };
                return Ok(([(header::SET_COOKIE, cookie)], Html(page.render()?)).into_response());
            }
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        Err(error) => {
            let status = error.status();
            // Only a right password tells that the account has two-step
            // sign-in; anything else depends on what was typed alone.
            let mfa = matches!(error, ApiError::MfaRequired | ApiError::MfaCodeUsed);
            let mut errors = match error {
                ApiError::MfaRequired => FormErrors::general(
                    "This account uses two-step sign-in: enter your password again with the code from your \
                     authenticator app, or a recovery code.",
                ),
                ApiError::MfaCodeUsed => FormErrors::field("totp", ApiError::MfaCodeUsed.to_string()),
                ApiError::BadCredentials if code.is_some() => {
                    FormErrors::general("The email, password or authenticator code is not right.")
                }
                other => FormErrors::from_error(other, &["email", "password"])?,
            };
            if email.is_empty() {
                errors = FormErrors::field("email", "Enter your email address");
            }
            let page = SignInPage {
                layout: Layout::bare("Sign in"),
                csrf: form.get("csrf").to_string(),
                next,
                email,
                errors,
                mfa,
                code_given: code.is_some(),
            };
            Ok((status, Html(page.render()?)).into_response())
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, post: WebPost) -> WebResult {
    ops::session::sign_out(&state, &post.user.session_hash, &post.user.actor()).await?;
    Ok(([(header::SET_COOKIE, session_cookie(&state, "", 0))], Redirect::to("/sign-in")).into_response())
}

#[derive(Deserialize, Default)]
pub struct ActivateQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    layout: Layout,
    csrf: String,
    token: String,
    errors: FormErrors,
    /// Set once the account is active: the email to sign in with.
    activated: Option<String>,
}

pub async fn activate_page(State(state): State<AppState>, request: Request) -> WebResult {
    let (parts, _) = request.into_parts();
    let query = Query::<ActivateQuery>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
    let (csrf, cookie) = anonymous_csrf(&state, &parts);
    let errors = if query.token.trim().is_empty() {
        FormErrors::general("This page needs the link from your welcome email: open the link as it was sent.")
    } else {
        FormErrors::default()
    };
    let page = ActivatePage {
        layout: Layout::bare("Activate your account"),
        csrf,
        token: query.token,
        errors,
        activated: None,
    };
    Ok(with_cookie(cookie, StatusCode::OK, page.render()?))
}

pub async fn activate(State(state): State<AppState>, post: AnonPost) -> WebResult {
    let form = &post.form;
    let token = form.get("token").to_string();
    let page = |errors: FormErrors, activated: Option<String>| ActivatePage {
        layout: Layout::bare(if activated.is_some() { "Your account is active" } else { "Activate your account" }),
        csrf: form.get("csrf").to_string(),
        token: token.clone(),
        errors,
        activated,
    };
    if form.get("password") != form.get("confirm") {
        let errors = FormErrors::field("confirm", "The two passwords are not the same");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(errors, None).render()?)).into_response());
    }
    match ops::session::accept_link(&state, &token, form.get("password"), Source::Web).await {
        Ok(user) => super::page(&page(FormErrors::default(), Some(user.email))),
        Err(ApiError::Invalid(invalid)) => {
            let mut errors = FormErrors::from_error(ApiError::Invalid(invalid), &["password", "token"])?;
            if let Some(reason) = errors.get("token").map(str::to_string) {
                errors.fields.retain(|e| e.field != "token");
                errors.general.push(super::capitalised(&reason));
            }
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(errors, None).render()?)).into_response())
        }
        Err(other) => Err(WebError::Api(other)),
    }
}

#[derive(Template)]
#[template(path = "confirm_email.html")]
struct ConfirmEmailPage {
    layout: Layout,
    csrf: String,
    token: String,
    errors: FormErrors,
    /// Set once confirmed: the new address.
    confirmed: Option<String>,
}

/// The link of an email-address change. Opening it changes nothing (mail
/// scanners open links); the button does.
pub async fn confirm_email_page(State(state): State<AppState>, request: Request) -> WebResult {
    let (parts, _) = request.into_parts();
    let query = Query::<ActivateQuery>::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
    let (csrf, cookie) = anonymous_csrf(&state, &parts);
    let page = ConfirmEmailPage {
        layout: Layout::bare("Confirm your email address"),
        csrf,
        token: query.token,
        errors: FormErrors::default(),
        confirmed: None,
    };
    Ok(with_cookie(cookie, StatusCode::OK, page.render()?))
}

pub async fn confirm_email(State(state): State<AppState>, post: AnonPost) -> WebResult {
    let token = post.form.get("token").to_string();
    let page = |errors: FormErrors, confirmed: Option<String>| ConfirmEmailPage {
        layout: Layout::bare("Confirm your email address"),
        csrf: post.form.get("csrf").to_string(),
        token: token.clone(),
        errors,
        confirmed,
    };
    match ops::people::confirm_email(&state, &token, Source::Web).await {
        Ok(user) => super::page(&page(FormErrors::default(), Some(user.email))),
        Err(ApiError::Invalid(invalid)) => {
            let reasons = invalid.0.into_iter().map(|e| super::capitalised(&e.reason)).collect();
            let errors = FormErrors { fields: vec![], general: reasons };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(errors, None).render()?)).into_response())
        }
        Err(other) => Err(WebError::Api(other)),
    }
}
