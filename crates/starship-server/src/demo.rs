//! The demo data set: every scenario of the seeds, ready to sign in to.

use serde_json::json;
use starship_core::authz::Principal;
use starship_core::catalogue::{keys, AdminScope, RoleRef};
use starship_core::domain::{Email, Locale, PartnerKind, Password, PersonName, ProductionId, Title, UserStatus};
use starship_core::ids::{ClientId, PartnerId};
use starship_store::history::{Actor, Source};
use starship_store::users::{NewUser, User};
use starship_store::{appliances, contacts, partners, sites, tickets, Conn};

use crate::ops::users::{Access, Identity};
use crate::ops::{self, OperationResult};
use crate::security::hash_password;
use crate::state::AppState;

/// Where the demo's application clients send people back after sign-in.
pub const DEMO_REDIRECT_URI: &str = "http://127.0.0.1:9000/callback";

/// Every demo account signs in with this password.
pub const PASSWORD: &str = "starship-demo-password";

struct Loader<'a> {
    conn: &'a mut Conn,
    actor: Actor,
    lines: Vec<String>,
}

impl Loader<'_> {
    async fn partner(&mut self, name: &str, kind: PartnerKind) -> OperationResult<PartnerId> {
        Ok(partners::insert(self.conn, &Title::parse("name", name)?, kind).await?.id)
    }

    /// A person who can sign in with the demo password.
    async fn member(
        &mut self,
        partner: Option<&PartnerId>,
        email: &str,
        first: &str,
        last: &str,
        about: &str,
    ) -> OperationResult<User> {
        let password = Password::parse("password", PASSWORD)?;
        let hash = hash_password(&password);
        let email = Email::parse("email", email)?;
        let user = ops::users::create_with_password(
            self.conn,
            &self.actor,
            &NewUser {
                partner_id: partner,
                email: &email,
                first_name: &PersonName::parse("first_name", first)?,
                last_name: &PersonName::parse("last_name", last)?,
                locale: Locale::parse("locale", "en-US")?,
                phone: None,
                status: UserStatus::Active,
                password_hash: Some(&hash),
            },
            json!({"email": email.as_str(), "demo": true}),
        )
        .await?;
        self.lines.push(format!("{email:<34} {about}"));
        Ok(user)
    }

    /// A contact of the partner: no sign-in.
    async fn contact(
        &mut self,
        partner: &PartnerId,
        email: &str,
        first: &str,
        last: &str,
        roles: &[&str],
    ) -> OperationResult<User> {
        let people = [Identity::parse("", email, first, last, "en-US")?];
        let mut created = ops::users::create_users(
            self.conn,
            &crate::state::Config::for_public_url(""),
            &self.actor,
            partner,
            &people,
            Access::ContactOnly,
        )
        .await?;
        let contact = created.remove(0);
        contacts::set_contact_roles(self.conn, &contact.id, &roles.iter().map(|r| r.to_string()).collect::<Vec<_>>())
            .await?;
        Ok(contact)
    }

    async fn grant(
        &mut self,
        user: &User,
        application: &str,
        role: &str,
        production: Option<i64>,
    ) -> OperationResult<()> {
        let role = RoleRef {
            application: application.into(),
            role: role.into(),
            production: production.map(|p| ProductionId::parse("production", p)).transpose()?,
        };
        ops::grants::grant_roles(
            self.conn,
            &Principal::console(),
            &self.actor,
            std::slice::from_ref(user),
            &[(role, None)],
        )
        .await?;
        Ok(())
    }

    async fn admin(&mut self, user: &User, application: &str, production: Option<i64>) -> OperationResult<()> {
        let scope = AdminScope {
            application: application.into(),
            production: production.map(|p| ProductionId::parse("production", p)).transpose()?,
        };
        ops::grants::add_admin_privilege(self.conn, &Principal::console(), &self.actor, user, &scope).await?;
        Ok(())
    }
}

