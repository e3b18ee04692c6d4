//! Ids and keys, each a type of its own, so that a person's id cannot be
//! passed where a partner's is asked for, nor a role's key where an
//! application's is.
//!
//! They are not validated: an id comes from the store or from an address,
//! and one that names nothing is answered as "not found" by whoever looks
//! it up. Each reads as text (`Deref<Target = str>`) so that printing,
//! comparing and binding stay as they were; the other way, text becomes an
//! id only by naming the type (`UserId::from`), or, for a key the code
//! knows, `from_static` in a `const`. With the `sqlx` feature each binds
//! and reads as the text column it is stored in.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

macro_rules! text_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            pub const fn from_static(text: &'static str) -> Self {
                Self(Cow::Borrowed(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0.into_owned()
            }
        }

        #[cfg(feature = "sqlx")]
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            String: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <String as sqlx::Encode<'q, DB>>::encode(self.0.to_string(), buf)
            }
        }

        #[cfg(feature = "sqlx")]
        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(Self(Cow::Owned(<String as sqlx::Decode<'r, DB>>::decode(value)?)))
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so widths and alignment in format strings apply.
                f.pad(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(Cow::Owned(text))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(Cow::Owned(text.to_string()))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.into_owned()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == other.as_str()
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                *self == *other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                **self == *other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == &*other.0
            }
        }

        /// Described as the text it is on the wire.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

text_id! {
    /// A person's id: a partner's user or contact, or a platform operator.
    UserId
}

text_id! {
    /// A partner company's id.
    PartnerId
}

/// The partner of an account that belongs to none (a platform operator's),
/// as the rules are asked about it: no partner has this id, so only
/// operators may see or act on such an account.
pub static NO_PARTNER: PartnerId = PartnerId::from_static("");

text_id! {
    /// The id of one role granted to one person.
    GrantId
}

text_id! {
    /// The id of one admin privilege held by one person.
    AdminPrivilegeId
}

text_id! {
    /// A partner's site (a data centre, an exchange point).
    SiteId
}

text_id! {
    /// A support ticket of a partner.
    TicketId
}

text_id! {
    /// An appliance registered at a partner's site.
    ApplianceId
}

text_id! {
    /// An access review of one application's grants in one partner.
    ReviewId
}

text_id! {
    /// A partner's directory group, provisioned through SCIM.
    ScimGroupId
}

text_id! {
    /// A directory group's role mapping: its members hold that role.
    ScimMappingId
}

text_id! {
    /// A partner's SCIM token (its record, never its secret).
    ScimTokenId
}

text_id! {
    /// A person's personal API token (its record, never its secret).
    ApiTokenId
}

text_id! {
    /// What an application client presents as `client_id` (RFC 6749 §2.2),
    /// chosen when it is registered; public, unique.
    ClientId
}

text_id! {
    /// An application client's own record, which its address, its
    /// authorization codes and its token families name (their `client_id`
    /// columns hold this, not the [`ClientId`] the application presents).
    ApplicationClientId
}

text_id! {
    /// A message of the outbox.
    MessageId
}

text_id! {
    /// An application's key in the catalogue (`backlot`, `academy`).
    ApplicationKey
}

text_id! {
    /// A role's key within its application (`content-partner-operations`).
    RoleKey
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_text_on_the_wire_and_in_print() {
        let id = UserId::from("0190-abc");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0190-abc\"");
        assert_eq!(serde_json::from_str::<UserId>("\"0190-abc\"").unwrap(), id);
        assert_eq!(id.to_string(), "0190-abc");
        assert_eq!(id, "0190-abc");
        assert_eq!("0190-abc", id);
    }

    #[test]
    fn an_id_finds_its_entry_in_a_map_keyed_by_id_when_asked_with_text() {
        let mut partners = std::collections::HashMap::new();
        partners.insert(PartnerId::from("p1"), "Acme");
        assert_eq!(partners.get("p1"), Some(&"Acme"));
    }
}
