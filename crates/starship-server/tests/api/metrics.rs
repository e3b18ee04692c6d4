//! What Prometheus scrapes: the metrics listener, read by the official
//! Python client's strict OpenMetrics parser, never by our own.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_server::dispatch::{DispatchConfig, Dispatcher};
use starship_server::AppState;
use starship_store::outbox::NewMessage;

use crate::support::*;

async fn serve_metrics(state: AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(starship_server::metrics::serve(listener, state, async {
        let _ = rx.await;
    }));
    (base, tx)
}

/// One scraped sample.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: Value,
    value: f64,
}

struct Scrape(Vec<Sample>);

impl Scrape {
    /// The value of the one sample named `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: Value) -> Option<f64> {
        let wanted = labels.as_object().unwrap();
        let found: Vec<&Sample> = self
            .0
            .iter()
            .filter(|s| s.name == name && wanted.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .collect();
        assert!(found.len() <= 1, "{name} {labels} matches several samples: {found:?}");
        found.first().map(|s| s.value)
    }

    fn counted(&self, name: &str, labels: Value) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }
}

async fn scrape(base: &str) -> Scrape {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = response.text().await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/metrics_parse.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with prometheus_client (scripts/test installs it)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let samples: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    Scrape(
        samples
            .into_iter()
            .map(|s| Sample {
                name: s["name"].as_str().unwrap().to_string(),
                labels: s["labels"].clone(),
                value: s["value"].as_f64().unwrap(),
            })
            .collect(),
    )
}

