//! Who a communication of a type reaches among a partner's people.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use starship_core::domain::UserStatus;
use starship_core::ids::{PartnerId, SiteId, UserId};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiQuery, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecipientParams {
    /// Only contacts of this site.
    #[serde(default)]
    pub site: Option<SiteId>,
    /// Operators: which partner.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
}

#[derive(Serialize, ToSchema)]
pub struct Recipient {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub contact_roles: Vec<String>,
    /// Whether the person can sign in; contacts without sign-in count too.
    pub portal_access: bool,
}

/// Who a communication of this type reaches: operational-outreach,
/// firmware-upgrade, maintenance, logistics, deployment-status.
#[utoipa::path(get, path = "/api/v1/communications/{type}/recipients", tag = "portal",
    params(("type" = String, Path, description = "Communication type"), RecipientParams),
    responses((status = 200, body = Vec<Recipient>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    ApiQuery(params): ApiQuery<RecipientParams>,
) -> OperationResult<axum::Json<Vec<Recipient>>> {
    let partner = ops::users::target_partner(&caller.principal, params.partner_id.as_ref())?;
    let people =
        ops::communications::recipients(&state, &caller.principal, &kind, &partner, params.site.as_ref()).await?;
    Ok(axum::Json(
        people
            .into_iter()
            .map(|p| Recipient {
                portal_access: matches!(p.status, UserStatus::Active | UserStatus::Pending),
                id: p.user_id,
                email: p.email,
                first_name: p.first_name,
                last_name: p.last_name,
                contact_roles: p.contact_roles,
            })
            .collect(),
    ))
}
