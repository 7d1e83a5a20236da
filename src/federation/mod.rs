//! ActivityPub and its discovery protocols on the wire: the documents we
//! emit (actors, WebFinger, NodeInfo) and the pure builders that make them.

pub mod actor;
pub mod context;
pub mod fetch;
pub mod nodeinfo;
pub mod signatures;
pub mod webfinger;

/// Media type of ActivityStreams documents.
pub const ACTIVITY_JSON: &str = "application/activity+json";
/// The JSON-LD media type with the ActivityStreams profile.
pub const LD_JSON_AS: &str =
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
