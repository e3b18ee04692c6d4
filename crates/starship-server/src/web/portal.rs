//! The Partner Portal (seed 002) as a whole: its home, and what its pages
//! share (the viewer's partner, level names, choices). Each page lives
//! with its aggregate: `contacts.rs` (the Users grid), `tickets.rs`,
//! `appliances.rs`, `sites.rs`. Only what the viewer's permission level
//! allows is offered; the operations check it again.

use serde::Deserialize;
use starship_core::ids::PartnerId;
use starship_core::portal::PortalLevel;

use super::widgets::Choice;
use super::{see_other, Page, WebResult, WebUser};
use crate::ops::users;
use crate::ops::OperationError;

pub async fn home() -> WebResult {
    see_other(Page::Contacts { edit: None, done: None })
}

pub(super) fn level_name(level: PortalLevel) -> &'static str {
    match level {
        PortalLevel::Admin => "Admin",
        PortalLevel::Engineering => "Engineering",
        PortalLevel::ReadOnly => "Read-only",
    }
}

/// The viewer's partner: the portal shows one's own.
pub(super) fn own_partner(viewer: &WebUser) -> Result<PartnerId, OperationError> {
    users::target_partner(&viewer.principal, None)
}

pub(super) fn choices<V: Into<String>>(all: impl IntoIterator<Item = (V, String)>, chosen: &[&str]) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, name)| (value.into(), name))
        .map(|(value, name): (String, String)| Choice {
            selected: chosen.contains(&value.as_str()),
            value,
            name,
            description: String::new(),
        })
        .collect()
}

/// The query of a page of one partner's things (sites, appliances):
/// operators name the partner; `done` tells what was just done.
#[derive(Deserialize, Default)]
pub struct PartnerQuery {
    #[serde(default)]
    pub(super) done: Option<String>,
    /// Operators: which partner.
    #[serde(default)]
    pub(super) partner_id: Option<PartnerId>,
}
