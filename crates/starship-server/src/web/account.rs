//! My Account and the profile of another user: the tabs of seed 000 (Roles,
//! Starship Admin Privileges, Notifications, Application Metadata, History),
//! and the forms on them.

use starship_core::ids::{AdminPrivilegeId, ApiTokenId, ApplicationKey, GrantId, PartnerId, UserId};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;
use starship_core::authz::{self, SignedInWith};
use starship_core::catalogue::{AdminScope, Catalogue, RequestedRole, RoleRef};
use starship_core::domain::{ProductionId, TokenLifetime};
use starship_core::history::{Group, Kind, Language};
use starship_core::preferences::{CustomChoice, SettingSource};
use starship_core::time_fmt::{end_of_day_millis, last_day, last_day_iso, millis_from_rfc3339};
use starship_core::FieldError;
use starship_store::history::Entry;

use super::page::{word, ProfileAt, ProfileDone, ProfileTab};
use super::widgets::{
    grantable_roles, metadata_fields, metadata_from_form, packed_form_value, production_labels, Choice, Malformed,
    MetadataForm,
};
use super::{
    capitalised, page, refused, see_other, when, Action, Button, Fields, FormErrors, Layout, Page, Section, WebPost,
    WebResult, WebUser,
};
use crate::ops::preferences::ChoiceChange;
use crate::ops::tokens::Minted;
use crate::ops::users::{profile_view, RoleGrantView, UserProfile};
use crate::ops::OperationError;
use crate::ops::{self, users};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct ProfileQuery {
    #[serde(default, deserialize_with = "word")]
    tab: Option<ProfileTab>,
    /// History: the cursor of the last entry of the previous page.
    #[serde(default)]
    before: Option<String>,
    /// What the last form did, for the status message.
    #[serde(default, deserialize_with = "word")]
    done: Option<ProfileDone>,
    /// History: which entries to show (see `HistoryShown`).
    #[serde(default)]
    show: Option<String>,
    /// What was just removed, to offer it back: a `RemovedRole` on the
    /// Roles tab, a `ScopeValue` on the admin privileges tab.
    #[serde(default)]
    undo: Option<String>,
}

/// The Undo button beside "Role removed." or "Admin privilege removed.":
/// a form that grants the same thing again, under the rule that grants it.
struct Undo {
    action: Action,
    fields: Vec<(&'static str, String)>,
    /// What it gives back: "Academy User on Home Theater Demo - MID".
    what: String,
}

/// A removed role as its Undo carries it in the address:
/// `application|role|production|end`, the production and the end (epoch
/// milliseconds) empty when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RemovedRole {
    role: RoleRef,
    end: Option<i64>,
}

impl fmt::Display for RemovedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let production = self.role.production.map(|p| p.to_string()).unwrap_or_default();
        let end = self.end.map(|e| e.to_string()).unwrap_or_default();
        write!(f, "{}|{}|{production}|{end}", self.role.application, self.role.role)
    }
}

impl FromStr for RemovedRole {
    type Err = Malformed;

    fn from_str(value: &str) -> Result<Self, Malformed> {
        let malformed = Malformed("the removed role");
        let [application, role, production, end] = value.split('|').collect::<Vec<_>>()[..] else {
            return Err(malformed);
        };
        if application.is_empty() || role.is_empty() {
            return Err(malformed);
        }
        let end = match end {
            "" => None,
            end => Some(end.parse().map_err(|_| malformed.clone())?),
        };
        let role = RoleRef {
            application: application.into(),
            role: role.into(),
            production: optional_production(production).ok_or(malformed)?,
        };
        Ok(Self { role, end })
    }
}

/// An admin privilege as the Add admin privileges select (and the Undo of
/// a removal) carries it: `application`, or `application|production`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct ScopeValue(AdminScope);

impl fmt::Display for ScopeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.production {
            Some(p) => write!(f, "{}|{p}", self.0.application),
            None => write!(f, "{}", self.0.application),
        }
    }
}

impl FromStr for ScopeValue {
    type Err = Malformed;

    fn from_str(value: &str) -> Result<Self, Malformed> {
        let malformed = Malformed("the admin privilege");
        let (application, production) = match value.split('|').collect::<Vec<_>>()[..] {
            [application] => (application, None),
            [application, production] if !production.is_empty() => {
                (application, optional_production(production).ok_or(malformed.clone())?)
            }
            _ => return Err(malformed),
        };
        if application.is_empty() {
            return Err(malformed);
        }
        Ok(Self(AdminScope { application: application.into(), production }))
    }
}

packed_form_value!(ScopeValue);

/// A production id of a packed value, empty for none; `None` when it is
/// no production id at all.
fn optional_production(text: &str) -> Option<Option<ProductionId>> {
    if text.is_empty() {
        Some(None)
    } else {
        text.parse::<i64>().ok().and_then(|p| ProductionId::parse("production", p).ok()).map(Some)
    }
}

/// The Undo offered for `?undo=` on the tab it came from, when the viewer
/// may grant that again; an `undo` that does not read is refused.
fn undo_of(
    state: &AppState,
    viewer: &WebUser,
    user_id: &UserId,
    partner: &PartnerId,
    tab: &str,
    undo: &str,
) -> Result<Option<Undo>, Malformed> {
    let offered = match tab {
        "roles" => {
            let RemovedRole { role: held, end } = undo.parse()?;
            undo_role(state, viewer, user_id, partner, held, end)
        }
        "admin-privileges" => {
            let ScopeValue(scope) = undo.parse()?;
            undo_admin(state, viewer, user_id, partner, scope)
        }
        _ => None,
    };
    Ok(offered)
}

