//! The backlog's records as the API takes and answers them: a feature request, the
//! shape that adds one, the patch that sets its RICE inputs or status, and what is wrong
//! with either (every problem at once, each naming its field).
//!
//! RICE (Intercom's scoring): reach (people a quarter; the request's votes until it is
//! set), impact (0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive), confidence
//! (between 0 and 1) and effort (person-months, above 0); the score is reach × impact ×
//! confidence ÷ effort, once impact, confidence and effort are set.

use super::ProductError;
use crate::model::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a request is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Filed, not yet decided.
    New,
    /// On the roadmap.
    Planned,
    /// Being built.
    InProgress,
    /// Shipped.
    Shipped,
    /// Will not be built.
    Declined,
}

impl RequestStatus {
    /// Every status, in its order on the way.
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::New,
        RequestStatus::Planned,
        RequestStatus::InProgress,
        RequestStatus::Shipped,
        RequestStatus::Declined,
    ];

    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::New => "new",
            RequestStatus::Planned => "planned",
            RequestStatus::InProgress => "in_progress",
            RequestStatus::Shipped => "shipped",
            RequestStatus::Declined => "declined",
        }
    }

    /// From its name; `in progress` and `in-progress` are taken too.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        let s = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Still to be decided or built (a new request like it becomes a vote).
    pub fn open(self) -> bool {
        !matches!(self, RequestStatus::Shipped | RequestStatus::Declined)
    }

    /// What the status means to the person who asked, in a sentence's end.
    pub fn told(self) -> &'static str {
        match self {
            RequestStatus::New => "is filed and waits for the next roadmap review",
            RequestStatus::Planned => "is now planned on the roadmap",
            RequestStatus::InProgress => "is being built",
            RequestStatus::Shipped => "has shipped",
            RequestStatus::Declined => "was declined for now",
        }
    }
}

/// The channel a request came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A mail to the PM.
    Mail,
    /// A chat message.
    Chat,
    /// A task given to the PM.
    Task,
    /// `POST /api/v1/product/requests` (or `empla product requests add`).
    Api,
    /// A hypothesis from feature usage (a drop-off or friction).
    Usage,
}

impl Source {
    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Mail => "mail",
            Source::Chat => "chat",
            Source::Task => "task",
            Source::Api => "api",
            Source::Usage => "usage",
        }
    }

    /// From its name (`email` is taken for mail).
    pub fn parse(s: &str) -> Option<Source> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mail" | "email" => Some(Source::Mail),
            "chat" => Some(Source::Chat),
            "task" => Some(Source::Task),
            "api" => Some(Source::Api),
            "usage" => Some(Source::Usage),
            _ => None,
        }
    }
}

/// A feature request in the backlog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeatureRequest {
    /// Its id.
    pub id: String,
    /// What is asked for, in a line.
    pub title: String,
    /// What the first requester wrote.
    pub description: String,
    /// Who asked first: a mail address or chat handle (none once forgotten).
    pub requester: Option<String>,
    /// The CRM account the requester's address belongs to (id).
    pub account: Option<String>,
    /// How many people asked.
    pub votes: i64,
    /// Who asked (addresses or handles, lower case), first first.
    pub voters: Vec<String>,
    /// RICE reach: people a quarter.
    pub reach: Option<f64>,
    /// RICE impact: 0.25, 0.5, 1, 2 or 3.
    pub impact: Option<f64>,
    /// RICE confidence: 0 to 1.
    pub confidence: Option<f64>,
    /// RICE effort: person-months.
    pub effort: Option<f64>,
    /// RICE score, once impact, confidence and effort are set.
    pub score: Option<f64>,
    /// Where it is on its way.
    pub status: RequestStatus,
    /// The channel it came by first.
    pub source: Source,
    /// Its rank at the last roadmap (1 is the top), if it was on it.
    pub roadmap_rank: Option<i64>,
    /// Its status at the last roadmap.
    pub roadmap_status: Option<RequestStatus>,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl FeatureRequest {
    /// Its RICE score from its inputs (reach is its votes until set), to two places.
    pub fn rice(&self) -> Option<f64> {
        let reach = self.reach.unwrap_or(self.votes as f64);
        let (impact, confidence, effort) = (self.impact?, self.confidence?, self.effort?);
        (effort > 0.0).then(|| (reach * impact * confidence / effort * 100.0).round() / 100.0)
    }
}

/// `POST /api/v1/product/requests`: a request to file (or to vote for, when an open
/// one says the same).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// What is asked for, in a line.
    pub title: String,
    /// More words on it.
    #[serde(default)]
    pub description: String,
    /// Who asked: a mail address or chat handle.
    #[serde(default)]
    pub requester: Option<String>,
}

/// Longest title kept, in characters.
pub(super) const MAX_TITLE: usize = 200;
/// Longest description kept, in characters.
pub(super) const MAX_DESCRIPTION: usize = 8000;

