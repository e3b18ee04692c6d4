use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::authz::Principal;
use starship_core::catalogue::{AdminScope, RoleRef};
use starship_core::domain::{Email, Locale, PersonName, Phone, ProductionId, UserStatus};
use starship_core::ids::{PartnerId, UserId, NO_PARTNER};

use crate::{grouped, new_id, now_millis, prefix_upper_bound, Conn, Result, StoreError, Value};

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub partner_id: Option<PartnerId>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    pub phone: Option<String>,
    pub operator: bool,
    pub status: UserStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the person was deactivated: no sign-in, roles not counting,
    /// everything kept for reactivation.
    pub deactivated_at: Option<i64>,
}

impl User {
    /// The partner the person belongs to, for the rules: an operator's
    /// account answers `NO_PARTNER`, which only operators see.
    pub fn partner(&self) -> &PartnerId {
        self.partner_id.as_ref().unwrap_or(&NO_PARTNER)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

pub(crate) const COLUMNS: &str =
    "id, partner_id, email, first_name, last_name, locale, phone, operator, status, created_at, updated_at, deactivated_at";

pub(crate) fn user_from_row(r: &AnyRow) -> Result<User> {
    let operator: i64 = r.try_get("operator")?;
    let status: String = r.try_get("status")?;
    Ok(User {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        email: r.try_get("email")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        locale: r.try_get("locale")?,
        phone: r.try_get("phone")?,
        operator: operator != 0,
        status: UserStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown status {status}").into()))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        deactivated_at: r.try_get("deactivated_at")?,
    })
}

/// A person to add: a partner's user or contact, or a platform operator
/// (who has no partner).
pub struct NewUser<'a> {
    pub partner_id: Option<&'a PartnerId>,
    pub email: &'a Email,
    pub first_name: &'a PersonName,
    pub last_name: &'a PersonName,
    pub locale: Locale,
    pub phone: Option<&'a str>,
    pub status: UserStatus,
    pub password_hash: Option<&'a str>,
}

pub const EMAIL_TAKEN: &str = "a user with this email already exists";

pub async fn insert(conn: &mut Conn, new: &NewUser<'_>) -> Result<User> {
    let mut inserted = insert_many(conn, std::slice::from_ref(new)).await?;
    Ok(inserted.remove(0))
}

const INSERT_COLUMNS: [&str; 16] = [
    "id",
    "partner_id",
    "email",
    "email_lower",
    "first_name",
    "last_name",
    "first_lower",
    "last_lower",
    "full_lower",
    "locale",
    "phone",
    "operator",
    "status",
    "password_hash",
    "created_at",
    "updated_at",
];

/// Inserts every user in one go (the bulk import path); an email already
/// taken fails the whole batch.
pub async fn insert_many(conn: &mut Conn, new: &[NewUser<'_>]) -> Result<Vec<User>> {
    let now = now_millis();
    let mut users = Vec::with_capacity(new.len());
    let mut rows = Vec::with_capacity(new.len());
    for n in new {
        let user = User {
            id: UserId::from(new_id()),
            partner_id: n.partner_id.cloned(),
            email: n.email.as_str().to_string(),
            first_name: n.first_name.as_str().to_string(),
            last_name: n.last_name.as_str().to_string(),
            locale: n.locale.as_str().to_string(),
            phone: n.phone.map(str::to_string),
            operator: n.partner_id.is_none(),
            status: n.status,
            created_at: now,
            updated_at: now,
            deactivated_at: None,
        };
        let (first_lower, last_lower, full_lower) = search_keys(&user.first_name, &user.last_name);
        rows.push(vec![
            Value::Text(user.id.to_string()),
            Value::NullableText(user.partner_id.as_deref().map(str::to_string)),
            Value::Text(user.email.clone()),
            Value::Text(n.email.normalized()),
            Value::Text(user.first_name.clone()),
            Value::Text(user.last_name.clone()),
            Value::Text(first_lower),
            Value::Text(last_lower),
            Value::Text(full_lower),
            Value::Text(user.locale.clone()),
            Value::NullableText(user.phone.clone()),
            Value::Int(i64::from(user.operator)),
            Value::Text(user.status.as_str().to_string()),
            Value::NullableText(n.password_hash.map(str::to_string)),
            Value::Int(now),
            Value::Int(now),
        ]);
        users.push(user);
    }
    crate::insert_many(conn, "users", &INSERT_COLUMNS, rows).await.map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(EMAIL_TAKEN),
        other => other,
    })?;
    Ok(users)
}

