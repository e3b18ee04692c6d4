//! The settings file, through the binary: applied by `serve`, under the
//! environment and the flags, and checked by `config check`.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `starshipd` with none of the settings' variables from the caller's environment.
fn starshipd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starshipd"));
    for (key, _) in std::env::vars() {
        if key.starts_with("STARSHIP_") {
            command.env_remove(key);
        }
    }
    command
}

fn config_check(file: &Path, env: &[(&str, &str)]) -> Output {
    starshipd().args(["config", "check", "--config"]).arg(file).envs(env.iter().copied()).output().unwrap()
}

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("starship.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The line `config check` printed for `key`.
fn line<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap_or_else(|| panic!("no {key} in:\n{stdout}"))
}

async fn answers(url: &str) -> bool {
    reqwest::get(url).await.map(|r| r.status() == 200).unwrap_or(false)
}

async fn wait_until_ready(child: &mut Child, url: &str) {
    let started = Instant::now();
    while !answers(url).await {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("starshipd exited with {status} before answering {url}");
        }
        assert!(started.elapsed() < Duration::from_secs(30), "starshipd never answered {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_with_the_files_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let file = write(
        dir.path(),
        &format!(
            "db = \"sqlite://{}\"\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:{metrics_port}\"\n",
            dir.path().join("from-file.db").display()
        ),
    );
    let mut child =
        starshipd().args(["serve", "--config"]).arg(&file).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_until_ready(&mut child, &format!("http://127.0.0.1:{port}/readyz")).await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("starship_http_requests_total{route=\"/readyz\""));
    assert!(dir.path().join("from-file.db").exists(), "the store is the file's");
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (flag, env, file_port) = (free_port(), free_port(), free_port());
    let db = format!("sqlite://{}", dir.path().join("s.db").display());
    let file = write(dir.path(), &format!("db = \"{db}\"\nlisten = \"127.0.0.1:{file_port}\"\n"));
    let env_listen = format!("127.0.0.1:{env}");

    let mut child = starshipd()
        .args(["serve", "--listen", &format!("127.0.0.1:{flag}"), "--config"])
        .arg(&file)
        .env("STARSHIP_LISTEN", &env_listen)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&mut child, &format!("http://127.0.0.1:{flag}/healthz")).await;
    assert!(!answers(&format!("http://{env_listen}/healthz")).await);
    assert!(!answers(&format!("http://127.0.0.1:{file_port}/healthz")).await);
    stop(child);

    // The control: without the flag the environment's address is used.
    let mut child = starshipd()
        .args(["serve", "--config"])
        .arg(&file)
        .env("STARSHIP_LISTEN", &env_listen)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_ready(&mut child, &format!("http://{env_listen}/healthz")).await;
    assert!(!answers(&format!("http://127.0.0.1:{file_port}/healthz")).await);
    stop(child);

    let checked = config_check(&file, &[("STARSHIP_LISTEN", &env_listen)]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let stdout = text(&checked.stdout);
    assert!(
        line(&stdout, "listen").contains(&env_listen) && line(&stdout, "listen").ends_with("# environment"),
        "{stdout}"
    );
    assert!(line(&stdout, "db").ends_with("# file"), "{stdout}");
    assert!(
        line(&stdout, "link_ttl_hours").starts_with("link_ttl_hours = 72 ")
            && line(&stdout, "link_ttl_hours").ends_with("# default")
    );
}

#[test]
fn config_check_prints_the_effective_settings_without_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "db = \"postgres://starship:hunter2secret@db.example/starship\"\nsmtp = \"smtps://mailer:mailpass@mail.example:465\"\nlink_ttl_hours = 24\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
    );
    let checked = config_check(&file, &[]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let stdout = text(&checked.stdout);
    assert!(!stdout.contains("hunter2secret") && !stdout.contains("mailpass"), "{stdout}");
    assert!(line(&stdout, "db").contains("postgres://starship:***@db.example/starship"), "{stdout}");
    assert!(line(&stdout, "smtp").contains("smtps://mailer:***@mail.example:465"), "{stdout}");
    assert!(line(&stdout, "link_ttl_hours").starts_with("link_ttl_hours = 24 "), "{stdout}");
    assert!(line(&stdout, "trusted_proxies").contains("[\"10.0.0.0/8\"]"), "{stdout}");
}

#[test]
fn config_check_refuses_a_bad_file_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (content, key, says) in [
        ("listen = \"127.0.0.1:8080\"\nlisten_port = 8080\n", "listen_port", "is not a setting"),
        ("link_ttl_hours = \"72\"\n", "link_ttl_hours", "must be a whole number, not a string"),
        ("smtp_lease_seconds = 1\n", "smtp_lease_seconds", "1 is out of range: it must be from 2 to 3600"),
        ("metrics_listen = \"localhost\"\n", "metrics_listen", "is not an address"),
    ] {
        let file = write(dir.path(), content);
        for command in [vec!["config", "check", "--config"], vec!["serve", "--config"]] {
            let out = starshipd().args(&command).arg(&file).output().unwrap();
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command:?} with {content:?}: {stderr}");
            assert!(stderr.contains(&format!("starship.toml: {key}: ")) && stderr.contains(says), "{stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn an_unreachable_database_names_the_db_setting() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = write(dir.path(), &format!("db = \"postgres://starship:pw@127.0.0.1:{port}/starship\"\n"));
    let out = starshipd().args(["serve", "--listen", "127.0.0.1:0", "--config"]).arg(&file).output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the database setting (db:"), "{stderr}");
    assert!(stderr.contains("postgres://starship:***@127.0.0.1") && !stderr.contains(":pw@"), "{stderr}");
}
