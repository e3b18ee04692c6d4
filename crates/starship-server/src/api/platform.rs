//! What operators set up: partners, productions; and the catalogue.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::catalogue::Application;
use starship_core::domain::{PartnerKind, Title};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::partners::Production;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::ops::platform::PartnerView;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    #[schema(value_type = Title)]
    pub name: String,
    /// content, fulfillment, qc or network
    #[schema(value_type = PartnerKind)]
    pub kind: String,
}

/// Partners: every one for operators, one's own for partner users.
#[utoipa::path(get, path = "/api/v1/partners", tag = "platform",
    responses((status = 200, body = Vec<PartnerView>), (status = 401, body = Problem)))]
pub async fn list_partners(
    State(state): State<AppState>,
    caller: Caller,
) -> OperationResult<axum::Json<Vec<PartnerView>>> {
    let list = ops::platform::partners(&state, &caller.principal).await?;
    Ok(axum::Json(list.into_iter().map(PartnerView::from).collect()))
}

/// Creates a partner (operators).
#[utoipa::path(post, path = "/api/v1/partners", tag = "platform", request_body = NewPartner,
    responses((status = 201, body = PartnerView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_partner(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewPartner>,
) -> OperationResult<(StatusCode, axum::Json<PartnerView>)> {
    let partner = ops::platform::create_partner(&state, &caller.principal, &body.name, &body.kind).await?;
    Ok((StatusCode::CREATED, axum::Json(partner.into())))
}

#[derive(Serialize, ToSchema)]
pub struct ProductionView {
    pub id: i64,
    pub title: String,
    /// "Title (id)", as the seeds write it.
    pub label: String,
    pub created_at: String,
    /// When the production ends, if known: its roles end then unless
    /// granted with an end of their own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
}

impl From<Production> for ProductionView {
    fn from(p: Production) -> Self {
        Self {
            id: p.id.get(),
            label: format!("{} ({})", p.title, p.id),
            title: p.title,
            created_at: rfc3339_from_millis(p.created_at),
            ends_at: p.ends_at.map(rfc3339_from_millis),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduction {
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    pub id: i64,
    #[schema(value_type = Title)]
    pub title: String,
    /// When the production ends (RFC 3339, in the future): a production
    /// role granted without an `expires_at` ends then.
    #[serde(default)]
    pub ends_at: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/productions", tag = "platform",
    responses((status = 200, body = Vec<ProductionView>), (status = 401, body = Problem)))]
pub async fn list_productions(
    State(state): State<AppState>,
    _caller: Caller,
) -> OperationResult<axum::Json<Vec<ProductionView>>> {
    Ok(axum::Json(ops::platform::productions(&state).await?.into_iter().map(ProductionView::from).collect()))
}

/// Creates a production (operators).
#[utoipa::path(post, path = "/api/v1/productions", tag = "platform", request_body = NewProduction,
    responses((status = 201, body = ProductionView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_production(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewProduction>,
) -> OperationResult<(StatusCode, axum::Json<ProductionView>)> {
    let production =
        ops::platform::create_production(&state, &caller.principal, body.id, &body.title, body.ends_at.as_deref())
            .await?;
    Ok((StatusCode::CREATED, axum::Json(production.into())))
}

/// The applications with their roles, capabilities, role scope,
/// notification types and metadata schema.
#[utoipa::path(get, path = "/api/v1/applications", tag = "platform",
    responses((status = 200, body = Vec<Application>), (status = 401, body = Problem)))]
pub async fn list_applications(
    State(state): State<AppState>,
    _caller: Caller,
) -> OperationResult<axum::Json<Vec<Application>>> {
    Ok(axum::Json(state.catalogue.applications.clone()))
}
