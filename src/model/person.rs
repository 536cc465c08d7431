//! A person to forget, as `empla forget` names them ("Name", "address" or
//! "Name <address>"), and how the node recognises them in what it keeps: where text
//! mentions them, which stored records are theirs (a from, to, requester… field names
//! them, or the record refers to their mail or their tasks) and how a mention is
//! redacted in a record kept for someone else.
//!
//! Pure: no store, no clock. Matching works on words, like the memory's full-text
//! search: "Sarah Chen" matches "sarah  CHEN" and "Sarah.Chen", never "Sarah Chenoweth";
//! an address matches without case, never as part of a longer address.

use serde_json::Value as Json;
use std::collections::BTreeSet;

/// What replaces a mention of a forgotten person in a record kept for someone else.
pub const REDACTED: &str = "[forgotten]";

/// Keys of stored JSON whose values say who a record is from, to or for: a record
/// whose such field names the person is theirs.
const PARTY_KEYS: &[&str] = &[
    "from",
    "from_address",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "recipients",
    "participants",
    "attendees",
    "organizer",
    "requester",
    "conversation",
    "contact",
    "email",
    "address",
];

/// Keys of stored JSON that hold a Message-ID.
const MESSAGE_KEYS: &[&str] = &["message_id", "in_reply_to", "mail_id"];

/// A person as a request to forget names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Names, each as its lowercase words.
    names: Vec<Vec<String>>,
    /// Addresses, lowercase.
    addresses: Vec<String>,
}

impl Person {
    /// Reads "Name", "address" or "Name <address>" (several separated by commas). A
    /// first name alone names many people, so single words count only when nothing
    /// else is given.
    pub fn parse(s: &str) -> Person {
        let mut p = Person::default();
        let mut single: Vec<Vec<String>> = Vec::new();
        for one in s.split([',', ';']) {
            let (name, address) = match (one.find('<'), one.rfind('>')) {
                (Some(a), Some(b)) if a < b => (&one[..a], Some(one[a + 1..b].trim())),
                _ if one.contains('@') => ("", Some(one.trim())),
                _ => (one, None),
            };
            if let Some(a) = address.filter(|a| !a.is_empty()) {
                let a = a.to_lowercase();
                if !p.addresses.contains(&a) {
                    p.addresses.push(a);
                }
            }
            let words: Vec<String> = words(name).map(|(_, w)| w).collect();
            match words.len() {
                0 => {}
                1 => single.push(words),
                _ if !p.names.contains(&words) => p.names.push(words),
                _ => {}
            }
        }
        if p.names.is_empty() && p.addresses.is_empty() {
            p.names = single;
        }
        p
    }

