//! What the Partner Portal lists: a partner's contacts, appliances with
//! their BGP configuration, and tickets with their comments, each behind
//! the rule that shows it. For the pages, and for the API to share.

use starship_core::authz::{self, Principal};
use starship_core::portal::{PortalAction, PortalLevel, Standing};
use starship_store::appliances::{self, Appliance, ApplianceEvent, BgpConfig};
use starship_store::contacts;
use starship_store::sites::{self, Site, SiteContact};
use starship_store::tickets::{self, Comment, Ticket};
use starship_store::users::{self, User};

use crate::ops::people::visible_user;
use crate::problem::{ApiError, ApiResult};
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

/// Every contact and portal user of a partner, in name order. Each aspect
/// (roles, contact roles, sites) is one query for the whole list, however
/// many people the partner has.
pub async fn contacts(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<ContactRow>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut tx = state.store.begin_read().await?;
    let mut roles = users::roles_of_partner_users(&mut tx, partner_id).await?;
    let mut contact_roles = contacts::contact_roles_of_partner(&mut tx, partner_id).await?;
    let mut sites = sites::sites_of_partner_users(&mut tx, partner_id).await?;
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = users::page_of_partner(&mut tx, partner_id, after.as_deref(), None, 500).await?;
        let done = page.len() < 500;
        after = page.last().map(|u| u.id.clone());
        for user in page {
            let roles = roles.remove(&user.id).unwrap_or_default();
            rows.push(ContactRow {
                standing: Standing::of_account(user.status, &roles),
                level: PortalLevel::of(&roles),
                contact_roles: contact_roles.remove(&user.id).unwrap_or_default(),
                sites: sites.remove(&user.id).unwrap_or_default(),
                user,
            });
        }
        if done {
            tx.commit().await?;
            return Ok(rows);
        }
    }
}

pub async fn sites(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<Site>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut conn = state.store.conn().await?;
    Ok(sites::sites_of_partner(&mut conn, partner_id).await?)
}

/// A partner's sites, each with the people associated with it.
pub async fn sites_with_contacts(
    state: &AppState,
    caller: &Principal,
    partner_id: &str,
) -> ApiResult<Vec<(Site, Vec<SiteContact>)>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut tx = state.store.begin_read().await?;
    let sites = sites::sites_of_partner(&mut tx, partner_id).await?;
    let mut contacts = sites::site_contacts_of_partner(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(sites
        .into_iter()
        .map(|site| {
            let people = contacts.remove(&site.id).unwrap_or_default();
            (site, people)
        })
        .collect())
}

/// An appliance with its BGP configuration versions (newest first) and
/// its history (registered, drained, back in service, retired; oldest first).
pub struct ListedAppliance {
    pub appliance: Appliance,
    pub versions: Vec<BgpConfig>,
    pub events: Vec<ApplianceEvent>,
}

/// A partner's appliances: shown to every portal level.
pub async fn appliances(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<ListedAppliance>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut tx = state.store.begin_read().await?;
    let appliances = appliances::appliances_of_partner(&mut tx, partner_id).await?;
    let mut versions = appliances::bgp_versions_of_partner(&mut tx, partner_id).await?;
    let mut events = appliances::appliance_events_of_partner(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(appliances
        .into_iter()
        .map(|appliance| ListedAppliance {
            versions: versions.remove(&appliance.id).unwrap_or_default(),
            events: events.remove(&appliance.id).unwrap_or_default(),
            appliance,
        })
        .collect())
}

/// A partner's tickets with their comments: every portal level.
pub async fn tickets(state: &AppState, caller: &Principal, partner_id: &str) -> ApiResult<Vec<(Ticket, Vec<Comment>)>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut tx = state.store.begin_read().await?;
    let tickets = tickets::tickets_of_partner(&mut tx, partner_id).await?;
    let mut comments = tickets::comments_of_partner_tickets(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(tickets
        .into_iter()
        .map(|ticket| {
            let comments = comments.remove(&ticket.id).unwrap_or_default();
            (ticket, comments)
        })
        .collect())
}

/// One person the caller may see, as a contact.
pub async fn contact(state: &AppState, caller: &Principal, user_id: &str) -> ApiResult<ContactRow> {
    let mut tx = state.store.begin_read().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let roles = users::roles_of(&mut tx, &user.id).await?;
    let contact_roles = contacts::contact_roles_of(&mut tx, &user.id).await?;
    let sites = sites::sites_of_user(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(ContactRow {
        standing: Standing::of_account(user.status, &roles),
        level: PortalLevel::of(&roles),
        contact_roles,
        sites,
        user,
    })
}

/// One appliance the caller may see.
pub async fn appliance(state: &AppState, caller: &Principal, appliance_id: &str) -> ApiResult<Appliance> {
    let mut conn = state.store.conn().await?;
    let appliance = appliances::get_appliance(&mut conn, appliance_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &appliance.partner_id, None)?;
    Ok(appliance)
}

/// One appliance's BGP configuration versions, newest first.
pub async fn bgp_versions(state: &AppState, caller: &Principal, appliance_id: &str) -> ApiResult<Vec<BgpConfig>> {
    let mut conn = state.store.conn().await?;
    let appliance = appliances::get_appliance(&mut conn, appliance_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &appliance.partner_id, None)?;
    Ok(appliances::bgp_versions(&mut conn, &appliance.id).await?)
}

/// One ticket with its comments.
pub async fn ticket(state: &AppState, caller: &Principal, ticket_id: &str) -> ApiResult<(Ticket, Vec<Comment>)> {
    let mut tx = state.store.begin_read().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(ApiError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &ticket.partner_id, None)?;
    let comments = tickets::ticket_comments(&mut tx, &ticket.id).await?;
    tx.commit().await?;
    Ok((ticket, comments))
}
