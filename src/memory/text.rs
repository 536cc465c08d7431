//! What makes a memory findable: its readable text, the normalised terms both stores'
//! full-text indexes are built from, the participants it names, and how a query is
//! taken apart into keywords and entities.
//!
//! SQLite (FTS5) and PostgreSQL (tsvector) tokenise differently (PostgreSQL keeps an
//! address or a URL as one token, FTS5 splits it). So neither sees the raw text: both
//! index the same term string, made here, of lowercase alphanumeric runs separated by
//! single spaces, which each tokenises into exactly those terms. Queries are normalised
//! the same way, so the same data gives the same matches on both stores.

use serde_json::Value;

/// Longest term indexed; longer runs (hashes, base64) are left out.
const MAX_TERM: usize = 48;
/// Most text kept for one memory (readable text and terms alike).
const MAX_TEXT: usize = 16 * 1024;

/// The terms of `s`: lowercase alphanumeric runs, in order.
pub fn terms(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && t.len() <= MAX_TERM)
        .map(|t| t.to_lowercase())
}

/// The term string the full-text indexes are built from.
pub fn term_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for t in terms(s) {
        if out.len() + t.len() + 1 > MAX_TEXT {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t);
    }
    out
}

/// Parameters that hold an employee's own number for an earlier action (`"6"`): no
/// one searches for them, and they are not shown as text.
const ACTION_REFERENCES: [&str; 3] = ["follows", "attach_from", "result_from"];

/// The readable text of a memory: its summary, then every string in its payload (in
/// document order) but references to earlier actions, so every one of them is
/// searchable.
pub fn readable(summary: &str, payload: &Value) -> String {
    let mut out = String::from(summary);
    collect_strings(payload, &mut out);
    if out.len() > MAX_TEXT {
        out.truncate(out.floor_char_boundary(MAX_TEXT));
    }
    out
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) if !s.is_empty() => {
            if !out.is_empty() {
                out.push_str(" · ");
            }
            out.push_str(s);
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(k, _)| !ACTION_REFERENCES.contains(&k.as_str()))
            .for_each(|(_, i)| collect_strings(i, out)),
        _ => {}
    }
}

/// Who a memory involves: the `from`, `to` and `participants` fields of its payload (at
/// the top or in nested objects, such as an action's parameters), each a name, an
/// address, `Name <address>`, a list of those or an object with `name`/`email`.
///
/// Each person gives several keys, so `with=Sarah`, `with=sarah chen` and
/// `with=sarah@acme.com` all find "Sarah Chen <sarah@acme.com>". Keys are lowercase.
pub fn participants(payload: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    for p in people(payload) {
        p.keys(&mut keys);
    }
    keys.sort();
    keys.dedup();
    keys
}

/// One person a memory involves, as [`people`] finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The words of the name, lowercase, separated by single spaces; empty when only
    /// an address was given.
    pub name: String,
    /// The address, lowercase.
    pub address: Option<String>,
}

impl Person {
    /// Whether `key` (as [`person_key`] gives it) names this person: the address, the
    /// whole name, or one word of it ("sarah" names Sarah Chen).
    pub fn named_by(&self, key: &str) -> bool {
        !key.is_empty()
            && (self.address.as_deref() == Some(key)
                || self.name == key
                || self.name.split(' ').any(|w| w == key))
    }

    fn keys(&self, keys: &mut Vec<String>) {
        if let Some(a) = &self.address {
            keys.push(a.clone());
        }
        if !self.name.is_empty() {
            if self.name.contains(' ') {
                keys.push(self.name.clone());
            }
            keys.extend(self.name.split(' ').map(String::from));
        }
    }
}

/// The people a memory involves (see [`participants`]), in the order found.
pub fn people(payload: &Value) -> Vec<Person> {
    let mut found = Vec::new();
    find_people(payload, 0, &mut found);
    found
}

fn find_people(v: &Value, depth: usize, found: &mut Vec<Person>) {
    let Value::Object(map) = v else { return };
    for (k, v) in map {
        if matches!(k.as_str(), "from" | "to" | "participants" | "cc") {
            person_values(v, found);
        } else if depth < 3 && v.is_object() {
            find_people(v, depth + 1, found);
        }
    }
}

