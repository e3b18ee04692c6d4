//! Creating and onboarding users, as seed 000 walks through it: Add User →
//! names and locale → Select Permissions → roles dialog → Assign
//! Permissions to Users → Grant roles → (application metadata, seed 001) →
//! confirmation → Exit Onboarding; and Bulk Add Users → Apply → review →
//! Next → roles or Skip Roles.
//!
//! The wizard keeps its state in the pages themselves (the users of this
//! onboarding, the roles assigned but not yet granted, the grants made):
//! every step is checked again by the operations, so nothing in that state
//! is trusted.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_core::authz::{self, Principal};
use starship_core::domain::{Email, SUPPORTED_LOCALES};
use starship_store::partners::Production;
use starship_store::users::User;

use super::widgets::{
    grantable_roles, metadata_fields, metadata_from_form, production_labels, Choice, MetadataForm, RoleGroup,
};
use super::{page, refused, see_other, url_encode, FormErrors, Layout, Section, WebPost, WebResult, WebUser};
use crate::ops::people::{self, PersonInput};
use crate::ops::{self, BulkRow};
use crate::problem::ApiError;
use crate::state::AppState;

/// A paste bigger than this goes through `starshipd users import` or the API.
const WEB_BULK_MAX_ROWS: usize = 500;

fn locale_choices(selected: &str) -> Vec<Choice> {
    SUPPORTED_LOCALES
        .iter()
        .map(|tag| Choice {
            value: tag.to_string(),
            name: tag.to_string(),
            description: String::new(),
            selected: tag.eq_ignore_ascii_case(selected),
        })
        .collect()
}

/// Operators pick the partner a new user joins; partner users add to their own.
async fn partner_choices(state: &AppState, caller: &Principal, selected: &str) -> WebResult<Vec<Choice>> {
    if !caller.operator {
        return Ok(vec![]);
    }
    Ok(ops::platform::partners(state, caller)
        .await?
        .into_iter()
        .map(|p| Choice { selected: p.id == selected, value: p.id, name: p.name, description: String::new() })
        .collect())
}

/// The partner a new user joins, as the form names it (operators choose;
/// anyone else's form has no choice).
fn target_partner(caller: &Principal, chosen: &str) -> Result<String, ApiError> {
    people::target_partner(caller, Some(chosen).filter(|p| !p.is_empty()))
}

/// Add User's first step, and its second with the names and locale.
#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    locale: String,
}

/// Bulk Add Users: the pasted rows and the button pressed.
#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    rows: String,
    #[serde(default)]
    action: String,
}

#[derive(Template)]
#[template(path = "onboard_start.html")]
struct StartPage {
    layout: Layout,
    csrf: String,
    email: String,
    rows: String,
    partners: Vec<Choice>,
    errors: FormErrors,
    bulk_errors: FormErrors,
    open_bulk: bool,
    /// The profile of the person who has the address already, when the
    /// viewer may open it.
    existing_profile: Option<String>,
}

impl StartPage {
    async fn new(state: &AppState, viewer: &WebUser) -> WebResult<Self> {
        if !viewer.principal.operator {
            let own = viewer.principal.partner_id.as_deref().unwrap_or_default();
            authz::create_user(&viewer.principal, &state.catalogue, own)?;
        }
        Ok(Self {
            layout: viewer.layout(state, "Create and Onboard", Section::Users),
            csrf: viewer.csrf.clone(),
            email: String::new(),
            rows: String::new(),
            partners: partner_choices(state, &viewer.principal, "").await?,
            errors: FormErrors::default(),
            bulk_errors: FormErrors::default(),
            open_bulk: false,
            existing_profile: None,
        })
    }
}

/// "Create and Onboard": the Add User box and Bulk Add Users.
pub async fn create_and_onboard(State(state): State<AppState>, viewer: WebUser) -> WebResult {
    page(&StartPage::new(&state, &viewer).await?)
}

#[derive(Template)]
#[template(path = "onboard_details.html")]
struct DetailsPage {
    layout: Layout,
    csrf: String,
    email: String,
    first_name: String,
    last_name: String,
    locales: Vec<Choice>,
    partner_id: String,
    partner_name: String,
    errors: FormErrors,
    /// Onboarding an existing user: their details, read only.
    existing: Option<User>,
}

