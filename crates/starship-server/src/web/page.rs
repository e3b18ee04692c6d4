//! Where each page lives. The router serves the patterns named here, and
//! every redirect, link a handler builds and templated link with
//! parameters prints a `Page`, so the two cannot drift apart and a value
//! reaches an address percent-encoded in one place. A query's closed words
//! (`tab`, `done`) are spelled once, for printing and reading back.

use starship_core::ids::{ApplicationKey, PartnerId, ReviewId, TicketId, UserId};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use starship_store::users::ListOrder;

use super::url_encode;

/// A closed set of words a query parameter carries, spelled once.
macro_rules! wire_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ();

            fn from_str(word: &str) -> Result<Self, ()> {
                Self::ALL.iter().copied().find(|w| w.as_str() == word).ok_or(())
            }
        }
    };
}

wire_words! {
    /// A profile's tabs; Roles is the one shown when none is named.
    ProfileTab {
        Roles = "roles",
        AdminPrivileges = "admin-privileges",
        Notifications = "notifications",
        Metadata = "metadata",
        History = "history",
        Tokens = "tokens",
    }
}

wire_words! {
    /// What a profile's form just did, for its status message.
    ProfileDone {
        Notifications = "notifications",
        Metadata = "metadata",
        MetadataEmailed = "metadata-emailed",
        RoleEndSet = "role-end-set",
        RoleRevoked = "role-revoked",
        RoleRestored = "role-restored",
        Deactivated = "deactivated",
        Reactivated = "reactivated",
        Admin = "admin",
        AdminRemoved = "admin-removed",
        AdminRestored = "admin-restored",
        TokenRevoked = "token-revoked",
    }
}

wire_words! {
    SecurityDone {
        /// Two-step verification turned off.
        Off = "off",
        Password = "password",
        /// The password changed and the other sessions ended.
        PasswordEnded = "password-ended",
    }
}

wire_words! {
    ContactsDone {
        Created = "created",
        Invited = "invited",
        Deleted = "deleted",
        Saved = "saved",
        /// An email change is waiting for its confirmation.
        Email = "email",
        /// An invitation to an existing contact.
        Invite = "invite",
        Revoked = "revoked",
        MfaReset = "mfa-reset",
    }
}

wire_words! {
    TicketDone {
        Opened = "opened",
        Commented = "commented",
        Status = "status",
    }
}

wire_words! {
    SitesDone {
        Added = "added",
        Saved = "saved",
    }
}

wire_words! {
    ScimTokensDone {
        Revoked = "revoked",
    }
}

wire_words! {
    ScimGroupsDone {
        Mapped = "mapped",
        Unmapped = "unmapped",
    }
}

wire_words! {
    ClientsDone {
        Revoked = "revoked",
    }
}

wire_words! {
    OutboxDone {
        Resent = "resent",
    }
}

wire_words! {
    ReviewDone {
        Decided = "decided",
    }
}

/// What an appliance form just did; an import says how many it registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliancesDone {
    Drained,
    Serving,
    Bgp,
    Registered,
    Retired,
    Imported(usize),
}

impl FromStr for AppliancesDone {
    type Err = ();

    fn from_str(word: &str) -> Result<Self, ()> {
        Ok(match word {
            "drained" => Self::Drained,
            "serving" => Self::Serving,
            "bgp" => Self::Bgp,
            "registered" => Self::Registered,
            "retired" => Self::Retired,
            other => Self::Imported(other.strip_prefix("imported-").ok_or(())?.parse().map_err(|_| ())?),
        })
    }
}

impl fmt::Display for AppliancesDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Drained => f.write_str("drained"),
            Self::Serving => f.write_str("serving"),
            Self::Bgp => f.write_str("bgp"),
            Self::Registered => f.write_str("registered"),
            Self::Retired => f.write_str("retired"),
            Self::Imported(count) => write!(f, "imported-{count}"),
        }
    }
}