fn undo_role(
    state: &AppState,
    viewer: &WebUser,
    user_id: &UserId,
    partner: &PartnerId,
    held: RoleRef,
    end: Option<i64>,
) -> Option<Undo> {
    let name = state.catalogue.role(&held.application, &held.role)?.name.clone();
    if authz::grant_role(&viewer.principal, partner, &held).is_err() {
        return None;
    }
    let what = match held.production {
        Some(p) => format!("{name} on production {p}"),
        None => name,
    };
    Some(Undo {
        action: Action::RestoreRole { user: user_id.clone() },
        fields: vec![
            ("application", held.application.into_string()),
            ("role", held.role.into_string()),
            ("production", held.production.map(|p| p.to_string()).unwrap_or_default()),
            ("end", end.map(|e| e.to_string()).unwrap_or_default()),
        ],
        what,
    })
}

fn undo_admin(
    state: &AppState,
    viewer: &WebUser,
    user_id: &UserId,
    partner: &PartnerId,
    scope: AdminScope,
) -> Option<Undo> {
    let name = state.catalogue.application(&scope.application)?.name.clone();
    if authz::grant_admin(&viewer.principal, partner, &scope).is_err() {
        return None;
    }
    let what = match scope.production {
        Some(p) => format!("admin privileges for {name} on production {p}"),
        None => format!("admin privileges for {name}"),
    };
    Some(Undo {
        action: Action::add_admin_privilege(user_id),
        fields: vec![("scope", ScopeValue(scope).to_string()), ("undone", "1".to_string())],
        what,
    })
}

pub async fn my_account(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<ProfileQuery>,
) -> WebResult {
    let id = viewer.user.id.clone();
    show(&state, &viewer, &id, &query, Flash::default()).await
}

pub async fn profile(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(id): Path<UserId>,
    Query(query): Query<ProfileQuery>,
) -> WebResult {
    show(&state, &viewer, &id, &query, Flash::default()).await
}

/// A refused form shown again on its tab: its errors, and what was typed.
#[derive(Default)]
struct Flash {
    errors: FormErrors,
    /// The application whose metadata form was refused.
    application: Option<ApplicationKey>,
    /// That metadata form as submitted.
    metadata: Option<Fields>,
    /// The new token form as submitted, when refused.
    token: Option<TokenForm>,
    /// The Add admin privileges dialog opens again.
    reopen_admin: bool,
    /// A token just made, its secret shown this once.
    minted: Option<Minted>,
}

struct TabLink {
    key: &'static str,
    label: &'static str,
    href: String,
}

struct RoleRow {
    application: String,
    role: String,
    production: Option<String>,
    capabilities: Vec<String>,
    /// Where the Remove form posts, when the viewer may revoke the role.
    revoke: Option<Action>,
    /// Why the person holds it: "granted by Mara Masters on 3 May 2026".
    why: String,
    /// "until 3 May 2027" beside a role that ends.
    until: Option<String>,
    /// Where the end-date form posts, under the rule that grants the role,
    /// with the date it shows (`2027-05-03`, empty for no end).
    end_date: Option<(Action, String)>,
}

struct AdminRow {
    application: String,
    production: Option<String>,
    granted_at: String,
    /// Where the Remove form posts, when the viewer may remove it.
    remove: Option<Action>,
}

struct AdminTab {
    rows: Vec<AdminRow>,
    /// The privileges the viewer may grant this user.
    options: Vec<Choice>,
    open: bool,
}

struct NotificationRow {
    key: String,
    name: String,
    description: String,
    enabled: bool,
    custom: bool,
}

struct NotificationGroup {
    application: ApplicationKey,
    name: String,
    can_change: bool,
    rows: Vec<NotificationRow>,
}

struct HistoryRow {
    at: String,
    at_iso: String,
    actor: String,
    source: &'static str,
    action: String,
    details: String,
}

/// One option of the History filter; `depth` 1 for a single kind under its group.
struct FilterChoice {
    value: String,
    label: String,
    depth: u8,
    selected: bool,
}

/// Which History entries the tab shows. Sign-ins outnumber everything else,
/// so they are left out unless asked for.
#[derive(Clone, Copy, PartialEq)]
enum HistoryShown {
    AllButSignIns,
    Everything,
    Group(Group),
    One(Kind),
}

impl HistoryShown {
    fn parse(show: Option<&str>) -> Self {
        match show.unwrap_or_default() {
            "all" => Self::Everything,
            other => Group::parse(other)
                .map(Self::Group)
                .or_else(|| Kind::parse(other).map(Self::One))
                .unwrap_or(Self::AllButSignIns),
        }
    }

    fn key(self) -> String {
        match self {
            Self::AllButSignIns => String::new(),
            Self::Everything => "all".into(),
            Self::Group(group) => group.key().into(),
            Self::One(kind) => kind.as_str().into(),
        }
    }

    /// The kinds to read; empty reads every kind.
    fn kinds(self) -> Vec<Kind> {
        match self {
            Self::AllButSignIns => Kind::ALL.into_iter().filter(|k| !k.hidden_by_default()).collect(),
            Self::Everything => vec![],
            Self::Group(group) => group.kinds().collect(),
            Self::One(kind) => vec![kind],
        }
    }

