//! The catalogue: applications, their roles, capabilities, notification
//! types and metadata schemas. Its rows are written by migrations; the store
//! loads it once at start-up into these types, and the rules read it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ProductionId;
use crate::ids::{ApplicationKey, RoleKey};

/// Keys the rules refer to by name. Every other key is data.
pub mod keys {
    pub const BACKLOT: &str = "backlot";
    pub const PRODUCTION_ACADEMY: &str = "production-academy";
    pub const PARTNER_PORTAL: &str = "partner-portal";
    pub const CONTENT_HUB: &str = "content-hub";

    pub const MASTER_CONTENT_PARTNER_OPERATIONS: &str = "master-content-partner-operations";
    pub const CONTENT_PARTNER_OPERATIONS: &str = "content-partner-operations";
    pub const ACADEMY_USER: &str = "academy-user";
    pub const PORTAL_ADMIN: &str = "admin";
    pub const PORTAL_ENGINEERING: &str = "engineering";
    pub const PORTAL_READ_ONLY: &str = "read-only";

    /// The capability that lets a partner user create new users (seed 000:
    /// only Master Content Partner Operations has it).
    pub const CREATE_USERS: &str = "create-users";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleScope {
    /// Granted on the whole application.
    Application,
    /// Granted on one production (Academy User on 70030433).
    Production,
}

impl RoleScope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "application" => Some(Self::Application),
            "production" => Some(Self::Production),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Capability {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Role {
    pub key: RoleKey,
    pub name: String,
    pub scope: RoleScope,
    /// Capability keys this role opens.
    pub capabilities: Vec<String>,
    /// Notification type keys this role turns on by default.
    pub default_notifications: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationType {
    pub key: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    Text,
    Enum,
    /// An ISO 3166-1 alpha-2 country code.
    Country,
    /// Any number of values from the field's options.
    MultiSelect,
}

impl FieldKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(Self::Text),
            "enum" => Some(Self::Enum),
            "country" => Some(Self::Country),
            "multi-select" => Some(Self::MultiSelect),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldOption {
    pub value: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetadataField {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Application {
    pub key: ApplicationKey,
    pub name: String,
    pub description: String,
    /// Where the application lives, for links in emails and pages.
    pub url: String,
    pub roles: Vec<Role>,
    pub capabilities: Vec<Capability>,
    pub notification_types: Vec<NotificationType>,
    pub metadata_schema: Vec<MetadataField>,
}

impl Application {
    pub fn role(&self, key: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.key == key)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContactRole {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Catalogue {
    pub applications: Vec<Application>,
    pub contact_roles: Vec<ContactRole>,
}

impl Catalogue {
    pub fn application(&self, key: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.key == key)
    }

    pub fn role(&self, application: &str, role: &str) -> Option<&Role> {
        self.application(application)?.role(role)
    }

    /// Resolves a requested role reference against the catalogue: the
    /// application and role must exist, and a production is given exactly
    /// when the role is production-scoped.
    pub fn resolve_role(
        &self,
        field: &str,
        application: &str,
        role: &str,
        production: Option<ProductionId>,
    ) -> Result<RoleRef, crate::FieldError> {
        let Some(app) = self.application(application) else {
            return Err(crate::FieldError::new(
                format!("{field}.application"),
                format!("unknown application '{application}'"),
            ));
        };
        let Some(found) = app.role(role) else {
            return Err(crate::FieldError::new(
                format!("{field}.role"),
                format!("'{role}' is not a role of {}", app.name),
            ));
        };
        match (found.scope, production) {
            (RoleScope::Production, None) => Err(crate::FieldError::new(
                format!("{field}.production"),
                format!("{} is granted on a production: name one", found.name),
            )),
            (RoleScope::Application, Some(_)) => Err(crate::FieldError::new(
                format!("{field}.production"),
                format!("{} is granted on the whole application, not on a production", found.name),
            )),
            _ => Ok(RoleRef { application: app.key.clone(), role: found.key.clone(), production }),
        }
    }
}

/// A role held (or requested) by a user: which role, and on which production
/// when the role is production-scoped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleRef {
    pub application: ApplicationKey,
    pub role: RoleKey,
    pub production: Option<ProductionId>,
}

/// A role as someone asked for it (a request body, a form, an import's
/// column, a group's mapping): the application's and the role's keys as
/// typed and the production's number, not yet checked against the
/// catalogue, which `Catalogue::resolve_role` does, answering a `RoleRef`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedRole {
    pub application: String,
    pub role: String,
    pub production: Option<i64>,
}

/// An admin privilege: the right to grant an application's roles (or one
/// production's roles) to users of one's own partner, and to pass this
/// privilege on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AdminScope {
    pub application: ApplicationKey,
    pub production: Option<ProductionId>,
}
