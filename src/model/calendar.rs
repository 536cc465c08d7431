//! Calendars: meetings and blocked time in a person's calendar, the working hours and
//! time zone that say when someone can meet, and a request to book a meeting.
//!
//! A calendar is named by its owner's mail address. The same meeting is a copy in the
//! calendar of each participant the node can reach, all with one `uid`, as CalDAV
//! servers keep it; `sequence` grows with each change so every copy can tell the
//! newer one.

use super::{FieldError, Priority, bare_address, is_address, split_addresses};
use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest meeting that can be booked.
pub const MAX_MEETING: Duration = Duration::hours(12);

/// Whether a calendar event still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// It takes place.
    Confirmed,
    /// Called off; kept so every copy learns of it.
    Cancelled,
}

impl EventStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Confirmed => "confirmed",
            EventStatus::Cancelled => "cancelled",
        }
    }

    /// From a stored name.
    pub fn parse(s: &str) -> Option<EventStatus> {
        match s.to_ascii_lowercase().as_str() {
            "confirmed" => Some(EventStatus::Confirmed),
            "cancelled" | "canceled" => Some(EventStatus::Cancelled),
            _ => None,
        }
    }
}

/// One meeting or block of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalendarEvent {
    /// Identifier shared by every participant's copy.
    pub uid: String,
    /// Title.
    pub title: String,
    /// Agenda or notes.
    #[serde(default)]
    pub description: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End (after the start).
    pub end: DateTime<Utc>,
    /// Who organised it: `Name <address>` or an address.
    pub organizer: String,
    /// Who takes part besides the organiser.
    #[serde(default)]
    pub attendees: Vec<String>,
    /// How much it matters when two meetings collide: the lower one moves.
    pub priority: Priority,
    /// Confirmed or cancelled.
    pub status: EventStatus,
    /// Grows with each change.
    #[serde(default)]
    pub sequence: u32,
    /// Time kept free for focused work (a `calendar.block`), not a meeting.
    #[serde(default)]
    pub focus: bool,
    /// One of a recurring series (a calendar client's weekly 1:1, say): it counts as
    /// busy, and only the calendar client changes it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recurring: bool,
    /// The action (outbox key) that made this version, so a retried action knows it
    /// has already run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
}

impl CalendarEvent {
    /// Everyone in it, organiser first, as bare lowercase addresses, once each.
    pub fn participants(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in std::iter::once(&self.organizer).chain(&self.attendees) {
            let a = bare_address(p).to_ascii_lowercase();
            if is_address(&a) && !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// Whether it overlaps `[start, end)` and still holds.
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.status == EventStatus::Confirmed && self.start < end && start < self.end
    }

    /// Length.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }
}

/// When someone works: days of the week and hours of the day in their time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingHours {
    /// Time zone the hours are in.
    pub tz: chrono_tz::Tz,
    /// Working days.
    pub days: Vec<Weekday>,
    /// Start of the working day.
    pub start: NaiveTime,
    /// End of the working day (after the start).
    pub end: NaiveTime,
}

impl Default for WorkingHours {
    /// Monday to Friday, 09:00–17:00 UTC.
    fn default() -> Self {
        WorkingHours {
            tz: chrono_tz::UTC,
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("09:00 is a time"),
            end: NaiveTime::from_hms_opt(17, 0, 0).expect("17:00 is a time"),
        }
    }
}

/// A meeting someone asks to book: by a human through the API or CLI, or by an
/// employee's `calendar.schedule` action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// Title.
    pub title: String,
    /// Who else takes part: addresses or `Name <address>`.
    #[serde(default)]
    pub attendees: Vec<String>,
    /// Start; when unset, the best free time within `within_days` is taken.
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// How much it matters (default medium).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Agenda or notes.
    #[serde(default)]
    pub description: Option<String>,
    /// How many days ahead to look for a free time (default 7).
    #[serde(default)]
    pub within_days: Option<i64>,
    /// Not before this time (when no `start` is given).
    #[serde(default)]
    pub after: Option<DateTime<Utc>>,
    /// Only within these hours of the day, `HH:MM-HH:MM` in the organiser's time zone
    /// (e.g. `"13:00-17:00"` for an afternoon).
    #[serde(default)]
    pub between: Option<String>,
}

