//! Documents (seed 2.6): the proposals, QBR decks and reports employees write. Each is
//! rendered from a minijinja template (the built-in ones, or the operator's in
//! `[documents] templates_dir`) to Markdown, set from that as PDF (genpdf) and DOCX
//! (docx-rs), and stored per tenant as a new version of its series — attributable to
//! the employee, the account, the deal and the contact it was written for. Mail carries
//! a document as a PDF attachment (`email.reply` with `attach` or `attach_from`).
//!
//! Running documents (`documents.append`: a log such as "feature requests", one dated
//! entry per line) are kept the same way, each entry a new version. The PM's
//! `documents.collect` (an insights report) is the product backlog's, declared here.

mod actions;
pub mod config;
pub mod docx;
pub mod markup;
pub mod pdf;
mod qbr;
pub mod quote;
mod status;

pub use crate::store::{Document, DocumentFilter};
pub(crate) use actions::author;
pub use config::{DocumentsConfig, PriceItem};

use super::registry::{ActionKind, Param, ParamType};
use crate::model::TenantId;
use crate::store::{NewDocument, Store, StoreError};
use minijinja::Environment;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The built-in templates, by file name; a file of the same name in the templates
/// directory replaces one.
const BUILT_IN: [(&str, &str); 4] = [
    (
        "proposal.md.j2",
        include_str!("../../../config/documents/proposal.md.j2"),
    ),
    (
        "qbr.md.j2",
        include_str!("../../../config/documents/qbr.md.j2"),
    ),
    (
        "report.md.j2",
        include_str!("../../../config/documents/report.md.j2"),
    ),
    (
        "offer.md.j2",
        include_str!("../../../config/documents/offer.md.j2"),
    ),
];

/// Plain report text as Markdown: each line its own paragraph, `- ` lines a list.
pub fn report_markdown(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("- ") {
            out.push_str(line);
            out.push('\n');
        } else if !line.trim().is_empty() {
            if out.ends_with('\n') && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(line);
            out.push_str("\n\n");
        }
    }
    out
}

/// The formats a document is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// As it was sent.
    Pdf,
    /// For editing in a word processor.
    Docx,
    /// The text it was rendered from.
    Md,
}

impl Format {
    /// `pdf`, `docx` or `md`.
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "pdf" => Some(Format::Pdf),
            "docx" => Some(Format::Docx),
            "md" => Some(Format::Md),
            _ => None,
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Md => "text/markdown; charset=utf-8",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Md => "md",
        }
    }
}

/// Why a document could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// What was asked for is unusable; asking again will not help.
    #[error("{0}")]
    Invalid(String),
    /// A template or the fonts could not be used (the operator's to fix).
    #[error("{0}")]
    Setup(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DocumentError> for super::CapabilityError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Invalid(m) => super::CapabilityError::Invalid(m),
            DocumentError::Setup(m) => super::CapabilityError::Service(m),
            DocumentError::Store(e) => e.into(),
        }
    }
}

/// The node's documents: its settings, templates and fonts.
#[derive(Clone)]
pub struct Documents {
    cfg: Arc<DocumentsConfig>,
    templates: Arc<Environment<'static>>,
    fonts: Arc<OnceLock<pdf::Fonts>>,
}

/// A document to write: what it is, who it is about, and its template's context.
pub struct Draft {
    /// `proposal`, `qbr`, `report`.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// The series this is a version of.
    pub series: String,
    /// Account, deal and contact ids.
    pub account: Option<String>,
    /// The deal.
    pub deal: Option<String>,
    /// The contact.
    pub contact: Option<String>,
    /// The template's context.
    pub context: Json,
    /// Its figures, kept with it.
    pub facts: Json,
}

