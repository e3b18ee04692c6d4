//! Select Permissions: the roles dialog, Assign Permissions to Users, and
//! Grant roles.

use starship_core::catalogue::RequestedRole;
use starship_core::ids::{ApplicationKey, RoleKey, UserId};
use std::fmt;
use std::str::FromStr;

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_core::authz::{self};

use super::metadata::{confirmation, next_step, GrantMade, MetadataDue, Trail};
use super::*;
use crate::ops::users::{self};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;
use crate::web::widgets::{grantable_roles, Malformed, RoleChoice, RoleGroup};
use crate::web::{
    page, refused, see_other, Action, Fields, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser,
};

/// A role assigned to a user in the wizard, not granted yet, carried by
/// the page as `user|application|role|production|until`, `until` the last
/// day it counts (`2027-05-03`) or empty for no end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Assignment {
    user_id: UserId,
    application: ApplicationKey,
    role: RoleKey,
    production: Option<i64>,
    until: Option<String>,
}

impl fmt::Display for Assignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let production = self.production.map(|p| p.to_string()).unwrap_or_default();
        let until = self.until.as_deref().unwrap_or_default();
        write!(f, "{}|{}|{}|{production}|{until}", self.user_id, self.application, self.role)
    }
}

impl FromStr for Assignment {
    type Err = Malformed;

    fn from_str(code: &str) -> Result<Self, Malformed> {
        let malformed = Malformed("an assigned role");
        // The end may be left off altogether: `user|application|role|production`.
        let (user_id, application, role, production, until) = match code.split('|').collect::<Vec<_>>()[..] {
            [user_id, application, role, production] => (user_id, application, role, production, ""),
            [user_id, application, role, production, until] => (user_id, application, role, production, until),
            _ => return Err(malformed),
        };
        if user_id.is_empty() || application.is_empty() || role.is_empty() {
            return Err(malformed);
        }
        let production = match production {
            "" => None,
            p => Some(p.parse().map_err(|_| malformed.clone())?),
        };
        let until = match until {
            "" => None,
            day if starship_core::time_fmt::end_of_day_millis(day).is_some() => Some(day.to_string()),
            _ => return Err(malformed),
        };
        Ok(Self {
            user_id: UserId::from(user_id),
            application: application.into(),
            role: role.into(),
            production,
            until,
        })
    }
}

impl Assignment {
    /// When the role is to end: the end of its last day, UTC.
    fn expires_at(&self) -> Option<i64> {
        self.until.as_deref().and_then(starship_core::time_fmt::end_of_day_millis)
    }
}

struct PendingRole {
    code: String,
    label: String,
}

struct PendingUser {
    id: UserId,
    name: String,
    email: String,
    status: &'static str,
    selected: bool,
    pending: Vec<PendingRole>,
}

#[derive(Template)]
#[template(path = "onboard_permissions.html")]
struct PermissionsPage {
    layout: Layout,
    csrf: String,
    bulk: bool,
    users: Vec<PendingUser>,
    assigned: Vec<String>,
    groups: Vec<RoleGroup>,
    errors: FormErrors,
    dialog_errors: FormErrors,
    open_dialog: bool,
    notice: Option<String>,
    /// The end date the dialog shows again after a refusal.
    until: String,
}

impl PermissionsPage {
    /// The first field of the roles dialog in error, which focus lands on.
    fn first_dialog_error(&self) -> String {
        self.dialog_errors.fields.first().map(|e| e.field.clone()).unwrap_or_default()
    }

    fn any_pending(&self) -> bool {
        !self.assigned.is_empty()
    }
}

