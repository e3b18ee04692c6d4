//! Who may do what. Every handler asks here; none decides alone.
//!
//! The rules are small pure functions over a [`Principal`] (the caller, with
//! the grants and admin privileges the store loaded for it) and the target's
//! partner. Anything of another partner is [`Denied::NotFound`]: a partner
//! caller never learns that it exists.

use crate::catalogue::{AdminScope, Catalogue, RoleRef, RoleScope};
use crate::domain::ProductionId;
use crate::ids::{PartnerId, UserId};
use crate::portal::{PortalAction, PortalLevel, Standing};

/// The signed-in caller as the rules see it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The person acting; `None` for the console, which acts for no account.
    pub account: Option<UserId>,
    /// `None` only for platform operators, who belong to no partner.
    pub partner_id: Option<PartnerId>,
    pub operator: bool,
    pub roles: Vec<RoleRef>,
    pub admin: Vec<AdminScope>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The target belongs to another partner (or does not exist): say 404.
    NotFound,
    /// The caller may see the target but not do this: say 403 with the reason.
    Forbidden(&'static str),
    /// Allowed in general, but not in the state things are in: say 409 with the reason.
    Conflict(&'static str),
}

pub type Decision = Result<(), Denied>;

/// A change of access the rules allowed: granting or taking back one role
/// (`Permit<RoleRef>`), one admin privilege (`Permit<AdminScope>`), or
/// setting a person's portal level (`Permit<PortalAccess>`). The store's
/// writes of grants and admin privileges each take the permit for what they
/// write, and only the rules below make one (the field is private), so no
/// access changes unless a rule said yes to that very change.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a permit is for the write it allows"]
pub struct Permit<T>(T);

impl<T> Permit<T> {
    /// What the rule allowed.
    pub fn allows(&self) -> &T {
        &self.0
    }
}

/// The portal access a [`Permit`] allows setting: a level, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortalAccess {
    Level(PortalLevel),
    Revoked,
}

impl PortalAccess {
    /// The Partner Portal role the person holds afterwards, if any.
    pub fn role(self) -> Option<RoleRef> {
        match self {
            Self::Level(level) => Some(level.role()),
            Self::Revoked => None,
        }
    }
}

impl Principal {
    /// Whoever runs the binary's commands on the store's machine: an
    /// operator with no account of their own (History names the CLI).
    pub fn console() -> Self {
        Principal { account: None, partner_id: None, operator: true, roles: Vec::new(), admin: Vec::new() }
    }

    /// The account acting, recorded as who granted; none for the console.
    pub fn acting_user(&self) -> Option<&UserId> {
        self.account.as_ref()
    }

    /// Whether the caller is this person.
    pub fn is(&self, user: &UserId) -> bool {
        self.account.as_ref() == Some(user)
    }

    /// The account acting, for what is recorded as done by a person (who
    /// opened a ticket, registered an appliance, opened a review): the
    /// console has none and is refused.
    pub fn person(&self) -> Result<&UserId, Denied> {
        self.account.as_ref().ok_or(Denied::Forbidden("this is done by a person signed in, not from the console"))
    }

    pub fn is_member_of(&self, partner_id: &PartnerId) -> bool {
        self.partner_id.as_ref() == Some(partner_id)
    }

    pub fn holds_capability(&self, catalogue: &Catalogue, application: &str, capability: &str) -> bool {
        roles_allow(catalogue, &self.roles, application, capability, None)
    }

    pub fn admins_scope(&self, scope: &AdminScope) -> bool {
        self.admin.iter().any(|held| held == scope)
    }

    pub fn admins_application(&self, application: &str) -> bool {
        self.admin.iter().any(|held| held.application == application)
    }

    pub fn is_any_admin(&self) -> bool {
        !self.admin.is_empty()
    }

    /// How far the caller's admin privileges in one application reach.
    pub fn admin_reach(&self, application: &str) -> AdminReach {
        let held: Vec<&AdminScope> = self.admin.iter().filter(|s| s.application == application).collect();
        if held.iter().any(|s| s.production.is_none()) {
            AdminReach::Application
        } else if held.is_empty() {
            AdminReach::Nothing
        } else {
            AdminReach::Productions(held.iter().filter_map(|s| s.production).collect())
        }
    }

