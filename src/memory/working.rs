//! Working memory: the bounded context an employee works with — its active tasks, its
//! latest interactions and what it recalled lately — kept within a token budget. It is
//! what a language-model call or a plan condition is given; everything else stays in
//! long-term memory until recalled.
//!
//! Tokens are counted the way BPE tokenizers of the cl100k family split text: words
//! with their leading space, digits in groups of up to three, each run of punctuation,
//! and words longer than ten letters in pieces of five. It matches the real count on
//! plain English prose, errs high on rare long words (safe for a budget), and needs no
//! vocabulary file.

use serde::Serialize;
use std::collections::VecDeque;

/// Latest interactions kept at most (the budget usually binds first).
const MAX_RECENT: usize = 50;
/// Recalls cached at most.
const MAX_RETRIEVALS: usize = 8;

/// Estimated tokens of `text` for a cl100k-style tokenizer.
pub fn tokens(text: &str) -> usize {
    let mut n = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphabetic() {
            let mut len: usize = 1;
            while chars.peek().is_some_and(|c| c.is_alphabetic()) {
                chars.next();
                len += 1;
            }
            // Words up to ten letters are mostly one token; longer ones split.
            n += if len <= 10 { 1 } else { len.div_ceil(5) };
        } else if c.is_numeric() {
            let mut len: usize = 1;
            while chars.peek().is_some_and(|c| c.is_numeric()) {
                chars.next();
                len += 1;
            }
            n += len.div_ceil(3);
        } else if c.is_whitespace() {
            // A space joins the next word's token; runs of whitespace count once.
            let mut newline = c == '\n';
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                newline |= chars.next() == Some('\n');
            }
            if newline {
                n += 1;
            }
        } else {
            n += 1;
            // Runs of the same punctuation ("...", "--") usually merge.
            while chars.peek() == Some(&c) {
                chars.next();
            }
        }
    }
    n
}

/// One thing held in working memory.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// Its text.
    pub text: String,
    /// Its estimated tokens.
    pub tokens: usize,
}

impl Entry {
    fn new(text: String) -> Self {
        Entry {
            tokens: tokens(&text),
            text,
        }
    }
}

/// A cached recall.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Retrieval {
    /// The query.
    pub query: String,
    /// What it found, best first.
    pub items: Vec<Entry>,
    /// Tokens of the query and items.
    pub tokens: usize,
}

/// An employee's working memory.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkingMemory {
    /// Token budget.
    pub budget: usize,
    /// Tokens held.
    pub tokens: usize,
    /// Active tasks (intentions), always kept.
    pub tasks: Vec<Entry>,
    /// Latest interactions, newest first.
    #[schema(value_type = Vec<Entry>)]
    pub recent: VecDeque<Entry>,
    /// Cached recalls, most recently used first.
    #[schema(value_type = Vec<Retrieval>)]
    pub retrieved: VecDeque<Retrieval>,
    /// Active intentions by id (plan and goal), from the episodes observed.
    #[serde(skip)]
    #[schema(ignore)]
    intentions: std::collections::BTreeMap<u64, String>,
}

/// Longest text of one interaction kept.
const INTERACTION_CHARS: usize = 600;

impl WorkingMemory {
    /// An empty working memory of `budget` tokens.
    pub fn new(budget: usize) -> Self {
        WorkingMemory {
            budget,
            tokens: 0,
            tasks: Vec::new(),
            recent: VecDeque::new(),
            retrieved: VecDeque::new(),
            intentions: Default::default(),
        }
    }

