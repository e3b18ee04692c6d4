use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::domain::{PartnerKind, ProductionId, Title};
use starship_core::ids::PartnerId;

use crate::{new_id, now_millis, Conn, Result, StoreError};

#[derive(Debug, Clone)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    pub kind: PartnerKind,
    pub created_at: i64,
}

fn partner_from_row(r: &AnyRow) -> Result<Partner> {
    let kind: String = r.try_get("kind")?;
    Ok(Partner {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: PartnerKind::parse("kind", &kind).map_err(|e| sqlx::Error::Decode(e.reason.into()))?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert(conn: &mut Conn, name: &Title, kind: PartnerKind) -> Result<Partner> {
    let partner =
        Partner { id: PartnerId::from(new_id()), name: name.as_str().to_string(), kind, created_at: now_millis() };
    sqlx::query("INSERT INTO partners (id, name, name_lower, kind, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&partner.id)
        .bind(&partner.name)
        .bind(partner.name.to_lowercase())
        .bind(kind.as_str())
        .bind(partner.created_at)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::on_unique("a partner with this name already exists"))?;
    Ok(partner)
}

pub async fn get(conn: &mut Conn, id: &PartnerId) -> Result<Option<Partner>> {
    sqlx::query("SELECT id, name, kind, created_at FROM partners WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(partner_from_row)
        .transpose()
}

/// Every partner, or only the one given.
pub async fn list(conn: &mut Conn, only: Option<&PartnerId>) -> Result<Vec<Partner>> {
    let rows = match only {
        Some(id) => {
            sqlx::query("SELECT id, name, kind, created_at FROM partners WHERE id = $1")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query("SELECT id, name, kind, created_at FROM partners ORDER BY name_lower")
                .fetch_all(&mut *conn)
                .await?
        }
    };
    rows.iter().map(partner_from_row).collect()
}

#[derive(Debug, Clone)]
pub struct Production {
    pub id: ProductionId,
    pub title: String,
    pub created_at: i64,
    /// When the production ends (milliseconds), if known: its roles end
    /// then unless granted with an end of their own.
    pub ends_at: Option<i64>,
}

pub async fn insert_production(
    conn: &mut Conn,
    id: ProductionId,
    title: &Title,
    ends_at: Option<i64>,
) -> Result<Production> {
    let production = Production { id, title: title.as_str().to_string(), created_at: now_millis(), ends_at };
    sqlx::query("INSERT INTO productions (id, title, created_at, ends_at) VALUES ($1, $2, $3, $4)")
        .bind(id.get())
        .bind(&production.title)
        .bind(production.created_at)
        .bind(ends_at)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::on_unique("a production with this id already exists"))?;
    Ok(production)
}

pub async fn list_productions(conn: &mut Conn) -> Result<Vec<Production>> {
    sqlx::query("SELECT id, title, created_at, ends_at FROM productions ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(Production {
                id: ProductionId::parse("id", id).map_err(|e| sqlx::Error::Decode(e.reason.into()))?,
                title: r.try_get("title")?,
                created_at: r.try_get("created_at")?,
                ends_at: r.try_get("ends_at")?,
            })
        })
        .collect()
}

/// The end of each of these productions that has one.
pub async fn production_ends(conn: &mut Conn, ids: &[i64]) -> Result<std::collections::HashMap<i64, i64>> {
    let mut ends = std::collections::HashMap::new();
    // A grant request names a handful of productions; chunks keep any list
    // within both stores' parameter limits.
    for chunk in ids.chunks(1_000) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| crate::placeholder(conn, n)).collect();
        let sql =
            format!("SELECT id, ends_at FROM productions WHERE id IN ({}) AND ends_at IS NOT NULL", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            ends.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    Ok(ends)
}

pub async fn production_exists(conn: &mut Conn, id: ProductionId) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM productions WHERE id = $1")
        .bind(id.get())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Whether the store holds any partner yet (the demo loads only into an empty one).
pub async fn is_empty(conn: &mut Conn) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM partners LIMIT 1").fetch_optional(&mut *conn).await?.is_none()
        && sqlx::query("SELECT 1 FROM users LIMIT 1").fetch_optional(&mut *conn).await?.is_none())
}
