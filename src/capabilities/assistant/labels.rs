//! How the assistant reads one of the executive's messages, without a language model:
//! its label (urgent, meeting request, needs reply, FYI), its priority, why, and what it
//! says in a sentence or two. The words that decide are listed here; the mail triage
//! every employee has (newsletters, FYIs, customer issues) is taken into account. The
//! same message always gets the same reading.

use crate::capabilities::email::Triaged;
use crate::model::{MailMessage, Priority, TriageLabel, display_name};

/// What marks a message as urgent.
const URGENT: &[&str] = &[
    "urgent",
    "asap",
    "as soon as possible",
    "immediately",
    "emergency",
    "critical",
    "right away",
    "time sensitive",
    "time-sensitive",
    "by end of day",
    "by eod",
    "outage",
    "is down",
];

/// What marks a message as asking for a meeting.
const MEETING: &[&str] = &[
    "meeting",
    "meet",
    "call",
    "catch up",
    "catch-up",
    "get together",
    "find a time",
    "time to talk",
    "your availability",
    "are you available",
    "are you free",
    "slot",
    "30 minutes",
    "half an hour",
    "an hour",
];

/// What marks a message as waiting for an answer (besides a question mark).
const ASKS: &[&str] = &[
    "please",
    "can you",
    "could you",
    "would you",
    "will you",
    "let me know",
    "your thoughts",
    "your approval",
    "approve",
    "sign off",
    "need your",
    "waiting for your",
    "get back to me",
    "confirm",
];

/// How the assistant read one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// What it is.
    pub label: TriageLabel,
    /// How soon it matters.
    pub priority: Priority,
    /// Why it got its label.
    pub reason: String,
    /// What it says, in a sentence or two.
    pub summary: String,
}

/// Reads `m`, which the node's mail triage judged `base`.
pub fn read(m: &MailMessage, base: &Triaged) -> Reading {
    let own = crate::capabilities::email::own_words(m);
    let text = own.to_lowercase();
    let found = |words: &[&str]| {
        words
            .iter()
            .find(|w| crate::capabilities::email::contains_words(&text, w))
            .map(|w| w.to_string())
    };
    let (label, priority, reason) = if let Some(w) = found(URGENT) {
        (
            TriageLabel::Urgent,
            Priority::High,
            format!("it says \"{w}\""),
        )
    } else if matches!(base.intent.as_str(), "newsletter" | "fyi") {
        (
            TriageLabel::Fyi,
            Priority::Low,
            format!("it reads as a {}", base.intent.replace("fyi", "FYI")),
        )
    } else if let Some(w) = found(MEETING) {
        (
            TriageLabel::MeetingRequest,
            Priority::Medium,
            format!("it asks for time (\"{w}\")"),
        )
    } else if text.contains('?') {
        (
            TriageLabel::NeedsReply,
            base.priority.max(Priority::Medium),
            "it asks a question".to_string(),
        )
    } else if let Some(w) = found(ASKS) {
        (
            TriageLabel::NeedsReply,
            base.priority.max(Priority::Medium),
            format!("it asks something of you (\"{w}\")"),
        )
    } else {
        (
            TriageLabel::Fyi,
            Priority::Low,
            "it asks nothing of you".to_string(),
        )
    };
    let summary = summary(m, label, &own);
    Reading {
        label,
        priority,
        reason,
        summary,
    }
}

/// "Sarah Chen (acme.com) writes urgently about “Dashboard down”: The dashboard has
/// been down since 9:00."
fn summary(m: &MailMessage, label: TriageLabel, own: &str) -> String {
    let address = crate::model::bare_address(&m.from);
    let who = match (display_name(&m.from), address.rsplit_once('@')) {
        (Some(name), Some((_, domain))) => format!("{name} ({domain})"),
        _ => address.to_string(),
    };
    let what = match label {
        TriageLabel::Urgent => "writes urgently about",
        TriageLabel::MeetingRequest => "asks to meet about",
        TriageLabel::NeedsReply => "waits for your answer on",
        TriageLabel::Fyi => "lets you know about",
    };
    let subject = m.subject.trim();
    let subject = if subject.is_empty() {
        "(no subject)"
    } else {
        subject
    };
    let gist = gist(own.strip_prefix(m.subject.as_str()).unwrap_or(own));
    if gist.is_empty() {
        format!("{who} {what} \"{subject}\".")
    } else {
        format!("{who} {what} \"{subject}\": {gist}")
    }
}

