//! Search: the web through a SearXNG instance's JSON API when `[research] search_url`
//! names one; otherwise the CRM, shared knowledge and the employee's memory, and the
//! answer says that is all it searched.

use super::ResearchError;
use super::fetch::Reader;
use serde::{Deserialize, Serialize};

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Title.
    pub title: String,
    /// Where it is: a web address, or `crm:account/<id>`, `memory:<kind>/<id>`.
    pub url: String,
    /// What it says, in a line or two.
    pub snippet: String,
}

/// SearXNG's answer, the parts read.
#[derive(Debug, Deserialize)]
struct SearxAnswer {
    #[serde(default)]
    results: Vec<SearxResult>,
}

#[derive(Debug, Deserialize)]
struct SearxResult {
    #[serde(default)]
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content: String,
}

/// Up to `count` web results for `q` from the SearXNG instance at `base`.
pub async fn searx(
    reader: &Reader,
    base: &str,
    q: &str,
    count: usize,
) -> Result<Vec<Hit>, ResearchError> {
    let url = format!("{}/search", base.trim_end_matches('/'));
    let resp = reader
        .http()
        .get(&url)
        .query(&[("q", q), ("format", "json")])
        .send()
        .await
        .map_err(|e| {
            ResearchError::Unreachable(format!(
                "the search provider at {base} could not be reached: {e}"
            ))
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(ResearchError::Unreachable(format!(
            "the search provider at {base} answered {status}{}",
            if status.as_u16() == 403 {
                " (SearXNG answers 403 when `json` is not among its `search.formats`)"
            } else {
                ""
            }
        )));
    }
    let answer: SearxAnswer = resp.json().await.map_err(|e| {
        ResearchError::Unreachable(format!(
            "the search provider at {base} answered with something other than SearXNG's JSON: {e}"
        ))
    })?;
    Ok(answer
        .results
        .into_iter()
        .filter(|r| !r.url.is_empty())
        .take(count)
        .map(|r| Hit {
            title: if r.title.is_empty() {
                r.url.clone()
            } else {
                r.title
            },
            url: r.url,
            snippet: r.content,
        })
        .collect())
}
