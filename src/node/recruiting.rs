//! The candidate pipeline as the node's faces use it, and the demo requisitions opened
//! once with the demo hires.

use super::Node;
use crate::capabilities::recruiting::{NewRequisition, Pipeline};
use std::path::Path;

/// `config/demo/requisitions.toml`: the positions a demo node is hiring for.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRequisitions {
    requisitions: Vec<NewRequisition>,
}

impl Node {
    /// The candidate pipeline: requisitions, candidates, stages, interviews, feedback.
    pub fn pipeline(&self) -> Pipeline<'_> {
        Pipeline::of(&self.rt.hands)
    }

    /// Opens the demo requisitions from `dir/requisitions.toml` (optional) when the
    /// pipeline holds none yet. Answers how many were opened.
    pub async fn load_demo_requisitions(&self, dir: &Path) -> Result<usize, String> {
        let file = dir.join("requisitions.toml");
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let demo: DemoRequisitions =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let pipeline = self.pipeline();
        let any = pipeline
            .requisitions(None, crate::store::Page::FIRST)
            .await
            .map_err(|e| e.to_string())?;
        if !any.is_empty() {
            return Ok(0);
        }
        for (i, r) in demo.requisitions.into_iter().enumerate() {
            pipeline
                .create_requisition(r)
                .await
                .map_err(|e| format!("{}: requisitions[{i}]: {e}", file.display()))?;
        }
        Ok(pipeline
            .requisitions(None, crate::store::Page::ALL)
            .await
            .map_err(|e| e.to_string())?
            .len())
    }
}
