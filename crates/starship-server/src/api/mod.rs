//! The JSON API under /api/v1. Handlers are thin: parse, ask `authz`, call
//! the store in one transaction, shape the answer.

pub mod accounts;
pub mod appliances;
pub mod clients;
pub mod communications;
pub mod contacts;
pub mod doc;
pub mod grants;
pub mod platform;
pub mod portal;
pub mod preferences;
pub mod reviews;
pub mod scim;
pub mod scim_groups;
pub mod scim_tokens;
pub mod security;
pub mod session;
pub mod sites;
pub mod tickets;
pub mod users;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::routing::{delete, get, post, put};
use axum::Router;
use utoipa::OpenApi;

use crate::ops::OperationError;
use crate::problem::Problem;
use crate::state::AppState;
use doc::Contract;

#[derive(OpenApi)]
#[openapi(
    info(title = "Starship", description = "Self-service onboarding and access management for partners."),
    paths(
        health,
        ready,
        openapi_json,
        session::sign_in,
        session::sign_out,
        session::list_tokens,
        session::create_token,
        session::revoke_token,
        users::me,
        platform::list_partners,
        platform::create_partner,
        platform::list_productions,
        platform::create_production,
        platform::list_applications,
        clients::create_client,
        clients::list_clients,
        clients::revoke_client,
        clients::rotate_secret,
        users::create_user,
        scim_tokens::create,
        scim_tokens::list,
        scim_tokens::revoke,
        scim_groups::list_scim_groups,
        scim_groups::map_group_role,
        scim_groups::unmap_group_role,
        users::bulk_add,
        users::search,
        users::get_user,
        users::patch_user,
        users::user_history,
        users::export_history,
        grants::grant_roles,
        grants::revoke_grant,
        grants::add_admin_privilege,
        grants::remove_admin_privilege,
        grants::application_users,
        grants::check,
        grants::check_batch,
        reviews::open_review,
        reviews::list_reviews,
        reviews::get_review,
        reviews::decide,
        accounts::accept,
        accounts::list_outbox,
        accounts::resend_outbox,
        preferences::get_notifications,
        preferences::put_notifications,
        preferences::get_metadata,
        preferences::put_metadata,
        preferences::send_notification,
        contacts::invite,
        contacts::revoke_access,
        contacts::set_level,
        contacts::delete_contact,
        contacts::edit_contact,
        users::request_email_change,
        users::confirm_email,
        contacts::list_contacts,
        sites::list_sites,
        sites::create_site,
        sites::edit_site,
        appliances::list_appliances,
        appliances::register_appliance,
        appliances::import_appliances,
        appliances::retire_appliance,
        appliances::drain,
        appliances::undrain,
        appliances::get_bgp,
        appliances::put_bgp,
        tickets::list_tickets,
        tickets::get_ticket,
        tickets::comment,
        tickets::open_ticket,
        tickets::set_ticket_status,
        communications::recipients,
        security::begin_mfa,
        security::confirm_mfa,
        security::disable_mfa,
        security::reset_mfa,
        security::change_password,
        users::deactivate,
        users::reactivate,
    ),
    components(schemas(Problem, starship_core::FieldError)),
    modifiers(&Contract),
    tags(
        (name = "session", description = "Signing in and out, API tokens"),
        (name = "users", description = "Profiles, onboarding and search"),
        (name = "access", description = "Roles, admin privileges, the Applications tab, checks and access reviews"),
        (name = "preferences", description = "Notifications and application metadata"),
        (name = "portal", description = "Partner Portal: contacts, access, levels, sites, appliances, tickets, communications"),
        (name = "platform", description = "Partners, productions and the application catalogue"),
    )
)]
pub struct ApiDoc;

