//! Finding a time: the free times when every participant is within their working hours
//! (each in their own time zone) and not busy, ranked so the best comes first — sooner
//! rather than later, not squeezed against another meeting, not at the very edge of
//! someone's day — and spread over different days when several are asked for.
//!
//! Pure and deterministic: the busy times are given, nothing is read here.

use crate::model::{Priority, WorkingHours};
use chrono::{DateTime, Datelike, Duration, DurationRound, NaiveTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Candidate starts are this far apart.
pub const STEP: Duration = Duration::minutes(15);

/// A stretch of time someone is busy.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The meeting that makes them busy.
    pub uid: String,
    /// Its priority.
    pub priority: Priority,
    /// Whether whoever books may move it (it organised it).
    pub movable: bool,
}

/// One participant's side of the question.
#[derive(Debug, Clone)]
pub struct Availability {
    /// Bare address.
    pub address: String,
    /// When they work.
    pub hours: WorkingHours,
    /// When they are busy.
    pub busy: Vec<Busy>,
}

/// A free time.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Slot {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// How good it is, 0..=1: higher is better.
    pub score: f64,
}

/// What is asked for.
#[derive(Debug, Clone)]
pub struct Query {
    /// Earliest start.
    pub from: DateTime<Utc>,
    /// Latest end.
    pub to: DateTime<Utc>,
    /// Length.
    pub duration: Duration,
    /// How many times to offer.
    pub count: usize,
    /// Meetings of lower priority than this that the booker may move count as free
    /// (`None`: nothing is moved).
    pub bump_below: Option<Priority>,
    /// Only times within these hours of the day, in this time zone (e.g. afternoons in
    /// the organiser's).
    pub window: Option<DayWindow>,
}

/// Hours of the day a meeting must fall within.
#[derive(Debug, Clone, PartialEq)]
pub struct DayWindow {
    /// From.
    pub start: NaiveTime,
    /// Until.
    pub end: NaiveTime,
    /// In this time zone.
    pub tz: chrono_tz::Tz,
}

impl Query {
    /// The best `count` times of `duration` in `[from, to)`, moving nothing, any time
    /// of the working day.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, duration: Duration, count: usize) -> Query {
        Query {
            from,
            to,
            duration,
            count,
            bump_below: None,
            window: None,
        }
    }

    fn in_window(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.window.as_ref().is_none_or(|w| {
            let s = start.with_timezone(&w.tz);
            let e = end.with_timezone(&w.tz);
            s.date_naive() == e.date_naive() && s.time() >= w.start && e.time() <= w.end
        })
    }
}

/// Whether `[start, end)` lies within one working day of `h`.
pub fn within_hours(h: &WorkingHours, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let s = start.with_timezone(&h.tz);
    let e = end.with_timezone(&h.tz);
    s.date_naive() == e.date_naive()
        && h.days.contains(&s.weekday())
        && s.time() >= h.start
        && e.time() <= h.end
}

/// The busy stretches of `a` that `[start, end)` collides with, given what may move.
pub fn conflicts(
    a: &Availability,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bump_below: Option<Priority>,
) -> impl Iterator<Item = &Busy> {
    a.busy.iter().filter(move |b| {
        b.start < end && start < b.end && !(b.movable && bump_below.is_some_and(|p| b.priority < p))
    })
}

/// The best free times, best first, at most `q.count`, none overlapping another, on
/// different days where the days allow.
pub fn find(people: &[Availability], q: &Query) -> Vec<Slot> {
    let mut all = candidates(people, q);
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.start.cmp(&b.start)));
    let mut picked: Vec<Slot> = Vec::new();
    // Days as the first participant (the organiser) lives them.
    let tz = people.first().map_or(chrono_tz::UTC, |a| a.hours.tz);
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    // First one per day, then fill up with the rest.
    for same_day_ok in [false, true] {
        for s in &all {
            if picked.len() >= q.count {
                break;
            }
            let clash = picked.iter().any(|p| p.start < s.end && s.start < p.end);
            let same_day = picked.iter().any(|p| day(p.start) == day(s.start));
            if !clash && (same_day_ok || !same_day) {
                picked.push(s.clone());
            }
        }
    }
    picked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.start.cmp(&b.start)));
    picked
}

/// Every free start in the window, scored.
fn candidates(people: &[Availability], q: &Query) -> Vec<Slot> {
    let mut out = Vec::new();
    let Ok(mut start) = q.from.duration_trunc(STEP) else {
        return out;
    };
    if start < q.from {
        start += STEP;
    }
    let span = (q.to - q.from).num_minutes().max(1) as f64;
    while start + q.duration <= q.to {
        let end = start + q.duration;
        let free = q.in_window(start, end)
            && people.iter().all(|a| {
                within_hours(&a.hours, start, end)
                    && conflicts(a, start, end, q.bump_below).count() == 0
            });
        if free {
            out.push(Slot {
                start,
                end,
                score: score(people, q, start, end, span),
            });
        }
        start += STEP;
    }
    out
}

