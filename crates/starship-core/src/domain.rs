//! Value types whose constructors are the only validation: once one exists,
//! it is valid, and nothing downstream checks it again.

use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::FieldError;

/// An email address as a person typed it; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let email = input.trim();
        let bad = |reason: &str| Err(FieldError::new(field, reason));
        if email.is_empty() {
            return bad("is required");
        }
        if email.len() > Self::MAX_LEN {
            return bad("must be at most 254 characters");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return bad("must be an email address like name@example.com");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return bad("must be an email address like name@example.com");
        }
        Ok(Self(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and sign-in compare: lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The locale languages Starship offers, as BCP 47 tags. Documented in the
/// README; a tag outside this list is refused rather than guessed at.
pub const SUPPORTED_LOCALES: &[&str] = &[
    "ar-SA", "da-DK", "de-DE", "el-GR", "en-GB", "en-US", "es-419", "es-ES", "fi-FI", "fr-CA", "fr-FR", "he-IL",
    "hi-IN", "id-ID", "it-IT", "ja-JP", "ko-KR", "ms-MY", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO",
    "ru-RU", "sv-SE", "th-TH", "tr-TR", "uk-UA", "vi-VN", "zh-CN", "zh-TW",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Locale(&'static str);

impl Locale {
    /// Accepts any casing and `_` for `-` (`en_us`), returning the canonical tag.
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let wanted = input.trim().replace('_', "-");
        if wanted.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        SUPPORTED_LOCALES.iter().find(|tag| tag.eq_ignore_ascii_case(&wanted)).map(|tag| Self(tag)).ok_or_else(|| {
            FieldError::new(
                field,
                format!("'{}' is not a supported locale (for example en-US, fr-FR, ja-JP)", input.trim()),
            )
        })
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The language subtag, for picking a translation.
    pub fn language(&self) -> &'static str {
        self.0.split('-').next().unwrap_or(self.0)
    }
}

/// A first or last name: trimmed, non-empty, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        bounded_text(field, input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name of a partner, site or production: trimmed, non-empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        bounded_text(field, input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn bounded_text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if text.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    // Invisible and bidirectional-control characters (Unicode category Cf)
    // make one name look like another ("Masters \u{202e}(nimda)").
    if let Some(c) = text.chars().find(|c| c.general_category() == GeneralCategory::Format) {
        return Err(FieldError::new(
            field,
            format!("must not contain invisible or text-direction characters (U+{:04X})", c as u32),
        ));
    }
    Ok(text.to_string())
}

/// A production's numeric id, as Netflix numbers titles (70030433).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductionId(i64);

impl ProductionId {
    pub const MAX: i64 = 999_999_999_999;

    pub fn parse(field: &str, input: i64) -> Result<Self, FieldError> {
        if (1..=Self::MAX).contains(&input) {
            Ok(Self(input))
        } else {
            Err(FieldError::new(field, format!("must be a whole number between 1 and {}", Self::MAX)))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ProductionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartnerKind {
    Content,
    Fulfillment,
    Qc,
    Network,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 4] = [Self::Content, Self::Fulfillment, Self::Qc, Self::Network];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Content => "content",
            Self::Fulfillment => "fulfillment",
            Self::Qc => "qc",
            Self::Network => "network",
        }
    }

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(input.trim()))
            .ok_or_else(|| FieldError::new(field, "must be one of content, fulfillment, qc, network"))
    }
}

/// A password someone chose. Length is what makes a password strong; we ask
/// for 12 characters and allow passphrases up to 1024 bytes.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        if input.chars().count() < Self::MIN_CHARS {
            return Err(FieldError::new(field, format!("must be at least {} characters", Self::MIN_CHARS)));
        }
        if input.len() > Self::MAX_BYTES {
            return Err(FieldError::new(field, format!("must be at most {} bytes", Self::MAX_BYTES)));
        }
        Ok(Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_accepts_ordinary_addresses_and_keeps_their_case() {
        let email = Email::parse("email", "  Ana.Lopez+ops@Studio-One.example.com ").unwrap();
        assert_eq!(email.as_str(), "Ana.Lopez+ops@Studio-One.example.com");
        assert_eq!(email.normalized(), "ana.lopez+ops@studio-one.example.com");
    }

    #[test]
    fn email_refuses_what_is_not_an_address() {
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@.example.com",
            "a b@example.com",
            "a..b@example.com",
            "a@-x.example.com",
            "a@exa_mple.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn locale_is_canonicalised_and_unknown_tags_refused() {
        assert_eq!(Locale::parse("locale", "en_us").unwrap().as_str(), "en-US");
        assert_eq!(Locale::parse("locale", "ES-419").unwrap().as_str(), "es-419");
        assert_eq!(Locale::parse("locale", "fr-FR").unwrap().language(), "fr");
        let err = Locale::parse("locale", "xx-YY").unwrap_err();
        assert!(err.reason.contains("not a supported locale"));
        assert!(Locale::parse("locale", " ").is_err());
    }

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(PersonName::parse("first_name", "  Ana ").unwrap().as_str(), "Ana");
        assert!(PersonName::parse("first_name", "   ").is_err());
        assert!(PersonName::parse("first_name", &"x".repeat(101)).is_err());
        assert!(PersonName::parse("first_name", "An\u{7}a").is_err());
        assert!(PersonName::parse("first_name", &"é".repeat(100)).is_ok());
    }

    #[test]
    fn production_ids_are_positive() {
        assert_eq!(ProductionId::parse("production", 70030433).unwrap().get(), 70030433);
        assert!(ProductionId::parse("production", 0).is_err());
        assert!(ProductionId::parse("production", -5).is_err());
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(Password::parse("password", "short").is_err());
        assert!(Password::parse("password", "correct horse battery").is_ok());
        assert_eq!(format!("{:?}", Password::parse("p", "correct horse battery").unwrap()), "Password(…)");
    }
}

