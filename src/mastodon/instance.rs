//! The Instance entities of `/api/v1/instance` and `/api/v2/instance`,
//! typed, with the limits clients read before they let a person write.

use serde::Serialize;

use super::entities::Account;

/// Longest status text accepted, in characters.
pub const MAX_STATUS_CHARS: usize = 5000;

/// The version strict clients parse: a Mastodon version they know, then ours.
pub fn version() -> String {
    format!(
        "{} (compatible; Estuary {})",
        super::MASTODON_API_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusLimits {
    pub max_characters: usize,
    pub max_media_attachments: u32,
    pub characters_reserved_per_url: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountLimits {
    pub max_featured_tags: u32,
    pub max_pinned_statuses: u32,
}

/// No media uploads yet: every limit is zero and no type is accepted.
#[derive(Debug, Clone, Serialize)]
pub struct MediaLimits {
    pub supported_mime_types: Vec<String>,
    pub image_size_limit: u64,
    pub image_matrix_limit: u64,
    pub video_size_limit: u64,
    pub video_frame_rate_limit: u64,
    pub video_matrix_limit: u64,
}

/// No polls.
#[derive(Debug, Clone, Serialize)]
pub struct PollLimits {
    pub max_options: u32,
    pub max_characters_per_option: u32,
    pub min_expiration: u32,
    pub max_expiration: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Translation {
    pub enabled: bool,
}

/// No streaming URL is advertised: there is no streaming API.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ConfigurationUrls {}

#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    pub urls: ConfigurationUrls,
    pub accounts: AccountLimits,
    pub statuses: StatusLimits,
    pub media_attachments: MediaLimits,
    pub polls: PollLimits,
    pub translation: Translation,
}

impl Configuration {
    pub fn current() -> Self {
        Configuration {
            urls: ConfigurationUrls::default(),
            accounts: AccountLimits {
                max_featured_tags: 0,
                max_pinned_statuses: 0,
            },
            statuses: StatusLimits {
                max_characters: MAX_STATUS_CHARS,
                max_media_attachments: 0,
                characters_reserved_per_url: 23,
            },
            media_attachments: MediaLimits {
                supported_mime_types: Vec::new(),
                image_size_limit: 0,
                image_matrix_limit: 0,
                video_size_limit: 0,
                video_frame_rate_limit: 0,
                video_matrix_limit: 0,
            },
            polls: PollLimits {
                max_options: 0,
                max_characters_per_option: 0,
                min_expiration: 0,
                max_expiration: 0,
            },
            translation: Translation { enabled: false },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub text: String,
}

/// `GET /api/v1/instance`
#[derive(Debug, Clone, Serialize)]
pub struct InstanceV1 {
    pub uri: String,
    pub title: String,
    pub short_description: String,
    pub description: String,
    pub email: String,
    pub version: String,
    pub urls: ConfigurationUrls,
    pub stats: Stats,
    pub thumbnail: String,
    pub languages: Vec<String>,
    pub registrations: bool,
    pub approval_required: bool,
    pub invites_enabled: bool,
    pub configuration: Configuration,
    pub contact_account: Option<Account>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiVersions {
    pub mastodon: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActiveUsers {
    pub active_month: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub users: ActiveUsers,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thumbnail {
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Registrations {
    pub enabled: bool,
    pub approval_required: bool,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub email: String,
    pub account: Option<Account>,
}

/// `GET /api/v2/instance`
#[derive(Debug, Clone, Serialize)]
pub struct InstanceV2 {
    pub domain: String,
    pub api_versions: ApiVersions,
    pub title: String,
    pub version: String,
    pub source_url: String,
    pub description: String,
    pub usage: Usage,
    pub thumbnail: Thumbnail,
    pub languages: Vec<String>,
    pub configuration: Configuration,
    pub registrations: Registrations,
    pub contact: Contact,
    pub rules: Vec<Rule>,
}
