//! Application clients of the OpenID Connect provider. Repository
//! functions over a connection; the rules are the caller's.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::ids::{ApplicationClientId, ClientId, UserId};

use crate::{new_id, now_millis, Conn, Result};

/// A client as operators see it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ApplicationClientId,
    pub client_id: ClientId,
    pub application: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub secret_rotated_at: Option<i64>,
}

const COLUMNS: &str =
    "id, client_id, application, name, redirect_uris, grant_types, created_by, created_at, secret_rotated_at";

fn text_list(row: &AnyRow, column: &str) -> Result<Vec<String>> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

impl Client {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            application: row.try_get("application")?,
            name: row.try_get("name")?,
            redirect_uris: text_list(row, "redirect_uris")?,
            grant_types: text_list(row, "grant_types")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            secret_rotated_at: row.try_get("secret_rotated_at")?,
        })
    }

    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

pub struct NewClient<'a> {
    pub client_id: &'a ClientId,
    pub secret_hash: &'a str,
    pub application: &'a str,
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub grant_types: &'a [String],
    pub created_by: Option<&'a UserId>,
}

pub async fn insert(conn: &mut Conn, new: NewClient<'_>) -> Result<Client> {
    let client = Client {
        id: ApplicationClientId::from(new_id()),
        client_id: new.client_id.clone(),
        application: new.application.to_string(),
        name: new.name.to_string(),
        redirect_uris: new.redirect_uris.to_vec(),
        grant_types: new.grant_types.to_vec(),
        created_by: new.created_by.cloned(),
        created_at: now_millis(),
        secret_rotated_at: None,
    };
    sqlx::query(
        "INSERT INTO oidc_clients (id, client_id, secret_hash, application, name, redirect_uris, grant_types, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&client.id)
    .bind(&client.client_id)
    .bind(new.secret_hash)
    .bind(&client.application)
    .bind(&client.name)
    .bind(serde_json::to_string(&client.redirect_uris).expect("text serializes"))
    .bind(serde_json::to_string(&client.grant_types).expect("text serializes"))
    .bind(&client.created_by)
    .bind(client.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(client)
}

/// Every live client, by application then age.
pub async fn list(conn: &mut Conn) -> Result<Vec<Client>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM oidc_clients WHERE revoked_at IS NULL ORDER BY application, created_at, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(Client::from_row).collect()
}

/// A live client by its record id.
pub async fn get(conn: &mut Conn, id: &ApplicationClientId) -> Result<Option<Client>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM oidc_clients WHERE id = $1 AND revoked_at IS NULL"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| Client::from_row(&r))
        .transpose()
}

/// A live client by the `client_id` it presents, with its secret's hash.
pub async fn by_client_id(conn: &mut Conn, client_id: &ClientId) -> Result<Option<(Client, String)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {COLUMNS}, secret_hash FROM oidc_clients WHERE client_id = $1 AND revoked_at IS NULL"
    ))
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some((Client::from_row(&row)?, row.try_get("secret_hash")?)))
}

/// Revokes a live client; `None` when there is none by that id.
pub async fn revoke(conn: &mut Conn, id: &ApplicationClientId) -> Result<Option<Client>> {
    let Some(client) = get(conn, id).await? else { return Ok(None) };
    let done = sqlx::query("UPDATE oidc_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok((done == 1).then_some(client))
}

/// Replaces a live client's secret; `None` when there is none by that id.
pub async fn set_secret(conn: &mut Conn, id: &ApplicationClientId, secret_hash: &str) -> Result<Option<Client>> {
    let done = sqlx::query(
        "UPDATE oidc_clients SET secret_hash = $2, secret_rotated_at = $3 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(secret_hash)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(None);
    }
    get(conn, id).await
}
