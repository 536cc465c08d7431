#![allow(dead_code)] // the benchmark uses only part of it
//! A private Postfix + Dovecot (`tests/mail/server.sh`) for one test or benchmark run,
//! with accounts sharing one password; stopped when dropped. Used by the mail tests and
//! by `benches/mail.rs`, which includes this file.

use empla::capabilities::email::MailServer;
use empla::config::{MailConfig, MailDriver, Security};
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every account's password.
pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestMailServer {
    dir: tempfile::TempDir,
    env: HashMap<String, String>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/server.sh")
}

impl TestMailServer {
    /// Starts a server with `accounts` (installing the packages if missing).
    pub fn start(accounts: &[&str]) -> TestMailServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("tests/mail/server.sh runs");
        assert!(
            out.status.success(),
            "the mail server starts: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let server = TestMailServer { dir, env };
        for a in accounts {
            let ok = Command::new("bash")
                .arg(script())
                .arg("add-user")
                .arg(server.dir.path())
                .args([a, PASSWORD])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "account {a} added");
        }
        server
    }

    pub fn port(&self, which: &str) -> u16 {
        self.env[which].parse().expect("server.sh prints its ports")
    }

    /// The PEM file of the server's CA.
    pub fn ca_file(&self) -> &str {
        &self.env["MAIL_CA_CERT"]
    }

    /// Writes a credentials file for `accounts` at `path`.
    pub fn write_credentials(path: &Path, accounts: &[&str]) {
        let creds: String = accounts
            .iter()
            .map(|a| format!("[accounts.\"{a}\"]\npassword = \"{PASSWORD}\"\n"))
            .collect();
        std::fs::write(path, creds).expect("the credentials file is written");
    }

    /// `[mail]` for this server, STARTTLS on both, logins from `credentials_file`.
    pub fn config(&self, credentials_file: &str) -> MailConfig {
        MailConfig {
            driver: MailDriver::Server,
            smtp_host: "127.0.0.1".into(),
            smtp_port: self.port("SMTP_PORT"),
            smtp_security: Security::Starttls,
            imap_host: "127.0.0.1".into(),
            imap_port: self.port("IMAP_PORT"),
            imap_security: Security::Starttls,
            ca_file: self.ca_file().into(),
            credentials_file: credentials_file.into(),
            ..MailConfig::default()
        }
    }

    /// The server as a mail client reaches it, with `accounts` logged in.
    pub fn client(&self, accounts: &[&str]) -> MailServer {
        let dir = self.dir.path().join("client");
        std::fs::create_dir_all(&dir).expect("the client directory");
        Self::write_credentials(&dir.join("creds.toml"), accounts);
        MailServer::from_config(&self.config("creds.toml"), &dir).expect("client settings")
    }

    /// Submits `raw` over SMTP from the loopback, as a mail client would.
    pub async fn submit(&self, from: &str, to: &str, raw: &[u8]) {
        self.submit_with(&self.transport(), from, to, raw).await
    }

    /// A pooled SMTP transport to the server (no login; loopback may send).
    pub fn transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.port("SMTP_PORT"))
            .build()
    }

    /// Submits `raw` through `t`.
    pub async fn submit_with(
        &self,
        t: &AsyncSmtpTransport<Tokio1Executor>,
        from: &str,
        to: &str,
        raw: &[u8],
    ) {
        let envelope = Envelope::new(
            Some(from.parse().expect("a sender address")),
            vec![to.parse().expect("a recipient address")],
        )
        .expect("an envelope");
        t.send_raw(&envelope, raw)
            .await
            .expect("the server takes the message");
    }
}

impl Drop for TestMailServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
