//! Where each form posts when it does not post to its page's own address:
//! the POST-only routes. As with `Page`, the router serves the patterns
//! named here and the templates and handlers print an `Action`, every value
//! percent-encoded in one place.

use std::fmt;

use starship_core::ids::{
    AdminPrivilegeId, ApiTokenId, ApplianceId, ApplicationClientId, GrantId, MessageId, PartnerId, ReviewId,
    ScimGroupId, ScimMappingId, ScimTokenId, SiteId, TicketId, UserId,
};

use super::page::write_path;

/// A POST-only route, with the records its address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    SignOut,
    /// A notification choice on a profile.
    Notifications {
        user: UserId,
    },
    /// A profile's metadata for one application.
    Metadata {
        user: UserId,
        application: String,
    },
    /// An admin privilege added, or given back by Undo.
    AddAdminPrivilege {
        user: UserId,
    },
    RemoveAdminPrivilege {
        user: UserId,
        privilege: AdminPrivilegeId,
    },
    RevokeRole {
        user: UserId,
        grant: GrantId,
    },
    /// A removed role given back by Undo.
    RestoreRole {
        user: UserId,
    },
    SetRoleEnd {
        user: UserId,
        grant: GrantId,
    },
    /// Deactivate or reactivate a person.
    Deactivation {
        user: UserId,
    },
    /// A personal API token minted.
    CreateToken,
    RevokeToken {
        id: ApiTokenId,
    },
    /// A role mapped to a directory group.
    MapGroupRole {
        partner: PartnerId,
        group: ScimGroupId,
    },
    UnmapGroupRole {
        partner: PartnerId,
        group: ScimGroupId,
        mapping: ScimMappingId,
    },
    RevokeScimToken {
        partner: PartnerId,
        token: ScimTokenId,
    },
    /// Add User's first step: an address to check.
    OnboardNew,
    /// Add User's details: the person created.
    OnboardCreate,
    /// Bulk add: the list read, then confirmed.
    OnboardBulk,
    /// The wizard's metadata steps.
    OnboardMetadata,
    /// Any change to a portal user from their panel.
    ChangeContact {
        id: UserId,
    },
    TicketStatus {
        id: TicketId,
    },
    Comment {
        ticket: TicketId,
    },
    EditSite {
        id: SiteId,
    },
    ImportAppliances,
    RetireAppliance {
        id: ApplianceId,
    },
    /// Drain an appliance, or put it back into service.
    DrainAppliance {
        id: ApplianceId,
    },
    ApplianceBgp {
        id: ApplianceId,
    },
    /// An application client given a new secret.
    ClientSecret {
        id: ApplicationClientId,
    },
    RevokeClient {
        id: ApplicationClientId,
    },
    /// An outbox message sent again.
    Resend {
        id: MessageId,
    },
    /// An access review's decisions.
    Decide {
        review: ReviewId,
    },
}

