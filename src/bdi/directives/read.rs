//! Reading a directive from what a human wrote in chat, by rules: which knob it turns
//! (a focus segment, a pause on contact, a goal's priority), who or what it names and
//! until when. Pure: the same words and time give the same directive.

use super::super::goals::{GoalBook, period_end};
use super::SEGMENTS;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc, Weekday};

/// A directive read from words.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    /// Prospect in this segment (a name of [`SEGMENTS`]).
    Focus(&'static str),
    /// No particular segment any more.
    Unfocus,
    /// Contact nobody at this account, or this person, until then (`None`: until lifted).
    Pause {
        /// An account name ("Acme") or an address.
        target: String,
        /// When the pause ends by itself.
        until: Option<DateTime<Utc>>,
    },
    /// Lift the pause on this account or person.
    Resume {
        /// As written, or as the pause names it when one matches.
        target: String,
    },
    /// Put this goal (its id) first.
    Prioritise(String),
    /// No goal first any more.
    Unprioritise,
    /// It sounds like a directive but turns no knob the employee has.
    Unknown,
}

/// Lower-case words of `text` with the punctuation around them trimmed (an address
/// keeps its dots and `@`), and the same words as written.
pub(super) fn words(text: &str) -> (Vec<String>, Vec<String>) {
    let text = text.replace(['’', '‘'], "'");
    let as_written: Vec<String> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '!' | '?' | '(' | ')'))
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ':' | '"' | '\'' | '<' | '>' | '*'))
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let lower = as_written.iter().map(|w| w.to_lowercase()).collect();
    (lower, as_written)
}

/// Where the phrase `p` (words separated by spaces) starts in `w`.
pub(super) fn find(w: &[String], p: &str) -> Option<usize> {
    let want: Vec<&str> = p.split(' ').collect();
    w.windows(want.len())
        .position(|win| win.iter().zip(&want).all(|(a, b)| a == b))
}

fn has(w: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| find(w, p).is_some())
}

/// The first of `phrases` found in `w`: where it starts and how many words it has.
fn first(w: &[String], phrases: &[&str]) -> Option<(usize, usize)> {
    phrases
        .iter()
        .filter_map(|p| find(w, p).map(|i| (i, p.split(' ').count())))
        // The earliest, and of those starting there the longest.
        .min_by_key(|(i, n)| (*i, std::cmp::Reverse(*n)))
}

const PAUSE: &[&str] = &[
    "stop emailing",
    "stop contacting",
    "stop messaging",
    "stop writing to",
    "stop reaching out to",
    "stop all outreach to",
    "stop outreach to",
    "stop sending emails to",
    "stop sending mail to",
    "don't contact",
    "don't email",
    "don't message",
    "don't write to",
    "don't reach out to",
    "dont contact",
    "dont email",
    "do not contact",
    "do not email",
    "do not message",
    "do not write to",
    "do not reach out to",
    "pause outreach to",
    "pause all outreach to",
    "pause emails to",
    "pause emailing",
    "pause contacting",
    "pause contact with",
    "hold off on contacting",
    "hold off on emailing",
    "hold off contacting",
    "hold off emailing",
    "no more emails to",
    "no more outreach to",
];
const RESUME: &[&str] = &[
    "you can email",
    "you can contact",
    "you can write to",
    "you can reach out to",
    "you may email",
    "you may contact",
    "ok to contact",
    "ok to email",
    "okay to contact",
    "okay to email",
    "feel free to contact",
    "feel free to email",
    "start emailing",
    "start contacting",
    "go ahead and contact",
    "go ahead and email",
];
/// Resume phrases that need no "again".
const RESUME_ALONE: &[&str] = &[
    "resume outreach to",
    "resume emailing",
    "resume contacting",
    "resume contact with",
    "lift the pause on",
    "unpause",
    "resume",
];
const FOCUS: &[&str] = &[
    "focus",
    "focusing",
    "concentrate",
    "prioritise",
    "prioritize",
    "prioritising",
    "prioritizing",
    "go after",
    "lean into",
    "pivot to",
    "more on",
];
const UNFOCUS: &[&str] = &[
    "stop focusing",
    "drop the focus",
    "clear the focus",
    "forget the focus",
    "any segment",
    "all segments",
];
const PRIORITY: &[&str] = &[
    "top priority",
    "first priority",
    "number one priority",
    "main priority",
    "biggest priority",
    "prioritise",
    "prioritize",
    "focus on",
    "focus more on",
    "concentrate on",
    "put first",
];
const UNPRIORITY: &[&str] = &[
    "no top priority",
    "drop the priority",
    "clear the priority",
    "balance your goals",
    "normal priorities",
    "usual priorities",
];
/// Words a clause that gives an order starts with (after "please", "can you", ...).
const ORDERS: &[&str] = &[
    "focus",
    "concentrate",
    "prioritise",
    "prioritize",
    "pause",
    "resume",
    "stop",
    "always",
    "never",
    "make",
];
/// Words before an order that keep it an order.
const POLITE: &[&str] = &[
    "please", "can", "could", "would", "will", "you", "i", "want", "need", "like", "i'd", "to",
    "kindly", "hey", "hi", "hello", "ok", "okay", "so", "and", "also", "then",
];

