//! A private Radicale (`tests/calendar/radicale.sh`) for one test: a real CalDAV
//! server with a login per user, and what a calendar client would do with it.

use super::common;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A private Radicale for one test.
pub struct Radicale {
    dir: tempfile::TempDir,
    pub url: String,
}

fn radicale_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/calendar/radicale.sh")
}

impl Radicale {
    pub fn start(users: &[&str]) -> Radicale {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(radicale_script())
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("tests/calendar/radicale.sh runs");
        assert!(
            out.status.success(),
            "Radicale starts: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("CALDAV_URL=").map(str::to_string))
            .expect("radicale.sh prints CALDAV_URL");
        for u in users {
            let ok = Command::new("bash")
                .arg(radicale_script())
                .args(["add-user"])
                .arg(dir.path())
                .args([u, "pw"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "user {u} added");
        }
        Radicale { dir, url }
    }

    /// What a calendar client finds in `user`'s calendar.
    pub async fn report(&self, user: &str) -> String {
        let body = r#"<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>"#;
        common::http()
            .request(
                reqwest::Method::from_bytes(b"REPORT").unwrap(),
                format!("{}{user}/calendar/", self.url),
            )
            .basic_auth(user, Some("pw"))
            .header("Depth", "1")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Puts an event in `user`'s calendar as a calendar client would (making the
    /// calendar first when it is not there yet).
    pub async fn put(&self, user: &str, uid: &str, ics: String) {
        let made = common::http()
            .request(
                reqwest::Method::from_bytes(b"MKCALENDAR").unwrap(),
                format!("{}{user}/calendar/", self.url),
            )
            .basic_auth(user, Some("pw"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(made.is_success() || made.as_u16() == 409, "{made}");
        let r = common::http()
            .put(format!("{}{user}/calendar/{uid}.ics", self.url))
            .basic_auth(user, Some("pw"))
            .header("Content-Type", "text/calendar")
            .body(ics)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(radicale_script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