    fn choices(self, language: Language) -> Vec<FilterChoice> {
        let (all_but, everything) = match language {
            Language::English => ("Everything but sign-ins", "Everything"),
            Language::French => ("Tout sauf les connexions", "Tout"),
            Language::Spanish => ("Todo menos los inicios de sesión", "Todo"),
        };
        let mut choices = vec![];
        for (option, label) in [(Self::AllButSignIns, all_but), (Self::Everything, everything)] {
            choices.push(FilterChoice { value: option.key(), label: label.into(), depth: 0, selected: self == option });
        }
        for group in Group::ALL {
            let option = Self::Group(group);
            choices.push(FilterChoice {
                value: option.key(),
                label: group.label(language).into(),
                depth: 0,
                selected: self == option,
            });
            for kind in group.kinds() {
                let option = Self::One(kind);
                choices.push(FilterChoice {
                    value: option.key(),
                    label: kind.label(language).into(),
                    depth: 1,
                    selected: self == option,
                });
            }
        }
        choices
    }
}

struct TokenRow {
    id: ApiTokenId,
    name: String,
    created: String,
    last_used: Option<String>,
    expires: String,
}

/// The Personal API tokens tab of one's own account.
struct TokensTab {
    rows: Vec<TokenRow>,
    /// The token just made: its name and secret.
    created: Option<(String, String)>,
    /// What the New token form holds.
    name: String,
    days: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
    csrf: String,
    own: bool,
    profile: UserProfile,
    tabs: Vec<TabLink>,
    tab: &'static str,
    can_onboard: bool,
    /// Deactivate or reactivate, under the rule for acting on a person.
    can_deactivate: bool,
    /// One's partner's SCIM tokens page, for those who may create its users.
    scim_tokens: Option<String>,
    notice: Option<&'static str>,
    undo: Option<Undo>,
    errors: FormErrors,
    application_roles: Vec<RoleRow>,
    production_roles: Vec<RoleRow>,
    admin: Option<AdminTab>,
    notifications: Vec<NotificationGroup>,
    notifications_denied: Option<String>,
    metadata: Vec<MetadataForm>,
    history: Vec<HistoryRow>,
    history_denied: Option<String>,
    history_filter: Vec<FilterChoice>,
    older: Option<String>,
    tokens: Option<TokensTab>,
}

impl ProfilePage {
    /// A refused Add admin privileges form shows its errors in its dialog.
    fn errors_in_dialog(&self) -> bool {
        self.tab == "admin-privileges" && self.admin.as_ref().is_some_and(|a| a.open)
    }

    fn initials(&self) -> String {
        let first = self.profile.first_name.chars().next();
        let last = self.profile.last_name.chars().next();
        first.into_iter().chain(last).flat_map(char::to_uppercase).collect()
    }
}

/// A user's profile at `at`: `/` for one's own.
fn profile_page(viewer: &WebUser, user_id: &UserId, at: ProfileAt) -> Page {
    Page::profile(&viewer.user.id, user_id, at)
}

fn scope_label(catalogue: &Catalogue, labels: &HashMap<i64, String>, scope: &AdminScope) -> String {
    let app = catalogue.application(&scope.application).map_or(scope.application.as_str(), |a| a.name.as_str());
    match scope.production {
        Some(p) => format!("{app} — {}", labels.get(&p.get()).cloned().unwrap_or_else(|| p.to_string())),
        None => app.to_string(),
    }
}

/// The admin privileges the viewer may hand this user: each of their own
/// (every application for operators) that the rules allow.
fn grantable_scopes(
    state: &AppState,
    viewer: &WebUser,
    partner: &PartnerId,
    labels: &HashMap<i64, String>,
) -> Vec<Choice> {
    let candidates: Vec<AdminScope> = if viewer.principal.operator {
        state
            .catalogue
            .applications
            .iter()
            .map(|a| AdminScope { application: a.key.clone(), production: None })
            .collect()
    } else {
        viewer.principal.admin.clone()
    };
    candidates
        .into_iter()
        .filter(|scope| authz::grant_admin(&viewer.principal, partner, scope).is_ok())
        .map(|scope| Choice {
            name: scope_label(&state.catalogue, labels, &scope),
            value: ScopeValue(scope).to_string(),
            description: String::new(),
            selected: false,
        })
        .collect()
}