/// Which of these lower-cased emails are taken already.
pub async fn taken_emails(conn: &mut Conn, emails_lower: &[String]) -> Result<Vec<String>> {
    Ok(owners_of_emails(conn, emails_lower).await?.into_iter().map(|(email, _)| email).collect())
}

/// The taken emails among these lower-cased ones, each with the partner of
/// the person holding it (`None` for operators).
pub async fn owners_of_emails(conn: &mut Conn, emails_lower: &[String]) -> Result<Vec<(String, Option<PartnerId>)>> {
    let mut taken = Vec::new();
    for chunk in emails_lower.chunks(1000) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| crate::placeholder(conn, i)).collect();
        let sql =
            format!("SELECT email_lower, partner_id FROM users WHERE email_lower IN ({})", placeholders.join(", "));
        let mut query = sqlx::query(&sql);
        for email in chunk {
            query = query.bind(email);
        }
        for row in query.fetch_all(&mut *conn).await? {
            taken.push((row.try_get("email_lower")?, row.try_get("partner_id")?));
        }
    }
    Ok(taken)
}

/// What a partner's user is told about an address another partner's
/// person holds: addresses are unique across partners, but whose they are
/// is nobody else's business.
pub const EMAIL_UNAVAILABLE: &str =
    "this address cannot be used for a new person; if it is right, ask a Starship operator";

fn search_keys(first: &str, last: &str) -> (String, String, String) {
    let first = first.to_lowercase();
    let last = last.to_lowercase();
    let full = format!("{first} {last}");
    (first, last, full)
}

pub async fn get(conn: &mut Conn, id: &UserId) -> Result<Option<User>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

/// The people of these ids (deleted ones left out), in no set order: one
/// query per thousand ids rather than one per person.
pub async fn get_many(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<User>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| crate::placeholder(conn, n)).collect();
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id IN ({}) AND deleted_at IS NULL", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.push(user_from_row(&row)?);
        }
    }
    Ok(found)
}

/// The first operator account made (by creation): whose History records
/// platform changes made on behalf of no signed-in person (the CLI, the
/// demo loader).
pub async fn first_operator(conn: &mut Conn) -> Result<Option<UserId>> {
    Ok(sqlx::query("SELECT id FROM users WHERE operator = 1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

pub async fn get_by_email(conn: &mut Conn, email: &Email) -> Result<Option<User>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE email_lower = $1"))
        .bind(email.normalized())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
}

/// The user and their password hash, for signing in. Compares the email
/// case-insensitively.
pub async fn credentials(conn: &mut Conn, email_lower: &str) -> Result<Option<(User, Option<String>)>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS}, password_hash FROM users WHERE email_lower = $1"))
        .bind(email_lower)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(Some((user_from_row(&r)?, r.try_get("password_hash")?))),
        None => Ok(None),
    }
}

pub async fn set_password(conn: &mut Conn, id: &UserId, password_hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $2, status = 'active', updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Default)]
pub struct ProfileChanges {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub locale: Option<Locale>,
    pub phone: Option<Option<Phone>>,
}