/// Select Permissions' form. The roles dialog names a production select
/// after each role it offers (`production:application|role`), so those
/// field names are data: the form is read from `Fields`, its known fields
/// by name and the production selects by their prefix.
#[derive(Deserialize)]
#[serde(try_from = "Fields")]
pub(in crate::web) struct PermissionsForm {
    /// The people of this onboarding.
    user: Vec<UserId>,
    /// The roles assigned so far, not granted yet.
    assign: Vec<Assignment>,
    /// The people ticked to assign roles to.
    selected: Vec<String>,
    /// The roles ticked in the dialog.
    role: Vec<RoleChoice>,
    bulk: bool,
    /// The assigned role whose Remove was pressed.
    remove: Option<Assignment>,
    /// The button pressed: `assign`, `grant`, or Skip.
    action: String,
    until: Option<String>,
    /// The production chosen for each role, by the role's `application|role`.
    productions: Vec<(String, String)>,
}

impl TryFrom<Fields> for PermissionsForm {
    type Error = Malformed;

    fn try_from(form: Fields) -> Result<Self, Malformed> {
        Ok(Self {
            user: form.all("user").into_iter().map(UserId::from).collect(),
            assign: form.all("assign").into_iter().map(str::parse).collect::<Result<_, _>>()?,
            selected: form.all("selected").into_iter().map(str::to_string).collect(),
            role: form.all("role").into_iter().map(str::parse).collect::<Result<_, _>>()?,
            bulk: form.get("bulk") == "1",
            remove: form.opt("remove").map(str::parse).transpose()?,
            action: form.get("action").to_string(),
            until: form.opt("until").map(str::to_string),
            productions: form
                .pairs()
                .filter_map(|(name, value)| Some((name.strip_prefix("production:")?.to_string(), value.to_string())))
                .collect(),
        })
    }
}

impl PermissionsForm {
    /// The production chosen for a role in the dialog, if its select was sent.
    fn production(&self, role: &RoleChoice) -> Option<&str> {
        let role = role.to_string();
        self.productions.iter().find(|(r, _)| *r == role).map(|(_, p)| p.as_str())
    }
}

struct PermissionsInput<'a> {
    user_ids: Vec<UserId>,
    assigned: Vec<Assignment>,
    selected: Vec<&'a str>,
    chosen: Vec<RoleChoice>,
    bulk: bool,
}

async fn permissions_page(
    state: &AppState,
    viewer: &WebUser,
    input: &PermissionsInput<'_>,
    form: Option<&PermissionsForm>,
) -> WebResult<PermissionsPage> {
    let people = users::persons(state, &viewer.principal, &input.user_ids).await?;
    let productions = ops::platform::productions(state).await?;
    let partner = people.first().map_or_else(|| NO_PARTNER.clone(), |u| u.partner().clone());
    let mut groups = grantable_roles(state, &viewer.principal, &partner, &productions);
    for role in groups.iter_mut().flat_map(|g| g.roles.iter_mut()) {
        role.checked = input.chosen.contains(&role.value);
        if let Some(form) = form {
            let picked = form.production(&role.value).unwrap_or_default();
            for p in &mut role.productions {
                p.selected = p.value == picked;
            }
        }
    }
    let users = people
        .iter()
        .map(|u| PendingUser {
            id: u.id.clone(),
            name: u.full_name(),
            email: u.email.clone(),
            status: u.status.as_str(),
            // A lone user is the one roles are for: selected already.
            selected: people.len() == 1 || input.selected.contains(&u.id.as_str()),
            pending: input
                .assigned
                .iter()
                .filter(|a| a.user_id == u.id)
                .map(|a| PendingRole {
                    code: a.to_string(),
                    label: match a.expires_at() {
                        Some(end) => format!(
                            "{} · until {}",
                            role_label(state, &productions, &a.application, &a.role, a.production),
                            starship_core::time_fmt::last_day(end)
                        ),
                        None => role_label(state, &productions, &a.application, &a.role, a.production),
                    },
                })
                .collect(),
        })
        .collect();
    let title = if input.bulk { "Bulk Add Users: Select Permissions" } else { "Select Permissions" };
    Ok(PermissionsPage {
        layout: viewer.layout(state, title, Section::Users),
        csrf: viewer.csrf.clone(),
        bulk: input.bulk,
        users,
        assigned: input.assigned.iter().map(Assignment::to_string).collect(),
        until: form.and_then(|f| f.until.clone()).unwrap_or_default(),
        groups,
        errors: FormErrors::default(),
        dialog_errors: FormErrors::default(),
        open_dialog: false,
        notice: None,
    })
}

