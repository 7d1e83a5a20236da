//! The durable job queue: rows of `jobs`, claimed with a lease so that a
//! crashed process's work is picked up again, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL so several processes share the queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::jobs;
use super::{AnyConnection, Backend};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub dedup_key: Option<String>,
    pub payload: String,
    pub host: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub run_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Runs that ended without an outcome (lease expired, or timed out).
    pub crashes: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs, treat_none_as_default_value = false)]
pub struct NewJobRow<'a> {
    pub kind: &'a str,
    pub dedup_key: Option<&'a str>,
    pub payload: &'a str,
    pub host: Option<&'a str>,
    pub status: &'a str,
    pub attempts: i32,
    pub run_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts jobs; a job whose `dedup_key` exists already is skipped.
/// Returns how many were inserted.
pub fn enqueue(conn: &mut AnyConnection, rows: &[NewJobRow<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    // Batches keep statements under SQLite's bound-parameter limit.
    for chunk in rows.chunks(500) {
        inserted += crate::with_backend!(conn, |c| diesel::insert_into(jobs::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(inserted)
}

/// Claims due jobs (and jobs whose lease expired), at most `host_cap`
/// running per host counting those already running anywhere. `{lock}` is
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL and empty on SQLite (one writer);
/// the limit applies after the lock, so rows another process is claiming
/// are passed over rather than counted.
const CLAIM: &str = "\
WITH busy AS (
    SELECT host, COUNT(*) AS running FROM jobs
    WHERE status = 'running' AND locked_until >= $2 AND host IS NOT NULL
    GROUP BY host
),
ready AS (
    SELECT j.id, j.host, j.run_at,
           ROW_NUMBER() OVER (PARTITION BY j.host ORDER BY j.run_at, j.id) AS place,
           COALESCE(b.running, 0) AS running
    FROM jobs j LEFT JOIN busy b ON b.host = j.host
    WHERE (j.status IN ('pending', 'retrying') AND j.run_at <= $2)
       OR (j.status = 'running' AND j.locked_until < $2)
)
UPDATE jobs SET status = 'running', locked_until = $1, updated_at = $2,
    -- A running job whose lease expired crashed (or hung) its worker:
    -- that run counts as a failed attempt, and as a crash.
    crashes = crashes + CASE WHEN status = 'running' THEN 1 ELSE 0 END,
    attempts = attempts + CASE WHEN status = 'running' THEN 1 ELSE 0 END
WHERE id IN (
    SELECT id FROM jobs
    WHERE id IN (
        SELECT id FROM ready
        WHERE host IS NULL OR place + running <= $3
    )
      -- Checked again on the row itself: when another process claimed it
      -- meanwhile, PostgreSQL re-reads the row and this no longer holds.
      AND ((status IN ('pending', 'retrying') AND run_at <= $2)
           OR (status = 'running' AND locked_until < $2))
    ORDER BY run_at, id
    LIMIT $4
    {lock}
)
RETURNING *";

/// Buries the jobs whose lease expired once more after `max_crashes`
/// crashes: a job that takes its worker down (or hangs it) is not retried
/// forever. Returns how many.
pub fn bury_crashed(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    max_crashes: i32,
) -> QueryResult<usize> {
    diesel::update(
        jobs::table
            .filter(jobs::status.eq("running"))
            .filter(jobs::locked_until.lt(now))
            .filter(jobs::crashes.ge(max_crashes - 1)),
    )
    .set((
        jobs::status.eq("dead"),
        jobs::crashes.eq(jobs::crashes + 1),
        jobs::locked_until.eq(None::<NaiveDateTime>),
        jobs::last_error.eq(Some(
            "the job crashed or hung its worker too many times (lease expired)",
        )),
        jobs::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Records a run that went over the time limit: another attempt, or dead
/// after `max_crashes` such runs or lost leases.
pub fn time_out(
    conn: &mut AnyConnection,
    id: i64,
    max_crashes: i32,
    run_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let crashed = jobs::crashes + 1;
    let row: Option<i32> = jobs::table
        .find(id)
        .select(jobs::crashes)
        .first(conn)
        .optional()?;
    let dead = row.is_some_and(|c| c + 1 >= max_crashes);
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq(if dead { "dead" } else { "retrying" }),
            jobs::crashes.eq(crashed),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some("the job went over its time limit")),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Claims up to `limit` due jobs (and jobs whose lease expired) until
/// `lease_until`, skipping hosts that already have `host_cap` jobs running.
pub fn claim(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
    host_cap: i64,
) -> QueryResult<Vec<JobRow>> {
    crate::with_backend!(conn, |c| {
        // SQLite numbers `?N` parameters explicitly; `$N` would be named.
        let sql = match Backend::of(c) {
            Backend::Postgres => CLAIM.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => CLAIM.replace("{lock}", "").replace('$', "?"),
        };
        diesel::sql_query(sql)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(host_cap)
            .bind::<BigInt, _>(limit)
            .load(c)
    })
}

/// Marks a job finished.
pub fn complete(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("done"),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Schedules another attempt.
pub fn retry(
    conn: &mut AnyConnection,
    id: i64,
    attempts: i32,
    run_at: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("retrying"),
            jobs::attempts.eq(attempts),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(error)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Gives up on a job for good.
pub fn bury(
    conn: &mut AnyConnection,
    id: i64,
    attempts: i32,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq("dead"),
            jobs::attempts.eq(attempts),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(error)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Job counts per status.
pub fn count_by_status(conn: &mut AnyConnection) -> QueryResult<Vec<(String, i64)>> {
    jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)
}

/// Job counts per kind and status.
pub fn count_by_kind_and_status(
    conn: &mut AnyConnection,
) -> QueryResult<Vec<(String, String, i64)>> {
    jobs::table
        .group_by((jobs::kind, jobs::status))
        .select((jobs::kind, jobs::status, diesel::dsl::count_star()))
        .load(conn)
}

/// Deletes finished jobs last touched before `before`.
pub fn prune_done(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        jobs::table
            .filter(jobs::status.eq("done"))
            .filter(jobs::updated_at.lt(before)),
    )
    .execute(conn)
}

/// Jobs, newest first, of one status (any when `None`), at most `limit`.
pub fn list(
    conn: &mut AnyConnection,
    status: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<JobRow>> {
    let mut query = jobs::table
        .order(jobs::id.desc())
        .limit(limit)
        .select(JobRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(jobs::status.eq(status.to_owned()));
    }
    query.load(conn)
}

/// Makes dead or retrying jobs due now (one by id, or all dead ones),
/// with their attempts reset. Returns how many.
pub fn retry_now(
    conn: &mut AnyConnection,
    id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = jobs::table
        .filter(jobs::status.eq_any(["dead", "retrying"]))
        .into_boxed();
    let ids: Vec<i64> = match id {
        Some(id) => target.filter(jobs::id.eq(id)).select(jobs::id).load(conn)?,
        None => target
            .filter(jobs::status.eq("dead"))
            .select(jobs::id)
            .load(conn)?,
    };
    let mut changed = 0;
    for chunk in ids.chunks(400) {
        changed += diesel::update(jobs::table.filter(jobs::id.eq_any(chunk)))
            .set((
                jobs::status.eq("pending"),
                jobs::attempts.eq(0),
                jobs::run_at.eq(now),
                jobs::locked_until.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(changed)
}

/// Deletes jobs of a finished status (`dead` or `done`). Returns how many.
pub fn purge(conn: &mut AnyConnection, status: &str) -> QueryResult<usize> {
    diesel::delete(jobs::table.filter(jobs::status.eq(status))).execute(conn)
}

/// For the metrics: the earliest run time among jobs that are due at `now`
/// but not taken (so how long the longest-waiting one has waited), and the
/// most attempts any unfinished job has made.
pub fn backlog(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
) -> QueryResult<(Option<NaiveDateTime>, Option<i32>)> {
    use diesel::dsl::{max, min};
    let waiting_since: Option<NaiveDateTime> = jobs::table
        .filter(jobs::status.eq_any(["pending", "retrying"]))
        .filter(jobs::run_at.le(now))
        .select(min(jobs::run_at))
        .first(conn)?;
    let most_attempts: Option<i32> = jobs::table
        .filter(jobs::status.eq_any(["pending", "retrying", "running"]))
        .select(max(jobs::attempts))
        .first(conn)?;
    Ok((waiting_since, most_attempts))
}
