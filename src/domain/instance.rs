//! Facts about the whole instance, as NodeInfo reports them.

use super::DomainError;
use super::accounts::AccountKind;
use crate::store::Store;
use crate::store::accounts as rows;

/// Counts of local things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceUsage {
    pub users: i64,
    pub rooms: i64,
}

pub async fn usage(store: &Store) -> Result<InstanceUsage, DomainError> {
    store
        .run(|conn| {
            Ok(InstanceUsage {
                users: rows::count_local(conn, AccountKind::Person.as_str())?,
                rooms: rows::count_local(conn, AccountKind::Group.as_str())?,
            })
        })
        .await
}
