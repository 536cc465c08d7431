//! The CalDAV driver (RFC 4791): each person's calendar is a collection on the
//! calendar server, `<url><username>/<collection>/`, reached with that person's login
//! from the credentials file (the same format as the mail logins, re-read while the
//! node runs). A collection that does not exist yet is made with MKCALENDAR on first
//! use. Events are read with a `calendar-query` REPORT over a time range and written
//! with PUT, one iCalendar object per event, at the address the server already has
//! for that uid (an event a calendar client made keeps its own file name).

use super::{CalendarDriver, ics};
use crate::capabilities::email::Logins;
use crate::capabilities::{CapabilityError, escape_markup, excerpt};
use crate::config::MailAccount;
use crate::model::{CalendarEvent, TenantId};
use chrono::{DateTime, Utc};
use dashmap::DashSet;
use reqwest::{Method, StatusCode, Url};
use std::sync::Arc;
use std::time::Duration;

/// A calendar server.
pub struct CalDav {
    base: Url,
    collection: String,
    logins: Logins,
    http: reqwest::Client,
    /// Collections known to exist.
    made: DashSet<String>,
    /// Each owner's time zone, for times that carry none.
    zones: Zones,
}

/// A calendar owner's time zone.
pub type Zones = Arc<dyn Fn(&str) -> chrono_tz::Tz + Send + Sync>;

/// One object of a calendar-query answer: where it is and what it holds.
struct Found {
    href: String,
    events: Vec<CalendarEvent>,
}

impl CalDav {
    /// A driver for the server at `url` (ending in `/`), with one collection named
    /// `collection` per person.
    pub fn new(url: &str, collection: &str, logins: Logins) -> Result<CalDav, String> {
        let mut base = Url::parse(url.trim()).map_err(|e| {
            format!(
                "calendar.url {url:?} is not a URL ({e}); give e.g. \"https://dav.example.com/\""
            )
        })?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        crate::telemetry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("calendar: the HTTP client cannot be built: {e}"))?;
        Ok(CalDav {
            base,
            collection: collection.trim_matches('/').to_string(),
            logins,
            http,
            made: DashSet::new(),
            zones: Arc::new(|_| chrono_tz::UTC),
        })
    }

    /// Reads times that carry no zone of their own (floating times, all-day dates,
    /// unknown TZIDs) in each owner's zone from `zones` (UTC otherwise).
    pub fn with_zones(mut self, zones: Zones) -> CalDav {
        self.zones = zones;
        self
    }

    fn login(&self, owner: &str) -> Result<MailAccount, CapabilityError> {
        self.logins.of(owner)
    }

    fn collection_url(&self, login: &MailAccount) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty()
                .push(&login.username)
                .push(&self.collection)
                .push("");
        }
        url
    }

    async fn send(
        &self,
        login: &MailAccount,
        method: Method,
        url: Url,
        depth: Option<&str>,
        content_type: &str,
        body: String,
    ) -> Result<(StatusCode, String), CapabilityError> {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .basic_auth(&login.username, Some(login.password.expose()))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(d) = depth {
            req = req.header("Depth", d);
        }
        let resp = req.send().await.map_err(|e| {
            CapabilityError::Service(format!(
                "the calendar server at {} cannot be reached: {}",
                self.base,
                e.without_url()
            ))
        })?;
        let status = resp.status();
        let text = read_capped(resp).await?;
        match status {
            StatusCode::UNAUTHORIZED => Err(CapabilityError::Invalid(format!(
                "the calendar server refused the login of {} (401); check its password in the calendar credentials file",
                login.username
            ))),
            StatusCode::FORBIDDEN => Err(CapabilityError::Invalid(format!(
                "the calendar server does not let {} {method} {} (403)",
                login.username,
                url.path()
            ))),
            s if s.is_server_error() => Err(CapabilityError::Service(format!(
                "the calendar server failed on {method} {} ({s})",
                url.path()
            ))),
            _ => Ok((status, text)),
        }
    }

    /// Where the server says an object of `login`'s collection is: only within that
    /// collection on the same server, so an answer cannot send the login elsewhere.
    fn object_url(&self, login: &MailAccount, href: &str) -> Result<Url, CapabilityError> {
        let collection = self.collection_url(login);
        let url = collection.join(href).map_err(|err| {
            CapabilityError::Service(format!("the calendar server named {href:?}: {err}"))
        })?;
        let within = url.origin() == collection.origin()
            && percent_decoded(url.path()).starts_with(&percent_decoded(collection.path()));
        if within {
            Ok(url)
        } else {
            Err(CapabilityError::Service(format!(
                "the calendar server named {href:?} for an event of {}, which is outside {}; refusing to send the login there",
                login.username,
                collection.path()
            )))
        }
    }

    /// Makes the person's collection unless it is known to exist.
    async fn ensure(&self, login: &MailAccount) -> Result<Url, CapabilityError> {
        let url = self.collection_url(login);
        if self.made.contains(url.as_str()) {
            return Ok(url);
        }
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>{}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#,
            escape_markup(&self.collection)
        );
        let mk = Method::from_bytes(b"MKCALENDAR").expect("MKCALENDAR is a method name");
        let (status, text) = self
            .send(
                login,
                mk,
                url.clone(),
                None,
                "application/xml; charset=utf-8",
                body,
            )
            .await?;
        // It exists already: 405 (RFC 4791 §5.3.1), or 409 as Radicale answers.
        if !(status.is_success()
            || status == StatusCode::METHOD_NOT_ALLOWED
            || status == StatusCode::CONFLICT)
        {
            return Err(CapabilityError::Service(format!(
                "the calendar server would not make {} ({status}): {}",
                url.path(),
                excerpt(&text)
            )));
        }
        self.made.insert(url.as_str().to_string());
        Ok(url)
    }

    /// A calendar-query REPORT with `filter` inside the VEVENT comp-filter.
    async fn query(
        &self,
        owner: &str,
        data: &str,
        filter: String,
    ) -> Result<Vec<Found>, CapabilityError> {
        let login = self.login(owner)?;
        let url = self.ensure(&login).await?;
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>{data}</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">{filter}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
        );
        let report = Method::from_bytes(b"REPORT").expect("REPORT is a method name");
        let (status, text) = self
            .send(
                &login,
                report,
                url.clone(),
                Some("1"),
                "application/xml; charset=utf-8",
                body,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            // Removed behind our back: make it again next time.
            self.made.remove(url.as_str());
            return Ok(Vec::new());
        }
        if status != StatusCode::MULTI_STATUS {
            return Err(CapabilityError::Service(format!(
                "the calendar server answered a calendar query on {} with {status}, not 207: {}",
                url.path(),
                excerpt(&text)
            )));
        }
        multistatus(&text, (self.zones)(owner)).map_err(CapabilityError::Service)
    }
}

