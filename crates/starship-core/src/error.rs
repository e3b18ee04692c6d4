use serde::Serialize;

/// One reason a piece of input was refused, named by the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The input field, e.g. `email`, or `rows[3].locale` for a bulk row.
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub reason: String,
    /// The 1-based row number, for bulk input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into(), row: None }
    }

    pub fn in_row(mut self, row: usize) -> Self {
        self.row = Some(row);
        self
    }
}

/// Input that failed validation: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, reason)])
    }
}

impl From<FieldError> for Invalid {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// Collects field errors while parsing a whole input, so a caller hears
/// about every bad field at once.
#[derive(Default)]
pub struct Collector(Vec<FieldError>);

impl Collector {
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }
}

/// Both parsed values, or every error of the two.
pub fn both<A, B>(a: Result<A, FieldError>, b: Result<B, FieldError>) -> Result<(A, B), Invalid> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(Invalid([a.err(), b.err()].into_iter().flatten().collect())),
    }
}

/// All three parsed values, or every error of the three.
pub fn all3<A, B, C>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
    c: Result<C, FieldError>,
) -> Result<(A, B, C), Invalid> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => Err(Invalid([a.err(), b.err(), c.err()].into_iter().flatten().collect())),
    }
}

/// All four parsed values, or every error of the four.
pub fn all4<A, B, C, D>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
    c: Result<C, FieldError>,
    d: Result<D, FieldError>,
) -> Result<(A, B, C, D), Invalid> {
    match (a, b, c, d) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => Ok((a, b, c, d)),
        (a, b, c, d) => Err(Invalid([a.err(), b.err(), c.err(), d.err()].into_iter().flatten().collect())),
    }
}
