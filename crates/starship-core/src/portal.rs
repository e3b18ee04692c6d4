//! The Partner Portal's permission levels and its matrix, as data.
//!
//! | action                          | Admin            | Engineering                                 | Read-only |
//! |---------------------------------|------------------|---------------------------------------------|-----------|
//! | user administration             | any contact      | read-only users, contacts without access    | no        |
//! | edit phone, names, email        | any contact      | self, read-only users                       | self      |
//! | drain, BGP, future self-service | yes              | yes                                         | no        |
//! | view / comment on tickets       | yes              | yes                                         | yes       |
//! | change a ticket's status        | yes              | no                                          | no        |
//! | create and edit sites           | yes              | no                                          | no        |
//!
//! User administration is creating and deleting contacts, granting and
//! revoking portal access (invitations), changing permission levels and
//! resetting another user's MFA.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalogue::{keys, RoleRef};
use crate::domain::UserStatus;

/// A portal user's permission level, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PortalLevel {
    Admin,
    Engineering,
    ReadOnly,
}

impl PortalLevel {
    pub const ALL: [PortalLevel; 3] = [Self::Admin, Self::Engineering, Self::ReadOnly];

    /// The Partner Portal role that carries this level.
    pub fn role_key(self) -> &'static str {
        match self {
            Self::Admin => keys::PORTAL_ADMIN,
            Self::Engineering => keys::PORTAL_ENGINEERING,
            Self::ReadOnly => keys::PORTAL_READ_ONLY,
        }
    }

    /// That role, as a grant holds it.
    pub fn role(self) -> RoleRef {
        RoleRef { application: keys::PARTNER_PORTAL.into(), role: self.role_key().into(), production: None }
    }

    pub fn from_role_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.role_key() == key)
    }

    /// The highest level among a person's roles.
    pub fn of(roles: &[RoleRef]) -> Option<Self> {
        Self::highest(roles.iter().filter(|r| r.application == keys::PARTNER_PORTAL).map(|r| r.role.as_str()))
    }

    /// The highest level among Partner Portal role keys.
    pub fn highest<'a>(role_keys: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        role_keys.into_iter().filter_map(Self::from_role_key).min()
    }

    /// Whether this level ranks at least as high as `other`.
    pub fn at_least(self, other: PortalLevel) -> bool {
        self <= other
    }
}

/// Where the person acted on stands in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    /// A portal user at this level.
    User(PortalLevel),
    /// A contact without portal access.
    NoAccess,
}

impl Standing {
    /// Where the holder of an account in this state, with these roles,
    /// stands: an active or pending account (one that signs in, or will once
    /// activated) is managed by its level.
    pub fn of_account(status: UserStatus, roles: &[RoleRef]) -> Self {
        Self::of(matches!(status, UserStatus::Active | UserStatus::Pending), roles)
    }

    pub fn of(can_sign_in: bool, roles: &[RoleRef]) -> Self {
        match (can_sign_in, PortalLevel::of(roles)) {
            (true, Some(level)) => Self::User(level),
            // Signed-in people without a portal level are managed like read-only users.
            (true, None) => Self::User(PortalLevel::ReadOnly),
            (false, _) => Self::NoAccess,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortalAction {
    /// Create / delete contacts, grant / revoke portal access, manage
    /// permission levels, reset MFA.
    UserAdministration,
    /// Add / edit phone number, first / last name, email address.
    EditDetails,
    /// Drain for maintenance, edit BGP configuration, future OCA self-service.
    ApplianceSelfService,
    /// View, open and comment on tickets.
    Tickets,
    /// Move a ticket between statuses (operators do it too).
    TicketStatus,
    /// Create and edit the partner's sites (operators do it too).
    Sites,
}

/// Which people an action may touch, for one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Nobody,
    SelfOnly,
    SelfOrReadOnly,
    ReadOnlyOrNoAccess,
    AnyContact,
    /// Actions on things, not people.
    Allowed,
}

/// The seed's table: (action, [admin, engineering, read-only]).
pub const MATRIX: [(PortalAction, [Reach; 3]); 6] = [
    (PortalAction::UserAdministration, [Reach::AnyContact, Reach::ReadOnlyOrNoAccess, Reach::Nobody]),
    (PortalAction::EditDetails, [Reach::AnyContact, Reach::SelfOrReadOnly, Reach::SelfOnly]),
    (PortalAction::ApplianceSelfService, [Reach::Allowed, Reach::Allowed, Reach::Nobody]),
    (PortalAction::Tickets, [Reach::Allowed, Reach::Allowed, Reach::Allowed]),
    (PortalAction::TicketStatus, [Reach::Allowed, Reach::Nobody, Reach::Nobody]),
    (PortalAction::Sites, [Reach::Allowed, Reach::Nobody, Reach::Nobody]),
];

pub fn reach(level: PortalLevel, action: PortalAction) -> Reach {
    let column = PortalLevel::ALL.iter().position(|l| *l == level).unwrap_or(2);
    MATRIX.iter().find(|(a, _)| *a == action).map_or(Reach::Nobody, |(_, row)| row[column])
}

/// Whether a level may do an action to a person (`target` is `None` for
/// actions on things). `is_self` says the person is the actor.
pub fn allows(level: PortalLevel, action: PortalAction, target: Option<(bool, Standing)>) -> bool {
    match (reach(level, action), target) {
        (Reach::Allowed, _) => true,
        (_, None) => false,
        (Reach::Nobody, _) => false,
        (Reach::AnyContact, Some(_)) => true,
        (Reach::SelfOnly, Some((is_self, _))) => is_self,
        (Reach::SelfOrReadOnly, Some((is_self, standing))) => {
            is_self || matches!(standing, Standing::User(PortalLevel::ReadOnly) | Standing::NoAccess)
        }
        (Reach::ReadOnlyOrNoAccess, Some((is_self, standing))) => {
            !is_self && matches!(standing, Standing::User(PortalLevel::ReadOnly) | Standing::NoAccess)
        }
    }
}

/// Where an appliance stands: serving traffic, drained for maintenance
/// (back in service at a click), or retired for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplianceStatus {
    Serving,
    Drained,
    Retired,
}

impl ApplianceStatus {
    pub const ALL: [ApplianceStatus; 3] = [Self::Serving, Self::Drained, Self::Retired];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serving => "serving",
            Self::Drained => "drained",
            Self::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How the pages name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Serving => "Serving",
            Self::Drained => "Drained",
            Self::Retired => "Retired",
        }
    }
}

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TicketStatus {
    Open,
    WaitingOnPartner,
    WaitingOnOperator,
    Resolved,
    Closed,
}