impl Action {
    pub const SIGN_OUT: &'static str = "/sign-out";
    pub const NOTIFICATIONS: &'static str = "/users/{id}/notifications";
    pub const METADATA: &'static str = "/users/{id}/metadata/{application}";
    pub const ADD_ADMIN_PRIVILEGE: &'static str = "/users/{id}/admin-privileges";
    pub const REMOVE_ADMIN_PRIVILEGE: &'static str = "/users/{id}/admin-privileges/{pid}/remove";
    pub const REVOKE_ROLE: &'static str = "/users/{id}/roles/{grant}/revoke";
    pub const RESTORE_ROLE: &'static str = "/users/{id}/roles/restore";
    pub const SET_ROLE_END: &'static str = "/users/{id}/roles/{grant}/end";
    pub const DEACTIVATION: &'static str = "/users/{id}/deactivation";
    pub const CREATE_TOKEN: &'static str = "/tokens";
    pub const REVOKE_TOKEN: &'static str = "/tokens/{id}/revoke";
    pub const MAP_GROUP_ROLE: &'static str = "/partners/{id}/scim-groups/{group}/roles";
    pub const UNMAP_GROUP_ROLE: &'static str = "/partners/{id}/scim-groups/{group}/roles/{mapping}/remove";
    pub const REVOKE_SCIM_TOKEN: &'static str = "/partners/{id}/scim-tokens/{token}/revoke";
    pub const ONBOARD_NEW: &'static str = "/onboard/new";
    pub const ONBOARD_CREATE: &'static str = "/onboard/create";
    pub const ONBOARD_BULK: &'static str = "/onboard/bulk";
    pub const ONBOARD_METADATA: &'static str = "/onboard/metadata";
    pub const CHANGE_CONTACT: &'static str = "/portal/users/{id}";
    pub const TICKET_STATUS: &'static str = "/portal/tickets/{id}/status";
    pub const COMMENT: &'static str = "/portal/tickets/{id}/comments";
    pub const EDIT_SITE: &'static str = "/portal/sites/{id}";
    pub const IMPORT_APPLIANCES: &'static str = "/portal/appliances/import";
    pub const RETIRE_APPLIANCE: &'static str = "/portal/appliances/{id}/retirement";
    pub const DRAIN_APPLIANCE: &'static str = "/portal/appliances/{id}/drain";
    pub const APPLIANCE_BGP: &'static str = "/portal/appliances/{id}/bgp";
    pub const CLIENT_SECRET: &'static str = "/clients/{id}/secret";
    pub const REVOKE_CLIENT: &'static str = "/clients/{id}/revoke";
    pub const RESEND: &'static str = "/outbox/{id}/resend";
    pub const DECIDE: &'static str = "/reviews/{id}/decisions";

    pub fn notifications(user: &UserId) -> Self {
        Self::Notifications { user: user.clone() }
    }

    pub fn metadata(user: &UserId, application: &str) -> Self {
        Self::Metadata { user: user.clone(), application: application.to_string() }
    }

    pub fn add_admin_privilege(user: &UserId) -> Self {
        Self::AddAdminPrivilege { user: user.clone() }
    }

    pub fn deactivation(user: &UserId) -> Self {
        Self::Deactivation { user: user.clone() }
    }

    pub fn revoke_token(id: &ApiTokenId) -> Self {
        Self::RevokeToken { id: id.clone() }
    }

    pub fn map_group_role(partner: &PartnerId, group: &ScimGroupId) -> Self {
        Self::MapGroupRole { partner: partner.clone(), group: group.clone() }
    }

    pub fn revoke_scim_token(partner: &PartnerId, token: &ScimTokenId) -> Self {
        Self::RevokeScimToken { partner: partner.clone(), token: token.clone() }
    }

    pub fn change_contact(id: &UserId) -> Self {
        Self::ChangeContact { id: id.clone() }
    }

    pub fn ticket_status(id: &TicketId) -> Self {
        Self::TicketStatus { id: id.clone() }
    }

    pub fn comment(ticket: &TicketId) -> Self {
        Self::Comment { ticket: ticket.clone() }
    }

    pub fn edit_site(id: &SiteId) -> Self {
        Self::EditSite { id: id.clone() }
    }

    pub fn retire_appliance(id: &ApplianceId) -> Self {
        Self::RetireAppliance { id: id.clone() }
    }

    pub fn drain_appliance(id: &ApplianceId) -> Self {
        Self::DrainAppliance { id: id.clone() }
    }

    pub fn appliance_bgp(id: &ApplianceId) -> Self {
        Self::ApplianceBgp { id: id.clone() }
    }

    pub fn client_secret(id: &ApplicationClientId) -> Self {
        Self::ClientSecret { id: id.clone() }
    }

    pub fn revoke_client(id: &ApplicationClientId) -> Self {
        Self::RevokeClient { id: id.clone() }
    }

    pub fn resend(id: &MessageId) -> Self {
        Self::Resend { id: id.clone() }
    }

    pub fn decide(review: &ReviewId) -> Self {
        Self::Decide { review: review.clone() }
    }

