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
