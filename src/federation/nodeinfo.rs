//! NodeInfo 2.1: the discovery document and the instance description.

use serde_json::{Value, json};

use crate::domain::instance::InstanceUsage;

pub const SCHEMA_2_1: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";
pub const CONTENT_TYPE_2_1: &str =
    "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"";

/// `/.well-known/nodeinfo`: where the 2.1 document lives.
pub fn build_discovery(document_url: &str) -> Value {
    json!({ "links": [{ "rel": SCHEMA_2_1, "href": document_url }] })
}

/// The NodeInfo 2.1 document.
pub fn build_nodeinfo(usage: InstanceUsage) -> Value {
    json!({
        "version": "2.1",
        "software": {
            "name": env!("CARGO_PKG_NAME"),
            "version": env!("CARGO_PKG_VERSION")
        },
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": false,
        "usage": { "users": { "total": usage.users } },
        "metadata": {
            "rooms": usage.rooms,
            "nodeName": "Estuary",
            "nodeDescription": "The fediverse and the IndieWeb in one inbox",
            "features": ["mastodon_api", "activitypub_c2s", "webmention"],
            "mastodonApiVersion": crate::mastodon::MASTODON_API_VERSION,
        }
    })
}
