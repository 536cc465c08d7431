//! Escalations through the node: the cases handed to managers, and a human's decision.

use super::Node;
use crate::lifecycle::escalations::{self, EscalationError};
use crate::model::{EmployeeId, Escalation, EscalationStatus, Verdict};
use crate::store::StoreError;

impl Node {
    /// Escalations, newest first, optionally of one employee and one status.
    pub async fn escalations(
        &self,
        employee: Option<EmployeeId>,
        status: Option<EscalationStatus>,
        limit: i64,
    ) -> Result<Vec<Escalation>, StoreError> {
        self.rt
            .hands
            .store
            .escalations(&self.rt.hands.tenant, employee, status, limit)
            .await
    }

    /// A human decides an escalation (or overrules a decision taken by precedent).
    pub async fn decide_escalation(
        &self,
        id: &str,
        verdict: Verdict,
        reason: Option<&str>,
        by: &str,
    ) -> Result<Escalation, EscalationError> {
        let by = match by.trim() {
            "" | "precedent" => "api",
            by => by,
        };
        escalations::decide(&self.rt.hands, id, verdict, reason, by, None).await
    }
}