/// Whether `text` gives an order in one of its clauses ("can you focus on…", "from now
/// on…", "stop …"), not only asks something.
fn sounds_like_an_order(text: &str) -> bool {
    let lower = text.to_lowercase().replace(['’', '‘'], "'");
    if ["from now on", "going forward", "top priority"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return true;
    }
    lower.split([',', '.', '!', '?', ';', '\n']).any(|clause| {
        let ws: Vec<&str> = clause.split_whitespace().collect();
        let start = ws.iter().position(|w| !POLITE.contains(w));
        start.is_some_and(|i| ORDERS.contains(&ws[i]))
    })
}

/// Whether `text` turns one of the knobs a directive can (whatever it names): a
/// correction in the same words is not coaching but this.
pub fn is_directive(text: &str) -> bool {
    let (w, _) = words(text);
    has(&w, PAUSE)
        || (has(&w, RESUME) && w.iter().any(|x| x == "again"))
        || has(&w, RESUME_ALONE)
        || (segment(&w).is_some() && has(&w, FOCUS))
        || has(&w, &PRIORITY[..5])
}

fn segment(w: &[String]) -> Option<&'static str> {
    SEGMENTS
        .iter()
        .find(|s| s.words.iter().any(|p| find(w, p).is_some()))
        .map(|s| s.name)
}

/// Whether the message asks rather than tells ("are you focusing on enterprise?").
fn asks(w: &[String]) -> bool {
    w.first().is_some_and(|x| {
        [
            "are", "is", "why", "what", "what's", "how", "how's", "who", "when", "do", "did",
            "does", "have",
        ]
        .contains(&x.as_str())
    })
}

/// The directive in `text`, if it gives one; `goals` resolve a goal named in words.
pub fn read(text: &str, now: DateTime<Utc>, goals: &GoalBook) -> Option<Directive> {
    let (w, written) = words(text);
    if let Some((i, n)) = first(&w, PAUSE) {
        return Some(match target(&w, &written, i + n) {
            Some(t) => Directive::Pause {
                target: t,
                until: until(&w, now),
            },
            None => Directive::Unknown,
        });
    }
    let resume = first(&w, RESUME)
        .filter(|_| w.iter().any(|x| x == "again"))
        .or_else(|| first(&w, RESUME_ALONE));
    if let Some((i, n)) = resume {
        return Some(match target(&w, &written, i + n) {
            Some(t) => Directive::Resume { target: t },
            None => Directive::Unknown,
        });
    }
    if asks(&w) {
        return None;
    }
    if has(&w, UNFOCUS) {
        return Some(Directive::Unfocus);
    }
    if let Some(s) = segment(&w)
        && has(&w, FOCUS)
    {
        return Some(Directive::Focus(s));
    }
    if has(&w, UNPRIORITY) {
        return Some(Directive::Unprioritise);
    }
    if has(&w, PRIORITY) {
        let named = super::super::asking::named_goals(goals, text);
        return Some(match named.as_slice() {
            [one] => Directive::Prioritise(one.spec.id.clone()),
            // Several goals share the words: the most important is meant.
            [first, ..] => Directive::Prioritise(
                named
                    .iter()
                    .max_by(|a, b| a.spec.importance.total_cmp(&b.spec.importance))
                    .unwrap_or(first)
                    .spec
                    .id
                    .clone(),
            ),
            [] => Directive::Unknown,
        });
    }
    sounds_like_an_order(text).then_some(Directive::Unknown)
}

/// Words that end the name of whom a pause is about.
const ENDS_TARGET: &[&str] = &[
    "until", "till", "til", "for", "through", "thru", "before", "this", "next", "again", "anymore",
    "any", "please", "now", "from", "because", "as", "and", "in", "on", "or", "right", "unless",
    "while",
];
/// Words before the name that are not part of it.
const BEFORE_TARGET: &[&str] = &[
    "to", "the", "anyone", "anybody", "everyone", "people", "folks", "contacts", "at", "with",
    "from", "over", "all",
];
/// Words after the name that are not part of it.
const AFTER_TARGET: &[&str] = &[
    "team", "folks", "people", "account", "guys", "contacts", "anymore", "again",
];

