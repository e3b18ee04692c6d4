//! The outbox as a page (operators): every email queued, retrying, sent or
//! failed, found by part of its address and its status, a page at a time,
//! with Resend for a failed one.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::domain::DeliveryStatus;
use starship_core::ids::MessageId;
use starship_store::outbox::{Filter, Page as ListPage};

use super::page::{word, Cursor, OutboxDone};
use super::{page, see_other, when, Action, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    before: Option<MessageId>,
    #[serde(default)]
    after: Option<MessageId>,
    #[serde(default, deserialize_with = "word")]
    done: Option<OutboxDone>,
}

struct Row {
    id: MessageId,
    recipient: String,
    subject: String,
    kind: String,
    status: &'static str,
    attempts: i64,
    created: String,
    sent: Option<String>,
    last_error: Option<String>,
    failed: bool,
}

struct StatusChoice {
    key: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    layout: Layout,
    csrf: String,
    q: String,
    status: String,
    statuses: Vec<StatusChoice>,
    rows: Vec<Row>,
    newer: Option<String>,
    older: Option<String>,
    notice: Option<String>,
}

/// The outbox with the search and status kept, and a page cursor.
fn href(q: &str, status: &str, cursor: Cursor) -> String {
    Page::Outbox { q: q.to_string(), status: status.to_string(), cursor: Some(cursor), done: None }.to_string()
}

pub async fn index(State(state): State<AppState>, viewer: WebUser, Query(query): Query<OutboxQuery>) -> WebResult {
    let q = query.q.as_deref().map(str::trim).unwrap_or("").to_string();
    // An unknown status in a hand-typed address shows every message.
    let status = query.status.as_deref().and_then(|s| DeliveryStatus::parse("status", s).ok());
    let status_key = status.map(DeliveryStatus::as_str).unwrap_or("");
    let page_of = match (query.before.as_ref(), query.after.as_ref()) {
        (Some(id), _) => ListPage::Before(id),
        (None, Some(id)) => ListPage::After(id),
        (None, None) => ListPage::Newest,
    };
    let filter = Filter {
        recipient: None,
        search: (!q.is_empty()).then_some(q.as_str()),
        status,
        page: page_of,
        limit: PAGE_SIZE + 1,
    };
    let mut messages = ops::platform::outbox(&state, &viewer.principal, &filter).await?;
    let more = messages.len() as i64 > PAGE_SIZE;
    if more {
        match page_of {
            // Newer pages are read oldest first: the one beyond the page is the newest.
            ListPage::After(_) => drop(messages.remove(0)),
            _ => drop(messages.pop()),
        }
    }
    let (has_newer, has_older) = match page_of {
        ListPage::Newest => (false, more),
        ListPage::Before(_) => (true, more),
        ListPage::After(_) => (more, true),
    };
    let newer = messages.first().filter(|_| has_newer).map(|m| href(&q, status_key, Cursor::After(m.id.to_string())));
    let older = messages.last().filter(|_| has_older).map(|m| href(&q, status_key, Cursor::Before(m.id.to_string())));
    let notice = query.done.map(|done| match done {
        OutboxDone::Resent => "The email is queued again: it is sent with the next delivery.".to_string(),
    });
    let rows = messages
        .into_iter()
        .map(|m| {
            let status = m.status();
            Row {
                status: status.as_str(),
                failed: status == DeliveryStatus::Failed,
                created: when(m.created_at),
                sent: m.sent_at.map(when),
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                kind: m.kind,
                attempts: m.attempts,
                last_error: m.last_error,
            }
        })
        .collect();
    let statuses = DeliveryStatus::ALL
        .into_iter()
        .map(|s| StatusChoice { key: s.as_str(), selected: Some(s) == status })
        .collect();
    page(&OutboxPage {
        layout: viewer.layout(&state, "Outbox", Section::Outbox),
        csrf: viewer.csrf.clone(),
        q,
        status: status_key.to_string(),
        statuses,
        rows,
        newer,
        older,
        notice,
    })
}

/// Resend: queues a failed message again, then shows the list as it was
/// filtered.
/// The list's filter, carried by the Resend button to come back to it.
#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

pub async fn resend(State(state): State<AppState>, Path(id): Path<MessageId>, post: WebPost<ResendForm>) -> WebResult {
    match ops::platform::resend(&state, &post.user.principal, &post.user.actor(), &id).await {
        // Sent meanwhile, or resent by another operator: the list shows how it stands.
        Ok(_) | Err(OperationError::Conflict(_)) => {}
        Err(other) => return Err(other.into()),
    }
    let ResendForm { q, status } = post.form;
    see_other(Page::Outbox { q, status, cursor: None, done: Some(OutboxDone::Resent) })
}