pub async fn update_profile(conn: &mut Conn, user: &User, changes: &ProfileChanges) -> Result<User> {
    let mut updated = user.clone();
    if let Some(v) = &changes.first_name {
        updated.first_name = v.as_str().to_string();
    }
    if let Some(v) = &changes.last_name {
        updated.last_name = v.as_str().to_string();
    }
    if let Some(v) = changes.locale {
        updated.locale = v.as_str().to_string();
    }
    if let Some(v) = &changes.phone {
        updated.phone = v.as_ref().map(|p| p.as_str().to_string());
    }
    updated.updated_at = now_millis();
    let (first_lower, last_lower, full_lower) = search_keys(&updated.first_name, &updated.last_name);
    sqlx::query(
        "UPDATE users SET first_name = $2, last_name = $3, first_lower = $4, last_lower = $5, full_lower = $6, \
         locale = $7, phone = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(&updated.id)
    .bind(&updated.first_name)
    .bind(&updated.last_name)
    .bind(first_lower)
    .bind(last_lower)
    .bind(full_lower)
    .bind(&updated.locale)
    .bind(&updated.phone)
    .bind(updated.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(updated)
}

/// The caller as the rules see it: identity plus every role and admin
/// privilege held, in two indexed lookups.
pub async fn principal(conn: &mut Conn, user: &User) -> Result<Principal> {
    let roles = roles_of(conn, &user.id).await?;
    let admin = sqlx::query("SELECT application, production_id FROM admin_privileges WHERE user_id = $1")
        .bind(&user.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(AdminScope { application: r.try_get("application")?, production: production_of(r)? }))
        .collect::<Result<_>>()?;
    Ok(Principal {
        account: Some(user.id.clone()),
        partner_id: user.partner_id.clone(),
        operator: user.operator,
        roles,
        admin,
    })
}

fn role_ref(r: &AnyRow) -> Result<RoleRef> {
    Ok(RoleRef { application: r.try_get("application")?, role: r.try_get("role")?, production: production_of(r)? })
}

pub async fn roles_of(conn: &mut Conn, user_id: &UserId) -> Result<Vec<RoleRef>> {
    sqlx::query(&format!(
        "SELECT application, role, production_id FROM grants WHERE user_id = $1 AND {}",
        crate::grants::counting("", 2)
    ))
    .bind(user_id)
    .bind(now_millis())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(role_ref)
    .collect()
}

/// The roles of every person of a partner, by user id: one query for a
/// whole list.
pub async fn roles_of_partner_users(
    conn: &mut Conn,
    partner_id: &PartnerId,
) -> Result<std::collections::HashMap<UserId, Vec<RoleRef>>> {
    let rows = sqlx::query(&format!(
        "SELECT g.user_id, g.application, g.role, g.production_id FROM grants g JOIN users u ON u.id = g.user_id \
         WHERE u.partner_id = $1 AND {}",
        crate::grants::counting("g", 2)
    ))
    .bind(partner_id)
    .bind(now_millis())
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "user_id", role_ref)
}

pub(crate) fn production_of(r: &AnyRow) -> Result<Option<ProductionId>> {
    let id: Option<i64> = r.try_get("production_id")?;
    id.map(|id| {
        ProductionId::parse("production_id", id).map_err(|e| StoreError::Database(sqlx::Error::Decode(e.reason.into())))
    })
    .transpose()
}

pub const SEARCH_LIMIT_MAX: i64 = 100;

/// The shortest query that also matches inside names and emails: trigrams
/// need three characters, so shorter ones match prefixes only.
pub const INFIX_MIN_CHARS: usize = 3;

/// How many matches inside names and emails one search ranks at least: the
/// first ones the trigram index yields (more when a page needs them). A
/// query that common (three letters inside thousands of names) is narrowed
/// by typing on; prefix matches are found by their own index ranges and
/// always come first.
pub const INFIX_CANDIDATES: i64 = 50;

/// Search on first name, last name, "first last" and email, best matches
/// first: an exact email or name, then name prefixes, then email prefixes
/// (each an index range), then, for three characters or more, matches
/// anywhere inside a name or an email (a trigram index, see
/// `inside_matches`), closest first; alphabetical within a rank.
pub async fn search(conn: &mut Conn, partner_id: Option<&PartnerId>, query: &str, limit: i64) -> Result<Vec<User>> {
    search_matching(conn, partner_id, query, limit, true).await
}

/// `search` with the prefix matches only, whatever the query's length:
/// what every query got before matches inside names (the benchmark
/// measures the two side by side).
pub async fn search_prefixes(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    query: &str,
    limit: i64,
) -> Result<Vec<User>> {
    search_matching(conn, partner_id, query, limit, false).await
}

async fn search_matching(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    query: &str,
    limit: i64,
    inside: bool,
) -> Result<Vec<User>> {
    let needle = query.trim().to_lowercase();
    let Some(upper) = prefix_upper_bound(&needle) else {
        return Ok(vec![]);
    };
    let limit = limit.clamp(1, SEARCH_LIMIT_MAX);
    let mut found = prefix_matches(conn, partner_id, &needle, &upper, limit).await?;
    // A match inside ranks after every prefix match (an exact match is a
    // prefix match too), so a page the prefixes fill is the whole answer,
    // and otherwise the prefixes found are all there are.
    let wanted = limit - found.len() as i64;
    if inside && wanted > 0 && needle.chars().count() >= INFIX_MIN_CHARS {
        let candidates = INFIX_CANDIDATES.max(limit + found.len() as i64);
        let seen: std::collections::HashSet<UserId> = found.iter().map(|u| u.id.clone()).collect();
        let inside = inside_matches(conn, partner_id, &needle, candidates, limit).await?;
        found.extend(inside.into_iter().filter(|u| !seen.contains(&u.id)).take(wanted as usize));
    }
    Ok(found)
}

/// The prefix half of `search`: exact matches, then first name, last name
/// or "first last", then email prefixes, each arm an index range that
/// stops after `limit` rows.
async fn prefix_matches(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    needle: &str,
    upper: &str,
    limit: i64,
) -> Result<Vec<User>> {
    let partner_filter = if partner_id.is_some() { "partner_id = $4 AND" } else { "CAST($4 AS TEXT) IS NULL AND" };
    let arm = |tier: u8, column: &str| {
        format!(
            "SELECT * FROM (SELECT id, {tier} AS tier FROM users \
             WHERE {partner_filter} {column} >= $1 AND {column} < $2 \
             AND deleted_at IS NULL ORDER BY {column} LIMIT $3) AS arm{tier}"
        )
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM users JOIN ( \
           SELECT id AS match_id, MIN(tier) AS best FROM ({} UNION ALL {} UNION ALL {}) AS matches GROUP BY id \
         ) AS m ON m.match_id = users.id \
         ORDER BY CASE WHEN users.email_lower = $5 OR users.full_lower = $5 THEN 0 ELSE 1 END, m.best, \
         users.full_lower, users.id \
         LIMIT $3",
        arm(1, "full_lower"),
        arm(2, "last_lower"),
        arm(3, "email_lower"),
    );
    sqlx::query(&sql)
        .bind(needle)
        .bind(upper)
        .bind(limit)
        .bind(partner_id)
        .bind(needle)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
}

/// People with `needle` anywhere inside "first last email": the first
/// `candidates` found, closest first, then by name. Closest is the
/// shorter text on both stores: every candidate holds the whole needle,
/// so the share of its trigrams the needle has (FTS5's bm25 for a single
/// phrase, `pg_trgm`'s `similarity`) grows as its text shortens, and the
/// length is read without computing either (`similarity` on 50
/// candidates cost 0.3 ms more at 1,000,000 people).
///
/// SQLite asks the FTS5 trigram table `users_search` for the needle as
/// one phrase, within the partner's rowid range (migration 0025), so
/// FTS5 reads only that partner's part of each trigram's list and stops at
/// the candidates. It ranks on the people's own text rather than bm25,
/// whose weight of a phrase counts its matches in the whole table first.
/// PostgreSQL reads all of a small partner (`SMALL_SCOPE`) row by row;
/// otherwise it asks the `pg_trgm` GIN index on (partner, text with its
/// separators read as letters), kept in nine parts of the people of
/// doubling size, smallest first until it has the candidates, through
/// `users_inside_candidates` (migration 0028): a common piece is found in
/// the first parts' short lists, a rare one reads them all.
async fn inside_matches(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    needle: &str,
    candidates: i64,
    limit: i64,
) -> Result<Vec<User>> {
    // $1 the needle, $2 the candidates, $3 the page; the rest per arm.
    let ranked = |candidates_sql: &str| {
        format!(
            "SELECT {COLUMNS} FROM users JOIN ({candidates_sql} LIMIT $2) AS m ON m.match_id = users.id \
             WHERE users.deleted_at IS NULL \
             ORDER BY length(users.full_lower || ' ' || users.email_lower), users.full_lower, users.id LIMIT $3"
        )
    };
    let rows = if conn.backend_name() == "SQLite" {
        let (first, last) = match partner_id {
            Some(partner) => match search_scope(conn, partner).await? {
                Some(scope) => (scope << 32, (scope << 32) | 0xFFFF_FFFF),
                None => return Ok(vec![]),
            },
            None => (0, i64::MAX),
        };
        let sql = ranked(
            "SELECT users_search_rows.user_id AS match_id FROM users_search \
             JOIN users_search_rows ON users_search_rows.row = users_search.rowid \
             WHERE users_search MATCH $4 AND users_search.rowid BETWEEN $5 AND $6",
        );
        let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
        sqlx::query(&sql)
            .bind(needle)
            .bind(candidates)
            .bind(limit)
            .bind(phrase)
            .bind(first)
            .bind(last)
            .fetch_all(&mut *conn)
            .await?
    } else {
        let candidates_sql = match partner_id {
            // All of a small partner's people row by row from one covering
            // index (0025), cheaper than asking every part of the trigram
            // index; a larger partner's through `users_inside_candidates`.
            // Whether the partner is small is read once, in the same query.
            Some(_) => {
                "WITH scope AS MATERIALIZED \
                   (SELECT EXISTS (SELECT 1 FROM users WHERE partner_id = $4 OFFSET $5) AS large) \
                 SELECT id AS match_id FROM users \
                 WHERE NOT (SELECT large FROM scope) AND partner_id = $4 AND deleted_at IS NULL \
                   AND strpos(full_lower || ' ' || email_lower, $1) > 0 \
                 UNION ALL SELECT users_inside_candidates($4, $1, $2) WHERE (SELECT large FROM scope)"
            }
            // Across partners: the trigram index, part by part until the
            // candidates are found (migration 0028).
            None => "SELECT users_inside_candidates(NULL, $1, $2) AS match_id",
        };
        let sql = ranked(candidates_sql);
        let query = sqlx::query(&sql).bind(needle).bind(candidates).bind(limit);
        match partner_id {
            Some(partner) => query.bind(partner).bind(SMALL_SCOPE),
            None => query,
        }
        .fetch_all(&mut *conn)
        .await?
    };
    rows.iter().map(user_from_row).collect()
}

/// On PostgreSQL, the most people a partner may have for a search inside
/// names to read them all row by row rather than ask the trigram index
/// (measured at 1,000,000 people, BENCHMARKS.md "Search inside names").
/// Telling a larger partner costs a walk over this many index entries.
pub const SMALL_SCOPE: i64 = 2_000;

/// A partner's number in the SQLite trigram table's rowids (migration
/// 0025); none until the partner has had a person.
async fn search_scope(conn: &mut Conn, partner_id: &PartnerId) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT scope FROM users_search_scopes WHERE partner_id = $1")
        .bind(partner_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("scope"))
        .transpose()?)
}

