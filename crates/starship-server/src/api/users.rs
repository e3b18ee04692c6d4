use axum::extract::State;
use serde::Serialize;
use starship_core::authz::{self, Principal};
use starship_core::catalogue::Catalogue;
use starship_core::domain::UserStatus;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::users::User;
use starship_store::{grants, partners, Conn};
use utoipa::ToSchema;

use crate::api::platform::PartnerView;
use crate::extract::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CapabilityView {
    pub key: String,
    pub name: String,
}

/// One role a user holds, with what it opens.
#[derive(Serialize, ToSchema)]
pub struct RoleGrantView {
    /// The grant's id, for revoking it.
    pub id: String,
    pub application: String,
    pub application_name: String,
    pub role: String,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    pub capabilities: Vec<CapabilityView>,
    pub granted_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct AdminPrivilegeView {
    pub id: String,
    pub application: String,
    pub application_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    pub granted_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationLink {
    pub key: String,
    pub name: String,
    pub url: String,
}

/// A user's profile: identity, partner, roles and the applications they
/// open, and (where the viewer may see them) admin privileges.
#[derive(Serialize, ToSchema)]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub status: UserStatus,
    pub operator: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerView>,
    pub roles: Vec<RoleGrantView>,
    /// The applications the roles open.
    pub applications: Vec<ApplicationLink>,
    /// Shown to the user, their partner's admins and operators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_privileges: Option<Vec<AdminPrivilegeView>>,
    /// The My Account tabs this viewer sees for this user.
    pub tabs: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
}

pub async fn profile_of(conn: &mut Conn, catalogue: &Catalogue, viewer: &Principal, user: &User) -> ApiResult<UserProfile> {
    let partner = match &user.partner_id {
        Some(id) => partners::get(conn, id).await?.map(PartnerView::from),
        None => None,
    };
    let held = grants::of_user(conn, &user.id).await?;
    let mut roles = Vec::with_capacity(held.len());
    let mut applications: Vec<ApplicationLink> = Vec::new();
    for grant in held {
        let Some(app) = catalogue.application(&grant.role.application) else { continue };
        let Some(role) = app.role(&grant.role.role) else { continue };
        if !applications.iter().any(|a| a.key == app.key) {
            applications.push(ApplicationLink { key: app.key.clone(), name: app.name.clone(), url: app.url.clone() });
        }
        roles.push(RoleGrantView {
            id: grant.id,
            application: app.key.clone(),
            application_name: app.name.clone(),
            role: role.key.clone(),
            role_name: role.name.clone(),
            production: grant.role.production.map(|p| p.get()),
            capabilities: app
                .capabilities
                .iter()
                .filter(|c| role.capabilities.contains(&c.key))
                .map(|c| CapabilityView { key: c.key.clone(), name: c.name.clone() })
                .collect(),
            granted_at: rfc3339_from_millis(grant.created_at),
        });
    }
    let owner = user.partner_id.as_deref().unwrap_or("");
    let admin_privileges = if user.operator || authz::see_admin_privileges(viewer, &user.id, owner).is_ok() {
        let privileges = grants::admin_of_user(conn, &user.id).await?;
        Some(
            privileges
                .into_iter()
                .map(|p| AdminPrivilegeView {
                    id: p.id,
                    application_name: catalogue
                        .application(&p.scope.application)
                        .map_or_else(|| p.scope.application.clone(), |a| a.name.clone()),
                    application: p.scope.application,
                    production: p.scope.production.map(|p| p.get()),
                    granted_at: rfc3339_from_millis(p.created_at),
                })
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let mut tabs = vec!["roles"];
    if admin_privileges.as_ref().is_some_and(|p| !p.is_empty()) {
        tabs.push("admin-privileges");
    }
    tabs.extend(["notifications", "metadata"]);
    if user.partner_id.is_some() && authz::see_history(viewer, owner).is_ok() {
        tabs.push("history");
    }
    Ok(UserProfile {
        id: user.id.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locale: user.locale.clone(),
        phone: user.phone.clone(),
        status: user.status,
        operator: user.operator,
        partner,
        roles,
        applications,
        admin_privileges,
        tabs,
        created_at: rfc3339_from_millis(user.created_at),
        updated_at: rfc3339_from_millis(user.updated_at),
    })
}

/// The signed-in user's own profile (My Account).
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = UserProfile), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<UserProfile>> {
    let mut conn = state.store.conn().await?;
    Ok(axum::Json(profile_of(&mut conn, &state.catalogue, &caller.principal, &caller.user).await?))
}
