//! Access reviews: a snapshot of one application's grants in one partner,
//! each item kept or revoked, closed once at its due date.
//!
//! Closing and reminding are claimed with a conditional update (`… WHERE
//! closed_at IS NULL`): of several instances running the same pass, only
//! the one whose update hit the row goes on.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::domain::ProductionId;
use starship_core::ids::{GrantId, PartnerId, ReviewId, UserId};

use crate::users::production_of;
use crate::{new_id, now_millis, Conn, Result};

#[derive(Debug, Clone)]
pub struct Review {
    pub id: ReviewId,
    pub partner_id: PartnerId,
    pub application: String,
    pub production: Option<ProductionId>,
    pub due_at: i64,
    pub opened_by: UserId,
    pub opened_at: i64,
    pub reminded_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Items in the review, and how many have a decision.
    pub total: i64,
    pub decided: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Keep,
    Revoke,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Revoke => "revoke",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "keep" => Some(Self::Keep),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub review_id: ReviewId,
    pub grant_id: GrantId,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: String,
    pub production: Option<ProductionId>,
    pub decision: Option<Decision>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<i64>,
    pub note: Option<String>,
}

const REVIEW_COLUMNS: &str = "r.id, r.partner_id, r.application, r.production_id, r.due_at, r.opened_by, \
     r.opened_at, r.reminded_at, r.closed_at, \
     (SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id) AS total, \
     (SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id AND i.decision IS NOT NULL) AS decided";

fn review_from_row(r: &AnyRow) -> Result<Review> {
    Ok(Review {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        application: r.try_get("application")?,
        production: production_of(r)?,
        due_at: r.try_get("due_at")?,
        opened_by: r.try_get("opened_by")?,
        opened_at: r.try_get("opened_at")?,
        reminded_at: r.try_get("reminded_at")?,
        closed_at: r.try_get("closed_at")?,
        total: r.try_get("total")?,
        decided: r.try_get("decided")?,
    })
}

fn item_from_row(r: &AnyRow) -> Result<Item> {
    let first: String = r.try_get("first_name")?;
    let last: String = r.try_get("last_name")?;
    let decision: Option<String> = r.try_get("decision")?;
    Ok(Item {
        review_id: r.try_get("review_id")?,
        grant_id: r.try_get("grant_id")?,
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        name: format!("{first} {last}"),
        role: r.try_get("role")?,
        production: production_of(r)?,
        decision: decision.as_deref().and_then(Decision::parse),
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        note: r.try_get("note")?,
    })
}

