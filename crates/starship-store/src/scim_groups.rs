//! SCIM Groups: a partner's directory groups, their members, the roles a
//! group maps to, and which grant each mapping stands behind for each
//! member. A group filter becomes SQL with every value bound.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::catalogue::RoleRef;
use starship_core::ids::{GrantId, PartnerId, ScimGroupId, ScimMappingId, UserId};
use starship_core::scim_filter::{Attr, Filter, Literal};

use crate::scim::{bind_all, case_exact, number_comparison, text_comparison};
use crate::users::production_of;
use crate::{new_id, now_millis, Conn, Result, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: ScimGroupId,
    pub partner_id: PartnerId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, partner_id, display_name, external_id, created_at, updated_at";

fn group_from_row(row: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: row.try_get("id")?,
        partner_id: row.try_get("partner_id")?,
        display_name: row.try_get("display_name")?,
        external_id: row.try_get("external_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert(
    conn: &mut Conn,
    partner_id: &PartnerId,
    display_name: &str,
    external_id: Option<&str>,
) -> Result<Group> {
    let now = now_millis();
    let group = Group {
        id: ScimGroupId::from(new_id()),
        partner_id: partner_id.clone(),
        display_name: display_name.into(),
        external_id: external_id.map(str::to_string),
        created_at: now,
        updated_at: now,
    };
    sqlx::query(
        "INSERT INTO scim_groups (id, partner_id, display_name, display_lower, external_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&group.id)
    .bind(partner_id)
    .bind(display_name)
    .bind(display_name.to_lowercase())
    .bind(external_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(group)
}

/// One of a partner's groups.
pub async fn get(conn: &mut Conn, partner_id: &PartnerId, id: &ScimGroupId) -> Result<Option<Group>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM scim_groups WHERE id = $1 AND partner_id = $2"))
        .bind(id)
        .bind(partner_id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(group_from_row)
        .transpose()
}

/// Whether another group of the partner has this displayName already.
pub async fn name_taken(conn: &mut Conn, partner_id: &PartnerId, display_name: &str, except: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM scim_groups WHERE partner_id = $1 AND display_lower = $2 AND id <> $3")
        .bind(partner_id)
        .bind(display_name.to_lowercase())
        .bind(except)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Sets a group's name and external id and moves its version on.
pub async fn update(conn: &mut Conn, id: &ScimGroupId, display_name: &str, external_id: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE scim_groups SET display_name = $2, display_lower = $3, external_id = $4, \
         updated_at = CASE WHEN updated_at >= $5 THEN updated_at + 1 ELSE $5 END WHERE id = $1",
    )
    .bind(id)
    .bind(display_name)
    .bind(display_name.to_lowercase())
    .bind(external_id)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes a group with its members and mappings (their rows only: the
/// caller revokes the grants first).
pub async fn delete(conn: &mut Conn, id: &ScimGroupId) -> Result<()> {
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query(
        "DELETE FROM scim_mapped_grants WHERE mapping_id IN (SELECT id FROM scim_group_roles WHERE group_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM scim_group_roles WHERE group_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM scim_groups WHERE id = $1").bind(id).execute(&mut *conn).await?;
    Ok(())
}

/// A member as a Group shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub group_id: ScimGroupId,
    pub user_id: UserId,
    pub display: String,
}

/// The members of some groups (people not deleted), by group then name.
pub async fn members(conn: &mut Conn, group_ids: &[ScimGroupId]) -> Result<Vec<Member>> {
    if group_ids.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=group_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT m.group_id, u.id, u.first_name, u.last_name FROM scim_group_members m \
         JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL \
         WHERE m.group_id IN ({}) ORDER BY m.group_id, u.full_lower, u.id",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in group_ids {
        query = query.bind(id.as_str());
    }
    query
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            let first: String = row.try_get("first_name")?;
            let last: String = row.try_get("last_name")?;
            Ok(Member {
                group_id: row.try_get("group_id")?,
                user_id: row.try_get("id")?,
                display: format!("{first} {last}"),
            })
        })
        .collect()
}

/// Of these ids, those of the partner's people (not deleted), in the
/// order given.
pub async fn people_of_partner(conn: &mut Conn, partner_id: &PartnerId, ids: &[UserId]) -> Result<Vec<UserId>> {
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM users WHERE partner_id = $1 AND deleted_at IS NULL AND id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(partner_id);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert(row.try_get::<UserId, _>("id")?);
        }
    }
    Ok(ids.iter().filter(|id| found.contains(*id)).cloned().collect())
}