    /// Whether the caller's admin privileges reach a person with these
    /// roles: any application-wide admin privilege does; a production's
    /// only a person holding a role on that production.
    pub fn admin_reaches(&self, target_roles: &[RoleRef]) -> bool {
        self.admin.iter().any(|scope| match scope.production {
            None => true,
            Some(production) => {
                target_roles.iter().any(|r| r.application == scope.application && r.production == Some(production))
            }
        })
    }
}

/// What an admin of an application is shown and may act on in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminReach {
    /// The whole application: its admin privilege.
    Application,
    /// Only people and grants on these productions.
    Productions(Vec<ProductionId>),
    Nothing,
}

/// The admin privilege needed to grant or revoke a role: the application's
/// for application roles, the production's for production roles.
pub fn scope_granting(role: &RoleRef) -> AdminScope {
    AdminScope { application: role.application.clone(), production: role.production }
}

/// Whether roles open a capability. Production-scoped roles open it only on
/// the production they were granted on; application roles everywhere.
pub fn roles_allow(
    catalogue: &Catalogue,
    roles: &[RoleRef],
    application: &str,
    capability: &str,
    production: Option<ProductionId>,
) -> bool {
    roles.iter().any(|held| role_allows(catalogue, held, application, capability, production))
}

/// Whether one held role opens a capability: the rule of [`roles_allow`],
/// for naming the grants behind an answer.
pub fn role_allows(
    catalogue: &Catalogue,
    held: &RoleRef,
    application: &str,
    capability: &str,
    production: Option<ProductionId>,
) -> bool {
    if held.application != application {
        return false;
    }
    let Some(role) = catalogue.role(&held.application, &held.role) else {
        return false;
    };
    let in_scope = match role.scope {
        RoleScope::Application => true,
        RoleScope::Production => production.is_some() && held.production == production,
    };
    in_scope && role.capabilities.iter().any(|c| c == capability)
}

/// The roles of the catalogue that would open a capability (on that
/// production): what a denied check names, each with the admin privilege
/// that grants it (`scope_granting`). A production role opens nothing
/// without a production, so none is named then.
pub fn roles_that_would_allow(
    catalogue: &Catalogue,
    application: &str,
    capability: &str,
    production: Option<ProductionId>,
) -> Vec<RoleRef> {
    let Some(app) = catalogue.application(application) else {
        return vec![];
    };
    app.roles
        .iter()
        .map(|role| RoleRef {
            application: app.key.clone(),
            role: role.key.clone(),
            production: match role.scope {
                RoleScope::Application => None,
                RoleScope::Production => production,
            },
        })
        .filter(|candidate| role_allows(catalogue, candidate, application, capability, production))
        .collect()
}

/// Whether the caller could have given `target` everything the target
/// holds: an admin privilege of the scope of each of their roles, each admin
/// privilege they hold, and a portal level at least theirs.
pub fn could_have_given(caller: &Principal, target: &Principal) -> bool {
    let roles = target
        .roles
        .iter()
        .filter(|held| held.application != crate::catalogue::keys::PARTNER_PORTAL)
        .all(|held| caller.admins_scope(&scope_granting(held)));
    let privileges = target.admin.iter().all(|held| caller.admins_scope(held));
    let level = match PortalLevel::of(&target.roles) {
        None => true,
        Some(theirs) => PortalLevel::of(&caller.roles).is_some_and(|own| own.at_least(theirs)),
    };
    roles && privileges && level
}

