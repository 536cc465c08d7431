//! Semantic memory: a knowledge graph of subject–predicate–object facts with
//! confidence, source, time and visibility, kept in the store and traversed with
//! recursive queries (the same SQL on SQLite and PostgreSQL).

use super::recall::visible;
use crate::model::{EmployeeId, TenantId};
use crate::store::{Store, StoreError, with_pool};
use crate::store::{from_micros, to_micros};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who may see a fact or a piece of knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only the employee that holds it.
    Private,
    /// Its team.
    Team,
    /// Everyone in the company (tenant).
    Company,
}

impl Visibility {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Team => "team",
            Visibility::Company => "company",
        }
    }
}

/// A fact to store. Stating the same fact again (same subject, predicate, object and
/// holder) updates it rather than adding another.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFact {
    /// Subject, e.g. `Northwind Traders`.
    pub subject: String,
    /// Predicate, e.g. `has_csm`.
    pub predicate: String,
    /// Object, e.g. `Dana Whitfield`.
    pub object: String,
    /// How sure, 0..=1.
    pub confidence: f64,
    /// Where it comes from: a document, an episode, a person.
    pub source: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// The employee holding it (needed for private and team facts).
    pub owner: Option<EmployeeId>,
    /// The owner's team (for team facts).
    pub team: Option<String>,
    /// When it was learnt.
    pub at: DateTime<Utc>,
}

/// A stored fact, as recall and the facts endpoint answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Fact {
    /// Fact id.
    pub id: String,
    /// Subject.
    pub subject: String,
    /// Predicate.
    pub predicate: String,
    /// Object.
    pub object: String,
    /// How sure, 0..=1.
    pub confidence: f64,
    /// Where it comes from.
    pub source: String,
    /// `private`, `team` or `company`.
    pub visibility: String,
    /// Hops from the subject asked about (1: a fact about it).
    pub depth: i64,
    /// When it was learnt.
    #[sqlx(try_from = "i64")]
    #[schema(value_type = String)]
    pub at: Micros,
    #[serde(skip)]
    pub(crate) subject_key: String,
    #[serde(skip)]
    pub(crate) object_key: String,
}

/// A stored time, serialised as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Micros(pub DateTime<Utc>);

impl From<i64> for Micros {
    fn from(us: i64) -> Self {
        Micros(from_micros(us))
    }
}

impl Serialize for Micros {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DateTime::<Utc>::deserialize(d).map(Micros)
    }
}

impl Fact {
    /// The fact as one line of text.
    pub fn sentence(&self) -> String {
        format!(
            "{} {} {}",
            self.subject,
            self.predicate.replace('_', " "),
            self.object
        )
    }
}

/// The key a name is found by in the graph: its terms, lowercase, space-separated.
pub(crate) fn key(name: &str) -> String {
    super::text::term_string(name)
}

const SQLITE_PUT: &str = "INSERT INTO facts (tenant, id, subject, predicate, object, subject_key, object_key, confidence, source, visibility, owner, team, at) \
    SELECT value->>'tn', value->>'id', value->>'s', value->>'p', value->>'o', value->>'sk', value->>'ok', value->>'c', value->>'src', value->>'v', value->>'ow', value->>'tm', value->>'at' \
    FROM jsonb_each($1) WHERE true \
    ON CONFLICT (tenant, id) DO UPDATE SET confidence = max(facts.confidence, excluded.confidence), \
    source = excluded.source, at = max(facts.at, excluded.at), subject = excluded.subject, object = excluded.object";
const PG_PUT: &str = "INSERT INTO facts (tenant, id, subject, predicate, object, subject_key, object_key, confidence, source, visibility, owner, team, at) \
    SELECT x->>'tn', x->>'id', x->>'s', x->>'p', x->>'o', x->>'sk', x->>'ok', (x->>'c')::float8, x->>'src', x->>'v', x->>'ow', x->>'tm', (x->>'at')::bigint \
    FROM jsonb_array_elements($1::jsonb) AS a(x) \
    ON CONFLICT (tenant, id) DO UPDATE SET confidence = greatest(facts.confidence, excluded.confidence), \
    source = excluded.source, at = greatest(facts.at, excluded.at), subject = excluded.subject, object = excluded.object";