/// The orders a list of people can take, each an index of `users` (with
/// and without the partner first, 0001 and 0023): by name, by email, or
/// the last changed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    #[default]
    Name,
    Email,
    Changed,
}

impl ListOrder {
    pub const ALL: [ListOrder; 3] = [ListOrder::Name, ListOrder::Email, ListOrder::Changed];

    pub fn as_str(self) -> &'static str {
        match self {
            ListOrder::Name => "name",
            ListOrder::Email => "email",
            ListOrder::Changed => "changed",
        }
    }

    pub fn parse(text: &str) -> Option<ListOrder> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// The key columns, and whether they run downwards.
    fn keys(self) -> (&'static [&'static str], bool) {
        match self {
            ListOrder::Name => (&["full_lower", "id"], false),
            ListOrder::Email => (&["email_lower"], false),
            ListOrder::Changed => (&["updated_at", "id"], true),
        }
    }
}

/// Where a page of a list starts: at the top, just after a person, or
/// just before one (the previous page).
#[derive(Debug, Clone, Copy)]
pub enum PageFrom<'a> {
    Top,
    After(&'a str),
    Before(&'a str),
}

/// One page of people (a partner's, or everyone's for `None`) in `order`,
/// keyset-paged from a person of that same list: every page costs one
/// index range, however deep. Returns the page in display order and
/// whether more people lie beyond it in the direction it was read. A
/// cursor outside the list (another partner's person, a deleted or
/// unknown id) gives an empty page.
pub async fn list(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    order: ListOrder,
    from: PageFrom<'_>,
    limit: i64,
) -> Result<(Vec<User>, bool)> {
    let mut filter = Filter::of(partner_id);
    keyset_page(conn, partner_id, &mut filter, order, from, limit).await
}

/// The conditions a list of people is read under, its values bound as
/// `$1`, `$2`, … in order.
struct Filter {
    sql: String,
    values: Vec<Value>,
}

impl Filter {
    /// People not deleted, of this partner (or everyone's).
    fn of(partner_id: Option<&PartnerId>) -> Filter {
        let mut filter = Filter { sql: "deleted_at IS NULL".to_string(), values: vec![] };
        if let Some(partner) = partner_id {
            let mark = filter.value(Value::Text(partner.to_string()));
            filter.and(&format!("partner_id = {mark}"));
        }
        filter
    }

    fn value(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
    }

    fn query<'q>(&self, sql: &'q str) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut query = sqlx::query(sql);
        for value in &self.values {
            query = match value.clone() {
                Value::Text(v) => query.bind(v),
                Value::NullableText(v) => query.bind(v),
                Value::Int(v) => query.bind(v),
                Value::NullableInt(v) => query.bind(v),
            };
        }
        query
    }
}

