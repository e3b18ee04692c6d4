//! What the people running Starship watch: readiness for a load balancer.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use starship_server::dispatch::{DispatchConfig, Dispatcher};
use starship_server::AppState;

use crate::support::*;

/// Serves `state` on a port of its own; returns its base URL and a stop handle.
async fn serve(state: AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(starship_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    (base, tx)
}

async fn readiness(base: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    (status, body)
}

fn reasons(body: &Value) -> String {
    body["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>().join("; ")
}

async fn execute(app: &TestApp, sql: &str) {
    starship_store::sqlx::query(sql).execute(app.store.pool()).await.unwrap();
}

app_test!(ready_only_while_the_migrations_are_exactly_the_binarys, |app| async move {
    let (status, body) = readiness(&app.base).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), StatusCode::OK);

    execute(
        &app,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT 9999, 'from a newer starshipd', success, checksum, execution_time FROM _sqlx_migrations WHERE version = 1",
    )
    .await;
    let (status, body) = readiness(&app.base).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["ready"], false);
    assert!(reasons(&body).contains("does not know: 9999"), "{body}");

    execute(&app, "DELETE FROM _sqlx_migrations WHERE version = 9999").await;
    assert_eq!(readiness(&app.base).await.0, StatusCode::OK);
    let last = starship_store::schema::known(app.store.dialect()).last().unwrap().version;
    execute(&app, &format!("DELETE FROM _sqlx_migrations WHERE version = {last}")).await;
    let (status, body) = readiness(&app.base).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reasons(&body).contains(&format!("not applied: {last}")), "{body}");
});

app_test!(not_ready_when_the_store_does_not_answer, |app| async move {
    let store = starship_store::Store::connect(&app.db_url()).await.unwrap();
    let mut state = app.state.clone();
    state.store = store.clone();
    let (base, stop) = serve(state).await;
    assert_eq!(readiness(&base).await.0, StatusCode::OK);
    store.close().await;
    let (status, body) = readiness(&base).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reasons(&body).contains("does not answer"), "{body}");
    let _ = stop.send(());
});

