//! Signing in and out, and accepting the activation link of the welcome email.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use starship_store::history::Source;

use super::{
    safe_next, Action, AnonPost, Button, FormErrors, Layout, Page, WebError, WebPost, WebResult, WebUser, CSRF_COOKIE,
};
use crate::extract::set_session_cookie;
use crate::ops;
use crate::ops::session::{PasswordOutcome, SignInAttempt};
use crate::ops::OperationError;
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
    /// The secret of the challenge that stands for the right password of an
    /// account with two-step sign-in: then only the code is asked for.
    challenge: String,
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
        challenge: String::new(),
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

/// The sign-in form: email and password, or the challenge that stands for
/// them; the code when the account has two-step sign-in.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    challenge: String,
}

pub async fn sign_in(State(state): State<AppState>, post: AnonPost<SignInForm>) -> WebResult {
    let form = &post.form;
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    let email = form.email.trim().to_string();
    let code = Some(form.totp.trim()).filter(|c| !c.is_empty());
    let challenge = Some(form.challenge.trim()).filter(|c| !c.is_empty());
    let outcome = match challenge {
        Some(challenge) => ops::session::sign_in_with_challenge(&state, challenge, code, post.client, Source::Web)
            .await
            .map(|signed_in| PasswordOutcome::SignedIn(Box::new(signed_in))),
        None => {
            let password = form.password.clone();
            let attempt = SignInAttempt { email: &email, password, code, client: post.client, source: Source::Web };
            ops::session::sign_in_or_challenge(&state, attempt).await
        }
    };
    let page = |errors: FormErrors, mfa: bool, challenge: String| SignInPage {
        layout: Layout::bare("Sign in"),
        csrf: post.csrf.clone(),
        next: next.clone(),
        email: email.clone(),
        errors,
        mfa,
        code_given: code.is_some(),
        challenge,
    };
    match outcome {
        Ok(PasswordOutcome::SignedIn(signed_in)) => {
            let cookie =
                set_session_cookie(&state, &signed_in.session_secret, state.config.session_ttl.as_secs() as i64);
            if next.starts_with("/oauth2/") {
                // The provider then redirects to the application: a browser
                // holds that redirect to this form's `form-action 'self'`
                // policy, so the way back starts as a new navigation.
                let page = ContinuePage { layout: Layout::bare("Signed in"), next };
                return Ok(([(header::SET_COOKIE, cookie)], Html(page.render()?)).into_response());
            }
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        Ok(PasswordOutcome::CodeNeeded(new_challenge)) => {
            // The password was right: from here on only the code is asked for.
            let page = page(FormErrors::default(), true, new_challenge.unwrap_or_default());
            Ok((StatusCode::OK, Html(page.render()?)).into_response())
        }
        Err(error) => {
            let status = error.status();
            let (mut errors, mfa, challenge) = match (error, challenge) {
                (OperationError::Unauthenticated, Some(_)) => (
                    FormErrors::general(
                        "Your sign-in waited too long for its code, or it has ended: enter your password again.",
                    ),
                    false,
                    String::new(),
                ),
                (OperationError::MfaRequired, Some(challenge)) => (
                    FormErrors::field("totp", "Enter the code your authenticator app shows, or a recovery code"),
                    true,
                    challenge.to_string(),
                ),
                (OperationError::BadCredentials, Some(challenge)) => (
                    FormErrors::field(
                        "totp",
                        "This code is not right: enter the code your authenticator app shows now",
                    ),
                    true,
                    challenge.to_string(),
                ),
                (OperationError::MfaCodeUsed, challenge) => (
                    FormErrors::field("totp", OperationError::MfaCodeUsed.to_string()),
                    true,
                    challenge.unwrap_or_default().to_string(),
                ),
                (OperationError::BadCredentials, None) if code.is_some() => (
                    FormErrors::general("The email, password or authenticator code is not right."),
                    false,
                    String::new(),
                ),
                (other, _) => (FormErrors::from_error(other, &["email", "password"])?, false, String::new()),
            };
            if email.is_empty() {
                errors = FormErrors::field("email", "Enter your email address");
            }
            Ok((status, Html(page(errors, mfa, challenge).render()?)).into_response())
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, post: WebPost<Button>) -> WebResult {
    ops::session::sign_out(&state, &post.user.session_hash, &post.user.actor()).await?;
    Ok((
        [(header::SET_COOKIE, set_session_cookie(&state, "", 0))],
        Redirect::to(&Page::SignIn { next: None, email: None }.to_string()),
    )
        .into_response())
}

/// A single-use link's token, in its URL or its form.
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

/// The activation form: the link's token and the new password, twice.
#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn activate(State(state): State<AppState>, post: AnonPost<ActivateForm>) -> WebResult {
    let form = &post.form;
    let token = form.token.clone();
    let page = |errors: FormErrors, activated: Option<String>| ActivatePage {
        layout: Layout::bare(if activated.is_some() { "Your account is active" } else { "Activate your account" }),
        csrf: post.csrf.clone(),
        token: token.clone(),
        errors,
        activated,
    };
    if form.password != form.confirm {
        let errors = FormErrors::field("confirm", "The two passwords are not the same");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(errors, None).render()?)).into_response());
    }
    match ops::session::accept_link(&state, &token, &form.password, Source::Web).await {
        Ok(user) => super::page(&page(FormErrors::default(), Some(user.email))),
        Err(OperationError::Invalid(invalid)) => {
            let mut errors = FormErrors::from_error(OperationError::Invalid(invalid), &["password", "token"])?;
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

pub async fn confirm_email(State(state): State<AppState>, post: AnonPost<ActivateQuery>) -> WebResult {
    let token = post.form.token.clone();
    let page = |errors: FormErrors, confirmed: Option<String>| ConfirmEmailPage {
        layout: Layout::bare("Confirm your email address"),
        csrf: post.csrf.clone(),
        token: token.clone(),
        errors,
        confirmed,
    };
    match ops::users::confirm_email(&state, &token, Source::Web).await {
        Ok(user) => super::page(&page(FormErrors::default(), Some(user.email))),
        Err(OperationError::Invalid(invalid)) => {
            let reasons = invalid.0.into_iter().map(|e| super::capitalised(&e.reason)).collect();
            let errors = FormErrors { fields: vec![], general: reasons };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(errors, None).render()?)).into_response())
        }
        Err(other) => Err(WebError::Api(other)),
    }
}
