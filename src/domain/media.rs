//! Images an operator sets for a local account (avatar, header): checked to
//! be a PNG, JPEG, GIF or WebP image of a bounded size, stored in the
//! database, served at `/media/TOKEN`.

use chrono::Utc;

use super::DomainError;
use crate::store::Store;
use crate::store::media::{self as rows, NewMediaRow};
use crate::urls::Urls;

/// Largest image accepted.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the image is empty")]
    Empty,
    #[error("the image is larger than {MAX_IMAGE_BYTES} bytes")]
    TooLarge,
    #[error("not a PNG, JPEG, GIF or WebP image")]
    UnknownType,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The media type of an image, from its first bytes.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks and stores an image for `account_id`; returns its URL.
pub async fn store_image(
    store: &Store,
    urls: &Urls,
    account_id: i64,
    bytes: Vec<u8>,
) -> Result<String, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(MediaError::TooLarge);
    }
    let content_type = sniff_image(&bytes).ok_or(MediaError::UnknownType)?;
    let token = super::tokens::new_token()?
        .trim_start_matches(super::tokens::TOKEN_PREFIX)
        .to_owned();
    let url = urls.media(&token);
    store
        .run(move |conn| {
            rows::insert(
                conn,
                &NewMediaRow {
                    token: &token,
                    account_id,
                    content_type,
                    bytes: &bytes,
                    created_at: Utc::now().naive_utc(),
                },
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(url)
}

/// An image by token: its media type and bytes. Images of suspended or
/// deleted accounts are not served.
pub async fn image(store: &Store, token: &str) -> Result<Option<(String, Vec<u8>)>, DomainError> {
    let token = token.to_owned();
    store
        .run(move |conn| {
            let Some(row) = rows::find_by_token(conn, &token)? else {
                return Ok(None);
            };
            let owner = crate::store::accounts::find(conn, row.account_id)?;
            if owner.is_none_or(|o| o.suspended_at.is_some() || o.deleted_at.is_some()) {
                return Ok(None);
            }
            Ok(Some((row.content_type, row.bytes)))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn images_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg xmlns="), None);
        assert_eq!(sniff_image(b""), None);
    }
}
