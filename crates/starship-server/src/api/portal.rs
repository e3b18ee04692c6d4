//! What the Partner Portal's API shares: the partner a list is about.

use serde::Deserialize;
use starship_core::authz::Principal;
use starship_core::ids::PartnerId;
use utoipa::IntoParams;

use crate::ops;
use crate::ops::OperationResult;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartnerScope {
    /// Operators: which partner.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
}

pub(super) fn scope(caller: &Principal, params: &PartnerScope) -> OperationResult<PartnerId> {
    ops::users::target_partner(caller, params.partner_id.as_ref())
}
