//! The durable job queue: rows of `jobs`, claimed with a lease so that a
//! crashed process's work is picked up again, `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL so several processes share the queue.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::jobs;
use super::{AnyConnection, Backend};

/// `jobs.status = '<status>'` written into the statement's text, not bound
/// as a parameter. The partial indexes by status (`jobs_leased`,
/// `jobs_running_hosts`, `jobs_finished`) serve a query only when its
/// condition is in the text: the bundled SQLite plans without looking at
/// bound values (`ENABLE_QPSG`), and neither does a generic PostgreSQL plan.
/// With `status = ?` a claim's look for crashed jobs read the whole table.
fn status_is(status: &'static str) -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    assert!(
        status.bytes().all(|b| b.is_ascii_lowercase()),
        "a job status is a lowercase word"
    );
    diesel::dsl::sql(&format!("jobs.status = '{status}'"))
}

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
    /// The process holding the lease of a running job.
    pub lease_holder: Option<String>,
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

/// Rows per multi-row INSERT: 9 bound parameters a row keep a statement
/// (4,500) far under SQLite's limit of 32,766.
pub const INSERT_CHUNK: usize = 500;

/// Inserts jobs, `INSERT_CHUNK` rows a statement; a job whose `dedup_key`
/// exists already is skipped. Returns how many were inserted.
pub fn enqueue(conn: &mut AnyConnection, rows: &[NewJobRow<'_>]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        inserted += crate::with_backend!(conn, |c| diesel::insert_into(jobs::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(inserted)
}

/// A job just queued: its id and host.
pub type Queued = (i64, Option<String>);

/// [`enqueue`], returning the id and host of every job inserted (not of
/// the duplicates skipped), in the order of `rows`.
pub fn enqueue_returning(
    conn: &mut AnyConnection,
    rows: &[NewJobRow<'_>],
) -> QueryResult<Vec<Queued>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut queued: Vec<Queued> =
            crate::with_backend!(conn, |c| diesel::insert_into(jobs::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .returning((jobs::id, jobs::host))
                .get_results(c))?;
        queued.sort_unstable_by_key(|(id, _)| *id);
        inserted.append(&mut queued);
    }
    Ok(inserted)
}

/// Who jobs leased as they are queued go to, and on what terms.
#[derive(Debug, Clone)]
pub struct LeaseTo {
    pub holder: String,
    pub now: NaiveDateTime,
    pub until: NaiveDateTime,
    /// Jobs running at once against one host, across all processes.
    pub host_cap: i64,
    /// Most jobs leased (the holder's free slots).
    pub max: usize,
}

/// Leases to `lease.holder` up to `lease.max` of the just `queued` jobs, in
/// order, at most `lease.host_cap` running per host counting those running
/// anywhere; the others stay pending for any claimer. Call it in the
/// transaction that queued them: nobody sees them unleased. On PostgreSQL
/// it takes the claims' advisory lock (held until that transaction ends),
/// so the per-host cap stays exact across processes.
pub fn lease_queued(
    conn: &mut AnyConnection,
    queued: &[Queued],
    lease: &LeaseTo,
) -> QueryResult<Vec<JobRow>> {
    if queued.is_empty() || lease.max == 0 {
        return Ok(Vec::new());
    }
    if matches!(conn, AnyConnection::Postgresql(_)) {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({CLAIM_LOCK_KEY})"))
            .execute(conn)?;
    }
    let mut hosts: Vec<&str> = queued.iter().filter_map(|(_, h)| h.as_deref()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let mut running: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for chunk in hosts.chunks(INSERT_CHUNK) {
        let counts: Vec<(Option<String>, i64)> = jobs::table
            .filter(status_is("running"))
            .filter(jobs::locked_until.ge(lease.now))
            .filter(jobs::host.eq_any(chunk))
            .group_by(jobs::host)
            .select((jobs::host, diesel::dsl::count_star()))
            .load(conn)?;
        running.extend(counts.into_iter().filter_map(|(h, n)| Some((h?, n))));
    }
    let mut picked = Vec::new();
    for (id, host) in queued {
        if picked.len() >= lease.max {
            break;
        }
        if let Some(host) = host {
            let busy = running.entry(host.clone()).or_insert(0);
            if *busy >= lease.host_cap {
                continue;
            }
            *busy += 1;
        }
        picked.push(*id);
    }
    let mut leased = Vec::with_capacity(picked.len());
    for chunk in picked.chunks(INSERT_CHUNK) {
        let mut rows: Vec<JobRow> = crate::with_backend!(conn, |c| diesel::update(
            jobs::table
                .filter(jobs::id.eq_any(chunk))
                .filter(jobs::status.eq("pending"))
        )
        .set((
            jobs::status.eq("running"),
            jobs::locked_until.eq(Some(lease.until)),
            jobs::lease_holder.eq(Some(&lease.holder)),
            jobs::updated_at.eq(lease.now),
        ))
        .returning(JobRow::as_returning())
        .get_results(c))?;
        rows.sort_unstable_by_key(|row| row.id);
        leased.append(&mut rows);
    }
    Ok(leased)
}

/// Claims due jobs (and jobs whose lease expired), at most `host_cap`
/// running per host counting those already running anywhere. Due jobs are
/// read in order through the `jobs_due` index, at most `$5` of them from
/// hosts below their cap, and only those are ranked per host: the cost of a
/// claim follows its size, not the length of the queue. `{lock}` is
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL and empty on SQLite (one writer).
const CLAIM: &str = "\
WITH busy AS (
    SELECT host, COUNT(*) AS running FROM jobs
    WHERE status = 'running' AND locked_until >= $2
    GROUP BY host
    -- Here, not in WHERE: an index by host would then scan every job.
    HAVING host IS NOT NULL
),
candidates AS (
    SELECT id, host, run_at FROM (
        SELECT id, host, run_at FROM jobs
        WHERE status IN ('pending', 'retrying') AND run_at <= $2
          AND (host IS NULL OR host NOT IN (SELECT host FROM busy WHERE running >= $3))
        ORDER BY run_at, id
        LIMIT $5
    ) due
    UNION ALL
    SELECT id, host, run_at FROM (
        SELECT id, host, run_at FROM jobs
        WHERE status = 'running' AND locked_until < $2
        ORDER BY locked_until
        LIMIT $5
    ) expired
),
ready AS (
    SELECT c.id, c.host,
           ROW_NUMBER() OVER (PARTITION BY c.host ORDER BY c.run_at, c.id) AS place,
           COALESCE(b.running, 0) AS running
    FROM candidates c LEFT JOIN busy b ON b.host = c.host
)
UPDATE jobs SET status = 'running', locked_until = $1, updated_at = $2, lease_holder = $6,
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

/// An arbitrary constant naming the PostgreSQL advisory lock that makes
/// claims of several processes take turns, so the per-host cap they count
/// is exact (a claim is one short statement).
const CLAIM_LOCK_KEY: i64 = 0x0e57_c1a1;

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
            .filter(status_is("running"))
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
    holder: &str,
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
    diesel::update(held(id, holder))
        .set((
            jobs::status.eq(if dead { "dead" } else { "retrying" }),
            jobs::crashes.eq(crashed),
            jobs::attempts.eq(jobs::attempts + 1),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::lease_holder.eq(None::<String>),
            jobs::last_error.eq(Some("the job went over its time limit")),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Claims up to `limit` due jobs (and jobs whose lease expired) for
/// `holder` until `lease_until`, skipping hosts that already have
/// `host_cap` jobs running.
pub fn claim(
    conn: &mut AnyConnection,
    holder: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
    host_cap: i64,
) -> QueryResult<Vec<JobRow>> {
    // Enough due rows to fill the claim even when some hosts are full.
    let window = (limit * 4).max(64);
    crate::with_backend!(conn, |c| {
        // SQLite numbers `?N` parameters explicitly; `$N` would be named.
        let sql = match Backend::of(c) {
            Backend::Postgres => CLAIM.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => CLAIM.replace("{lock}", "").replace('$', "?"),
        };
        let query = diesel::sql_query(sql)
            .bind::<Timestamp, _>(lease_until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(host_cap)
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(window)
            .bind::<Text, _>(holder);
        match Backend::of(c) {
            Backend::Postgres => c.transaction(|c| {
                diesel::sql_query(format!("SELECT pg_advisory_xact_lock({CLAIM_LOCK_KEY})"))
                    .execute(c)?;
                query.load(c)
            }),
            Backend::Sqlite => query.load(c),
        }
    })
}

/// Extends the leases `holder` holds on the running jobs `ids` (jobs still
/// running in that process) to `until`. Returns how many were extended.
pub fn renew(
    conn: &mut AnyConnection,
    holder: &str,
    ids: &[i64],
    until: NaiveDateTime,
) -> QueryResult<usize> {
    let mut renewed = 0;
    for chunk in ids.chunks(500) {
        renewed += diesel::update(
            jobs::table
                .filter(jobs::id.eq_any(chunk))
                .filter(jobs::status.eq("running"))
                .filter(jobs::lease_holder.eq(holder)),
        )
        .set(jobs::locked_until.eq(until))
        .execute(conn)?;
    }
    Ok(renewed)
}

/// Ends every lease at once (they expire now): on SQLite one process owns
/// the database, so at its start every running job belongs to a process
/// that died. The next claim takes them over, counting a crash each.
pub fn expire_all_leases(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let expired = now - chrono::Duration::seconds(1);
    diesel::update(
        jobs::table
            .filter(status_is("running"))
            .filter(jobs::locked_until.ge(expired)),
    )
    .set(jobs::locked_until.eq(expired))
    .execute(conn)
}

/// Marks finished jobs done, `INSERT_CHUNK` a statement, those still
/// running under `holder`'s lease: a job whose lease ran out and that
/// another worker took over is that worker's to record. Returns how many.
/// (The same holds for every outcome below.)
pub fn complete_all(
    conn: &mut AnyConnection,
    holder: &str,
    ids: &[i64],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut completed = 0;
    for chunk in ids.chunks(INSERT_CHUNK) {
        completed += diesel::update(
            jobs::table
                .filter(jobs::id.eq_any(chunk))
                .filter(status_is("running"))
                .filter(jobs::lease_holder.eq(holder)),
        )
        .set((
            jobs::status.eq("done"),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::lease_holder.eq(None::<String>),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(completed)
}

/// A job found by id, and still running under one worker's lease.
type HeldJob<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<jobs::table, i64>,
        diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
    >,
    diesel::dsl::Eq<jobs::lease_holder, &'a str>,
>;

/// Job `id`, while it runs under `holder`'s lease.
fn held(id: i64, holder: &str) -> HeldJob<'_> {
    jobs::table
        .find(id)
        .filter(status_is("running"))
        .filter(jobs::lease_holder.eq(holder))
}

/// Schedules another attempt.
pub fn retry(
    conn: &mut AnyConnection,
    holder: &str,
    id: i64,
    attempts: i32,
    run_at: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(held(id, holder))
        .set((
            jobs::status.eq("retrying"),
            jobs::attempts.eq(attempts),
            jobs::run_at.eq(run_at),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::lease_holder.eq(None::<String>),
            jobs::last_error.eq(Some(error)),
            jobs::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Gives up on a job for good.
pub fn bury(
    conn: &mut AnyConnection,
    holder: &str,
    id: i64,
    attempts: i32,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(held(id, holder))
        .set((
            jobs::status.eq("dead"),
            jobs::attempts.eq(attempts),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::lease_holder.eq(None::<String>),
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

/// Deletes up to `limit` finished jobs last touched before `before` (the
/// `jobs_finished` index finds them). Returns how many.
pub fn prune_done(
    conn: &mut AnyConnection,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let ids: Vec<i64> = jobs::table
        .filter(status_is("done"))
        .filter(jobs::updated_at.lt(before))
        .order(jobs::updated_at)
        .limit(limit)
        .select(jobs::id)
        .load(conn)?;
    let mut deleted = 0;
    for chunk in ids.chunks(500) {
        deleted += diesel::delete(jobs::table.filter(jobs::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(deleted)
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
