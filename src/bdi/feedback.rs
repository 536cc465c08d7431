//! Coaching in words: whether what a human wrote to an employee — a chat message, a
//! reply to its mail, the `text` of the feedback API — is praise, a correction or a
//! suggestion for improvement, and what it means for learning: praise rates the latest
//! action good, a correction of substance ("that's wrong") rates it bad, and every
//! correction or suggestion is kept in words (style corrections such as "too formal"
//! shift how the employee writes). Offline rules, whole words; pure.

use serde::{Deserialize, Serialize};

/// The kind of feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// Well done.
    Praise,
    /// That was wrong, or written the wrong way.
    Correction,
    /// Next time, do it differently.
    Improvement,
}

/// Feedback read from words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadFeedback {
    /// Which kind.
    pub kind: FeedbackKind,
    /// The rating it implies for the latest action, if any.
    pub rating: Option<f64>,
    /// The correction or suggestion in words, if any.
    pub correction: Option<String>,
}

const STYLE: &[&str] = &[
    "too formal",
    "too casual",
    "too informal",
    "more formal",
    "more casual",
    "too long",
    "too short",
    "shorter",
    "more detail",
    "less formal",
];
const WRONG: &[&str] = &[
    "wrong",
    "incorrect",
    "not right",
    "a mistake",
    "not what i asked",
    "should not have",
    "shouldn't have",
    "please don't",
    "do not do",
    "don't do that",
];
const IMPROVE: &[&str] = &[
    "next time",
    "in future",
    "in the future",
    "it would be better",
    "would be better if",
    "better to",
    "suggestion",
    "i suggest",
    "try to",
    "consider",
];
const PRAISE: &[&str] = &[
    "great job",
    "good job",
    "well done",
    "nice work",
    "great work",
    "good work",
    "perfect",
    "excellent",
    "spot on",
    "exactly right",
    "nicely done",
    "love it",
    "awesome",
];

/// The words of `text` a human wrote themselves: quoted lines (`>`) and everything
/// from a quote header ("On … wrote:") or a signature (`-- `) on are left out.
pub fn own_words(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t == "--" || t.starts_with("-- ") || (t.starts_with("On ") && t.ends_with("wrote:")) {
            break;
        }
        if !t.starts_with('>') {
            out.push(line);
        }
    }
    out.join("\n").trim().to_string()
}

fn has(text: &str, phrases: &[&str]) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    phrases.iter().any(|p| {
        let want: Vec<&str> = p.split(' ').collect();
        words.windows(want.len()).any(|w| w == want.as_slice())
    })
}

/// What `text` says as feedback, if it is feedback: a correction before a suggestion
/// before praise ("great, but too formal" is a correction).
pub fn read(text: &str) -> Option<ReadFeedback> {
    // "Please don't contact Acme until January" is a directive, not a correction.
    if super::directives::is_directive(text) {
        return None;
    }
    let own = own_words(text);
    let t = own.to_lowercase();
    let words = Some(own.clone()).filter(|w| !w.is_empty());
    if has(&t, WRONG) {
        Some(ReadFeedback {
            kind: FeedbackKind::Correction,
            rating: Some(0.0),
            correction: words,
        })
    } else if has(&t, STYLE) {
        Some(ReadFeedback {
            kind: FeedbackKind::Correction,
            rating: None,
            correction: words,
        })
    } else if has(&t, IMPROVE) {
        Some(ReadFeedback {
            kind: FeedbackKind::Improvement,
            rating: None,
            correction: words,
        })
    } else if has(&t, PRAISE) {
        Some(ReadFeedback {
            kind: FeedbackKind::Praise,
            rating: Some(1.0),
            correction: None,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn praise_corrections_and_suggestions_are_told_apart() {
        let p = read("Great job on the Acme reply!").unwrap();
        assert_eq!((p.kind, p.rating), (FeedbackKind::Praise, Some(1.0)));
        let c = read("That was a bit too formal for Sarah.").unwrap();
        assert_eq!((c.kind, c.rating), (FeedbackKind::Correction, None));
        assert_eq!(
            c.correction.as_deref(),
            Some("That was a bit too formal for Sarah.")
        );
        let w = read("Perfect timing, but the price was wrong.").unwrap();
        assert_eq!((w.kind, w.rating), (FeedbackKind::Correction, Some(0.0)));
        let i = read("Next time, mention the annual discount.").unwrap();
        assert_eq!((i.kind, i.rating), (FeedbackKind::Improvement, None));
        assert_eq!(read("Can we meet on Tuesday at 10?"), None);
        // Whole words only: "wrongly" is not "wrong", "perfectly" is not "perfect".
        assert_eq!(read("It perfectly shows the wrongly filed ticket"), None);
    }

    #[test]
    fn only_the_writers_own_words_count() {
        let reply =
            "Well done, thanks.\n\nOn Tue, Sam Rivera wrote:\n> this is wrong\n> too formal";
        assert_eq!(own_words(reply), "Well done, thanks.");
        assert_eq!(read(reply).unwrap().kind, FeedbackKind::Praise);
        assert_eq!(read("> that was wrong\nsee you"), None);
    }
}