/// How many people `filter` lists.
async fn count(conn: &mut Conn, filter: &Filter) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) AS n FROM users WHERE {}", filter.sql);
    Ok(filter.query(&sql).fetch_one(&mut *conn).await?.try_get("n")?)
}

/// A page of the people `filter` lists in `order` from `from`, whose
/// cursor must be a person of `partner_id` (everyone's for `None`); see
/// `list`.
async fn keyset_page(
    conn: &mut Conn,
    partner_id: Option<&PartnerId>,
    filter: &mut Filter,
    order: ListOrder,
    from: PageFrom<'_>,
    limit: i64,
) -> Result<(Vec<User>, bool)> {
    let (keys, descending) = order.keys();
    let (cursor, backwards) = match from {
        PageFrom::Top => (None, false),
        PageFrom::After(id) => (Some(id), false),
        PageFrom::Before(id) => (Some(id), true),
    };
    // Reading backwards walks the index the other way, then turns the page round.
    let downwards = descending != backwards;
    if let Some(id) = cursor {
        let scope = if partner_id.is_some() { "AND partner_id = $2" } else { "AND CAST($2 AS TEXT) IS NULL" };
        let row = sqlx::query(&format!(
            "SELECT full_lower, email_lower, updated_at, id FROM users WHERE id = $1 {scope} AND deleted_at IS NULL"
        ))
        .bind(id)
        .bind(partner_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok((vec![], false));
        };
        let mut marks = Vec::new();
        for key in keys {
            let value =
                if *key == "updated_at" { Value::Int(row.try_get(*key)?) } else { Value::Text(row.try_get(*key)?) };
            marks.push(filter.value(value));
        }
        let op = if downwards { "<" } else { ">" };
        filter.and(&format!("({}) {op} ({})", keys.join(", "), marks.join(", ")));
    }
    let limit = limit.clamp(1, LIST_LIMIT_MAX);
    let direction = if downwards { "DESC" } else { "ASC" };
    let order_by: Vec<String> = keys.iter().map(|k| format!("{k} {direction}")).collect();
    let limit_mark = filter.value(Value::Int(limit + 1));
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE {} ORDER BY {} LIMIT {limit_mark}", filter.sql, order_by.join(", "));
    let mut people: Vec<User> =
        filter.query(&sql).fetch_all(&mut *conn).await?.iter().map(user_from_row).collect::<Result<_>>()?;
    let more = people.len() as i64 > limit;
    people.truncate(limit as usize);
    if backwards {
        people.reverse();
    }
    Ok((people, more))
}