/// Whether and how a person may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Has a password and may sign in.
    Active,
    /// An activation or invitation link was sent; no password yet.
    Pending,
    /// A contact: a person of the partner without sign-in.
    Contact,
    /// Sign-in switched off; the person and their history stay.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Contact => "contact",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Pending, Self::Contact, Self::Disabled].into_iter().find(|v| v.as_str() == s)
    }
}

/// A phone number as people write them: digits with an optional leading
/// `+`, spaces, dashes, dots and parentheses; 5 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let phone = input.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed =
            phone.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
        if !allowed || !(5..=20).contains(&digits) {
            return Err(FieldError::new(field, "must be a phone number like +1 408 555 0100"));
        }
        Ok(Self(phone.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod phone_tests {
    use super::Phone;

    #[test]
    fn phones_are_digits_with_common_separators() {
        assert_eq!(Phone::parse("phone", " +1 (408) 555-0100 ").unwrap().as_str(), "+1 (408) 555-0100");
        for bad in ["", "12", "call me", "+1 408 555 0100 ext 5", "1+2345678"] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad:?}");
        }
    }
}

/// How long a personal API token lasts: 1 to 365 days, 90 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetime(i64);

impl TokenLifetime {
    pub const DEFAULT_DAYS: i64 = 90;
    pub const MAX_DAYS: i64 = 365;
    pub const DEFAULT: Self = Self(Self::DEFAULT_DAYS);

    pub fn parse(field: &str, days: i64) -> Result<Self, FieldError> {
        if (1..=Self::MAX_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(FieldError::new(field, format!("must be a whole number of days between 1 and {}", Self::MAX_DAYS)))
        }
    }

    pub fn days(self) -> i64 {
        self.0
    }

    pub fn millis(self) -> i64 {
        self.0 * 24 * 60 * 60 * 1000
    }
}

#[cfg(test)]
mod token_lifetime_tests {
    use super::TokenLifetime;

    #[test]
    fn a_token_lasts_one_to_365_days() {
        assert_eq!(TokenLifetime::parse("expires_in_days", 1).unwrap().millis(), 86_400_000);
        assert_eq!(TokenLifetime::parse("expires_in_days", 365).unwrap().days(), 365);
        assert_eq!(TokenLifetime::DEFAULT.days(), 90);
        for bad in [0, -1, 366, i64::MAX] {
            let refused = TokenLifetime::parse("expires_in_days", bad).unwrap_err();
            assert_eq!(refused.field, "expires_in_days", "{bad}");
        }
    }
}

/// How the value types read in the OpenAPI document: the constraints their
/// constructors check, as far as JSON Schema can say them.
mod schemas {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};

    use super::{Email, Locale, PersonName, Title, SUPPORTED_LOCALES};

    /// No control characters (U+0000–U+001F, U+007F–U+009F); the server
    /// also refuses invisible and text-direction characters and blank text.
    const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]+$";

    fn bounded_text(max_chars: usize, description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(max_chars))
            .pattern(Some(NO_CONTROL_CHARACTERS))
            .description(Some(description))
            .into()
    }

    impl PartialSchema for PersonName {
        fn schema() -> RefOr<Schema> {
            bounded_text(PersonName::MAX_CHARS, "A first or last name")
        }
    }
    impl ToSchema for PersonName {}

    impl PartialSchema for Title {
        fn schema() -> RefOr<Schema> {
            bounded_text(Title::MAX_CHARS, "A name of a partner, site or production")
        }
    }
    impl ToSchema for Title {}

    impl PartialSchema for Email {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .max_length(Some(Email::MAX_LEN))
                .description(Some("An email address, compared case-insensitively"))
                .into()
        }
    }
    impl ToSchema for Email {}

    impl PartialSchema for Locale {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(SUPPORTED_LOCALES.iter().copied()))
                .description(Some("A supported BCP 47 tag (any case; `_` is accepted for `-`)"))
                .into()
        }
    }
    impl ToSchema for Locale {}
}

/// Where an outbox message stands: waiting for its first attempt, waiting
/// to be tried again after failed attempts, delivered, or given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Queued,
    Retrying,
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [Self::Queued, Self::Retrying, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// A message's status from its delivery columns: sent wins, then
    /// failed; an unsent message with failed attempts is retrying.
    pub fn of(sent: bool, failed: bool, attempts: i64) -> Self {
        match (sent, failed) {
            (true, _) => Self::Sent,
            (false, true) => Self::Failed,
            (false, false) if attempts > 0 => Self::Retrying,
            (false, false) => Self::Queued,
        }
    }

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(input.trim()))
            .ok_or_else(|| FieldError::new(field, "must be one of queued, retrying, sent, failed"))
    }
}
