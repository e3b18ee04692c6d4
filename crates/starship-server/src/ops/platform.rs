//! The platform's own records: partners, productions and the outbox, for
//! the API and the pages.

use serde::Serialize;
use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::domain::{PartnerKind, ProductionId, Title};
use starship_core::error::both;
use starship_core::history::Kind;
use starship_core::ids::{MessageId, PartnerId};
use starship_store::history::{self, Actor};
use starship_store::outbox::{self, Message};
use starship_store::partners::{self, Partner, Production};

use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;
use starship_core::time_fmt::rfc3339_from_millis;
use utoipa::ToSchema;

/// Every partner for operators; one's own for everyone else.
pub async fn partners(state: &AppState, caller: &Principal) -> OperationResult<Vec<Partner>> {
    let mut conn = state.store.conn().await?;
    let only = if caller.operator { None } else { caller.partner_id.as_ref() };
    Ok(partners::list(&mut conn, only).await?)
}

/// One partner the caller may see (operators, and the partner's own
/// people); none for one they may not.
pub async fn partner(state: &AppState, caller: &Principal, partner_id: &PartnerId) -> OperationResult<Option<Partner>> {
    if authz::see_partner_resource(caller, partner_id).is_err() {
        return Ok(None);
    }
    let mut conn = state.store.conn().await?;
    Ok(partners::get(&mut conn, partner_id).await?)
}

/// Every production: their titles are what anyone signed in reads roles by.
pub async fn productions(state: &AppState) -> OperationResult<Vec<Production>> {
    let mut conn = state.store.conn().await?;
    Ok(partners::list_productions(&mut conn).await?)
}

pub async fn create_partner(state: &AppState, caller: &Principal, name: &str, kind: &str) -> OperationResult<Partner> {
    authz::manage_platform(caller)?;
    let (name, kind) = both(Title::parse("name", name), PartnerKind::parse("kind", kind))?;
    let mut tx = state.store.begin().await?;
    let partner = partners::insert(&mut tx, &name, kind).await?;
    tx.commit().await?;
    Ok(partner)
}

/// Creates a production; `ends_at` (RFC 3339, in the future) is when its
/// roles end unless granted with an end of their own.
pub async fn create_production(
    state: &AppState,
    caller: &Principal,
    id: i64,
    title: &str,
    ends_at: Option<&str>,
) -> OperationResult<Production> {
    authz::manage_platform(caller)?;
    let (id, title) = both(ProductionId::parse("id", id), Title::parse("title", title))?;
    let ends_at = ends_at.map(|text| super::future_end("ends_at", text, starship_store::now_millis())).transpose()?;
    let mut tx = state.store.begin().await?;
    let production = partners::insert_production(&mut tx, id, &title, ends_at).await?;
    tx.commit().await?;
    Ok(production)
}

/// Emails queued or sent, newest first (operators), filtered and paged.
pub async fn outbox(
    state: &AppState,
    caller: &Principal,
    filter: &outbox::Filter<'_>,
) -> OperationResult<Vec<Message>> {
    authz::manage_platform(caller)?;
    let mut conn = state.store.conn().await?;
    Ok(outbox::find(&mut conn, filter).await?)
}

/// Queues a failed message again, as new (operators). History records it
/// in the operator's own History, with the failure it had.
pub async fn resend(state: &AppState, caller: &Principal, actor: &Actor, id: &MessageId) -> OperationResult<Message> {
    let by = caller.person()?;
    authz::manage_platform(caller)?;
    let mut tx = state.store.begin().await?;
    let before = outbox::get(&mut tx, id).await?.ok_or(OperationError::NotFound)?;
    let Some(message) = outbox::requeue_failed(&mut tx, id).await? else {
        return Err(OperationError::Conflict(format!(
            "only a failed message can be sent again: this one is {}",
            before.status().as_str()
        )));
    };
    let details = json!({
        "message_id": message.id,
        "recipient": message.recipient,
        "kind": message.kind,
        "attempts": before.attempts,
        "last_error": before.last_error,
    });
    history::append(&mut tx, by, actor, Kind::OutboxResent, details).await?;
    tx.commit().await?;
    Ok(message)
}

/// A partner company (`Partner` in the OpenAPI document).
#[derive(Serialize, ToSchema)]
#[schema(as = Partner)]
pub struct PartnerView {
    pub id: PartnerId,
    pub name: String,
    pub kind: PartnerKind,
    pub created_at: String,
}

impl From<Partner> for PartnerView {
    fn from(p: Partner) -> Self {
        Self { id: p.id, name: p.name, kind: p.kind, created_at: rfc3339_from_millis(p.created_at) }
    }
}
