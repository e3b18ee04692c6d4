//! A partner's sites: listed with their people, added and edited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::domain::Title;
use starship_core::ids::{PartnerId, SiteId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::sites;
use utoipa::ToSchema;

use super::portal::{scope, PartnerScope};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SiteContactView {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Named in the site's deployment survey.
    pub on_survey: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SiteView {
    pub id: SiteId,
    pub partner_id: PartnerId,
    pub name: String,
    pub location: String,
    pub created_at: String,
    /// The people associated with the site (lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<SiteContactView>>,
}

impl From<sites::Site> for SiteView {
    fn from(s: sites::Site) -> Self {
        Self {
            id: s.id,
            partner_id: s.partner_id,
            name: s.name,
            location: s.location,
            created_at: rfc3339_from_millis(s.created_at),
            contacts: None,
        }
    }
}

/// A partner's sites, each with the people associated with it.
#[utoipa::path(get, path = "/api/v1/sites", tag = "portal", params(PartnerScope),
    responses((status = 200, body = Vec<SiteView>), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`)", body = Problem)))]
pub async fn list_sites(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PartnerScope>,
) -> OperationResult<axum::Json<Vec<SiteView>>> {
    let partner = scope(&caller.principal, &params)?;
    let sites = ops::sites::sites_with_contacts(&state, &caller.principal, &partner).await?;
    Ok(axum::Json(
        sites
            .into_iter()
            .map(|(site, people)| {
                let contacts = people
                    .into_iter()
                    .map(|c| SiteContactView {
                        id: c.user_id,
                        first_name: c.first_name,
                        last_name: c.last_name,
                        email: c.email,
                        on_survey: c.on_survey,
                    })
                    .collect();
                SiteView { contacts: Some(contacts), ..SiteView::from(site) }
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteEdit {
    #[schema(value_type = Title)]
    pub name: String,
    #[schema(value_type = Title)]
    pub location: String,
}

/// Renames a site or changes its location (operators, and the partner's
/// portal admins).
#[utoipa::path(put, path = "/api/v1/sites/{id}", tag = "portal", params(("id" = String, Path, description = "Site id")),
    request_body = SiteEdit,
    responses((status = 200, body = SiteView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn edit_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<SiteId>,
    ApiJson(body): ApiJson<SiteEdit>,
) -> OperationResult<axum::Json<SiteView>> {
    let site = ops::sites::edit_site(&state, &caller.principal, &id, &body.name, &body.location).await?;
    Ok(axum::Json(site.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    #[schema(value_type = Title)]
    pub name: String,
    /// City and country, or any description of where it is.
    #[schema(value_type = Title)]
    pub location: String,
    /// Operators name the partner.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
}

/// Adds a site (operators, and the partner's portal admins).
#[utoipa::path(post, path = "/api/v1/sites", tag = "portal", request_body = NewSite,
    responses((status = 201, body = SiteView), (status = 403, body = Problem),
        (status = 404, description = "An operator named a partner that does not exist", body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_site(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewSite>,
) -> OperationResult<(StatusCode, axum::Json<SiteView>)> {
    let site =
        ops::sites::add_site(&state, &caller.principal, body.partner_id.as_ref(), &body.name, &body.location).await?;
    Ok((StatusCode::CREATED, axum::Json(site.into())))
}
