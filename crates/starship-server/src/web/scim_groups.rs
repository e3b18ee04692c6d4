//! A partner's directory groups as a page, beside its SCIM tokens: which
//! roles each group's members hold, a role added to a group (only one the
//! viewer may grant) and a mapping removed (with the grants it gave).

use starship_core::catalogue::RequestedRole;
use starship_core::ids::{PartnerId, ScimGroupId, ScimMappingId};
use std::fmt;
use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::page::{word, ScimGroupsDone};
use super::widgets::{grantable_roles, packed_form_value, Malformed, RoleChoice};
use super::{page, see_other, Action, Button, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops;
use crate::ops::OperationError;
use crate::state::AppState;

struct MappingRow {
    role: String,
    remove: Action,
}

struct GroupRow {
    id: ScimGroupId,
    name: String,
    members: usize,
    mappings: Vec<MappingRow>,
}

/// A role a group's members hold, as the page's one select carries it:
/// `application|role`, or `application|role|production` for a role held on
/// one production.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct GroupRole {
    role: RoleChoice,
    production: Option<i64>,
}

impl fmt::Display for GroupRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.production {
            Some(p) => write!(f, "{}|{p}", self.role),
            None => write!(f, "{}", self.role),
        }
    }
}

impl FromStr for GroupRole {
    type Err = Malformed;

    fn from_str(value: &str) -> Result<Self, Malformed> {
        let malformed = Malformed("the role");
        let (role, production) = match value.split('|').collect::<Vec<_>>()[..] {
            [application, role] => (format!("{application}|{role}"), None),
            [application, role, production] => {
                (format!("{application}|{role}"), Some(production.parse().map_err(|_| malformed.clone())?))
            }
            _ => return Err(malformed),
        };
        Ok(Self { role: role.parse()?, production })
    }
}

packed_form_value!(GroupRole);

/// A role the viewer may map a group to, and how it reads.
struct MappingChoice {
    value: GroupRole,
    label: String,
}

#[derive(Template)]
#[template(path = "scim_groups.html")]
struct GroupsPage {
    layout: Layout,
    csrf: String,
    partner_id: PartnerId,
    partner_name: String,
    groups: Vec<GroupRow>,
    choices: Vec<MappingChoice>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default, deserialize_with = "word")]
    done: Option<ScimGroupsDone>,
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
    partner_id: &PartnerId,
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
                // The choices' values are production ids as the widget printed them.
                for (id, p) in role.productions.iter().filter_map(|p| Some((p.value.parse().ok()?, p))) {
                    choices.push(MappingChoice {
                        value: GroupRole { role: role.value.clone(), production: Some(id) },
                        label: format!("{}: {} on {}", app.name, role.name, p.name),
                    });
                }
            } else {
                choices.push(MappingChoice {
                    value: GroupRole { role: role.value.clone(), production: None },
                    label: format!("{}: {}", app.name, role.name),
                });
            }
        }
    }
    let groups = groups
        .into_iter()
        .map(|g| GroupRow {
            mappings: g
                .mappings
                .iter()
                .map(|m| MappingRow {
                    role: role_label(state, &m.role.application, &m.role.role, m.role.production.map(|p| p.get())),
                    remove: Action::UnmapGroupRole {
                        partner: partner_id.clone(),
                        group: g.group.id.clone(),
                        mapping: m.id.clone(),
                    },
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
        partner_id: partner_id.clone(),
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
    Path(partner_id): Path<PartnerId>,
    Query(done): Query<Done>,
) -> WebResult {
    let notice = done.done.map(|done| match done {
        ScimGroupsDone::Mapped => "Role mapped: the group's members hold it now.",
        ScimGroupsDone::Unmapped => "Role mapping removed, with the roles it gave.",
    });
    render(&state, &viewer, &partner_id, notice, None).await
}

/// The role a group's members are to hold; none when nothing was chosen.
#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    role: Option<GroupRole>,
}

pub async fn add_role(
    State(state): State<AppState>,
    Path((partner_id, group_id)): Path<(PartnerId, ScimGroupId)>,
    post: WebPost<MappingForm>,
) -> WebResult {
    let viewer = &post.user;
    let Some(GroupRole { role, production }) = post.form.role else {
        return render(&state, viewer, &partner_id, None, Some("Choose a role.".into())).await;
    };
    let requested =
        RequestedRole { application: role.application.into_string(), role: role.role.into_string(), production };
    match ops::scim::groups::add_mapping(&state, &viewer.principal, &viewer.actor(), &partner_id, &group_id, requested)
        .await
    {
        Ok(_) => see_other(Page::ScimGroups { partner: partner_id, done: Some(ScimGroupsDone::Mapped) }),
        Err(OperationError::Invalid(_)) => {
            render(&state, viewer, &partner_id, None, Some("Choose a role.".into())).await
        }
        Err(OperationError::Conflict(why)) => render(&state, viewer, &partner_id, None, Some(why)).await,
        Err(other) => Err(other.into()),
    }
}

pub async fn remove_role(
    State(state): State<AppState>,
    Path((partner_id, group_id, mapping_id)): Path<(PartnerId, ScimGroupId, ScimMappingId)>,
    post: WebPost<Button>,
) -> WebResult {
    let viewer = &post.user;
    ops::scim::groups::remove_mapping(&state, &viewer.principal, &viewer.actor(), &partner_id, &group_id, &mapping_id)
        .await?;
    see_other(Page::ScimGroups { partner: partner_id, done: Some(ScimGroupsDone::Unmapped) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_role_reads_back_what_the_select_offered() {
        let role = RoleChoice { application: "production-academy".into(), role: "academy-user".into() };
        let app_wide = GroupRole { role: role.clone(), production: None };
        let on_production = GroupRole { role, production: Some(2001) };
        assert_eq!(app_wide.to_string(), "production-academy|academy-user");
        assert_eq!(on_production.to_string(), "production-academy|academy-user|2001");
        for value in [app_wide, on_production] {
            assert_eq!(value.to_string().parse(), Ok(value));
        }
    }

    #[test]
    fn a_tampered_group_role_is_refused() {
        for tampered in ["backlot", "backlot|", "backlot|viewer|", "backlot|viewer|home", "backlot|viewer|1|2"] {
            assert_eq!(tampered.parse::<GroupRole>(), Err(Malformed("the role")), "{tampered:?}");
        }
    }
}
