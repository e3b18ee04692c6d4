//! `TestApp`: the real server on a random port over a fresh store, with
//! typed helpers for the fixtures and requests tests need.

#![allow(dead_code)]

use starship_core::ids::{PartnerId, UserId};
use std::sync::LazyLock;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_core::authz::{self, Principal};
use starship_core::catalogue::{AdminScope, RoleRef};
use starship_core::domain::{Email, Locale, PartnerKind, PersonName, ProductionId, Title, UserStatus};
use starship_server::{AppState, Config};
use starship_store::testing::{Backend, TestDb};
use starship_store::users::{self, NewUser};
use starship_store::{grants, partners, Store};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery staple";

/// Hashing is slow on purpose; every test user shares one hash.
static PASSWORD_HASH: LazyLock<String> = LazyLock::new(|| {
    starship_server::security::hash_password(&starship_core::domain::Password::parse("password", PASSWORD).unwrap())
});

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub state: AppState,
    pub backend: Backend,
    db: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await;
        let store = Store::open(db.url()).await.expect("opening the test store");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(store.clone(), Config::for_public_url(&base)).await.expect("loading the catalogue");
        let (tx, rx) = oneshot::channel();
        let server = tokio::spawn(starship_server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        TestApp { base, store, state, backend, db: Some(db), shutdown: Some(tx), server: Some(server) }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.store.close().await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }

    /// Another starshipd on the same database, as a second instance behind
    /// a load balancer would be; returns its base URL and a stop handle.
    pub async fn second_instance(&self) -> (String, oneshot::Sender<()>) {
        let url = self.db.as_ref().expect("the test database").url().to_string();
        let store = Store::open(&url).await.expect("a second store on the same database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = AppState::new(store, Config::for_public_url(&base)).await.expect("loading the catalogue");
        let (tx, rx) = oneshot::channel();
        tokio::spawn(starship_server::serve(listener, state, async {
            let _ = rx.await;
        }));
        (base, tx)
    }

    /// The URL of this app's test database.
    pub fn db_url(&self) -> String {
        self.db.as_ref().expect("the test database").url().to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with its own cookie jar, not signed in.
    pub fn client(&self) -> Client {
        Client::builder().cookie_store(true).build().unwrap()
    }

    /// A client signed in as `email` with the test password.
    pub async fn signed_in(&self, email: &str) -> Client {
        let client = self.client();
        let (status, body) =
            self.call(&client, "POST", "/api/v1/session", Some(json!({"email": email, "password": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK, "signing in as {email}: {body}");
        client
    }

    /// Sends a request and returns the status and the JSON body (`Null` for
    /// an empty one). A body that is not JSON fails the test with its text.
    pub async fn call(&self, client: &Client, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method.clone(), self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request reaches the server");
        let status = response.status();
        let text = response.text().await.expect("a readable body");
        (status, json_body(&format!("{method} {path}"), status, &text))
    }

    pub async fn get(&self, client: &Client, path: &str) -> (StatusCode, Value) {
        self.call(client, "GET", path, None).await
    }

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(client, "POST", path, Some(body)).await
    }

    pub async fn delete(&self, client: &Client, path: &str) -> (StatusCode, Value) {
        self.call(client, "DELETE", path, None).await
    }

    pub async fn partner(&self, name: &str, kind: PartnerKind) -> String {
        let mut conn = self.store.conn().await.unwrap();
        partners::insert(&mut conn, &Title::parse("name", name).unwrap(), kind).await.unwrap().id.into_string()
    }

    pub async fn production(&self, id: i64, title: &str) {
        let mut conn = self.store.conn().await.unwrap();
        partners::insert_production(
            &mut conn,
            ProductionId::parse("id", id).unwrap(),
            &Title::parse("t", title).unwrap(),
            None,
        )
        .await
        .unwrap();
    }

    /// An active user who signs in with the test password; `None` partner
    /// makes an operator. Returns the user id.
    pub async fn member(&self, partner: Option<&str>, email: &str) -> String {
        let (first, last) = email.split('@').next().unwrap().split_once('.').unwrap_or((email, "Tester"));
        let mut conn = self.store.conn().await.unwrap();
        let partner = partner.map(PartnerId::from);
        users::insert(
            &mut conn,
            &NewUser {
                partner_id: partner.as_ref(),
                email: &Email::parse("email", email).unwrap(),
                first_name: &PersonName::parse("f", first).unwrap(),
                last_name: &PersonName::parse("l", last).unwrap(),
                locale: Locale::parse("locale", "en-US").unwrap(),
                phone: None,
                status: UserStatus::Active,
                password_hash: Some(&PASSWORD_HASH),
            },
        )
        .await
        .unwrap()
        .id
        .into_string()
    }

    pub async fn grant(&self, user_id: &str, application: &str, role: &str, production: Option<i64>) -> String {
        let mut conn = self.store.conn().await.unwrap();
        let role = RoleRef {
            application: application.into(),
            role: role.into(),
            production: production.map(|p| ProductionId::parse("p", p).unwrap()),
        };
        // Seeded as the console, an operator: the rules allow it anywhere.
        let permit = authz::grant_role(&Principal::console(), &PartnerId::from_static("seeded"), &role).unwrap();
        grants::grant(&mut conn, &UserId::from(user_id), &permit, None).await.unwrap().0.id.into_string()
    }

    pub async fn admin(&self, user_id: &str, application: &str, production: Option<i64>) -> String {
        let mut conn = self.store.conn().await.unwrap();
        let scope = AdminScope {
            application: application.into(),
            production: production.map(|p| ProductionId::parse("p", p).unwrap()),
        };
        let permit = authz::grant_admin(&Principal::console(), &PartnerId::from_static("seeded"), &scope).unwrap();
        grants::add_admin(&mut conn, &UserId::from(user_id), &permit, None).await.unwrap().0.id.into_string()
    }

    /// The id of the user with this email.
    pub async fn signed_in_id(&self, email: &str) -> String {
        let mut conn = self.store.conn().await.unwrap();
        users::get_by_email(&mut conn, &Email::parse("email", email).unwrap()).await.unwrap().unwrap().id.into_string()
    }

    /// Rows in a table, for asserting that a failed request wrote nothing.
    pub async fn count(&self, table: &str) -> i64 {
        use starship_store::sqlx::Row;
        sqlx_count(&self.store, table).await.try_get::<i64, _>("n").unwrap()
    }
}

/// Ends every grant of a person a second ago, as if their end dates had
/// passed, without any sweeper running.
pub async fn expire_grants_of(app: &TestApp, user_id: &str) {
    starship_store::sqlx::query("UPDATE grants SET expires_at = $1 WHERE user_id = $2")
        .bind(starship_store::now_millis() - 1_000)
        .bind(user_id)
        .execute(app.store.pool())
        .await
        .unwrap();
}

/// Ends one grant a second ago.
pub async fn expire_grant(app: &TestApp, grant_id: &str) {
    starship_store::sqlx::query("UPDATE grants SET expires_at = $1 WHERE id = $2")
        .bind(starship_store::now_millis() - 1_000)
        .bind(grant_id)
        .execute(app.store.pool())
        .await
        .unwrap();
}

/// A response body as JSON: `Null` when empty; anything else that is not
/// JSON fails the test, showing the body.
pub fn json_body(request: &str, status: StatusCode, text: &str) -> Value {
    if text.is_empty() {
        return Value::Null;
    }
    // JSON Lines (the History export) read as an array of its lines.
    let lines = || -> serde_json::Result<Value> {
        text.lines().map(serde_json::from_str).collect::<serde_json::Result<Vec<Value>>>().map(Value::Array)
    };
    serde_json::from_str(text)
        .or_else(|e| if text.ends_with('\n') { lines() } else { Err(e) })
        .unwrap_or_else(|e| panic!("{request} answered {status} with a body that is not JSON ({e}): {text}"))
}

/// Every table a write of the API or the pages can touch, for asserting
/// that a refused request changed nothing at all.
pub const WRITABLE_TABLES: [&str; 25] = [
    "partners",
    "users",
    "grants",
    "admin_privileges",
    "history",
    "history_chain_heads",
    "outbox",
    "ticket_comments",
    "tickets",
    "bgp_configs",
    "appliances",
    "sites",
    "activation_tokens",
    "sessions",
    "sign_in_challenges",
    "mfa_totp",
    "mfa_recovery_codes",
    "api_tokens",
    "user_contact_roles",
    "user_sites",
    "user_metadata",
    "notification_preferences",
    "access_reviews",
    "access_review_items",
    "scim_tokens",
];

impl TestApp {
    /// The whole content of every writable table, each row as text: two
    /// snapshots differ if any row was added, removed or changed.
    pub async fn snapshot(&self) -> Vec<(&'static str, Vec<String>)> {
        use starship_store::sqlx::{Column, Row};
        let mut tables = Vec::new();
        for table in WRITABLE_TABLES {
            let rows = starship_store::sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(self.store.pool())
                .await
                .unwrap_or_else(|e| panic!("reading {table}: {e}"));
            let mut texts: Vec<String> = rows
                .iter()
                .map(|row| {
                    (0..row.columns().len())
                        .map(|i| {
                            let name = row.column(i).name().to_string();
                            let value = row
                                .try_get::<Option<String>, _>(i)
                                .map(|v| format!("{v:?}"))
                                .or_else(|_| row.try_get::<Option<i64>, _>(i).map(|v| format!("{v:?}")))
                                .or_else(|_| row.try_get::<Option<f64>, _>(i).map(|v| format!("{v:?}")))
                                .unwrap_or_else(|e| panic!("{table}.{name}: {e}"));
                            format!("{name}={value}")
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            texts.sort();
            tables.push((table, texts));
        }
        tables
    }

    /// Turns two-step sign-in on for a user, straight in the store.
    pub async fn with_mfa(&self, user_id: &str) {
        let mut conn = self.store.conn().await.unwrap();
        let user_id = UserId::from(user_id);
        starship_store::mfa::begin_enrolment(&mut conn, &user_id, "JBSWY3DPEHPK3PXP").await.unwrap();
        starship_store::mfa::enable(&mut conn, &user_id).await.unwrap();
    }

    /// Whether a user has two-step sign-in turned on, read from the store.
    pub async fn has_mfa(&self, user_id: &str) -> bool {
        let mut conn = self.store.conn().await.unwrap();
        starship_store::mfa::totp_of(&mut conn, &UserId::from(user_id)).await.unwrap().is_some_and(|t| t.enabled)
    }

    /// A personal API token of a user, straight in the store; returns its id.
    pub async fn token_of(&self, user_id: &str, hash: &str) -> String {
        let mut conn = self.store.conn().await.unwrap();
        let expires_at = starship_store::now_millis() + 86_400_000;
        starship_store::sessions::insert_api_token(&mut conn, &UserId::from(user_id), "Monitoring", hash, expires_at)
            .await
            .unwrap()
            .id
            .into_string()
    }
}

/// Which rows two snapshots disagree on, table by table.
pub fn snapshot_difference(
    before: &[(&'static str, Vec<String>)],
    after: &[(&'static str, Vec<String>)],
) -> Vec<String> {
    let mut differences = Vec::new();
    for ((table, was), (_, is)) in before.iter().zip(after) {
        for row in was.iter().filter(|r| !is.contains(r)) {
            differences.push(format!("{table}: gone or changed: {row}"));
        }
        for row in is.iter().filter(|r| !was.contains(r)) {
            differences.push(format!("{table}: new or changed: {row}"));
        }
    }
    differences
}

async fn sqlx_count(store: &Store, table: &str) -> starship_store::sqlx::any::AnyRow {
    starship_store::sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(store.pool()).await.unwrap()
}

/// Runs a test body against a fresh app, stopping it and dropping its
/// database whatever happens.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(std::sync::Arc<TestApp>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    let outcome = tokio::spawn(body(app.clone())).await;
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the test kept its TestApp alive"),
    }
    if let Err(join) = outcome {
        if join.is_panic() {
            std::panic::resume_unwind(join.into_panic());
        }
        panic!("test task on {backend:?} did not finish: {join}");
    }
}

/// `app_test!(name, |app| async move { ... })` writes the test twice, as
/// `name::sqlite` and `name::postgres`, each on a fresh app and store.
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::support::run(starship_store::testing::Backend::Sqlite, |$app| $body).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::support::run(starship_store::testing::Backend::Postgres, |$app| $body).await;
            }
        }
    };
}
pub(crate) use app_test;

/// The cast of the seeds, in two partners.
pub struct World {
    pub sunrise: String,
    pub northwind: String,
    pub operator: String,
    /// Master Content Partner Operations and Backlot admin.
    pub backlot_admin: String,
    /// Admin of Production Academy and of its production 70030433.
    pub academy_admin: String,
    /// Master Content Partner Operations without any admin privilege.
    pub master_only: String,
    pub plain: String,
    /// A Backlot admin of the other partner.
    pub outsider: String,
}

pub const HOME_THEATER: i64 = 70030433;

pub async fn world(app: &TestApp) -> World {
    let sunrise = app.partner("Sunrise Studios", PartnerKind::Content).await;
    let northwind = app.partner("Northwind Media", PartnerKind::Content).await;
    app.production(HOME_THEATER, "Home Theater Demo - MID").await;
    app.production(123, "Another Production").await;
    let operator = app.member(None, "olivia.operator@starship.example").await;
    let backlot_admin = app.member(Some(&sunrise), "mara.master@sunrise.example").await;
    app.grant(&backlot_admin, "backlot", "master-content-partner-operations", None).await;
    app.admin(&backlot_admin, "backlot", None).await;
    let academy_admin = app.member(Some(&sunrise), "alex.academy@sunrise.example").await;
    app.admin(&academy_admin, "production-academy", None).await;
    app.admin(&academy_admin, "production-academy", Some(HOME_THEATER)).await;
    let master_only = app.member(Some(&sunrise), "morgan.master@sunrise.example").await;
    app.grant(&master_only, "backlot", "master-content-partner-operations", None).await;
    let plain = app.member(Some(&sunrise), "pat.plain@sunrise.example").await;
    let outsider = app.member(Some(&northwind), "nina.north@northwind.example").await;
    app.grant(&outsider, "backlot", "master-content-partner-operations", None).await;
    app.admin(&outsider, "backlot", None).await;
    World { sunrise, northwind, operator, backlot_admin, academy_admin, master_only, plain, outsider }
}
