//! Facts from plain statements. Company documents say many things plainly — "Dana
//! Whitfield reports to Maria Lopez.", "Northwind Traders uses Insight Cloud.", "Raj
//! Patel is the CSM for Northwind Traders." — and those become facts. Anything less
//! plain is left to full-text and vector search (and to a language model, when one is
//! configured).

use regex::Regex;
use std::sync::LazyLock;

/// A statement found in text: (subject, predicate, object).
pub type Triple = (String, String, String);

/// A name: capitalised words, possibly joined by `of`, `and`, `&` or `-`.
const NAME: &str = r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|and|&|de|van|von)\s+)?[A-Z0-9][\w'’.-]*)*";

static VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?P<s>{NAME})\s+(?P<v>reports to|is managed by|is used by|works (?:at|for)|belongs to|is part of|is owned by|is in|has product|has feature|integrates with|knows about|owns|manages|offers|sells|uses|includes|supports|serves|leads|runs|builds|depends on|replaced|acquired)\s+(?:the\s+|a\s+|an\s+)?(?P<o>{NAME})(?:\s+(?:account|team|product|feature|platform|project|industry))?\s*$"
    ))
    .expect("the verb pattern compiles")
});

static ROLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?P<s>{NAME})\s+is\s+(?:the|our)\s+(?P<r>[\w -]{{2,40}}?)\s+(?:of|for|at)\s+(?:the\s+)?(?P<o>{NAME})(?:\s+(?:account|team|product))?\s*$"
    ))
    .expect("the role pattern compiles")
});

static IS_A: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?P<s>{NAME})\s+is\s+(?:a|an)\s+(?P<o>[\w -]{{2,60}}?)\s*$"
    ))
    .expect("the is-a pattern compiles")
});

/// The facts `text` states plainly, one per matching sentence, without repeats.
pub fn facts(text: &str) -> Vec<Triple> {
    let mut out: Vec<Triple> = Vec::new();
    for sentence in sentences(text) {
        let found = if let Some(c) = VERB.captures(&sentence) {
            Some((
                c["s"].to_string(),
                c["v"].replace(' ', "_"),
                c["o"].to_string(),
            ))
        } else if let Some(c) = ROLE.captures(&sentence) {
            let role = c["r"].trim().to_lowercase().replace([' ', '-'], "_");
            Some((c["s"].to_string(), format!("{role}_of"), c["o"].to_string()))
        } else {
            IS_A.captures(&sentence)
                .map(|c| (c["s"].to_string(), "is_a".into(), c["o"].trim().to_string()))
        };
        if let Some(t) = found
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

/// Sentences of `text`, with Markdown list markers, emphasis and headings removed.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with("```") || line.starts_with('|') {
            continue;
        }
        let line = line
            .trim_start_matches(['-', '*', '+', '>', ' '])
            .replace("**", "")
            .replace('`', "");
        // A colon ends a lead-in ("Quick note: Acme uses Insight Cloud").
        for s in line.split_inclusive(['.', '!', '?', ';', ':']) {
            let s = s.trim().trim_end_matches(['.', '!', '?', ';', ':']).trim();
            // "Inc." and similar abbreviations end no sentence worth splitting on.
            if s.len() >= 5 {
                out.push(s.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str, p: &str, o: &str) -> Triple {
        (s.into(), p.into(), o.into())
    }

    #[test]
    fn plain_statements_become_facts() {
        let doc = "# Accounts\n\
            Dana Whitfield reports to Maria Lopez. Northwind Traders uses Insight Cloud.\n\
            - **Raj Patel** is the CSM for the Northwind Traders account.\n\
            - Acme Analytics sells Insight Cloud\n\
            Insight Cloud is a analytics platform for retailers.\n\
            We think the renewal might slip, maybe.\n";
        let f = facts(doc);
        assert_eq!(
            f,
            vec![
                t("Dana Whitfield", "reports_to", "Maria Lopez"),
                t("Northwind Traders", "uses", "Insight Cloud"),
                t("Raj Patel", "csm_of", "Northwind Traders"),
                t("Acme Analytics", "sells", "Insight Cloud"),
                t("Insight Cloud", "is_a", "analytics platform for retailers"),
            ]
        );
    }

    #[test]
    fn the_example_company_gives_the_seed_structure() {
        // Company → Product → Feature → Customer → CSM, industries and integrations.
        let f = facts(include_str!("../../docs/examples/knowledge/company.md"));
        for want in [
            t("Acme Analytics", "has_product", "Insight Cloud"),
            t("Insight Cloud", "has_feature", "Live Dashboards"),
            t("Live Dashboards", "is_used_by", "Northwind Traders"),
            t("Northwind Traders", "is_managed_by", "Sarah Kim"),
            t("Northwind Traders", "is_in", "Retail"),
            t("Live Dashboards", "integrates_with", "Salesforce"),
        ] {
            assert!(f.contains(&want), "{want:?} missing from {f:#?}");
        }
    }

    #[test]
    fn vague_text_states_nothing() {
        assert!(facts("we should probably call them next week about the thing").is_empty());
        assert!(facts("The weather is nice").is_empty());
    }
}
