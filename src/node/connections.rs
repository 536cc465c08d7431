//! Employees' OAuth connections through the node: started for a hired employee,
//! finished at the callback, listed, ended, revoked when the employee leaves; and the
//! current access token for the employee's tools (see [`crate::connections`]).

use super::Node;
use crate::actors::registry::ReachError;
use crate::connections::{Connected, ConnectionError, ConnectionView, Connections, Started};
use crate::model::{EmployeeId, EmployeeStatus};
use crate::store::StoredFlow;

/// Why a connection call on the node failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The employee is not there (or gone).
    #[error(transparent)]
    Reach(#[from] ReachError),
    /// The connection itself failed.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

impl Node {
    /// The node's connections (config, key, providers).
    pub fn oauth(&self) -> &Connections {
        &self.connections
    }

    fn still_employed(&self, id: EmployeeId) -> Result<(), ReachError> {
        match self.rt.directory.status(id) {
            None => Err(ReachError::NotFound),
            Some(EmployeeStatus::Offboarded) => Err(ReachError::Offboarded),
            Some(_) => Ok(()),
        }
    }

    /// Starts connecting an employee to `provider`; the answer holds the URL the person
    /// consents at. `request_base` is the scheme and host the request came to.
    pub async fn connect(
        &self,
        id: EmployeeId,
        provider: &str,
        request_base: &str,
    ) -> Result<Started, ConnectError> {
        self.still_employed(id)?;
        Ok(self
            .connections
            .start(
                self.rt.tenant.as_str(),
                &id.to_string(),
                provider,
                request_base,
            )
            .await?)
    }

    /// An employee's connections (never their tokens).
    pub async fn connections(&self, id: EmployeeId) -> Result<Vec<ConnectionView>, ConnectError> {
        if self.rt.directory.status(id).is_none() {
            return Err(ReachError::NotFound.into());
        }
        Ok(self
            .connections
            .list(self.rt.tenant.as_str(), &id.to_string())
            .await?)
    }

    /// Revokes an employee's connection to `provider` at the provider and forgets it.
    pub async fn disconnect(&self, id: EmployeeId, provider: &str) -> Result<(), ConnectError> {
        if self.rt.directory.status(id).is_none() {
            return Err(ReachError::NotFound.into());
        }
        if self
            .connections
            .disconnect(self.rt.tenant.as_str(), &id.to_string(), provider)
            .await?
        {
            Ok(())
        } else {
            Err(ConnectionError::NotConnected(provider.to_string()).into())
        }
    }

    /// The employee's current access token for `provider`, refreshed first when it is
    /// about to expire (one refresh at a time per connection).
    pub async fn access_token(
        &self,
        id: EmployeeId,
        provider: &str,
    ) -> Result<String, ConnectionError> {
        self.connections
            .access_token(self.rt.tenant.as_str(), &id.to_string(), provider)
            .await
    }

    /// Takes the flow a callback's `state` names (any tenant's: the state is the proof).
    pub async fn take_oauth_flow(&self, state: &str) -> Result<StoredFlow, ConnectionError> {
        self.connections.take(state).await
    }

    /// Finishes a taken flow with the provider's `code`: stored under the flow's tenant.
    pub async fn finish_connection(
        &self,
        flow: &StoredFlow,
        code: &str,
    ) -> Result<Connected, ConnectionError> {
        self.connections.finish(flow, code).await
    }

    /// Revokes and forgets every connection of an offboarded employee (best effort).
    pub(super) async fn revoke_connections(&self, id: EmployeeId) {
        match self
            .connections
            .offboard(self.rt.tenant.as_str(), &id.to_string())
            .await
        {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(employee = %id, connections = n, "connections revoked at offboarding")
            }
            Err(e) => {
                tracing::warn!(employee = %id, error = %e, "connections could not be revoked at offboarding")
            }
        }
    }
}