/// The first sentence or two of a body, without its greeting and signature, at most
/// about 240 characters.
pub fn gist(body: &str) -> String {
    let mut words = Vec::new();
    for line in body.lines() {
        let l = line.trim();
        if l == "--" || l == "-- " {
            break;
        }
        let lower = l.to_lowercase();
        let greeting = [
            "hi",
            "hello",
            "dear",
            "hey",
            "good morning",
            "good afternoon",
        ]
        .iter()
        .any(|g| lower.starts_with(g))
            && l.len() < 40
            && l.ends_with(',');
        let signoff = [
            "best",
            "regards",
            "thanks",
            "thank you",
            "cheers",
            "kind regards",
        ]
        .iter()
        .any(|s| lower.trim_end_matches([',', '!', '.']) == *s);
        if signoff {
            break;
        }
        if l.is_empty() || greeting || l.starts_with('>') {
            continue;
        }
        words.extend(l.split_whitespace());
    }
    let text = words.join(" ");
    // Two sentences: up to the second sentence end that is followed by a space.
    let mut ends = text
        .char_indices()
        .filter(|(i, c)| {
            matches!(c, '.' | '?' | '!') && text[i + 1..].starts_with(' ')
                || (matches!(c, '.' | '?' | '!') && i + 1 == text.len())
        })
        .map(|(i, _)| i + 1);
    let cut = ends.nth(1).unwrap_or(text.len());
    clip(&text[..cut], 240)
}

fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::email::Triage;
    use chrono::Utc;

    fn mail(from: &str, subject: &str, body: &str) -> MailMessage {
        MailMessage {
            message_id: "m@acme.com".into(),
            from: from.into(),
            to: "robin.hayes@example.com".into(),
            cc: String::new(),
            subject: subject.into(),
            body: body.into(),
            in_reply_to: None,
            references: vec![],
            attachments: vec![],
            headers: Default::default(),
            at: Utc::now(),
        }
    }

    fn reading(from: &str, subject: &str, body: &str) -> Reading {
        let m = mail(from, subject, body);
        read(&m, &Triage::new(&[]).classify(&m, "example.com"))
    }

    #[test]
    fn each_label_is_given_for_the_words_that_call_for_it() {
        let r = reading(
            "Sarah Chen <sarah@acme.com>",
            "Dashboard down",
            "Hi Robin,\n\nOur dashboard is down for every user. We need help immediately.\n\nSarah",
        );
        assert_eq!((r.label, r.priority), (TriageLabel::Urgent, Priority::High));
        assert_eq!(r.reason, "it says \"immediately\"");
        let r = reading(
            "Ivy Chen <ivy@cobalt.example>",
            "Catch up next week",
            "Hello Robin,\nCould we find a time to talk about the renewal?",
        );
        assert_eq!(r.label, TriageLabel::MeetingRequest);
        let r = reading(
            "Dana Wu <dana.wu@example.com>",
            "Q3 budget",
            "Do you agree with the numbers in the sheet?",
        );
        assert_eq!(
            (r.label, r.priority),
            (TriageLabel::NeedsReply, Priority::High)
        );
        let r = reading(
            "news@vendor.io",
            "Our November digest",
            "New features. Click to unsubscribe.",
        );
        assert_eq!((r.label, r.priority), (TriageLabel::Fyi, Priority::Low));
        let r = reading(
            "Sam <sam@acme.com>",
            "Signed contract",
            "The signed contract is attached.",
        );
        assert_eq!(r.label, TriageLabel::Fyi);
        assert_eq!(r.reason, "it asks nothing of you");
    }

    #[test]
    fn the_summary_names_the_sender_and_says_the_gist() {
        let r = reading(
            "Sarah Chen <sarah@acme.com>",
            "Dashboard down",
            "Hi Robin,\n\nOur dashboard is down for every user. We need help immediately. Third sentence here.\n\nBest,\nSarah",
        );
        assert_eq!(
            r.summary,
            "Sarah Chen (acme.com) writes urgently about \"Dashboard down\": Our dashboard is down for every user. We need help immediately."
        );
        let r = reading("ops@acme.com", "", "");
        assert_eq!(
            r.summary,
            "ops@acme.com lets you know about \"(no subject)\"."
        );
    }

    proptest::proptest! {
        #[test]
        fn any_mail_is_read_the_same_way_twice_with_a_short_summary(
            from in "[ -~]{0,40}",
            subject in "[^\r\n]{0,80}",
            body in "(?s).{0,2000}",
        ) {
            let a = reading(&from, &subject, &body);
            let b = reading(&from, &subject, &body);
            proptest::prop_assert_eq!(&a, &b);
            proptest::prop_assert!(!a.reason.is_empty());
            proptest::prop_assert!(gist(&body).chars().count() <= 241);
        }
    }

    #[test]
    fn a_long_body_is_clipped() {
        let g = gist(&"word ".repeat(200));
        assert!(g.ends_with('…') && g.chars().count() <= 241, "{g}");
    }
}
