//! Domain constructors' errors as `anyhow` errors.

use anyhow::{anyhow, Result};

/// Domain constructors answer a `FieldError`, which is no `std::error::Error`.
pub trait Valid<T> {
    fn valid(self) -> Result<T>;
}

impl<T, E: std::fmt::Debug> Valid<T> for std::result::Result<T, E> {
    fn valid(self) -> Result<T> {
        self.map_err(|e| anyhow!("invalid value: {e:?}"))
    }
}