/// The rule for acting on a person (email, sign-in, invitation, MFA,
/// deletion, level, profile), on top of whatever matrix or admin rule
/// applies: operators and the person themself, or someone who could have
/// given the person everything they hold. Whoever holds more than the
/// caller could grant is out of reach, whatever the portal matrix says.
/// `action_rule` is the decision of the rule for the action itself (the
/// portal matrix, the profile rule, …): both must allow it.
pub fn act_on_person<P>(caller: &Principal, target: &Principal, action_rule: Result<P, Denied>) -> Result<P, Denied> {
    let allowed = action_rule?;
    match &target.partner_id {
        Some(partner) => see_partner_resource(caller, partner)?,
        // An operator's account belongs to no partner: only operators see it.
        None if caller.operator => {}
        None => return Err(Denied::NotFound),
    }
    if caller.operator
        || target.account.as_ref().is_some_and(|them| caller.is(them))
        || could_have_given(caller, target)
    {
        Ok(allowed)
    } else {
        Err(Denied::Forbidden("this person holds roles, admin privileges or a portal level you could not have given"))
    }
}

/// A person's way to onboard people: creating users (the Master Content
/// Partner Operations role) and granting them roles (an admin privilege).
pub fn has_admin_path(catalogue: &Catalogue, person: &Principal) -> bool {
    person.holds_capability(catalogue, crate::catalogue::keys::BACKLOT, crate::catalogue::keys::CREATE_USERS)
        && person.is_any_admin()
}

/// Removing one of one's own roles or admin privileges: refused when it
/// would end one's own admin path (`has_admin_path`) while no other admin
/// of the partner keeps one, so a partner is never left without somebody
/// who can onboard and grant the role back. `before` and `after` are the
/// caller as they hold things before and after the removal. Removing
/// someone else's is under the granting rule alone; operators belong to no
/// partner and are not held by this.
pub fn remove_own_admin_path(
    catalogue: &Catalogue,
    before: &Principal,
    after: &Principal,
    another_admin_remains: bool,
) -> Decision {
    if before.operator
        || !has_admin_path(catalogue, before)
        || has_admin_path(catalogue, after)
        || another_admin_remains
    {
        Ok(())
    } else {
        Err(Denied::Conflict(
            "this is your last way to onboard people and nobody else of your partner has one: \
             ask another person to become an admin first",
        ))
    }
}

/// Seeing anything that belongs to a partner: its own users, or operators.
pub fn see_partner_resource(caller: &Principal, owner_partner: &PartnerId) -> Decision {
    if caller.operator || caller.is_member_of(owner_partner) {
        Ok(())
    } else {
        Err(Denied::NotFound)
    }
}

/// A password is changed from a signed-in session: an API token is a
/// credential of its own and must not replace the one it stands in for.
pub fn change_own_password(from_session: bool) -> Decision {
    if from_session {
        Ok(())
    } else {
        Err(Denied::Forbidden("a password is changed from a signed-in session, not with an API token"))
    }
}

pub fn manage_platform(caller: &Principal) -> Decision {
    if caller.operator {
        Ok(())
    } else {
        Err(Denied::Forbidden("only platform operators may do this"))
    }
}

/// Application clients (OpenID Connect) are registered, listed, rotated
/// and revoked by platform operators only: a client acts for a whole
/// application, across every partner.
pub fn manage_clients(caller: &Principal) -> Decision {
    if caller.operator {
        Ok(())
    } else {
        Err(Denied::Forbidden("only platform operators manage application clients"))
    }
}

/// An application's own token (client_credentials) asks the check API
/// about its own application only: the capabilities of another application
/// are not its business.
pub fn service_check(own_application: &str, asked_application: &str) -> Decision {
    if own_application == asked_application {
        Ok(())
    } else {
        Err(Denied::Forbidden("an application's token checks only its own application"))
    }
}

/// RFC 7662 introspection: a client learns about a token only when it was
/// issued to a client of the same application; for any other the token is
/// simply not active (not a refusal that would tell it exists).
pub fn introspect_token(asking_application: &str, issued_to_application: &str) -> Decision {
    if asking_application == issued_to_application {
        Ok(())
    } else {
        Err(Denied::NotFound)
    }
}

/// RP-initiated logout ends a sign-in only for the person it names, in their
/// own browser: an ID token alone (it may be old, or someone else's) ends
/// nothing of anyone's.
pub fn end_own_sign_in(signed_in_user: Option<&UserId>, token_subject: &str) -> Decision {
    match signed_in_user {
        Some(user) if !token_subject.is_empty() && *user == token_subject => Ok(()),
        _ => Err(Denied::NotFound),
    }
}

