//! Roles granted to users, and admin privileges.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::authz::{Permit, PortalAccess};
use starship_core::catalogue::{keys, AdminScope, RoleRef};
use starship_core::ids::{AdminPrivilegeId, ApplicationKey, GrantId, PartnerId, RoleKey, UserId};

use crate::users::production_of;
use crate::{new_id, now_millis, placeholder, Conn, Result, Value};

#[derive(Debug, Clone)]
pub struct Grant {
    pub id: GrantId,
    pub user_id: UserId,
    pub role: RoleRef,
    pub granted_by: Option<UserId>,
    pub created_at: i64,
    /// When the grant stops counting; `None` for no end.
    pub expires_at: Option<i64>,
}

impl Grant {
    pub fn expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|end| end <= now)
    }
}

/// The columns of a [`Grant`], for every query that reads one.
const COLUMNS: &str = "id, user_id, application, role, production_id, granted_by, created_at, expires_at";

/// The condition that keeps only grants that still count at `$n` (now):
/// every query that reads grants to decide access uses it, so an expired
/// grant stops counting before the sweeper removes it.
pub fn counting(alias: &str, n: usize) -> String {
    let column = if alias.is_empty() { "expires_at".to_string() } else { format!("{alias}.expires_at") };
    format!("({column} IS NULL OR {column} > ${n})")
}

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        role: RoleRef {
            application: r.try_get("application")?,
            role: r.try_get("role")?,
            production: production_of(r)?,
        },
        granted_by: r.try_get("granted_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

/// What granting did to one (user, role) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granting {
    /// The user did not hold the role (or held it only expired): now they do.
    New,
    /// Already held with this end date: nothing changed.
    Held,
    /// Already held; its end date changed from this one.
    ExpiryChanged { from: Option<i64> },
}

impl Granting {
    pub fn is_new(self) -> bool {
        self == Self::New
    }
}

/// Grants a role with no end date; granting one already held returns the
/// existing grant and `false` rather than a duplicate. A held grant that has
/// expired (not yet swept) is given again.
pub async fn grant(
    conn: &mut Conn,
    user_id: &UserId,
    permit: &Permit<RoleRef>,
    granted_by: Option<&UserId>,
) -> Result<(Grant, bool)> {
    grant_permitted(conn, user_id, permit.allows(), granted_by).await
}

/// `grant`, for a role some permit allowed.
async fn grant_permitted(
    conn: &mut Conn,
    user_id: &UserId,
    role: &RoleRef,
    granted_by: Option<&UserId>,
) -> Result<(Grant, bool)> {
    let now = now_millis();
    let inserted = sqlx::query(
        "INSERT INTO grants (id, user_id, application, role, production_id, granted_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map(|p| p.get()))
    .bind(granted_by)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let renewed = !inserted
        && sqlx::query(
            "UPDATE grants SET expires_at = NULL, expiry_reminded_at = NULL, granted_by = $1, created_at = $2 \
             WHERE user_id = $3 AND application = $4 AND role = $5 AND COALESCE(production_id, 0) = $6 \
             AND expires_at <= $2",
        )
        .bind(granted_by)
        .bind(now)
        .bind(user_id)
        .bind(&role.application)
        .bind(&role.role)
        .bind(role.production.map_or(0, |p| p.get()))
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM grants \
         WHERE user_id = $1 AND application = $2 AND role = $3 AND COALESCE(production_id, 0) = $4"
    ))
    .bind(user_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map_or(0, |p| p.get()))
    .fetch_one(&mut *conn)
    .await?;
    Ok((grant_from_row(&row)?, inserted || renewed))
}

