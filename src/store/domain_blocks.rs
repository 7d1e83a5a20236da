//! Rows and queries of the `domain_blocks` table: the operator's rules for
//! other servers (block or silence, and whether to refuse their media).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::domain_blocks;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = domain_blocks)]
pub struct DomainBlockRow {
    pub id: i64,
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = domain_blocks)]
pub struct NewDomainBlockRow<'a> {
    pub domain: &'a str,
    pub severity: &'a str,
    pub reject_media: bool,
    pub created_at: NaiveDateTime,
}

/// Adds the rule for a domain, or replaces its severity and media flag.
pub fn upsert(
    conn: &mut AnyConnection,
    row: &NewDomainBlockRow<'_>,
) -> QueryResult<DomainBlockRow> {
    use diesel::upsert::excluded;
    crate::with_backend!(conn, |c| diesel::insert_into(domain_blocks::table)
        .values(row)
        .on_conflict(domain_blocks::domain)
        .do_update()
        .set((
            domain_blocks::severity.eq(excluded(domain_blocks::severity)),
            domain_blocks::reject_media.eq(excluded(domain_blocks::reject_media)),
        ))
        .returning(DomainBlockRow::as_returning())
        .get_result(c))
}

/// Removes the rule for a domain; returns how many rows went.
pub fn delete(conn: &mut AnyConnection, domain: &str) -> QueryResult<usize> {
    diesel::delete(domain_blocks::table.filter(domain_blocks::domain.eq(domain))).execute(conn)
}

/// Every rule, by domain.
pub fn all(conn: &mut AnyConnection) -> QueryResult<Vec<DomainBlockRow>> {
    domain_blocks::table
        .order(domain_blocks::domain)
        .select(DomainBlockRow::as_select())
        .load(conn)
}