/// A person signs in to an application through Starship (OpenID Connect)
/// only while holding a role in it; without one the application hears
/// `access_denied`, and a refresh is refused.
pub fn sign_in_to_application(roles: &[RoleRef], application: &str) -> Decision {
    if roles.iter().any(|r| r.application == application) {
        Ok(())
    } else {
        Err(Denied::Forbidden("this person holds no role in the application"))
    }
}

/// Seed 000: new user accounts can only be created by users with the
/// Master Content Partner Operations role (the `create-users` capability).
pub fn create_user(caller: &Principal, catalogue: &Catalogue, partner: &PartnerId) -> Decision {
    see_partner_resource(caller, partner)?;
    if caller.operator
        || caller.holds_capability(catalogue, crate::catalogue::keys::BACKLOT, crate::catalogue::keys::CREATE_USERS)
    {
        Ok(())
    } else {
        Err(Denied::Forbidden("creating users needs the Master Content Partner Operations role"))
    }
}

/// Granting or revoking a role: only to users of one's own partner, and
/// only for applications (or productions) one is an admin of.
pub fn grant_role(caller: &Principal, target_partner: &PartnerId, role: &RoleRef) -> Result<Permit<RoleRef>, Denied> {
    see_partner_resource(caller, target_partner)?;
    if role.application == crate::catalogue::keys::PARTNER_PORTAL && !caller.operator {
        return Err(Denied::Forbidden(
            "portal permission levels follow the Partner Portal rules: set them on the person",
        ));
    }
    if caller.operator || caller.admins_scope(&scope_granting(role)) {
        Ok(Permit(role.clone()))
    } else if role.production.is_some() {
        Err(Denied::Forbidden("granting this role needs admin privileges for its production"))
    } else {
        Err(Denied::Forbidden("granting this role needs admin privileges for its application"))
    }
}

/// Granting or removing an admin privilege: only an admin of the same
/// application (or production), only inside one partner.
pub fn grant_admin(
    caller: &Principal,
    target_partner: &PartnerId,
    scope: &AdminScope,
) -> Result<Permit<AdminScope>, Denied> {
    see_partner_resource(caller, target_partner)?;
    if caller.operator || caller.admins_scope(scope) {
        Ok(Permit(scope.clone()))
    } else {
        Err(Denied::Forbidden("only an admin of this application may grant its admin privileges"))
    }
}

/// The Starship Admin Privileges tab: the user themself, their partner's
/// admins, and operators.
pub fn see_admin_privileges(caller: &Principal, target_user: &UserId, target_partner: &PartnerId) -> Decision {
    see_partner_resource(caller, target_partner)?;
    if caller.operator || caller.is(target_user) || caller.is_any_admin() {
        Ok(())
    } else {
        Err(Denied::Forbidden("admin privileges are shown to the user and their partner's admins"))
    }
}

/// History is shown "depending on permissions": to the partner's admins
/// (Starship admin privileges, or the portal's Admin level) and operators.
/// A production's admin sees only the History of people on their production.
pub fn see_history(caller: &Principal, target_partner: &PartnerId, target_roles: &[RoleRef]) -> Decision {
    see_partner_resource(caller, target_partner)?;
    if caller.operator
        || caller.admin_reaches(target_roles)
        || PortalLevel::of(&caller.roles) == Some(PortalLevel::Admin)
    {
        Ok(())
    } else {
        Err(Denied::Forbidden("history is shown to the partner's admins"))
    }
}

/// Which part of a History the caller is shown: all of it (`None`), or,
/// for an admin of productions only (no wider standing), the entries about
/// their productions: roles and admin privileges on them, and metadata of
/// their applications.
pub fn history_scope(caller: &Principal) -> Option<Vec<AdminScope>> {
    let wider = caller.operator
        || PortalLevel::of(&caller.roles) == Some(PortalLevel::Admin)
        || caller.admin.iter().any(|scope| scope.production.is_none());
    (!wider).then(|| caller.admin.clone())
}

