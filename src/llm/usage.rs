//! What employees spend on language models: each call added to the store's count for
//! the employee and day (UTC), and today's sums kept at hand for budget checks.

use super::Usage;
use crate::model::{EmployeeId, TenantId};
use crate::store::Store;
use chrono::{NaiveDate, Utc};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One employee's use of one model on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageRow {
    /// The employee.
    #[schema(value_type = String)]
    pub employee: EmployeeId,
    /// The day (UTC).
    #[schema(value_type = String)]
    pub day: NaiveDate,
    /// `anthropic`, `openai`, `local`.
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// Calls answered.
    pub calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Answer tokens.
    pub completion_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Cost by `[llm.prices]`, US dollars.
    pub cost_usd: f64,
}

/// Today's date (UTC), the day usage counts in.
pub fn day_of(now: chrono::DateTime<Utc>) -> NaiveDate {
    now.date_naive()
}

/// Usage written through to the store, today's sums per employee cached.
pub(crate) struct Ledger {
    store: Store,
    tenant: TenantId,
    today: DashMap<EmployeeId, (NaiveDate, u64, f64)>,
}

impl Ledger {
    pub(crate) fn new(store: Store, tenant: TenantId) -> Ledger {
        Ledger {
            store,
            tenant,
            today: DashMap::new(),
        }
    }

    /// Tokens and cost employee `who` has used today.
    pub(crate) async fn today(&self, who: EmployeeId) -> (u64, f64) {
        let day = day_of(Utc::now());
        if let Some(e) = self.today.get(&who)
            && e.0 == day
        {
            return (e.1, e.2);
        }
        let (tokens, cost) = match self.store.llm_usage(&self.tenant, Some(who), day).await {
            Ok(rows) => rows
                .iter()
                .fold((0, 0.0), |(t, c), r| (t + r.total_tokens, c + r.cost_usd)),
            Err(e) => {
                tracing::warn!(employee = %who, error = %e, "language-model usage could not be read; counting from zero");
                (0, 0.0)
            }
        };
        self.today.insert(who, (day, tokens, cost));
        (tokens, cost)
    }

    /// Adds one call.
    pub(crate) async fn add(
        &self,
        who: EmployeeId,
        provider: &str,
        model: &str,
        u: Usage,
        cost: f64,
    ) {
        let day = day_of(Utc::now());
        self.today(who).await;
        if let Some(mut e) = self.today.get_mut(&who) {
            if e.0 != day {
                *e = (day, 0, 0.0);
            }
            e.1 += u.input_tokens + u.output_tokens;
            e.2 += cost;
        }
        if let Err(e) = self
            .store
            .add_llm_usage(&self.tenant, who, day, provider, model, u, cost)
            .await
        {
            tracing::warn!(employee = %who, error = %e, "language-model usage not stored");
        }
    }
}