app_test!(metrics_count_requests_sign_ins_checks_and_the_outbox, |app| async move {
    let w = world(&app).await;
    let mut state = app.state.clone();
    // A dispatcher that can reach no SMTP server: every attempt fails and is retried.
    let config = DispatchConfig::new("smtp://127.0.0.1:9", "Starship <no-reply@starship.example>").unwrap();
    let dispatcher = Dispatcher::new(app.store.clone(), config).unwrap().reporting_to(state.metrics.clone());
    state.dispatcher = Some(dispatcher.running());
    let (metrics_base, stop_metrics) = serve_metrics(state.clone()).await;
    let before = scrape(&metrics_base).await;
    assert_eq!(
        before.value("starship_job_last_success_timestamp_seconds", json!({"job": "outbox_dispatcher"})),
        Some(0.0)
    );

    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "pat.plain@sunrise.example", "password": "not it at all"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app
        .post(
            &operator,
            "/api/v1/check",
            json!({"user_id": w.backlot_admin, "application": "backlot", "capability": "source-management"}),
        )
        .await;
    assert_eq!((status, &body["allowed"]), (StatusCode::OK, &json!(true)), "{body}");
    let (status, body) = app
        .post(
            &operator,
            "/api/v1/check",
            json!({"user_id": w.plain, "application": "backlot", "capability": "source-management"}),
        )
        .await;
    assert_eq!((status, &body["allowed"]), (StatusCode::OK, &json!(false)), "{body}");
    let (status, _) = app.get(&operator, &format!("/api/v1/users/{}", w.plain)).await;
    assert_eq!(status, StatusCode::OK);

    let mut conn = app.store.conn().await.unwrap();
    let message = NewMessage { recipient: "ops@example.com", user_id: None, kind: "test", subject: "s", body: "b" };
    starship_store::outbox::enqueue(&mut conn, &message).await.unwrap();
    drop(conn);
    let (stop_dispatch, stopped) = tokio::sync::watch::channel(false);
    let dispatching = tokio::spawn(dispatcher.run(stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let now = scrape(&metrics_base).await;
        let polled = now.counted("starship_job_last_success_timestamp_seconds", json!({"job": "outbox_dispatcher"}));
        if polled > 0.0 && now.counted("starship_outbox_send_failures_total", json!({"outcome": "retry"})) > 0.0 {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "the dispatcher never recorded a poll and a failure");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop_dispatch.send(true);
    dispatching.await.unwrap();
    let _ = stop_metrics.send(());

    let delta = |name: &str, labels: Value| after.counted(name, labels.clone()) - before.counted(name, labels);
    assert_eq!(delta("starship_sign_ins_total", json!({"outcome": "success"})), 1.0);
    assert_eq!(delta("starship_sign_ins_total", json!({"outcome": "failure"})), 1.0);
    assert_eq!(delta("starship_checks_total", json!({"application": "backlot", "decision": "allow"})), 1.0);
    assert_eq!(delta("starship_checks_total", json!({"application": "backlot", "decision": "deny"})), 1.0);
    let session = json!({"route": "/api/v1/session", "method": "POST"});
    assert_eq!(
        delta("starship_http_requests_total", json!({"route": "/api/v1/session", "method": "POST", "status": "200"})),
        1.0
    );
    assert_eq!(
        delta("starship_http_requests_total", json!({"route": "/api/v1/session", "method": "POST", "status": "401"})),
        1.0
    );
    assert_eq!(delta("starship_http_request_duration_seconds_count", session.clone()), 2.0);
    let inf = json!({"route": "/api/v1/session", "method": "POST", "le": "+Inf"});
    assert_eq!(
        after.counted("starship_http_request_duration_seconds_bucket", inf),
        after.counted("starship_http_request_duration_seconds_count", session)
    );
    // The profile is counted under its route template, never its address.
    assert_eq!(
        delta("starship_http_requests_total", json!({"route": "/api/v1/users/{id}", "method": "GET", "status": "200"})),
        1.0
    );
    assert!(after.0.iter().all(|s| !s.labels.to_string().contains(&w.plain)), "a label carries an id");

    let queued: i64 = starship_store::sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(queued > 0, "the message that could not be sent waits");
    assert_eq!(after.value("starship_outbox_queued_messages", json!({})), Some(queued as f64));
    assert!(after.value("starship_outbox_oldest_queued_age_seconds", json!({})).unwrap() > 0.0);
    assert!(after.value("starship_db_pool_max_connections", json!({})).unwrap() >= 1.0);
    assert!(after.value("starship_db_pool_connections", json!({"state": "idle"})).is_some());
    assert!(after.value("starship_db_pool_connections", json!({"state": "in_use"})).is_some());
});

app_test!(the_metrics_listener_serves_metrics_and_nothing_else, |app| async move {
    let (metrics_base, stop_metrics) = serve_metrics(app.state.clone()).await;
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json", "/sign-in", "/", "/metrics/"] {
        let status = client.get(format!("{metrics_base}{path}")).send().await.unwrap().status();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} on the metrics listener");
    }
    let status = client.post(format!("{metrics_base}/metrics")).send().await.unwrap().status();
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // The control: the same paths answer on the public listener, and metrics do not.
    assert_eq!(client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let public = client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    assert!(!public.text().await.unwrap().contains("starship_http_requests"));
    assert_eq!(client.get(format!("{metrics_base}/metrics")).send().await.unwrap().status(), StatusCode::OK);
    let _ = stop_metrics.send(());
});

app_test!(each_server_counts_only_its_own_requests, |app| async move {
    let (other, stop_other) = app.second_instance().await;
    let (metrics_base, stop_metrics) = serve_metrics(app.state.clone()).await;
    let before = scrape(&metrics_base).await;
    let healthz = json!({"route": "/healthz", "method": "GET", "status": "200"});
    for _ in 0..3 {
        reqwest::get(format!("{other}/healthz")).await.unwrap();
    }
    reqwest::get(app.url("/healthz")).await.unwrap();
    let after = scrape(&metrics_base).await;
    assert_eq!(
        after.counted("starship_http_requests_total", healthz.clone())
            - before.counted("starship_http_requests_total", healthz),
        1.0
    );
    let _ = (stop_other.send(()), stop_metrics.send(()));
});

app_test!(sign_ins_are_counted_by_outcome, |app| async move {
    let w = world(&app).await;
    app.with_mfa(&w.master_only).await;
    let (metrics_base, stop_metrics) = serve_metrics(app.state.clone()).await;
    let client = app.client();
    let attempt = |email: &'static str, password: &'static str| {
        let (app, client) = (app.clone(), client.clone());
        async move { app.post(&client, "/api/v1/session", json!({"email": email, "password": password})).await.0 }
    };
    // The account's limit is five attempts a window: the sixth is refused unchecked.
    for _ in 0..5 {
        assert_eq!(attempt("pat.plain@sunrise.example", "wrong every time").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt("pat.plain@sunrise.example", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    // The right password of an account with two-step sign-in asks for the code.
    assert_eq!(attempt("morgan.master@sunrise.example", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("alex.academy@sunrise.example", PASSWORD).await, StatusCode::OK);

    let after = scrape(&metrics_base).await;
    let outcome = |outcome: &str| after.counted("starship_sign_ins_total", json!({"outcome": outcome}));
    assert_eq!((outcome("success"), outcome("failure"), outcome("throttled"), outcome("mfa")), (1.0, 5.0, 1.0, 1.0));
    let _ = stop_metrics.send(());
});

app_test!(the_review_pass_and_the_expiry_sweep_record_their_last_success, |app| async move {
    let (metrics_base, stop_metrics) = serve_metrics(app.state.clone()).await;
    let job = |name: &str| json!({"job": name});
    let before = scrape(&metrics_base).await;
    for name in ["access_reviews", "grant_expiry"] {
        assert_eq!(before.value("starship_job_last_success_timestamp_seconds", job(name)), None, "{name} not started");
    }

    starship_server::ops::reviews::tick(&app.state).await;
    let (stop_sweep, stopped) = tokio::sync::watch::channel(false);
    let sweeping = tokio::spawn(starship_server::expiry::run(
        app.store.clone(),
        app.state.catalogue.clone(),
        starship_server::expiry::SweepConfig::new(),
        app.state.metrics.clone(),
        stopped,
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let after = loop {
        let now = scrape(&metrics_base).await;
        if now.counted("starship_job_last_success_timestamp_seconds", job("grant_expiry")) > 0.0 {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "the sweep never recorded a success");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop_sweep.send(true);
    sweeping.await.unwrap();
    let _ = stop_metrics.send(());
    let a_minute_ago =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 60) as f64;
    for name in ["access_reviews", "grant_expiry"] {
        let at = after.counted("starship_job_last_success_timestamp_seconds", job(name));
        assert!(at > a_minute_ago, "{name}: last success at {at}");
    }
});