/// Exporting a History chain (issue #14), which is all of a partner's
/// History or none of it: operators, any chain (`None` is the chain of
/// accounts of no partner, theirs alone); a partner's admins who are shown
/// all of their people's History (`history_scope` is `None`), their own
/// partner's. An admin of productions only is shown part of it, so not this.
pub fn export_history(caller: &Principal, partner: Option<&PartnerId>) -> Decision {
    let Some(partner) = partner else {
        return manage_platform(caller);
    };
    see_partner_resource(caller, partner)?;
    let admin = caller.operator || caller.is_any_admin() || PortalLevel::of(&caller.roles) == Some(PortalLevel::Admin);
    if admin && history_scope(caller).is_none() {
        Ok(())
    } else {
        Err(Denied::Forbidden("a partner's History is exported to its admins who see all of it, and operators"))
    }
}

/// Whether a History entry's details concern one of these production scopes.
pub fn entry_concerns(scopes: &[AdminScope], details: &serde_json::Value) -> bool {
    let application = details.get("application").and_then(serde_json::Value::as_str);
    scopes.iter().any(|scope| {
        application == Some(scope.application.as_str())
            && match details.get("production") {
                // Roles and admin privileges: only those on the production.
                Some(production) => production.as_i64() == scope.production.map(ProductionId::get),
                // The application's metadata of a person on the production.
                None => true,
            }
    })
}

/// Editing a user's name, locale and phone: the user themself, operators,
/// and users of the same partner who may create users.
pub fn edit_profile(
    caller: &Principal,
    catalogue: &Catalogue,
    target_user: &UserId,
    target_partner: &PartnerId,
) -> Decision {
    see_partner_resource(caller, target_partner)?;
    if caller.is(target_user) {
        return Ok(());
    }
    create_user(caller, catalogue, target_partner).map_err(|_| Denied::Forbidden("you may edit only your own profile"))
}

/// Editing a person's names, phone or email: the profile rule, or the
/// portal matrix's detail editing for the caller's level.
pub fn edit_details(
    caller: &Principal,
    catalogue: &Catalogue,
    (target_user, target_partner): (&UserId, &PartnerId),
    standing: Standing,
) -> Decision {
    edit_profile(caller, catalogue, target_user, target_partner).or_else(|denied| {
        portal(caller, PortalAction::EditDetails, target_partner, Some((target_user, standing))).map_err(|_| denied)
    })
}

/// The Applications tab of one application: its admins only.
pub fn applications_tab(caller: &Principal, application: &str) -> Decision {
    if caller.operator || caller.admins_application(application) {
        Ok(())
    } else {
        Err(Denied::Forbidden("the Applications tab is shown to admins of the application"))
    }
}

/// Reading or writing a user's metadata of one application: the user, that
/// application's admins in the same partner (a production's admin only for
/// people holding a role on that production), and operators.
pub fn user_metadata(
    caller: &Principal,
    (target_user, target_partner): (&UserId, &PartnerId),
    target_roles: &[RoleRef],
    application: &str,
) -> Decision {
    see_partner_resource(caller, target_partner)?;
    let admin = match caller.admin_reach(application) {
        AdminReach::Application => true,
        AdminReach::Productions(productions) => target_roles
            .iter()
            .any(|r| r.application == application && r.production.is_some_and(|p| productions.contains(&p))),
        AdminReach::Nothing => false,
    };
    if caller.operator || caller.is(target_user) || admin {
        Ok(())
    } else {
        Err(Denied::Forbidden("metadata is shown to the user and the application's admins"))
    }
}

/// The Notifications tab of a user: the user, their partner's admins, and
/// operators. Changing a choice is `user_metadata`'s rule for its application.
pub fn see_notifications(caller: &Principal, target_user: &UserId, target_partner: &PartnerId) -> Decision {
    see_partner_resource(caller, target_partner)?;
    if caller.operator || caller.is(target_user) || caller.is_any_admin() {
        Ok(())
    } else {
        Err(Denied::Forbidden("notifications are shown to the user and their partner's admins"))
    }
}

