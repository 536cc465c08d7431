//! Documents as the node's faces use them: listed, read, and served as PDF, DOCX or
//! Markdown.

use super::Node;
use crate::capabilities::documents::{Document, DocumentError, DocumentFilter, Format};
use crate::store::Page;

impl Node {
    /// Documents, newest first.
    pub async fn documents(
        &self,
        f: &DocumentFilter,
        page: Page,
    ) -> Result<Vec<Document>, DocumentError> {
        Ok(self.rt.store.documents(&self.rt.tenant, f, page).await?)
    }

    /// One document's record.
    pub async fn document(&self, id: &str) -> Result<Option<Document>, DocumentError> {
        Ok(self.rt.store.document(&self.rt.tenant, id).await?)
    }

    /// One document in `format`: the PDF as it was sent, a DOCX set from the same
    /// text, or the Markdown itself.
    pub async fn document_content(
        &self,
        id: &str,
        format: Format,
    ) -> Result<Option<Vec<u8>>, DocumentError> {
        self.rt
            .hands
            .documents
            .content(&self.rt.store, &self.rt.tenant, id, format)
            .await
    }
}
