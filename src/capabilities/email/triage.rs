//! Triage of inbound mail: a priority and an intent for every message, from offline
//! rules — the role's own `[[triage]]` rules first, then the node's defaults (customer
//! issues and internal requests high; leads and enquiries medium; newsletters and FYIs
//! low). The first rule that matches decides. Plans trigger on the intent
//! (`event.payload.intent == 'issue'`) and the priority orders the employee's work.

use crate::model::{MailMessage, Priority, bare_address};
use serde::{Deserialize, Serialize};

/// One triage rule, as written in a role template:
///
/// ```toml
/// [[triage]]
/// intent = "feature_request"
/// priority = "medium"
/// keywords = ["feature request", "could you add", "would be great if"]
/// ```
///
/// A rule matches when every condition it sets holds: `keywords` (any of them appears
/// in the subject or body as whole words, case-insensitive), `from` (the sender's
/// address ends with any of them, e.g. `@acme.com`), `internal` (the sender is, or is
/// not, at the company's domain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageRule {
    /// The intent it assigns, e.g. `issue`, `lead`.
    pub intent: String,
    /// The priority it assigns.
    pub priority: Priority,
    /// Words or phrases, any of which must appear.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Sender address suffixes, any of which must match.
    #[serde(default)]
    pub from: Vec<String>,
    /// Whether the sender must be (true) or must not be (false) at the company domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
}

impl TriageRule {
    /// What is wrong with the rule, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.intent.trim().is_empty() {
            return Some("`intent` must name the intent, e.g. \"issue\"".into());
        }
        if self.keywords.is_empty() && self.from.is_empty() && self.internal.is_none() {
            return Some(
                "set at least one of `keywords`, `from` or `internal`; a rule with none would match every message"
                    .into(),
            );
        }
        None
    }
}

/// What triage decided for one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triaged {
    /// Priority.
    pub priority: Priority,
    /// Intent.
    pub intent: String,
}

/// A role's triage: its rules, then the defaults.
#[derive(Debug, Clone)]
pub struct Triage {
    rules: Vec<TriageRule>,
    /// How many of `rules`, from the start, are the role's own.
    own: usize,
}

fn rule(intent: &str, priority: Priority, keywords: &[&str], internal: Option<bool>) -> TriageRule {
    TriageRule {
        intent: intent.into(),
        priority,
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        from: Vec::new(),
        internal,
    }
}

impl Triage {
    /// The role's rules followed by the node's defaults.
    pub fn new(role_rules: &[TriageRule]) -> Triage {
        let own = role_rules.len();
        let mut rules = role_rules.to_vec();
        rules.extend([
            rule(
                "newsletter",
                Priority::Low,
                &[
                    "unsubscribe",
                    "newsletter",
                    "view in browser",
                    "view this email in your browser",
                ],
                None,
            ),
            rule(
                "fyi",
                Priority::Low,
                &[
                    "fyi",
                    "for your information",
                    "no action needed",
                    "no reply needed",
                    "no action required",
                ],
                None,
            ),
            rule(
                "issue",
                Priority::High,
                &[
                    "not working",
                    "broken",
                    "error",
                    "errors",
                    "outage",
                    "is down",
                    "bug",
                    "crash",
                    "crashes",
                    "urgent",
                    "can't log in",
                    "cannot log in",
                    "failing",
                    "fails",
                    "failed",
                    "problem",
                    "issue",
                ],
                Some(false),
            ),
            rule("request", Priority::High, &[], Some(true)),
            rule(
                "lead",
                Priority::Medium,
                &[
                    "pricing", "price", "prices", "quote", "demo", "trial", "seats", "licence",
                    "license", "purchase", "buy", "plan",
                ],
                None,
            ),
        ]);
        Triage { rules, own }
    }

    /// What the role's own keyword rules make of words written in chat or given as a
    /// task, so a plan can take a feature request (say) from any channel as it does
    /// from mail. Only the role's rules with keywords apply (sender conditions are
    /// mail's, and the node's defaults sort mail); none when none matches.
    pub fn classify_words(&self, words: &str) -> Option<Triaged> {
        let text = words.to_lowercase();
        self.rules[..self.own]
            .iter()
            .find(|r| {
                r.from.is_empty()
                    && r.internal.is_none()
                    && r.keywords
                        .iter()
                        .any(|k| contains_words(&text, &k.to_lowercase()))
            })
            .map(|r| Triaged {
                priority: r.priority,
                intent: r.intent.clone(),
            })
    }

    /// Priority and intent of `m`, received by an employee of `company_domain`.
    pub fn classify(&self, m: &MailMessage, company_domain: &str) -> Triaged {
        let text = own_words(m).to_lowercase();
        let from = bare_address(&m.from).to_ascii_lowercase();
        let internal = from
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(company_domain));
        self.rules
            .iter()
            .find(|r| {
                (r.keywords.is_empty()
                    || r.keywords
                        .iter()
                        .any(|k| contains_words(&text, &k.to_lowercase())))
                    && (r.from.is_empty()
                        || r.from
                            .iter()
                            .any(|f| from.ends_with(&f.to_ascii_lowercase())))
                    && r.internal.is_none_or(|i| i == internal)
            })
            .map(|r| Triaged {
                priority: r.priority,
                intent: r.intent.clone(),
            })
            .unwrap_or(Triaged {
                priority: Priority::Medium,
                intent: "enquiry".into(),
            })
    }
}

