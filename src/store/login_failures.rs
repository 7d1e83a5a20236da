//! Failed logins per subject (`account:NAME`, `address:IP`), shared by every
//! process through the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::login_failures;

#[derive(Insertable)]
#[diesel(table_name = login_failures)]
struct NewFailure<'a> {
    subject: &'a str,
    failed_at: NaiveDateTime,
}

/// Records one failure for each subject, and forgets failures older than
/// `forget_before`.
pub fn record(
    conn: &mut AnyConnection,
    subjects: &[&str],
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(forget_before)))
        .execute(conn)?;
    for subject in subjects {
        diesel::insert_into(login_failures::table)
            .values(NewFailure {
                subject,
                failed_at: now,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// For the subject with the most failures since `since`: how many, and the
/// oldest of them (when it leaves the window, one more try is allowed).
pub fn most_recent(
    conn: &mut AnyConnection,
    subjects: &[&str],
    since: NaiveDateTime,
) -> QueryResult<Option<(i64, NaiveDateTime)>> {
    let mut worst: Option<(i64, NaiveDateTime)> = None;
    for subject in subjects {
        let times: Vec<NaiveDateTime> = login_failures::table
            .filter(login_failures::subject.eq(subject))
            .filter(login_failures::failed_at.ge(since))
            .select(login_failures::failed_at)
            .order(login_failures::failed_at.asc())
            .load(conn)?;
        let count = times.len() as i64;
        if let Some(&oldest) = times.first()
            && worst.is_none_or(|(n, _)| count > n)
        {
            worst = Some((count, oldest));
        }
    }
    Ok(worst)
}

/// Forgets an account's failures (after it logged in).
pub fn clear(conn: &mut AnyConnection, subject: &str) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::subject.eq(subject))).execute(conn)
}