/// Whom the words from `from` on name: an address, or an account's name as written.
fn target(w: &[String], written: &[String], from: usize) -> Option<String> {
    let mut i = from;
    while i < w.len() && BEFORE_TARGET.contains(&w[i].as_str()) {
        i += 1;
    }
    let mut end = i;
    while end < w.len() && !ENDS_TARGET.contains(&w[end].as_str()) {
        end += 1;
    }
    // A name written capitalised ends where the lower-case words begin ("Acme the
    // deck" names Acme; "Bank of America" keeps its "of").
    if written
        .get(i)
        .is_some_and(|x| x.starts_with(|c: char| c.is_uppercase()))
        && let Some(j) = (i + 1..end).find(|&j| {
            written[j].starts_with(|c: char| c.is_lowercase())
                && !["of", "and", "&", "de", "la"].contains(&w[j].as_str())
        })
    {
        end = j;
    }
    while end > i && AFTER_TARGET.contains(&w[end - 1].as_str()) {
        end -= 1;
    }
    let name = &written[i..end];
    if let Some(a) = name.iter().find(|x| x.contains('@')) {
        return Some(a.to_lowercase());
    }
    let name: Vec<String> = name
        .iter()
        .map(|x| x.strip_suffix("'s").unwrap_or(x).to_string())
        .collect();
    let name = name.join(" ");
    (!name.trim().is_empty()).then(|| name.trim().to_string())
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month(w: &str) -> Option<u32> {
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(w))
        .map(|i| i as u32 + 1)
}

fn number(w: &str) -> Option<i64> {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    match w {
        "a" | "an" => Some(1),
        _ => WORDS
            .iter()
            .position(|x| *x == w)
            .map(|i| i as i64)
            .or_else(|| w.parse().ok()),
    }
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The next `month`/`day` after `now` (this year's if still ahead, else next year's).
fn next_date(now: DateTime<Utc>, month: u32, day: u32, year: Option<i32>) -> Option<DateTime<Utc>> {
    let today = now.date_naive();
    if let Some(y) = year {
        return NaiveDate::from_ymd_opt(y, month, day).map(midnight);
    }
    let this = NaiveDate::from_ymd_opt(today.year(), month, day)?;
    let d = if this > today {
        this
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, month, day)?
    };
    Some(midnight(d))
}

fn weekday(w: &str) -> Option<Weekday> {
    w.parse::<Weekday>().ok().filter(|_| w.len() >= 3)
}

