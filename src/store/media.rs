//! Rows and queries of the `media` table: images the operator set for local
//! accounts, served at `/media/TOKEN`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::media;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i64,
    pub token: String,
    pub account_id: i64,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = media)]
pub struct NewMediaRow<'a> {
    pub token: &'a str,
    pub account_id: i64,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut AnyConnection, row: &NewMediaRow<'_>) -> QueryResult<usize> {
    diesel::insert_into(media::table).values(row).execute(conn)
}

/// The image with this token (the part of its URL after `/media/`).
pub fn find_by_token(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<MediaRow>> {
    media::table
        .filter(media::token.eq(token))
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}