/// The most people one page of a list holds.
pub const LIST_LIMIT_MAX: i64 = 200;

/// Which people of a partner the Applications tab lists.
#[derive(Debug, Clone, Default)]
pub struct AppUsersFilter<'a> {
    /// Everyone of the partner, not only those holding a role in the
    /// application (ignored when `role` or `production` is set).
    pub everyone: bool,
    pub role: Option<&'a str>,
    pub production: Option<i64>,
    /// A production admin's reach: only people holding a role of the
    /// application on one of these.
    pub reach: Option<&'a [i64]>,
    pub status: Option<StatusFilter>,
    /// The start of "first last".
    pub name_prefix: Option<&'a str>,
}

/// The states a list of people is filtered by: waiting for their
/// activation, able to sign in, or deactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Pending,
    Active,
    Deactivated,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [StatusFilter::Pending, StatusFilter::Active, StatusFilter::Deactivated];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Pending => "pending",
            StatusFilter::Active => "active",
            StatusFilter::Deactivated => "deactivated",
        }
    }

    pub fn parse(text: &str) -> Option<StatusFilter> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A person's state in these words, if it is one of them.
    pub fn of(user: &User) -> Option<StatusFilter> {
        match (user.deactivated_at, user.status) {
            (Some(_), _) => Some(StatusFilter::Deactivated),
            (None, UserStatus::Pending) => Some(StatusFilter::Pending),
            (None, UserStatus::Active) => Some(StatusFilter::Active),
            _ => None,
        }
    }
}

