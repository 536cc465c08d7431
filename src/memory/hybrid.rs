//! Hybrid retrieval (seed 5.2, "agentic RAG" without a language model): the people the
//! query names are resolved among the employee's correspondents (`people.rs`), the
//! query's entities are looked up in the knowledge graph, their neighbours expand the
//! full-text and vector queries, and the four ranked lists are fused by reciprocal
//! rank, each result saying which lists found it.

use super::people::Correspondents;
use super::recall::{Filters, Hit, Item, Match, Recall, Source, Viewer, item, rank_text};
use super::text::{self, Query};
use crate::model::TenantId;
use crate::store::{Store, StoreError};
use std::collections::HashMap;

/// Candidates each source contributes to a hybrid answer.
const PER_SOURCE: usize = 50;
/// Reciprocal-rank fusion constant.
const RRF_K: f64 = 60.0;

impl Store {
    /// Hybrid retrieval. The people the query names are looked for among those the
    /// employee has corresponded with: their correspondence with it is a list of its
    /// own, and the graph is entered by their full names. The graph goes next: the
    /// facts around the entities the query names give their neighbours (the account's
    /// CSM, the person's company), which expand the full-text and vector queries. Then
    /// four ranked lists — full text, vectors, the graph's own (the facts, then
    /// memories naming a neighbour and a keyword) and the people's — are fused by
    /// reciprocal rank.
    pub(super) async fn hybrid(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        r: &Recall,
        q: &Query,
    ) -> Result<Vec<Item>, StoreError> {
        let started = std::time::Instant::now();
        let people = self.correspondents(tenant, viewer, f, q).await?;
        let (by_graph, neighbours) = self.graph_hits(tenant, viewer, f, q, &people).await?;
        let graph_took = started.elapsed();
        let mut terms = q.keywords.clone();
        for n in &neighbours {
            for t in n.split(' ') {
                if !text::is_stopword(t) && !terms.iter().any(|k| k == t) {
                    terms.push(t.to_string());
                }
            }
        }
        let by_text: Vec<Hit> = self
            .ranked_text(tenant, viewer, f, &terms)
            .await?
            .into_iter()
            .take(PER_SOURCE)
            .map(|(h, _)| h)
            .collect();
        let text_took = started.elapsed() - graph_took;
        let expanded = if neighbours.is_empty() {
            r.q.clone()
        } else {
            format!("{} {}", r.q, neighbours.join(" "))
        };
        let by_vector: Vec<Hit> = self
            .vector_hits(tenant, viewer, f, &expanded, PER_SOURCE)
            .await?
            .into_iter()
            .map(|(h, _)| h)
            .collect();
        tracing::debug!(?graph_took, ?text_took, vector_took = ?(started.elapsed() - graph_took - text_took),
            neighbours = neighbours.len(), terms = terms.len(), people = people.hits.len(), "hybrid recall");
        let mut by_people = people.hits;
        by_people.truncate(PER_SOURCE);
        let mut fused: HashMap<(String, String), (Hit, f64, Vec<Source>)> = HashMap::new();
        for (source, list) in [
            (Source::Text, by_text),
            (Source::Vector, by_vector),
            (Source::Graph, by_graph),
            (Source::People, by_people),
        ] {
            for (rank, hit) in list.into_iter().enumerate() {
                let key = (hit.kind.clone(), hit.id.clone());
                let e = fused.entry(key).or_insert_with(|| (hit, 0.0, Vec::new()));
                e.1 += 1.0 / (RRF_K + rank as f64 + 1.0);
                if !e.2.contains(&source) {
                    e.2.push(source);
                }
            }
        }
        let mut items: Vec<Item> = fused
            .into_values()
            .map(|(h, score, sources)| item(h, score, &sources))
            .collect();
        sort_items(&mut items);
        Ok(items)
    }

    /// The graph's list (the facts about the entities the query names and their
    /// neighbours, then memories that name a neighbour and a keyword) and the
    /// neighbours' names.
    async fn graph_hits(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        q: &Query,
        people: &Correspondents,
    ) -> Result<(Vec<Hit>, Vec<String>), StoreError> {
        let seeds = people.graph_seeds(q);
        let facts = self.graph_around(tenant, viewer, &seeds, 2).await?;
        let mut neighbours: Vec<String> = Vec::new();
        for fact in &facts {
            for key in [&fact.subject_key, &fact.object_key] {
                let named = seeds
                    .iter()
                    .any(|s| key == s || key.starts_with(&format!("{s} ")));
                if !named && !key.is_empty() && !neighbours.contains(key) {
                    neighbours.push(key.clone());
                }
            }
        }
        neighbours.truncate(16);
        let mut hits: Vec<Hit> = if f.with.is_some() {
            Vec::new()
        } else {
            facts.iter().take(PER_SOURCE).map(|f| f.as_hit()).collect()
        };
        if !neighbours.is_empty() {
            let found = self
                .text_hits(
                    tenant,
                    viewer,
                    f,
                    Match::PhrasesAndAny(&neighbours, &q.keywords),
                )
                .await?;
            let mut terms = q.keywords.clone();
            terms.extend(
                neighbours
                    .iter()
                    .flat_map(|p| p.split(' ').map(String::from)),
            );
            hits.extend(rank_text(found, &terms).into_iter().map(|(h, _)| h));
        }
        hits.truncate(PER_SOURCE);
        Ok((hits, neighbours))
    }
}

fn sort_items(items: &mut [Item]) {
    items.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.at.cmp(&a.at))
            .then(a.id.cmp(&b.id))
    });
}