/// Grants every role, each with its end date (`None`: no end), to every
/// user in a few statements, whatever the count: the path of a large grant.
/// A role already held takes the end date asked; one held but expired is
/// given again. Returns each (user, role) pair's grant in the order asked
/// (users outer, roles inner) with what changed.
pub async fn grant_many(
    conn: &mut Conn,
    user_ids: &[&UserId],
    roles: &[(Permit<RoleRef>, Option<i64>)],
    granted_by: Option<&UserId>,
) -> Result<Vec<(Grant, Granting)>> {
    type Key = (String, ApplicationKey, RoleKey, Option<i64>);
    let key = |user: &str, role: &RoleRef| -> Key {
        (user.to_string(), role.application.clone(), role.role.clone(), role.production.map(|p| p.get()))
    };
    let wanted: Vec<(&UserId, &RoleRef, Option<i64>)> = user_ids
        .iter()
        .flat_map(|user| roles.iter().map(move |(permit, expires_at)| (*user, permit.allows(), *expires_at)))
        .collect();
    let mut fresh_ids = std::collections::HashSet::with_capacity(wanted.len());
    let mut held: std::collections::HashMap<Key, Grant> = std::collections::HashMap::with_capacity(wanted.len());
    let now = now_millis();
    // A grant held before may be revoked by another transaction between the
    // insert that skipped it and the read: the next round writes it anew.
    for _ in 0..3 {
        let missing: Vec<&(&UserId, &RoleRef, Option<i64>)> =
            wanted.iter().filter(|(user, role, _)| !held.contains_key(&key(user, role))).collect();
        if missing.is_empty() {
            break;
        }
        let rows = missing
            .iter()
            .map(|(user_id, role, expires_at)| {
                let id = GrantId::from(new_id());
                let row_id = Value::Text(id.to_string());
                fresh_ids.insert(id);
                vec![
                    row_id,
                    Value::Text(user_id.to_string()),
                    Value::Text(role.application.to_string()),
                    Value::Text(role.role.to_string()),
                    Value::NullableInt(role.production.map(|p| p.get())),
                    Value::NullableText(granted_by.map(UserId::to_string)),
                    Value::Int(now),
                    Value::NullableInt(*expires_at),
                ]
            })
            .collect();
        crate::insert_many_skipping_existing(
            conn,
            "grants",
            &["id", "user_id", "application", "role", "production_id", "granted_by", "created_at", "expires_at"],
            rows,
        )
        .await?;
        let mut users: Vec<&UserId> = missing.iter().map(|(user, _, _)| *user).collect();
        users.sort_unstable();
        users.dedup();
        for chunk in users.chunks(1_000) {
            let list = (1..=chunk.len()).map(|n| placeholder(conn, n)).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT {COLUMNS} FROM grants WHERE user_id IN ({list})");
            let mut query = sqlx::query(&sql);
            for user_id in chunk {
                query = query.bind(*user_id);
            }
            for row in query.fetch_all(&mut *conn).await? {
                let grant = grant_from_row(&row)?;
                held.insert(key(&grant.user_id, &grant.role), grant);
            }
        }
    }
    let mut answers = Vec::with_capacity(wanted.len());
    // Held grants whose end date changes, and expired ones given again,
    // grouped by the end date they take: a few statements for a large grant.
    let mut changes: std::collections::BTreeMap<(Option<i64>, bool), Vec<GrantId>> = Default::default();
    for (user_id, role, expires_at) in &wanted {
        let mut grant = held.get(&key(user_id, role)).cloned().ok_or(crate::StoreError::Conflict(
            "a grant was revoked again and again while it was being written; try again",
        ))?;
        // A pair asked twice is new once.
        let outcome = if fresh_ids.remove(&grant.id) {
            Granting::New
        } else if grant.expired_at(now) {
            changes.entry((*expires_at, true)).or_default().push(grant.id.clone());
            grant.granted_by = granted_by.cloned();
            grant.created_at = now;
            Granting::New
        } else if grant.expires_at != *expires_at {
            changes.entry((*expires_at, false)).or_default().push(grant.id.clone());
            Granting::ExpiryChanged { from: grant.expires_at }
        } else {
            Granting::Held
        };
        grant.expires_at = *expires_at;
        answers.push((grant, outcome));
    }
    for ((expires_at, renewed), ids) in changes {
        let mut ids = ids;
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(1_000) {
            let first = if renewed { 4 } else { 2 };
            // Numbered on both stores: SQLite would give a bare `?` the first value.
            let list = (first..chunk.len() + first).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
            let sql = if renewed {
                format!(
                    "UPDATE grants SET expires_at = $1, expiry_reminded_at = NULL, granted_by = $2, created_at = $3 \
                     WHERE id IN ({list})"
                )
            } else {
                format!("UPDATE grants SET expires_at = $1, expiry_reminded_at = NULL WHERE id IN ({list})")
            };
            let mut query = sqlx::query(&sql).bind(expires_at);
            if renewed {
                query = query.bind(granted_by).bind(now);
            }
            for id in chunk {
                query = query.bind(id);
            }
            if query.execute(&mut *conn).await?.rows_affected() != chunk.len() as u64 {
                return Err(crate::StoreError::Conflict(
                    "a grant was revoked while its end date was being changed; try again",
                ));
            }
        }
    }
    Ok(answers)
}