/// Reads a query's word as its enum (`#[serde(deserialize_with)]`); an
/// unknown word, as a hand-typed address may carry, reads as none.
pub fn word<'de, D: Deserializer<'de>, T: FromStr>(deserializer: D) -> Result<Option<T>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.and_then(|w| w.parse().ok()))
}

/// A list's page cursor: the entries before or after an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Before(String),
    After(String),
}

/// Where on a profile: its tab, the history page, and what the last form did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileAt {
    pub tab: Option<ProfileTab>,
    /// History: which entries (`HistoryShown`'s key) and from which cursor.
    pub history: Option<(String, String)>,
    pub done: Option<ProfileDone>,
    /// What was just removed, to offer it back.
    pub undo: Option<String>,
}

impl ProfileAt {
    pub fn tab(tab: ProfileTab) -> Self {
        Self { tab: Some(tab), ..Self::default() }
    }

    pub fn done(done: ProfileDone) -> Self {
        Self { done: Some(done), ..Self::default() }
    }

    pub fn and_done(self, done: ProfileDone) -> Self {
        Self { done: Some(done), ..self }
    }

    pub fn and_undo(self, undo: String) -> Self {
        Self { undo: Some(undo), ..self }
    }
}

/// The Application users page's filters, as its links carry them on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplicationFilter {
    pub q: String,
    pub partner: Option<PartnerId>,
    pub everyone: bool,
    pub role: Option<String>,
    pub production: Option<i64>,
    pub status: Option<&'static str>,
    pub cursor: Option<Cursor>,
}

/// A page the router serves, with what its address carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// One's own profile.
    MyAccount(ProfileAt),
    /// The sign-in page: where to go after, and the address to fill in.
    SignIn {
        next: Option<String>,
        email: Option<String>,
    },
    Activate,
    ConfirmEmail,
    Users {
        sort: Option<ListOrder>,
        cursor: Option<Cursor>,
    },
    Profile {
        id: UserId,
        at: ProfileAt,
    },
    Security {
        done: Option<SecurityDone>,
    },
    ScimTokens {
        partner: PartnerId,
        done: Option<ScimTokensDone>,
    },
    ScimGroups {
        partner: PartnerId,
        done: Option<ScimGroupsDone>,
    },
    /// Add User: the onboarding wizard's first page.
    Onboard,
    OnboardStart {
        user: Option<UserId>,
    },
    /// Select Permissions for the people just added.
    OnboardPermissions {
        users: Vec<UserId>,
        bulk: bool,
    },
    Portal,
    Contacts {
        edit: Option<UserId>,
        done: Option<ContactsDone>,
    },
    /// The tickets list, scrolled to one ticket when named.
    Tickets {
        at: Option<TicketId>,
    },
    NewTicket,
    Ticket {
        id: TicketId,
        done: Option<TicketDone>,
    },
    /// Operators name the partner; the others see their own.
    Sites {
        partner: Option<PartnerId>,
        done: Option<SitesDone>,
    },
    Appliances {
        partner: Option<PartnerId>,
        done: Option<AppliancesDone>,
    },
    Applications,
    ApplicationUsers {
        key: ApplicationKey,
        filter: ApplicationFilter,
    },
    Clients {
        done: Option<ClientsDone>,
    },
    Outbox {
        q: String,
        status: String,
        cursor: Option<Cursor>,
        done: Option<OutboxDone>,
    },
    Reviews,
    Review {
        id: ReviewId,
        done: Option<ReviewDone>,
    },
}

