//! Language-model usage and state, for the node's faces.

use super::Node;
use crate::llm::UsageRow;
use crate::model::EmployeeId;
use crate::store::StoreError;
use chrono::NaiveDate;

impl Node {
    /// Language-model usage on `day`, of employee `who` or of all.
    pub async fn llm_usage(
        &self,
        who: Option<EmployeeId>,
        day: NaiveDate,
    ) -> Result<Vec<UsageRow>, StoreError> {
        self.rt.store.llm_usage(&self.rt.tenant, who, day).await
    }

    /// The node's language models.
    pub fn llm(&self) -> &crate::llm::Llm {
        &self.rt.hands.llm
    }
}