/// A question for free times: who, how long, and within what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotRequest {
    /// Employees (id, address or handle) or mail addresses.
    pub attendees: Vec<String>,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// How many days ahead to look (default 7).
    #[serde(default)]
    pub within_days: Option<i64>,
    /// How many times to offer (default 3).
    #[serde(default)]
    pub count: Option<usize>,
    /// Not before this time (default now).
    #[serde(default)]
    pub after: Option<DateTime<Utc>>,
    /// Only within these hours of the day, `HH:MM-HH:MM` in the first attendee's time
    /// zone.
    #[serde(default)]
    pub between: Option<String>,
}

impl SlotRequest {
    /// Every problem, naming the field (attendees are checked by whoever resolves them).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.attendees.is_empty() {
            e.push(FieldError::new(
                "attendees",
                "must name at least one person",
            ));
        }
        check_duration(&mut e, self.duration_minutes);
        check_within(&mut e, self.within_days);
        if let Some(c) = self.count
            && !(1..=20).contains(&c)
        {
            e.push(FieldError::new(
                "count",
                format!("must be between 1 and 20, got {c}"),
            ));
        }
        check_between(&mut e, self.between.as_deref());
        e
    }
}

/// `HH:MM-HH:MM` as (start, end), the end after the start.
pub fn parse_hours(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").ok();
    let (a, b) = (t(a)?, t(b)?);
    (b > a).then_some((a, b))
}

fn check_duration(e: &mut Vec<FieldError>, minutes: i64) {
    if !(5..=MAX_MEETING.num_minutes()).contains(&minutes) {
        e.push(FieldError::new(
            "duration_minutes",
            format!(
                "must be between 5 and {} minutes, got {minutes}",
                MAX_MEETING.num_minutes()
            ),
        ));
    }
}

fn check_within(e: &mut Vec<FieldError>, days: Option<i64>) {
    if let Some(d) = days
        && !(1..=90).contains(&d)
    {
        e.push(FieldError::new(
            "within_days",
            format!("must be between 1 and 90 days, got {d}"),
        ));
    }
}

fn check_between(e: &mut Vec<FieldError>, between: Option<&str>) {
    if let Some(b) = between
        && parse_hours(b).is_none()
    {
        e.push(FieldError::new(
            "between",
            format!(
                "{b:?} is not HH:MM-HH:MM with the end after the start; write e.g. \"13:00-17:00\""
            ),
        ));
    }
}

impl NewMeeting {
    /// Every problem, naming the field.
    pub fn validate(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut e = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.len() > 200 || title.contains(['\r', '\n']) {
            e.push(FieldError::new(
                "title",
                "must be 1 to 200 characters on one line, e.g. \"Renewal review\"",
            ));
        }
        for (i, a) in self.attendees.iter().enumerate() {
            if !is_address(bare_address(a)) {
                e.push(FieldError::new(
                    format!("attendees[{i}]"),
                    format!("must be a mail address or `Name <address>`, got {a:?}"),
                ));
            }
        }
        check_duration(&mut e, self.duration_minutes);
        if let Some(s) = self.start
            && s < now - Duration::minutes(1)
        {
            e.push(FieldError::new(
                "start",
                format!("{s} is in the past; give a time from now on, or none to take the best free time"),
            ));
        }
        check_within(&mut e, self.within_days);
        check_between(&mut e, self.between.as_deref());
        e
    }
}

/// Times an employee offered by mail, for the reply that picks one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Message-ID of the offer.
    pub message_id: String,
    /// The employee who offered.
    pub employee_id: super::EmployeeId,
    /// What the meeting is.
    pub title: String,
    /// Who else takes part.
    pub attendees: Vec<String>,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// Its priority.
    pub priority: Priority,
    /// The times offered, in the order numbered in the mail (from 1).
    pub slots: Vec<DateTime<Utc>>,
    /// When it was offered.
    pub created_at: DateTime<Utc>,
}

impl Proposal {
    /// Which offered time a reply picks: the first number from 1 to the count in the
    /// reply's own words (above any quoted text), else the one weekday named that
    /// only one time falls on (in `tz`). None when the reply does not say.
    pub fn pick(&self, reply: &str, tz: chrono_tz::Tz) -> Option<usize> {
        let own: Vec<&str> = reply
            .lines()
            .take_while(|l| {
                let t = l.trim_start();
                !(t.starts_with('>') || t.starts_with("On ") && t.trim_end().ends_with("wrote:"))
            })
            .collect();
        let own = own.join("\n").to_lowercase();
        let words: Vec<&str> = own
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let ordinals = ["first", "second", "third", "fourth", "fifth"];
        for w in &words {
            if let Ok(n) = w.parse::<usize>()
                && (1..=self.slots.len()).contains(&n)
            {
                return Some(n - 1);
            }
            if let Some(n) = ordinals.iter().position(|o| o == w)
                && n < self.slots.len()
            {
                return Some(n);
            }
        }
        let days: Vec<String> = self
            .slots
            .iter()
            .map(|s| {
                use chrono::Datelike;
                let d = s.with_timezone(&tz).weekday();
                format!("{d:?}").to_lowercase()
            })
            .collect();
        let named: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let full = weekday_name(&days[i]);
                words.iter().any(|w| *w == days[i] || *w == full)
            })
            .collect();
        (named.len() == 1).then(|| named[0])
    }
}