/// The Partner Portal matrix applied to the caller: operators may do
/// anything; anyone else acts at their portal level, inside their partner.
/// `target` is the person acted on (their id and standing), if any.
pub fn portal(
    caller: &Principal,
    action: PortalAction,
    owner_partner: &PartnerId,
    target: Option<(&UserId, Standing)>,
) -> Decision {
    let target = target.map(|(id, standing)| (caller.is(id), standing));
    portal_on(caller, action, owner_partner, target)
}

/// `portal`, with the person acted on as whether they are the caller, and
/// their standing: someone not created yet is nobody's self.
fn portal_on(
    caller: &Principal,
    action: PortalAction,
    owner_partner: &PartnerId,
    target: Option<(bool, Standing)>,
) -> Decision {
    see_partner_resource(caller, owner_partner)?;
    if caller.operator {
        return Ok(());
    }
    let Some(level) = PortalLevel::of(&caller.roles) else {
        return Err(Denied::Forbidden("this needs a Partner Portal permission level"));
    };
    if crate::portal::allows(level, action, target) {
        Ok(())
    } else {
        Err(Denied::Forbidden(match action {
            PortalAction::UserAdministration => "your portal permission level may not administer this person",
            PortalAction::EditDetails => "your portal permission level may not edit this person's details",
            PortalAction::ApplianceSelfService => "appliance self-service needs the Admin or Engineering level",
            PortalAction::Tickets => "tickets need a portal permission level",
            PortalAction::TicketStatus => "a ticket's status is changed by operators and the partner's portal admins",
            PortalAction::Sites => "sites are added and edited by operators and the partner's portal admins",
        }))
    }
}

/// A person's contact roles and sites: the matrix gives the read-only level
/// only phone, names and email (its own), so these follow the matrix's
/// detail editing for the Admin and Engineering levels alone.
pub fn edit_contact_links(caller: &Principal, owner_partner: &PartnerId, target: (&UserId, Standing)) -> Decision {
    portal(caller, PortalAction::EditDetails, owner_partner, Some(target))?;
    if caller.operator || PortalLevel::of(&caller.roles) != Some(PortalLevel::ReadOnly) {
        Ok(())
    } else {
        Err(Denied::Forbidden("the read-only level edits only its own phone, names and email"))
    }
}

/// Administering a person as a whole (deactivating and reactivating them):
/// operators, those who may create Starship users in the partner, and the
/// portal levels that administer that person under the matrix. Never
/// oneself.
pub fn administer_person(
    caller: &Principal,
    catalogue: &Catalogue,
    (target_user, target_partner): (&UserId, &PartnerId),
    standing: Standing,
) -> Decision {
    see_partner_resource(caller, target_partner)?;
    if caller.is(target_user) {
        return Err(Denied::Forbidden("you cannot do this to yourself"));
    }
    if caller.operator || create_user(caller, catalogue, target_partner).is_ok() {
        return Ok(());
    }
    portal(caller, PortalAction::UserAdministration, target_partner, Some((target_user, standing)))
}

/// Setting a person's permission level is user administration of them, and
/// nobody raises anyone above their own level.
pub fn set_portal_level(
    caller: &Principal,
    owner_partner: &PartnerId,
    (target_user, standing): (&UserId, Standing),
    new_level: PortalLevel,
) -> Result<Permit<PortalAccess>, Denied> {
    set_portal_level_on(caller, owner_partner, (caller.is(target_user), standing), new_level)
}

fn set_portal_level_on(
    caller: &Principal,
    owner_partner: &PartnerId,
    target: (bool, Standing),
    new_level: PortalLevel,
) -> Result<Permit<PortalAccess>, Denied> {
    portal_on(caller, PortalAction::UserAdministration, owner_partner, Some(target))?;
    if caller.operator || PortalLevel::of(&caller.roles).is_some_and(|own| own.at_least(new_level)) {
        Ok(Permit(PortalAccess::Level(new_level)))
    } else {
        Err(Denied::Forbidden("nobody may grant a permission level above their own"))
    }
}