/// When the pause the words ask for ends: "until January" (the next 1 January), "until
/// March 15", "until 2027-02-01", "until Monday", "until tomorrow", "until next week",
/// "until the end of the month", "for two weeks", "this month"; `None` when they name
/// no end (until lifted).
pub(super) fn until(w: &[String], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let after = |p: &str| find(w, p).map(|i| &w[i + p.split(' ').count()..]);
    let period = |rest: &[String]| -> Option<DateTime<Utc>> {
        let word = rest
            .iter()
            .find(|x| !["the", "this", "of", "end", "rest"].contains(&x.as_str()))?;
        let p = word.trim_end_matches('s');
        period_end(p, now)
    };
    for key in ["until", "till", "til", "through", "thru", "before"] {
        let Some(rest) = after(key) else { continue };
        let first = rest.first().map(String::as_str).unwrap_or("");
        let second = rest.get(1).map(String::as_str).unwrap_or("");
        if let Ok(d) = NaiveDate::parse_from_str(first, "%Y-%m-%d") {
            return Some(midnight(d));
        }
        if let Some(m) = month(first) {
            let day = second
                .trim_end_matches(|c: char| c.is_alphabetic())
                .parse()
                .ok();
            let year = rest
                .iter()
                .skip(1)
                .take(2)
                .find_map(|x| x.parse::<i32>().ok().filter(|y| *y > 1900));
            return next_date(now, m, day.unwrap_or(1), year);
        }
        if let Some(day) = first
            .trim_end_matches(|c: char| c.is_alphabetic())
            .parse::<u32>()
            .ok()
            .filter(|_| !first.is_empty())
            && let Some(m) = month(second)
        {
            return next_date(now, m, day, None);
        }
        if first == "tomorrow" {
            return Some(midnight(now.date_naive() + Duration::days(1)));
        }
        let day_word = if first == "next" { second } else { first };
        if let Some(wd) = weekday(day_word) {
            let today = now.date_naive();
            let ahead = (7 + wd.num_days_from_monday() as i64
                - today.weekday().num_days_from_monday() as i64)
                % 7;
            let ahead = if ahead == 0 { 7 } else { ahead };
            return Some(midnight(today + Duration::days(ahead)));
        }
        if first == "next" {
            return period_end(second.trim_end_matches('s'), now);
        }
        if matches!(first, "the" | "end" | "this") {
            return period(rest);
        }
        return None;
    }
    if let Some(rest) = after("for") {
        let first = rest.first().map(String::as_str).unwrap_or("");
        if let Some(n) = number(first)
            && let Some(unit) = rest.get(1)
        {
            let unit = unit.trim_end_matches('s');
            return match unit {
                "day" => Some(now + Duration::days(n)),
                "week" => Some(now + Duration::weeks(n)),
                "month" => now.checked_add_months(Months::new(n.clamp(0, 120) as u32)),
                "hour" => Some(now + Duration::hours(n)),
                _ => None,
            };
        }
        if matches!(first, "the" | "this") {
            return period(rest);
        }
    }
    if let Some(rest) = after("this") {
        return period(rest);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap()
    }

    fn at(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap())
    }

    fn read_it(text: &str) -> Option<Directive> {
        read(text, now(), &GoalBook::default())
    }

    #[test]
    fn pauses_name_whom_and_until_when() {
        assert_eq!(
            read_it("stop emailing Acme until January"),
            Some(Directive::Pause {
                target: "Acme".into(),
                until: at(2027, 1, 1)
            })
        );
        assert_eq!(
            read_it("Please don't contact jane@acme.example for two weeks."),
            Some(Directive::Pause {
                target: "jane@acme.example".into(),
                until: Some(now() + Duration::weeks(2))
            })
        );
        assert_eq!(
            read_it("pause outreach to Globex"),
            Some(Directive::Pause {
                target: "Globex".into(),
                until: None
            })
        );
        assert_eq!(
            read_it("Hold off on contacting the Initech team until March 15, please"),
            Some(Directive::Pause {
                target: "Initech".into(),
                until: at(2027, 3, 15)
            })
        );
        assert_eq!(
            read_it("don't email anyone at Acme Corp till the end of the month"),
            Some(Directive::Pause {
                target: "Acme Corp".into(),
                until: at(2027, 1, 1)
            })
        );
        assert_eq!(
            read_it("stop emailing Hooli until 2027-02-03"),
            Some(Directive::Pause {
                target: "Hooli".into(),
                until: at(2027, 2, 3)
            })
        );
        // 2026-12-06 is a Sunday.
        assert_eq!(
            read_it("stop emailing Hooli until Monday").and_then(|d| match d {
                Directive::Pause { until, .. } => until,
                _ => None,
            }),
            at(2026, 12, 7)
        );
        assert_eq!(
            read_it("Don't email Acme the new deck yet"),
            Some(Directive::Pause {
                target: "Acme".into(),
                until: None
            })
        );
        assert_eq!(
            read_it("stop contacting Bank of America"),
            Some(Directive::Pause {
                target: "Bank of America".into(),
                until: None
            })
        );
        assert_eq!(
            read_it("stop emailing until January"),
            Some(Directive::Unknown)
        );
    }

    #[test]
    fn resumes_focus_and_other_orders() {
        assert_eq!(
            read_it("you can email Acme again"),
            Some(Directive::Resume {
                target: "Acme".into()
            })
        );
        assert_eq!(
            read_it("resume Acme"),
            Some(Directive::Resume {
                target: "Acme".into()
            })
        );
        assert_eq!(
            read_it("Can you focus more on enterprise deals?"),
            Some(Directive::Focus("enterprise"))
        );
        assert_eq!(
            read_it("let's go after mid-market accounts"),
            Some(Directive::Focus("mid-market"))
        );
        assert_eq!(read_it("stop focusing on SMB"), Some(Directive::Unfocus));
        assert_eq!(read_it("are you focusing on enterprise?"), None);
        assert_eq!(
            read_it("Please focus on the board deck"),
            Some(Directive::Unknown)
        );
        assert_eq!(
            read_it("from now on, cc me on everything"),
            Some(Directive::Unknown)
        );
        assert_eq!(read_it("How's the pipeline looking?"), None);
        assert_eq!(read_it("Could you send Acme the deck?"), None);
        assert!(is_directive("please don't contact Acme for a week"));
        assert!(!is_directive("please don't do that again"));
    }
}
