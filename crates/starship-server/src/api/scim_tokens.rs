//! A partner's SCIM tokens: created by operators and by the partner's users
//! who may create users there, listed and revoked by the same people. The
//! secret is shown once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::ids::{PartnerId, ScimTokenId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::scim::ScimToken;
use utoipa::ToSchema;

use crate::extract::{Caller, OptionalJson};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewScimToken {
    /// What the token is for (the identity provider); "SCIM" when left out.
    /// History names it as the actor of every change made with it.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedScimToken {
    pub id: ScimTokenId,
    pub name: String,
    /// The token itself, shown this once: the identity provider sends it as
    /// `Authorization: Bearer …` to `/scim/v2`.
    pub token: String,
    pub created_at: String,
}

/// A partner's SCIM token, without its secret.
#[derive(Serialize, ToSchema)]
pub struct ScimTokenView {
    pub id: ScimTokenId,
    pub name: String,
    /// The person it acts for: it may do only what they may, checked at each use.
    pub created_by: UserId,
    pub created_at: String,
    /// To the minute.
    pub last_used_at: Option<String>,
}

impl From<ScimToken> for ScimTokenView {
    fn from(t: ScimToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_by: t.created_by,
            created_at: rfc3339_from_millis(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339_from_millis),
        }
    }
}

/// Creates a SCIM token for a partner.
#[utoipa::path(post, path = "/api/v1/partners/{id}/scim-tokens", tag = "users",
    params(("id" = String, Path, description = "Partner id")),
    request_body(content = NewScimToken, description = "Optional"),
    responses(
        (status = 201, body = CreatedScimToken),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to create this partner's users, or a cross-site request", body = Problem),
        (status = 404, description = "No such partner (or another partner's)", body = Problem),
        (status = 422, description = "A bad name", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PartnerId>,
    OptionalJson(body): OptionalJson<NewScimToken>,
) -> OperationResult<(StatusCode, axum::Json<CreatedScimToken>)> {
    let minted = ops::scim::create_token(&state, &caller.principal, &caller.actor(), &id, body.name.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedScimToken {
            id: minted.token.id,
            name: minted.token.name,
            token: minted.secret,
            created_at: rfc3339_from_millis(minted.token.created_at),
        }),
    ))
}

/// A partner's live SCIM tokens, newest first.
#[utoipa::path(get, path = "/api/v1/partners/{id}/scim-tokens", tag = "users",
    params(("id" = String, Path, description = "Partner id")),
    responses(
        (status = 200, body = [ScimTokenView]),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to create this partner's users", body = Problem),
        (status = 404, description = "No such partner (or another partner's)", body = Problem),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PartnerId>,
) -> OperationResult<axum::Json<Vec<ScimTokenView>>> {
    let tokens = ops::scim::list_tokens(&state, &caller.principal, &id).await?;
    Ok(axum::Json(tokens.into_iter().map(ScimTokenView::from).collect()))
}

/// Revokes a partner's SCIM token at once.
#[utoipa::path(delete, path = "/api/v1/partners/{id}/scim-tokens/{token_id}", tag = "users",
    params(("id" = String, Path, description = "Partner id"), ("token_id" = String, Path, description = "SCIM token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to create this partner's users, or a cross-site request", body = Problem),
        (status = 404, description = "No such token of this partner (or revoked already), or no such partner", body = Problem),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, token_id)): Path<(PartnerId, ScimTokenId)>,
) -> OperationResult<StatusCode> {
    ops::scim::revoke_token(&state, &caller.principal, &caller.actor(), &id, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