fn person_values(v: &Value, found: &mut Vec<Person>) {
    match v {
        Value::String(s) => {
            for one in s.split([',', ';']) {
                found.extend(one_person(one));
            }
        }
        Value::Array(items) => items.iter().for_each(|i| person_values(i, found)),
        Value::Object(map) => {
            // One person: the name with the address beside it.
            let mut one: Option<Person> = None;
            for f in ["name", "email", "address"] {
                let Some(p) = map.get(f).and_then(Value::as_str).and_then(one_person) else {
                    continue;
                };
                match &mut one {
                    Some(o) if o.address.is_none() && p.name.is_empty() => o.address = p.address,
                    Some(_) => found.push(p),
                    None => one = Some(p),
                }
            }
            found.extend(one);
        }
        _ => {}
    }
}

fn one_person(s: &str) -> Option<Person> {
    let (name, address) = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => (s[..a].trim().trim_matches('"'), Some(s[a + 1..b].trim())),
        _ if s.contains('@') => ("", Some(s.trim())),
        _ => (s.trim(), None),
    };
    let person = Person {
        name: terms(name).collect::<Vec<_>>().join(" "),
        address: address.filter(|a| !a.is_empty()).map(str::to_lowercase),
    };
    (!person.name.is_empty() || person.address.is_some()).then_some(person)
}

/// A participant as a query gives it, in the form [`participants`] stores.
pub fn person_key(s: &str) -> String {
    let s = s.trim();
    if s.contains('@') {
        s.to_lowercase()
    } else {
        terms(s).collect::<Vec<_>>().join(" ")
    }
}

/// Words too common to say anything about what a query is after.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "last", "me", "my", "of", "on", "or", "our",
    "she", "so", "that", "the", "their", "them", "there", "they", "this", "to", "us", "was", "we",
    "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you",
    "your",
];

/// Whether `term` (normalised) is a stopword.
pub fn is_stopword(term: &str) -> bool {
    STOPWORDS.binary_search(&term).is_ok()
}

/// A query taken apart: the keywords worth matching and the entities it names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// Normalised terms, stopwords removed, in order, without repeats.
    pub keywords: Vec<String>,
    /// Names the query mentions, lowercase: runs of capitalised words ("Acme Corp"),
    /// quoted phrases and addresses.
    pub entities: Vec<String>,
}

/// Decomposes a query (seed 5.2: retrieval by keywords and entities, no model needed).
pub fn decompose(q: &str) -> Query {
    let mut keywords: Vec<String> = Vec::new();
    for t in terms(q) {
        if !is_stopword(&t) && !keywords.contains(&t) {
            keywords.push(t);
        }
    }
    let mut entities: Vec<String> = Vec::new();
    let mut push = |e: String| {
        if !e.is_empty() && !entities.contains(&e) {
            entities.push(e);
        }
    };
    // Quoted phrases.
    for (i, part) in q.split('"').enumerate() {
        if i % 2 == 1 {
            push(terms(part).collect::<Vec<_>>().join(" "));
        }
    }
    let mut run: Vec<String> = Vec::new();
    for word in q.split_whitespace() {
        if word.contains('@') {
            push(
                word.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase(),
            );
        }
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let capitalised = bare.chars().next().is_some_and(char::is_uppercase);
        if capitalised && !is_stopword(&bare.to_lowercase()) {
            run.push(bare.to_lowercase());
        } else if !run.is_empty() {
            push(run.join(" "));
            run.clear();
        }
        // Punctuation after a word ends a name.
        if word.ends_with([',', '.', '?', '!', ';', ':']) && !run.is_empty() {
            push(run.join(" "));
            run.clear();
        }
    }
    if !run.is_empty() {
        push(run.join(" "));
    }
    Query { keywords, entities }
}

/// An FTS5 MATCH expression for `terms`: all of them (`all`) or any.
pub fn fts5_query(terms: &[String], all: bool) -> String {
    let quoted: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
    quoted.join(if all { " " } else { " OR " })
}

/// A PostgreSQL `to_tsquery('simple', ...)` expression for `terms`.
pub fn tsquery(terms: &[String], all: bool) -> String {
    terms.join(if all { " & " } else { " | " })
}

