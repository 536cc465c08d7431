//! Filing a request: checked, compared with the open requests, and either stored as a
//! new one or counted as a vote for the one it repeats. The comparison is the built-in
//! embedder's cosine similarity (words, word pairs, character trigrams; offline and
//! deterministic) over what the request is about — the words people wrap requests in
//! ("could you add", "feature request", "please") are left out first, so two ways of
//! asking for the same thing meet and two things asked the same way do not.

use super::{FeatureRequest, NewRequest, ProductError, RequestStatus, RequestsFilter, Source};
use crate::capabilities::Hands;
use crate::capabilities::crm::{Books, actions::named};
use crate::memory::embed::HashEmbedder;
use crate::memory::text;
use crate::model::bare_address;
use crate::store::Page;
use chrono::Utc;
use std::sync::OnceLock;

/// Requests at least this similar are taken for the same one.
pub(super) const SAME_REQUEST: f32 = 0.42;

/// Words that say a request is being made rather than what it is for.
const ASKING: &[&str] = &[
    "ability",
    "able",
    "add",
    "adding",
    "allow",
    "asap",
    "could",
    "customers",
    "dear",
    "feature",
    "features",
    "great",
    "hello",
    "hi",
    "idea",
    "kind",
    "like",
    "love",
    "need",
    "nice",
    "option",
    "please",
    "regards",
    "request",
    "requesting",
    "requests",
    "roadmap",
    "suggest",
    "suggestion",
    "support",
    "team",
    "thank",
    "thanks",
    "use",
    "users",
    "want",
    "way",
    "wish",
    "wonder",
    "wondering",
    "would",
];

fn embedder() -> &'static HashEmbedder {
    static E: OnceLock<HashEmbedder> = OnceLock::new();
    E.get_or_init(|| HashEmbedder::new(512))
}