impl DetailsPage {
    /// The field focus lands on: the first one in error, else the first name.
    fn autofocus(&self, field: &str) -> bool {
        let first_wrong = ["email", "first_name", "last_name", "locale"].into_iter().find(|f| self.errors.has(f));
        first_wrong.unwrap_or("first_name") == field
    }
}

async fn partner_name(state: &AppState, viewer: &Principal, partner_id: &str) -> Result<String, ApiError> {
    Ok(ops::platform::partner(state, viewer, partner_id).await?.map(|p| p.name).unwrap_or_default())
}

/// Add User: the email, then the names and locale.
pub async fn add_user(State(state): State<AppState>, post: WebPost<PersonForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let mut start = StartPage::new(&state, viewer).await?;
    let partner_id = match target_partner(&viewer.principal, &form.partner_id) {
        Ok(p) => p,
        Err(e) => {
            start.errors = FormErrors::from_error(e, &["partner_id"])?;
            start.email = form.email.clone();
            return refused(&start);
        }
    };
    let email = match Email::parse("email", &form.email) {
        Ok(email) => email,
        Err(e) => {
            start.errors = FormErrors::field("email", e.reason);
            start.email = form.email.clone();
            return refused(&start);
        }
    };
    // A taken address is caught here, before the names are typed: with a
    // link to the person for one's own partner, the API's neutral answer
    // for anyone else's.
    let taken = match people::email_in_use(&state, &viewer.principal, &partner_id, &email).await {
        Ok(people::EmailInUse::Free) => None,
        Ok(people::EmailInUse::Ours { user_id }) => {
            start.existing_profile = Some(format!("/users/{}", url_encode(&user_id)));
            Some(FormErrors::field("email", starship_store::users::EMAIL_TAKEN))
        }
        Ok(people::EmailInUse::Elsewhere) => Some(FormErrors::field("email", starship_store::users::EMAIL_UNAVAILABLE)),
        Err(e @ (ApiError::Throttled { .. } | ApiError::Forbidden(_))) => Some(FormErrors::from_error(e, &[])?),
        Err(other) => return Err(other.into()),
    };
    if let Some(errors) = taken {
        start.errors = errors;
        start.email = form.email.clone();
        return refused(&start);
    }
    let partner_name = partner_name(&state, &viewer.principal, &partner_id).await?;
    page(&DetailsPage {
        layout: viewer.layout(&state, "Add User", Section::Users),
        csrf: viewer.csrf.clone(),
        email: form.email.trim().to_string(),
        first_name: String::new(),
        last_name: String::new(),
        locales: locale_choices("en-US"),
        partner_id,
        partner_name,
        errors: FormErrors::default(),
        existing: None,
    })
}