/// A person's grants that still count.
pub async fn of_user(conn: &mut Conn, user_id: &UserId) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM grants WHERE user_id = $1 AND {} ORDER BY application, role, production_id",
        counting("", 2)
    ))
    .bind(user_id)
    .bind(now_millis())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// One grant, expired or not: revoking an expired grant is allowed.
pub async fn get(conn: &mut Conn, id: &GrantId) -> Result<Option<Grant>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM grants WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()
}

/// Revokes a grant of the role the permit names; `false` when it was
/// already gone (or is of another role).
pub async fn revoke(conn: &mut Conn, id: &GrantId, permit: &Permit<RoleRef>) -> Result<bool> {
    let role = permit.allows();
    Ok(sqlx::query(
        "DELETE FROM grants WHERE id = $1 AND application = $2 AND role = $3 AND COALESCE(production_id, 0) = $4",
    )
    .bind(id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map_or(0, |p| p.get()))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Sets a person's portal level: their Partner Portal roles give way to the
/// one of the level the permit names (none when access is revoked).
/// Answers the roles they held before and the grant of the new level.
pub async fn set_portal_access(
    conn: &mut Conn,
    user_id: &UserId,
    permit: &Permit<PortalAccess>,
    granted_by: Option<&UserId>,
) -> Result<(Vec<RoleKey>, Option<Grant>)> {
    let before: Vec<RoleKey> = sqlx::query("DELETE FROM grants WHERE user_id = $1 AND application = $2 RETURNING role")
        .bind(user_id)
        .bind(keys::PARTNER_PORTAL)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("role"))
        .collect::<std::result::Result<_, _>>()?;
    let Some(role) = permit.allows().role() else {
        return Ok((before, None));
    };
    let (grant, _) = grant_permitted(conn, user_id, &role, granted_by).await?;
    Ok((before, Some(grant)))
}

/// For one page of users, their grants in one application that still count.
pub async fn of_users_in_application(conn: &mut Conn, user_ids: &[UserId], application: &str) -> Result<Vec<Grant>> {
    if user_ids.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (0..user_ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM grants WHERE application = $1 AND {} AND user_id IN ({}) ORDER BY role, production_id",
        counting("", 2),
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(application).bind(now_millis());
    for id in user_ids {
        query = query.bind(id);
    }
    query.fetch_all(&mut *conn).await?.iter().map(grant_from_row).collect()
}

#[derive(Debug, Clone)]
pub struct AdminPrivilege {
    pub id: AdminPrivilegeId,
    pub user_id: UserId,
    pub scope: AdminScope,
    pub granted_by: Option<UserId>,
    pub created_at: i64,
}

fn privilege_from_row(r: &AnyRow) -> Result<AdminPrivilege> {
    Ok(AdminPrivilege {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        scope: AdminScope { application: r.try_get("application")?, production: production_of(r)? },
        granted_by: r.try_get("granted_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn add_admin(
    conn: &mut Conn,
    user_id: &UserId,
    permit: &Permit<AdminScope>,
    granted_by: Option<&UserId>,
) -> Result<(AdminPrivilege, bool)> {
    let scope = permit.allows();
    let inserted = sqlx::query(
        "INSERT INTO admin_privileges (id, user_id, application, production_id, granted_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(&scope.application)
    .bind(scope.production.map(|p| p.get()))
    .bind(granted_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    let row = sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges \
         WHERE user_id = $1 AND application = $2 AND COALESCE(production_id, 0) = $3",
    )
    .bind(user_id)
    .bind(&scope.application)
    .bind(scope.production.map_or(0, |p| p.get()))
    .fetch_one(&mut *conn)
    .await?;
    Ok((privilege_from_row(&row)?, inserted))
}

pub async fn admin_of_user(conn: &mut Conn, user_id: &UserId) -> Result<Vec<AdminPrivilege>> {
    sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges \
         WHERE user_id = $1 ORDER BY application, production_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(privilege_from_row)
    .collect()
}

pub async fn get_admin(conn: &mut Conn, id: &AdminPrivilegeId) -> Result<Option<AdminPrivilege>> {
    sqlx::query(
        "SELECT id, user_id, application, production_id, granted_by, created_at FROM admin_privileges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(privilege_from_row)
    .transpose()
}

/// Removes an admin privilege of the scope the permit names; `false` when
/// it was already gone (or is of another scope).
pub async fn remove_admin(conn: &mut Conn, id: &AdminPrivilegeId, permit: &Permit<AdminScope>) -> Result<bool> {
    let scope = permit.allows();
    Ok(sqlx::query(
        "DELETE FROM admin_privileges WHERE id = $1 AND application = $2 AND COALESCE(production_id, 0) = $3",
    )
    .bind(id)
    .bind(&scope.application)
    .bind(scope.production.map_or(0, |p| p.get()))
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Removes up to `limit` grants that expired by `now` and returns them. Two
/// sweepers racing each get only the rows they removed themselves, so each
/// grant is reported (and written to History) once.
pub async fn sweep_expired(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "DELETE FROM grants WHERE id IN \
         (SELECT id FROM grants WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) AND expires_at <= $1 \
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// Grants ending within `(now, until]` whose reminder has not gone yet,
/// marked reminded in the same statement: each end date is announced once,
/// whoever runs it.
pub async fn claim_reminders(conn: &mut Conn, now: i64, until: i64, limit: i64) -> Result<Vec<Grant>> {
    sqlx::query(&format!(
        "UPDATE grants SET expiry_reminded_at = $1 WHERE id IN \
         (SELECT id FROM grants WHERE expires_at > $1 AND expires_at <= $2 AND expiry_reminded_at IS NULL \
          ORDER BY expires_at LIMIT $3) AND expiry_reminded_at IS NULL \
         RETURNING {COLUMNS}"
    ))
    .bind(now)
    .bind(until)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(grant_from_row)
    .collect()
}

/// Who holds exactly this admin privilege in a partner, active people
/// first by name, at most `limit`: who may grant a role of this scope there.
pub async fn admins_of_scope(
    conn: &mut Conn,
    partner_id: &PartnerId,
    scope: &AdminScope,
    limit: i64,
) -> Result<Vec<crate::users::User>> {
    let ids: Vec<UserId> = sqlx::query(
        "SELECT u.id FROM users u JOIN admin_privileges a ON a.user_id = u.id \
         WHERE u.partner_id = $1 AND a.application = $2 AND COALESCE(a.production_id, 0) = $3 \
         AND u.deleted_at IS NULL AND u.deactivated_at IS NULL ORDER BY u.full_lower, u.id LIMIT $4",
    )
    .bind(partner_id)
    .bind(&scope.application)
    .bind(scope.production.map_or(0, |p| p.get()))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<std::result::Result<_, _>>()?;
    let mut people = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = crate::users::get(conn, &id).await? {
            people.push(user);
        }
    }
    Ok(people)
}

/// The other active people of a partner who hold any admin privilege
/// (at most 100, enough to find one who can still onboard).
pub async fn other_admins(
    conn: &mut Conn,
    partner_id: &PartnerId,
    except_user: &UserId,
) -> Result<Vec<crate::users::User>> {
    let ids: Vec<UserId> = sqlx::query(
        "SELECT DISTINCT u.id FROM users u JOIN admin_privileges a ON a.user_id = u.id \
         WHERE u.partner_id = $1 AND u.id <> $2 AND u.deleted_at IS NULL AND u.deactivated_at IS NULL \
         ORDER BY u.id LIMIT 100",
    )
    .bind(partner_id)
    .bind(except_user)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<std::result::Result<_, _>>()?;
    let mut people = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(user) = crate::users::get(conn, &id).await? {
            people.push(user);
        }
    }
    Ok(people)
}
