//! Contacts and their portal access: invitations, revoking access,
//! permission levels, deletion, contact roles and sites, and the list.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::ids::UserId;
use starship_core::portal::PortalLevel;
use utoipa::ToSchema;

use super::portal::{scope, PartnerScope};
use crate::extract::{ApiJson, ApiQuery, Caller, OptionalJson};
use crate::ops;
use crate::ops::contacts::ContactEdit;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    /// The permission level to have (default read-only).
    #[serde(default)]
    pub level: Option<PortalLevel>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessView {
    pub user_id: UserId,
    pub status: starship_core::domain::UserStatus,
}

/// Invites a contact to the portal: emails a single-use, expiring
/// activation link; a new invitation replaces the earlier link.
#[utoipa::path(post, path = "/api/v1/users/{id}/invitation", tag = "portal", params(("id" = String, Path, description = "User id")),
    request_body(content = InvitationBody, description = "Optional"),
    responses((status = 200, body = AccessView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    OptionalJson(body): OptionalJson<InvitationBody>,
) -> OperationResult<axum::Json<AccessView>> {
    let user = ops::contacts::invite(&state, &caller.principal, &caller.actor(), &id, body.level).await?;
    Ok(axum::Json(AccessView { user_id: user.id, status: user.status }))
}

/// Revokes sign-in at once (sessions, tokens, links); the contact stays.
#[utoipa::path(delete, path = "/api/v1/users/{id}/portal-access", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = AccessView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<axum::Json<AccessView>> {
    let user = ops::contacts::revoke_access(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(axum::Json(AccessView { user_id: user.id, status: user.status }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelBody {
    pub level: PortalLevel,
}

/// Changes a portal user's permission level.
#[utoipa::path(put, path = "/api/v1/users/{id}/portal-level", tag = "portal", params(("id" = String, Path, description = "User id")),
    request_body = LevelBody,
    responses((status = 204, description = "Changed"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn set_level(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<LevelBody>,
) -> OperationResult<StatusCode> {
    ops::contacts::set_level(&state, &caller.principal, &caller.actor(), &id, body.level).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a contact; its History stays.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<StatusCode> {
    ops::contacts::delete_contact(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    #[serde(default)]
    pub contact_roles: Option<Vec<String>>,
    /// Ids of the partner's sites.
    #[serde(default)]
    pub sites: Option<Vec<String>>,
}

/// Changes a person's contact roles and sites.
#[utoipa::path(put, path = "/api/v1/users/{id}/contact", tag = "portal", params(("id" = String, Path, description = "User id")),
    request_body = ContactBody,
    responses((status = 200, body = ContactView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<ContactBody>,
) -> OperationResult<axum::Json<ContactView>> {
    let edit = ContactEdit { contact_roles: body.contact_roles, sites: body.sites };
    ops::contacts::edit_contact(&state, &caller.principal, &caller.actor(), &id, &edit).await?;
    Ok(axum::Json(contact_view(ops::contacts::contact(&state, &caller.principal, &id).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct ContactView {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub status: starship_core::domain::UserStatus,
    /// The portal permission level, for portal users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<PortalLevel>,
    pub contact_roles: Vec<String>,
    pub sites: Vec<String>,
}

fn contact_view(row: ops::contacts::ContactRow) -> ContactView {
    let user = row.user;
    ContactView {
        level: row.level,
        contact_roles: row.contact_roles,
        sites: row.sites,
        id: user.id,
        email: user.email,
        first_name: user.first_name,
        last_name: user.last_name,
        phone: user.phone,
        status: user.status,
    }
}

/// The partner's contacts and portal users with their levels, roles and sites.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "portal", params(PartnerScope),
    responses((status = 200, body = Vec<ContactView>), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`)", body = Problem)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PartnerScope>,
) -> OperationResult<axum::Json<Vec<ContactView>>> {
    let partner = scope(&caller.principal, &params)?;
    let rows = ops::contacts::contacts(&state, &caller.principal, &partner).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|row| ContactView {
                level: row.level,
                contact_roles: row.contact_roles,
                sites: row.sites,
                id: row.user.id,
                email: row.user.email,
                first_name: row.user.first_name,
                last_name: row.user.last_name,
                phone: row.user.phone,
                status: row.user.status,
            })
            .collect(),
    ))
}
