//! Sites: added and edited by operators and the partner's portal admins,
//! and listed with the people associated with each.

use starship_core::authz::{self, Principal};
use starship_core::domain::Title;
use starship_core::ids::{PartnerId, SiteId};
use starship_store::partners;
use starship_store::sites::{self, Site, SiteContact};

use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// Adds a site to a partner: operators name the partner, a portal admin
/// adds to their own.
pub async fn add_site(
    state: &AppState,
    caller: &Principal,
    partner_id: Option<&PartnerId>,
    name: &str,
    location: &str,
) -> OperationResult<sites::Site> {
    let partner = crate::ops::users::target_partner(caller, partner_id)?;
    authz::add_site(caller, &partner)?;
    let (name, location) = starship_core::error::both(Title::parse("name", name), Title::parse("location", location))?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(OperationError::NotFound)?;
    let site = sites::insert_site(&mut tx, &partner, name.as_str(), location.as_str()).await?;
    tx.commit().await?;
    Ok(site)
}

/// Renames a site or changes its location (operators, and the partner's
/// portal admins).
pub async fn edit_site(
    state: &AppState,
    caller: &Principal,
    site_id: &SiteId,
    name: &str,
    location: &str,
) -> OperationResult<sites::Site> {
    let mut tx = state.store.begin().await?;
    let site = sites::get_site(&mut tx, site_id).await?.ok_or(OperationError::NotFound)?;
    authz::add_site(caller, &site.partner_id)?;
    let (name, location) = starship_core::error::both(Title::parse("name", name), Title::parse("location", location))?;
    sites::update_site(&mut tx, &site.id, name.as_str(), location.as_str()).await?;
    let site = sites::get_site(&mut tx, &site.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(site)
}

pub async fn sites(state: &AppState, caller: &Principal, partner_id: &PartnerId) -> OperationResult<Vec<Site>> {
    authz::see_partner_resource(caller, partner_id)?;
    let mut conn = state.store.conn().await?;
    Ok(sites::sites_of_partner(&mut conn, partner_id).await?)
}

/// A partner's sites, each with the people associated with it.
pub async fn sites_with_contacts(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<(Site, Vec<SiteContact>)>> {
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
