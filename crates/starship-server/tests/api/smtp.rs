//! A real SMTP server process for the dispatcher's tests: the aiosmtpd
//! script beside these tests, on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct SmtpSink {
    pub port: u16,
    out: PathBuf,
    gate: PathBuf,
    _dir: tempfile::TempDir,
    child: Child,
}

#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub to: Vec<String>,
    pub message_id: String,
    pub data: String,
}

impl SmtpSink {
    /// Starts the server; it answers the first `fail_first` messages 451.
    pub fn start(fail_first: u32) -> SmtpSink {
        Self::spawn(fail_first, 0)
    }

    /// Starts a server that keeps each of the first `hold_first` messages
    /// waiting until [`SmtpSink::open_gate`].
    pub fn gated(hold_first: u32) -> SmtpSink {
        Self::spawn(0, hold_first)
    }

    fn spawn(fail_first: u32, hold_first: u32) -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("received.jsonl");
        let gate = dir.path().join("gate");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([
                "--port",
                &port.to_string(),
                "--out",
                out.to_str().unwrap(),
                "--fail-first",
                &fail_first.to_string(),
                "--hold-first",
                &hold_first.to_string(),
                "--gate",
                gate.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the SMTP sink did not start");
        SmtpSink { port, out, gate, _dir: dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits until a held message arrives; returns its outbox id.
    pub async fn first_held(&self) -> String {
        let held = self.out.with_extension("jsonl.held");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&held).unwrap_or_default();
            if let Some(line) = text.lines().next() {
                return line.trim_start_matches('<').trim_end_matches('>').trim_end_matches("@starship").to_string();
            }
            assert!(tokio::time::Instant::now() < deadline, "no message reached the SMTP server");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Lets the held messages through.
    pub fn open_gate(&self) {
        std::fs::write(&self.gate, "").unwrap();
    }

    pub fn received(&self) -> Vec<Received> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