async fn show(state: &AppState, viewer: &WebUser, user_id: &UserId, query: &ProfileQuery, flash: Flash) -> WebResult {
    let user = if *user_id == viewer.user.id {
        viewer.user.clone()
    } else {
        users::person(state, &viewer.principal, user_id).await?
    };
    let profile = profile_view(state, &viewer.principal, &user).await?;
    let productions = crate::ops::platform::productions(state).await?;
    let labels = production_labels(&productions);
    let own = user.id == viewer.user.id;
    let partner = user.partner().clone();
    let tab_href = |tab: ProfileTab| profile_page(viewer, &user.id, ProfileAt::tab(tab)).to_string();

    let scopes = if own || profile.admin_privileges.is_none() {
        vec![]
    } else {
        grantable_scopes(state, viewer, &partner, &labels)
    };
    let mut tabs = vec![TabLink { key: "roles", label: "Roles", href: tab_href(ProfileTab::Roles) }];
    if profile.tabs.contains(&"admin-privileges") || !scopes.is_empty() {
        tabs.push(TabLink {
            key: "admin-privileges",
            label: "Starship Admin Privileges",
            href: tab_href(ProfileTab::AdminPrivileges),
        });
    }
    for (tab, label) in [
        (ProfileTab::Notifications, "Notifications"),
        (ProfileTab::Metadata, "Application Metadata"),
        (ProfileTab::History, "History"),
    ] {
        if profile.tabs.contains(&tab.as_str()) {
            tabs.push(TabLink { key: tab.as_str(), label, href: tab_href(tab) });
        }
    }
    if own {
        tabs.push(TabLink { key: "tokens", label: "Personal API tokens", href: tab_href(ProfileTab::Tokens) });
    }
    let tab = tabs.iter().find(|t| Some(t.key) == query.tab.map(ProfileTab::as_str)).map_or("roles", |t| t.key);

    let role_row = |r: &RoleGrantView| {
        let role = RoleRef {
            application: r.application.clone(),
            role: r.role.clone(),
            production: r.production.and_then(|p| ProductionId::parse("production", p).ok()),
        };
        RoleRow {
            application: r.application_name.clone(),
            role: r.role_name.clone(),
            production: r.production.map(|p| labels.get(&p).cloned().unwrap_or_else(|| p.to_string())),
            capabilities: r.capabilities.iter().map(|c| c.name.clone()).collect(),
            revoke: authz::grant_role(&viewer.principal, &partner, &role)
                .is_ok()
                .then(|| Action::RevokeRole { user: user.id.clone(), grant: r.id.clone() }),
            why: role_why(r),
            until: r.expires_at.as_deref().and_then(millis_from_rfc3339).map(|end| format!("until {}", last_day(end))),
            end_date: authz::grant_role(&viewer.principal, &partner, &role).is_ok().then(|| {
                let shown = r.expires_at.as_deref().and_then(millis_from_rfc3339).map(last_day_iso).unwrap_or_default();
                (Action::SetRoleEnd { user: user.id.clone(), grant: r.id.clone() }, shown)
            }),
        }
    };
    let application_roles = profile.roles.iter().filter(|r| r.production.is_none()).map(role_row).collect();
    let production_roles = profile.roles.iter().filter(|r| r.production.is_some()).map(role_row).collect();

    let admin = (tab == "admin-privileges").then(|| AdminTab {
        rows: profile
            .admin_privileges
            .iter()
            .flatten()
            .map(|p| AdminRow {
                application: p.application_name.clone(),
                production: p.production.map(|id| labels.get(&id).cloned().unwrap_or_else(|| id.to_string())),
                granted_at: p.granted_at.get(..10).unwrap_or_default().to_string(),
                remove: p
                    .production
                    .map(|id| ProductionId::parse("production", id))
                    .transpose()
                    .ok()
                    .map(|production| AdminScope { application: p.application.clone(), production })
                    .filter(|scope| authz::grant_admin(&viewer.principal, &partner, scope).is_ok())
                    .map(|_| Action::RemoveAdminPrivilege { user: user.id.clone(), privilege: p.id.clone() }),
            })
            .collect(),
        options: scopes,
        open: flash.reopen_admin,
    });

    let (mut notifications, mut notifications_denied) = (vec![], None);
    if tab == "notifications" {
        match ops::preferences::notification_settings(state, &viewer.principal, &user.id).await {
            Ok(settings) => {
                let held: Vec<RoleRef> = profile
                    .roles
                    .iter()
                    .map(|r| RoleRef {
                        application: r.application.clone(),
                        role: r.role.clone(),
                        production: r.production.and_then(|p| ProductionId::parse("production", p).ok()),
                    })
                    .collect();
                notifications = notification_groups(state, viewer, (&user.id, &partner), &held, settings)
            }
            Err(OperationError::Forbidden(why)) => notifications_denied = Some(capitalised(why)),
            Err(other) => return Err(other.into()),
        }
    }

    let mut metadata = vec![];
    if tab == "metadata" {
        for app in state.catalogue.applications.iter().filter(|a| !a.metadata_schema.is_empty()) {
            if !profile.roles.iter().any(|r| r.application == app.key) {
                continue;
            }
            let refused_here = flash.application.as_deref() == Some(app.key.as_str());
            let mut form = MetadataForm {
                application: app.key.clone(),
                name: app.name.clone(),
                fields: vec![],
                errors: if refused_here { flash.errors.clone() } else { FormErrors::default() },
                denied: None,
            };
            match ops::preferences::metadata(state, &viewer.principal, &user.id, &app.key).await {
                Ok(values) => {
                    let values = match (&flash.metadata, refused_here) {
                        (Some(submitted), true) => metadata_from_form(&app.metadata_schema, submitted),
                        _ => values,
                    };
                    form.fields = metadata_fields(&app.metadata_schema, &values);
                }
                Err(OperationError::Forbidden(why)) => form.denied = Some(capitalised(why)),
                Err(other) => return Err(other.into()),
            }
            metadata.push(form);
        }
    }

    let (mut history, mut history_denied, mut older, mut history_filter) = (vec![], None, None, vec![]);
    if tab == "history" {
        const PAGE: i64 = 50;
        let before = query.before.as_deref().and_then(|c| {
            let (at, id) = c.split_once('.')?;
            Some((at.parse::<i64>().ok()?, id))
        });
        let shown = HistoryShown::parse(query.show.as_deref());
        let language = Language::of_locale(&viewer.user.locale);
        history_filter = shown.choices(language);
        match users::user_history(state, &viewer.principal, &user.id, before, &shown.kinds(), PAGE).await {
            Ok((_, entries)) => {
                if entries.len() as i64 == PAGE {
                    older = entries.last().map(|e| {
                        let at = ProfileAt {
                            history: Some((shown.key(), format!("{}.{}", e.at, e.id))),
                            ..ProfileAt::tab(ProfileTab::History)
                        };
                        profile_page(viewer, &user.id, at).to_string()
                    });
                }
                history = entries.iter().map(|e| history_row(&state.catalogue, e, language)).collect();
            }
            Err(OperationError::Forbidden(why)) => history_denied = Some(capitalised(why)),
            Err(other) => return Err(other.into()),
        }
    }

    let mut tokens = None;
    if tab == "tokens" {
        let rows = ops::tokens::list(state, &viewer.user)
            .await?
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                created: when(t.created_at),
                last_used: t.last_used_at.map(when),
                expires: when(t.expires_at),
            })
            .collect();
        let submitted = flash.token.as_ref().filter(|_| flash.minted.is_none());
        tokens = Some(TokensTab {
            rows,
            created: flash.minted.map(|m| (m.token.name, m.secret)),
            name: submitted.map(|f| f.name.clone()).unwrap_or_default(),
            days: submitted.map_or_else(|| TokenLifetime::DEFAULT_DAYS.to_string(), |f| f.expires_in_days.clone()),
        });
    }

    let can_onboard = !own
        && user.partner_id.is_some()
        && !grantable_roles(state, &viewer.principal, &partner, &productions).is_empty();
    let can_deactivate = if own || user.partner_id.is_none() {
        false
    } else {
        let held = crate::ops::session::principal_of(state, &user).await?;
        let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
        let rule = authz::administer_person(&viewer.principal, &state.catalogue, (&user.id, &partner), standing);
        authz::act_on_person(&viewer.principal, &held, rule).is_ok()
    };
    let notice = query.done.map(|done| match done {
        ProfileDone::Deactivated => "Deactivated: they cannot sign in and their roles do not count until reactivated.",
        ProfileDone::Reactivated => "Reactivated: sign-in and every role are back.",
        ProfileDone::Metadata => "Metadata saved.",
        ProfileDone::MetadataEmailed => {
            "Metadata saved. An email with the link to Production Academy was queued for them."
        }
        ProfileDone::Admin => "Admin privileges added.",
        ProfileDone::AdminRemoved => "Admin privilege removed.",
        ProfileDone::AdminRestored => "Admin privilege given back.",
        ProfileDone::RoleRevoked => "Role removed.",
        ProfileDone::RoleRestored => "Role given back.",
        ProfileDone::RoleEndSet => "The role's end date is saved.",
        ProfileDone::Notifications => "Notification settings saved.",
        ProfileDone::TokenRevoked => "Token revoked: it no longer works.",
    });
    let undo = match query.undo.as_deref() {
        Some(undo) => undo_of(state, viewer, &user.id, &partner, tab, undo)?,
        None => None,
    };
    let scim_tokens = match (own, viewer.user.partner_id.as_ref()) {
        (true, Some(partner)) if authz::create_user(&viewer.principal, &state.catalogue, partner).is_ok() => {
            Some(Page::scim_tokens(partner).to_string())
        }
        _ => None,
    };
    let title = if own { "My Account".to_string() } else { format!("{} {}", profile.first_name, profile.last_name) };
    let section = if own { Section::Account } else { Section::Users };
    let page_view = ProfilePage {
        layout: viewer.layout(state, title, section),
        csrf: viewer.csrf.clone(),
        own,
        profile,
        tabs,
        tab,
        can_onboard,
        can_deactivate,
        scim_tokens,
        notice,
        undo,
        errors: if flash.application.is_none() { flash.errors } else { FormErrors::default() },
        application_roles,
        production_roles,
        admin,
        notifications,
        notifications_denied,
        metadata,
        history,
        history_denied,
        history_filter,
        older,
        tokens,
    };
    if page_view.errors.is_empty() && page_view.metadata.iter().all(|m| m.errors.is_empty()) {
        page(&page_view)
    } else {
        refused(&page_view)
    }
}

