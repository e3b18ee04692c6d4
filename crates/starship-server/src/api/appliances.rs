//! Appliances: listed, registered one by one or from a CSV, retired,
//! drained and returned to service, and their BGP configuration versions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::authz::Principal;
use starship_core::domain::Title;
use starship_core::ids::{ApplianceId, PartnerId, SiteId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::appliances;
use utoipa::ToSchema;

use super::portal::{scope, PartnerScope};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops;
use crate::ops::appliances::BgpInput;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ApplianceEventView {
    /// registered, drained, undrained (back in service) or retired
    pub event: String,
    /// Who did it (an email), when a person did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApplianceView {
    pub id: ApplianceId,
    pub partner_id: PartnerId,
    pub site_id: SiteId,
    pub serial: String,
    pub model: String,
    /// serving, drained or retired
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_changed_by: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_changed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    /// The current BGP configuration version (lists only; none when never set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_version: Option<i64>,
    /// Registration, drains, returns to service and retirement, oldest
    /// first (lists only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<ApplianceEventView>>,
}

impl From<appliances::Appliance> for ApplianceView {
    fn from(a: appliances::Appliance) -> Self {
        Self {
            id: a.id,
            partner_id: a.partner_id,
            site_id: a.site_id,
            serial: a.serial,
            model: a.model,
            status: a.status.as_str().to_string(),
            status_changed_by: a.status_changed_by,
            status_changed_at: a.status_changed_at.map(rfc3339_from_millis),
            retired_at: a.retired_at.map(rfc3339_from_millis),
            bgp_version: None,
            history: None,
        }
    }
}

/// The partner's appliances with their status, history and current BGP version.
#[utoipa::path(get, path = "/api/v1/appliances", tag = "portal", params(PartnerScope),
    responses((status = 200, body = Vec<ApplianceView>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`)", body = Problem)))]
pub async fn list_appliances(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PartnerScope>,
) -> OperationResult<axum::Json<Vec<ApplianceView>>> {
    let partner = scope(&caller.principal, &params)?;
    let rows = ops::appliances::appliances(&state, &caller.principal, &partner).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|listed| {
                let bgp_version = listed.versions.first().map(|v| v.version);
                let history = listed
                    .events
                    .into_iter()
                    .map(|e| ApplianceEventView { event: e.event, by: e.by, at: rfc3339_from_millis(e.at) })
                    .collect();
                ApplianceView { bgp_version, history: Some(history), ..ApplianceView::from(listed.appliance) }
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppliance {
    /// One of the partner's sites; the appliance is that partner's.
    pub site_id: String,
    /// 1 to 64 letters, digits, '-', '_' or '.'; unique.
    pub serial: String,
    #[schema(value_type = Title)]
    pub model: String,
}

/// Registers an appliance at a partner's site (operators only). A serial
/// registered already is 409.
#[utoipa::path(post, path = "/api/v1/appliances", tag = "portal", request_body = NewAppliance,
    responses((status = 201, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn register_appliance(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewAppliance>,
) -> OperationResult<(StatusCode, axum::Json<ApplianceView>)> {
    let input = ops::appliances::ApplianceInput { site_id: body.site_id, serial: body.serial, model: body.model };
    let appliance = ops::appliances::register_appliance(&state, &caller.principal, &caller.actor(), &input).await?;
    Ok((StatusCode::CREATED, axum::Json(appliance.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplianceImport {
    /// Operators name the partner.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
    /// CSV text whose first line names the columns `site` (a site's name
    /// or id), `serial` and `model`.
    pub csv: String,
}

/// Registers every appliance of a CSV at the partner's sites (operators
/// only): every bad row is reported (`rows[N].field`, N the file's line)
/// and then nothing is written.
#[utoipa::path(post, path = "/api/v1/appliances/import", tag = "portal", request_body = ApplianceImport,
    responses((status = 201, body = Vec<ApplianceView>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn import_appliances(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ApplianceImport>,
) -> OperationResult<(StatusCode, axum::Json<Vec<ApplianceView>>)> {
    let appliances = ops::appliances::import_appliances(
        &state,
        &caller.principal,
        &caller.actor(),
        body.partner_id.as_ref(),
        &body.csv,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(appliances.into_iter().map(ApplianceView::from).collect())))
}

/// Retires an appliance (operators only); it stays listed as retired.
#[utoipa::path(post, path = "/api/v1/appliances/{id}/retirement", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn retire_appliance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplianceId>,
) -> OperationResult<axum::Json<ApplianceView>> {
    Ok(axum::Json(ops::appliances::retire_appliance(&state, &caller.principal, &caller.actor(), &id).await?.into()))
}

/// Drains an appliance for maintenance (admin and engineering).
#[utoipa::path(post, path = "/api/v1/appliances/{id}/drain", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The appliance is retired", body = Problem)))]
pub async fn drain(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplianceId>,
) -> OperationResult<axum::Json<ApplianceView>> {
    Ok(axum::Json(ops::appliances::set_drained(&state, &caller.principal, &caller.actor(), &id, true).await?.into()))
}

/// Returns a drained appliance to service.
#[utoipa::path(delete, path = "/api/v1/appliances/{id}/drain", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The appliance is retired", body = Problem)))]
pub async fn undrain(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplianceId>,
) -> OperationResult<axum::Json<ApplianceView>> {
    Ok(axum::Json(ops::appliances::set_drained(&state, &caller.principal, &caller.actor(), &id, false).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BgpBody {
    pub peer_asn: i64,
    #[serde(default)]
    pub neighbor_ipv4: Option<String>,
    #[serde(default)]
    pub neighbor_ipv6: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BgpVersion {
    pub version: i64,
    pub peer_asn: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbor_ipv4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbor_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
    pub created_at: String,
}

async fn bgp_versions(state: &AppState, caller: &Principal, id: &ApplianceId) -> OperationResult<Vec<BgpVersion>> {
    Ok(ops::appliances::bgp_versions(state, caller, id)
        .await?
        .into_iter()
        .map(|c| BgpVersion {
            version: c.version,
            peer_asn: c.peer_asn,
            neighbor_ipv4: c.neighbor_ipv4,
            neighbor_ipv6: c.neighbor_ipv6,
            created_by: c.created_by,
            created_at: rfc3339_from_millis(c.created_at),
        })
        .collect())
}

/// An appliance's BGP configuration versions, newest first.
#[utoipa::path(get, path = "/api/v1/appliances/{id}/bgp", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = Vec<BgpVersion>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_bgp(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplianceId>,
) -> OperationResult<axum::Json<Vec<BgpVersion>>> {
    Ok(axum::Json(bgp_versions(&state, &caller.principal, &id).await?))
}

/// Saves a new BGP configuration version (admin and engineering).
#[utoipa::path(put, path = "/api/v1/appliances/{id}/bgp", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    request_body = BgpBody,
    responses((status = 200, body = Vec<BgpVersion>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_bgp(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplianceId>,
    ApiJson(body): ApiJson<BgpBody>,
) -> OperationResult<axum::Json<Vec<BgpVersion>>> {
    let input =
        BgpInput { peer_asn: body.peer_asn, neighbor_ipv4: body.neighbor_ipv4, neighbor_ipv6: body.neighbor_ipv6 };
    ops::appliances::update_bgp(&state, &caller.principal, &caller.actor(), &id, &input).await?;
    Ok(axum::Json(bgp_versions(&state, &caller.principal, &id).await?))
}
