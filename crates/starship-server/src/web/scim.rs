//! A partner's SCIM tokens as a page: the partner's users who may create
//! users there (and operators) create, list and revoke them. A new token's
//! secret is shown once.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::ids::{PartnerId, ScimTokenId};

use super::page::{word, ScimTokensDone};
use super::{page, see_other, when, Action, Button, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

struct TokenRow {
    id: ScimTokenId,
    name: String,
    created: String,
    last_used: Option<String>,
}

#[derive(Template)]
#[template(path = "scim_tokens.html")]
struct TokensPage {
    layout: Layout,
    csrf: String,
    partner_id: PartnerId,
    partner_name: String,
    scim_url: String,
    rows: Vec<TokenRow>,
    /// The token just made: its name and secret.
    created: Option<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default, deserialize_with = "word")]
    done: Option<ScimTokensDone>,
}

async fn render(
    state: &AppState,
    viewer: &WebUser,
    partner_id: &PartnerId,
    created: Option<(String, String)>,
    notice: Option<&'static str>,
    error: Option<String>,
) -> WebResult {
    let tokens = ops::scim::list_tokens(state, &viewer.principal, partner_id).await?;
    let partner =
        ops::platform::partner(state, &viewer.principal, partner_id).await?.ok_or(OperationError::NotFound)?;
    let rows = tokens
        .into_iter()
        .map(|t| TokenRow { id: t.id, name: t.name, created: when(t.created_at), last_used: t.last_used_at.map(when) })
        .collect();
    page(&TokensPage {
        layout: viewer.layout(state, format!("SCIM tokens · {}", partner.name), Section::Account),
        csrf: viewer.csrf.clone(),
        partner_id: partner_id.clone(),
        partner_name: partner.name,
        scim_url: format!("{}/scim/v2", state.config.public_url.trim_end_matches('/')),
        rows,
        created,
        notice,
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(partner_id): Path<PartnerId>,
    Query(done): Query<Done>,
) -> WebResult {
    let notice = done.done.map(|done| match done {
        ScimTokensDone::Revoked => "SCIM token revoked: it no longer works.",
    });
    render(&state, &viewer, &partner_id, None, notice, None).await
}

/// A new SCIM token's name (optional).
#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create(
    State(state): State<AppState>,
    Path(partner_id): Path<PartnerId>,
    post: WebPost<NewTokenForm>,
) -> WebResult {
    let viewer = &post.user;
    let name = Some(post.form.name.as_str()).filter(|n| !n.trim().is_empty());
    match ops::scim::create_token(&state, &viewer.principal, &viewer.actor(), &partner_id, name).await {
        Ok(minted) => render(&state, viewer, &partner_id, Some((minted.token.name, minted.secret)), None, None).await,
        Err(OperationError::Invalid(invalid)) => {
            let why = invalid.0.iter().map(|e| e.reason.clone()).collect::<Vec<_>>().join("; ");
            render(&state, viewer, &partner_id, None, None, Some(format!("Name: {why}"))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path((partner_id, token_id)): Path<(PartnerId, ScimTokenId)>,
    post: WebPost<Button>,
) -> WebResult {
    ops::scim::revoke_token(&state, &post.user.principal, &post.user.actor(), &partner_id, &token_id).await?;
    see_other(Page::ScimTokens { partner: partner_id, done: Some(ScimTokensDone::Revoked) })
}
