//! Screening a CV against a requisition: each requirement is looked for, by its
//! keywords (or its own text) as whole words without case, line by line; a requirement
//! found carries the CV's line that shows it. The score is the weight of what was found
//! over the weight of everything asked for. A candidate is invited to interview when
//! every must-have was found and the score reaches the requisition's passing score;
//! otherwise declined. Pure and deterministic: the same CV gives the same screening.

use super::{Evidence, Requirement, Requisition, Screening};

/// The longest evidence line kept, in characters.
const EVIDENCE_CHARS: usize = 200;

/// Whether `needle` (lower case) is in `hay` (lower case) as a whole word: not
/// preceded or followed by a letter or digit.
fn has_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let start = from + i;
        let end = start + needle.len();
        let before = hay[..start].chars().next_back();
        let after = hay[end..].chars().next();
        let bounded = |c: Option<char>| !c.is_some_and(char::is_alphanumeric);
        if bounded(before) && bounded(after) {
            return true;
        }
        from = start + hay[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// The first line of `cv` that shows `r`, trimmed.
fn evidence(cv: &str, r: &Requirement) -> Option<String> {
    let keywords: Vec<String> = if r.keywords.is_empty() {
        vec![r.text.trim().to_lowercase()]
    } else {
        r.keywords.iter().map(|k| k.trim().to_lowercase()).collect()
    };
    cv.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .find(|line| {
            let lower = line.to_lowercase();
            keywords.iter().any(|k| has_word(&lower, k))
        })
        .map(|l| l.chars().take(EVIDENCE_CHARS).collect())
}

/// Screens `cv` against `req`'s requirements.
pub fn screen(cv: &str, req: &Requisition) -> Screening {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut missing_must_haves = Vec::new();
    let (mut have, mut total) = (0.0, 0.0);
    for r in &req.requirements {
        total += r.weight;
        match evidence(cv, r) {
            Some(line) => {
                have += r.weight;
                found.push(Evidence {
                    requirement: r.text.clone(),
                    evidence: line,
                });
            }
            None => {
                missing.push(r.text.clone());
                if r.must_have {
                    missing_must_haves.push(r.text.clone());
                }
            }
        }
    }
    let score = if total > 0.0 {
        (have / total * 100.0).round() / 100.0
    } else {
        0.0
    };
    let interview = missing_must_haves.is_empty() && score >= req.pass_score;
    let list = |v: &[String]| v.join(", ");
    let mut summary = format!(
        "Scored {:.0}% against {} (an interview needs {:.0}%).",
        score * 100.0,
        req.title,
        req.pass_score * 100.0
    );
    if !found.is_empty() {
        let names: Vec<String> = found.iter().map(|e| e.requirement.clone()).collect();
        summary.push_str(&format!(" Found: {}.", list(&names)));
    }
    if !missing.is_empty() {
        summary.push_str(&format!(" Missing: {}.", list(&missing)));
    }
    if !missing_must_haves.is_empty() {
        summary.push_str(&format!(
            " Must-have not shown: {}.",
            list(&missing_must_haves)
        ));
    }
    Screening {
        score,
        found,
        missing,
        missing_must_haves,
        decision: if interview { "interview" } else { "decline" }.into(),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn req(text: &str, weight: f64, must_have: bool, keywords: &[&str]) -> Requirement {
        Requirement {
            text: text.into(),
            weight,
            must_have,
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn backend() -> Requisition {
        Requisition {
            id: "r1".into(),
            title: "Senior Backend Engineer".into(),
            requirements: vec![
                req("Rust", 3.0, true, &[]),
                req("PostgreSQL", 2.0, false, &["postgresql", "postgres"]),
                req("distributed systems", 2.0, false, &["distributed", "raft"]),
                req("Kubernetes", 1.0, false, &[]),
            ],
            hiring_manager: "dana@example.com".into(),
            panel: None,
            pass_score: 0.6,
            status: "open".into(),
            opened_at: Utc::now(),
            closed_at: None,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_matching_cv_is_invited_with_the_evidence_for_each_requirement() {
        let cv = "Ada Byron\nSenior engineer\n\n  Built a payments ledger in Rust (tokio, axum)\nRan Postgres clusters at scale\nDesigned a Raft-based replicated log\n";
        let s = screen(cv, &backend());
        assert_eq!(s.decision, "interview");
        assert_eq!(s.score, 0.88);
        assert_eq!(
            s.found[0].evidence,
            "Built a payments ledger in Rust (tokio, axum)"
        );
        assert_eq!(s.found[1].evidence, "Ran Postgres clusters at scale");
        assert_eq!(s.found[2].evidence, "Designed a Raft-based replicated log");
        assert_eq!(s.missing, ["Kubernetes"]);
        assert!(s.summary.contains("Scored 88%"), "{}", s.summary);
        assert!(s.summary.contains("Missing: Kubernetes."), "{}", s.summary);
    }

    #[test]
    fn a_missing_must_have_declines_whatever_the_score() {
        let cv = "Go developer\nPostgreSQL, distributed queues, Kubernetes operator\n";
        let s = screen(cv, &backend());
        assert_eq!(s.decision, "decline");
        assert_eq!(s.missing_must_haves, ["Rust"]);
        assert_eq!(s.score, 0.63);
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert!(!has_word("trusty tools", "rust"));
        assert!(has_word("rust, go", "rust"));
        assert!(has_word("c++ and rust", "c++"));
        assert!(!has_word("", "rust"));
    }

    #[test]
    fn a_low_score_declines_and_says_what_is_missing() {
        let cv = "Rust hobbyist\n";
        let s = screen(cv, &backend());
        assert_eq!(s.decision, "decline");
        assert_eq!(s.score, 0.38);
        assert_eq!(
            s.missing,
            ["PostgreSQL", "distributed systems", "Kubernetes"]
        );
    }
}