/// Which statuses a ticket may move to from each: a closed ticket stays
/// closed (a new one is opened instead); a resolved one may be reopened.
pub const TICKET_TRANSITIONS: [(TicketStatus, &[TicketStatus]); 5] = {
    use TicketStatus::*;
    [
        (Open, &[WaitingOnPartner, WaitingOnOperator, Resolved, Closed]),
        (WaitingOnPartner, &[Open, WaitingOnOperator, Resolved, Closed]),
        (WaitingOnOperator, &[Open, WaitingOnPartner, Resolved, Closed]),
        (Resolved, &[Open, Closed]),
        (Closed, &[]),
    ]
};

impl TicketStatus {
    pub const ALL: [TicketStatus; 5] =
        [Self::Open, Self::WaitingOnPartner, Self::WaitingOnOperator, Self::Resolved, Self::Closed];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::WaitingOnPartner => "waiting-on-partner",
            Self::WaitingOnOperator => "waiting-on-operator",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How the pages and emails name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::WaitingOnPartner => "Waiting on partner",
            Self::WaitingOnOperator => "Waiting on the operator",
            Self::Resolved => "Resolved",
            Self::Closed => "Closed",
        }
    }

    /// The statuses this one may move to.
    pub fn next(self) -> &'static [TicketStatus] {
        TICKET_TRANSITIONS.iter().find(|(from, _)| *from == self).map_or(&[], |(_, to)| *to)
    }

    pub fn may_become(self, to: TicketStatus) -> bool {
        self.next().contains(&to)
    }
}

#[cfg(test)]
mod ticket_tests {
    use super::*;

    #[test]
    fn every_status_has_its_transitions_and_round_trips() {
        for status in TicketStatus::ALL {
            assert!(TICKET_TRANSITIONS.iter().any(|(from, _)| *from == status), "{status:?}");
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
            assert!(!status.may_become(status), "{status:?} to itself is no change");
        }
    }

    #[test]
    fn a_closed_ticket_stays_closed_and_a_resolved_one_may_reopen() {
        assert!(TicketStatus::Closed.next().is_empty());
        assert!(TicketStatus::Resolved.may_become(TicketStatus::Open));
        assert!(!TicketStatus::Resolved.may_become(TicketStatus::WaitingOnPartner));
        assert!(TicketStatus::Open.may_become(TicketStatus::WaitingOnPartner));
    }

    #[test]
    fn only_portal_admins_change_ticket_status_and_manage_sites() {
        for action in [PortalAction::TicketStatus, PortalAction::Sites] {
            assert!(allows(PortalLevel::Admin, action, None));
            assert!(!allows(PortalLevel::Engineering, action, None));
            assert!(!allows(PortalLevel::ReadOnly, action, None));
        }
        assert!(allows(PortalLevel::ReadOnly, PortalAction::Tickets, None), "every level opens tickets");
    }
}