/// What a message itself says: its subject and body, or — for a reply in a thread
/// ("Re: …") — its body without the quoted lines of earlier messages, since the subject
/// and the quotes are the thread's, not this message's.
pub(crate) fn own_words(m: &MailMessage) -> String {
    let reply = m.in_reply_to.is_some()
        && m.subject
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("re:");
    let body: String = m
        .body
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect::<Vec<_>>()
        .join("\n");
    if reply {
        body
    } else {
        format!("{}\n{body}", m.subject)
    }
}

/// Whether `phrase` occurs in `text` with no letter or digit right before or after it.
pub(crate) fn contains_words(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(i) = text[from..].find(phrase) {
        let start = from + i;
        let end = start + phrase.len();
        let before = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return true;
        }
        from = start + phrase.len().max(1);
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn mail(from: &str, subject: &str, body: &str) -> MailMessage {
        MailMessage {
            message_id: "m@x".into(),
            from: from.into(),
            to: "riley@example.com".into(),
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

    #[test]
    fn chat_and_task_words_are_read_by_the_roles_keyword_rules_only() {
        let t = Triage::new(&[TriageRule {
            intent: "feature_request".into(),
            priority: Priority::Medium,
            keywords: vec!["could you add".into()],
            from: vec![],
            internal: None,
        }]);
        let found = t.classify_words("Could you add a dark mode?").unwrap();
        assert_eq!(found.intent, "feature_request");
        // The node's defaults are mail's: a broken export in chat is no `issue` here.
        assert_eq!(t.classify_words("The export is broken"), None);
    }

    #[test]
    fn a_reply_is_read_by_its_own_words_not_the_thread_it_answers() {
        let t = Triage::new(&[]);
        let mut m = mail(
            "sarah@acme.com",
            "Re: A quote for 40 seats?",
            "Thanks, see you Tuesday.\n\n> Here is the proposal for 40 seats",
        );
        m.in_reply_to = Some("p@example.com".into());
        assert_eq!(own_words(&m).trim(), "Thanks, see you Tuesday.");
        assert_eq!(t.classify(&m, "example.com").intent, "enquiry");
        // A new message is read whole, subject and all.
        m.in_reply_to = None;
        assert_eq!(t.classify(&m, "example.com").intent, "lead");
    }

    #[test]
    fn defaults_sort_issues_requests_leads_and_newsletters() {
        let t = Triage::new(&[]);
        let c = |from, s, b| {
            let r = t.classify(&mail(from, s, b), "example.com");
            (r.priority, r.intent)
        };
        assert_eq!(
            c(
                "sarah@acme.com",
                "Dashboard not working",
                "Since this morning"
            ),
            (Priority::High, "issue".into())
        );
        assert_eq!(
            c(
                "Alex <alex@example.com>",
                "Can you send me the Q3 numbers?",
                ""
            ),
            (Priority::High, "request".into())
        );
        assert_eq!(
            c("lead@newco.io", "Pricing for 40 seats?", ""),
            (Priority::Medium, "lead".into())
        );
        assert_eq!(
            c(
                "news@vendor.io",
                "Our November digest",
                "Click to unsubscribe"
            ),
            (Priority::Low, "newsletter".into())
        );
        assert_eq!(
            c("sam@acme.com", "FYI: office closed Friday", ""),
            (Priority::Low, "fyi".into())
        );
        assert_eq!(
            c("sam@acme.com", "Hello", "Nice to meet you"),
            (Priority::Medium, "enquiry".into())
        );
        // Whole words only: "terror" is not "error", "planet" not "plan".
        assert_eq!(
            c("sam@acme.com", "terror planet", ""),
            (Priority::Medium, "enquiry".into())
        );
    }

    #[test]
    fn role_rules_come_first_and_can_match_on_the_sender() {
        let t = Triage::new(&[TriageRule {
            intent: "candidate_reply".into(),
            priority: Priority::High,
            keywords: vec!["interview".into()],
            from: vec!["@gmail.com".into()],
            internal: None,
        }]);
        let r = t.classify(
            &mail("jo@gmail.com", "Re: interview times", "the demo"),
            "example.com",
        );
        assert_eq!(r.intent, "candidate_reply");
        let r = t.classify(
            &mail("jo@other.io", "Re: interview times", "the demo"),
            "example.com",
        );
        assert_eq!(r.intent, "lead");
        let empty = TriageRule {
            intent: "x".into(),
            priority: Priority::Low,
            keywords: vec![],
            from: vec![],
            internal: None,
        };
        assert!(empty.problem().unwrap().contains("every message"));
    }
}