/// One page of a partner's people for the Applications tab of
/// `application`, in name order and keyset-paged like `list`, with how
/// many the filter lists in all. Holding a role means a grant that counts
/// (`grants::counting`).
pub async fn application_users(
    conn: &mut Conn,
    partner_id: &PartnerId,
    application: &str,
    filter: &AppUsersFilter<'_>,
    from: PageFrom<'_>,
    limit: i64,
) -> Result<(Vec<User>, bool, i64)> {
    let mut sql = Filter::of(Some(partner_id));
    let holders_only =
        !filter.everyone || filter.role.is_some() || filter.production.is_some() || filter.reach.is_some();
    if holders_only {
        let app = sql.value(Value::Text(application.to_string()));
        let mut holding = format!("application = {app}");
        if let Some(role) = filter.role {
            let mark = sql.value(Value::Text(role.to_string()));
            holding.push_str(&format!(" AND role = {mark}"));
        }
        if let Some(production) = filter.production {
            let mark = sql.value(Value::Int(production));
            holding.push_str(&format!(" AND production_id = {mark}"));
        }
        if let Some(reach) = filter.reach {
            if reach.is_empty() {
                return Ok((vec![], false, 0));
            }
            let marks: Vec<String> = reach.iter().map(|p| sql.value(Value::Int(*p))).collect();
            holding.push_str(&format!(" AND production_id IN ({})", marks.join(", ")));
        }
        sql.value(Value::Int(now_millis()));
        let counting = crate::grants::counting("", sql.values.len());
        sql.and(&format!("id IN (SELECT user_id FROM grants WHERE {holding} AND {counting})"));
    }
    match filter.status {
        Some(StatusFilter::Deactivated) => sql.and("deactivated_at IS NOT NULL"),
        Some(StatusFilter::Pending) => sql.and("status = 'pending' AND deactivated_at IS NULL"),
        Some(StatusFilter::Active) => sql.and("status = 'active' AND deactivated_at IS NULL"),
        None => {}
    }
    if let Some(prefix) = filter.name_prefix.map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()) {
        let lower = sql.value(Value::Text(prefix.clone()));
        sql.and(&format!("full_lower >= {lower}"));
        if let Some(upper) = prefix_upper_bound(&prefix) {
            let upper = sql.value(Value::Text(upper));
            sql.and(&format!("full_lower < {upper}"));
        }
    }
    let total = count(conn, &sql).await?;
    let (people, more) = keyset_page(conn, Some(partner_id), &mut sql, ListOrder::Name, from, limit).await?;
    Ok((people, more, total))
}

/// One page of a partner's users in name order, after the user `after`
/// (keyset pagination: every page costs the same, however deep).
pub async fn page_of_partner(
    conn: &mut Conn,
    partner_id: &PartnerId,
    after: Option<&str>,
    name_prefix: Option<&str>,
    limit: i64,
) -> Result<Vec<User>> {
    page_of_partner_holding(conn, partner_id, after, name_prefix, None, limit).await
}

