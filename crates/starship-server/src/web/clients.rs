//! Application clients as a page (operators): the live clients, a form to
//! register one, and buttons to give one a new secret or revoke it. A
//! secret is shown once, on the page that answers the form.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::ids::{ApplicationClientId, ApplicationKey, ClientId};
use starship_core::oidc::GrantType;

use super::page::{word, ClientsDone};
use super::{
    page, refused, see_other, when, Action, Button, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser,
};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

struct ClientRow {
    id: ApplicationClientId,
    client_id: ClientId,
    application: String,
    name: String,
    redirect_uris: Vec<String>,
    grant_types: String,
    created: String,
}

struct AppChoice {
    key: ApplicationKey,
    name: String,
    selected: bool,
}

struct GrantChoice {
    key: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    layout: Layout,
    csrf: String,
    rows: Vec<ClientRow>,
    applications: Vec<AppChoice>,
    grants: Vec<GrantChoice>,
    name: String,
    redirect_uris: String,
    errors: FormErrors,
    /// (what happened, client_id, secret) after a registration or rotation.
    secret: Option<(&'static str, ClientId, String)>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "word")]
    done: Option<ClientsDone>,
}

/// A client to register: the application, its name, one redirect URI a
/// line, and a checkbox per grant type.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClientForm {
    application: String,
    name: String,
    redirect_uris: String,
    grant_types: Vec<String>,
}

async fn render(
    state: &AppState,
    viewer: &WebUser,
    submitted: Option<&ClientForm>,
    errors: FormErrors,
    secret: Option<(&'static str, ClientId, String)>,
    notice: Option<&'static str>,
) -> Result<ClientsPage, OperationError> {
    let list = ops::clients::list(state, &viewer.principal).await?;
    let app_name = |key: &str| state.catalogue.application(key).map_or_else(|| key.to_string(), |a| a.name.clone());
    let rows = list
        .into_iter()
        .map(|c| ClientRow {
            application: app_name(&c.application),
            grant_types: c.grant_types.join(", "),
            created: when(c.created_at),
            id: c.id,
            client_id: c.client_id,
            name: c.name,
            redirect_uris: c.redirect_uris,
        })
        .collect();
    let chosen = submitted.map(|f| f.application.as_str()).unwrap_or("");
    let applications = state
        .catalogue
        .applications
        .iter()
        .map(|a| AppChoice { key: a.key.clone(), name: a.name.clone(), selected: a.key == chosen })
        .collect();
    let grants = GrantType::ALL
        .into_iter()
        .map(|g| GrantChoice {
            key: g.as_str(),
            checked: match submitted {
                Some(f) => f.grant_types.iter().any(|chosen| chosen == g.as_str()),
                None => g != GrantType::ClientCredentials,
            },
        })
        .collect();
    Ok(ClientsPage {
        layout: viewer.layout(state, "Application clients", Section::Clients),
        csrf: viewer.csrf.clone(),
        rows,
        applications,
        grants,
        name: submitted.map(|f| f.name.clone()).unwrap_or_default(),
        redirect_uris: submitted.map(|f| f.redirect_uris.clone()).unwrap_or_default(),
        errors,
        secret,
        notice,
    })
}

pub async fn index(State(state): State<AppState>, viewer: WebUser, Query(query): Query<ListQuery>) -> WebResult {
    let notice = query.done.map(|done| match done {
        ClientsDone::Revoked => "The client was revoked: its secret and tokens no longer work.",
    });
    page(&render(&state, &viewer, None, FormErrors::default(), None, notice).await?)
}

pub async fn create(State(state): State<AppState>, post: WebPost<ClientForm>) -> WebResult {
    let form = &post.form;
    let redirect_uris: Vec<String> =
        form.redirect_uris.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
    let request = ops::clients::Request {
        application: &form.application,
        name: &form.name,
        redirect_uris: &redirect_uris,
        grant_types: Some(&form.grant_types),
    };
    match ops::clients::create(&state, &post.user.principal, &post.user.actor(), &request).await {
        Ok(issued) => {
            let secret = Some(("registered", issued.client.client_id, issued.secret));
            page(&render(&state, &post.user, None, FormErrors::default(), secret, None).await?)
        }
        Err(OperationError::Invalid(mut invalid)) => {
            // The form has one box of URIs, one grant type per checkbox: name the line at fault.
            for e in &mut invalid.0 {
                if let Some(i) = e.field.strip_prefix("redirect_uris[").and_then(|r| r.strip_suffix(']')) {
                    let uri = i.parse::<usize>().ok().and_then(|i| redirect_uris.get(i)).cloned().unwrap_or_default();
                    e.reason = format!("{}: {uri}", e.reason);
                    e.field = "redirect_uris".into();
                } else if e.field.starts_with("grant_types[") {
                    e.field = "grant_types".into();
                }
            }
            let e = OperationError::Invalid(invalid);
            let errors = FormErrors::from_error(e, &["application", "name", "grant_types", "redirect_uris"])?;
            refused(&render(&state, &post.user, Some(form), errors, None, None).await?)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<ApplicationClientId>,
    post: WebPost<Button>,
) -> WebResult {
    let issued = ops::clients::rotate_secret(&state, &post.user.principal, &post.user.actor(), &id).await?;
    let secret = Some(("given a new secret", issued.client.client_id, issued.secret));
    page(&render(&state, &post.user, None, FormErrors::default(), secret, None).await?)
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<ApplicationClientId>,
    post: WebPost<Button>,
) -> WebResult {
    ops::clients::revoke(&state, &post.user.principal, &post.user.actor(), &id).await?;
    see_other(Page::Clients { done: Some(ClientsDone::Revoked) })
}
