//! The Partner Portal's API: contacts, invitations, access, levels, sites,
//! appliances, tickets, communications and MFA.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::authz::Principal;
use starship_core::domain::Title;
use starship_core::portal::{PortalLevel, TicketStatus};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::history::Source;
use starship_store::{appliances, sites, tickets};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, Caller, OptionalJson};
use crate::ops;
use crate::ops::appliances::BgpInput;
use crate::ops::contacts::ContactEdit;
use crate::ops::session::OtherSignIns;
use crate::problem::{ApiResult, Problem};
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
    pub user_id: String,
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
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<InvitationBody>,
) -> ApiResult<axum::Json<AccessView>> {
    let user = ops::contacts::invite(&state, &caller.principal, &caller.actor(), &id, body.level).await?;
    Ok(axum::Json(AccessView { user_id: user.id, status: user.status }))
}

/// Revokes sign-in at once (sessions, tokens, links); the contact stays.
#[utoipa::path(delete, path = "/api/v1/users/{id}/portal-access", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = AccessView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AccessView>> {
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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LevelBody>,
) -> ApiResult<StatusCode> {
    ops::contacts::set_level(&state, &caller.principal, &caller.actor(), &id, body.level).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a contact; its History stays.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactBody>,
) -> ApiResult<axum::Json<ContactView>> {
    let edit = ContactEdit { contact_roles: body.contact_roles, sites: body.sites };
    ops::contacts::edit_contact(&state, &caller.principal, &caller.actor(), &id, &edit).await?;
    Ok(axum::Json(contact_view(ops::contacts::contact(&state, &caller.principal, &id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeBody {
    pub email: String,
}

/// Asks to change an email address: a confirmation link goes to the new
/// address, a notice to the old one; nothing changes until confirmed.
#[utoipa::path(post, path = "/api/v1/users/{id}/email-change", tag = "portal", params(("id" = String, Path, description = "User id")),
    request_body = EmailChangeBody,
    responses((status = 202, description = "Confirmation sent"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_email_change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EmailChangeBody>,
) -> ApiResult<StatusCode> {
    ops::people::request_email_change(&state, &caller.principal, &caller.actor(), &id, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

/// Confirms a new email address with the token from the link sent to it.
#[utoipa::path(post, path = "/api/v1/email-confirmations", tag = "portal", request_body = TokenBody, security(()),
    responses((status = 200, body = AccessView), (status = 503, description = "The database is not answering", body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenBody>,
) -> ApiResult<axum::Json<AccessView>> {
    let user = ops::people::confirm_email(&state, &body.token, Source::Api).await?;
    Ok(axum::Json(AccessView { user_id: user.id, status: user.status }))
}

#[derive(Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartnerScope {
    /// Operators: which partner.
    #[serde(default)]
    pub partner_id: Option<String>,
}

fn scope(caller: &Principal, params: &PartnerScope) -> ApiResult<String> {
    ops::people::target_partner(caller, params.partner_id.as_deref())
}

/// The partner's contacts and portal users with their levels, roles and sites.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "portal", params(PartnerScope),
    responses((status = 200, body = Vec<ContactView>), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`)", body = Problem)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PartnerScope>,
) -> ApiResult<axum::Json<Vec<ContactView>>> {
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

#[derive(Serialize, ToSchema)]
pub struct SiteContactView {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Named in the site's deployment survey.
    pub on_survey: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SiteView {
    pub id: String,
    pub partner_id: String,
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
) -> ApiResult<axum::Json<Vec<SiteView>>> {
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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SiteEdit>,
) -> ApiResult<axum::Json<SiteView>> {
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
    pub partner_id: Option<String>,
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
) -> ApiResult<(StatusCode, axum::Json<SiteView>)> {
    let site = ops::sites::add_site(&state, &caller.principal, body.partner_id.as_deref(), &body.name, &body.location)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(site.into())))
}

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
    pub id: String,
    pub partner_id: String,
    pub site_id: String,
    pub serial: String,
    pub model: String,
    /// serving, drained or retired
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_changed_by: Option<String>,
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
            status: if a.retired_at.is_some() { "retired".into() } else { a.status },
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
) -> ApiResult<axum::Json<Vec<ApplianceView>>> {
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
) -> ApiResult<(StatusCode, axum::Json<ApplianceView>)> {
    let input = ops::appliances::ApplianceInput { site_id: body.site_id, serial: body.serial, model: body.model };
    let appliance = ops::appliances::register_appliance(&state, &caller.principal, &caller.actor(), &input).await?;
    Ok((StatusCode::CREATED, axum::Json(appliance.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplianceImport {
    /// Operators name the partner.
    #[serde(default)]
    pub partner_id: Option<String>,
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
) -> ApiResult<(StatusCode, axum::Json<Vec<ApplianceView>>)> {
    let appliances = ops::appliances::import_appliances(
        &state,
        &caller.principal,
        &caller.actor(),
        body.partner_id.as_deref(),
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
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApplianceView>> {
    Ok(axum::Json(ops::appliances::retire_appliance(&state, &caller.principal, &caller.actor(), &id).await?.into()))
}

/// Drains an appliance for maintenance (admin and engineering).
#[utoipa::path(post, path = "/api/v1/appliances/{id}/drain", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The appliance is retired", body = Problem)))]
pub async fn drain(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApplianceView>> {
    Ok(axum::Json(ops::appliances::set_drained(&state, &caller.principal, &caller.actor(), &id, true).await?.into()))
}

/// Returns a drained appliance to service.
#[utoipa::path(delete, path = "/api/v1/appliances/{id}/drain", tag = "portal", params(("id" = String, Path, description = "Appliance id")),
    responses((status = 200, body = ApplianceView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The appliance is retired", body = Problem)))]
pub async fn undrain(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ApplianceView>> {
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
    pub created_by: Option<String>,
    pub created_at: String,
}

async fn bgp_versions(state: &AppState, caller: &Principal, id: &str) -> ApiResult<Vec<BgpVersion>> {
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
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<BgpVersion>>> {
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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BgpBody>,
) -> ApiResult<axum::Json<Vec<BgpVersion>>> {
    let input =
        BgpInput { peer_asn: body.peer_asn, neighbor_ipv4: body.neighbor_ipv4, neighbor_ipv6: body.neighbor_ipv6 };
    ops::appliances::update_bgp(&state, &caller.principal, &caller.actor(), &id, &input).await?;
    Ok(axum::Json(bgp_versions(&state, &caller.principal, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CommentView {
    pub id: String,
    pub author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    pub body: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketView {
    pub id: String,
    pub partner_id: String,
    pub subject: String,
    pub body: String,
    pub status: TicketStatus,
    /// The statuses it may move to next.
    pub next_statuses: Vec<TicketStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appliance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<String>,
    pub created_at: String,
    pub comments: Vec<CommentView>,
}

fn ticket_view_of(ticket: tickets::Ticket, comments: Vec<tickets::Comment>) -> TicketView {
    let comments = comments
        .into_iter()
        .map(|c| CommentView {
            id: c.id,
            author: c.author,
            author_id: c.author_id,
            body: c.body,
            created_at: rfc3339_from_millis(c.created_at),
        })
        .collect();
    let status = TicketStatus::parse(&ticket.status).unwrap_or(TicketStatus::Open);
    TicketView {
        id: ticket.id,
        partner_id: ticket.partner_id,
        subject: ticket.subject,
        body: ticket.body,
        status,
        next_statuses: status.next().to_vec(),
        site_id: ticket.site_id,
        appliance_id: ticket.appliance_id,
        opened_by: ticket.opened_by,
        created_at: rfc3339_from_millis(ticket.created_at),
        comments,
    }
}

/// The partner's tickets with their comments.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "portal", params(PartnerScope),
    responses((status = 200, body = Vec<TicketView>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`)", body = Problem)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PartnerScope>,
) -> ApiResult<axum::Json<Vec<TicketView>>> {
    let partner = scope(&caller.principal, &params)?;
    let rows = ops::tickets::tickets(&state, &caller.principal, &partner).await?;
    Ok(axum::Json(rows.into_iter().map(|(ticket, comments)| ticket_view_of(ticket, comments)).collect()))
}

/// One ticket with its comments.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "portal", params(("id" = String, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<TicketView>> {
    let (ticket, comments) = ops::tickets::ticket(&state, &caller.principal, &id).await?;
    Ok(axum::Json(ticket_view_of(ticket, comments)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
}

/// Comments on a ticket, attributed and timestamped.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "portal", params(("id" = String, Path, description = "Ticket id")),
    request_body = CommentBody,
    responses((status = 201, body = TicketView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CommentBody>,
) -> ApiResult<(StatusCode, axum::Json<TicketView>)> {
    ops::tickets::comment_on_ticket(&state, &caller.principal, &caller.actor(), &caller.user.email, &id, &body.body)
        .await?;
    let (ticket, comments) = ops::tickets::ticket(&state, &caller.principal, &id).await?;
    Ok((StatusCode::CREATED, axum::Json(ticket_view_of(ticket, comments))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    #[schema(value_type = Title)]
    pub subject: String,
    /// 1 to 10,000 characters.
    pub body: String,
    /// One of the partner's sites.
    #[serde(default)]
    pub site_id: Option<String>,
    /// One of the partner's appliances (at `site_id` when both are given).
    #[serde(default)]
    pub appliance_id: Option<String>,
    /// Operators name the partner.
    #[serde(default)]
    pub partner_id: Option<String>,
}

/// Opens a ticket (every portal level; operators name the partner). The
/// partner's NOC contacts are emailed.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "portal", request_body = NewTicket,
    responses((status = 201, body = TicketView), (status = 403, body = Problem),
        (status = 404, description = "The partner, site or appliance is not one the caller may see", body = Problem),
        (status = 422, body = Problem)))]
pub async fn open_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTicket>,
) -> ApiResult<(StatusCode, axum::Json<TicketView>)> {
    let input = ops::tickets::TicketInput {
        partner_id: body.partner_id,
        subject: body.subject,
        body: body.body,
        site_id: body.site_id,
        appliance_id: body.appliance_id,
    };
    let ticket = ops::tickets::open_ticket(&state, &caller.principal, &caller.actor(), &input).await?;
    let (ticket, comments) = ops::tickets::ticket(&state, &caller.principal, &ticket.id).await?;
    Ok((StatusCode::CREATED, axum::Json(ticket_view_of(ticket, comments))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketStatusBody {
    pub status: TicketStatus,
}

/// Moves a ticket to another status (operators and the partner's portal
/// admins); the watchers and NOC contacts are emailed. 409 when the
/// ticket's status may not move there.
#[utoipa::path(put, path = "/api/v1/tickets/{id}/status", tag = "portal", params(("id" = String, Path, description = "Ticket id")),
    request_body = TicketStatusBody,
    responses((status = 200, body = TicketView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn set_ticket_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TicketStatusBody>,
) -> ApiResult<axum::Json<TicketView>> {
    ops::tickets::set_ticket_status(&state, &caller.principal, &caller.actor(), &id, body.status).await?;
    let (ticket, comments) = ops::tickets::ticket(&state, &caller.principal, &id).await?;
    Ok(axum::Json(ticket_view_of(ticket, comments)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecipientParams {
    /// Only contacts of this site.
    #[serde(default)]
    pub site: Option<String>,
    /// Operators: which partner.
    #[serde(default)]
    pub partner_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Recipient {
    pub id: String,
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
) -> ApiResult<axum::Json<Vec<Recipient>>> {
    let partner = ops::people::target_partner(&caller.principal, params.partner_id.as_deref())?;
    let people = ops::communications::recipients(&state, &caller.principal, &kind, &partner, params.site.as_deref()).await?;
    Ok(axum::Json(
        people
            .into_iter()
            .map(|p| Recipient {
                portal_access: p.status == "active" || p.status == "pending",
                id: p.user_id,
                email: p.email,
                first_name: p.first_name,
                last_name: p.last_name,
                contact_roles: p.contact_roles,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct MfaEnrolment {
    /// The shared secret, base32, for typing into an authenticator app.
    pub secret: String,
    /// otpauth:// URI (RFC 6238 TOTP, SHA-1, 6 digits, 30 s).
    pub provisioning_uri: String,
}

/// Starts TOTP enrolment for the signed-in user.
#[utoipa::path(post, path = "/api/v1/me/mfa", tag = "session",
    responses((status = 200, body = MfaEnrolment), (status = 409, body = Problem)))]
pub async fn begin_mfa(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<MfaEnrolment>> {
    let enrolment = ops::session::begin_mfa(&state, &caller.user).await?;
    Ok(axum::Json(MfaEnrolment { secret: enrolment.secret, provisioning_uri: enrolment.provisioning_uri }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmMfa {
    pub code: String,
    /// Also end every other session and every API token of yours, in the
    /// same step (false when left out).
    #[serde(default)]
    pub end_other_sessions: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once in place of a code; shown this once.
    pub recovery_codes: Vec<String>,
    /// Sessions other than this request's that ended (`end_other_sessions`).
    pub sessions_ended: u64,
    /// API tokens that ended (`end_other_sessions`).
    pub tokens_ended: u64,
}

/// Confirms enrolment with the authenticator's current code; optionally
/// ends every other session and every API token at the same time.
#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "session", request_body = ConfirmMfa,
    responses((status = 200, body = RecoveryCodes), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_mfa(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ConfirmMfa>,
) -> ApiResult<axum::Json<RecoveryCodes>> {
    let others =
        if body.end_other_sessions { OtherSignIns::End { current: caller.session_hash() } } else { OtherSignIns::Keep };
    let enrolled = ops::session::confirm_mfa(&state, &caller.user, &body.code, others, Source::Api).await?;
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: enrolled.recovery_codes,
        sessions_ended: enrolled.ended.sessions,
        tokens_ended: enrolled.ended.tokens,
    }))
}

/// Deactivates a person: they cannot sign in, every session and token of
/// theirs ends at once and their roles stop counting; everything they hold
/// stays for reactivation. Under the rule for acting on a person.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivation", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deactivated"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Deactivated already", body = Problem)))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    ops::people::set_deactivated(&state, &caller.principal, &caller.actor(), &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a deactivated person: sign-in (with the same password) and
/// every role come back.
#[utoipa::path(delete, path = "/api/v1/users/{id}/deactivation", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Reactivated"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not deactivated", body = Problem)))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    ops::people::set_deactivated(&state, &caller.principal, &caller.actor(), &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
    /// Also end every other session and every API token of yours, in the
    /// same step (false when left out).
    #[serde(default)]
    pub end_other_sessions: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Sessions other than this request's that ended (`end_other_sessions`).
    pub sessions_ended: u64,
    /// API tokens that ended (`end_other_sessions`).
    pub tokens_ended: u64,
}

/// Changes one's own password, proven with the current one (a wrong one
/// counts as a failed sign-in); only from a signed-in session, not a token.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = ChangePassword,
    responses((status = 200, body = PasswordChanged), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult<axum::Json<PasswordChanged>> {
    let ended = ops::session::change_password(
        &state,
        &caller.user,
        caller.session_hash(),
        body.current_password,
        &body.new_password,
        body.end_other_sessions,
        Source::Api,
    )
    .await?;
    Ok(axum::Json(PasswordChanged { sessions_ended: ended.sessions, tokens_ended: ended.tokens }))
}

/// Turns off one's own MFA: only with a current code or a recovery code.
#[utoipa::path(post, path = "/api/v1/me/mfa/disable", tag = "session", request_body = CodeBody,
    responses((status = 204, description = "Turned off"), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)))]
pub async fn disable_mfa(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CodeBody>,
) -> ApiResult<StatusCode> {
    ops::session::disable_own_mfa(&state, &caller.user, &body.code, Source::Api).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets another user's MFA (a lost phone), under the user-administration
/// rule. One's own is turned off with `POST /api/v1/me/mfa/disable`.
#[utoipa::path(delete, path = "/api/v1/users/{id}/mfa", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Reset"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_mfa(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    ops::session::reset_mfa(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
