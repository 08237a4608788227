//! The benchmark's depth scenario: a large table listed with cursor
//! (keyset) pages in its default ordering, newest first, so a page near the
//! end can be compared with the first. `cargo xtask bench` migrates a fresh
//! SQLite file with `permissions depth migrate`, fills it with
//! `permissions depth fill --rows 1000000` and serves it with
//! `permissions depth serve`.

use std::time::Duration;

use anyhow::Context;
use ferrobridge::prelude::*;

/// One entry of the large table: rows are numbered in time order, entry `i`
/// created `i` seconds after [`EPOCH`].
#[derive(Model, Clone, Debug)]
#[model(app = "depth", ordering = "-created_at")]
#[api(read(pk, title, created_at), policy = "allow_any")]
pub struct Entry {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 200)]
    pub title: String,
    #[field(auto_now_add)]
    pub created_at: DateTimeUtc,
}

/// When entry 0 would have been created (entries start at 1).
pub const EPOCH: &str = "2026-01-01T00:00:00Z";

/// The app: `Entry`'s generated endpoints at `/entries`, nothing else.
pub fn app() -> ferrobridge::App {
    ferrobridge::App::new("depth")
        .without_auth()
        .model_at::<Entry>("/entries")
        // Written by `cargo run -p permissions -- depth makemigrations`.
        .migrations(crate::migrations_depth::all())
}

/// Appends `rows` entries to the migrated `depth_entry` table of the SQLite
/// file `url` names, in one transaction with one prepared statement: a
/// million rows take seconds, where inserts through the API would take
/// minutes. Datetimes are written as ferrobridge stores them on SQLite
/// (`YYYY-MM-DD HH:MM:SS`, UTC), so the API orders and pages them as its own.
pub fn fill(url: &str, rows: u64) -> anyhow::Result<()> {
    let path = crate::variants::rusqlite::sqlite_path(url)?;
    let mut connection = rusqlite::Connection::open(&path)
        .with_context(|| format!("cannot open the SQLite file {path}"))?;
    connection.busy_timeout(Duration::from_secs(5))?;
    let epoch = chrono::DateTime::parse_from_rfc3339(EPOCH)?.to_utc();
    let txn = connection.transaction()?;
    let start: u64 = txn.query_row("SELECT COALESCE(MAX(id), 0) FROM depth_entry", [], |r| {
        r.get::<_, i64>(0)
    })? as u64;
    {
        let mut insert =
            txn.prepare("INSERT INTO depth_entry (id, title, created_at) VALUES (?1, ?2, ?3)")?;
        for i in start + 1..=start + rows {
            let at = epoch + chrono::Duration::seconds(i as i64);
            insert.execute(rusqlite::params![
                i as i64,
                format!("entry {i}"),
                at.format("%Y-%m-%d %H:%M:%S").to_string()
            ])?;
        }
    }
    txn.commit()?;
    Ok(())
}
