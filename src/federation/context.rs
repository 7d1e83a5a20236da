//! The JSON-LD `@context` of the documents we emit. The two remote contexts
//! are bundled in `schema/contexts/`; extension terms are defined inline.

use serde_json::{Value, json};

pub const ACTIVITYSTREAMS: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_V1: &str = "https://w3id.org/security/v1";
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The context of actor documents: AS2, security v1 (for `publicKey`) and
/// the Mastodon extension terms we use.
pub fn actor_context() -> Value {
    json!([
        ACTIVITYSTREAMS,
        SECURITY_V1,
        {
            "toot": "http://joinmastodon.org/ns#",
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "discoverable": "toot:discoverable"
        }
    ])
}
