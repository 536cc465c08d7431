//! The CRM as the node's faces use it, and the demo book of business loaded once with
//! the demo hires.

use super::Node;
use crate::capabilities::crm::Books;
use crate::capabilities::crm::import::{ImportError, ImportKind, import};
use std::path::Path;

impl Node {
    /// The CRM: records checked, owners resolved, handed to the driver.
    pub fn crm(&self) -> Books<'_> {
        Books::of(&self.rt.hands)
    }

    /// Imports the demo book of business from `dir` (`accounts.csv`, `contacts.csv`,
    /// `deals.csv`, each optional) when the CRM holds no account yet. Answers how many
    /// records were imported.
    pub async fn load_demo_crm(&self, dir: &Path) -> Result<usize, String> {
        let crm = self.crm();
        let any = crm
            .driver()
            .accounts(&Default::default(), crate::store::Page::FIRST)
            .await
            .map_err(|e| e.to_string())?;
        if !any.is_empty() {
            return Ok(0);
        }
        let mut total = 0;
        for kind in [
            ImportKind::Accounts,
            ImportKind::Contacts,
            ImportKind::Deals,
        ] {
            let file = dir.join(format!("{}.csv", kind.name()));
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
            };
            total += import(&crm, kind, &text).await.map_err(|e| match e {
                ImportError::Rows(_) => format!("{}: {e}", file.display()),
                ImportError::Crm(e) => format!("{}: {e}", file.display()),
            })?;
        }
        Ok(total)
    }
}