/// Next: creates the user (who is emailed an activation link), then on to
/// Select Permissions.
pub async fn create_user(State(state): State<AppState>, post: WebPost<PersonForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner_id = target_partner(&viewer.principal, &form.partner_id)?;
    let input = PersonInput {
        email: form.email.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        locale: form.locale.clone(),
        portal_access: true,
        ..Default::default()
    };
    match people::create_person(&state, &viewer.principal, &viewer.actor(), &partner_id, &input).await {
        Ok(user) => see_other(&format!("/onboard/permissions?user={}", url_encode(&user.id))),
        Err(error @ (ApiError::Invalid(_) | ApiError::Conflict(_) | ApiError::Forbidden(_))) => {
            let errors = match error {
                ApiError::Conflict(why) => FormErrors::field("email", why),
                other => FormErrors::from_error(other, &["email", "first_name", "last_name", "locale"])?,
            };
            let partner_name = partner_name(&state, &viewer.principal, &partner_id).await?;
            refused(&DetailsPage {
                layout: viewer.layout(&state, "Add User", Section::Users),
                csrf: viewer.csrf.clone(),
                email: input.email,
                first_name: input.first_name,
                last_name: input.last_name,
                locales: locale_choices(&input.locale),
                partner_id,
                partner_name,
                errors,
                existing: None,
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// The Onboard button of a profile: the user's details, then Next.
pub async fn start(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<Vec<(String, String)>>,
) -> WebResult {
    let id = query.iter().find(|(k, _)| k == "user").map(|(_, v)| v.clone()).unwrap_or_default();
    let user = people::person(&state, &viewer.principal, &id).await?;
    let partner_name = match &user.partner_id {
        Some(p) => partner_name(&state, &viewer.principal, p).await?,
        None => String::new(),
    };
    page(&DetailsPage {
        layout: viewer.layout(&state, "Onboard", Section::Users),
        csrf: viewer.csrf.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locales: locale_choices(&user.locale),
        partner_id: user.partner_id.clone().unwrap_or_default(),
        partner_name,
        errors: FormErrors::default(),
        existing: Some(user),
    })
}

// ---------------------------------------------------------------------------
// Bulk Add Users

/// A pasted line: email, locale, first name, last name, separated by tabs
/// (a spreadsheet) or commas. Blank lines and a header line are skipped.
fn parse_rows(text: &str) -> Vec<(String, BulkRow)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| !line.to_ascii_lowercase().starts_with("email"))
        .map(|line| {
            let cells: Vec<&str> =
                if line.contains('\t') { line.split('\t').collect() } else { line.split(',').collect() };
            let cell = |i: usize| cells.get(i).map(|c| c.trim().to_string()).unwrap_or_default();
            (line.to_string(), BulkRow { email: cell(0), locale: cell(1), first_name: cell(2), last_name: cell(3) })
        })
        .collect()
}

struct ReviewRow {
    number: usize,
    email: String,
    locale: String,
    first_name: String,
    last_name: String,
    problems: Vec<String>,
    bad_fields: Vec<String>,
}

impl ReviewRow {
    fn bad(&self, field: &str) -> bool {
        self.bad_fields.iter().any(|f| f == field)
    }
}

#[derive(Template)]
#[template(path = "onboard_bulk_review.html")]
struct ReviewPage {
    layout: Layout,
    csrf: String,
    rows: Vec<ReviewRow>,
    text: String,
    partner_id: String,
    valid: usize,
    bad: usize,
    errors: FormErrors,
}

fn field_label(field: &str) -> &str {
    match field {
        "email" => "Email",
        "locale" => "Locale",
        "first_name" => "First name",
        "last_name" => "Last name",
        other => other,
    }
}

fn review(
    state: &AppState,
    viewer: &WebUser,
    lines: &[(String, BulkRow)],
    partner_id: &str,
    errors: &[starship_core::FieldError],
) -> ReviewPage {
    let rows: Vec<ReviewRow> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, row))| {
            let mine: Vec<&starship_core::FieldError> = errors.iter().filter(|e| e.row == Some(i + 1)).collect();
            ReviewRow {
                number: i + 1,
                email: row.email.clone(),
                locale: row.locale.clone(),
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                problems: mine.iter().map(|e| format!("{}: {}", field_label(&e.field), e.reason)).collect(),
                bad_fields: mine.iter().map(|e| e.field.clone()).collect(),
            }
        })
        .collect();
    let bad = rows.iter().filter(|r| !r.problems.is_empty()).count();
    ReviewPage {
        layout: viewer.layout(state, "Bulk Add Users", Section::Users),
        csrf: viewer.csrf.clone(),
        valid: rows.len() - bad,
        bad,
        rows,
        text: lines.iter().map(|(line, _)| line.as_str()).collect::<Vec<_>>().join("\n"),
        partner_id: partner_id.to_string(),
        errors: FormErrors::default(),
    }
}