/// Walks the graph from the seed keys in `$2` (a JSON array; a seed also matches a
/// longer name it starts, "northwind" → "northwind traders") up to `$5` hops, over the
/// facts visible to employee `$3` of team `$4`.
macro_rules! walk {
    ($seeds:literal) => {
        concat!(
            "WITH RECURSIVE names(key) AS MATERIALIZED (SELECT subject_key FROM facts WHERE tenant = $1 AND ",
            visible!("$3", "$4"),
            " UNION SELECT object_key FROM facts WHERE tenant = $1 AND ",
            visible!("$3", "$4"),
            "), walk(node, depth) AS MATERIALIZED (SELECT n.key, 0 FROM ",
            $seeds,
            " JOIN names n ON n.key = s.value OR n.key LIKE s.value || ' %' \
             UNION SELECT CASE WHEN f.subject_key = w.node THEN f.object_key ELSE f.subject_key END, w.depth + 1 \
             FROM walk w JOIN facts f ON f.tenant = $1 AND (f.subject_key = w.node OR f.object_key = w.node) AND ",
            visible!("$3", "$4"),
            " WHERE w.depth + 1 < $5), \
             touching(seq, depth) AS (SELECT f.seq, w.depth FROM walk w JOIN facts f ON f.tenant = $1 AND f.subject_key = w.node \
             UNION ALL SELECT f.seq, w.depth FROM walk w JOIN facts f ON f.tenant = $1 AND f.object_key = w.node) \
             SELECT f.id, f.subject, f.predicate, f.object, f.confidence, f.source, f.visibility, f.at, f.subject_key, f.object_key, \
             CAST(MIN(t.depth) + 1 AS BIGINT) AS depth FROM touching t JOIN facts f ON f.seq = t.seq WHERE ",
            visible!("$3", "$4"),
            " GROUP BY f.id, f.subject, f.predicate, f.object, f.confidence, f.source, f.visibility, f.at, f.subject_key, f.object_key \
             ORDER BY depth, f.confidence DESC, f.at DESC, f.id LIMIT $6 OFFSET $7"
        )
    };
}
const SQLITE_WALK: &str = walk!("json_each($2) s");
const PG_WALK: &str = walk!("jsonb_array_elements_text($2::jsonb) AS s(value)");
const ALL_FACTS: &str = concat!(
    "SELECT id, subject, predicate, object, confidence, source, visibility, at, subject_key, object_key, CAST(1 AS BIGINT) AS depth \
     FROM facts WHERE tenant = $1 AND CAST($2 AS TEXT) IS NULL AND ",
    visible!("$3", "$4"),
    " ORDER BY at DESC, id LIMIT $6 OFFSET $7"
);

impl Store {
    /// Stores `facts` (updating any stated before).
    pub async fn put_facts(&self, tenant: &TenantId, facts: &[NewFact]) -> Result<(), StoreError> {
        if facts.is_empty() {
            return Ok(());
        }
        let rows: Vec<serde_json::Value> = facts
            .iter()
            .map(|f| {
                let (sk, ok) = (key(&f.subject), key(&f.object));
                let holder = match f.visibility {
                    Visibility::Company => String::new(),
                    _ => f.owner.map(|o| o.to_string()).unwrap_or_default(),
                };
                let id = uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_OID,
                    format!("{tenant}\u{1f}{sk}\u{1f}{}\u{1f}{ok}\u{1f}{}\u{1f}{holder}", f.predicate, f.visibility.as_str()).as_bytes(),
                );
                serde_json::json!({
                    "tn": tenant.as_str(), "id": id.to_string(), "s": f.subject, "p": f.predicate, "o": f.object,
                    "sk": sk, "ok": ok, "c": f.confidence.clamp(0.0, 1.0), "src": f.source,
                    "v": f.visibility.as_str(), "ow": f.owner.map(|o| o.to_string()),
                    "tm": f.team, "at": to_micros(f.at),
                })
            })
            .collect();
        let sql = match self.kind() {
            crate::store::StoreKind::Sqlite => SQLITE_PUT,
            crate::store::StoreKind::Postgres => PG_PUT,
        };
        let body = serde_json::to_string(&rows).expect("facts serialise");
        with_pool!(self, write, |pool| {
            sqlx::query(sql).bind(body).execute(pool).await?;
        });
        Ok(())
    }

    /// The facts `viewer` may see within `depth` hops of the names in `seeds` (keys),
    /// nearest first; without seeds, every visible fact, newest first.
    pub async fn facts(
        &self,
        tenant: &TenantId,
        viewer: &super::Viewer,
        seeds: &[String],
        depth: usize,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Fact>, StoreError> {
        let sql = match (seeds.is_empty(), self.kind()) {
            (true, _) => ALL_FACTS,
            (false, crate::store::StoreKind::Sqlite) => SQLITE_WALK,
            (false, crate::store::StoreKind::Postgres) => PG_WALK,
        };
        let seeds_json =
            (!seeds.is_empty()).then(|| serde_json::to_string(seeds).expect("strings serialise"));
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_as(sql)
                .bind(tenant.as_str())
                .bind(seeds_json.as_deref())
                .bind(viewer.employee.to_string())
                .bind(&viewer.team)
                .bind(depth.clamp(1, 6) as i64)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The facts around `seeds`, for hybrid recall.
    pub(crate) async fn graph_around(
        &self,
        tenant: &TenantId,
        viewer: &super::Viewer,
        seeds: &[String],
        depth: usize,
    ) -> Result<Vec<Fact>, StoreError> {
        if seeds.is_empty() {
            return Ok(Vec::new());
        }
        self.facts(tenant, viewer, seeds, depth, 100, 0).await
    }
}

impl Fact {
    pub(crate) fn as_hit(&self) -> super::recall::Hit {
        super::recall::Hit {
            id: self.id.clone(),
            kind: "fact".into(),
            text: self.sentence(),
            at: to_micros(self.at.0),
        }
    }
}