app_test!(with_smtp_ready_only_while_the_dispatcher_runs, |app| async move {
    let config = DispatchConfig::new("smtp://127.0.0.1:9", "Starship <no-reply@starship.example>").unwrap();
    let dispatcher = Dispatcher::new(app.store.clone(), config).unwrap();
    let mut state = app.state.clone();
    state.dispatcher = Some(dispatcher.running());
    let (base, stop) = serve(state).await;
    let (status, body) = readiness(&base).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "not started yet");
    assert!(reasons(&body).contains("dispatcher is not running"), "{body}");

    let (stop_dispatch, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(dispatcher.run(stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while readiness(&base).await.0 != StatusCode::OK {
        assert!(tokio::time::Instant::now() < deadline, "never ready with the dispatcher running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_dispatch.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(readiness(&base).await.0, StatusCode::SERVICE_UNAVAILABLE, "the dispatcher stopped");
    let _ = stop.send(());
});

fn with_trusted_proxies(state: &AppState, proxies: &[&str]) -> AppState {
    let mut state = state.clone();
    let mut config = (*state.config).clone();
    config.trusted_proxies = proxies.iter().map(|p| p.parse().unwrap()).collect();
    state.config = std::sync::Arc::new(config);
    state
}

async fn request_id(base: &str, incoming: Option<&str>) -> String {
    let mut request = reqwest::Client::new().get(format!("{base}/api/v1/me"));
    if let Some(id) = incoming {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    response.headers().get("x-request-id").expect("every response carries a request id").to_str().unwrap().to_string()
}

app_test!(request_ids_are_new_unless_a_trusted_proxy_set_one, |app| async move {
    let fresh = request_id(&app.base, None).await;
    assert!(uuid::Uuid::parse_str(&fresh).is_ok(), "{fresh}");
    assert_ne!(fresh, request_id(&app.base, None).await, "one id per request");
    let from_anyone = request_id(&app.base, Some("lb-7f3a")).await;
    assert_ne!(from_anyone, "lb-7f3a", "an untrusted peer's id is not believed");
    assert!(uuid::Uuid::parse_str(&from_anyone).is_ok());

    let (behind_proxy, stop) = serve(with_trusted_proxies(&app.state, &["127.0.0.0/8"])).await;
    assert_eq!(request_id(&behind_proxy, Some("lb-7f3a")).await, "lb-7f3a", "the trusted proxy's id is kept");
    let mangled = request_id(&behind_proxy, Some("two words")).await;
    assert!(uuid::Uuid::parse_str(&mangled).is_ok(), "an id with spaces is replaced: {mangled}");
    let _ = stop.send(());
    let (elsewhere, stop) = serve(with_trusted_proxies(&app.state, &["10.0.0.0/8"])).await;
    assert_ne!(request_id(&elsewhere, Some("lb-7f3a")).await, "lb-7f3a");
    let _ = stop.send(());
});

/// Everything logged in this test process, as the JSON lines starshipd
/// writes with `--log-format json`, at the most detailed level.
fn captured_log() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOG: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        let subscriber =
            starship_server::observe::subscriber(starship_server::observe::LogFormat::Json, "trace", move || {
                Capture(sink.clone())
            });
        tracing::subscriber::set_global_default(subscriber).expect("no other logger in this test process");
        log
    })
    .clone()
}

struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `secret` appears in `text` on its own, not inside a longer word
/// or number (a six-digit code may well occur inside a timestamp).
fn appears(text: &str, secret: &str) -> bool {
    text.match_indices(secret).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + secret.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

app_test!(no_password_token_link_or_code_reaches_the_log, |app| async move {
    let log = captured_log();
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (status, created) = app.post(&mara, "/api/v1/tokens", serde_json::json!({"name": "Nightly"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let api_token = created["token"].as_str().unwrap().to_string();
    let bearer = reqwest::Client::new();
    let response = bearer.get(app.url("/api/v1/me")).bearer_auth(&api_token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, ana) = app
        .post(
            &mara,
            "/api/v1/users",
            serde_json::json!({"email": "ana.lopez@sunrise.example", "first_name": "Ana", "last_name": "Lopez", "locale": "en-US"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ana}");
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=ana.lopez@sunrise.example").await;
    let body = outbox[0]["body"].as_str().unwrap();
    let start = body.find("token=").expect("an activation link") + "token=".len();
    let activation = body[start..].split_whitespace().next().unwrap().to_string();
    let (status, _) = app
        .post(
            &app.client(),
            "/api/v1/invitations/accept",
            serde_json::json!({"token": activation, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let ana = app.signed_in("ana.lopez@sunrise.example").await;
    let (status, enrolment) = app.post(&ana, "/api/v1/me/mfa", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let totp_secret = enrolment["secret"].as_str().unwrap().to_string();
    let now = starship_store::now_millis() / 1000;
    let code = starship_server::ops::session::current_code(&totp_secret, "ana.lopez@sunrise.example", now).unwrap();
    let (status, codes) = app.post(&ana, "/api/v1/me/mfa/confirm", serde_json::json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let recovery = codes["recovery_codes"][0].as_str().unwrap().to_string();

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    for (what, secret) in [
        ("the password, signed in with and set by activation", PASSWORD),
        ("the API token", api_token.as_str()),
        ("the activation token", activation.as_str()),
        ("the TOTP secret", totp_secret.as_str()),
        ("the TOTP code", code.as_str()),
        ("a recovery code", recovery.as_str()),
    ] {
        assert!(!appears(&text, secret), "{what} reached the log");
    }
    let token_lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["route"] == "/api/v1/tokens" && l["method"] == "POST")
        .collect();
    let line = token_lines.first().expect("a request line for the new token");
    assert_eq!(line["status"], 201);
    assert_eq!(line["user_id"], w.backlot_admin.as_str());
    assert_eq!(line["partner_id"], w.sunrise.as_str());
    assert!(line["latency_ms"].as_f64().is_some() && line["request_id"].as_str().is_some(), "{line}");
});