/// A bulk add of 100,000 rows is about 10 MB of JSON.
pub const BULK_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/session", post(session::sign_in).delete(session::sign_out))
        .route("/api/v1/tokens", get(session::list_tokens).post(session::create_token))
        .route("/api/v1/tokens/{id}", delete(session::revoke_token))
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/partners", get(platform::list_partners).post(platform::create_partner))
        .route("/api/v1/productions", get(platform::list_productions).post(platform::create_production))
        .route("/api/v1/applications", get(platform::list_applications))
        .route("/api/v1/clients", get(clients::list_clients).post(clients::create_client))
        .route("/api/v1/clients/{id}", delete(clients::revoke_client))
        .route("/api/v1/clients/{id}/secret", post(clients::rotate_secret))
        .route("/api/v1/partners/{id}/scim-tokens", get(scim_tokens::list).post(scim_tokens::create))
        .route("/api/v1/partners/{id}/scim-tokens/{token_id}", delete(scim_tokens::revoke))
        .route("/api/v1/partners/{id}/scim-groups", get(scim_groups::list_scim_groups))
        .route("/api/v1/partners/{id}/scim-groups/{group_id}/roles", post(scim_groups::map_group_role))
        .route("/api/v1/partners/{id}/scim-groups/{group_id}/roles/{mapping_id}", delete(scim_groups::unmap_group_role))
        .route("/api/v1/applications/{key}/users", get(grants::application_users))
        .route("/api/v1/users", get(users::search).post(users::create_user))
        .route("/api/v1/users/bulk", post(users::bulk_add).layer(DefaultBodyLimit::max(BULK_BODY_LIMIT)))
        .route("/api/v1/users/{id}", get(users::get_user).patch(users::patch_user).delete(contacts::delete_contact))
        .route("/api/v1/users/{id}/invitation", post(contacts::invite))
        .route("/api/v1/users/{id}/portal-access", delete(contacts::revoke_access))
        .route("/api/v1/users/{id}/portal-level", put(contacts::set_level))
        .route("/api/v1/users/{id}/contact", put(contacts::edit_contact))
        .route("/api/v1/users/{id}/email-change", post(users::request_email_change))
        .route("/api/v1/users/{id}/mfa", delete(security::reset_mfa))
        .route("/api/v1/email-confirmations", post(users::confirm_email))
        .route("/api/v1/me/mfa", post(security::begin_mfa))
        .route("/api/v1/me/mfa/confirm", post(security::confirm_mfa))
        .route("/api/v1/me/mfa/disable", post(security::disable_mfa))
        .route("/api/v1/me/password", post(security::change_password))
        .route("/api/v1/users/{id}/deactivation", post(users::deactivate).delete(users::reactivate))
        .route("/api/v1/contacts", get(contacts::list_contacts))
        .route("/api/v1/sites", get(sites::list_sites).post(sites::create_site))
        .route("/api/v1/sites/{id}", put(sites::edit_site))
        .route("/api/v1/appliances", get(appliances::list_appliances).post(appliances::register_appliance))
        .route("/api/v1/appliances/import", post(appliances::import_appliances))
        .route("/api/v1/appliances/{id}/retirement", post(appliances::retire_appliance))
        .route("/api/v1/appliances/{id}/drain", post(appliances::drain).delete(appliances::undrain))
        .route("/api/v1/appliances/{id}/bgp", get(appliances::get_bgp).put(appliances::put_bgp))
        .route("/api/v1/tickets", get(tickets::list_tickets).post(tickets::open_ticket))
        .route("/api/v1/tickets/{id}/status", put(tickets::set_ticket_status))
        .route("/api/v1/tickets/{id}", get(tickets::get_ticket))
        .route("/api/v1/tickets/{id}/comments", post(tickets::comment))
        .route("/api/v1/communications/{type}/recipients", get(communications::recipients))
        .route("/api/v1/users/{id}/history", get(users::user_history))
        .route("/api/v1/history/export", get(users::export_history))
        .route("/api/v1/users/{id}/admin-privileges", post(grants::add_admin_privilege))
        .route("/api/v1/users/{id}/admin-privileges/{pid}", delete(grants::remove_admin_privilege))
        .route("/api/v1/grants", post(grants::grant_roles))
        .route("/api/v1/grants/{id}", delete(grants::revoke_grant))
        .route("/api/v1/check", post(grants::check))
        .route("/api/v1/check/batch", post(grants::check_batch))
        .route("/api/v1/access-reviews", get(reviews::list_reviews).post(reviews::open_review))
        .route("/api/v1/access-reviews/{id}", get(reviews::get_review))
        .route("/api/v1/access-reviews/{id}/decisions", post(reviews::decide))
        .route("/api/v1/invitations/accept", post(accounts::accept))
        .route("/api/v1/outbox", get(accounts::list_outbox))
        .route("/api/v1/outbox/{id}/resend", post(accounts::resend_outbox))
        .route(
            "/api/v1/users/{id}/notifications",
            get(preferences::get_notifications).put(preferences::put_notifications),
        )
        .route(
            "/api/v1/users/{id}/metadata/{application}",
            get(preferences::get_metadata).put(preferences::put_metadata),
        )
        .route("/api/v1/notifications", post(preferences::send_notification))
        .route_layer(axum::middleware::from_fn(crate::extract::refuse_nul_in_path))
}

/// 200 when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "platform", security(()),
    responses((status = 200, description = "The store answers"), (status = 503, body = Problem)))]
pub async fn health(State(state): State<AppState>) -> Result<&'static str, OperationError> {
    state.store.ping().await.map_err(|_| OperationError::Unavailable)?;
    Ok("ok")
}

/// Why an instance is not ready.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub ready: bool,
    /// What is wrong, one sentence each; empty when ready.
    pub reasons: Vec<String>,
}

/// 200 when this instance can serve: the store answers, its migrations are
/// exactly this binary's, and the email dispatcher runs (when SMTP is
/// configured); 503 with the reasons otherwise.
#[utoipa::path(get, path = "/readyz", tag = "platform", security(()),
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(state): State<AppState>) -> (axum::http::StatusCode, axum::Json<Readiness>) {
    let mut reasons = Vec::new();
    match state.store.migration_status().await {
        Err(e) => reasons.push(format!("the store does not answer: {e}")),
        Ok(status) => {
            if !status.pending.is_empty() {
                let versions: Vec<String> = status.pending.iter().map(|m| m.version.to_string()).collect();
                reasons.push(format!("migrations not applied: {}", versions.join(", ")));
            }
            if !status.unknown.is_empty() {
                let versions: Vec<String> = status.unknown.iter().map(i64::to_string).collect();
                reasons.push(format!("the store has migrations this binary does not know: {}", versions.join(", ")));
            }
        }
    }
    if state.dispatcher.as_ref().is_some_and(|d| !d.is_running()) {
        reasons.push("the email dispatcher is not running".to_string());
    }
    let status =
        if reasons.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(Readiness { ready: reasons.is_empty(), reasons }))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "platform", security(()),
    responses((status = 200, description = "The OpenAPI 3 document of the API")))]
pub async fn openapi_json() -> impl axum::response::IntoResponse {
    static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| doc::document().to_string());
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}