/// Like `page_of_partner`, only people holding a role of `application` on
/// one of `productions` when `holding` names them (what a production's admin
/// is shown). The cursor is a user of this partner, or the page is empty: a
/// foreign id behaves exactly like an unknown one.
pub async fn page_of_partner_holding(
    conn: &mut Conn,
    partner_id: &PartnerId,
    after: Option<&str>,
    name_prefix: Option<&str>,
    holding: Option<(&str, &[i64])>,
    limit: i64,
) -> Result<Vec<User>> {
    let prefix = name_prefix.map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty());
    let upper = prefix.as_deref().and_then(prefix_upper_bound);
    // Only the conditions that apply, with the cursor as values: an `x IS NULL
    // OR …` filter keeps SQLite (and PostgreSQL's generic plans) from using
    // the index range, so deep pages would cost more than the first.
    let cursor = match after {
        Some(id) => sqlx::query("SELECT full_lower, id FROM users WHERE id = $1 AND partner_id = $2")
            .bind(id)
            .bind(partner_id)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get::<String, _>("full_lower")?, r.try_get::<String, _>("id")?)))
            .transpose()?,
        None => None,
    };
    if after.is_some() && cursor.is_none() {
        return Ok(vec![]);
    }
    let mut sql = format!("SELECT {COLUMNS} FROM users WHERE partner_id = $1 AND deleted_at IS NULL");
    let mut values: Vec<&str> = vec![partner_id];
    if let Some((name, id)) = &cursor {
        sql.push_str(&format!(" AND (full_lower, id) > (${}, ${})", values.len() + 1, values.len() + 2));
        values.extend([name.as_str(), id.as_str()]);
    }
    if let Some(prefix) = &prefix {
        sql.push_str(&format!(" AND full_lower >= ${}", values.len() + 1));
        values.push(prefix);
        if let Some(upper) = &upper {
            sql.push_str(&format!(" AND full_lower < ${}", values.len() + 1));
            values.push(upper);
        }
    }
    if let Some((application, productions)) = holding {
        if productions.is_empty() {
            return Ok(vec![]);
        }
        // Production ids are numbers of ours, never typed text.
        let listed: Vec<String> = productions.iter().map(i64::to_string).collect();
        sql.push_str(&format!(
            " AND id IN (SELECT user_id FROM grants WHERE application = ${} AND production_id IN ({}) \
             AND (expires_at IS NULL OR expires_at > {}))",
            values.len() + 1,
            listed.join(", "),
            // A number of ours too; an expired grant no longer reaches the person.
            now_millis(),
        ));
        values.push(application);
    }
    sql.push_str(&format!(" ORDER BY full_lower, id LIMIT ${}", values.len() + 1));
    let mut query = sqlx::query(&sql);
    for value in values {
        query = query.bind(value);
    }
    query.bind(limit).fetch_all(&mut *conn).await?.iter().map(user_from_row).collect()
}

/// Deactivates a person (`Some(now)`) or reactivates them (`None`).
/// Returns false when they were in that state already.
pub async fn set_deactivated(conn: &mut Conn, id: &UserId, deactivated: bool) -> Result<bool> {
    let now = now_millis();
    let sql = if deactivated {
        "UPDATE users SET deactivated_at = $2, updated_at = $2 WHERE id = $1 AND deactivated_at IS NULL"
    } else {
        "UPDATE users SET deactivated_at = NULL, updated_at = $2 WHERE id = $1 AND deactivated_at IS NOT NULL"
    };
    Ok(sqlx::query(sql).bind(id).bind(now).execute(&mut *conn).await?.rows_affected() == 1)
}

/// Switches sign-in on or off. Without sign-in the password goes too, so
/// access comes back only through a new invitation.
pub async fn set_status(conn: &mut Conn, id: &UserId, status: UserStatus) -> Result<()> {
    let keep_password = status == UserStatus::Active;
    sqlx::query(
        "UPDATE users SET status = $2, password_hash = CASE WHEN $3 = 1 THEN password_hash ELSE NULL END, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(i64::from(keep_password))
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes a contact: gone from lists, sign-in and search; its History
/// stays, and its address can be used for someone new.
/// Returns false when the contact was deleted meanwhile.
pub async fn mark_deleted(conn: &mut Conn, id: &UserId) -> Result<bool> {
    let now = now_millis();
    Ok(sqlx::query(
        "UPDATE users SET deleted_at = $2, updated_at = $2, status = 'contact', password_hash = NULL, \
         email_lower = '#deleted#' || id WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn change_email(conn: &mut Conn, id: &UserId, email: &Email) -> Result<()> {
    sqlx::query("UPDATE users SET email = $2, email_lower = $3, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(email.as_str())
        .bind(email.normalized())
        .bind(now_millis())
        .execute(&mut *conn)
        .await
        .map_err(StoreError::on_unique(EMAIL_TAKEN))?;
    Ok(())
}
