//! What the Partner Portal lists: a partner's contacts, appliances with
//! their BGP configuration, and tickets with their comments, each behind
//! the rule that shows it. For the pages, and for the API to share.

use starship_core::authz::{self, Principal};
use starship_core::portal::{PortalAction, PortalLevel, Standing};
use starship_store::portal::{self, Appliance, BgpConfig, Comment, Site, Ticket};
use starship_store::users::{self, User};

use crate::ops::portal::standing_of;
use crate::problem::ApiResult;
use crate::state::AppState;

/// A contact or portal user, with where they stand in the portal.
pub struct ContactRow {
    pub user: User,
    pub standing: Standing,
    pub level: Option<PortalLevel>,
    pub contact_roles: Vec<String>,
    /// Site ids.
    pub sites: Vec<String>,
}

/// Every contact and portal user of a partner, in name order.
pub async fn contacts(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<ContactRow>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut conn = state.store.conn().await?;
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = users::page_of_partner(&mut conn, partner_id, after.as_deref(), None, 500).await?;
        let done = page.len() < 500;
        after = page.last().map(|u| u.id.clone());
        for user in page {
            let roles = users::roles_of(&mut conn, &user.id).await?;
            rows.push(ContactRow {
                standing: standing_of(&mut conn, &user).await?,
                level: PortalLevel::of(&roles),
                contact_roles: portal::contact_roles_of(&mut conn, &user.id).await?,
                sites: portal::sites_of_user(&mut conn, &user.id).await?,
                user,
            });
        }
        if done {
            return Ok(rows);
        }
    }
}

pub async fn sites(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<Site>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut conn = state.store.conn().await?;
    Ok(portal::sites_of_partner(&mut conn, partner_id).await?)
}

/// A partner's appliances, each with its BGP configuration versions
/// (newest first): shown to every portal level.
pub async fn appliances(
    state: &AppState,
    caller: &Principal,
    partner_id: &str,
) -> ApiResult<Vec<(Appliance, Vec<BgpConfig>)>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut conn = state.store.conn().await?;
    let mut rows = Vec::new();
    for appliance in portal::appliances_of_partner(&mut conn, partner_id).await? {
        let versions = portal::bgp_versions(&mut conn, &appliance.id).await?;
        rows.push((appliance, versions));
    }
    Ok(rows)
}

/// A partner's tickets with their comments: every portal level.
pub async fn tickets(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<(Ticket, Vec<Comment>)>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut conn = state.store.conn().await?;
    let mut rows = Vec::new();
    for ticket in portal::tickets_of_partner(&mut conn, partner_id).await? {
        let comments = portal::ticket_comments(&mut conn, &ticket.id).await?;
        rows.push((ticket, comments));
    }
    Ok(rows)
}
