//! Access reviews as pages: the open reviews the viewer may act on, with
//! their progress, and one review's items with Keep and Revoke buttons.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{GrantId, ReviewId, UserId};
use starship_store::reviews;
use starship_store::reviews::Decision;

use super::page::{word, ReviewDone};
use super::widgets::production_labels;
use super::{page, see_other, when, Action, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

/// Whether the viewer has an open review to act on: the navigation's link.
struct ReviewRow {
    id: ReviewId,
    title: String,
    partner: String,
    due: String,
    decided: i64,
    total: i64,
    percent: i64,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ListPage {
    layout: Layout,
    open: Vec<ReviewRow>,
}

async fn title_of(
    state: &AppState,
    viewer: &authz::Principal,
    review: &reviews::Review,
) -> Result<(String, String), OperationError> {
    let app = state.catalogue.application(&review.application).map_or(review.application.clone(), |a| a.name.clone());
    let partner = ops::platform::partner(state, viewer, &review.partner_id).await?.map_or_else(String::new, |p| p.name);
    let title = match review.production {
        Some(p) => {
            let labels = production_labels(&ops::platform::productions(state).await?);
            format!("{app} · {}", labels.get(&p.get()).cloned().unwrap_or_else(|| p.to_string()))
        }
        None => app,
    };
    Ok((title, partner))
}

pub async fn index(State(state): State<AppState>, viewer: WebUser) -> WebResult {
    let mut open = Vec::new();
    for review in ops::reviews::list(&state, &viewer.principal).await? {
        if review.closed_at.is_some() {
            continue;
        }
        let (title, partner) = title_of(&state, &viewer.principal, &review).await?;
        open.push(ReviewRow {
            title,
            partner,
            due: when(review.due_at),
            percent: if review.total == 0 { 100 } else { review.decided * 100 / review.total },
            decided: review.decided,
            total: review.total,
            id: review.id,
        });
    }
    page(&ListPage { layout: viewer.layout(&state, "Access reviews", Section::Reviews), open })
}

struct ItemRow {
    grant_id: GrantId,
    user_id: UserId,
    name: String,
    email: String,
    role: String,
    decision: &'static str,
    note: String,
    /// Whether the viewer may decide on it (not their own grant).
    decidable: bool,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    id: ReviewId,
    title: String,
    partner: String,
    due: String,
    closed: Option<String>,
    decided: i64,
    total: i64,
    items: Vec<ItemRow>,
    csrf: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default, deserialize_with = "word")]
    done: Option<ReviewDone>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(id): Path<ReviewId>,
    Query(query): Query<ShowQuery>,
) -> WebResult {
    let (review, items) = ops::reviews::get(&state, &viewer.principal, &id).await?;
    let (title, partner) = title_of(&state, &viewer.principal, &review).await?;
    let app = state.catalogue.application(&review.application);
    let labels = production_labels(&ops::platform::productions(&state).await?);
    let scope = (&review.partner_id, review.application.as_str(), review.production);
    let items = items
        .into_iter()
        .map(|item| {
            let role = app.and_then(|a| a.role(&item.role)).map_or(item.role.clone(), |r| r.name.clone());
            ItemRow {
                decidable: review.closed_at.is_none()
                    && authz::decide_review_item(&viewer.principal, scope, &item.user_id).is_ok(),
                role: match item.production {
                    Some(p) => format!("{role} · {}", labels.get(&p.get()).cloned().unwrap_or_else(|| p.to_string())),
                    None => role,
                },
                decision: item.decision.map_or("undecided", Decision::as_str),
                note: item.note.unwrap_or_default(),
                grant_id: item.grant_id,
                user_id: item.user_id,
                name: item.name,
                email: item.email,
            }
        })
        .collect();
    page(&ReviewPage {
        layout: viewer.layout(&state, format!("Access review: {title}"), Section::Reviews),
        id: review.id,
        title,
        partner,
        due: when(review.due_at),
        closed: review.closed_at.map(when),
        decided: review.decided,
        total: review.total,
        items,
        csrf: viewer.csrf.clone(),
        notice: query.done.map(|done| match done {
            ReviewDone::Decided => "Decision saved.",
        }),
    })
}

/// One grant's Keep or Revoke, with an optional note.
#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    grant_id: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

pub async fn decide(State(state): State<AppState>, Path(id): Path<ReviewId>, post: WebPost<DecisionForm>) -> WebResult {
    let form = &post.form;
    let decision = Decision::parse(&form.decision).ok_or_else(|| {
        OperationError::from(starship_core::FieldError::new("decision", "is not one of keep, revoke"))
    })?;
    ops::reviews::decide(
        &state,
        &post.user.principal,
        &id,
        &GrantId::from(form.grant_id.as_str()),
        decision,
        form.note.as_deref(),
    )
    .await?;
    see_other(Page::Review { id, done: Some(ReviewDone::Decided) })
}
