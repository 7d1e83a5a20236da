//! The `estuary` binary as a subprocess against a test database: JSON on
//! stdout on success, one line on stderr on failure.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

use super::TestDb;

/// Base URL the command line is given.
pub const CLI_BASE_URL: &str = "https://social.example";

/// Runs `estuary ARGS` on `db`'s database from its folder.
pub fn estuary(db: &TestDb, args: &[&str]) -> Output {
    estuary_at(&db.url, db.dir.path(), args)
}

/// Runs `estuary ARGS` with `DATABASE_URL=database_url` from `cwd`.
pub fn estuary_at(database_url: &str, cwd: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_estuary"))
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("ESTUARY_BASE_URL", CLI_BASE_URL)
        .output()
        .expect("run estuary")
}

pub fn json_stdout(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Asserts a failure with exactly one line on stderr containing `needle`.
pub fn assert_refused(output: &Output, needle: &str) {
    assert!(!output.status.success(), "should fail: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(
        stderr.contains(needle),
        "{stderr:?} should mention {needle:?}"
    );
    assert!(output.stdout.is_empty(), "nothing on stdout");
}