#[async_trait::async_trait]
impl CalendarDriver for CalDav {
    fn reaches(&self, owner: &str) -> bool {
        self.logins.all().get(owner).is_some()
    }

    fn owners(&self) -> Vec<String> {
        if let Err(e) = self.logins.reload() {
            tracing::error!(error = %e, "calendar credentials could not be re-read; the logins read before stay in use");
        }
        self.logins
            .all()
            .iter()
            .map(|(a, _)| a.to_string())
            .collect()
    }

    async fn events(
        &self,
        _tenant: &TenantId,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, CapabilityError> {
        let f = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        // Recurring series come back as their instances in the range (RFC 4791 §9.6.5).
        let range = format!(r#"start="{}" end="{}""#, f(from), f(to));
        let found = self
            .query(
                owner,
                &format!("<C:calendar-data><C:expand {range}/></C:calendar-data>"),
                format!("<C:time-range {range}/>"),
            )
            .await?;
        let mut events: Vec<CalendarEvent> = found
            .into_iter()
            .flat_map(|o| o.events)
            .filter(|e| e.start < to && e.end > from)
            .collect();
        events.sort_by(|a, b| a.start.cmp(&b.start).then(a.uid.cmp(&b.uid)));
        Ok(events)
    }

    async fn event(
        &self,
        _tenant: &TenantId,
        owner: &str,
        uid: &str,
    ) -> Result<Option<CalendarEvent>, CapabilityError> {
        let found = self.query(owner, WHOLE, uid_filter(uid)).await?;
        Ok(found
            .into_iter()
            .flat_map(|o| o.events)
            .find(|e| e.uid == uid))
    }

    async fn put(
        &self,
        _tenant: &TenantId,
        owner: &str,
        e: &CalendarEvent,
    ) -> Result<(), CapabilityError> {
        let login = self.login(owner)?;
        let existing = self.query(owner, WHOLE, uid_filter(&e.uid)).await?;
        let current = existing
            .iter()
            .find(|o| o.events.iter().any(|x| x.uid == e.uid));
        if let Some(c) = current
            && let Some(newer) = c
                .events
                .iter()
                .find(|x| x.uid == e.uid && x.sequence > e.sequence)
        {
            return Err(CapabilityError::Invalid(format!(
                "{owner}'s calendar already has a newer version of \"{}\" (sequence {} > {}); read it again before changing it",
                newer.title, newer.sequence, e.sequence
            )));
        }
        let url = match current {
            Some(c) => self.object_url(&login, &c.href)?,
            None => {
                let mut u = self.collection_url(&login);
                if let Ok(mut p) = u.path_segments_mut() {
                    p.pop_if_empty().push(&format!("{}.ics", e.uid));
                }
                u
            }
        };
        let (status, text) = self
            .send(
                &login,
                Method::PUT,
                url.clone(),
                None,
                "text/calendar; charset=utf-8",
                ics::to_ics(e, Utc::now()),
            )
            .await?;
        if !status.is_success() {
            return Err(CapabilityError::Service(format!(
                "the calendar server would not store {} ({status}): {}",
                url.path(),
                excerpt(&text)
            )));
        }
        Ok(())
    }
}

/// Calendar data as stored (a series with its rule, not its instances).
const WHOLE: &str = "<C:calendar-data/>";

/// Longest answer read from the calendar server.
const MAX_ANSWER: usize = 16 << 20;

/// The answer's text, refused past [`MAX_ANSWER`] bytes.
async fn read_capped(mut resp: reqwest::Response) -> Result<String, CapabilityError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        CapabilityError::Service(format!(
            "the calendar server's answer broke off: {}",
            e.without_url()
        ))
    })? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(CapabilityError::Service(format!(
                "the calendar server answered more than {} MiB; ask for a shorter time range",
                MAX_ANSWER >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn uid_filter(uid: &str) -> String {
    format!(
        r#"<C:prop-filter name="UID"><C:text-match collation="i;octet">{}</C:text-match></C:prop-filter>"#,
        escape_markup(uid)
    )
}

/// The objects of a 207 Multi-Status answer that carry calendar data.
fn multistatus(xml: &str, tz: chrono_tz::Tz) -> Result<Vec<Found>, String> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| format!("the calendar server's answer is not XML: {e}"))?;
    let mut out = Vec::new();
    for r in doc
        .descendants()
        .filter(|n| n.tag_name().name() == "response" && n.tag_name().namespace() == Some("DAV:"))
    {
        let href = r
            .children()
            .find(|n| n.tag_name().name() == "href")
            .and_then(|n| n.text())
            .unwrap_or("")
            .trim()
            .to_string();
        let data = r
            .descendants()
            .find(|n| n.tag_name().name() == "calendar-data")
            .and_then(|n| n.text());
        if let Some(data) = data {
            match ics::from_ics(data, tz) {
                Ok(events) => out.push(Found { href, events }),
                Err(e) => {
                    tracing::warn!(%href, error = %e, "skipped a calendar object that is not iCalendar")
                }
            }
        }
    }
    Ok(out)
}

/// `s` with `%XX` escapes read (Radicale writes `@` as `%40` in its answers).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multistatus_answer_gives_each_objects_address_and_events() {
        let xml = r#"<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/alex%40x.io/calendar/a.ics</href><propstat><prop><getetag>"1"</getetag><C:calendar-data>BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//t//t//EN
BEGIN:VEVENT
UID:a
DTSTAMP:20261201T000000Z
DTSTART:20261208T100000Z
DTEND:20261208T110000Z
SUMMARY:Sync &amp; plan
END:VEVENT
END:VCALENDAR
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let found = multistatus(xml, chrono_tz::UTC).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].href, "/alex%40x.io/calendar/a.ics");
        assert_eq!(found[0].events[0].title, "Sync & plan");
        assert!(multistatus("<not xml", chrono_tz::UTC).is_err());
    }

    #[test]
    fn each_persons_collection_is_under_their_login() {
        let dav = CalDav::new(
            "http://127.0.0.1:5232",
            "calendar",
            Logins::fixed(Default::default()),
        )
        .unwrap();
        let login = MailAccount {
            username: "alex@x.io".into(),
            password: crate::config::Secret::new("pw"),
        };
        assert_eq!(
            dav.collection_url(&login).as_str(),
            "http://127.0.0.1:5232/alex@x.io/calendar/"
        );
        assert!(CalDav::new("not a url", "c", Logins::fixed(Default::default())).is_err());
        // Objects the server names are taken only within the person's collection.
        let ok = |href: &str| dav.object_url(&login, href).is_ok();
        assert!(ok("/alex%40x.io/calendar/a.ics"));
        assert!(ok("a.ics"));
        assert!(!ok("https://elsewhere.example/alex@x.io/calendar/a.ics"));
        assert!(!ok("/sam@x.io/calendar/a.ics"));
        assert!(!ok("/alex@x.io/calendar/../../sam@x.io/calendar/a.ics"));
    }
}