/// How well a text answers the query's keywords, the same on every store: BM25 over
/// the candidate set, from the text's frequency of each keyword (`tf`), its length in
/// terms, and how many of the `n` candidates hold each keyword (`df`).
pub fn bm25(tf: &[usize], len: usize, df: &[usize], n: usize) -> f64 {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    const AVG_LEN: f64 = 40.0;
    let len = len.max(1) as f64;
    tf.iter()
        .zip(df)
        .filter(|(tf, _)| **tf > 0)
        .map(|(&tf, &df)| {
            let tf = tf as f64;
            let idf = (1.0 + (n as f64 - df as f64 + 0.5) / (df as f64 + 0.5)).ln();
            idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / AVG_LEN))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn terms_are_lowercase_alphanumeric_runs() {
        assert_eq!(
            term_string("Re: Pricing for ACME-Corp (Q3), sarah@acme.com"),
            "re pricing for acme corp q3 sarah acme com"
        );
        assert_eq!(term_string("Ünïcode straße"), "ünïcode straße");
    }

    #[test]
    fn every_payload_string_is_in_the_readable_text() {
        let p =
            json!({"subject": "Renewal", "body": "Can we talk?", "meta": {"tags": ["urgent", 3]}});
        let t = readable("email.received", &p);
        for s in ["email.received", "Renewal", "Can we talk?", "urgent"] {
            assert!(t.contains(s), "{t}");
        }
    }

    #[test]
    fn a_reference_to_an_earlier_action_is_not_text() {
        let p = json!({"decision": "act", "kind": "email.reply",
                       "params": {"follows": "61", "attach_from": "62", "body": "Here it is"}});
        let t = readable("ask approval for email.reply", &p);
        assert!(t.contains("Here it is"), "{t}");
        assert!(!t.contains("61") && !t.contains("62"), "{t}");
    }

    #[test]
    fn participants_give_names_words_and_addresses() {
        let p = json!({
            "from": "Sarah Chen <sarah@acme.com>",
            "to": ["ops@empla.dev"],
            "action": {"params": {"participants": [{"name": "Raj Patel", "email": "raj@acme.com"}]}}
        });
        let keys = participants(&p);
        for k in [
            "sarah chen",
            "sarah",
            "chen",
            "sarah@acme.com",
            "ops@empla.dev",
            "raj patel",
            "raj@acme.com",
        ] {
            assert!(keys.contains(&k.to_string()), "{k} missing from {keys:?}");
        }
        assert_eq!(person_key("  Sarah   Chen "), "sarah chen");
        let found = people(&p);
        let sarah = found.iter().find(|p| p.name == "sarah chen").unwrap();
        assert_eq!(sarah.address.as_deref(), Some("sarah@acme.com"));
        let raj = found.iter().find(|p| p.name == "raj patel").unwrap();
        assert_eq!(raj.address.as_deref(), Some("raj@acme.com"), "{found:?}");
        for key in ["sarah", "chen", "sarah chen", "sarah@acme.com"] {
            assert!(sarah.named_by(key), "{key}");
        }
        for key in ["acme", "sarah kim", "sar", ""] {
            assert!(!sarah.named_by(key), "{key}");
        }
        assert_eq!(person_key("Sarah@Acme.com"), "sarah@acme.com");
    }

    #[test]
    fn a_query_yields_keywords_and_entities() {
        let q = decompose("Who owns the renewal at \"Northwind Traders\" with Dana Whitfield?");
        assert_eq!(
            q.keywords,
            [
                "owns",
                "renewal",
                "northwind",
                "traders",
                "dana",
                "whitfield"
            ]
        );
        assert!(
            q.entities.contains(&"northwind traders".to_string()),
            "{q:?}"
        );
        assert!(q.entities.contains(&"dana whitfield".to_string()), "{q:?}");
        assert!(!q.entities.iter().any(|e| e.starts_with("who")), "{q:?}");
    }

    #[test]
    fn bm25_prefers_more_occurrences_and_rarer_terms() {
        // Keywords "pricing" (in 10 of 20 candidates) and "acme" (in 2).
        let df = [10, 2];
        let many = bm25(&[2, 1], 3, &df, 20);
        let once = bm25(&[1, 1], 2, &df, 20);
        let common_only = bm25(&[1, 0], 1, &df, 20);
        let rare_only = bm25(&[0, 1], 1, &df, 20);
        assert!(many > once && once > rare_only && rare_only > common_only);
    }
}
