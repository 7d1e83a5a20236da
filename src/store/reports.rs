//! Rows and queries of the `reports` table: `Flag` activities received from
//! other servers, open until the operator resolves them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::reports;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct ReportRow {
    pub id: i64,
    pub ap_id: String,
    pub reporter_id: i64,
    /// JSON array of the reported actor and object ids.
    pub targets: String,
    pub content: Option<String>,
    pub document: String,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReportRow<'a> {
    pub ap_id: &'a str,
    pub reporter_id: i64,
    pub targets: &'a str,
    pub content: Option<&'a str>,
    pub document: &'a str,
    pub created_at: NaiveDateTime,
}

/// Stores a report; a report with the same activity id is kept as it was.
/// Returns whether it was new.
pub fn insert(conn: &mut AnyConnection, row: &NewReportRow<'_>) -> QueryResult<bool> {
    let inserted = crate::with_backend!(conn, |c| diesel::insert_into(reports::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Reports, oldest first; only open ones unless `all`.
pub fn list(conn: &mut AnyConnection, all: bool) -> QueryResult<Vec<ReportRow>> {
    let mut query = reports::table
        .order(reports::id)
        .select(ReportRow::as_select())
        .into_boxed();
    if !all {
        query = query.filter(reports::resolved_at.is_null());
    }
    query.load(conn)
}

/// Marks an open report resolved; returns how many rows changed.
pub fn resolve(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        reports::table
            .find(id)
            .filter(reports::resolved_at.is_null()),
    )
    .set(reports::resolved_at.eq(Some(at)))
    .execute(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ReportRow>> {
    reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()
}