/// Adds members; answers those who were not members yet.
pub async fn add_members(conn: &mut Conn, group_id: &ScimGroupId, user_ids: &[UserId]) -> Result<Vec<UserId>> {
    let now = now_millis();
    let mut added = Vec::new();
    for id in user_ids {
        let row = sqlx::query(
            "INSERT INTO scim_group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, user_id) DO NOTHING RETURNING user_id",
        )
        .bind(group_id)
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if row.is_some() {
            added.push(id.clone());
        }
    }
    Ok(added)
}

/// Removes members; answers those who were members.
pub async fn remove_members(conn: &mut Conn, group_id: &ScimGroupId, user_ids: &[UserId]) -> Result<Vec<UserId>> {
    let mut removed = Vec::new();
    for id in user_ids {
        let row = sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1 AND user_id = $2 RETURNING user_id")
            .bind(group_id)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        if row.is_some() {
            removed.push(id.clone());
        }
    }
    Ok(removed)
}

/// The groups a person is a member of.
pub async fn groups_of(conn: &mut Conn, user_id: &UserId) -> Result<Vec<ScimGroupId>> {
    sqlx::query("SELECT group_id FROM scim_group_members WHERE user_id = $1 ORDER BY group_id")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok(row.try_get("group_id")?))
        .collect()
}

/// A page of the partner's groups matching a filter, by name unless a
/// sort is given, and how many match in all. `start` counts from 0.
pub async fn list(
    conn: &mut Conn,
    partner_id: &PartnerId,
    filter: Option<&Filter>,
    sort: Option<crate::scim::Sort>,
    start: i64,
    count: i64,
) -> Result<(i64, Vec<Group>)> {
    let mut binds = vec![Value::Text(partner_id.to_string())];
    let mut condition = "partner_id = $1".to_string();
    if let Some(filter) = filter {
        let sql = filter_sql(filter, &mut binds);
        condition.push_str(&format!(" AND ({sql})"));
    }
    let total_sql = format!("SELECT COUNT(*) AS n FROM scim_groups WHERE {condition}");
    let total: i64 = bind_all(sqlx::query(&total_sql), &binds).fetch_one(&mut *conn).await?.try_get("n")?;
    if count == 0 {
        return Ok((total, vec![]));
    }
    let order = match sort {
        Some(crate::scim::Sort { by, descending }) => {
            format!("{} {}, id", column(by), if descending { "DESC" } else { "ASC" })
        }
        None => "display_lower, id".to_string(),
    };
    let n = binds.len();
    let page_sql = format!(
        "SELECT {COLUMNS} FROM scim_groups WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    binds.push(Value::Int(count));
    binds.push(Value::Int(start));
    let rows = bind_all(sqlx::query(&page_sql), &binds).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(group_from_row).collect::<Result<_>>()?))
}

fn column(attr: Attr) -> &'static str {
    match attr {
        Attr::Id => "id",
        Attr::DisplayName => "display_lower",
        Attr::ExternalId => "external_id",
        Attr::Created => "created_at",
        Attr::LastModified => "updated_at",
        // Members are compared through their own table; the parser gives
        // no user attribute for groups.
        _ => "NULL",
    }
}

fn filter_sql(filter: &Filter, binds: &mut Vec<Value>) -> String {
    match filter {
        Filter::And(a, b) => format!("({}) AND ({})", filter_sql(a, binds), filter_sql(b, binds)),
        Filter::Or(a, b) => format!("({}) OR ({})", filter_sql(a, binds), filter_sql(b, binds)),
        Filter::Not(a) => format!("NOT ({})", filter_sql(a, binds)),
        Filter::Present(Attr::MembersValue) => {
            "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = scim_groups.id)".into()
        }
        Filter::Present(attr) => format!("({0} IS NOT NULL AND {0} <> '')", column(*attr)),
        Filter::Time(attr, op, millis) => number_comparison(column(*attr), *op, *millis, binds),
        Filter::Compare(Attr::MembersValue, op, Literal::Text(value)) => format!(
            "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = scim_groups.id AND {})",
            text_comparison("m.user_id", *op, value, binds)
        ),
        Filter::Compare(attr, op, Literal::Text(value)) => {
            let value = if case_exact(*attr) { value.clone() } else { value.to_lowercase() };
            text_comparison(column(*attr), *op, &value, binds)
        }
        Filter::Compare(..) | Filter::Boolean(..) | Filter::Emails(_) => "1 = 0".into(),
    }
}