/// Creating a person: the Master role (Starship users) or portal user
/// administration (contacts, and portal users up to one's own level). With
/// a level, the permit to give it.
pub fn create_person(
    caller: &Principal,
    catalogue: &Catalogue,
    partner: &PartnerId,
    portal_level: Option<PortalLevel>,
) -> Result<Option<Permit<PortalAccess>>, Denied> {
    if create_user(caller, catalogue, partner).is_ok() && portal_level.is_none() {
        return Ok(None);
    }
    let someone_new = (false, Standing::NoAccess);
    match portal_level {
        Some(level) => set_portal_level_on(caller, partner, someone_new, level).map(Some),
        None => portal_on(caller, PortalAction::UserAdministration, partner, Some(someone_new)).map(|()| None),
    }
}

/// Ending a person's portal access (their sign-in and level) is user
/// administration of them under the matrix.
pub fn revoke_portal_access(
    caller: &Principal,
    owner_partner: &PartnerId,
    target: (&UserId, Standing),
) -> Result<Permit<PortalAccess>, Denied> {
    portal(caller, PortalAction::UserAdministration, owner_partner, Some(target))?;
    Ok(Permit(PortalAccess::Revoked))
}

/// A closing access review takes back every grant of it nobody kept: the
/// reviewers' decisions (or their silence) are the rule's answer.
pub fn review_takes_back(role: &RoleRef) -> Permit<RoleRef> {
    Permit(role.clone())
}

/// A role a directory group's mapping gave ends with the membership (or the
/// mapping) that backed it: the directory decided.
pub fn mapping_takes_back(role: &RoleRef) -> Permit<RoleRef> {
    Permit(role.clone())
}

/// Registering and retiring a partner's appliances: platform operators
/// only (a partner's own people are refused, another partner's answer 404).
pub fn register_appliances(caller: &Principal, owner_partner: &PartnerId) -> Decision {
    see_partner_resource(caller, owner_partner)?;
    if caller.operator {
        Ok(())
    } else {
        Err(Denied::Forbidden("appliances are registered and retired by platform operators"))
    }
}

/// Adding or editing a site of a partner: operators, and the partner's portal
/// admins (the matrix's `Sites` row).
pub fn add_site(caller: &Principal, owner_partner: &PartnerId) -> Decision {
    portal(caller, PortalAction::Sites, owner_partner, None)
}

/// Opening, listing and reading an access review of one application in a
/// partner: operators, and that partner's admins of the application. A
/// production's admin only for a review limited to their production: a
/// review of the whole application covers grants they could not see.
pub fn see_review(
    caller: &Principal,
    partner: &PartnerId,
    application: &str,
    production: Option<ProductionId>,
) -> Decision {
    see_partner_resource(caller, partner)?;
    if caller.operator {
        return Ok(());
    }
    match (caller.admin_reach(application), production) {
        (AdminReach::Application, _) => Ok(()),
        (AdminReach::Productions(held), Some(p)) if held.contains(&p) => Ok(()),
        (AdminReach::Productions(_), None) => {
            Err(Denied::Forbidden("a review of the whole application is for the application's admins"))
        }
        _ => Err(Denied::Forbidden("access reviews are for the admins of the application")),
    }
}

/// Deciding on one item of an access review: whoever may see the review,
/// but never on one's own grant: nobody certifies their own access.
pub fn decide_review_item(
    caller: &Principal,
    (partner, application, production): (&PartnerId, &str, Option<ProductionId>),
    item_user: &UserId,
) -> Decision {
    see_review(caller, partner, application, production)?;
    if caller.is(item_user) {
        Err(Denied::Forbidden("nobody decides on their own access: another admin of the application must"))
    } else {
        Ok(())
    }
}

/// How the caller proved who they are, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedInWith {
    /// A password (and second factor) sign-in: the session cookie.
    Session,
    /// A personal API token sent as a bearer.
    ApiToken,
}

/// Minting a personal API token takes a signed-in session: a token that
/// leaks cannot renew itself beyond its expiry or multiply.
pub fn create_api_token(signed_in_with: SignedInWith) -> Decision {
    match signed_in_with {
        SignedInWith::Session => Ok(()),
        SignedInWith::ApiToken => {
            Err(Denied::Forbidden("an API token cannot create API tokens: sign in with your password to make one"))
        }
    }
}
