//! The `cache_generation` row: a counter that database triggers bump with
//! every change to a local account (and to a remote account's suspension),
//! read by each process to learn that its cached accounts are stale.

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::cache_generation;

/// The current generation.
pub fn current(conn: &mut AnyConnection) -> QueryResult<i64> {
    cache_generation::table
        .find(1)
        .select(cache_generation::generation)
        .first(conn)
}
