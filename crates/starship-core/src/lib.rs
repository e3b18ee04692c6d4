//! Starship's domain: value types that can only hold valid values, the
//! catalogue of applications and roles, and the authorization rules.
//!
//! This crate does no IO and has no async: every rule is a pure function of
//! data the caller loaded, so it can be tested as a table and called in a
//! hot path.

pub mod authz;
pub mod catalogue;
pub mod communications;
pub mod countries;
pub mod domain;
pub mod error;
pub mod history;
pub mod ids;
pub mod oidc;
pub mod portal;
pub mod preferences;
pub mod scim_filter;
pub mod time_fmt;

pub use error::{FieldError, Invalid};
