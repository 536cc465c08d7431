//! Due dates said in words ("by Friday", "by 2027-01-15", "next week", "tomorrow",
//! "end of the month", "in 3 days"), resolved from the day of the meeting. A weekday
//! means the next one after the meeting ("by Friday" said on a Friday is a week on);
//! "next week" is the Friday of the week after the meeting's; "end of the week" its
//! Friday (or the meeting's day, if later).
//!
//! Pure: the meeting's day is given.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A due date found in `text`: the phrase as said and the day it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Due {
    /// The words that gave it, e.g. "by Friday".
    pub(super) said: String,
    /// The day.
    pub(super) day: NaiveDate,
}

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
];

fn weekday(word: &str) -> Option<Weekday> {
    let w = word.trim_end_matches(['.', ',', ';', '!', ')']);
    WEEKDAYS.iter().find(|(n, _)| *n == w).map(|(_, d)| *d)
}

/// The next `day` strictly after `from`.
fn next_after(from: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from + Days::new(if ahead == 0 { 7 } else { u64::from(ahead) })
}

/// `day` of the week after `from`'s week.
fn in_next_week(from: NaiveDate, day: Weekday) -> NaiveDate {
    let monday = from - Days::new(u64::from(from.weekday().num_days_from_monday()));
    monday + Days::new(7 + u64::from(day.num_days_from_monday()))
}

fn last_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|first| first.pred_opt())
        .unwrap_or(d)
}

fn number(word: &str) -> Option<u64> {
    match word {
        "a" | "one" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        "six" => Some(6),
        "seven" => Some(7),
        "ten" => Some(10),
        _ => word.parse().ok().filter(|n| *n <= 366),
    }
}

