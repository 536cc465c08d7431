//! The executive's mail as their assistant triaged it, for the node's faces.

use super::Node;
use crate::model::{EmployeeId, TriagedMail};
use crate::store::{StoreError, TriageFilter};

impl Node {
    /// What employee `id` triaged of its executive's mail, most pressing first.
    pub async fn triaged(
        &self,
        id: EmployeeId,
        f: &TriageFilter,
    ) -> Result<Vec<TriagedMail>, StoreError> {
        self.rt.store.triaged(&self.rt.tenant, id, f).await
    }
}