impl Documents {
    /// The documents `cfg` describes, with templates from `templates_dir` (when it
    /// exists) over the built-in ones.
    pub fn new(cfg: &DocumentsConfig, templates_dir: Option<&Path>) -> Result<Documents, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, text) in BUILT_IN {
            let own = templates_dir.map(|d| d.join(name)).filter(|p| p.is_file());
            let source = match &own {
                Some(path) => {
                    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => text.to_string(),
            };
            env.add_template_owned(name, source).map_err(|e| {
                format!(
                    "the template {} does not compile: {e}",
                    own.map_or(format!("{name} (built in)"), |p| p.display().to_string())
                )
            })?;
        }
        Ok(Documents {
            cfg: Arc::new(cfg.clone()),
            templates: Arc::new(env),
            fonts: Arc::new(OnceLock::new()),
        })
    }

    /// The settings.
    pub fn config(&self) -> &DocumentsConfig {
        &self.cfg
    }

    /// The fonts, loaded at the first PDF (and tried again at the next while they are
    /// missing, so installing them needs no restart).
    fn fonts(&self) -> Result<&pdf::Fonts, DocumentError> {
        if let Some(f) = self.fonts.get() {
            return Ok(f);
        }
        let loaded = pdf::Fonts::load(&self.cfg.font_dir, &self.cfg.standard_font_dir)
            .map_err(DocumentError::Setup)?;
        Ok(self.fonts.get_or_init(|| loaded))
    }

    /// `template` rendered with `context`: the document's Markdown.
    pub fn markdown(&self, template: &str, context: &Json) -> Result<String, DocumentError> {
        let t = self
            .templates
            .get_template(template)
            .map_err(|e| DocumentError::Setup(format!("no template {template}: {e}")))?;
        t.render(minijinja::value::Serde(context))
            .map_err(|e| DocumentError::Setup(format!("the template {template} failed: {e}")))
    }

    /// Markdown set as a PDF titled `title`.
    pub fn pdf(&self, title: &str, markdown: &str) -> Result<Vec<u8>, DocumentError> {
        pdf::render(self.fonts()?, title, &markup::blocks(markdown)).map_err(DocumentError::Setup)
    }

    /// Renders `draft` with `template`, sets it as PDF and stores it as the next
    /// version of its series (or answers what `action_key` already wrote).
    pub async fn write(
        &self,
        store: &Store,
        tenant: &TenantId,
        employee: crate::model::EmployeeId,
        action_key: Option<&str>,
        template: &str,
        draft: Draft,
    ) -> Result<Document, DocumentError> {
        let markdown = self.markdown(template, &draft.context)?;
        let pdf = self.pdf(&draft.title, &markdown)?;
        Ok(store
            .put_document(
                tenant,
                &NewDocument {
                    kind: draft.kind.into(),
                    title: draft.title,
                    series: draft.series,
                    employee,
                    account: draft.account,
                    deal: draft.deal,
                    contact: draft.contact,
                    action_key: action_key.map(str::to_string),
                    markdown,
                    pdf,
                    facts: draft.facts,
                },
            )
            .await?)
    }

    /// A stored document in `format`; none when there is no such document.
    pub async fn content(
        &self,
        store: &Store,
        tenant: &TenantId,
        id: &str,
        format: Format,
    ) -> Result<Option<Vec<u8>>, DocumentError> {
        let Some((markdown, pdf)) = store.document_content(tenant, id).await? else {
            return Ok(None);
        };
        Ok(Some(match format {
            Format::Pdf => pdf,
            Format::Md => markdown.into_bytes(),
            Format::Docx => {
                docx::render(&markup::blocks(&markdown)).map_err(DocumentError::Setup)?
            }
        }))
    }
}

/// A proposal's title: "Proposal for Acme: 40 seats".
pub fn proposal_title(account: &str, q: &quote::Quote) -> String {
    let summary = q
        .lines
        .iter()
        .map(|l| format!("{} {}", l.quantity, l.unit))
        .collect::<Vec<_>>()
        .join(", ");
    format!("Proposal for {account}: {summary}")
}

/// What the proposal template sees (see `config/documents/proposal.md.j2`).
#[allow(clippy::too_many_arguments)]
pub fn proposal_context(
    cfg: &DocumentsConfig,
    q: &quote::Quote,
    title: &str,
    account: &crate::capabilities::crm::Account,
    contact: Option<&crate::capabilities::crm::Contact>,
    me: Json,
    note: Option<&str>,
    today: chrono::NaiveDate,
) -> Json {
    use quote::money;
    let day = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    serde_json::json!({
        "title": title,
        "account": account,
        "contact": contact.map(|c| serde_json::json!({
            "name": c.name, "first_name": crate::capabilities::crm::actions::first_name(&c.name),
            "title": c.title, "email": c.email,
        })),
        "me": me,
        "date": day(today),
        "valid_until": day(today + chrono::Duration::days(cfg.valid_days.into())),
        "note": note,
        "terms": cfg.terms,
        "lines": q.lines.iter().map(|l| serde_json::json!({
            "name": l.name, "quantity": l.quantity, "unit": l.unit, "period": l.period,
            "unit_price": money(l.unit_cents, &q.currency), "amount": money(l.amount_cents, &q.currency),
        })).collect::<Vec<_>>(),
        "subtotal": money(q.subtotal_cents, &q.currency),
        "discounted": q.discount_cents > 0,
        "discount_percent": format!("{}", q.discount_percent),
        "discount": money(q.discount_cents, &q.currency),
        "total": money(q.total_cents, &q.currency),
        "currency": q.currency,
    })
}

/// A file name for `title` in `format`: its letters, digits, `-` and `_`, words
/// separated by single spaces.
pub fn file_name(title: &str, format: Format) -> String {
    let kept: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let base = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "{}.{}",
        if base.is_empty() { "document" } else { &base },
        format.extension()
    )
}

/// The documents action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    let mut k = actions::kinds();
    k.extend([
        ActionKind::new(
            "documents.status_report",
            "Writes a status report on `scope`: goals, what was carried through and missed over the last `days` (14), feedback; a later step mails it with `attach_from`.",
            false,
            |a| Box::pin(status::status_report(a)),
        )
        .params(vec![
            Param::optional("scope", ParamType::Text),
            Param::optional("days", ParamType::Integer),
        ]),
        ActionKind::new(
            "documents.collect",
            "Gathers the last `since_days` (7) of feature requests, votes and per-feature usage into an insights report document; a later step mails it with `attach_from`.",
            false,
            |a| Box::pin(crate::capabilities::product::insights::collect(a)),
        )
        .params(vec![Param::optional("since_days", ParamType::Integer)]),
    ]);
    k
}
