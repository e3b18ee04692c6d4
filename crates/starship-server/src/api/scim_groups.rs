//! A partner's directory groups (provisioned through SCIM) and the Starship
//! roles each maps to: "members of Backlot Operators hold Content Partner
//! Operations". Seen and changed by those who manage the partner's SCIM
//! tokens; a mapping only for a role its author may grant.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::catalogue::RequestedRole;
use starship_core::ids::{ApplicationKey, PartnerId, RoleKey, ScimGroupId, ScimMappingId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::scim_groups::Mapping;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

/// A directory group with the roles its members hold.
#[derive(Serialize, ToSchema)]
pub struct ScimGroupView {
    pub id: ScimGroupId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// How many people are members.
    pub members: usize,
    pub roles: Vec<GroupRoleView>,
}

/// "Members of this group hold this role", and who said so.
#[derive(Serialize, ToSchema)]
pub struct GroupRoleView {
    pub id: ScimMappingId,
    pub application: ApplicationKey,
    pub role: RoleKey,
    pub production: Option<i64>,
    /// The mapping's author: members get the role only while the author may grant it.
    pub created_by: UserId,
    pub created_at: String,
}

impl From<Mapping> for GroupRoleView {
    fn from(m: Mapping) -> Self {
        Self {
            id: m.id,
            application: m.role.application,
            role: m.role.role,
            production: m.role.production.map(|p| p.get()),
            created_by: m.created_by,
            created_at: rfc3339_from_millis(m.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupRole {
    pub application: String,
    pub role: String,
    /// For a production role: the production's id.
    #[serde(default)]
    pub production: Option<i64>,
}

/// A partner's directory groups with their role mappings, by name.
#[utoipa::path(get, path = "/api/v1/partners/{id}/scim-groups", tag = "users",
    params(("id" = String, Path, description = "Partner id")),
    responses(
        (status = 200, body = [ScimGroupView]),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to create this partner's users", body = Problem),
        (status = 404, description = "No such partner (or another partner's)", body = Problem),
    ))]
pub async fn list_scim_groups(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PartnerId>,
) -> OperationResult<axum::Json<Vec<ScimGroupView>>> {
    let groups = ops::scim::groups::mapped_groups(&state, &caller.principal, &id).await?;
    Ok(axum::Json(
        groups
            .into_iter()
            .map(|g| ScimGroupView {
                id: g.group.id,
                display_name: g.group.display_name,
                external_id: g.group.external_id,
                members: g.members,
                roles: g.mappings.into_iter().map(GroupRoleView::from).collect(),
            })
            .collect(),
    ))
}

/// Maps a group to a role: its members hold the role while they are
/// members (granted at once to the present ones).
#[utoipa::path(post, path = "/api/v1/partners/{id}/scim-groups/{group_id}/roles", tag = "users",
    params(("id" = String, Path, description = "Partner id"), ("group_id" = String, Path, description = "SCIM group id")),
    request_body = NewGroupRole,
    responses(
        (status = 201, body = GroupRoleView),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to grant this role here, or a cross-site request", body = Problem),
        (status = 404, description = "No such group of this partner, or no such partner", body = Problem),
        (status = 409, description = "The group maps to this role already", body = Problem),
        (status = 422, description = "An unknown application, role or production", body = Problem),
    ))]
pub async fn map_group_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, group_id)): Path<(PartnerId, ScimGroupId)>,
    ApiJson(body): ApiJson<NewGroupRole>,
) -> OperationResult<(StatusCode, axum::Json<GroupRoleView>)> {
    let mapping = ops::scim::groups::add_mapping(
        &state,
        &caller.principal,
        &caller.actor(),
        &id,
        &group_id,
        RequestedRole { application: body.application, role: body.role, production: body.production },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(mapping.into())))
}

/// Removes a group's role mapping and the grants it gave its members.
#[utoipa::path(delete, path = "/api/v1/partners/{id}/scim-groups/{group_id}/roles/{mapping_id}", tag = "users",
    params(
        ("id" = String, Path, description = "Partner id"),
        ("group_id" = String, Path, description = "SCIM group id"),
        ("mapping_id" = String, Path, description = "Role mapping id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem),
        (status = 403, description = "Not allowed to grant this role here, or a cross-site request", body = Problem),
        (status = 404, description = "No such mapping of this group, or no such group or partner", body = Problem),
    ))]
pub async fn unmap_group_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, group_id, mapping_id)): Path<(PartnerId, ScimGroupId, ScimMappingId)>,
) -> OperationResult<StatusCode> {
    ops::scim::groups::remove_mapping(&state, &caller.principal, &caller.actor(), &id, &group_id, &mapping_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
