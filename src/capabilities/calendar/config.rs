//! `[calendar]`: where calendars are kept — inside the node (the embedded default) or on
//! a CalDAV server with each person's login — and when people work: a default time
//! zone, hours and days, and those of particular people by address.

use crate::config::ConfigError;
use crate::model::WorkingHours;
use chrono::Weekday;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Which driver keeps calendars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarDriverKind {
    /// In the node's store. The default.
    Builtin,
    /// On a CalDAV server.
    Caldav,
}

/// When one person works; unset keys take the calendar's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonHours {
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// `HH:MM-HH:MM` in that time zone.
    pub working_hours: Option<String>,
    /// Working days, e.g. `["mon", "tue"]`.
    pub working_days: Option<Vec<String>>,
}

/// `[calendar]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarConfig {
    /// `builtin` or `caldav`.
    pub driver: CalendarDriverKind,
    /// The CalDAV server's base URL; each person's calendar is
    /// `<url><username>/<collection>/`.
    pub url: String,
    /// Name of each person's calendar collection.
    pub collection: String,
    /// Calendar logins by address, in the format of the mail credentials file.
    /// Relative to the data dir.
    pub credentials_file: PathBuf,
    /// How often employees' calendars on the server are read for meetings others put
    /// there.
    #[serde(with = "humantime_serde")]
    pub sync_every: Duration,
    /// How far ahead employees are told about their meetings.
    #[serde(with = "humantime_serde")]
    pub look_ahead: Duration,
    /// Default time zone.
    pub timezone: String,
    /// Default working hours, `HH:MM-HH:MM`.
    pub working_hours: String,
    /// Default working days.
    pub working_days: Vec<String>,
    /// Particular people's hours, by address.
    pub people: BTreeMap<String, PersonHours>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        Self {
            driver: CalendarDriverKind::Builtin,
            url: String::new(),
            collection: "calendar".into(),
            credentials_file: PathBuf::from("calendar-credentials.toml"),
            sync_every: Duration::from_secs(60),
            look_ahead: Duration::from_secs(7 * 86_400),
            timezone: "UTC".into(),
            working_hours: "09:00-17:00".into(),
            working_days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            people: BTreeMap::new(),
        }
    }
}

impl CalendarConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if self.driver == CalendarDriverKind::Caldav && self.url.trim().is_empty() {
            e.push(ConfigError::new(
                file,
                "calendar.url",
                "is needed with driver = \"caldav\": the CalDAV server's base URL, e.g. \"https://dav.example.com/\"",
            ));
        }
        if self.collection.trim_matches('/').is_empty() || self.collection.contains('/') {
            e.push(ConfigError::new(
                file,
                "calendar.collection",
                "must name one collection, e.g. \"calendar\"",
            ));
        }
        if self.sync_every < Duration::from_secs(1) {
            e.push(ConfigError::new(
                file,
                "calendar.sync_every",
                "must be at least 1s",
            ));
        }
        if self.look_ahead < Duration::from_secs(3600) {
            e.push(ConfigError::new(
                file,
                "calendar.look_ahead",
                "must be at least 1h",
            ));
        }
        let defaults = PersonHours {
            timezone: Some(self.timezone.clone()),
            working_hours: Some(self.working_hours.clone()),
            working_days: Some(self.working_days.clone()),
        };
        if let Err((key, msg)) = resolve(&defaults, &WorkingHours::default()) {
            e.push(ConfigError::new(file, format!("calendar.{key}"), msg));
        }
        for (address, p) in &self.people {
            if let Err((key, msg)) = resolve(p, &WorkingHours::default()) {
                e.push(ConfigError::new(
                    file,
                    format!("calendar.people.\"{address}\".{key}"),
                    msg,
                ));
            }
        }
    }

    /// When `address` works (the defaults unless `people` names them). Call after
    /// validation; anything unreadable falls back to the defaults.
    pub fn hours_of(&self, address: &str) -> WorkingHours {
        let defaults = resolve(
            &PersonHours {
                timezone: Some(self.timezone.clone()),
                working_hours: Some(self.working_hours.clone()),
                working_days: Some(self.working_days.clone()),
            },
            &WorkingHours::default(),
        )
        .unwrap_or_default();
        let person = self
            .people
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(address.trim()));
        match person {
            Some((_, p)) => resolve(p, &defaults).unwrap_or(defaults),
            None => defaults,
        }
    }
}

/// `p` over `base`, or the key at fault and what to write instead.
fn resolve(p: &PersonHours, base: &WorkingHours) -> Result<WorkingHours, (String, String)> {
    let mut h = base.clone();
    if let Some(tz) = &p.timezone {
        h.tz = tz.trim().parse().map_err(|_| {
            (
                "timezone".to_string(),
                format!("{tz:?} is not an IANA time zone; write e.g. \"Europe/Berlin\" or \"America/New_York\""),
            )
        })?;
    }
    if let Some(hours) = &p.working_hours {
        let bad = || {
            (
                "working_hours".to_string(),
                format!(
                    "{hours:?} is not HH:MM-HH:MM with the end after the start; write e.g. \"09:00-17:00\""
                ),
            )
        };
        let (s, e) = crate::model::parse_hours(hours).ok_or_else(bad)?;
        h.start = s;
        h.end = e;
    }
    if let Some(days) = &p.working_days {
        let mut out = Vec::new();
        for d in days {
            let day: Weekday = d.trim().parse().map_err(|_| {
                (
                    "working_days".to_string(),
                    format!("{d:?} is not a day; write e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]"),
                )
            })?;
            out.push(day);
        }
        if out.is_empty() {
            return Err((
                "working_days".into(),
                "must name at least one day, e.g. [\"mon\"]".into(),
            ));
        }
        h.days = out;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_keep_their_own_hours_and_everyone_else_the_defaults() {
        let mut cfg = CalendarConfig {
            timezone: "America/New_York".into(),
            ..CalendarConfig::default()
        };
        cfg.people.insert(
            "Alex@Example.com".into(),
            PersonHours {
                timezone: Some("Europe/Berlin".into()),
                working_hours: Some("08:30-16:00".into()),
                working_days: None,
            },
        );
        let alex = cfg.hours_of("alex@example.com");
        assert_eq!(alex.tz, chrono_tz::Europe::Berlin);
        assert_eq!(
            alex.start,
            chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap()
        );
        assert_eq!(alex.days.len(), 5);
        assert_eq!(
            cfg.hours_of("sam@example.com").tz,
            chrono_tz::America::New_York
        );
    }

    #[test]
    fn each_bad_calendar_key_is_named_with_its_fix() {
        let mut cfg = CalendarConfig {
            driver: CalendarDriverKind::Caldav,
            timezone: "Mars/Olympus".into(),
            ..CalendarConfig::default()
        };
        cfg.people.insert(
            "a@x.io".into(),
            PersonHours {
                working_hours: Some("17:00-09:00".into()),
                working_days: Some(vec!["someday".into()]),
                ..PersonHours::default()
            },
        );
        let mut e = Vec::new();
        cfg.validate("empla.toml", &mut e);
        let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "calendar.url",
                "calendar.timezone",
                "calendar.people.\"a@x.io\".working_hours"
            ]
        );
        assert!(e[1].to_string().contains("Europe/Berlin"), "{}", e[1]);
    }
}