/// The first due date said in `text`, resolved from `meeting_day`.
pub(super) fn find(text: &str, meeting_day: NaiveDate) -> Option<Due> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let clean = |w: &str| {
        w.trim_matches(|c: char| ".;:!?()\"'".contains(c))
            .to_string()
    };
    let said = |from: usize, to: usize| {
        words[from..to.min(words.len())]
            .iter()
            .map(|w| clean(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for i in 0..words.len() {
        let w = clean(words[i]);
        let next = words.get(i + 1).map(|w| clean(w));
        let after = words.get(i + 2).map(|w| clean(w));
        // An ISO date anywhere.
        if let Ok(d) = NaiveDate::parse_from_str(&w, "%Y-%m-%d") {
            let start = if i > 0 && ["by", "on", "before", "until"].contains(&words[i - 1]) {
                i - 1
            } else {
                i
            };
            return Some(Due {
                said: said(start, i + 1),
                day: d,
            });
        }
        let lead = ["by", "on", "before", "until", "due"].contains(&w.as_str());
        if lead || w == "next" || w == "this" {
            // "by next Friday", "next Friday", "next week", "by this Friday".
            let (k, word) = if lead && next.as_deref() == Some("next") {
                (i + 1, after.clone())
            } else if w == "next" {
                (i, next.clone())
            } else if lead && next.as_deref() == Some("this") {
                (i + 1, after.clone())
            } else {
                (
                    i,
                    if lead || w == "this" {
                        next.clone()
                    } else {
                        None
                    },
                )
            };
            let is_next = words.get(k).map(|w| clean(w)).as_deref() == Some("next");
            if let Some(word) = word {
                if let Some(day) = weekday(&word) {
                    let d = if is_next {
                        in_next_week(meeting_day, day)
                    } else {
                        next_after(meeting_day, day)
                    };
                    return Some(Due {
                        said: said(i, k + 2),
                        day: d,
                    });
                }
                if is_next && word == "week" {
                    return Some(Due {
                        said: said(i, k + 2),
                        day: in_next_week(meeting_day, Weekday::Fri),
                    });
                }
                if is_next && word == "month" {
                    let d = last_of_month(meeting_day)
                        .succ_opt()
                        .map(last_of_month)
                        .unwrap_or(meeting_day);
                    return Some(Due {
                        said: said(i, k + 2),
                        day: d,
                    });
                }
            }
        }
        match w.as_str() {
            "tomorrow" => {
                return Some(Due {
                    said: said(start_of(&words, i), i + 1),
                    day: meeting_day + Days::new(1),
                });
            }
            "today" | "tonight" | "eod" => {
                return Some(Due {
                    said: said(start_of(&words, i), i + 1),
                    day: meeting_day,
                });
            }
            "end" | "eow" | "eom" => {
                // "end of (the) week/month/day".
                let rest: Vec<String> = words[i + 1..].iter().take(3).map(|w| clean(w)).collect();
                let span = |n: usize| said(start_of(&words, i), i + 1 + n);
                let unit = match (w.as_str(), rest.first().map(String::as_str)) {
                    ("eow", _) => Some(("week", 0)),
                    ("eom", _) => Some(("month", 0)),
                    ("end", Some("of")) => match rest.get(1).map(String::as_str) {
                        Some("the") | Some("this") => rest.get(2).map(|u| (u.as_str(), 3)),
                        Some(u) => Some((u, 2)),
                        None => None,
                    },
                    _ => None,
                };
                let day = match unit {
                    Some(("week", n)) => Some((
                        next_after(meeting_day - Days::new(1), Weekday::Fri).max(meeting_day),
                        n,
                    )),
                    Some(("month", n)) => Some((last_of_month(meeting_day), n)),
                    Some(("day", n)) => Some((meeting_day, n)),
                    _ => None,
                };
                if let Some((day, n)) = day {
                    return Some(Due { said: span(n), day });
                }
            }
            "in" | "within" => {
                if let (Some(n), Some(unit)) = (next.as_deref().and_then(number), after.as_deref())
                {
                    let days = match unit {
                        "day" | "days" => Some(n),
                        "week" | "weeks" => Some(7 * n),
                        _ => None,
                    };
                    if let Some(days) = days {
                        return Some(Due {
                            said: said(i, i + 3),
                            day: meeting_day + Days::new(days),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Where a phrase ending at `i` starts: one word back when that word is "by", "on" or
/// "before".
fn start_of(words: &[&str], i: usize) -> usize {
    if i > 0 && ["by", "on", "before", "until"].contains(&words[i - 1]) {
        i - 1
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A Wednesday.
    const MEETING: &str = "2026-12-02";

    fn due(text: &str) -> Option<(String, NaiveDate)> {
        find(text, d(MEETING)).map(|d| (d.said, d.day))
    }

    #[test]
    fn weekdays_and_dates_resolve_from_the_meeting_day() {
        assert_eq!(
            due("send the deck by Friday."),
            Some(("by friday".into(), d("2026-12-04")))
        );
        assert_eq!(
            due("review it by Wednesday"),
            Some(("by wednesday".into(), d("2026-12-09")))
        );
        assert_eq!(
            due("ship by next Monday"),
            Some(("by next monday".into(), d("2026-12-07")))
        );
        assert_eq!(
            due("done by 2027-01-15, please"),
            Some(("by 2027-01-15".into(), d("2027-01-15")))
        );
    }

    #[test]
    fn relative_words_resolve_from_the_meeting_day() {
        assert_eq!(
            due("next week"),
            Some(("next week".into(), d("2026-12-11")))
        );
        assert_eq!(
            due("by tomorrow"),
            Some(("by tomorrow".into(), d("2026-12-03")))
        );
        assert_eq!(
            due("by end of the week"),
            Some(("by end of the week".into(), d("2026-12-04")))
        );
        assert_eq!(
            due("by the end of the month"),
            Some(("end of the month".into(), d("2026-12-31")))
        );
        assert_eq!(
            due("in 3 days"),
            Some(("in 3 days".into(), d("2026-12-05")))
        );
        assert_eq!(
            due("in two weeks"),
            Some(("in two weeks".into(), d("2026-12-16")))
        );
    }

    #[test]
    fn text_without_a_due_date_has_none() {
        assert_eq!(due("send the deck to the team"), None);
        assert_eq!(due("the end of an era"), None);
    }
}
