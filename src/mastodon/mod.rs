//! The Mastodon client API's vocabulary, apart from HTTP: entities
//! (`entities`, and `instance` for the Instance entity), converters from
//! domain views (`convert`), status text (`text`) and paging (`paging`).

pub mod convert;
pub mod entities;
pub mod instance;
pub mod paging;
pub mod text;

/// The Mastodon version whose client API this one follows.
pub const MASTODON_API_VERSION: &str = "4.3.0";
