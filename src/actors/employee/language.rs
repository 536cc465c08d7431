//! What an employee asks a language model for, built from its mind: the state a prompt
//! carries (goals and their figures, intentions, recent interactions), the text from
//! outside marked untrusted, and what the role lets go to a provider outside the node.
//! The model is asked when the action runs ([`crate::capabilities::language`]); what is
//! built here is stored with the action, so a crash changes nothing.

use crate::bdi::language::Share;
use crate::bdi::language::untrusted;
use crate::bdi::{Mind, Playbook, Situation};
use crate::memory::WorkingMemory;
use serde_json::{Value as Json, json};

/// How an employee may use the node's model.
pub(crate) struct Language {
    /// What its prompts may carry.
    pub(crate) share: Share,
}

/// Interactions from working memory a prompt carries.
const RECENT: usize = 6;

impl Language {
    /// For an employee of `playbook`'s role on a node with `llm`; none without a model.
    pub(crate) fn of(llm: &crate::llm::Llm, playbook: &Playbook) -> Option<Language> {
        if llm.is_offline() {
            return None;
        }
        // A model in this process sees everything; one outside only what the role shares.
        let outside = llm.outside();
        let shared = |k: &str| !outside || playbook.share.iter().any(|s| s == k);
        Some(Language {
            share: Share {
                memories: shared("memories"),
                crm: shared("crm"),
            },
        })
    }

    /// What to ask for a chat answer to `question` from `who`, whose offline answer is
    /// `offline`: `{prompt, field, context, recall, crm}` for the action's `compose`.
    pub(crate) fn chat(
        &self,
        mind: &Mind,
        s: &Situation<'_>,
        working: &WorkingMemory,
        who: &str,
        question: &str,
        offline: &str,
    ) -> Json {
        let mut context = mind.language_view(s);
        if self.share.memories {
            let view = working.view();
            let recent: Vec<&str> = view["recent"]
                .as_array()
                .into_iter()
                .flatten()
                .rev()
                .take(RECENT)
                .filter_map(Json::as_str)
                .collect();
            if !recent.is_empty() {
                context["recent"] = json!([untrusted("recent interactions", &recent.join("\n"))]);
            }
        }
        context["from"] = json!(who);
        context["question"] = json!(untrusted("chat", question));
        context["offline"] = json!(offline);
        json!({
            "prompt": "chat",
            "field": "text",
            "context": context,
            "recall": if self.share.memories { json!(question) } else { Json::Null },
            "crm": self.share.crm,
        })
    }
}