    /// Whether the request named no one.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.addresses.is_empty()
    }

    /// The names ("sarah chen") and addresses ("sarah@acme.com"), lowercase.
    pub fn keys(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|n| n.join(" "))
            .chain(self.addresses.iter().cloned())
            .collect()
    }

    /// SQL `LIKE` patterns that every text mentioning the person matches, compared
    /// with the text in lowercase (`lower(column) LIKE pattern`). Characters other
    /// than ASCII match any one character, so a database that lowercases only ASCII
    /// still finds them; the patterns find a superset, [`Person::mentions`] decides.
    pub fn like_patterns(&self) -> Vec<String> {
        let like = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii() { c } else { '_' })
                .collect::<String>()
        };
        self.names
            .iter()
            .map(|n| format!("%{}%", like(&n.join("%"))))
            .chain(self.addresses.iter().map(|a| format!("%{}%", like(a))))
            .collect()
    }

    /// Whether `text` mentions the person.
    pub fn mentions(&self, text: &str) -> bool {
        !self.spans(text).is_empty()
    }

    /// `text` with every mention of the person replaced by [`REDACTED`]; none when it
    /// mentions them nowhere.
    pub fn redact(&self, text: &str) -> Option<String> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }

    /// Whether any string (or object key) in `v` mentions the person.
    pub fn mentioned_in(&self, v: &Json) -> bool {
        match v {
            Json::String(s) => self.mentions(s),
            Json::Array(items) => items.iter().any(|i| self.mentioned_in(i)),
            Json::Object(map) => map
                .iter()
                .any(|(k, v)| self.mentions(k) || self.mentioned_in(v)),
            _ => false,
        }
    }

    /// Redacts every mention in the strings (and object keys) of `v`; answers whether
    /// anything changed.
    pub fn redact_json(&self, v: &mut Json) -> bool {
        match v {
            Json::String(s) => match self.redact(s) {
                Some(r) => {
                    *s = r;
                    true
                }
                None => false,
            },
            Json::Array(items) => items
                .iter_mut()
                .fold(false, |changed, i| self.redact_json(i) | changed),
            Json::Object(map) => {
                let mut changed = false;
                let renamed: Vec<(String, String)> = map
                    .keys()
                    .filter_map(|k| Some((k.clone(), self.redact(k)?)))
                    .collect();
                for (old, new) in renamed {
                    if let Some(value) = map.remove(&old) {
                        map.insert(new, value);
                        changed = true;
                    }
                }
                map.values_mut()
                    .fold(changed, |changed, v| self.redact_json(v) | changed)
            }
            _ => false,
        }
    }

    /// The byte ranges of `text` that mention the person, in order, not overlapping.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        if !self.addresses.is_empty() {
            // ASCII lowercase keeps every byte where it was.
            let lower = text.to_ascii_lowercase();
            for a in &self.addresses {
                let a = a.to_ascii_lowercase();
                let mut from = 0;
                while let Some(i) = lower[from..].find(&a) {
                    let (start, end) = (from + i, from + i + a.len());
                    if address_ends(&lower, start, end) {
                        spans.push((start, end));
                    }
                    from = start + 1;
                    while !lower.is_char_boundary(from) {
                        from += 1;
                    }
                }
            }
        }
        if !self.names.is_empty() {
            let runs: Vec<((usize, usize), String)> = words(text).collect();
            for name in &self.names {
                for (i, window) in runs.windows(name.len()).enumerate() {
                    if window.iter().zip(name).all(|((_, w), n)| w == n) {
                        spans.push((runs[i].0.0, runs[i + name.len() - 1].0.1));
                    }
                }
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// Whether `text[start..end]` is a whole address: not part of a longer one.
fn address_ends(text: &str, start: usize, end: usize) -> bool {
    let local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let ok_before = !before.is_some_and(local);
    let ok_after = match after.next() {
        None => true,
        Some('.') => !after.next().is_some_and(char::is_alphanumeric),
        Some(c) => !(c.is_alphanumeric() || c == '-' || c == '_'),
    };
    ok_before && ok_after
}

/// The words of `text` (alphanumeric runs), lowercase, with their byte ranges.
fn words(text: &str) -> impl Iterator<Item = ((usize, usize), String)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while chars.peek().is_some_and(|(_, c)| !c.is_alphanumeric()) {
            chars.next();
        }
        let (start, _) = *chars.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        Some(((start, end), text[start..end].to_lowercase()))
    })
}

/// Forgetting one person: who they are, and what of theirs is being removed (their
/// mail and their tasks), so records that refer to those are found to be theirs too.
#[derive(Debug, Clone, Default)]
pub struct Forgetting {
    /// The person.
    pub person: Person,
    /// Message-IDs of the mail from or to them.
    pub messages: BTreeSet<String>,
    /// Ids of the tasks they asked for.
    pub tasks: BTreeSet<String>,
}

impl Forgetting {
    /// Forgetting `person`, nothing of theirs found yet.
    pub fn new(person: Person) -> Forgetting {
        Forgetting {
            person,
            messages: BTreeSet::new(),
            tasks: BTreeSet::new(),
        }
    }

    /// Whether a stored JSON record is theirs: a field saying who it is from, to or for
    /// (`from`, `to`, `cc`, `participants`, `requester`, …) names them, or it refers
    /// to their mail (`message_id`, `in_reply_to`) or one of their tasks (`task_id`),
    /// at any depth.
    pub fn owns(&self, v: &Json) -> bool {
        match v {
            Json::Array(items) => items.iter().any(|i| self.owns(i)),
            Json::Object(map) => map.iter().any(|(k, v)| {
                (PARTY_KEYS.contains(&k.as_str()) && self.person.mentioned_in(v))
                    || (MESSAGE_KEYS.contains(&k.as_str())
                        && v.as_str().is_some_and(|id| self.is_their_message(id)))
                    || (k == "task_id" && v.as_str().is_some_and(|t| self.tasks.contains(t)))
                    || self.owns(v)
            }),
            _ => false,
        }
    }

