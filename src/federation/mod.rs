//! ActivityPub on the wire: the documents we emit and their builders,
//! HTTP signatures, outbound fetches, key resolution and the inbox
//! pipeline.

pub mod actor;
pub mod actor_cache;
pub mod answers;
pub mod builders;
pub mod client;
pub mod context;
pub mod ctx;
pub mod documents;
pub mod fetch;
pub mod inbox;
pub mod intake;
pub mod keys;
pub mod moderation;
pub mod nodeinfo;
pub mod outbox;
pub mod resolve;
pub mod sanitize;
pub mod signatures;
pub mod verify;
pub mod webfinger;
pub mod wire;

/// Media type of ActivityStreams documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// The JSON-LD media type with the ActivityStreams profile.
pub const LD_JSON_AS: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
