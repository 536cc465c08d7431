//! Language-model usage per employee, day (UTC), provider and model.

use super::rows::parse_id;
use super::{Store, StoreError, with_pool};
use crate::llm::{Usage, UsageRow};
use crate::model::{EmployeeId, TenantId};
use chrono::NaiveDate;

type Row = (String, String, String, String, i64, i64, i64, f64);

impl Store {
    /// Adds one call's `usage` and `cost` to employee `who`'s count for `day`.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_llm_usage(
        &self,
        tenant: &TenantId,
        who: EmployeeId,
        day: NaiveDate,
        provider: &str,
        model: &str,
        usage: Usage,
        cost: f64,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO llm_usage (tenant, employee_id, day, provider, model, calls, prompt_tokens, completion_tokens, cost_usd) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8) \
                 ON CONFLICT (tenant, employee_id, day, provider, model) DO UPDATE SET \
                 calls = llm_usage.calls + 1, prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens, \
                 completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens, \
                 cost_usd = llm_usage.cost_usd + excluded.cost_usd",
            )
            .bind(tenant.as_str())
            .bind(who.to_string())
            .bind(day.to_string())
            .bind(provider)
            .bind(model)
            .bind(usage.input_tokens as i64)
            .bind(usage.output_tokens as i64)
            .bind(cost)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Usage on `day`, of one employee or all, by employee, provider and model.
    pub async fn llm_usage(
        &self,
        tenant: &TenantId,
        who: Option<EmployeeId>,
        day: NaiveDate,
    ) -> Result<Vec<UsageRow>, StoreError> {
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT employee_id, day, provider, model, calls, prompt_tokens, completion_tokens, cost_usd \
                 FROM llm_usage WHERE tenant = $1 AND day = $2 AND ($3 = '' OR employee_id = $3) \
                 ORDER BY employee_id, provider, model",
            )
            .bind(tenant.as_str())
            .bind(day.to_string())
            .bind(who.map(|w| w.to_string()).unwrap_or_default())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(e, d, provider, model, calls, p, c, cost)| {
                Ok(UsageRow {
                    employee: parse_id(&e)?,
                    day: d
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("usage day {d:?}")))?,
                    provider,
                    model,
                    calls: calls as u64,
                    prompt_tokens: p as u64,
                    completion_tokens: c as u64,
                    total_tokens: (p + c) as u64,
                    cost_usd: cost,
                })
            })
            .collect()
    }
}
