//! Application clients of the OpenID Connect provider (operators).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::domain::Title;
use starship_core::ids::{ApplicationClientId, ClientId};
use starship_core::oidc::GrantType;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::clients::Client;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// The application the client signs people in to (a catalogue key).
    pub application: String,
    #[schema(value_type = Title)]
    pub name: String,
    /// Where the authorization endpoint may send people back, matched
    /// exactly: `https`, or `http` on 127.0.0.1 or localhost; no fragment.
    /// Required for `authorization_code`, empty for a service client.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `authorization_code` and `refresh_token` (a web application, the
    /// default) and/or `client_credentials` (a service).
    #[serde(default)]
    #[schema(value_type = Option<Vec<GrantType>>)]
    pub grant_types: Option<Vec<String>>,
}

/// A registered client, without its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = ApplicationClient)]
pub struct ClientView {
    pub id: ApplicationClientId,
    /// What the application sends as `client_id`.
    pub client_id: ClientId,
    pub application: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[schema(value_type = Vec<GrantType>)]
    pub grant_types: Vec<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_rotated_at: Option<String>,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        Self {
            id: c.id,
            client_id: c.client_id,
            application: c.application,
            name: c.name,
            redirect_uris: c.redirect_uris,
            grant_types: c.grant_types,
            created_at: rfc3339_from_millis(c.created_at),
            secret_rotated_at: c.secret_rotated_at.map(rfc3339_from_millis),
        }
    }
}

/// A client with its secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct IssuedClient {
    #[serde(flatten)]
    pub client: ClientView,
    /// Shown this once; only a hash of it is kept.
    pub client_secret: String,
}

impl From<ops::clients::Issued> for IssuedClient {
    fn from(issued: ops::clients::Issued) -> Self {
        Self { client: issued.client.into(), client_secret: issued.secret }
    }
}

/// Registers an application client (operators). The secret is in this
/// answer only.
#[utoipa::path(post, path = "/api/v1/clients", tag = "platform", request_body = NewClient,
    responses(
        (status = 201, body = IssuedClient),
        (status = 403, description = "Not an operator, or a cross-site request", body = Problem),
        (status = 422, description = "An unknown application, a bad name, redirect URI or grant type", body = Problem),
    ))]
pub async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewClient>,
) -> OperationResult<(StatusCode, axum::Json<IssuedClient>)> {
    let request = ops::clients::Request {
        application: &body.application,
        name: &body.name,
        redirect_uris: &body.redirect_uris,
        grant_types: body.grant_types.as_deref(),
    };
    let issued = ops::clients::create(&state, &caller.principal, &caller.actor(), &request).await?;
    Ok((StatusCode::CREATED, axum::Json(issued.into())))
}

/// Every live application client, by application (operators).
#[utoipa::path(get, path = "/api/v1/clients", tag = "platform",
    responses((status = 200, body = Vec<ClientView>), (status = 403, description = "Not an operator", body = Problem)))]
pub async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
) -> OperationResult<axum::Json<Vec<ClientView>>> {
    let list = ops::clients::list(&state, &caller.principal).await?;
    Ok(axum::Json(list.into_iter().map(ClientView::from).collect()))
}

/// Revokes a client at once (operators): its secret and tokens stop working.
#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "platform", params(("id" = String, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an operator, or a cross-site request", body = Problem),
        (status = 404, description = "No such live client", body = Problem),
    ))]
pub async fn revoke_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplicationClientId>,
) -> OperationResult<StatusCode> {
    ops::clients::revoke(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a client a new secret (operators); the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/clients/{id}/secret", tag = "platform", params(("id" = String, Path, description = "The client's id")),
    responses(
        (status = 200, body = IssuedClient),
        (status = 403, description = "Not an operator, or a cross-site request", body = Problem),
        (status = 404, description = "No such live client", body = Problem),
    ))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApplicationClientId>,
) -> OperationResult<axum::Json<IssuedClient>> {
    let issued = ops::clients::rotate_secret(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(axum::Json(issued.into()))
}
