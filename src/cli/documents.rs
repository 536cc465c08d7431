//! `empla documents list|show|get`, through the node's API.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::api::wire::{ContentQuery, DocumentsQuery};
use crate::capabilities::documents::Document;
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;

/// `empla documents ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum DocumentsAction {
    /// Documents employees wrote (proposals, QBR decks), newest first.
    List {
        /// Written by this employee (id or handle).
        #[arg(long)]
        employee: Option<String>,
        /// About this CRM account (id).
        #[arg(long)]
        account: Option<String>,
        /// Of this kind: proposal, qbr.
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many.
        #[arg(long)]
        offset: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One document's record (kind, title, version, account, deal, figures).
    Show {
        /// The document's id.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Saves a document as PDF (as it was sent), DOCX or Markdown.
    Get {
        /// The document's id.
        id: String,
        /// pdf, docx or md.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Where to write it; the document's title as the file name when not given.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub(super) async fn run(action: DocumentsAction) -> anyhow::Result<()> {
    match action {
        DocumentsAction::List {
            employee,
            account,
            kind,
            limit,
            offset,
            json,
            node,
        } => {
            let q = DocumentsQuery {
                employee,
                account,
                kind,
                limit,
                offset,
            };
            super::crm::list(
                &node,
                "/documents",
                &q,
                json,
                "documents",
                |d: &Document| {
                    format!(
                        "{}  {}  {}  v{}  {}",
                        d.id,
                        when(&d.created_at),
                        d.kind,
                        d.version,
                        d.title
                    )
                },
            )
            .await
        }
        DocumentsAction::Show { id, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/documents/{id}"))
                .answer()
                .await?;
            print(&v)?;
            Ok(())
        }
        DocumentsAction::Get {
            id,
            format,
            output,
            node,
        } => {
            let client = Client::new(&node)?;
            let doc: Document = client.get(&format!("/documents/{id}")).answer().await?;
            let bytes = client
                .get(&format!("/documents/{id}/content"))
                .query(&ContentQuery {
                    format: Some(format.clone()),
                })
                .bytes()
                .await?;
            let path = match output {
                Some(p) => p,
                None => {
                    let f = crate::capabilities::documents::Format::parse(&format)
                        .unwrap_or(crate::capabilities::documents::Format::Pdf);
                    PathBuf::from(crate::capabilities::documents::file_name(&doc.title, f))
                }
            };
            std::fs::write(&path, &bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            outln!("wrote {} ({} bytes)", path.display(), bytes.len());
            Ok(())
        }
    }
}