impl Page {
    pub const MY_ACCOUNT: &'static str = "/";
    pub const SIGN_IN: &'static str = "/sign-in";
    pub const ACTIVATE: &'static str = "/activate";
    pub const CONFIRM_EMAIL: &'static str = "/confirm-email";
    pub const USERS: &'static str = "/users";
    pub const PROFILE: &'static str = "/users/{id}";
    pub const SECURITY: &'static str = "/security";
    pub const SCIM_TOKENS: &'static str = "/partners/{id}/scim-tokens";
    pub const SCIM_GROUPS: &'static str = "/partners/{id}/scim-groups";
    pub const ONBOARD: &'static str = "/onboard";
    pub const ONBOARD_START: &'static str = "/onboard/start";
    pub const ONBOARD_PERMISSIONS: &'static str = "/onboard/permissions";
    pub const PORTAL: &'static str = "/portal";
    pub const CONTACTS: &'static str = "/portal/users";
    pub const TICKETS: &'static str = "/portal/tickets";
    pub const NEW_TICKET: &'static str = "/portal/tickets/new";
    pub const TICKET: &'static str = "/portal/tickets/{id}";
    pub const SITES: &'static str = "/portal/sites";
    pub const APPLIANCES: &'static str = "/portal/appliances";
    pub const APPLICATIONS: &'static str = "/applications";
    pub const APPLICATION_USERS: &'static str = "/applications/{key}";
    pub const CLIENTS: &'static str = "/clients";
    pub const OUTBOX: &'static str = "/outbox";
    pub const REVIEWS: &'static str = "/reviews";
    pub const REVIEW: &'static str = "/reviews/{id}";

    /// The sign-in page, to come back to `next` after.
    pub fn sign_in_then(next: &str) -> Self {
        Self::SignIn { next: Some(next.to_string()), email: None }
    }

    /// The sign-in page with the address filled in.
    pub fn sign_in_as(email: &str) -> Self {
        Self::SignIn { next: None, email: Some(email.to_string()) }
    }

    /// A person's profile: `/` for one's own.
    pub fn profile(viewer_id: &UserId, user_id: &UserId, at: ProfileAt) -> Self {
        if viewer_id == user_id {
            Self::MyAccount(at)
        } else {
            Self::Profile { id: user_id.clone(), at }
        }
    }

    /// A person's profile as lists link it (`/users/{id}` even for one's own).
    pub fn person(id: &UserId) -> Self {
        Self::Profile { id: id.clone(), at: ProfileAt::default() }
    }

    pub fn application_users(key: &ApplicationKey) -> Self {
        Self::ApplicationUsers { key: key.clone(), filter: ApplicationFilter::default() }
    }

    pub fn ticket(id: &TicketId) -> Self {
        Self::Ticket { id: id.clone(), done: None }
    }

    pub fn review(id: &ReviewId) -> Self {
        Self::Review { id: id.clone(), done: None }
    }

    /// The portal's users with one person's panel open.
    pub fn contact(id: &UserId) -> Self {
        Self::Contacts { edit: Some(id.clone()), done: None }
    }

    /// The wizard's Select Permissions for one person.
    pub fn permissions_of(id: &UserId) -> Self {
        Self::OnboardPermissions { users: vec![id.clone()], bulk: false }
    }

    /// The wizard started for an existing person.
    pub fn onboard(id: &UserId) -> Self {
        Self::OnboardStart { user: Some(id.clone()) }
    }

    pub fn scim_tokens(partner: &PartnerId) -> Self {
        Self::ScimTokens { partner: partner.clone(), done: None }
    }

    pub fn scim_groups(partner: &PartnerId) -> Self {
        Self::ScimGroups { partner: partner.clone(), done: None }
    }