fn weekday_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

/// Attendees given as a list or as one comma-separated string, each trimmed.
pub fn attendee_list(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .flat_map(|s| split_addresses(s).map(str::to_string).collect::<Vec<_>>())
            .collect(),
        serde_json::Value::String(s) => split_addresses(s).map(str::to_string).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_meeting_request_names_each_bad_field() {
        let now = Utc::now();
        let m = NewMeeting {
            title: " ".into(),
            attendees: vec!["alex@example.com".into(), "not an address".into()],
            start: Some(now - Duration::hours(2)),
            duration_minutes: 2,
            within_days: Some(400),
            between: Some("17:00-09:00".into()),
            ..NewMeeting::default()
        };
        let fields: Vec<_> = m.validate(now).into_iter().map(|e| e.field).collect();
        let ok = |s| parse_hours(s).is_some();
        assert!(ok("13:00-17:30") && !ok("13:00") && !ok("25:00-26:00") && !ok("9-5"));
        assert_eq!(
            fields,
            [
                "title",
                "attendees[1]",
                "duration_minutes",
                "start",
                "within_days",
                "between"
            ]
        );
    }

    #[test]
    fn participants_are_bare_addresses_once_each_organiser_first() {
        let now = Utc::now();
        let e = CalendarEvent {
            uid: "u".into(),
            title: "t".into(),
            description: String::new(),
            start: now,
            end: now + Duration::minutes(30),
            organizer: "Riley Quinn <Riley.Quinn@example.com>".into(),
            attendees: vec![
                "alex@example.com".into(),
                "riley.quinn@example.com".into(),
                "hiring manager".into(),
            ],
            priority: Priority::Medium,
            status: EventStatus::Confirmed,
            sequence: 0,
            focus: false,
            recurring: false,
            changed_by: None,
        };
        assert_eq!(
            e.participants(),
            ["riley.quinn@example.com", "alex@example.com"]
        );
        assert!(e.overlaps(now + Duration::minutes(29), now + Duration::hours(1)));
        assert!(!e.overlaps(now + Duration::minutes(30), now + Duration::hours(1)));
    }

    #[test]
    fn a_reply_picks_a_time_by_number_ordinal_or_weekday() {
        use chrono::TimeZone;
        // Tuesday 8, Wednesday 9 and Thursday 10 December 2026.
        let p = Proposal {
            message_id: "m".into(),
            employee_id: super::super::EmployeeId::new(),
            title: "Interview".into(),
            attendees: vec![],
            duration_minutes: 45,
            priority: Priority::Medium,
            slots: (8..=10)
                .map(|d| Utc.with_ymd_and_hms(2026, 12, d, 14, 0, 0).unwrap())
                .collect(),
            created_at: Utc::now(),
        };
        let utc = chrono_tz::UTC;
        assert_eq!(p.pick("2 works for me, thanks!", utc), Some(1));
        assert_eq!(p.pick("Option #3 please", utc), Some(2));
        assert_eq!(p.pick("The first one is great", utc), Some(0));
        assert_eq!(p.pick("Wednesday suits me", utc), Some(1));
        assert_eq!(p.pick("thu is best", utc), Some(2));
        // A number outside the list, or only in the quoted offer, picks nothing.
        assert_eq!(p.pick("Can we do 7 instead?", utc), None);
        assert_eq!(p.pick("Sounds good\n\n> 1. Tue 8 Dec", utc), None);
        assert_eq!(p.pick("Any of them", utc), None);
    }

    #[test]
    fn attendees_come_as_a_list_or_a_comma_separated_string() {
        assert_eq!(
            attendee_list(&json!("a@x.io, Bo <b@x.io>")),
            ["a@x.io", "Bo <b@x.io>"]
        );
        assert_eq!(attendee_list(&json!(["a@x.io", " "])), ["a@x.io"]);
        assert!(attendee_list(&json!(3)).is_empty());
    }
}