/// "Members of this group hold this role", by its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub id: ScimMappingId,
    pub group_id: ScimGroupId,
    pub role: RoleRef,
    pub created_by: UserId,
    pub created_at: i64,
}

const MAPPING_COLUMNS: &str = "id, group_id, application, role, production_id, created_by, created_at";

fn mapping_from_row(row: &AnyRow) -> Result<Mapping> {
    Ok(Mapping {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        role: RoleRef {
            application: row.try_get("application")?,
            role: row.try_get("role")?,
            production: production_of(row)?,
        },
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Maps a group to a role; `None` when the group maps to it already.
pub async fn insert_mapping(
    conn: &mut Conn,
    group_id: &ScimGroupId,
    role: &RoleRef,
    created_by: &UserId,
) -> Result<Option<Mapping>> {
    let mapping = Mapping {
        id: ScimMappingId::from(new_id()),
        group_id: group_id.clone(),
        role: role.clone(),
        created_by: created_by.clone(),
        created_at: now_millis(),
    };
    let inserted = sqlx::query(
        "INSERT INTO scim_group_roles (id, group_id, application, role, production_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&mapping.id)
    .bind(group_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map(|p| p.get()))
    .bind(created_by)
    .bind(mapping.created_at)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(inserted.map(|_| mapping))
}

/// The mappings of some groups, oldest first.
pub async fn mappings(conn: &mut Conn, group_ids: &[ScimGroupId]) -> Result<Vec<Mapping>> {
    if group_ids.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=group_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {MAPPING_COLUMNS} FROM scim_group_roles WHERE group_id IN ({}) ORDER BY group_id, created_at, id",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in group_ids {
        query = query.bind(id.as_str());
    }
    query.fetch_all(&mut *conn).await?.iter().map(mapping_from_row).collect()
}

pub async fn delete_mapping(conn: &mut Conn, id: &ScimMappingId) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM scim_group_roles WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected()
        == 1)
}

/// The grant of this role a person holds that still counts, if any.
pub async fn held_grant(conn: &mut Conn, user_id: &UserId, role: &RoleRef) -> Result<Option<GrantId>> {
    let row = sqlx::query(&format!(
        "SELECT id FROM grants WHERE user_id = $1 AND application = $2 AND role = $3 \
         AND COALESCE(production_id, 0) = $4 AND {}",
        crate::grants::counting("", 5)
    ))
    .bind(user_id)
    .bind(&role.application)
    .bind(&role.role)
    .bind(role.production.map(|p| p.get()).unwrap_or(0))
    .bind(now_millis())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// Notes that a mapping stands behind a person's grant (`owned`: the
/// mapping created it).
pub async fn link(
    conn: &mut Conn,
    mapping_id: &ScimMappingId,
    user_id: &UserId,
    grant_id: &GrantId,
    owned: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO scim_mapped_grants (mapping_id, user_id, grant_id, owned) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (mapping_id, user_id) DO NOTHING",
    )
    .bind(mapping_id)
    .bind(user_id)
    .bind(grant_id)
    .bind(i64::from(owned))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes what a mapping stands behind for some people (all of them when
/// `user_ids` is `None`); answers each removed link's grant and whether a
/// mapping created it.
pub async fn unlink(
    conn: &mut Conn,
    mapping_id: &ScimMappingId,
    user_ids: Option<&[UserId]>,
) -> Result<Vec<(GrantId, bool)>> {
    let rows = match user_ids {
        None => {
            sqlx::query("DELETE FROM scim_mapped_grants WHERE mapping_id = $1 RETURNING grant_id, owned")
                .bind(mapping_id)
                .fetch_all(&mut *conn)
                .await?
        }
        Some(ids) => {
            let mut rows = Vec::new();
            for id in ids {
                rows.extend(
                    sqlx::query(
                        "DELETE FROM scim_mapped_grants WHERE mapping_id = $1 AND user_id = $2 RETURNING grant_id, owned",
                    )
                    .bind(mapping_id)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?,
                );
            }
            rows
        }
    };
    rows.iter()
        .map(|row| {
            let owned: i64 = row.try_get("owned")?;
            Ok((row.try_get("grant_id")?, owned != 0))
        })
        .collect()
}

/// After an owning link went: whether other mappings still stand behind
/// the grant; if so, they own it now.
pub async fn hand_over(conn: &mut Conn, grant_id: &GrantId) -> Result<bool> {
    let moved = sqlx::query("UPDATE scim_mapped_grants SET owned = 1 WHERE grant_id = $1")
        .bind(grant_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(moved > 0)
}
