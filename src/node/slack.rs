//! Slack's Events API through the node.

use super::Node;
use crate::capabilities::chat::{SlackAnswer, SlackError, intake};

impl Node {
    /// An Events API request for `employee`'s Slack app: the signature is checked (at
    /// the node's clock), then the event is answered (a challenge), perceived (stored
    /// in the inbox before this returns) or ignored, saying why.
    pub async fn slack_event(
        &self,
        employee: &str,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
    ) -> Result<SlackAnswer, SlackError> {
        intake::events_api(&self.rt.hands, employee, signature, timestamp, body).await
    }
}
