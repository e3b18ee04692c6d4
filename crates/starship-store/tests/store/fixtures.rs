//! People, partners and productions for tests, with valid values by default.

use starship_core::domain::{Email, Locale, PartnerKind, PersonName, ProductionId, Title, UserStatus};
use starship_core::ids::PartnerId;
use starship_store::partners::{self, Partner, Production};
use starship_store::users::{self, NewUser, User};
use starship_store::{Conn, Result};

pub fn email(s: &str) -> Email {
    Email::parse("email", s).unwrap_or_else(|e| panic!("{s:?} is not a valid email: {}", e.reason))
}

pub fn name(s: &str) -> PersonName {
    PersonName::parse("name", s).unwrap_or_else(|e| panic!("{s:?} is not a valid name: {}", e.reason))
}

pub fn title(s: &str) -> Title {
    Title::parse("title", s).unwrap_or_else(|e| panic!("{s:?} is not a valid title: {}", e.reason))
}

pub fn production_id(id: i64) -> ProductionId {
    ProductionId::parse("production", id).unwrap_or_else(|e| panic!("{id} is not a valid production id: {}", e.reason))
}

pub fn en_us() -> Locale {
    Locale::parse("locale", "en-US").expect("en-US is supported")
}

pub async fn partner(conn: &mut Conn, partner_name: &str) -> Result<Partner> {
    partners::insert(conn, &title(partner_name), PartnerKind::Content).await
}

pub async fn production(conn: &mut Conn, id: i64, production_title: &str) -> Result<Production> {
    partners::insert_production(conn, production_id(id), &title(production_title), None).await
}

/// An active user of a partner, or an operator when `partner_id` is `None`.
pub async fn user(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    address: &str,
    first: &str,
    last: &str,
) -> Result<User> {
    let (email, first, last) = (email(address), name(first), name(last));
    users::insert(
        conn,
        &NewUser {
            partner_id,
            email: &email,
            first_name: &first,
            last_name: &last,
            locale: en_us(),
            phone: None,
            status: UserStatus::Active,
            password_hash: None,
        },
    )
    .await
}
