//! Application clients of the OpenID Connect provider: registered, listed,
//! given a new secret and revoked by operators (`authz::manage_clients`),
//! from the API, the pages, the CLI and the demo loader.
//!
//! History is per person: an entry about a client goes to the History of
//! the operator who acted (for the CLI and the demo loader, which act for
//! no one, the first operator account), with the source `oidc`.

use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::catalogue::Catalogue;
use starship_core::domain::Title;
use starship_core::error::both;
use starship_core::history::Kind;
use starship_core::ids::{ApplicationClientId, ClientId, UserId};
use starship_core::oidc::Registration;
use starship_core::FieldError;
use starship_store::clients::{self, Client, NewClient};
use starship_store::history::{self, Actor, Source};
use starship_store::{users, Conn};

use crate::ops::{OperationError, OperationResult};
use crate::security::{new_secret, secret_hash};
use crate::state::AppState;

/// A client and its secret, shown this once: only its hash is stored.
pub struct Issued {
    pub client: Client,
    pub secret: String,
}

/// What an operator asks for.
pub struct Request<'a> {
    pub application: &'a str,
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    /// `None`: the code flow with refresh tokens.
    pub grant_types: Option<&'a [String]>,
}

/// The same actor, recorded with the source `oidc`.
fn oidc(actor: &Actor) -> Actor {
    Actor { source: Source::Oidc, ..actor.clone() }
}

/// A client's secret: 256 random bits.
fn client_secret() -> String {
    new_secret("scs_")
}

/// Registers a client inside the caller's transaction; its History entry
/// goes to `history_user`'s History.
pub async fn issue(
    conn: &mut Conn,
    catalogue: &Catalogue,
    history_user: &UserId,
    actor: &Actor,
    request: &Request<'_>,
) -> OperationResult<Issued> {
    let client_id = ClientId::from(format!("{}-{}", request.application, &secret_hash(&new_secret(""))[..16]));
    issue_as(conn, catalogue, history_user, actor, request, &client_id, client_secret()).await
}

/// Registers a client with a `client_id` and secret chosen by the caller:
/// the demo data's, which its README names.
pub async fn issue_as(
    conn: &mut Conn,
    catalogue: &Catalogue,
    history_user: &UserId,
    actor: &Actor,
    request: &Request<'_>,
    client_id: &ClientId,
    secret: String,
) -> OperationResult<Issued> {
    let application = match catalogue.application(request.application) {
        Some(a) => Ok(a.key.clone()),
        None => Err(FieldError::new("application", "is not an application of the catalogue")),
    };
    let (application, name) = both(application, Title::parse("name", request.name))?;
    let registration = Registration::parse(request.redirect_uris, request.grant_types)?;
    let redirect_uris: Vec<String> = registration.redirect_uris.iter().map(|u| u.as_str().to_string()).collect();
    let grant_types: Vec<String> = registration.grant_types.iter().map(|g| g.as_str().to_string()).collect();
    let client = clients::insert(
        conn,
        NewClient {
            client_id,
            secret_hash: &secret_hash(&secret),
            application: &application,
            name: name.as_str(),
            redirect_uris: &redirect_uris,
            grant_types: &grant_types,
            created_by: actor.user_id.as_ref(),
        },
    )
    .await?;
    history::append(
        conn,
        history_user,
        &oidc(actor),
        Kind::ClientIssued,
        json!({"client_id": client.client_id, "application": client.application, "name": client.name,
               "redirect_uris": client.redirect_uris, "grant_types": client.grant_types}),
    )
    .await?;
    Ok(Issued { client, secret })
}

/// Registers a client for the signed-in operator.
pub async fn create(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    request: &Request<'_>,
) -> OperationResult<Issued> {
    let by = caller.person()?;
    authz::manage_clients(caller)?;
    let mut tx = state.store.begin().await?;
    let issued = issue(&mut tx, &state.catalogue, by, actor, request).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Registers a client on behalf of no signed-in person (the CLI): its
/// History entry goes to the first operator account, and there must be one.
pub async fn create_as_platform(
    store: &starship_store::Store,
    catalogue: &Catalogue,
    actor: &Actor,
    request: &Request<'_>,
) -> OperationResult<Issued> {
    let mut tx = store.begin().await?;
    let Some(operator) = users::first_operator(&mut tx).await? else {
        return Err(OperationError::Conflict(
            "there is no operator account to record this in History: create one first (starshipd operator create)"
                .into(),
        ));
    };
    let issued = issue(&mut tx, catalogue, &operator, actor, request).await?;
    tx.commit().await?;
    Ok(issued)
}

/// Every live client (operators).
pub async fn list(state: &AppState, caller: &Principal) -> OperationResult<Vec<Client>> {
    authz::manage_clients(caller)?;
    let mut conn = state.store.conn().await?;
    Ok(clients::list(&mut conn).await?)
}

/// Revokes a client at once: it no longer authenticates, and every token
/// it was given ends.
pub async fn revoke(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    id: &ApplicationClientId,
) -> OperationResult<Client> {
    let by = caller.person()?;
    authz::manage_clients(caller)?;
    let mut tx = state.store.begin().await?;
    let client = clients::revoke(&mut tx, id).await?.ok_or(OperationError::NotFound)?;
    // Whatever the client was given ends with it, service tokens included.
    starship_store::oidc::end_families_of_client(&mut tx, &client.id, "client revoked").await?;
    history::append(
        &mut tx,
        by,
        &oidc(actor),
        Kind::ClientRevoked,
        json!({"client_id": client.client_id, "application": client.application, "name": client.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(client)
}

/// Gives a client a new secret; the old one stops working at once.
pub async fn rotate_secret(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    id: &ApplicationClientId,
) -> OperationResult<Issued> {
    let by = caller.person()?;
    authz::manage_clients(caller)?;
    let secret = client_secret();
    let mut tx = state.store.begin().await?;
    let client = clients::set_secret(&mut tx, id, &secret_hash(&secret)).await?.ok_or(OperationError::NotFound)?;
    history::append(
        &mut tx,
        by,
        &oidc(actor),
        Kind::ClientSecretRotated,
        json!({"client_id": client.client_id, "application": client.application, "name": client.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(Issued { client, secret })
}
