//! The product backlog as the node's faces use it: file a request (or vote for the
//! open one it repeats), list and read requests, set their RICE inputs or status.

use super::Node;
use crate::capabilities::product::{
    FeatureRequest, Filed, Filing, NewRequest, ProductError, RequestPatch, RequestsFilter, Source,
    file,
};
use crate::store::Page;

impl Node {
    /// Files `r` as one filed through the API. With `key` (an `Idempotency-Key`), filing
    /// again under it answers what was filed then.
    pub async fn file_feature_request(
        &self,
        r: NewRequest,
        key: Option<&str>,
    ) -> Result<Filed, ProductError> {
        let key = match key {
            Some(k) => format!("api:{k}"),
            None => format!("api:{}", uuid::Uuid::now_v7()),
        };
        file(
            &self.rt.hands,
            Filing {
                request: r,
                source: Source::Api,
                key,
            },
        )
        .await
    }

    /// Requests, newest first.
    pub async fn feature_requests(
        &self,
        f: &RequestsFilter,
        page: Page,
    ) -> Result<Vec<FeatureRequest>, ProductError> {
        Ok(self
            .rt
            .store
            .feature_requests(&self.rt.tenant, f, page)
            .await?)
    }

    /// One request.
    pub async fn feature_request(&self, id: &str) -> Result<FeatureRequest, ProductError> {
        self.rt
            .store
            .feature_request(&self.rt.tenant, id)
            .await?
            .ok_or_else(|| ProductError::NotFound(format!("no feature request with id {id:?}")))
    }

    /// Sets a request's RICE inputs, status or title; answers it as stored.
    pub async fn update_feature_request(
        &self,
        id: &str,
        patch: RequestPatch,
    ) -> Result<FeatureRequest, ProductError> {
        if patch.is_empty() {
            return Err(ProductError::Invalid(vec![crate::model::FieldError::new(
                "body",
                "sets nothing: send one or more of `title`, `reach`, `impact`, `confidence`, `effort`, `status`",
            )]));
        }
        let r = patch.apply(self.feature_request(id).await?)?;
        if !self
            .rt
            .store
            .update_feature_request(&self.rt.tenant, &r)
            .await?
        {
            return Err(ProductError::NotFound(format!(
                "no feature request with id {id:?}"
            )));
        }
        Ok(r)
    }
}