    /// Updates from one cycle's episodes: an event is an interaction (the node's own
    /// `empla.*` events are not); adopting an intention adds a task, ending it removes it.
    pub fn observe(&mut self, episodes: &[crate::model::Episode]) {
        let mut tasks_changed = false;
        for e in episodes {
            let p = &e.payload;
            match (e.kind, p["decision"].as_str()) {
                (crate::model::EpisodeKind::Event, _) if !e.summary.starts_with("empla.") => {
                    let text = super::text::readable(&e.summary, p);
                    self.note(text.chars().take(INTERACTION_CHARS).collect());
                }
                (_, Some("adopt")) => {
                    if let Some(id) = p["intention"].as_u64() {
                        let plan = p["plan"].as_str().unwrap_or_default();
                        let task = match p["goal"].as_str() {
                            Some(g) => format!("{plan} (for {g})"),
                            None => plan.to_string(),
                        };
                        self.intentions.insert(id, task);
                        tasks_changed = true;
                    }
                }
                (_, Some("complete" | "fail" | "proposed" | "drop")) => {
                    if let Some(id) = p["intention"].as_u64() {
                        tasks_changed |= self.intentions.remove(&id).is_some();
                    }
                }
                _ => {}
            }
        }
        if tasks_changed {
            let tasks: Vec<String> = self.intentions.values().cloned().collect();
            self.set_tasks(tasks);
        }
    }

    /// What a plan condition sees as `memory`: `{tasks, recent, retrieved: [{query,
    /// items}], tokens, budget}`, texts only.
    pub fn view(&self) -> serde_json::Value {
        let texts = |e: &[Entry]| e.iter().map(|e| e.text.clone()).collect::<Vec<_>>();
        serde_json::json!({
            "tasks": texts(&self.tasks),
            "recent": self.recent.iter().map(|e| e.text.clone()).collect::<Vec<_>>(),
            "retrieved": self.retrieved.iter().map(|r| serde_json::json!({"query": r.query, "items": texts(&r.items)})).collect::<Vec<_>>(),
            "tokens": self.tokens,
            "budget": self.budget,
        })
    }

    /// Sets the active tasks.
    pub fn set_tasks(&mut self, tasks: impl IntoIterator<Item = String>) {
        self.tasks = tasks.into_iter().map(Entry::new).collect();
        self.fit();
    }

    /// Notes an interaction (newest first).
    pub fn note(&mut self, text: String) {
        self.recent.push_front(Entry::new(text));
        self.recent.truncate(MAX_RECENT);
        self.fit();
    }

    /// Caches a recall's results, or marks an earlier one for the same query as just
    /// used.
    pub fn retrieved(&mut self, query: &str, items: impl IntoIterator<Item = String>) {
        if let Some(i) = self.retrieved.iter().position(|r| r.query == query) {
            self.retrieved.remove(i);
        }
        let items: Vec<Entry> = items.into_iter().map(Entry::new).collect();
        let tokens = tokens(query) + items.iter().map(|e| e.tokens).sum::<usize>();
        self.retrieved.push_front(Retrieval {
            query: query.to_string(),
            items,
            tokens,
        });
        self.retrieved.truncate(MAX_RETRIEVALS);
        self.fit();
    }

    /// A cached recall for `query`, marked as just used.
    pub fn cached(&mut self, query: &str) -> Option<&Retrieval> {
        let i = self.retrieved.iter().position(|r| r.query == query)?;
        let r = self.retrieved.remove(i)?;
        self.retrieved.push_front(r);
        self.retrieved.front()
    }

    /// Forgets a person (`empla forget`): the interactions and recalled items that
    /// mention them, the recalls asked about them, and the tasks of the intentions
    /// `ended` with them. Answers how many entries went (a recall with its items as
    /// one).
    pub fn forget(
        &mut self,
        person: &crate::model::Person,
        ended: &std::collections::BTreeSet<u64>,
    ) -> usize {
        let before = self.recent.len() + self.retrieved.len() + self.intentions.len();
        self.recent.retain(|e| !person.mentions(&e.text));
        self.retrieved.retain(|r| !person.mentions(&r.query));
        self.intentions.retain(|id, _| !ended.contains(id));
        let mut gone = before - (self.recent.len() + self.retrieved.len() + self.intentions.len());
        for r in &mut self.retrieved {
            let items = r.items.len();
            r.items.retain(|e| !person.mentions(&e.text));
            r.tokens = tokens(&r.query) + r.items.iter().map(|e| e.tokens).sum::<usize>();
            gone += items - r.items.len();
        }
        let tasks: Vec<String> = self.intentions.values().cloned().collect();
        self.set_tasks(tasks);
        gone
    }

