//! Tickets: listed with their comments, opened, commented, moved between
//! statuses.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::domain::Title;
use starship_core::ids::{ApplianceId, PartnerId, SiteId, TicketId, UserId};
use starship_core::portal::TicketStatus;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::tickets;
use utoipa::ToSchema;

use super::portal::{scope, PartnerScope};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CommentView {
    pub id: String,
    pub author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_id: Option<UserId>,
    pub body: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketView {
    pub id: TicketId,
    pub partner_id: PartnerId,
    pub subject: String,
    pub body: String,
    pub status: TicketStatus,
    /// The statuses it may move to next.
    pub next_statuses: Vec<TicketStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appliance_id: Option<ApplianceId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<UserId>,
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
    let status = ticket.status;
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
) -> OperationResult<axum::Json<Vec<TicketView>>> {
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
    Path(id): Path<TicketId>,
) -> OperationResult<axum::Json<TicketView>> {
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
    Path(id): Path<TicketId>,
    ApiJson(body): ApiJson<CommentBody>,
) -> OperationResult<(StatusCode, axum::Json<TicketView>)> {
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
    pub site_id: Option<SiteId>,
    /// One of the partner's appliances (at `site_id` when both are given).
    #[serde(default)]
    pub appliance_id: Option<ApplianceId>,
    /// Operators name the partner.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
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
) -> OperationResult<(StatusCode, axum::Json<TicketView>)> {
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
    Path(id): Path<TicketId>,
    ApiJson(body): ApiJson<TicketStatusBody>,
) -> OperationResult<axum::Json<TicketView>> {
    ops::tickets::set_ticket_status(&state, &caller.principal, &caller.actor(), &id, body.status).await?;
    let (ticket, comments) = ops::tickets::ticket(&state, &caller.principal, &id).await?;
    Ok(axum::Json(ticket_view_of(ticket, comments)))
}
