//! The people a question names, among those the employee has corresponded with.
//!
//! "What did Sarah ask about pricing?" asks about the Sarah who wrote to the employee,
//! not any Sarah its shared documents mention. A name in the query — a capitalised
//! word or run, a quoted phrase, an address, or a keyword — that names a participant of
//! the employee's own episodes (by address, whole name or one word of the name, as
//! `with` does) resolves to those people. Hybrid recall then ranks their
//! correspondence with the employee as a list of its own, and enters the knowledge
//! graph by their full names instead of the bare first name, which would also match a
//! namesake ("Sarah Kim"). A name that matches no correspondent changes nothing.
//!
//! It only reads the employee's own episodes, within the query's time filters: it never
//! widens what a viewer sees.

use super::recall::{Filters, Hit, Viewer, WINDOW, episode_filters, rank_text};
use super::text::{self, Query};
use crate::model::TenantId;
use crate::store::{Store, StoreError, StoreKind, with_pool};
use std::collections::HashSet;

/// Names of a query tried as people, the query's names first, then its keywords: each
/// is one indexed lookup.
const NAMES_TRIED: usize = 6;

/// What the people a query names give recall.
#[derive(Debug, Default)]
pub(super) struct Correspondents {
    /// The query's names that named correspondents, as person keys ("sarah").
    named: Vec<String>,
    /// Those correspondents' full names ("sarah chen").
    names: Vec<String>,
    /// Their episodes with the employee, best first: by the query's other keywords,
    /// then newest.
    pub(super) hits: Vec<Hit>,
}

impl Correspondents {
    /// Where the knowledge graph is entered for `q`: the names it mentions and its
    /// keywords, except that a name resolved to correspondents enters by their full
    /// names (the bare "sarah" would also reach every other Sarah in the graph).
    pub(super) fn graph_seeds(&self, q: &Query) -> Vec<String> {
        let resolved: HashSet<&str> = self
            .named
            .iter()
            .filter(|k| !k.contains('@') && !self.names.is_empty())
            .flat_map(|k| std::iter::once(k.as_str()).chain(k.split(' ')))
            .collect();
        let mut seeds: Vec<String> = Vec::new();
        for s in q.entities.iter().chain(&q.keywords).chain(&self.names) {
            let resolved_away = resolved.contains(s.as_str()) && !self.names.contains(s);
            if !resolved_away && !seeds.contains(s) {
                seeds.push(s.clone());
            }
        }
        seeds
    }
}

/// An episode with its payload, whose participants are checked.
#[derive(sqlx::FromRow)]
struct PayloadHit {
    #[sqlx(flatten)]
    hit: Hit,
    payload: String,
}

/// The employee's episodes whose participants' terms match `$1`, newest first.
const SQLITE_INVOLVING: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at, e.payload FROM episodes_fts CROSS JOIN episodes e ON e.seq = episodes_fts.rowid \
     WHERE episodes_fts MATCH $1 AND ",
    episode_filters!(sqlite),
    " ORDER BY episodes_fts.rowid DESC LIMIT $7"
);
const PG_INVOLVING: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at, e.payload FROM episodes e WHERE e.terms @@ to_tsquery('simple', $1) AND ",
    episode_filters!(postgres),
    " ORDER BY e.seq DESC LIMIT $7"
);

impl Store {
    /// The correspondents `q` names and their episodes with the viewer. None when
    /// recall is already kept to one person (`with`).
    pub(super) async fn correspondents(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        q: &Query,
    ) -> Result<Correspondents, StoreError> {
        let mut c = Correspondents::default();
        if f.with.is_some() {
            return Ok(c);
        }
        let mut tried: Vec<String> = Vec::new();
        for name in q.entities.iter().chain(&q.keywords) {
            let key = text::person_key(name);
            // A word of a name or address already tried is not tried on its own.
            if key.is_empty() || tried.iter().any(|t| text::terms(t).any(|w| w == key)) {
                continue;
            }
            if tried.len() == NAMES_TRIED {
                break;
            }
            tried.push(key);
        }
        let mut found: Vec<Hit> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for key in tried {
            let Some(who) = Filters::who(&key, self.kind()) else {
                continue;
            };
            let sql = match self.kind() {
                StoreKind::Sqlite => SQLITE_INVOLVING,
                StoreKind::Postgres => PG_INVOLVING,
            };
            let rows: Vec<PayloadHit> = with_pool!(self, read, |pool| {
                sqlx::query_as(sql)
                    .bind(&who)
                    .bind(tenant.as_str())
                    .bind(viewer.employee.to_string())
                    .bind(f.from)
                    .bind(f.to)
                    .bind(None::<String>)
                    .bind(WINDOW)
                    .fetch_all(pool)
                    .await?
            });
            let mut named = false;
            for row in rows {
                let Ok(payload) = serde_json::from_str::<serde_json::Value>(&row.payload) else {
                    continue;
                };
                // The terms may match without naming anyone ("acme" in an address).
                let people: Vec<text::Person> = text::people(&payload)
                    .into_iter()
                    .filter(|p| p.named_by(&key))
                    .collect();
                if people.is_empty() {
                    continue;
                }
                named = true;
                for p in people {
                    if !p.name.is_empty() && !c.names.contains(&p.name) {
                        c.names.push(p.name);
                    }
                }
                if seen.insert(row.hit.id.clone()) {
                    found.push(row.hit);
                }
            }
            if named {
                c.named.push(key);
            }
        }
        // Ranked by what else the query asks: its keywords other than the names.
        let naming: HashSet<String> = c.named.iter().flat_map(|k| text::terms(k)).collect();
        let terms: Vec<String> = q
            .keywords
            .iter()
            .filter(|k| !naming.contains(*k))
            .cloned()
            .collect();
        c.hits = rank_text(found, &terms)
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_resolved_to_correspondents_enters_the_graph_by_their_full_names() {
        let q = text::decompose("What did Sarah ask about Northwind pricing?");
        let c = Correspondents {
            named: vec!["sarah".into()],
            names: vec!["sarah chen".into()],
            hits: Vec::new(),
        };
        assert_eq!(
            c.graph_seeds(&q),
            ["northwind", "ask", "pricing", "sarah chen"]
        );
        // Nobody resolved: the query's own names and keywords.
        let none = Correspondents::default();
        assert_eq!(
            none.graph_seeds(&q),
            ["sarah", "northwind", "ask", "pricing"]
        );
        // Resolved by address: the address's words stay (they may name the company).
        let q = text::decompose("what did sarah@acme.com ask?");
        let by_address = Correspondents {
            named: vec!["sarah@acme.com".into()],
            names: vec!["sarah chen".into()],
            hits: Vec::new(),
        };
        let seeds = by_address.graph_seeds(&q);
        assert!(seeds.contains(&"acme".to_string()), "{seeds:?}");
        assert!(seeds.contains(&"sarah chen".to_string()), "{seeds:?}");
    }
}
