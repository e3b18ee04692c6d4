//! The operations Starship performs, each inside the caller's transaction:
//! the API, the CLI and the demo loader all call these, so a rule or a side
//! effect (history, email) is written once.

pub mod access;
pub mod appliances;
pub mod clients;
pub mod communications;
pub mod contacts;
mod error;
pub mod expiry;
pub mod grants;
pub mod keys;
pub mod oidc;
pub mod platform;
pub mod preferences;
pub mod reviews;
pub mod scim;
pub mod session;
pub mod sites;
pub mod tickets;
pub mod tokens;
pub mod users;

pub use error::{OperationError, OperationResult};

use serde_json::json;
use starship_core::catalogue::RoleRef;
use starship_core::ids::GrantId;
use starship_core::FieldError;

/// The purpose of a single-use link that activates an account: sent by
/// `users`, re-sent by `contacts`, used by `session`.
pub const ACTIVATION: &str = "activation";

/// A grant's History details: written by `grants`, and by `users`,
/// `reviews` and SCIM groups beside their own changes of access.
pub fn role_details(grant_id: &GrantId, role: &RoleRef) -> serde_json::Value {
    json!({
        "grant_id": grant_id,
        "application": role.application,
        "role": role.role,
        "production": role.production.map(|p| p.get()),
    })
}

/// An end typed as RFC 3339 that must still lie ahead: a role's, a production's.
pub fn future_end(field: impl Into<String>, text: &str, now: i64) -> Result<i64, FieldError> {
    match starship_core::time_fmt::millis_from_rfc3339(text) {
        None => Err(FieldError::new(field, "give the end as an RFC 3339 date and time")),
        Some(at) if at <= now => Err(FieldError::new(field, "the end must be in the future")),
        Some(at) => Ok(at),
    }
}