    fn total(&self) -> usize {
        self.tasks.iter().map(|e| e.tokens).sum::<usize>()
            + self.recent.iter().map(|e| e.tokens).sum::<usize>()
            + self.retrieved.iter().map(|r| r.tokens).sum::<usize>()
    }

    /// Evicts until within budget: the least recently used recall first, then the
    /// oldest interaction, then the last recall. Tasks and the newest interaction are
    /// always kept.
    fn fit(&mut self) {
        loop {
            self.tokens = self.total();
            if self.tokens <= self.budget {
                return;
            }
            if self.retrieved.len() > 1 {
                self.retrieved.pop_back();
            } else if self.recent.len() > 1 {
                self.recent.pop_back();
            } else if self.retrieved.pop_back().is_none() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_a_person_drops_what_mentions_them() {
        let mut w = WorkingMemory::new(1000);
        w.note("email.received · Sarah Chen <sarah@acme.com> · Quote?".into());
        w.note("chat.message · Raj Patel · Hello".into());
        w.retrieved("what did sarah chen ask", ["Quote?".to_string()]);
        w.retrieved(
            "renewals",
            [
                "Sarah Chen renews in May".to_string(),
                "Raj renews in June".to_string(),
            ],
        );
        let sarah = crate::model::Person::parse("Sarah Chen <sarah@acme.com>");
        assert_eq!(w.forget(&sarah, &Default::default()), 3);
        assert_eq!(w.recent.len(), 1);
        assert_eq!(w.retrieved.len(), 1);
        assert_eq!(w.retrieved[0].items.len(), 1);
        assert_eq!(w.tokens, w.total());
        assert!(!serde_json::to_string(&w).unwrap().contains("Sarah"));
    }

    #[test]
    fn token_estimates_match_cl100k_on_plain_text() {
        // Counts from the cl100k_base tokenizer.
        assert_eq!(tokens("hello world"), 2);
        assert_eq!(tokens("The quick brown fox jumps over the lazy dog."), 10);
        assert_eq!(tokens("Can we get volume pricing for 200 seats?"), 9);
        assert_eq!(tokens("1234567"), 3);
        assert_eq!(tokens(""), 0);
        assert!(tokens("internationalization") >= 2);
    }

    #[test]
    fn the_budget_evicts_old_interactions_and_least_recently_used_recalls() {
        let mut w = WorkingMemory::new(60);
        w.set_tasks(["reply to Sarah about pricing".to_string()]);
        for i in 0..10 {
            w.note(format!(
                "mail {i}: the customer asks about the renewal date"
            ));
        }
        assert!(w.tokens <= 60, "{}", w.tokens);
        assert_eq!(w.tasks.len(), 1);
        assert!(
            w.recent.front().unwrap().text.starts_with("mail 9"),
            "newest kept"
        );
        assert!(w.recent.len() < 10, "oldest evicted");
        // Room for three recalls, not four: the least recently used goes.
        w.budget = 1000;
        w.recent.truncate(1);
        w.retrieved(
            "pricing",
            ["Volume pricing starts at 100 seats".to_string()],
        );
        w.retrieved("renewal", ["Renewal is due in March".to_string()]);
        assert!(w.cached("pricing").is_some());
        w.retrieved("outage", ["Dashboards were down".to_string()]);
        let renewal = w
            .retrieved
            .iter()
            .find(|r| r.query == "renewal")
            .unwrap()
            .tokens;
        let churn = tokens("churn") + tokens("Churn risk is high at Contoso");
        w.budget = w.tokens - renewal + churn;
        w.retrieved("churn", ["Churn risk is high at Contoso".to_string()]);
        let kept: Vec<&str> = w.retrieved.iter().map(|r| r.query.as_str()).collect();
        assert_eq!(kept, ["churn", "outage", "pricing"]);
        assert!(w.tokens <= w.budget);
    }
}