    /// The router's pattern for this page.
    pub fn route(&self) -> &'static str {
        match self {
            Self::MyAccount(_) => Self::MY_ACCOUNT,
            Self::SignIn { .. } => Self::SIGN_IN,
            Self::Activate => Self::ACTIVATE,
            Self::ConfirmEmail => Self::CONFIRM_EMAIL,
            Self::Users { .. } => Self::USERS,
            Self::Profile { .. } => Self::PROFILE,
            Self::Security { .. } => Self::SECURITY,
            Self::ScimTokens { .. } => Self::SCIM_TOKENS,
            Self::ScimGroups { .. } => Self::SCIM_GROUPS,
            Self::Onboard => Self::ONBOARD,
            Self::OnboardStart { .. } => Self::ONBOARD_START,
            Self::OnboardPermissions { .. } => Self::ONBOARD_PERMISSIONS,
            Self::Portal => Self::PORTAL,
            Self::Contacts { .. } => Self::CONTACTS,
            Self::Tickets { .. } => Self::TICKETS,
            Self::NewTicket => Self::NEW_TICKET,
            Self::Ticket { .. } => Self::TICKET,
            Self::Sites { .. } => Self::SITES,
            Self::Appliances { .. } => Self::APPLIANCES,
            Self::Applications => Self::APPLICATIONS,
            Self::ApplicationUsers { .. } => Self::APPLICATION_USERS,
            Self::Clients { .. } => Self::CLIENTS,
            Self::Outbox { .. } => Self::OUTBOX,
            Self::Reviews => Self::REVIEWS,
            Self::Review { .. } => Self::REVIEW,
        }
    }

    /// The values of the route's `{…}` segments, in order.
    fn path_values(&self) -> Vec<&str> {
        match self {
            Self::Profile { id, .. } => vec![id],
            Self::Ticket { id, .. } => vec![id],
            Self::Review { id, .. } => vec![id],
            Self::ScimTokens { partner, .. } | Self::ScimGroups { partner, .. } => vec![partner],
            Self::ApplicationUsers { key, .. } => vec![key],
            _ => vec![],
        }
    }

    fn query(&self) -> Query {
        let mut q = Query::default();
        match self {
            Self::MyAccount(at) | Self::Profile { at, .. } => {
                q.opt("tab", at.tab.filter(|t| *t != ProfileTab::Roles).map(ProfileTab::as_str));
                if let Some((show, before)) = &at.history {
                    q.put("show", show);
                    q.put("before", before);
                }
                q.opt("done", at.done.map(ProfileDone::as_str));
                q.opt("undo", at.undo.as_deref());
            }
            Self::SignIn { next, email } => {
                q.opt("next", next.as_deref());
                q.opt("email", email.as_deref());
            }
            Self::Users { sort, cursor } => {
                q.opt("sort", sort.map(ListOrder::as_str));
                q.cursor(cursor);
            }
            Self::Security { done } => q.opt("done", done.map(SecurityDone::as_str)),
            Self::ScimTokens { done, .. } => q.opt("done", done.map(ScimTokensDone::as_str)),
            Self::ScimGroups { done, .. } => q.opt("done", done.map(ScimGroupsDone::as_str)),
            Self::OnboardStart { user } => q.opt("user", user.as_deref()),
            Self::OnboardPermissions { users, bulk } => {
                if *bulk {
                    q.put("bulk", "1");
                }
                for user in users {
                    q.put("user", user);
                }
            }
            Self::Contacts { edit, done } => {
                q.opt("edit", edit.as_deref());
                q.opt("done", done.map(ContactsDone::as_str));
            }
            Self::Ticket { done, .. } => q.opt("done", done.map(TicketDone::as_str)),
            Self::Sites { partner, done } => {
                q.opt("partner_id", partner.as_deref());
                q.opt("done", done.map(SitesDone::as_str));
            }
            Self::Appliances { partner, done } => {
                q.opt("partner_id", partner.as_deref());
                q.opt("done", done.map(|d| d.to_string()).as_deref());
            }
            Self::ApplicationUsers { filter, .. } => {
                q.opt("q", Some(filter.q.as_str()).filter(|s| !s.is_empty()));
                q.opt("partner_id", filter.partner.as_deref());
                if filter.everyone {
                    q.put("everyone", "1");
                }
                q.opt("role", filter.role.as_deref());
                q.opt("production", filter.production.map(|p| p.to_string()).as_deref());
                q.opt("status", filter.status);
                q.cursor(&filter.cursor);
            }
            Self::Clients { done } => q.opt("done", done.map(ClientsDone::as_str)),
            Self::Outbox { q: search, status, cursor, done } => {
                q.opt("q", Some(search.as_str()).filter(|s| !s.is_empty()));
                q.opt("status", Some(status.as_str()).filter(|s| !s.is_empty()));
                q.cursor(cursor);
                q.opt("done", done.map(OutboxDone::as_str));
            }
            Self::Review { done, .. } => q.opt("done", done.map(ReviewDone::as_str)),
            Self::Activate
            | Self::ConfirmEmail
            | Self::Onboard
            | Self::Portal
            | Self::Tickets { .. }
            | Self::NewTicket
            | Self::Applications
            | Self::Reviews => {}
        }
        q
    }

    /// One page of each kind, with sample parameters: what the router must serve.
    pub fn samples() -> Vec<Page> {
        let id = || "0193-a b".to_string();
        vec![
            Self::MyAccount(ProfileAt::tab(ProfileTab::Tokens).and_done(ProfileDone::TokenRevoked)),
            Self::SignIn { next: Some("/users?q=pat".into()), email: Some("pat+1@sunrise.example".into()) },
            Self::Activate,
            Self::ConfirmEmail,
            Self::Users { sort: Some(ListOrder::Email), cursor: Some(Cursor::After(id())) },
            Self::Profile {
                id: id().into(),
                at: ProfileAt::tab(ProfileTab::AdminPrivileges)
                    .and_done(ProfileDone::AdminRemoved)
                    .and_undo("backlot|admin".into()),
            },
            Self::Security { done: Some(SecurityDone::PasswordEnded) },
            Self::ScimTokens { partner: id().into(), done: Some(ScimTokensDone::Revoked) },
            Self::ScimGroups { partner: id().into(), done: Some(ScimGroupsDone::Mapped) },
            Self::Onboard,
            Self::OnboardStart { user: Some(id().into()) },
            Self::OnboardPermissions { users: vec![id().into(), id().into()], bulk: true },
            Self::Portal,
            Self::Contacts { edit: Some(id().into()), done: Some(ContactsDone::MfaReset) },
            Self::Tickets { at: Some(id().into()) },
            Self::NewTicket,
            Self::Ticket { id: id().into(), done: Some(TicketDone::Commented) },
            Self::Sites { partner: Some(id().into()), done: Some(SitesDone::Added) },
            Self::Appliances { partner: Some(id().into()), done: Some(AppliancesDone::Imported(3)) },
            Self::Applications,
            Self::ApplicationUsers {
                key: "backlot".into(),
                filter: ApplicationFilter {
                    q: "pat".into(),
                    everyone: true,
                    production: Some(7),
                    cursor: Some(Cursor::Before(id())),
                    ..ApplicationFilter::default()
                },
            },
            Self::Clients { done: Some(ClientsDone::Revoked) },
            Self::Outbox { q: "pat".into(), status: "failed".into(), cursor: None, done: Some(OutboxDone::Resent) },
            Self::Reviews,
            Self::Review { id: id().into(), done: Some(ReviewDone::Decided) },
        ]
    }
}

