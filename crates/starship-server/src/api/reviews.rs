//! Access reviews: open one, list and read them, decide on their items.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::domain::ProductionId;
use starship_core::ids::{GrantId, PartnerId, ReviewId, UserId};
use starship_core::time_fmt::{millis_from_rfc3339, rfc3339_from_millis};
use starship_core::FieldError;
use starship_store::reviews::{self, Item, Review};
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenReviewBody {
    /// The partner whose grants are reviewed; a partner's admin may leave
    /// it out (their own), operators must name it.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
    /// Application key, e.g. backlot.
    pub application: String,
    /// When the review closes (RFC 3339): every grant not kept by then is revoked.
    pub due_at: String,
    /// Only the grants on this production.
    #[serde(default)]
    pub production: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewItem {
    pub grant_id: GrantId,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// `keep`, `revoke`, or absent while undecided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessReview {
    pub id: ReviewId,
    pub partner_id: PartnerId,
    pub application: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    pub due_at: String,
    pub opened_by: UserId,
    pub opened_at: String,
    /// Absent while the review is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// Items in the review, and how many have a decision.
    pub total: i64,
    pub decided: i64,
    /// The grants under review; only in the answer about one review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ReviewItem>>,
}

fn review_json(review: Review, items: Option<Vec<Item>>) -> AccessReview {
    AccessReview {
        id: review.id,
        partner_id: review.partner_id,
        application: review.application,
        production: review.production.map(ProductionId::get),
        due_at: rfc3339_from_millis(review.due_at),
        opened_by: review.opened_by,
        opened_at: rfc3339_from_millis(review.opened_at),
        closed_at: review.closed_at.map(rfc3339_from_millis),
        total: review.total,
        decided: review.decided,
        items: items.map(|items| items.into_iter().map(item_json).collect()),
    }
}

fn item_json(item: Item) -> ReviewItem {
    ReviewItem {
        grant_id: item.grant_id,
        user_id: item.user_id,
        email: item.email,
        name: item.name,
        role: item.role,
        production: item.production.map(ProductionId::get),
        decision: item.decision.map(|d| d.as_str().to_string()),
        decided_by: item.decided_by,
        decided_at: item.decided_at.map(rfc3339_from_millis),
        note: item.note,
    }
}

/// Opens a review of every grant of an application in a partner (on one
/// production, if given), as they are now: operators, and the partner's
/// admins of the application (a production's admin only for a review of
/// their production).
#[utoipa::path(post, path = "/api/v1/access-reviews", tag = "access", request_body = OpenReviewBody,
    responses((status = 201, body = AccessReview), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn open_review(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<OpenReviewBody>,
) -> OperationResult<(StatusCode, axum::Json<AccessReview>)> {
    let due_at = millis_from_rfc3339(&body.due_at)
        .ok_or_else(|| FieldError::new("due_at", "is not an RFC 3339 timestamp such as 2030-01-31T17:00:00Z"))?;
    let request = ops::reviews::OpenRequest {
        partner_id: body.partner_id,
        application: body.application,
        production: body.production,
        due_at,
    };
    let (review, items) = ops::reviews::open(&state, &caller.principal, &request).await?;
    Ok((StatusCode::CREATED, axum::Json(review_json(review, Some(items)))))
}

#[derive(Serialize, ToSchema)]
pub struct AccessReviewList {
    /// Open reviews first, by due date; then closed ones, newest first.
    pub reviews: Vec<AccessReview>,
}

/// The reviews the caller may read, with their progress (at most 200).
#[utoipa::path(get, path = "/api/v1/access-reviews", tag = "access",
    responses((status = 200, body = AccessReviewList)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    caller: Caller,
) -> OperationResult<axum::Json<AccessReviewList>> {
    let found = ops::reviews::list(&state, &caller.principal).await?;
    Ok(axum::Json(AccessReviewList { reviews: found.into_iter().map(|r| review_json(r, None)).collect() }))
}

/// One review with its items and their decisions.
#[utoipa::path(get, path = "/api/v1/access-reviews/{id}", tag = "access",
    params(("id" = String, Path, description = "Access review id")),
    responses((status = 200, body = AccessReview), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ReviewId>,
) -> OperationResult<axum::Json<AccessReview>> {
    let (review, items) = ops::reviews::get(&state, &caller.principal, &id).await?;
    Ok(axum::Json(review_json(review, Some(items))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The grant of the review decided on.
    pub grant_id: GrantId,
    /// `keep`, or `revoke` (revoked when the review closes, like any
    /// grant not kept).
    pub decision: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Keeps or revokes one grant of an open review; a decision may change
/// until the review closes. Nobody decides on their own grant.
#[utoipa::path(post, path = "/api/v1/access-reviews/{id}/decisions", tag = "access",
    params(("id" = String, Path, description = "Access review id")), request_body = DecisionBody,
    responses((status = 200, body = ReviewItem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The review is closed", body = Problem),
        (status = 422, description = "The grant is not an item of the review, or the decision is not keep or revoke", body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ReviewId>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> OperationResult<axum::Json<ReviewItem>> {
    let decision = reviews::Decision::parse(&body.decision)
        .ok_or_else(|| FieldError::new("decision", "is not one of keep, revoke"))?;
    let item =
        ops::reviews::decide(&state, &caller.principal, &id, &body.grant_id, decision, body.note.as_deref()).await?;
    Ok(axum::Json(item_json(item)))
}
