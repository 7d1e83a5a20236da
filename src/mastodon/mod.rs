//! The Mastodon client API's vocabulary, apart from HTTP: entities
//! (`entities`), converters from domain views (`convert`), status text
//! (`text`) and paging (`paging`).

pub mod convert;
pub mod entities;
pub mod paging;
pub mod text;

/// The Mastodon version whose client API this one follows.
pub const MASTODON_API_VERSION: &str = "4.3.0";
