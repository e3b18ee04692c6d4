//! A partner's directory groups as a page, beside its SCIM tokens: which
//! roles each group's members hold, a role added to a group (only one the
//! viewer may grant) and a mapping removed (with the grants it gave).

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::widgets::grantable_roles;
use super::{page, see_other, url_encode, Layout, Section, WebPost, WebResult, WebUser};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

struct MappingRow {
    role: String,
    remove: String,
}

struct GroupRow {
    id: String,
    name: String,
    members: usize,
    mappings: Vec<MappingRow>,
}

/// A role the viewer may map a group to: `application|role` or
/// `application|role|production`, and how it reads.
struct RoleChoice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "scim_groups.html")]
struct GroupsPage {
    layout: Layout,
    csrf: String,
    partner_id: String,
    partner_name: String,
    groups: Vec<GroupRow>,
    choices: Vec<RoleChoice>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

fn role_label(state: &AppState, application: &str, role: &str, production: Option<i64>) -> String {
    let app = state.catalogue.application(application);
    let app_name = app.map(|a| a.name.clone()).unwrap_or_else(|| application.to_string());
    let role_name = app
        .and_then(|a| a.roles.iter().find(|r| r.key == role))
        .map(|r| r.name.clone())
        .unwrap_or_else(|| role.to_string());
    match production {
        Some(p) => format!("{app_name}: {role_name} on {p}"),
        None => format!("{app_name}: {role_name}"),
    }
}

async fn render(
    state: &AppState,
    viewer: &WebUser,
    partner_id: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> WebResult {
    let groups = ops::scim::groups::mapped_groups(state, &viewer.principal, partner_id).await?;
    let partner =
        ops::platform::partner(state, &viewer.principal, partner_id).await?.ok_or(OperationError::NotFound)?;
    let productions = ops::platform::productions(state).await?;
    let mut choices = Vec::new();
    for app in grantable_roles(state, &viewer.principal, partner_id, &productions) {
        for role in app.roles {
            if role.production_scoped {
                for p in &role.productions {
                    choices.push(RoleChoice {
                        value: format!("{}|{}", role.value, p.value),
                        label: format!("{}: {} on {}", app.name, role.name, p.name),
                    });
                }
            } else {
                choices.push(RoleChoice { value: role.value.clone(), label: format!("{}: {}", app.name, role.name) });
            }
        }
    }
    let base = format!("/partners/{}/scim-groups", url_encode(partner_id));
    let groups = groups
        .into_iter()
        .map(|g| GroupRow {
            mappings: g
                .mappings
                .iter()
                .map(|m| MappingRow {
                    role: role_label(state, &m.role.application, &m.role.role, m.role.production.map(|p| p.get())),
                    remove: format!("{base}/{}/roles/{}/remove", url_encode(&g.group.id), url_encode(&m.id)),
                })
                .collect(),
            id: g.group.id,
            name: g.group.display_name,
            members: g.members,
        })
        .collect();
    page(&GroupsPage {
        layout: viewer.layout(state, format!("Directory groups · {}", partner.name), Section::Account),
        csrf: viewer.csrf.clone(),
        partner_id: partner_id.to_string(),
        partner_name: partner.name,
        groups,
        choices,
        notice,
        error,
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(partner_id): Path<String>,
    Query(done): Query<Done>,
) -> WebResult {
    let notice = match done.done.as_deref() {
        Some("mapped") => Some("Role mapped: the group's members hold it now."),
        Some("unmapped") => Some("Role mapping removed, with the roles it gave."),
        _ => None,
    };
    render(&state, &viewer, &partner_id, notice, None).await
}

/// The role a group's members hold: `application|role` or
/// `application|role|production` (one select).
#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    role: String,
}

pub async fn add_role(
    State(state): State<AppState>,
    Path((partner_id, group_id)): Path<(String, String)>,
    post: WebPost<MappingForm>,
) -> WebResult {
    let viewer = &post.user;
    let chosen = post.form.role.as_str();
    let mut parts = chosen.split('|');
    let (application, role) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let production = match parts.next().map(str::parse::<i64>) {
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return render(&state, viewer, &partner_id, None, Some("Choose a role.".into())).await,
        None => None,
    };
    let requested = (application.to_string(), role.to_string(), production);
    match ops::scim::groups::add_mapping(&state, &viewer.principal, &viewer.actor(), &partner_id, &group_id, requested)
        .await
    {
        Ok(_) => see_other(&format!("/partners/{}/scim-groups?done=mapped", url_encode(&partner_id))),
        Err(OperationError::Invalid(_)) => {
            render(&state, viewer, &partner_id, None, Some("Choose a role.".into())).await
        }
        Err(OperationError::Conflict(why)) => render(&state, viewer, &partner_id, None, Some(why)).await,
        Err(other) => Err(other.into()),
    }
}

pub async fn remove_role(
    State(state): State<AppState>,
    Path((partner_id, group_id, mapping_id)): Path<(String, String, String)>,
    post: WebPost,
) -> WebResult {
    let viewer = &post.user;
    ops::scim::groups::remove_mapping(&state, &viewer.principal, &viewer.actor(), &partner_id, &group_id, &mapping_id)
        .await?;
    see_other(&format!("/partners/{}/scim-groups?done=unmapped", url_encode(&partner_id)))
}