fn notification_groups(
    state: &AppState,
    viewer: &WebUser,
    target: (&UserId, &PartnerId),
    target_roles: &[RoleRef],
    settings: Vec<starship_core::preferences::NotificationSetting>,
) -> Vec<NotificationGroup> {
    let mut groups: Vec<NotificationGroup> = Vec::new();
    for setting in settings {
        let app = state.catalogue.application(&setting.application);
        if groups.last().is_none_or(|g| g.application != setting.application) {
            groups.push(NotificationGroup {
                application: setting.application.clone(),
                name: app.map_or_else(|| setting.application.to_string(), |a| a.name.clone()),
                can_change: authz::user_metadata(&viewer.principal, target, target_roles, &setting.application).is_ok(),
                rows: vec![],
            });
        }
        let description = app
            .and_then(|a| a.notification_types.iter().find(|t| t.key == setting.notification_type))
            .map(|t| t.description.clone())
            .unwrap_or_default();
        if let Some(group) = groups.last_mut() {
            group.rows.push(NotificationRow {
                key: setting.notification_type,
                name: setting.name,
                description,
                enabled: setting.enabled,
                custom: setting.source == SettingSource::Custom,
            });
        }
    }
    groups
}

/// A History entry's details in one line, with names for catalogue keys
/// and without internal ids or raw JSON.
fn summarise(catalogue: &Catalogue, details: &Value) -> String {
    let Some(object) = details.as_object() else {
        return readable(details);
    };
    let application = object.get("application").and_then(Value::as_str);
    let mut parts = Vec::new();
    for (key, value) in object {
        if key.ends_with("_id") || key == "demo" || value.is_null() {
            continue;
        }
        let shown = match (key.as_str(), value) {
            ("application", Value::String(a)) => catalogue.application(a).map_or_else(|| a.clone(), |a| a.name.clone()),
            ("role", Value::String(r)) => {
                application.and_then(|a| catalogue.role(a, r)).map_or_else(|| r.clone(), |r| r.name.clone())
            }
            (_, Value::Object(_) | Value::Array(_)) => summarise(catalogue, value),
            (_, other) => readable(other),
        };
        if !shown.is_empty() {
            parts.push(format!("{}: {shown}", key.replace('_', " ")));
        }
    }
    parts.join(" · ")
}

