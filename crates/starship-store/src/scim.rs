//! SCIM: a partner's tokens (hashes only), the external ids of its people,
//! and the directory listing a SCIM filter asks for, translated to SQL with
//! every value bound.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::ids::{PartnerId, ScimTokenId, UserId};
use starship_core::scim_filter::{Attr, EmailFilter, Filter, Literal, Op};

use crate::users::{user_from_row, User, COLUMNS};
use crate::{new_id, now_millis, Conn, Result, Value};

/// A SCIM token as its partner's admins see it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub id: ScimTokenId,
    pub partner_id: PartnerId,
    pub created_by: UserId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "id, partner_id, created_by, name, created_at, last_used_at";

fn token_from_row(row: &AnyRow) -> Result<ScimToken> {
    Ok(ScimToken {
        id: row.try_get("id")?,
        partner_id: row.try_get("partner_id")?,
        created_by: row.try_get("created_by")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

pub async fn insert_token(
    conn: &mut Conn,
    partner_id: &PartnerId,
    created_by: &UserId,
    name: &str,
    token_hash: &str,
) -> Result<ScimToken> {
    let token = ScimToken {
        id: ScimTokenId::from(new_id()),
        partner_id: partner_id.clone(),
        created_by: created_by.clone(),
        name: name.into(),
        created_at: now_millis(),
        last_used_at: None,
    };
    sqlx::query(
        "INSERT INTO scim_tokens (id, partner_id, created_by, token_hash, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&token.id)
    .bind(partner_id)
    .bind(created_by)
    .bind(token_hash)
    .bind(name)
    .bind(token.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// A partner's live tokens, newest first.
pub async fn list_tokens(conn: &mut Conn, partner_id: &PartnerId) -> Result<Vec<ScimToken>> {
    sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE partner_id = $1 AND revoked_at IS NULL \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

/// Revokes one of a partner's tokens; `None` for another partner's, an
/// unknown id or one revoked already.
pub async fn revoke_token(
    conn: &mut Conn,
    partner_id: &PartnerId,
    token_id: &ScimTokenId,
) -> Result<Option<ScimToken>> {
    sqlx::query(&format!(
        "UPDATE scim_tokens SET revoked_at = $3 WHERE id = $1 AND partner_id = $2 AND revoked_at IS NULL \
         RETURNING {TOKEN_COLUMNS}"
    ))
    .bind(token_id)
    .bind(partner_id)
    .bind(now_millis())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(token_from_row)
    .transpose()
}

/// The live token with this hash; notes the use about once a minute.
pub async fn token_by_hash(conn: &mut Conn, token_hash: &str) -> Result<Option<ScimToken>> {
    let Some(token) =
        sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM scim_tokens WHERE token_hash = $1 AND revoked_at IS NULL"))
            .bind(token_hash)
            .fetch_optional(&mut *conn)
            .await?
            .as_ref()
            .map(token_from_row)
            .transpose()?
    else {
        return Ok(None);
    };
    let now = now_millis();
    let stale = now - crate::sessions::LAST_USED_PRECISION_MS;
    if token.last_used_at.is_none_or(|at| at < stale) {
        sqlx::query(
            "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(&token.id)
        .bind(now)
        .bind(stale)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(token))
}

/// A person of a partner's directory with the identity provider's id.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub user: User,
    pub external_id: Option<String>,
    /// The SCIM userName when it is not the email.
    pub user_name: Option<String>,
    /// The enterprise User extension, JSON text.
    pub enterprise: Option<String>,
}

const SCIM_COLUMNS: &str = "external_id, scim_user_name, scim_enterprise";

/// A person's SCIM userName: their own, or their email.
const USER_NAME: &str = "lower(COALESCE(scim_user_name, email))";

fn directory_user(row: &AnyRow) -> Result<DirectoryUser> {
    Ok(DirectoryUser {
        user: user_from_row(row)?,
        external_id: row.try_get("external_id")?,
        user_name: row.try_get("scim_user_name")?,
        enterprise: row.try_get("scim_enterprise")?,
    })
}

/// Whether another person of the partner has this userName already.
pub async fn user_name_taken(conn: &mut Conn, partner_id: &PartnerId, user_name: &str, except: &str) -> Result<bool> {
    Ok(sqlx::query(&format!(
        "SELECT 1 FROM users WHERE partner_id = $1 AND deleted_at IS NULL AND {USER_NAME} = $2 AND id <> $3"
    ))
    .bind(partner_id)
    .bind(user_name.to_lowercase())
    .bind(except)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// Which of these lower-cased userNames people of the partner have
/// already: `user_name_taken` for many names at once.
pub async fn user_names_taken(
    conn: &mut Conn,
    partner_id: &PartnerId,
    user_names_lower: &[String],
) -> Result<std::collections::HashSet<String>> {
    let mut taken = std::collections::HashSet::new();
    for chunk in user_names_lower.chunks(1000) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|n| crate::placeholder(conn, n)).collect();
        let sql = format!(
            "SELECT {USER_NAME} AS name FROM users WHERE partner_id = {} AND deleted_at IS NULL AND {USER_NAME} IN ({})",
            crate::placeholder(conn, 1),
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(partner_id);
        for name in chunk {
            query = query.bind(name);
        }
        for row in query.fetch_all(&mut *conn).await? {
            taken.insert(row.try_get("name")?);
        }
    }
    Ok(taken)
}

/// One person of a partner's directory (not deleted).
pub async fn get_user(conn: &mut Conn, partner_id: &PartnerId, user_id: &UserId) -> Result<Option<DirectoryUser>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS}, {SCIM_COLUMNS} FROM users WHERE id = $1 AND partner_id = $2 AND deleted_at IS NULL"
    ))
    .bind(user_id)
    .bind(partner_id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(directory_user)
    .transpose()
}

/// What SCIM keeps beside a person's profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimFields {
    pub external_id: Option<String>,
    pub user_name: Option<String>,
    pub enterprise: Option<String>,
}

pub async fn set_fields(conn: &mut Conn, user_id: &UserId, fields: &ScimFields) -> Result<()> {
    sqlx::query(
        "UPDATE users SET external_id = $2, scim_user_name = $3, scim_enterprise = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(user_id)
    .bind(fields.external_id.as_deref())
    .bind(fields.user_name.as_deref())
    .bind(fields.enterprise.as_deref())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `set_fields` for many people at once, in as few statements as the
/// stores' parameter limits allow; answers the time every one of them
/// was changed at.
pub async fn set_fields_many(conn: &mut Conn, people: &[(&str, &ScimFields)]) -> Result<i64> {
    const PER_STATEMENT: usize = 5_000;
    let at = now_millis();
    for chunk in people.chunks(PER_STATEMENT) {
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, _) in chunk.iter().enumerate() {
            let marks: Vec<String> = (1..=4).map(|c| crate::placeholder(conn, i * 4 + c + 1)).collect();
            rows.push(format!("({})", marks.join(", ")));
        }
        // A VALUES list's columns are column1… in both stores.
        let sql = format!(
            "UPDATE users SET external_id = v.column2, scim_user_name = v.column3, scim_enterprise = v.column4, \
             updated_at = {} FROM (VALUES {}) AS v WHERE users.id = v.column1",
            crate::placeholder(conn, 1),
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(at);
        for (user_id, fields) in chunk {
            query = query
                .bind(*user_id)
                .bind(fields.external_id.as_deref())
                .bind(fields.user_name.as_deref())
                .bind(fields.enterprise.as_deref());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(at)
}

/// How a listing is ordered.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub by: Attr,
    pub descending: bool,
}

/// A page of a partner's directory matching a filter, and how many match
/// in all. `start` counts from 0.
pub async fn list_users(
    conn: &mut Conn,
    partner_id: &PartnerId,
    filter: Option<&Filter>,
    sort: Option<Sort>,
    start: i64,
    count: i64,
) -> Result<(i64, Vec<DirectoryUser>)> {
    let mut binds = vec![Value::Text(partner_id.to_string())];
    let mut condition = "partner_id = $1 AND deleted_at IS NULL".to_string();
    if let Some(filter) = filter {
        let sql = filter_sql(filter, &mut binds);
        condition.push_str(&format!(" AND ({sql})"));
    }
    let total_sql = format!("SELECT COUNT(*) AS n FROM users WHERE {condition}");
    let total: i64 = bind_all(sqlx::query(&total_sql), &binds).fetch_one(&mut *conn).await?.try_get("n")?;
    if count == 0 {
        return Ok((total, vec![]));
    }
    let order = match sort {
        Some(Sort { by, descending }) => {
            format!("{} {}, id", column(by), if descending { "DESC" } else { "ASC" })
        }
        None => "created_at, id".to_string(),
    };
    let n = binds.len();
    let page_sql = format!(
        "SELECT {COLUMNS}, {SCIM_COLUMNS} FROM users WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    binds.push(Value::Int(count));
    binds.push(Value::Int(start));
    let rows = bind_all(sqlx::query(&page_sql), &binds).fetch_all(&mut *conn).await?;
    Ok((total, rows.iter().map(directory_user).collect::<Result<_>>()?))
}

pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for value in binds {
        query = match value {
            Value::Text(v) => query.bind(v.as_str()),
            Value::NullableText(v) => query.bind(v.as_deref()),
            Value::Int(v) => query.bind(*v),
            Value::NullableInt(v) => query.bind(*v),
        };
    }
    query
}

/// The column (or expression) an attribute reads; text compared
/// case-insensitively reads lower-cased.
fn column(attr: Attr) -> &'static str {
    match attr {
        Attr::Id => "id",
        Attr::UserName => USER_NAME,
        Attr::EmailsValue => "email_lower",
        Attr::ExternalId => "external_id",
        Attr::GivenName => "first_lower",
        Attr::FamilyName => "last_lower",
        Attr::DisplayName => "full_lower",
        Attr::Active => "deactivated_at",
        Attr::Created => "created_at",
        Attr::LastModified => "updated_at",
        // Users have no members: the parser never gives this for them.
        Attr::MembersValue => "NULL",
    }
}

/// Whether an attribute compares case-exactly (RFC 7643: `id` and
/// `externalId` are caseExact).
pub(crate) fn case_exact(attr: Attr) -> bool {
    matches!(attr, Attr::Id | Attr::ExternalId)
}

/// `text` for a LIKE pattern with `ESCAPE '\\'`: its wildcards match themselves.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn push(binds: &mut Vec<Value>, value: Value) -> String {
    binds.push(value);
    format!("${}", binds.len())
}

pub(crate) fn text_comparison(col: &str, op: Op, value: &str, binds: &mut Vec<Value>) -> String {
    let like = |pattern: String, binds: &mut Vec<Value>| {
        format!("{col} LIKE {} ESCAPE '\\'", push(binds, Value::Text(pattern)))
    };
    match op {
        Op::Eq => format!("{col} = {}", push(binds, Value::Text(value.into()))),
        Op::Ne => format!("({col} IS NULL OR {col} <> {})", push(binds, Value::Text(value.into()))),
        Op::Co => like(format!("%{}%", escape_like(value)), binds),
        Op::Sw => like(format!("{}%", escape_like(value)), binds),
        Op::Ew => like(format!("%{}", escape_like(value)), binds),
        Op::Gt => format!("{col} > {}", push(binds, Value::Text(value.into()))),
        Op::Ge => format!("{col} >= {}", push(binds, Value::Text(value.into()))),
        Op::Lt => format!("{col} < {}", push(binds, Value::Text(value.into()))),
        Op::Le => format!("{col} <= {}", push(binds, Value::Text(value.into()))),
    }
}

pub(crate) fn number_comparison(col: &str, op: Op, value: i64, binds: &mut Vec<Value>) -> String {
    let sign = match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        // The parser refuses these on times.
        Op::Co | Op::Sw | Op::Ew => return "1 = 0".into(),
    };
    format!("{col} {sign} {}", push(binds, Value::Int(value)))
}

/// SQL for a filter; every value is a bound parameter appended to `binds`.
fn filter_sql(filter: &Filter, binds: &mut Vec<Value>) -> String {
    match filter {
        Filter::And(a, b) => format!("({}) AND ({})", filter_sql(a, binds), filter_sql(b, binds)),
        Filter::Or(a, b) => format!("({}) OR ({})", filter_sql(a, binds), filter_sql(b, binds)),
        Filter::Not(a) => format!("NOT ({})", filter_sql(a, binds)),
        Filter::Present(Attr::Active) => "1 = 1".into(),
        Filter::Present(attr) => format!("({0} IS NOT NULL AND {0} <> '')", column(*attr)),
        Filter::Boolean(_, true) => "deactivated_at IS NULL".into(),
        Filter::Boolean(_, false) => "deactivated_at IS NOT NULL".into(),
        Filter::Time(attr, op, millis) => number_comparison(column(*attr), *op, *millis, binds),
        Filter::Compare(attr, op, Literal::Text(value)) => {
            let value = if case_exact(*attr) { value.clone() } else { value.to_lowercase() };
            text_comparison(column(*attr), *op, &value, binds)
        }
        Filter::Compare(..) => "1 = 0".into(),
        Filter::Emails(inner) => email_sql(inner, binds),
    }
}

fn email_sql(filter: &EmailFilter, binds: &mut Vec<Value>) -> String {
    match filter {
        EmailFilter::And(a, b) => format!("({}) AND ({})", email_sql(a, binds), email_sql(b, binds)),
        EmailFilter::Or(a, b) => format!("({}) OR ({})", email_sql(a, binds), email_sql(b, binds)),
        EmailFilter::Not(a) => format!("NOT ({})", email_sql(a, binds)),
        EmailFilter::Const(true) => "1 = 1".into(),
        EmailFilter::Const(false) => "1 = 0".into(),
        EmailFilter::Value(op, Literal::Text(value)) => {
            text_comparison("email_lower", *op, &value.to_lowercase(), binds)
        }
        EmailFilter::Value(..) => "1 = 0".into(),
    }
}