    /// Whether `id` (with or without angle brackets) is the Message-ID of their mail.
    pub fn is_their_message(&self, id: &str) -> bool {
        self.messages.contains(crate::model::clean_message_id(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sarah() -> Person {
        Person::parse("Sarah Chen <Sarah@Acme.com>")
    }

    #[test]
    fn a_name_and_an_address_are_read_and_a_first_name_counts_only_alone() {
        assert_eq!(sarah().keys(), ["sarah chen", "sarah@acme.com"]);
        assert_eq!(Person::parse("sarah@acme.com").keys(), ["sarah@acme.com"]);
        assert_eq!(Person::parse("Sarah").keys(), ["sarah"]);
        assert_eq!(
            Person::parse("Sarah, Raj Patel").keys(),
            ["raj patel"],
            "a first name next to a full name is dropped"
        );
        assert!(Person::parse("  ").is_empty());
        assert!(Person::parse("<>").is_empty());
    }

    #[test]
    fn mentions_are_whole_words_and_whole_addresses() {
        let p = sarah();
        for yes in [
            "From: Sarah Chen",
            "sarah  CHEN wrote",
            "write to SARAH@acme.com.",
            "<sarah@acme.com>",
            "Sarah.Chen called",
        ] {
            assert!(p.mentions(yes), "{yes}");
        }
        for no in [
            "Sarah Chenoweth",
            "Sarah called",
            "xsarah@acme.com",
            "sarah@acme.com.au",
            "sarah@acme.community",
            "Chen Sarah",
        ] {
            assert!(!p.mentions(no), "{no}");
        }
    }

    #[test]
    fn redaction_replaces_each_mention_and_keeps_the_rest() {
        let p = sarah();
        assert_eq!(
            p.redact("Sarah Chen <sarah@acme.com> asked Raj about Sarah chen's renewal")
                .unwrap(),
            "[forgotten] <[forgotten]> asked Raj about [forgotten]'s renewal"
        );
        assert_eq!(p.redact("Raj Patel <raj@contoso.com>"), None);
        let juergen = Person::parse("Jürgen Müller");
        assert_eq!(
            juergen.redact("Grüße von JÜRGEN MÜLLER!").unwrap(),
            "Grüße von [forgotten]!"
        );
        let mut v =
            json!({"body": "Ask Sarah Chen", "n": 3, "Sarah Chen": ["sarah@acme.com", "x"]});
        assert!(p.mentioned_in(&v));
        assert!(p.redact_json(&mut v));
        assert_eq!(
            v,
            json!({"body": "Ask [forgotten]", "n": 3, "[forgotten]": ["[forgotten]", "x"]})
        );
        assert!(!p.mentioned_in(&v));
    }

    #[test]
    fn like_patterns_find_every_mention_in_lowercase() {
        assert_eq!(
            sarah().like_patterns(),
            ["%sarah%chen%", "%sarah@acme.com%"]
        );
        assert_eq!(
            Person::parse("Jürgen Müller").like_patterns(),
            ["%j_rgen%m_ller%"]
        );
    }

    #[test]
    fn a_record_is_theirs_by_who_it_is_for_or_what_it_refers_to() {
        let mut f = Forgetting::new(sarah());
        f.messages.insert("m1@acme.com".into());
        f.tasks.insert("t1".into());
        assert!(f.owns(&json!({"payload": {"from": "Sarah Chen <sarah@acme.com>"}})));
        assert!(f.owns(&json!({"participants": [{"name": "Sarah Chen"}]})));
        assert!(f.owns(&json!({"params": {"in_reply_to": "<m1@acme.com>", "body": "Thanks"}})));
        assert!(f.owns(&json!({"kind": "task.update", "params": {"task_id": "t1"}})));
        assert!(!f.owns(&json!({"to": "raj@contoso.com", "body": "Sarah Chen says hi"})));
        assert!(!f.owns(&json!({"in_reply_to": "m2@acme.com"})));
    }
}