/// A value as words: lists joined, nested records in brackets, no quotes.
fn readable(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(o) => format!(
                    "({})",
                    o.iter()
                        .filter(|(k, v)| !k.ends_with("_id") && !v.is_null())
                        .map(|(k, v)| format!("{}: {}", k.replace('_', " "), readable(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => readable(other),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(o) => o
            .iter()
            .filter(|(k, v)| !k.ends_with("_id") && !v.is_null())
            .map(|(k, v)| format!("{}: {}", k.replace('_', " "), readable(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Who made a change, in words: "system" alone says nothing to a reader.
fn actor_words(entry: &Entry) -> String {
    if entry.actor_id.is_none() && entry.actor == "system" {
        return "Starship".to_string();
    }
    entry.actor.clone()
}

/// Where a change came from, in words.
fn source_words(source: &str, language: Language) -> &'static str {
    use Language::{English as En, French as Fr, Spanish as Es};
    match (source, language) {
        ("api", En) => "through the API",
        ("api", Fr) => "par l’API",
        ("api", Es) => "mediante la API",
        ("web", En) => "on the website",
        ("web", Fr) => "sur le site",
        ("web", Es) => "en el sitio web",
        ("cli", En) => "from the command line",
        ("cli", Fr) => "en ligne de commande",
        ("cli", Es) => "desde la línea de comandos",
        ("scim", En) => "by the partner's directory (SCIM)",
        ("scim", Fr) => "par l’annuaire du partenaire (SCIM)",
        ("scim", Es) => "por el directorio del socio (SCIM)",
        (_, En) => "automatically",
        (_, Fr) => "automatiquement",
        (_, Es) => "automáticamente",
    }
}

fn history_row(catalogue: &Catalogue, entry: &Entry, language: Language) -> HistoryRow {
    HistoryRow {
        at: when(entry.at),
        at_iso: starship_core::time_fmt::rfc3339_from_millis(entry.at),
        actor: actor_words(entry),
        source: source_words(&entry.source, language),
        // An entry written by a newer Starship than this one shows its stored name.
        action: Kind::parse(&entry.action).map_or_else(|| entry.action.clone(), |k| k.label(language).to_string()),
        details: summarise(catalogue, &entry.details),
    }
}

/// One notification's switch on the Notifications tab.
#[derive(Deserialize)]
pub struct NotificationForm {
    #[serde(default)]
    application: String,
    #[serde(default, rename = "type")]
    notification_type: String,
    action: NotificationAction,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum NotificationAction {
    On,
    Off,
    /// Back to the application's default.
    Default,
}

pub async fn change_notification(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    post: WebPost<NotificationForm>,
) -> WebResult {
    let NotificationForm { application, notification_type, action } = post.form;
    let change = match action {
        NotificationAction::Default => ChoiceChange::Reset { application: application.into(), notification_type },
        action => ChoiceChange::Set(CustomChoice {
            application: application.into(),
            notification_type,
            enabled: action == NotificationAction::On,
        }),
    };
    let query = ProfileQuery { tab: Some(ProfileTab::Notifications), ..Default::default() };
    match ops::preferences::change_notifications(&state, &post.user.principal, &post.user.actor(), &id, &[change]).await
    {
        Ok(_) => see_other(profile_page(
            &post.user,
            &id,
            ProfileAt::tab(ProfileTab::Notifications).and_done(ProfileDone::Notifications),
        )),
        Err(e @ (OperationError::Invalid(_) | OperationError::Forbidden(_))) => {
            let flash = Flash { errors: FormErrors::from_error(e, &[])?, ..Default::default() };
            show(&state, &post.user, &id, &query, flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Saves an application's metadata from the Application Metadata tab. The
/// form stays `Fields`: its field names are the application's metadata keys.
pub async fn save_metadata(
    State(state): State<AppState>,
    Path((id, application)): Path<(UserId, String)>,
    post: WebPost<Fields>,
) -> WebResult {
    let app = state.catalogue.application(&application).ok_or(OperationError::NotFound)?;
    let values = metadata_from_form(&app.metadata_schema, &post.form);
    let actor = post.user.actor();
    match ops::preferences::save_metadata(&state, &post.user.principal, &actor, &id, &app.key, &values).await {
        Ok(saved) => {
            let done = if saved.academy_link.is_some() { ProfileDone::MetadataEmailed } else { ProfileDone::Metadata };
            see_other(profile_page(&post.user, &id, ProfileAt::tab(ProfileTab::Metadata).and_done(done)))
        }
        Err(e @ (OperationError::Invalid(_) | OperationError::Forbidden(_))) => {
            let known: Vec<&str> = app.metadata_schema.iter().map(|f| f.key.as_str()).collect();
            let flash = Flash {
                errors: FormErrors::from_error(e, &known)?,
                application: Some(app.key.clone()),
                metadata: Some(post.form.clone()),
                ..Default::default()
            };
            let query = ProfileQuery { tab: Some(ProfileTab::Metadata), ..Default::default() };
            show(&state, &post.user, &id, &query, flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// "granted by Mara Masters on 3 May 2026": the Roles tab's why, beside
/// the capabilities the role opens.
fn role_why(r: &RoleGrantView) -> String {
    let on = millis_from_rfc3339(&r.granted_at).map(starship_core::time_fmt::day).unwrap_or_default();
    match &r.granted_by {
        Some(by) => format!("granted by {} on {on}", by.name),
        None => format!("granted on {on}"),
    }
}

/// A role's end: a date, or empty for none.
#[derive(Deserialize)]
pub struct RoleEndForm {
    #[serde(default)]
    until: String,
}

/// Sets, changes or removes (an empty date) the end of one of a person's
/// roles from their Roles tab: a grant under the rule that grants the role.
pub async fn set_role_end(
    State(state): State<AppState>,
    Path((id, grant_id)): Path<(UserId, GrantId)>,
    post: WebPost<RoleEndForm>,
) -> WebResult {
    let until = post.form.until.trim().to_string();
    let outcome = async {
        let end = if until.is_empty() {
            None
        } else {
            let end = end_of_day_millis(&until).ok_or_else(|| FieldError::new("until", "give the end as a date"))?;
            if end <= starship_store::now_millis() {
                return Err(FieldError::new("until", "the end must be in the future").into());
            }
            Some(end)
        };
        ops::grants::set_role_end(&state, &post.user.principal, &post.user.actor(), &id, &grant_id, end).await
    }
    .await;
    match outcome {
        Ok(()) => see_other(profile_page(&post.user, &id, ProfileAt::done(ProfileDone::RoleEndSet))),
        Err(OperationError::Invalid(invalid)) => {
            let general = invalid.0.into_iter().map(|e| capitalised(&e.reason)).collect();
            let flash = Flash { errors: FormErrors { general, ..Default::default() }, ..Default::default() };
            show(&state, &post.user, &id, &ProfileQuery::default(), flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Removes one of a person's roles from their Roles tab.
pub async fn revoke_role(
    State(state): State<AppState>,
    Path((id, grant_id)): Path<(UserId, GrantId)>,
    post: WebPost<Button>,
) -> WebResult {
    match ops::grants::revoke(&state, &post.user.principal, &post.user.actor(), &grant_id, Some(&id)).await {
        Ok((_, grant)) => {
            let undo = RemovedRole { role: grant.role, end: grant.expires_at }.to_string();
            see_other(profile_page(&post.user, &id, ProfileAt::done(ProfileDone::RoleRevoked).and_undo(undo)))
        }
        Err(OperationError::Conflict(why)) => {
            let flash = Flash {
                errors: FormErrors { general: vec![capitalised(&why)], ..Default::default() },
                ..Default::default()
            };
            show(&state, &post.user, &id, &ProfileQuery::default(), flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The Undo after removing a role: grants the same role again, with the
/// same end, under the rule that grants it.
/// The role a removal took away, as its Undo carries it back.
#[derive(Deserialize)]
pub struct RestoreRoleForm {
    #[serde(default)]
    application: String,
    #[serde(default)]
    role: String,
    /// Empty is none (serde_html_form reads `production=` as `None`).
    #[serde(default)]
    production: Option<i64>,
    #[serde(default)]
    end: Option<i64>,
}

pub async fn restore_role(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    post: WebPost<RestoreRoleForm>,
) -> WebResult {
    let RestoreRoleForm { application, role, production, end } = post.form;
    // An end that passed meanwhile gives nothing back: say so.
    if end.is_some_and(|e| e <= starship_store::now_millis()) {
        let flash = Flash {
            errors: FormErrors {
                general: vec!["The role had ended meanwhile: grant it again with a new end".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        return show(&state, &post.user, &id, &ProfileQuery::default(), flash).await;
    }
    let user_ids = [id.clone()];
    let requested = [RequestedRole { application, role, production }];
    let expiries = [end];
    let request = ops::grants::GrantRequest { user_ids: &user_ids, requested: &requested, expiries: &expiries };
    ops::grants::grant(&state, &post.user.principal, &post.user.actor(), &[request]).await?;
    see_other(profile_page(&post.user, &id, ProfileAt::done(ProfileDone::RoleRestored)))
}

/// Deactivates or reactivates the person of the profile (the form asks
/// first, naming what stops).
/// Deactivate or reactivate, as the profile's button says.
#[derive(Deserialize)]
pub struct DeactivationForm {
    action: DeactivationAction,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DeactivationAction {
    Deactivate,
    Reactivate,
}

pub async fn set_deactivated(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    post: WebPost<DeactivationForm>,
) -> WebResult {
    let deactivate = post.form.action == DeactivationAction::Deactivate;
    users::set_deactivated(&state, &post.user.principal, &post.user.actor(), &id, deactivate).await?;
    let done = if deactivate { ProfileDone::Deactivated } else { ProfileDone::Reactivated };
    see_other(profile_page(&post.user, &id, ProfileAt::done(done)))
}

/// Removes one admin privilege from the Starship Admin Privileges tab.
pub async fn remove_admin_privilege(
    State(state): State<AppState>,
    Path((id, privilege_id)): Path<(UserId, AdminPrivilegeId)>,
    post: WebPost<Button>,
) -> WebResult {
    match ops::grants::remove_admin(&state, &post.user.principal, &post.user.actor(), &id, &privilege_id).await {
        Ok(scope) => {
            let undo = ScopeValue(scope).to_string();
            let at = ProfileAt::tab(ProfileTab::AdminPrivileges).and_done(ProfileDone::AdminRemoved).and_undo(undo);
            see_other(profile_page(&post.user, &id, at))
        }
        Err(OperationError::Conflict(why)) => {
            let flash = Flash {
                errors: FormErrors { general: vec![capitalised(&why)], ..Default::default() },
                ..Default::default()
            };
            let query = ProfileQuery { tab: Some(ProfileTab::AdminPrivileges), ..Default::default() };
            show(&state, &post.user, &id, &query, flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// An admin privilege to give (none when nothing was chosen), and whether
/// it is an Undo.
#[derive(Deserialize)]
pub struct AdminPrivilegeForm {
    #[serde(default)]
    scope: Option<ScopeValue>,
    #[serde(default)]
    undone: Option<String>,
}

pub async fn add_admin_privilege(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    post: WebPost<AdminPrivilegeForm>,
) -> WebResult {
    let outcome = match &post.form.scope {
        Some(ScopeValue(scope)) => {
            let production = scope.production.map(ProductionId::get);
            ops::grants::grant_admin(
                &state,
                &post.user.principal,
                &post.user.actor(),
                &id,
                &scope.application,
                production,
            )
            .await
            .map(|_| ())
        }
        None => Err(FieldError::new("scope", "choose an application").into()),
    };
    match outcome {
        Ok(()) => {
            let done =
                if post.form.undone.as_deref() == Some("1") { ProfileDone::AdminRestored } else { ProfileDone::Admin };
            see_other(profile_page(&post.user, &id, ProfileAt::tab(ProfileTab::AdminPrivileges).and_done(done)))
        }
        Err(e @ (OperationError::Invalid(_) | OperationError::Forbidden(_))) => {
            let mut errors = FormErrors::from_error(e, &["application", "production"])?;
            errors.rename("application", "scope");
            errors.rename("production", "scope");
            if post.form.scope.is_none() {
                errors = FormErrors::field("scope", "Choose an application");
            }
            let flash = Flash { errors, reopen_admin: true, ..Default::default() };
            let query = ProfileQuery { tab: Some(ProfileTab::AdminPrivileges), ..Default::default() };
            show(&state, &post.user, &id, &query, flash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A personal API token to make: an optional name, and its lifetime in
/// days as typed (empty for the default).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    expires_in_days: String,
}

/// Makes a personal API token from the Personal API tokens tab and shows
/// it this once.
pub async fn create_token(State(state): State<AppState>, post: WebPost<TokenForm>) -> WebResult {
    let viewer = &post.user;
    let query = ProfileQuery { tab: Some(ProfileTab::Tokens), ..Default::default() };
    let name = Some(post.form.name.as_str()).filter(|n| !n.trim().is_empty());
    let days = post.form.expires_in_days.trim();
    let outcome = match days.parse::<i64>() {
        Ok(days) => {
            ops::tokens::create(&state, &viewer.user, &viewer.actor(), SignedInWith::Session, name, Some(days)).await
        }
        Err(_) if days.is_empty() => {
            ops::tokens::create(&state, &viewer.user, &viewer.actor(), SignedInWith::Session, name, None).await
        }
        Err(_) => Err(FieldError::new(
            "expires_in_days",
            format!("must be a whole number of days between 1 and {}", TokenLifetime::MAX_DAYS),
        )
        .into()),
    };
    let flash = match outcome {
        Ok(minted) => Flash { minted: Some(minted), ..Default::default() },
        Err(e @ OperationError::Invalid(_)) => Flash {
            errors: FormErrors::from_error(e, &["name", "expires_in_days"])?,
            token: Some(post.form.clone()),
            ..Default::default()
        },
        Err(other) => return Err(other.into()),
    };
    let id = viewer.user.id.clone();
    show(&state, viewer, &id, &query, flash).await
}

/// Revokes one of one's own tokens from the Personal API tokens tab.
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(token_id): Path<ApiTokenId>,
    post: WebPost<Button>,
) -> WebResult {
    ops::tokens::revoke(&state, &post.user.user, &post.user.actor(), &token_id).await?;
    see_other(Page::MyAccount(ProfileAt::tab(ProfileTab::Tokens).and_done(ProfileDone::TokenRevoked)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production(id: i64) -> Option<ProductionId> {
        Some(ProductionId::parse("production", id).unwrap())
    }

    #[test]
    fn a_removed_role_reads_back_what_its_undo_carried() {
        let on_production = RemovedRole {
            role: RoleRef {
                application: "production-academy".into(),
                role: "academy-user".into(),
                production: production(2001),
            },
            end: Some(1_900_000_000_000),
        };
        let app_wide = RemovedRole { role: RoleRef { production: None, ..on_production.role.clone() }, end: None };
        assert_eq!(on_production.to_string(), "production-academy|academy-user|2001|1900000000000");
        assert_eq!(app_wide.to_string(), "production-academy|academy-user||");
        for removed in [on_production, app_wide] {
            assert_eq!(removed.to_string().parse(), Ok(removed));
        }
    }

    #[test]
    fn a_tampered_removed_role_is_refused() {
        for tampered in
            ["", "backlot|viewer", "|viewer||", "backlot|viewer|home|", "backlot|viewer|0|", "backlot|viewer||soon"]
        {
            assert_eq!(tampered.parse::<RemovedRole>(), Err(Malformed("the removed role")), "{tampered:?}");
        }
    }

    #[test]
    fn an_admin_privilege_reads_back_what_the_select_offered() {
        let app_wide = ScopeValue(AdminScope { application: "production-academy".into(), production: None });
        let on_production = ScopeValue(AdminScope { production: production(2001), ..app_wide.0.clone() });
        assert_eq!(app_wide.to_string(), "production-academy");
        assert_eq!(on_production.to_string(), "production-academy|2001");
        for scope in [app_wide, on_production] {
            assert_eq!(scope.to_string().parse(), Ok(scope));
        }
    }

    #[test]
    fn a_tampered_admin_privilege_is_refused() {
        for tampered in ["", "backlot|", "|2001", "backlot|home", "backlot|0", "backlot|2001|2001"] {
            assert_eq!(tampered.parse::<ScopeValue>(), Err(Malformed("the admin privilege")), "{tampered:?}");
        }
    }
}