/// Select Permissions for the users of this onboarding (`?user=…`).
pub async fn permissions(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<Vec<(String, String)>>,
) -> WebResult {
    let input = PermissionsInput {
        user_ids: query.iter().filter(|(k, _)| k == "user").map(|(_, v)| UserId::from(v.as_str())).collect(),
        assigned: vec![],
        selected: vec![],
        chosen: vec![],
        bulk: query.iter().any(|(k, v)| k == "bulk" && v == "1"),
    };
    if input.user_ids.is_empty() {
        return see_other(Page::Onboard);
    }
    page(&permissions_page(&state, &viewer, &input, None).await?)
}

/// The buttons of Select Permissions: Assign Permissions to Users (from the
/// roles dialog), Remove (an assigned role), Grant roles, and Skip.
pub async fn permissions_action(State(state): State<AppState>, post: WebPost<PermissionsForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let mut input = PermissionsInput {
        user_ids: form.user.clone(),
        assigned: form.assign.clone(),
        selected: form.selected.iter().map(String::as_str).collect(),
        chosen: form.role.clone(),
        bulk: form.bulk,
    };
    if let Some(removed) = &form.remove {
        input.assigned.retain(|a| a != removed);
        return page(&permissions_page(&state, viewer, &input, None).await?);
    }
    match form.action.as_str() {
        "assign" => assign(&state, viewer, form, input).await,
        "grant" => grant(&state, viewer, input).await,
        _ => {
            let trail = Trail { users: input.user_ids, ..Default::default() };
            confirmation(&state, viewer, &trail).await
        }
    }
}