/// Prints a route pattern with each `{…}` segment replaced by its value,
/// percent-encoded: the path of a `Page` or an `Action`.
pub(super) fn write_path(f: &mut fmt::Formatter<'_>, route: &str, values: Vec<&str>) -> fmt::Result {
    let mut values = values.into_iter();
    for segment in route.split('/').skip(1) {
        f.write_str("/")?;
        if segment.starts_with('{') {
            f.write_str(&url_encode(values.next().unwrap_or_default()))?;
        } else {
            f.write_str(segment)?;
        }
    }
    Ok(())
}

/// Whether a path (no query) fits a route pattern, `{…}` matching one segment.
#[cfg(test)]
pub(super) fn fits(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, s)| if p.starts_with('{') { !s.is_empty() } else { p == s })
}

impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_path(f, self.route(), self.path_values())?;
        let query = self.query();
        if !query.0.is_empty() {
            f.write_str("?")?;
            f.write_str(&query.0.join("&"))?;
        }
        if let Self::Tickets { at: Some(id) } = self {
            write!(f, "#ticket-{}", url_encode(id))?;
        }
        Ok(())
    }
}

/// A query string's `name=value` pairs, values percent-encoded.
#[derive(Default)]
struct Query(Vec<String>);

impl Query {
    fn put(&mut self, name: &str, value: &str) {
        self.0.push(format!("{name}={}", url_encode(value)));
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    fn cursor(&mut self, cursor: &Option<Cursor>) {
        match cursor {
            Some(Cursor::Before(id)) => self.put("before", id),
            Some(Cursor::After(id)) => self.put("after", id),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_prints_an_address_its_route_serves() {
        for page in Page::samples() {
            let printed = page.to_string();
            let path = printed.split(['?', '#']).next().unwrap();
            assert!(fits(page.route(), path), "{printed} does not fit {}", page.route());
        }
    }

    #[test]
    fn addresses_keep_their_wire_spelling() {
        let (me, u2) = (&UserId::from("u1"), &UserId::from("u2"));
        let at = |page: Page| page.to_string();
        assert_eq!(at(Page::profile(me, me, ProfileAt::default())), "/");
        assert_eq!(
            at(Page::profile(me, me, ProfileAt::tab(ProfileTab::Tokens).and_done(ProfileDone::TokenRevoked))),
            "/?tab=tokens&done=token-revoked"
        );
        assert_eq!(
            at(Page::profile(me, u2, ProfileAt::done(ProfileDone::RoleRevoked).and_undo("a|b|".into()))),
            "/users/u2?done=role-revoked&undo=a%7Cb%7C"
        );
        assert_eq!(at(Page::profile(me, u2, ProfileAt::tab(ProfileTab::Roles))), "/users/u2");
        assert_eq!(
            at(Page::SignIn { next: Some("/users?q=pat".into()), email: None }),
            "/sign-in?next=%2Fusers%3Fq%3Dpat"
        );
        assert_eq!(
            at(Page::SignIn { next: None, email: Some("pat+1@sunrise.example".into()) }),
            "/sign-in?email=pat%2B1%40sunrise.example"
        );
        assert_eq!(
            at(Page::OnboardPermissions { users: vec!["a".into(), "b c".into()], bulk: true }),
            "/onboard/permissions?bulk=1&user=a&user=b%20c"
        );
        assert_eq!(at(Page::Tickets { at: Some("t1".into()) }), "/portal/tickets#ticket-t1");
        assert_eq!(
            at(Page::Appliances { partner: None, done: Some(AppliancesDone::Imported(2)) }),
            "/portal/appliances?done=imported-2"
        );
        assert_eq!(
            at(Page::Outbox { q: String::new(), status: String::new(), cursor: None, done: Some(OutboxDone::Resent) }),
            "/outbox?done=resent"
        );
        assert_eq!(
            at(Page::ApplicationUsers { key: ApplicationKey::from("backlot"), filter: ApplicationFilter::default() }),
            "/applications/backlot"
        );
        assert_eq!(at(Page::ScimGroups { partner: "p/1".into(), done: None }), "/partners/p%2F1/scim-groups");
    }

    #[test]
    fn done_words_read_back() {
        for done in ProfileDone::ALL {
            assert_eq!(done.as_str().parse(), Ok(*done));
        }
        for done in [AppliancesDone::Bgp, AppliancesDone::Imported(12)] {
            assert_eq!(done.to_string().parse(), Ok(done));
        }
        assert_eq!("imported-x".parse::<AppliancesDone>(), Err(()));
    }
}
