//! SQLite's `lower()` folds ASCII letters only (`lower('ÉCOLE')` is
//! `École`), while PostgreSQL's and MySQL's fold every letter. The
//! case-insensitive lookups and search fold with `lower()`, so on SQLite
//! every connection ferrobridge opens replaces it with one that folds as
//! Rust's [`str::to_lowercase`] does: `?city__icontains=école` then finds
//! `ÉCOLE` on all three backends.
//!
//! A connection opened elsewhere (the `sqlite3` shell, Django) keeps the
//! built-in: its queries still run, folding ASCII only.

use sea_orm::sqlx::sqlite::SqliteConnection;

use libsqlite3_sys as ffi;

/// The function's name, NUL-terminated for the C API.
const NAME: &[u8] = b"lower\0";

/// Registers the Unicode `lower(X)` on `connection`, overriding SQLite's
/// built-in of one argument for this connection.
pub(crate) async fn register(
    connection: &mut SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the live handle `lock_handle` keeps locked for this call.
    let code = unsafe { create(db) };
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Configuration(
            format!("registering SQLite's Unicode lower() failed with code {code}").into(),
        ))
    }
}

/// [`register`] on a rusqlite connection (the in-thread pool's).
pub(crate) fn register_on(connection: &rusqlite::Connection) -> rusqlite::Result<()> {
    // SAFETY: the handle is live while `connection` is borrowed, and
    // rusqlite's connections are used from one thread at a time.
    let code = unsafe { create(connection.handle()) };
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(code),
            Some("registering SQLite's Unicode lower() failed".into()),
        ))
    }
}

/// Creates the function on `db`.
///
/// # Safety
/// `db` must be a live connection handle not used by another thread
/// during the call.
unsafe fn create(db: *mut ffi::sqlite3) -> std::os::raw::c_int {
    // SAFETY: per this function's contract; the name is NUL-terminated and
    // static; `fold` has the xFunc signature SQLite calls and no user data
    // to free.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            NAME.as_ptr().cast(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            std::ptr::null_mut(),
            Some(fold),
            None,
            None,
            None,
        )
    }
}

/// `lower(X)`: NULL stays NULL; anything else is read as UTF-8 text (as
/// the built-in reads it) and lower-cased by Unicode's rules.
///
/// # Safety
/// Called by SQLite only, with `args` holding `n_arg` (= 1) values.
unsafe extern "C" fn fold(
    ctx: *mut ffi::sqlite3_context,
    n_arg: std::os::raw::c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes `n_arg` valid values in `args` and a live
    // context; the text pointer it returns is valid for the value's byte
    // length until the value changes, which it does not during this call;
    // SQLITE_TRANSIENT makes SQLite copy the result before `lowered` drops.
    unsafe {
        if n_arg != 1 {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let value = *args;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let text = ffi::sqlite3_value_text(value);
        let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
        let bytes = if text.is_null() || len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(text, len)
        };
        let lowered = String::from_utf8_lossy(bytes).to_lowercase();
        ffi::sqlite3_result_text64(
            ctx,
            lowered.as_ptr().cast(),
            lowered.len() as u64,
            ffi::SQLITE_TRANSIENT(),
            ffi::SQLITE_UTF8 as u8,
        );
    }
}