/// Opens a review and snapshots the grants it covers: every grant of the
/// application held by the partner's people (on one production when
/// `production` is given).
pub async fn open(
    conn: &mut Conn,
    partner_id: &PartnerId,
    application: &str,
    production: Option<ProductionId>,
    due_at: i64,
    opened_by: &UserId,
) -> Result<Review> {
    let id = ReviewId::from(new_id());
    sqlx::query(
        "INSERT INTO access_reviews (id, partner_id, application, production_id, due_at, opened_by, opened_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(partner_id)
    .bind(application)
    .bind(production.map(ProductionId::get))
    .bind(due_at)
    .bind(opened_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO access_review_items (review_id, grant_id, user_id, role, production_id) \
         SELECT $1, g.id, g.user_id, g.role, g.production_id FROM grants g JOIN users u ON u.id = g.user_id \
         WHERE u.partner_id = $2 AND g.application = $3 \
         AND (CAST($4 AS BIGINT) IS NULL OR g.production_id = CAST($4 AS BIGINT))",
    )
    .bind(&id)
    .bind(partner_id)
    .bind(application)
    .bind(production.map(ProductionId::get))
    .execute(&mut *conn)
    .await?;
    Ok(get(conn, &id).await?.expect("the review just written"))
}

pub async fn get(conn: &mut Conn, id: &ReviewId) -> Result<Option<Review>> {
    sqlx::query(&format!("SELECT {REVIEW_COLUMNS} FROM access_reviews r WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(review_from_row)
        .transpose()
}

/// Reviews, open ones first by due date, then closed ones newest first;
/// one partner's, or every partner's for `None`.
pub async fn list(conn: &mut Conn, partner_id: Option<&PartnerId>, limit: i64) -> Result<Vec<Review>> {
    sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM access_reviews r \
         WHERE (CAST($1 AS TEXT) IS NULL OR r.partner_id = CAST($1 AS TEXT)) \
         ORDER BY CASE WHEN r.closed_at IS NULL THEN 0 ELSE 1 END, \
         CASE WHEN r.closed_at IS NULL THEN r.due_at ELSE -r.closed_at END, r.id LIMIT $2"
    ))
    .bind(partner_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(review_from_row)
    .collect()
}

pub async fn items(conn: &mut Conn, review_id: &ReviewId) -> Result<Vec<Item>> {
    sqlx::query(
        "SELECT i.review_id, i.grant_id, i.user_id, u.email, u.first_name, u.last_name, i.role, i.production_id, \
         i.decision, i.decided_by, i.decided_at, i.note \
         FROM access_review_items i JOIN users u ON u.id = i.user_id WHERE i.review_id = $1 \
         ORDER BY u.last_name, u.first_name, i.role, i.production_id, i.grant_id",
    )
    .bind(review_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(item_from_row)
    .collect()
}

pub async fn item(conn: &mut Conn, review_id: &ReviewId, grant_id: &GrantId) -> Result<Option<Item>> {
    Ok(items(conn, review_id).await?.into_iter().find(|i| i.grant_id == *grant_id))
}

/// Records (or changes) the decision on one item of an open review;
/// `false` when the review closed meanwhile.
pub async fn decide(
    conn: &mut Conn,
    review_id: &ReviewId,
    grant_id: &GrantId,
    decision: Decision,
    decided_by: &UserId,
    note: Option<&str>,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE access_review_items SET decision = $1, decided_by = $2, decided_at = $3, note = $4 \
         WHERE review_id = $5 AND grant_id = $6 \
         AND EXISTS (SELECT 1 FROM access_reviews r WHERE r.id = $5 AND r.closed_at IS NULL)",
    )
    .bind(decision.as_str())
    .bind(decided_by)
    .bind(now_millis())
    .bind(note)
    .bind(review_id)
    .bind(grant_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Open reviews whose due date has come.
pub async fn due(conn: &mut Conn, now: i64) -> Result<Vec<ReviewId>> {
    let rows =
        sqlx::query("SELECT id FROM access_reviews WHERE closed_at IS NULL AND due_at <= $1 ORDER BY due_at, id")
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// Marks a review closed; `true` only for the caller whose update did it.
pub async fn claim_close(conn: &mut Conn, id: &ReviewId, now: i64) -> Result<bool> {
    Ok(sqlx::query("UPDATE access_reviews SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// Open reviews due within `lead` milliseconds whose reminder has not gone
/// out.
pub async fn due_for_reminder(conn: &mut Conn, now: i64, lead: i64) -> Result<Vec<ReviewId>> {
    let rows = sqlx::query(
        "SELECT id FROM access_reviews WHERE closed_at IS NULL AND due_at <= $1 AND due_at > $2 \
         AND reminded_at IS NULL ORDER BY due_at",
    )
    .bind(now + lead)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// Marks a review's reminder sent; `true` only for the caller whose update
/// did it.
pub async fn claim_reminder(conn: &mut Conn, id: &ReviewId, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE access_reviews SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND closed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// The partner's people holding an admin privilege of the application
/// (application-wide, or of `production`), who may sign in: who may have
/// to decide.
pub async fn possible_reviewers(
    conn: &mut Conn,
    partner_id: &PartnerId,
    application: &str,
    production: Option<ProductionId>,
) -> Result<Vec<UserId>> {
    let rows = sqlx::query(
        "SELECT DISTINCT a.user_id FROM admin_privileges a JOIN users u ON u.id = a.user_id \
         WHERE u.partner_id = $1 AND a.application = $2 AND u.deactivated_at IS NULL \
         AND (a.production_id IS NULL OR a.production_id = CAST($3 AS BIGINT)) ORDER BY a.user_id",
    )
    .bind(partner_id)
    .bind(application)
    .bind(production.map(ProductionId::get))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("user_id")?)).collect()
}

/// What the open reviews cover, (partner, application, production): one
/// partner's, or every partner's for `None`. Cheap enough for the
/// navigation to ask whether a viewer has any review to act on.
pub async fn open_scopes(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
) -> Result<Vec<(PartnerId, String, Option<ProductionId>)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT partner_id, application, production_id FROM access_reviews \
         WHERE closed_at IS NULL AND (CAST($1 AS TEXT) IS NULL OR partner_id = CAST($1 AS TEXT))",
    )
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("partner_id")?, r.try_get("application")?, production_of(r)?))).collect()
}