async fn assign(
    state: &AppState,
    viewer: &WebUser,
    form: &PermissionsForm,
    mut input: PermissionsInput<'_>,
) -> WebResult {
    let mut errors = FormErrors::default();
    let mut dialog_errors = FormErrors::default();
    if input.selected.is_empty() {
        errors = FormErrors::field("selected", "Select at least one user to assign roles to");
    }
    if input.chosen.is_empty() {
        dialog_errors = FormErrors::field("roles", "Choose at least one role");
    }
    // An end date is optional; given, it must be a day still to come.
    let until = form.until.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
    if let Some(day) = &until {
        match starship_core::time_fmt::end_of_day_millis(day) {
            None => dialog_errors.fields.push(starship_core::FieldError::new("until", "Give the end as a date")),
            Some(end) if end <= starship_store::now_millis() => {
                dialog_errors.fields.push(starship_core::FieldError::new("until", "The end must be in the future"))
            }
            Some(_) => {}
        }
    }
    let mut requested: Vec<RequestedRole> = Vec::with_capacity(input.chosen.len());
    for choice in &input.chosen {
        let production = form.production(choice).and_then(|p| p.parse::<i64>().ok());
        requested.push(RequestedRole {
            application: choice.application.to_string(),
            role: choice.role.to_string(),
            production,
        });
    }
    let mut roles = vec![];
    if errors.is_empty() && dialog_errors.is_empty() {
        let people = users::persons(state, &viewer.principal, &input.user_ids).await?;
        match ops::grants::resolve(state, &requested).await {
            Ok(resolved) => roles = resolved,
            Err(OperationError::Invalid(invalid)) => {
                for e in invalid.0 {
                    let index = e.field.trim_start_matches("roles[").split(']').next().and_then(|i| i.parse().ok());
                    let field = match index.and_then(|i: usize| input.chosen.get(i)) {
                        Some(value) if e.field.ends_with(".production") => format!("production:{value}"),
                        _ => "roles".to_string(),
                    };
                    dialog_errors
                        .fields
                        .push(starship_core::FieldError::new(field, crate::web::capitalised(&e.reason)));
                }
            }
            Err(other) => return Err(other.into()),
        }
        for user in people.iter().filter(|u| input.selected.contains(&u.id.as_str())) {
            for role in &roles {
                if let Err(denied) = authz::grant_role(&viewer.principal, user.partner(), role) {
                    let why = match OperationError::from(denied) {
                        OperationError::Forbidden(why) => why.to_string(),
                        other => other.to_string(),
                    };
                    dialog_errors.general.push(crate::web::capitalised(&why));
                }
            }
        }
        dialog_errors.general.dedup();
    }
    if !errors.is_empty() || !dialog_errors.is_empty() {
        let mut page_view = permissions_page(state, viewer, &input, Some(form)).await?;
        page_view.open_dialog = errors.is_empty();
        page_view.errors = errors;
        page_view.dialog_errors = dialog_errors;
        return refused(&page_view);
    }
    let selected: Vec<UserId> = input.selected.iter().copied().map(UserId::from).collect();
    for user_id in &selected {
        for role in &roles {
            let assignment = Assignment {
                user_id: user_id.clone(),
                application: role.application.clone(),
                role: role.role.clone(),
                production: role.production.map(|p| p.get()),
                until: until.clone(),
            };
            // Assigning a role again takes the newer end date.
            input.assigned.retain(|a| {
                (&a.user_id, &a.application, &a.role, a.production)
                    != (&assignment.user_id, &assignment.application, &assignment.role, assignment.production)
            });
            input.assigned.push(assignment);
        }
    }
    let count = selected.len();
    input.selected = vec![];
    input.chosen = vec![];
    let mut page_view = permissions_page(state, viewer, &input, None).await?;
    let plural = if count == 1 { "user" } else { "users" };
    page_view.notice = Some(format!("Roles assigned to {count} {plural}. Assign more, or Grant roles to give them."));
    page(&page_view)
}