impl NewRequest {
    /// What is wrong with it.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.title.trim().is_empty() {
            e.push(FieldError::new(
                "title",
                "must say what is asked for, e.g. \"Export reports to CSV\"",
            ));
        } else if self.title.chars().count() > MAX_TITLE {
            e.push(FieldError::new(
                "title",
                format!("must be at most {MAX_TITLE} characters; put the rest in `description`"),
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION {
            e.push(FieldError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters"),
            ));
        }
        if let Some(r) = &self.requester
            && (r.trim().is_empty() || r.len() > 320 || r.contains(['\r', '\n']))
        {
            e.push(FieldError::new(
                "requester",
                "must be a mail address or chat handle on one line, or left out",
            ));
        }
        e
    }
}

/// `PATCH /api/v1/product/requests/{id}`: RICE inputs, status or title to set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPatch {
    /// A new title.
    #[serde(default)]
    pub title: Option<String>,
    /// RICE reach: people a quarter (0 or more).
    #[serde(default)]
    pub reach: Option<f64>,
    /// RICE impact: 0.25, 0.5, 1, 2 or 3.
    #[serde(default)]
    pub impact: Option<f64>,
    /// RICE confidence: 0 to 1.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// RICE effort: person-months (above 0).
    #[serde(default)]
    pub effort: Option<f64>,
    /// `new`, `planned`, `in_progress`, `shipped` or `declined`.
    #[serde(default)]
    pub status: Option<RequestStatus>,
}

/// The impacts RICE knows.
const IMPACTS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 3.0];

impl RequestPatch {
    /// `r` with the patch applied and its score worked out again, or every problem.
    pub fn apply(&self, mut r: FeatureRequest) -> Result<FeatureRequest, ProductError> {
        let mut e = Vec::new();
        if let Some(t) = &self.title {
            if t.trim().is_empty() || t.chars().count() > MAX_TITLE {
                e.push(FieldError::new(
                    "title",
                    format!("must be 1 to {MAX_TITLE} characters"),
                ));
            } else {
                r.title = t.trim().to_string();
            }
        }
        let mut check = |field: &str, v: Option<f64>, ok: fn(f64) -> bool, says: &str| match v {
            Some(x) if !x.is_finite() || !ok(x) => {
                e.push(FieldError::new(field, format!("{says}, got {x}")));
                None
            }
            other => other,
        };
        let reach = check(
            "reach",
            self.reach,
            |x| x >= 0.0,
            "must be 0 or more (people a quarter)",
        );
        let impact = check(
            "impact",
            self.impact,
            |x| IMPACTS.contains(&x),
            "must be 0.25 (minimal), 0.5 (low), 1 (medium), 2 (high) or 3 (massive)",
        );
        let confidence = check(
            "confidence",
            self.confidence,
            |x| (0.0..=1.0).contains(&x),
            "must be between 0 and 1, e.g. 0.8 for 80%",
        );
        let effort = check(
            "effort",
            self.effort,
            |x| x > 0.0,
            "must be above 0 (person-months, e.g. 0.5 for two weeks)",
        );
        if !e.is_empty() {
            return Err(ProductError::Invalid(e));
        }
        r.reach = reach.or(r.reach);
        r.impact = impact.or(r.impact);
        r.confidence = confidence.or(r.confidence);
        r.effort = effort.or(r.effort);
        if let Some(s) = self.status {
            r.status = s;
        }
        r.score = r.rice();
        r.updated_at = Utc::now();
        Ok(r)
    }

    /// Whether it sets nothing.
    pub fn is_empty(&self) -> bool {
        self == &RequestPatch::default()
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestsFilter {
    /// In this status.
    pub status: Option<RequestStatus>,
    /// Of this account (id).
    pub account: Option<String>,
    /// Come by this channel.
    pub source: Option<Source>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> FeatureRequest {
        FeatureRequest {
            id: "r".into(),
            title: "CSV export".into(),
            description: String::new(),
            requester: None,
            account: None,
            votes: 4,
            voters: vec![],
            reach: None,
            impact: None,
            confidence: None,
            effort: None,
            score: None,
            status: RequestStatus::New,
            source: Source::Api,
            roadmap_rank: None,
            roadmap_status: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn rice_takes_votes_as_reach_until_reach_is_set() {
        let p = RequestPatch {
            impact: Some(2.0),
            confidence: Some(0.5),
            effort: Some(2.0),
            ..Default::default()
        };
        let r = p.apply(request()).unwrap();
        assert_eq!(r.score, Some(2.0));
        let r = RequestPatch {
            reach: Some(300.0),
            ..Default::default()
        }
        .apply(r)
        .unwrap();
        assert_eq!(r.score, Some(150.0));
    }

    #[test]
    fn every_bad_rice_input_is_named_at_once() {
        let p = RequestPatch {
            reach: Some(-1.0),
            impact: Some(5.0),
            confidence: Some(80.0),
            effort: Some(0.0),
            ..Default::default()
        };
        let Err(ProductError::Invalid(e)) = p.apply(request()) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["reach", "impact", "confidence", "effort"]);
        assert!(e[2].message.contains("0.8 for 80%"), "{}", e[2].message);
    }

    #[test]
    fn status_names_are_read_loosely() {
        assert_eq!(
            RequestStatus::parse("In progress"),
            Some(RequestStatus::InProgress)
        );
        assert_eq!(
            RequestStatus::parse("shipped"),
            Some(RequestStatus::Shipped)
        );
        assert_eq!(RequestStatus::parse("done"), None);
    }
}