/// Sooner is better (up to 0.5 off over the window); a meeting right against another
/// costs 0.1 per person, the first or last half hour of someone's day 0.05, and moving
/// someone's meeting 0.2.
fn score(
    people: &[Availability],
    q: &Query,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    span: f64,
) -> f64 {
    let mut s = 1.0 - 0.5 * ((start - q.from).num_minutes() as f64 / span);
    let buffer = Duration::minutes(15);
    for a in people {
        if a.busy.iter().any(|b| {
            (b.end <= start && b.end > start - buffer) || (b.start >= end && b.start < end + buffer)
        }) {
            s -= 0.1;
        }
        let ls = start.with_timezone(&a.hours.tz).time();
        let le = end.with_timezone(&a.hours.tz).time();
        if ls < a.hours.start + Duration::minutes(30) || le > a.hours.end - Duration::minutes(30) {
            s -= 0.05;
        }
        if conflicts(a, start, end, None).next().is_some() {
            s -= 0.2;
        }
    }
    s.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone, Weekday};

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        // December 2026: the 7th is a Monday.
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    fn person(address: &str, tz: chrono_tz::Tz, busy: Vec<Busy>) -> Availability {
        Availability {
            address: address.into(),
            hours: WorkingHours {
                tz,
                ..WorkingHours::default()
            },
            busy,
        }
    }

    fn busy(start: DateTime<Utc>, end: DateTime<Utc>, priority: Priority, movable: bool) -> Busy {
        Busy {
            start,
            end,
            uid: format!("{start}"),
            priority,
            movable,
        }
    }

    fn query(from: DateTime<Utc>, to: DateTime<Utc>, minutes: i64, count: usize) -> Query {
        Query::new(from, to, Duration::minutes(minutes), count)
    }

    #[test]
    fn working_hours_are_read_in_each_persons_time_zone() {
        let berlin = WorkingHours {
            tz: chrono_tz::Europe::Berlin,
            ..WorkingHours::default()
        };
        // 08:00 UTC is 09:00 in Berlin in December.
        assert!(within_hours(&berlin, at(7, 8, 0), at(7, 9, 0)));
        assert!(!within_hours(&berlin, at(7, 15, 30), at(7, 16, 30)));
        // Saturday is not a working day.
        assert!(!within_hours(&berlin, at(12, 9, 0), at(12, 10, 0)));
        let custom = WorkingHours {
            days: vec![Weekday::Sat],
            start: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            tz: chrono_tz::UTC,
        };
        assert!(within_hours(&custom, at(12, 10, 0), at(12, 12, 0)));
    }

    #[test]
    fn the_first_time_everyone_is_free_within_their_hours_comes_first() {
        // Berlin works 08:00–16:00 UTC, New York 14:00–22:00 UTC: they share 14:00–16:00.
        let alex = person("alex@x.io", chrono_tz::Europe::Berlin, vec![]);
        let sam = person(
            "sam@x.io",
            chrono_tz::America::New_York,
            vec![busy(at(7, 14, 0), at(7, 15, 0), Priority::Medium, false)],
        );
        let slots = find(&[alex, sam], &query(at(7, 0, 0), at(8, 0, 0), 45, 3));
        assert!(!slots.is_empty());
        // 15:00–15:45 touches both the busy hour and Berlin's last half hour; it is
        // still the only place on Monday, and nothing else overlaps it.
        for s in &slots {
            assert!(s.start >= at(7, 15, 0) && s.end <= at(7, 16, 0), "{s:?}");
        }
    }

    #[test]
    fn several_times_are_spread_over_different_days_and_never_overlap() {
        let a = person("a@x.io", chrono_tz::UTC, vec![]);
        let slots = find(&[a], &query(at(7, 0, 0), at(10, 0, 0), 30, 3));
        assert_eq!(slots.len(), 3);
        let mut days: Vec<_> = slots.iter().map(|s| s.start.date_naive()).collect();
        days.dedup();
        assert_eq!(days.len(), 3, "{slots:?}");
        // The soonest is the best: Monday, not at 09:00 sharp (the day's edge).
        assert_eq!(slots[0].start, at(7, 9, 30));
    }

    #[test]
    fn a_lower_priority_meeting_the_booker_owns_is_free_only_when_bumping() {
        let whole_day = |movable| vec![busy(at(7, 9, 0), at(7, 17, 0), Priority::Low, movable)];
        let mut q = query(at(7, 9, 0), at(7, 17, 0), 60, 1);
        assert!(find(&[person("a@x.io", chrono_tz::UTC, whole_day(true))], &q).is_empty());
        q.bump_below = Some(Priority::High);
        let bumped = find(&[person("a@x.io", chrono_tz::UTC, whole_day(true))], &q);
        assert_eq!(bumped.len(), 1);
        // Someone else's meeting is never moved, whatever its priority.
        assert!(find(&[person("a@x.io", chrono_tz::UTC, whole_day(false))], &q).is_empty());
        // Nor one of the same priority.
        q.bump_below = Some(Priority::Low);
        assert!(find(&[person("a@x.io", chrono_tz::UTC, whole_day(true))], &q).is_empty());
    }

    #[test]
    fn a_window_of_the_day_keeps_times_within_it_in_its_own_time_zone() {
        let a = person("a@x.io", chrono_tz::UTC, vec![]);
        let mut q = query(at(7, 0, 0), at(8, 0, 0), 60, 3);
        // 14:00–17:00 in Berlin is 13:00–16:00 UTC in December.
        q.window = Some(DayWindow {
            start: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            tz: chrono_tz::Europe::Berlin,
        });
        let slots = find(&[a], &q);
        assert!(!slots.is_empty());
        for s in &slots {
            assert!(s.start >= at(7, 13, 0) && s.end <= at(7, 16, 0), "{s:?}");
        }
    }

    #[test]
    fn a_free_time_is_preferred_to_one_that_moves_a_meeting() {
        let a = person(
            "a@x.io",
            chrono_tz::UTC,
            vec![busy(at(7, 9, 0), at(7, 12, 0), Priority::Low, true)],
        );
        let mut q = query(at(7, 9, 0), at(7, 17, 0), 60, 1);
        q.bump_below = Some(Priority::High);
        let best = &find(&[a], &q)[0];
        assert!(best.start >= at(7, 12, 0), "{best:?}");
    }
}