/// What a request is about: its words without the asking.
fn gist(s: &str) -> String {
    text::terms(s)
        .filter(|t| !text::is_stopword(t) && ASKING.binary_search(&t.as_str()).is_err())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How alike two requests are, 0 (nothing shared) to 1 (the same words).
pub fn similarity(a: &str, b: &str) -> f32 {
    let (a, b) = (gist(a), gist(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (va, vb) = (embedder().vector(&a), embedder().vector(&b));
    va.iter().zip(&vb).map(|(x, y)| x * y).sum()
}

/// A request to file, from whichever channel it came by.
#[derive(Debug, Clone)]
pub struct Filing {
    /// What was asked.
    pub request: NewRequest,
    /// The channel.
    pub source: Source,
    /// The action or call filing it: filing again under it answers what was filed.
    pub key: String,
}

/// What filing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Filed {
    /// A new request went into the backlog.
    New(FeatureRequest),
    /// It repeats an open request, which it voted for (`counted` is false when the
    /// requester had voted for it already).
    Vote {
        /// The request it repeats.
        request: FeatureRequest,
        /// Whether a vote was added.
        counted: bool,
    },
}

impl Filed {
    /// The request filed or voted for.
    pub fn request(&self) -> &FeatureRequest {
        match self {
            Filed::New(r) | Filed::Vote { request: r, .. } => r,
        }
    }

    /// What happened, as the requester is told it.
    pub fn told(&self) -> String {
        match self {
            Filed::New(r) => format!(
                "I have filed it in our product backlog as a new request, \"{}\" (#{}). It will be weighed at the next roadmap review, and I will let you know when its status changes.",
                r.title,
                short_id(&r.id)
            ),
            Filed::Vote { request: r, .. } => format!(
                "Others have asked for this too: I have added your vote to the request \"{}\" (#{}), which now has {} vote{} and {}. I will let you know when its status changes.",
                r.title,
                short_id(&r.id),
                r.votes,
                if r.votes == 1 { "" } else { "s" },
                r.status.told()
            ),
        }
    }
}

/// The end of an id, enough to name a request in a message.
pub(super) fn short_id(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

/// Files `f`: a vote for the open request most like it, when one is like enough, else a
/// new request (its account found from the requester's address in the CRM). Filing
/// again under the same key answers what was filed then.
pub async fn file(hands: &Hands, f: Filing) -> Result<Filed, ProductError> {
    let problems = f.request.problems();
    if !problems.is_empty() {
        return Err(ProductError::Invalid(problems));
    }
    let (store, tenant) = (&hands.store, &hands.tenant);
    if let Some((r, new)) = store.feature_request_filed(tenant, &f.key).await? {
        return Ok(if new {
            Filed::New(r)
        } else {
            Filed::Vote {
                request: r,
                counted: true,
            }
        });
    }
    let req = &f.request;
    let said = format!("{}\n{}", req.title, req.description);
    let voter = req
        .requester
        .as_deref()
        .map(|r| bare_address(r).trim().to_lowercase());
    let open = store
        .feature_requests(tenant, &RequestsFilter::default(), Page::ALL)
        .await?;
    let best = open
        .into_iter()
        .filter(|r| r.status.open())
        .map(|r| {
            // A hypothesis from usage is about one feature, named in its title: it
            // meets only the same hypothesis, and never a customer's request.
            let s = if f.source == Source::Usage || r.source == Source::Usage {
                if f.source == r.source && r.title == req.title.trim() {
                    1.0
                } else {
                    0.0
                }
            } else {
                similarity(&said, &format!("{}\n{}", r.title, r.description))
                    .max(similarity(&req.title, &r.title))
            };
            (s, r)
        })
        .filter(|(s, _)| *s >= SAME_REQUEST)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let now = Utc::now();
    if let Some((_, r)) = best {
        let who = voter
            .clone()
            .unwrap_or_else(|| format!("anonymous:{}", f.key));
        let counted = store
            .add_feature_vote(tenant, &r.id, &who, f.source, &f.key, now)
            .await?;
        let mut request = store
            .feature_request(tenant, &r.id)
            .await?
            .ok_or_else(|| ProductError::NotFound(format!("feature request {} vanished", r.id)))?;
        // Reach is the votes until it is set: a vote moves the score.
        if request.rice() != request.score {
            request.score = request.rice();
            store.update_feature_request(tenant, &request).await?;
        }
        return Ok(Filed::Vote { request, counted });
    }
    let account = match &req.requester {
        Some(r) if crate::model::is_address(bare_address(r)) => named(&Books::of(hands), r)
            .await
            .ok()
            .and_then(|(a, _)| a)
            .map(|a| a.id),
        _ => None,
    };
    let mut new = FeatureRequest {
        id: uuid::Uuid::now_v7().to_string(),
        title: req.title.trim().to_string(),
        description: req.description.trim().to_string(),
        requester: req.requester.as_ref().map(|r| r.trim().to_string()),
        account,
        votes: 0,
        voters: voter.into_iter().collect(),
        reach: None,
        impact: None,
        confidence: None,
        effort: None,
        score: None,
        status: RequestStatus::New,
        source: f.source,
        roadmap_rank: None,
        roadmap_status: None,
        created_at: now,
        updated_at: now,
    };
    new.votes = new.voters.len() as i64;
    Ok(Filed::New(
        store.insert_feature_request(tenant, &new, &f.key).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_words_are_sorted_so_they_can_be_searched() {
        assert!(ASKING.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn two_ways_of_asking_for_the_same_thing_meet() {
        let a =
            "Could you add CSV export for reports? We need to get our monthly reports into Excel.";
        let b = "Feature request: exporting reports as CSV files";
        let other = "It would be great if the mobile app had a dark mode";
        let same = similarity(a, b);
        let apart = similarity(a, other).max(similarity(b, other));
        assert!(same >= SAME_REQUEST, "same thing: {same}");
        assert!(apart < SAME_REQUEST, "different things: {apart}");
    }

    #[test]
    fn a_request_of_nothing_but_asking_matches_nothing() {
        assert_eq!(
            similarity("please add this feature", "please add this feature"),
            0.0
        );
    }
}