/// Bulk Add Users: Apply checks every row and writes nothing; Remove bad
/// rows drops the refused ones; Next creates them all (or none).
pub async fn bulk(State(state): State<AppState>, post: WebPost<BulkForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner_id = target_partner(&viewer.principal, &form.partner_id)?;
    let mut lines = parse_rows(&form.rows);
    let refuse_paste = |errors: FormErrors| async {
        let mut start = StartPage::new(&state, viewer).await?;
        start.rows = form.rows.clone();
        start.bulk_errors = errors;
        start.open_bulk = true;
        refused(&start)
    };
    if lines.len() > WEB_BULK_MAX_ROWS {
        let why = format!(
            "Paste at most {WEB_BULK_MAX_ROWS} rows at once here; larger batches go through `starshipd users import`"
        );
        return refuse_paste(FormErrors::field("rows", why)).await;
    }
    let actor = viewer.actor();
    let dry_run = |rows: Vec<BulkRow>| {
        let (state, principal, actor, partner_id) = (&state, &viewer.principal, &actor, &partner_id);
        async move { people::bulk_add(state, principal, actor, partner_id, &rows, true).await }
    };
    let rows = |lines: &[(String, BulkRow)]| lines.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>();
    match form.action.as_str() {
        "next" => match people::bulk_add(&state, &viewer.principal, &actor, &partner_id, &rows(&lines), false).await {
            Ok(outcome) => {
                let users: Vec<String> =
                    outcome.created.iter().map(|u| format!("user={}", url_encode(&u.id))).collect();
                see_other(&format!("/onboard/permissions?bulk=1&{}", users.join("&")))
            }
            Err(ApiError::Invalid(invalid)) if invalid.0.iter().all(|e| e.row.is_some()) => {
                refused(&review(&state, viewer, &lines, &partner_id, &invalid.0))
            }
            Err(e @ ApiError::Invalid(_)) => refuse_paste(FormErrors::from_error(e, &["rows"])?).await,
            Err(other) => Err(other.into()),
        },
        action => {
            let mut outcome = match dry_run(rows(&lines)).await {
                Ok(outcome) => outcome,
                Err(e @ ApiError::Invalid(_)) => return refuse_paste(FormErrors::from_error(e, &["rows"])?).await,
                Err(other) => return Err(other.into()),
            };
            if action == "remove-bad" && !outcome.errors.is_empty() {
                let bad: Vec<usize> = outcome.errors.iter().filter_map(|e| e.row).collect();
                lines =
                    lines.into_iter().enumerate().filter(|(i, _)| !bad.contains(&(i + 1))).map(|(_, l)| l).collect();
                outcome = match dry_run(rows(&lines)).await {
                    Ok(outcome) => outcome,
                    Err(e @ ApiError::Invalid(_)) => {
                        return refuse_paste(FormErrors::from_error(e, &["rows"])?).await;
                    }
                    Err(other) => return Err(other.into()),
                };
            }
            page(&review(&state, viewer, &lines, &partner_id, &outcome.errors))
        }
    }
}

// ---------------------------------------------------------------------------
// Select Permissions → Grant roles

/// A role assigned to a user in the wizard, not granted yet:
/// `user|application|role|production|until`, `until` the last day it
/// counts (`2027-05-03`) or empty for no end.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Assignment {
    user_id: String,
    application: String,
    role: String,
    production: Option<i64>,
    until: Option<String>,
}

impl Assignment {
    fn parse(code: &str) -> Option<Self> {
        let mut parts = code.split('|');
        let (user_id, application, role, production) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        Some(Self {
            user_id: user_id.to_string(),
            application: application.to_string(),
            role: role.to_string(),
            production: if production.is_empty() { None } else { Some(production.parse().ok()?) },
            until: parts.next().filter(|u| !u.is_empty()).map(str::to_string),
        })
    }

    fn code(&self) -> String {
        let production = self.production.map(|p| p.to_string()).unwrap_or_default();
        let until = self.until.as_deref().unwrap_or_default();
        format!("{}|{}|{}|{production}|{until}", self.user_id, self.application, self.role)
    }

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
    id: String,
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

fn role_label(
    state: &AppState,
    productions: &[Production],
    application: &str,
    role: &str,
    production: Option<i64>,
) -> String {
    let app = state.catalogue.application(application).map_or(application, |a| a.name.as_str());
    let role = state.catalogue.role(application, role).map_or(role, |r| r.name.as_str());
    match production {
        Some(p) => {
            let label = production_labels(productions).get(&p).cloned().unwrap_or_else(|| p.to_string());
            format!("{app} · {role} · {label}")
        }
        None => format!("{app} · {role}"),
    }
}

struct PermissionsInput<'a> {
    user_ids: Vec<String>,
    assigned: Vec<Assignment>,
    selected: Vec<&'a str>,
    chosen: Vec<&'a str>,
    bulk: bool,
}