/// Loads the demo data into an empty store, in one transaction; returns the
/// sign-in lines to print, or `None` when the store already holds data.
pub async fn load(state: &AppState) -> OperationResult<Option<Vec<String>>> {
    let mut tx = state.store.begin().await?;
    if !partners::is_empty(&mut tx).await? {
        return Ok(None);
    }
    let mut l = Loader { conn: &mut tx, actor: Actor::system(Source::System), lines: vec![] };

    let operator = l.member(None, "operator@starship.example", "Olivia", "Operator", "platform operator").await?;

    let sunrise = l.partner("Sunrise Studios", PartnerKind::Content).await?;
    let northwind = l.partner("Northwind Media", PartnerKind::Content).await?;
    let pixel = l.partner("Pixel Fulfillment", PartnerKind::Fulfillment).await?;
    let clearview = l.partner("Clearview QC", PartnerKind::Qc).await?;
    let metro = l.partner("Metro Fiber", PartnerKind::Network).await?;

    let home_theater = ProductionId::parse("id", 70030433)?;
    partners::insert_production(l.conn, home_theater, &Title::parse("title", "Home Theater Demo - MID")?, None).await?;
    partners::insert_production(
        l.conn,
        ProductionId::parse("id", 81234567)?,
        &Title::parse("title", "Night Shift")?,
        None,
    )
    .await?;

    // Seed 000: a Master-only user (no default Backlot notifications) who
    // admins Backlot, and a Master + Content Partner Operations user.
    let mara = l
        .member(
            Some(&sunrise),
            "mara.master@sunrise.example",
            "Mara",
            "Masters",
            "Sunrise Studios: Master only, Backlot admin",
        )
        .await?;
    l.grant(&mara, keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS, None).await?;
    l.admin(&mara, keys::BACKLOT, None).await?;
    let casey = l
        .member(
            Some(&sunrise),
            "casey.ops@sunrise.example",
            "Casey",
            "Operations",
            "Sunrise Studios: Master + Content Partner Operations",
        )
        .await?;
    l.grant(&casey, keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS, None).await?;
    l.grant(&casey, keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS, None).await?;

    // Seed 001: the academy admin of the facility, and a learner.
    let alex = l
        .member(
            Some(&sunrise),
            "alex.academy@sunrise.example",
            "Alex",
            "Academy",
            "Sunrise Studios: Production Academy admin for 70030433",
        )
        .await?;
    l.admin(&alex, keys::PRODUCTION_ACADEMY, None).await?;
    l.admin(&alex, keys::PRODUCTION_ACADEMY, Some(home_theater.get())).await?;
    let jamie = l
        .member(
            Some(&sunrise),
            "jamie.learner@sunrise.example",
            "Jamie",
            "Learner",
            "Sunrise Studios: Academy User on 70030433",
        )
        .await?;
    l.grant(&jamie, keys::PRODUCTION_ACADEMY, keys::ACADEMY_USER, Some(home_theater.get())).await?;
    l.member(Some(&sunrise), "pat.plain@sunrise.example", "Pat", "Plain", "Sunrise Studios: no roles").await?;
    let pending = [Identity::parse("", "sam.new@sunrise.example", "Sam", "Newcomer", "fr-FR")?];
    ops::users::create_users(l.conn, &state.config, &l.actor, &sunrise, &pending, Access::SignIn).await?;

    let nina = l
        .member(
            Some(&northwind),
            "nina.north@northwind.example",
            "Nina",
            "North",
            "Northwind Media (another content partner): Backlot admin",
        )
        .await?;
    l.grant(&nina, keys::BACKLOT, keys::MASTER_CONTENT_PARTNER_OPERATIONS, None).await?;
    l.admin(&nina, keys::BACKLOT, None).await?;
    let felix = l
        .member(
            Some(&pixel),
            "felix.fulfil@pixel.example",
            "Felix",
            "Fulfil",
            "Pixel Fulfillment: Content Partner Operations",
        )
        .await?;
    l.grant(&felix, keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS, None).await?;
    let quinn = l
        .member(
            Some(&clearview),
            "quinn.qc@clearview.example",
            "Quinn",
            "Checker",
            "Clearview QC: Content Partner Operations",
        )
        .await?;
    l.grant(&quinn, keys::BACKLOT, keys::CONTENT_PARTNER_OPERATIONS, None).await?;

    // Seed 002: a Network partner with portal users of each level, contacts,
    // sites, appliances and tickets.
    let nora =
        l.member(Some(&metro), "nora.admin@metrofiber.example", "Nora", "Admin", "Metro Fiber: portal Admin").await?;
    l.grant(&nora, keys::PARTNER_PORTAL, keys::PORTAL_ADMIN, None).await?;
    let eli = l
        .member(Some(&metro), "eli.engineer@metrofiber.example", "Eli", "Engineer", "Metro Fiber: portal Engineering")
        .await?;
    l.grant(&eli, keys::PARTNER_PORTAL, keys::PORTAL_ENGINEERING, None).await?;
    let rita = l
        .member(Some(&metro), "rita.readonly@metrofiber.example", "Rita", "Reader", "Metro Fiber: portal Read-only")
        .await?;
    l.grant(&rita, keys::PARTNER_PORTAL, keys::PORTAL_READ_ONLY, None).await?;
    contacts::set_contact_roles(l.conn, &nora.id, &["engineering".into()]).await?;
    contacts::set_contact_roles(l.conn, &eli.id, &["engineering".into(), "noc".into()]).await?;

    let denver = sites::insert_site(l.conn, &metro, "Denver DC1", "Denver, US").await?;
    let austin = sites::insert_site(l.conn, &metro, "Austin POP", "Austin, US").await?;
    let noah = l.contact(&metro, "noah.noc@metrofiber.example", "Noah", "Operations", &["noc"]).await?;
    let lena =
        l.contact(&metro, "lena.logistics@metrofiber.example", "Lena", "Logistics", &["logistics", "shipping"]).await?;
    let carl = l.contact(&metro, "carl.customs@metrofiber.example", "Carl", "Customs", &["customs"]).await?;
    for (user, site) in [(&noah, &denver), (&lena, &denver), (&carl, &denver), (&eli, &austin), (&noah, &austin)] {
        sites::link_site(l.conn, &user.id, &site.id).await?;
    }
    for user in [&noah, &lena, &carl] {
        sites::add_survey_contact(l.conn, &denver.id, &user.id).await?;
    }
    appliances::insert_appliance(l.conn, &metro, &denver.id, "OCA-DEN-0001", "Storage OCA").await?;
    appliances::insert_appliance(l.conn, &metro, &denver.id, "OCA-DEN-0002", "Flash OCA").await?;
    appliances::insert_appliance(l.conn, &metro, &austin.id, "OCA-AUS-0001", "Flash OCA").await?;
    let ticket = tickets::insert_ticket(
        l.conn,
        &metro,
        "OCA-DEN-0002 reports high packet loss",
        "Since 02:00 UTC the appliance reports 3% loss towards the peering router.",
        Some(&eli.id),
    )
    .await?;
    tickets::insert_ticket_comment(
        l.conn,
        &ticket,
        Some(&nora.id),
        &nora.email,
        "We are checking the optics on our side.",
    )
    .await?;
    tickets::insert_ticket(
        l.conn,
        &metro,
        "Firmware upgrade window for Austin POP",
        "Netflix plans a firmware upgrade next Tuesday 06:00 UTC.",
        None,
    )
    .await?;

    // One client of the OpenID Connect provider per application, for a
    // developer's application on this machine.
    for application in state.catalogue.applications.iter().map(|a| a.key.clone()).collect::<Vec<_>>() {
        let client_id = ClientId::from(format!("{application}-demo"));
        let secret = format!("{application}-demo-secret");
        let grant_types = ["authorization_code", "refresh_token", "client_credentials"].map(String::from);
        let request = ops::clients::Request {
            application: &application,
            name: &format!("{application} (demo)"),
            redirect_uris: &[DEMO_REDIRECT_URI.to_string()],
            grant_types: Some(&grant_types),
        };
        ops::clients::issue_as(l.conn, &state.catalogue, &operator.id, &l.actor, &request, &client_id, secret.clone())
            .await?;
        l.lines.push(format!("client {:<27} secret {secret}, redirect {DEMO_REDIRECT_URI}", client_id.as_str()));
    }

    let lines = std::mem::take(&mut l.lines);
    tx.commit().await?;
    Ok(Some(lines))
}