async fn grant(state: &AppState, viewer: &WebUser, input: PermissionsInput<'_>) -> WebResult {
    if input.assigned.is_empty() {
        let mut page_view = permissions_page(state, viewer, &input, None).await?;
        page_view.errors = FormErrors::general(if input.bulk {
            "Assign roles to at least one user first (Select Roles), or Skip Roles."
        } else {
            "Assign roles to at least one user first (Select Roles), or Skip Granting Roles."
        });
        return refused(&page_view);
    }
    let actor = viewer.actor();
    let outcome = async {
        let mut asked_of = Vec::new();
        let mut users: Vec<&UserId> = Vec::new();
        for assignment in &input.assigned {
            if !users.contains(&&assignment.user_id) {
                users.push(&assignment.user_id);
            }
        }
        for user_id in users {
            let theirs: Vec<&Assignment> = input.assigned.iter().filter(|a| a.user_id == *user_id).collect();
            let requested: Vec<RequestedRole> = theirs
                .iter()
                .map(|a| RequestedRole {
                    application: a.application.to_string(),
                    role: a.role.to_string(),
                    production: a.production,
                })
                .collect();
            let ends: Vec<Option<String>> =
                theirs.iter().map(|a| a.expires_at().map(starship_core::time_fmt::rfc3339_from_millis)).collect();
            let asked: Vec<Option<&str>> = ends.iter().map(Option::as_deref).collect();
            let expiries = ops::grants::parse_expiries(&asked, starship_store::now_millis())?;
            asked_of.push((vec![user_id.clone()], requested, expiries));
        }
        let requests: Vec<ops::grants::GrantRequest> = asked_of
            .iter()
            .map(|(user_ids, requested, expiries)| ops::grants::GrantRequest { user_ids, requested, expiries })
            .collect();
        ops::grants::grant(state, &viewer.principal, &actor, &requests).await
    }
    .await;
    let granted = match outcome {
        Ok(granted) => granted,
        Err(e @ (OperationError::Invalid(_) | OperationError::Forbidden(_))) => {
            let mut page_view = permissions_page(state, viewer, &input, None).await?;
            page_view.errors = FormErrors::from_error(e, &[])?;
            return refused(&page_view);
        }
        Err(other) => return Err(other.into()),
    };
    let mut trail = Trail {
        users: input.user_ids.clone(),
        grants: granted.iter().map(|g| GrantMade { id: g.grant.id.clone(), new: g.new }).collect(),
        ..Default::default()
    };
    for g in &granted {
        let has_metadata =
            state.catalogue.application(&g.grant.role.application).is_some_and(|a| !a.metadata_schema.is_empty());
        let due = MetadataDue { user_id: g.user.id.clone(), application: g.grant.role.application.clone() };
        if has_metadata && !trail.queue.contains(&due) {
            trail.queue.push(due);
        }
    }
    next_step(state, viewer, trail, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assigned_role_reads_back_what_the_page_carried() {
        let on_production = Assignment {
            user_id: "u-1".into(),
            application: "production-academy".into(),
            role: "academy-user".into(),
            production: Some(2001),
            until: Some("2999-05-03".into()),
        };
        let app_wide = Assignment { production: None, until: None, ..on_production.clone() };
        assert_eq!(on_production.to_string(), "u-1|production-academy|academy-user|2001|2999-05-03");
        assert_eq!(app_wide.to_string(), "u-1|production-academy|academy-user||");
        for assignment in [on_production, app_wide.clone()] {
            assert_eq!(assignment.to_string().parse(), Ok(assignment));
        }
        assert_eq!("u-1|production-academy|academy-user|".parse(), Ok(app_wide), "without its end date");
    }

    #[test]
    fn the_form_reads_its_known_fields_and_a_production_per_role() {
        let form: PermissionsForm = serde_html_form::from_str(
            "csrf=t&bulk=1&user=u-1&user=u-2&assign=u-1%7Cbacklot%7Cviewer%7C%7C&selected=u-2\
             &role=production-academy%7Cacademy-user&production%3Aproduction-academy%7Cacademy-user=2001\
             &until=2999-05-03&action=assign",
        )
        .unwrap();
        assert_eq!(form.user, ["u-1", "u-2"]);
        assert_eq!(form.assign, ["u-1|backlot|viewer||".parse::<Assignment>().unwrap()]);
        assert_eq!(form.selected, ["u-2"]);
        assert!(form.bulk && form.remove.is_none());
        assert_eq!((form.action.as_str(), form.until.as_deref()), ("assign", Some("2999-05-03")));
        let academy: RoleChoice = "production-academy|academy-user".parse().unwrap();
        assert_eq!(form.role, std::slice::from_ref(&academy));
        assert_eq!(form.production(&academy), Some("2001"));
        assert_eq!(form.production(&"backlot|viewer".parse().unwrap()), None);

        let lone: PermissionsForm = serde_html_form::from_str("csrf=t&user=u-1&action=skip").unwrap();
        assert_eq!(lone.user, ["u-1"]);
        assert!(!lone.bulk && lone.until.is_none() && lone.productions.is_empty());
        for tampered in ["role=backlot", "assign=u-1%7Cbacklot", "remove=everyone%7Cbacklot"] {
            assert!(serde_html_form::from_str::<PermissionsForm>(tampered).is_err(), "{tampered}");
        }
    }

    #[test]
    fn a_tampered_assigned_role_is_refused() {
        for tampered in [
            "",
            "u-1|backlot|viewer",
            "u-1|backlot|viewer||||",
            "|backlot|viewer||",
            "u-1||viewer||",
            "u-1|backlot|viewer|home|",
            "u-1|backlot|viewer||someday",
        ] {
            assert_eq!(tampered.parse::<Assignment>(), Err(Malformed("an assigned role")), "{tampered:?}");
        }
    }
}
