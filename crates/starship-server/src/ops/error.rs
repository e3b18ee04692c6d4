//! What an operation answers when it does not do what was asked: one type
//! for every caller (API, pages, CLI, SCIM, OpenID Connect), mapped once to
//! problem details (`problem.rs`) and once to form errors
//! (`web::FormErrors::from_error`).

use starship_core::authz::Denied;
use starship_core::{FieldError, Invalid};
use starship_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("sign in first")]
    Unauthenticated,
    /// One answer for an unknown email and a wrong password.
    #[error("the email or password is not right")]
    BadCredentials,
    /// The password was right; the account also needs an MFA code.
    #[error("this account needs a code from its authenticator app (or a recovery code) as `totp`")]
    MfaRequired,
    /// The password was right and the code was the current one, but it
    /// signed someone in already: said only after the password was right.
    #[error("this code was used already: wait for the next one your authenticator app shows, or use a recovery code")]
    MfaCodeUsed,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    #[error("the database is not answering")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

impl From<Invalid> for OperationError {
    fn from(e: Invalid) -> Self {
        Self::Invalid(e)
    }
}

impl From<FieldError> for OperationError {
    fn from(e: FieldError) -> Self {
        Self::Invalid(e.into())
    }
}

impl From<Denied> for OperationError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotFound => Self::NotFound,
            Denied::Forbidden(why) => Self::Forbidden(why),
            Denied::Conflict(why) => Self::Conflict(why.to_string()),
        }
    }
}

impl From<starship_store::sqlx::Error> for OperationError {
    fn from(e: starship_store::sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<StoreError> for OperationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::Conflict(what.to_string()),
            StoreError::Unreachable(_) => Self::Unavailable,
            StoreError::Database(starship_store::sqlx::Error::PoolTimedOut) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

pub type OperationResult<T> = Result<T, OperationError>;
