//! The binary itself: SIGTERM while requests are running.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_requests_in_flight_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_starshipd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(format!("sqlite://{}", dir.path().join("starship.db").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(started.elapsed() < Duration::from_secs(30), "starshipd never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Sign-ins hash a password on purpose slowly: these are in flight together.
    let requests: Vec<_> = (0..16)
        .map(|i| {
            let (client, url) = (client.clone(), format!("{base}/api/v1/session"));
            tokio::spawn(async move {
                let body =
                    serde_json::json!({"email": format!("nobody.{i}@example.com"), "password": "not the password"});
                let response = client.post(url).json(&body).send().await;
                (response.map(|r| r.status().as_u16()).map_err(|e| e.to_string()), Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let terminated = Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());

    let mut answered_after_sigterm = 0;
    for request in requests {
        let (outcome, at) = request.await.unwrap();
        assert_eq!(outcome, Ok(401), "every request in flight is answered");
        if at > terminated {
            answered_after_sigterm += 1;
        }
    }
    assert!(answered_after_sigterm > 0, "some requests were still running at SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "starshipd did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "a clean shutdown exits 0");
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "nothing listens any more");
}