    /// The router's pattern for this action.
    pub fn route(&self) -> &'static str {
        match self {
            Self::SignOut => Self::SIGN_OUT,
            Self::Notifications { .. } => Self::NOTIFICATIONS,
            Self::Metadata { .. } => Self::METADATA,
            Self::AddAdminPrivilege { .. } => Self::ADD_ADMIN_PRIVILEGE,
            Self::RemoveAdminPrivilege { .. } => Self::REMOVE_ADMIN_PRIVILEGE,
            Self::RevokeRole { .. } => Self::REVOKE_ROLE,
            Self::RestoreRole { .. } => Self::RESTORE_ROLE,
            Self::SetRoleEnd { .. } => Self::SET_ROLE_END,
            Self::Deactivation { .. } => Self::DEACTIVATION,
            Self::CreateToken => Self::CREATE_TOKEN,
            Self::RevokeToken { .. } => Self::REVOKE_TOKEN,
            Self::MapGroupRole { .. } => Self::MAP_GROUP_ROLE,
            Self::UnmapGroupRole { .. } => Self::UNMAP_GROUP_ROLE,
            Self::RevokeScimToken { .. } => Self::REVOKE_SCIM_TOKEN,
            Self::OnboardNew => Self::ONBOARD_NEW,
            Self::OnboardCreate => Self::ONBOARD_CREATE,
            Self::OnboardBulk => Self::ONBOARD_BULK,
            Self::OnboardMetadata => Self::ONBOARD_METADATA,
            Self::ChangeContact { .. } => Self::CHANGE_CONTACT,
            Self::TicketStatus { .. } => Self::TICKET_STATUS,
            Self::Comment { .. } => Self::COMMENT,
            Self::EditSite { .. } => Self::EDIT_SITE,
            Self::ImportAppliances => Self::IMPORT_APPLIANCES,
            Self::RetireAppliance { .. } => Self::RETIRE_APPLIANCE,
            Self::DrainAppliance { .. } => Self::DRAIN_APPLIANCE,
            Self::ApplianceBgp { .. } => Self::APPLIANCE_BGP,
            Self::ClientSecret { .. } => Self::CLIENT_SECRET,
            Self::RevokeClient { .. } => Self::REVOKE_CLIENT,
            Self::Resend { .. } => Self::RESEND,
            Self::Decide { .. } => Self::DECIDE,
        }
    }

    /// The values of the route's `{…}` segments, in order.
    fn path_values(&self) -> Vec<&str> {
        match self {
            Self::Notifications { user }
            | Self::AddAdminPrivilege { user }
            | Self::RestoreRole { user }
            | Self::Deactivation { user } => vec![user],
            Self::Metadata { user, application } => vec![user, application],
            Self::RemoveAdminPrivilege { user, privilege } => vec![user, privilege],
            Self::RevokeRole { user, grant } | Self::SetRoleEnd { user, grant } => vec![user, grant],
            Self::MapGroupRole { partner, group } => vec![partner, group],
            Self::UnmapGroupRole { partner, group, mapping } => vec![partner, group, mapping],
            Self::RevokeScimToken { partner, token } => vec![partner, token],
            Self::Comment { ticket: id } | Self::TicketStatus { id } => vec![id],
            Self::Decide { review } => vec![review],
            Self::ChangeContact { id } => vec![id],
            Self::EditSite { id } => vec![id],
            Self::RetireAppliance { id } | Self::DrainAppliance { id } | Self::ApplianceBgp { id } => vec![id],
            Self::RevokeToken { id } => vec![id],
            Self::ClientSecret { id } | Self::RevokeClient { id } => vec![id],
            Self::Resend { id } => vec![id],
            Self::SignOut
            | Self::CreateToken
            | Self::OnboardNew
            | Self::OnboardCreate
            | Self::OnboardBulk
            | Self::OnboardMetadata
            | Self::ImportAppliances => vec![],
        }
    }

    /// One action of each kind, with sample records: what the router must
    /// serve. `sample_of` names every variant, and a test holds the two
    /// together, so a new variant cannot be left out.
    pub fn samples() -> Vec<Action> {
        let id = || "0193-a b".to_string();
        vec![
            Self::SignOut,
            Self::Notifications { user: id().into() },
            Self::Metadata { user: id().into(), application: "production-academy".into() },
            Self::AddAdminPrivilege { user: id().into() },
            Self::RemoveAdminPrivilege { user: id().into(), privilege: id().into() },
            Self::RevokeRole { user: id().into(), grant: id().into() },
            Self::RestoreRole { user: id().into() },
            Self::SetRoleEnd { user: id().into(), grant: id().into() },
            Self::Deactivation { user: id().into() },
            Self::CreateToken,
            Self::RevokeToken { id: id().into() },
            Self::MapGroupRole { partner: id().into(), group: id().into() },
            Self::UnmapGroupRole { partner: id().into(), group: id().into(), mapping: id().into() },
            Self::RevokeScimToken { partner: id().into(), token: id().into() },
            Self::OnboardNew,
            Self::OnboardCreate,
            Self::OnboardBulk,
            Self::OnboardMetadata,
            Self::ChangeContact { id: id().into() },
            Self::TicketStatus { id: id().into() },
            Self::Comment { ticket: id().into() },
            Self::EditSite { id: id().into() },
            Self::ImportAppliances,
            Self::RetireAppliance { id: id().into() },
            Self::DrainAppliance { id: id().into() },
            Self::ApplianceBgp { id: id().into() },
            Self::ClientSecret { id: id().into() },
            Self::RevokeClient { id: id().into() },
            Self::Resend { id: id().into() },
            Self::Decide { review: id().into() },
        ]
    }

    /// Which of `samples` stands for this action's variant. A new variant
    /// must be named here, and `samples` holds one of each, in this order.
    #[cfg(test)]
    fn sample_of(&self) -> usize {
        match self {
            Self::SignOut => 0,
            Self::Notifications { .. } => 1,
            Self::Metadata { .. } => 2,
            Self::AddAdminPrivilege { .. } => 3,
            Self::RemoveAdminPrivilege { .. } => 4,
            Self::RevokeRole { .. } => 5,
            Self::RestoreRole { .. } => 6,
            Self::SetRoleEnd { .. } => 7,
            Self::Deactivation { .. } => 8,
            Self::CreateToken => 9,
            Self::RevokeToken { .. } => 10,
            Self::MapGroupRole { .. } => 11,
            Self::UnmapGroupRole { .. } => 12,
            Self::RevokeScimToken { .. } => 13,
            Self::OnboardNew => 14,
            Self::OnboardCreate => 15,
            Self::OnboardBulk => 16,
            Self::OnboardMetadata => 17,
            Self::ChangeContact { .. } => 18,
            Self::TicketStatus { .. } => 19,
            Self::Comment { .. } => 20,
            Self::EditSite { .. } => 21,
            Self::ImportAppliances => 22,
            Self::RetireAppliance { .. } => 23,
            Self::DrainAppliance { .. } => 24,
            Self::ApplianceBgp { .. } => 25,
            Self::ClientSecret { .. } => 26,
            Self::RevokeClient { .. } => 27,
            Self::Resend { .. } => 28,
            Self::Decide { .. } => 29,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_path(f, self.route(), self.path_values())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::page::fits;

    #[test]
    fn every_variant_has_one_sample_in_order() {
        let samples = Action::samples();
        assert!(samples.iter().map(Action::sample_of).eq(0..samples.len()));
    }

    #[test]
    fn every_action_prints_an_address_its_route_serves() {
        for action in Action::samples() {
            let printed = action.to_string();
            assert!(fits(action.route(), &printed), "{printed} does not fit {}", action.route());
            assert!(!printed.contains([' ', '?', '#']), "{printed}: values are percent-encoded");
        }
    }

    #[test]
    fn addresses_keep_their_wire_spelling() {
        assert_eq!(Action::SignOut.to_string(), "/sign-out");
        assert_eq!(
            Action::metadata(&UserId::from("u/1"), "production-academy").to_string(),
            "/users/u%2F1/metadata/production-academy"
        );
        assert_eq!(
            Action::UnmapGroupRole { partner: "p".into(), group: "g 1".into(), mapping: "m".into() }.to_string(),
            "/partners/p/scim-groups/g%201/roles/m/remove"
        );
        assert_eq!(Action::comment(&TicketId::from("t1")).to_string(), "/portal/tickets/t1/comments");
    }
}