async fn permissions_page(
    state: &AppState,
    viewer: &WebUser,
    input: &PermissionsInput<'_>,
    form: Option<&super::Fields>,
) -> WebResult<PermissionsPage> {
    let people = people::persons(state, &viewer.principal, &input.user_ids).await?;
    let productions = ops::platform::productions(state).await?;
    let partner = people.first().and_then(|u| u.partner_id.clone()).unwrap_or_default();
    let mut groups = grantable_roles(state, &viewer.principal, &partner, &productions);
    for role in groups.iter_mut().flat_map(|g| g.roles.iter_mut()) {
        role.checked = input.chosen.contains(&role.value.as_str());
        if let Some(form) = form {
            let picked = form.get(&role.production_field());
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
                    code: a.code(),
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
        assigned: input.assigned.iter().map(Assignment::code).collect(),
        until: form.and_then(|f| f.opt("until")).unwrap_or_default().to_string(),
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
        user_ids: query.iter().filter(|(k, _)| k == "user").map(|(_, v)| v.clone()).collect(),
        assigned: vec![],
        selected: vec![],
        chosen: vec![],
        bulk: query.iter().any(|(k, v)| k == "bulk" && v == "1"),
    };
    if input.user_ids.is_empty() {
        return see_other("/onboard");
    }
    page(&permissions_page(&state, &viewer, &input, None).await?)
}

/// The buttons of Select Permissions: Assign Permissions to Users (from the
/// roles dialog), Remove (an assigned role), Grant roles, and Skip.
pub async fn permissions_action(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let mut input = PermissionsInput {
        user_ids: form.all("user").into_iter().map(str::to_string).collect(),
        assigned: form.all("assign").into_iter().filter_map(Assignment::parse).collect(),
        selected: form.all("selected"),
        chosen: form.all("role"),
        bulk: form.get("bulk") == "1",
    };
    if let Some(code) = form.opt("remove") {
        input.assigned.retain(|a| a.code() != code);
        return page(&permissions_page(&state, viewer, &input, None).await?);
    }
    match form.get("action") {
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
    form: &super::Fields,
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
    let until = form.opt("until").map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
    if let Some(day) = &until {
        match starship_core::time_fmt::end_of_day_millis(day) {
            None => dialog_errors.fields.push(starship_core::FieldError::new("until", "Give the end as a date")),
            Some(end) if end <= starship_store::now_millis() => {
                dialog_errors.fields.push(starship_core::FieldError::new("until", "The end must be in the future"))
            }
            Some(_) => {}
        }
    }
    let requested: Vec<(String, String, Option<i64>)> = input
        .chosen
        .iter()
        .map(|value| {
            let (application, role) = value.split_once('|').unwrap_or((value, ""));
            let production = form.opt(&format!("production:{value}")).and_then(|p| p.parse::<i64>().ok());
            (application.to_string(), role.to_string(), production)
        })
        .collect();
    let mut roles = vec![];
    if errors.is_empty() && dialog_errors.is_empty() {
        let people = people::persons(state, &viewer.principal, &input.user_ids).await?;
        match ops::resolve(state, &requested).await {
            Ok(resolved) => roles = resolved,
            Err(ApiError::Invalid(invalid)) => {
                for e in invalid.0 {
                    let index = e.field.trim_start_matches("roles[").split(']').next().and_then(|i| i.parse().ok());
                    let field = match index.and_then(|i: usize| input.chosen.get(i)) {
                        Some(value) if e.field.ends_with(".production") => format!("production:{value}"),
                        _ => "roles".to_string(),
                    };
                    dialog_errors.fields.push(starship_core::FieldError::new(field, super::capitalised(&e.reason)));
                }
            }
            Err(other) => return Err(other.into()),
        }
        for user in people.iter().filter(|u| input.selected.contains(&u.id.as_str())) {
            for role in &roles {
                if let Err(denied) =
                    authz::grant_role(&viewer.principal, user.partner_id.as_deref().unwrap_or(""), role)
                {
                    let why = match ApiError::from(denied) {
                        ApiError::Forbidden(why) => why.to_string(),
                        other => other.to_string(),
                    };
                    dialog_errors.general.push(super::capitalised(&why));
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
    let selected: Vec<String> = input.selected.iter().map(|s| s.to_string()).collect();
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
        let mut users: Vec<&str> = Vec::new();
        for assignment in &input.assigned {
            if !users.contains(&assignment.user_id.as_str()) {
                users.push(&assignment.user_id);
            }
        }
        for user_id in users {
            let theirs: Vec<&Assignment> = input.assigned.iter().filter(|a| a.user_id == user_id).collect();
            let requested: Vec<(String, String, Option<i64>)> =
                theirs.iter().map(|a| (a.application.clone(), a.role.clone(), a.production)).collect();
            let ends: Vec<Option<String>> =
                theirs.iter().map(|a| a.expires_at().map(starship_core::time_fmt::rfc3339_from_millis)).collect();
            let asked: Vec<Option<&str>> = ends.iter().map(Option::as_deref).collect();
            let expiries = ops::parse_expiries(&asked, starship_store::now_millis())?;
            asked_of.push((vec![user_id.to_string()], requested, expiries));
        }
        let requests: Vec<ops::GrantRequest> = asked_of
            .iter()
            .map(|(user_ids, requested, expiries)| ops::GrantRequest { user_ids, requested, expiries })
            .collect();
        ops::grant(state, &viewer.principal, &actor, &requests).await
    }
    .await;
    let granted = match outcome {
        Ok(granted) => granted,
        Err(e @ (ApiError::Invalid(_) | ApiError::Forbidden(_))) => {
            let mut page_view = permissions_page(state, viewer, &input, None).await?;
            page_view.errors = FormErrors::from_error(e, &[])?;
            return refused(&page_view);
        }
        Err(other) => return Err(other.into()),
    };
    let mut trail = Trail {
        users: input.user_ids.clone(),
        grants: granted.iter().map(|g| format!("{}|{}", g.grant.id, u8::from(g.new))).collect(),
        ..Default::default()
    };
    for g in &granted {
        let has_metadata =
            state.catalogue.application(&g.grant.role.application).is_some_and(|a| !a.metadata_schema.is_empty());
        let step = format!("{}|{}", g.user.id, g.grant.role.application);
        if has_metadata && !trail.queue.contains(&step) {
            trail.queue.push(step);
        }
    }
    next_step(state, viewer, trail, None).await
}

// ---------------------------------------------------------------------------
// Application metadata (seed 001) and the confirmation

/// What the wizard carries after granting: the users of this onboarding,
/// the grants made (`id|1` when new), the metadata saved (`user|application`,
/// then `|emailed` when the save queued the academy email) and still to
/// fill (`user|application`).
#[derive(Default)]
struct Trail {
    users: Vec<String>,
    grants: Vec<String>,
    saved: Vec<String>,
    queue: Vec<String>,
}

impl Trail {
    fn from_form(form: &super::Fields) -> Self {
        let all = |name: &str| form.all(name).into_iter().map(str::to_string).collect();
        Self { users: all("user"), grants: all("grant"), saved: all("saved"), queue: all("queue") }
    }
}

#[derive(Template)]
#[template(path = "onboard_metadata.html")]
struct MetadataStepPage {
    layout: Layout,
    csrf: String,
    user_name: String,
    user_email: String,
    form: MetadataForm,
    trail: Trail,
}

/// The next metadata form to fill, or the confirmation when none is left.
async fn next_step(
    state: &AppState,
    viewer: &WebUser,
    trail: Trail,
    refused_with: Option<(FormErrors, &super::Fields)>,
) -> WebResult {
    let Some((user_id, application)) = trail.queue.first().and_then(|s| s.split_once('|')) else {
        return confirmation(state, viewer, &trail).await;
    };
    let app = state.catalogue.application(application).ok_or(ApiError::NotFound)?;
    let user = people::person(state, &viewer.principal, user_id).await?;
    let saved = ops::preferences::metadata(state, &viewer.principal, &user.id, &app.key).await?;
    let (values, errors) = match &refused_with {
        Some((errors, form)) => (metadata_from_form(&app.metadata_schema, form), errors.clone()),
        None => (saved, FormErrors::default()),
    };
    let step = MetadataStepPage {
        layout: viewer.layout(state, format!("{} metadata", app.name), Section::Users),
        csrf: viewer.csrf.clone(),
        user_name: user.full_name(),
        user_email: user.email.clone(),
        form: MetadataForm {
            application: app.key.clone(),
            name: app.name.clone(),
            fields: metadata_fields(&app.metadata_schema, &values),
            errors,
            denied: None,
        },
        trail,
    };
    if refused_with.is_some() {
        refused(&step)
    } else {
        page(&step)
    }
}

/// Save metadata (or Skip) for the user at the head of the queue.
pub async fn metadata_action(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let mut trail = Trail::from_form(&post.form);
    let Some(current) = trail.queue.first().cloned() else {
        return confirmation(&state, viewer, &trail).await;
    };
    if post.form.get("action") == "save" {
        let (user_id, application) = current.split_once('|').unwrap_or((&current, ""));
        let app = state.catalogue.application(application).ok_or(ApiError::NotFound)?;
        let values = metadata_from_form(&app.metadata_schema, &post.form);
        let actor = viewer.actor();
        match ops::preferences::save_metadata(&state, &viewer.principal, &actor, user_id, &app.key, &values).await {
            Ok(saved) if saved.academy_link.is_some() => trail.saved.push(format!("{current}|emailed")),
            Ok(_) => trail.saved.push(current.clone()),
            Err(e @ (ApiError::Invalid(_) | ApiError::Forbidden(_))) => {
                let known: Vec<&str> = app.metadata_schema.iter().map(|f| f.key.as_str()).collect();
                let errors = FormErrors::from_error(e, &known)?;
                return next_step(&state, viewer, trail, Some((errors, &post.form))).await;
            }
            Err(other) => return Err(other.into()),
        }
    }
    trail.queue.remove(0);
    next_step(&state, viewer, trail, None).await
}

struct ConfirmRole {
    label: String,
    new: bool,
}

struct SavedFor {
    application: String,
    /// The link the academy email carries, which an admin may also share.
    emailed_link: Option<String>,
}

struct ConfirmUser {
    id: String,
    name: String,
    email: String,
    roles: Vec<ConfirmRole>,
    metadata: Vec<SavedFor>,
}

#[derive(Template)]
#[template(path = "onboard_confirmation.html")]
struct ConfirmationPage {
    layout: Layout,
    users: Vec<ConfirmUser>,
    granted: usize,
}

/// Every user of this onboarding and every role just granted to them.
async fn confirmation(state: &AppState, viewer: &WebUser, trail: &Trail) -> WebResult {
    let entries: Vec<(&str, &str)> = trail.grants.iter().map(|e| e.split_once('|').unwrap_or((e, "0"))).collect();
    let ids: Vec<&str> = entries.iter().map(|(id, _)| *id).collect();
    let (people, found) = ops::onboarded(state, &viewer.principal, &trail.users, &ids).await?;
    let productions = ops::platform::productions(state).await?;
    let mut users: Vec<ConfirmUser> = people
        .iter()
        .map(|u| ConfirmUser {
            id: u.id.clone(),
            name: u.full_name(),
            email: u.email.clone(),
            roles: vec![],
            metadata: trail
                .saved
                .iter()
                .filter_map(|s| s.split_once('|'))
                .filter(|(user, _)| *user == u.id)
                .filter_map(|(_, saved)| {
                    let (key, emailed) = saved.split_once('|').map_or((saved, false), |(k, e)| (k, e == "emailed"));
                    let app = state.catalogue.application(key)?;
                    Some(SavedFor {
                        application: app.name.clone(),
                        emailed_link: (emailed && app.key == starship_core::catalogue::keys::PRODUCTION_ACADEMY)
                            .then(|| app.url.clone()),
                    })
                })
                .collect(),
        })
        .collect();
    let mut granted = 0;
    for ((_, new), grant) in entries.iter().zip(found) {
        let Some(grant) = grant else { continue };
        let Some(user) = users.iter_mut().find(|u| u.id == grant.user_id) else { continue };
        let production = grant.role.production.map(|p| p.get());
        user.roles.push(ConfirmRole {
            label: role_label(state, &productions, &grant.role.application, &grant.role.role, production),
            new: *new == "1",
        });
        granted += 1;
    }
    page(&ConfirmationPage { layout: viewer.layout(state, "Onboarding complete", Section::Users), users, granted })
}
