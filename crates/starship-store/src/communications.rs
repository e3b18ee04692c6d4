//! Who a communication can reach: a partner's people with their contact
//! roles and survey mentions, for the rules in `starship_core::communications`.

use sqlx::Row;
use starship_core::domain::UserStatus;
use starship_core::ids::{PartnerId, SiteId, UserId};

use crate::{Conn, Result};

/// A person of the partner as the communications rules see them.
#[derive(Debug, Clone)]
pub struct Reachable {
    pub user_id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: UserStatus,
    pub contact_roles: Vec<String>,
    /// Named in the deployment survey (of the site asked about, or of any).
    pub on_survey: bool,
}

/// The partner's people (with or without sign-in) with their contact roles,
/// only those associated with `site` when one is given.
pub async fn reachable(conn: &mut Conn, partner_id: &PartnerId, site: Option<&SiteId>) -> Result<Vec<Reachable>> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.first_name, u.last_name, u.status, r.contact_role, \
           EXISTS (SELECT 1 FROM site_survey_contacts s WHERE s.user_id = u.id AND (CAST($2 AS TEXT) IS NULL OR s.site_id = CAST($2 AS TEXT))) AS on_survey \
         FROM users u LEFT JOIN user_contact_roles r ON r.user_id = u.id \
         WHERE u.partner_id = $1 AND u.deleted_at IS NULL \
           AND (CAST($2 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND us.site_id = CAST($2 AS TEXT)) \
                OR EXISTS (SELECT 1 FROM site_survey_contacts s WHERE s.user_id = u.id AND s.site_id = CAST($2 AS TEXT))) \
         ORDER BY u.full_lower, u.id, r.contact_role",
    )
    .bind(partner_id)
    .bind(site)
    .fetch_all(&mut *conn)
    .await?;
    let mut people: Vec<Reachable> = Vec::new();
    for r in rows {
        let id: UserId = r.try_get("id")?;
        let role: Option<String> = r.try_get("contact_role")?;
        let on_survey: bool = match r.try_get::<i64, _>("on_survey") {
            Ok(v) => v != 0,
            Err(_) => r.try_get::<bool, _>("on_survey")?,
        };
        match people.last_mut() {
            Some(last) if last.user_id == id => last.contact_roles.extend(role),
            _ => people.push(Reachable {
                user_id: id,
                email: r.try_get("email")?,
                first_name: r.try_get("first_name")?,
                last_name: r.try_get("last_name")?,
                status: {
                    let status: String = r.try_get("status")?;
                    UserStatus::parse(&status)
                        .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?
                },
                contact_roles: role.into_iter().collect(),
                on_survey,
            }),
        }
    }
    Ok(people)
}
