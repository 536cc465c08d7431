//! Workflows through the node: the configured workflows, starting a run, and reading
//! runs. The runs advance on their own (see [`crate::lifecycle::workflows`]).

use super::Node;
use crate::config::workflows::Workflow;
use crate::lifecycle::workflows::{self, WorkflowError};
use crate::model::{RunStatus, WorkflowRun};
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a run could not be started or read.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No workflow of that name.
    #[error("no workflow `{0}` here; add config/workflows/{0}.toml, or name one of: {1}")]
    NoWorkflow(String, String),
    /// No run with that id.
    #[error("no workflow run with that id; `GET /api/v1/workflows/runs` lists them")]
    NoRun,
    /// The run could not be started.
    #[error(transparent)]
    Start(#[from] WorkflowError),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Start(WorkflowError::Store(e))
    }
}

impl Node {
    /// Sets the workflows runs may be started of (the configuration's
    /// `workflows_dir`); runs already started follow the definition they began with.
    pub fn set_workflows(&self, w: BTreeMap<String, Workflow>) {
        *self.workflows.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(w);
    }

    /// The workflows runs may be started of, by id.
    pub fn workflows(&self) -> Arc<BTreeMap<String, Workflow>> {
        self.workflows
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Starts a run of workflow `name` with `inputs`; its first steps are assigned
    /// before it is answered.
    pub async fn start_workflow(
        &self,
        name: &str,
        inputs: serde_json::Value,
        by: &str,
    ) -> Result<WorkflowRun, RunError> {
        let all = self.workflows();
        let w = all.get(name).ok_or_else(|| {
            RunError::NoWorkflow(
                name.to_string(),
                if all.is_empty() {
                    "(no workflows configured)".into()
                } else {
                    all.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            )
        })?;
        let mut run = workflows::start(&self.rt.hands, w, inputs, by).await?;
        self.name_employees(std::slice::from_mut(&mut run)).await?;
        Ok(run)
    }

    /// Fills in the handle of each step's employee.
    async fn name_employees(&self, runs: &mut [WorkflowRun]) -> Result<(), StoreError> {
        let mut known: BTreeMap<crate::model::EmployeeId, String> = BTreeMap::new();
        for step in runs.iter_mut().flat_map(|r| r.steps.iter_mut()) {
            let Some(id) = step.employee_id else {
                continue;
            };
            if !known.contains_key(&id)
                && let Some(p) = self.rt.store.employee(&self.rt.tenant, id).await?
            {
                known.insert(id, p.chat_handle);
            }
            step.employee = known.get(&id).cloned();
        }
        Ok(())
    }

    /// One run, advanced first so it shows where it stands now.
    pub async fn workflow_run(&self, id: &str) -> Result<WorkflowRun, RunError> {
        workflows::advance(&self.rt.hands, id, chrono::Utc::now()).await?;
        let mut run = self
            .rt
            .store
            .workflow_run(&self.rt.tenant, id)
            .await?
            .map(|s| s.run)
            .ok_or(RunError::NoRun)?;
        self.name_employees(std::slice::from_mut(&mut run)).await?;
        Ok(run)
    }

    /// Runs, newest first, optionally of one status.
    pub async fn workflow_runs(
        &self,
        status: Option<RunStatus>,
        limit: i64,
    ) -> Result<Vec<WorkflowRun>, StoreError> {
        let mut runs = self
            .rt
            .store
            .workflow_runs(&self.rt.tenant, status, limit)
            .await?;
        self.name_employees(&mut runs).await?;
        Ok(runs)
    }
}
