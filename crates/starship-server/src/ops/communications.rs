//! Who a communication reaches among a partner's people, under the rules
//! in `starship_core::communications`.

use starship_core::authz::{self, Principal};
use starship_core::communications::{self, Communication};
use starship_core::ids::{PartnerId, SiteId};
use starship_core::portal::PortalAction;
use starship_core::FieldError;
use starship_store::communications::{reachable, Reachable};
use starship_store::sites;

use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// Who a communication reaches among a partner's people (contacts without
/// sign-in count), optionally only at one site.
pub async fn recipients(
    state: &AppState,
    caller: &Principal,
    kind: &str,
    partner_id: &PartnerId,
    site: Option<&SiteId>,
) -> OperationResult<Vec<Reachable>> {
    let communication = Communication::parse(kind).ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut conn = state.store.conn().await?;
    if let Some(site) = site {
        let found = sites::get_site(&mut conn, site).await?;
        if found.is_none_or(|s| s.partner_id != *partner_id) {
            return Err(FieldError::new("site", "no such site of this partner").into());
        }
    }
    let people = reachable(&mut conn, partner_id, site).await?;
    Ok(people.into_iter().filter(|p| communications::reaches(communication, &p.contact_roles, p.on_survey)).collect())
}
