//! Login throttling shared by `POST /api/auth/token` and the admin's login
//! form: failures are counted per username, per client address and per
//! (address, username) pair, over [`FAILED_LOGIN_WINDOW`], in the database
//! (`ferrobridge_login_failure`, `ferrobridge_trusted_login`), so every
//! instance serving one database counts the same failures.
//!
//! - A username with [`MAX_FAILED_LOGINS`] failures is refused (429) for
//!   the rest of the window: password guessing against one account.
//! - An address with [`MAX_FAILED_LOGINS_PER_ADDRESS`] failures, whatever the
//!   usernames, is refused: password spraying across many accounts.
//! - Neither lock applies to a username that logged in successfully from
//!   that address within [`TRUSTED_LOGIN_AGE`]: people behind a shared
//!   address (an office, a proxy) who log in correctly are not locked out
//!   by someone else's failures, nor by an attacker elsewhere guessing their
//!   password. Such a pair has its own limit of [`MAX_FAILED_LOGINS`].
//! - A username never seen from an address (a first login behind an address
//!   under attack) is refused until the window passes: it cannot be told
//!   apart from the next name of a spraying run.
//!
//! A count is incremented by one upsert whose `ON CONFLICT` clause adds one
//! in SQL (or restarts an expired window), so instances recording failures
//! at the same moment never lose one. Rows past their window (or trust) are
//! deleted as new ones are written, which keeps the tables as small as the
//! last few minutes' failures and the last month's logins.
//!
//! When the database cannot be read or written, callers refuse the login
//! (503) rather than let it through: a throttle that waves attempts by
//! whenever its table fails would let an attacker guess without limit by
//! making the database busy, and a login cannot succeed without the
//! database anyway (the user, the session or the token live there).

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::models::{login_failure, trusted_login};
use crate::db::Connection;

/// Failed logins allowed per username (and per address and username pair) in one window.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// Failed logins allowed per client address, over every username, in one window.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: u32 = 8;
/// The window over which failed logins are counted.
pub const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// How long a successful login from an address keeps that username trusted there.
pub const TRUSTED_LOGIN_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// The login throttle of every login path of an app. It holds nothing:
/// the counts live in the database, so instances sharing one count
/// together.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginThrottle;

/// The stored key of a counter or trust: hex SHA-256 of its name, so no
/// typed username (a password in the wrong field, say) is stored, and any
/// length fits the column.
fn key(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An address holds no `|` and the prefixes differ, so no two counters share a name.
fn user_key(username: &str) -> String {
    key(&format!("user:{username}"))
}

fn addr_key(addr: IpAddr) -> String {
    key(&format!("addr:{addr}"))
}

fn pair_key(addr: IpAddr, username: &str) -> String {
    key(&format!("pair:{addr}|{username}"))
}

fn before(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(age).expect("the throttle's ages fit")
}

impl LoginThrottle {
    /// Seconds to wait before `username` may try to log in from `addr`
    /// (`None` for a caller whose address is unknown), or `None` when it may
    /// try now.
    pub async fn check(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
    ) -> Result<Option<u64>, DbErr> {
        self.check_at(db, username, addr, Utc::now()).await
    }

    /// Records a failed login of `username` from `addr`.
    pub async fn failed(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
    ) -> Result<(), DbErr> {
        self.failed_at(db, username, addr, Utc::now()).await
    }

    /// Records a successful login: the username's failures are forgotten
    /// and the pair is trusted. The address's count stays, so logging in
    /// to an account of one's own does not reset a spraying run.
    pub async fn succeeded(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
    ) -> Result<(), DbErr> {
        self.succeeded_at(db, username, addr, Utc::now()).await
    }

    /// [`LoginThrottle::check`] as of `now`.
    async fn check_at(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, DbErr> {
        let user = user_key(username);
        let mut keys = vec![user.clone()];
        if let Some(addr) = addr {
            keys.extend([addr_key(addr), pair_key(addr, username)]);
        }
        let counts = login_failure::Entity::find()
            .filter(login_failure::Column::Key.is_in(keys))
            .filter(login_failure::Column::WindowStart.gt(before(now, FAILED_LOGIN_WINDOW)))
            .all(db)
            .await?;
        // Seconds left of `key`'s window when it has `limit` failures.
        let blocked_at = |key: &str, limit: u32| {
            counts
                .iter()
                .find(|row| row.key == key)
                .filter(|row| u32::try_from(row.failures).unwrap_or(0) >= limit)
                .map(|row| {
                    let ends = row.window_start
                        + chrono::Duration::from_std(FAILED_LOGIN_WINDOW).expect("the window fits");
                    u64::try_from((ends - now).num_seconds())
                        .unwrap_or(0)
                        .max(1)
                })
        };
        if let Some(addr) = addr {
            let pair = pair_key(addr, username);
            if let Some(wait) = blocked_at(&pair, MAX_FAILED_LOGINS) {
                return Ok(Some(wait));
            }
            let trusted = trusted_login::Entity::find()
                .filter(trusted_login::Column::Key.eq(pair))
                .filter(trusted_login::Column::LoggedInAt.gt(before(now, TRUSTED_LOGIN_AGE)))
                .one(db)
                .await?;
            if trusted.is_some() {
                return Ok(None);
            }
        }
        let by_user = blocked_at(&user, MAX_FAILED_LOGINS);
        let by_addr =
            addr.and_then(|addr| blocked_at(&addr_key(addr), MAX_FAILED_LOGINS_PER_ADDRESS));
        Ok(by_user.max(by_addr))
    }

    /// [`LoginThrottle::failed`] as of `now`.
    async fn failed_at(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::WindowStart.lte(before(now, FAILED_LOGIN_WINDOW)))
            .exec(db)
            .await?;
        let mut keys = vec![user_key(username)];
        if let Some(addr) = addr {
            keys.extend([addr_key(addr), pair_key(addr, username)]);
        }
        count_failures(db, keys, now).await
    }

    /// [`LoginThrottle::succeeded`] as of `now`.
    async fn succeeded_at(
        &self,
        db: &Connection,
        username: &str,
        addr: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let mut forgotten = vec![user_key(username)];
        if let Some(addr) = addr {
            forgotten.push(pair_key(addr, username));
        }
        login_failure::Entity::delete_many()
            .filter(login_failure::Column::Key.is_in(forgotten))
            .exec(db)
            .await?;
        let Some(addr) = addr else {
            return Ok(());
        };
        trusted_login::Entity::delete_many()
            .filter(trusted_login::Column::LoggedInAt.lte(before(now, TRUSTED_LOGIN_AGE)))
            .exec(db)
            .await?;
        let mut insert = Query::insert();
        insert
            .into_table(trusted_login::Entity)
            .columns([
                trusted_login::Column::Key,
                trusted_login::Column::LoggedInAt,
            ])
            .values_panic([pair_key(addr, username).into(), now.into()])
            .on_conflict(
                OnConflict::column(trusted_login::Column::Key)
                    .value(trusted_login::Column::LoggedInAt, now)
                    .to_owned(),
            );
        db.execute(&insert).await?;
        Ok(())
    }
}

/// Adds one failure, as of `now`, to each counter of `keys` (inserting it
/// at one, or restarting it at one when its window has passed).
async fn count_failures(
    db: &Connection,
    keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    // Scoped: its `max` and `add` shadow the integers' own elsewhere.
    use sea_orm::sea_query::ExprTrait;
    // One statement for every counter, always in the same order (user,
    // address, pair), so two instances upserting at once lock the rows
    // in one order and cannot deadlock. A row whose window has passed (one
    // the caller's delete missed, written by another instance since)
    // starts a new window.
    let column = |c: login_failure::Column| Expr::col((login_failure::Entity, c));
    let window_over =
        column(login_failure::Column::WindowStart).lte(before(now, FAILED_LOGIN_WINDOW));
    let mut insert = Query::insert();
    insert.into_table(login_failure::Entity).columns([
        login_failure::Column::Key,
        login_failure::Column::Failures,
        login_failure::Column::WindowStart,
    ]);
    for key in keys {
        insert.values_panic([key.into(), 1.into(), now.into()]);
    }
    insert.on_conflict(
        OnConflict::column(login_failure::Column::Key)
            .value(
                login_failure::Column::Failures,
                Expr::case(window_over.clone(), 1)
                    .finally(column(login_failure::Column::Failures).add(1)),
            )
            .value(
                login_failure::Column::WindowStart,
                Expr::case(window_over, now).finally(column(login_failure::Column::WindowStart)),
            )
            .to_owned(),
    );
    db.execute(&insert).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{PaginatorTrait, Schema};

    /// A private in-memory database with the throttle's two tables.
    async fn database() -> Connection {
        let db = crate::db::connect_with("sqlite::memory:", crate::db::PoolSettings::default())
            .await
            .expect("sqlite in memory");
        let schema = Schema::new(db.get_database_backend());
        db.execute(&schema.create_table_from_entity(login_failure::Entity))
            .await
            .expect("failure table");
        db.execute(&schema.create_table_from_entity(trusted_login::Entity))
            .await
            .expect("trust table");
        db
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a time")
    }

    const OFFICE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    #[tokio::test]
    async fn a_username_is_refused_after_its_limit_for_the_rest_of_the_window() {
        let (db, t) = (database().await, LoginThrottle);
        for i in 0..MAX_FAILED_LOGINS {
            assert_eq!(
                t.check_at(&db, "ann", None, at(i.into())).await.unwrap(),
                None
            );
            t.failed_at(&db, "ann", None, at(i.into())).await.unwrap();
        }
        // The window started at the first failure: 300 - 10 seconds are left.
        assert_eq!(
            t.check_at(&db, "ann", None, at(10)).await.unwrap(),
            Some(290)
        );
        assert_eq!(
            t.check_at(&db, "ann", HOME, at(10)).await.unwrap(),
            Some(290)
        );
        assert_eq!(t.check_at(&db, "bob", None, at(10)).await.unwrap(), None);
        // Never less than a second, then free when the window has passed.
        assert_eq!(
            t.check_at(&db, "ann", None, at(299)).await.unwrap(),
            Some(1)
        );
        assert_eq!(t.check_at(&db, "ann", None, at(300)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_failure_after_the_window_starts_a_new_count() {
        let (db, t) = (database().await, LoginThrottle);
        for i in 0..4 {
            t.failed_at(&db, "ann", None, at(i)).await.unwrap();
        }
        // The four old failures are forgotten: four more are allowed.
        for i in 0..4 {
            t.failed_at(&db, "ann", None, at(400 + i)).await.unwrap();
        }
        assert_eq!(t.check_at(&db, "ann", None, at(404)).await.unwrap(), None);
        t.failed_at(&db, "ann", None, at(405)).await.unwrap();
        assert_eq!(
            t.check_at(&db, "ann", None, at(405)).await.unwrap(),
            Some(295)
        );
    }

    #[tokio::test]
    async fn a_counter_whose_window_passed_restarts_at_one() {
        // Without the delete `failed` runs first: the upsert alone restarts it.
        let db = database().await;
        let keys = || vec![user_key("ann"), user_key("bob")];
        for _ in 0..3 {
            count_failures(&db, keys(), at(0)).await.unwrap();
        }
        count_failures(&db, vec![user_key("bob")], at(100))
            .await
            .unwrap();
        count_failures(&db, keys(), at(300)).await.unwrap();
        let ann = login_failure::Entity::find_by_id(user_key("ann"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ann.failures, ann.window_start), (1, at(300)));
        let bob = login_failure::Entity::find_by_id(user_key("bob"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((bob.failures, bob.window_start), (1, at(300)));
        count_failures(&db, keys(), at(301)).await.unwrap();
        let ann = login_failure::Entity::find_by_id(user_key("ann"))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((ann.failures, ann.window_start), (2, at(300)));
    }

    #[tokio::test]
    async fn an_address_spraying_many_names_is_refused_for_new_names() {
        let (db, t) = (database().await, LoginThrottle);
        for i in 0..MAX_FAILED_LOGINS_PER_ADDRESS {
            let name = format!("sprayed{i}");
            assert_eq!(t.check_at(&db, &name, OFFICE, at(0)).await.unwrap(), None);
            t.failed_at(&db, &name, OFFICE, at(0)).await.unwrap();
        }
        assert_eq!(
            t.check_at(&db, "carol", OFFICE, at(1)).await.unwrap(),
            Some(299)
        );
        assert_eq!(t.check_at(&db, "carol", HOME, at(1)).await.unwrap(), None);
        // Without an address only the username counts.
        assert_eq!(t.check_at(&db, "carol", None, at(1)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_trusted_pair_passes_the_locks_until_its_own_limit() {
        let (db, t) = (database().await, LoginThrottle);
        t.succeeded_at(&db, "bob", OFFICE, at(0)).await.unwrap();
        // Someone at the office sprays, and someone elsewhere guesses bob's password.
        for i in 0..MAX_FAILED_LOGINS_PER_ADDRESS {
            t.failed_at(&db, &format!("sprayed{i}"), OFFICE, at(1))
                .await
                .unwrap();
        }
        for _ in 0..MAX_FAILED_LOGINS {
            t.failed_at(&db, "bob", HOME, at(1)).await.unwrap();
        }
        assert_eq!(
            t.check_at(&db, "bob", HOME, at(2)).await.unwrap(),
            Some(299)
        );
        assert_eq!(t.check_at(&db, "bob", OFFICE, at(2)).await.unwrap(), None);
        // The pair's own failures lock it.
        for _ in 0..MAX_FAILED_LOGINS {
            t.failed_at(&db, "bob", OFFICE, at(3)).await.unwrap();
        }
        assert_eq!(
            t.check_at(&db, "bob", OFFICE, at(4)).await.unwrap(),
            Some(299)
        );
        // Trust ends with its age.
        let old = at(i64::try_from(TRUSTED_LOGIN_AGE.as_secs()).unwrap());
        t.succeeded_at(&db, "dan", OFFICE, old).await.unwrap();
        for i in 0..MAX_FAILED_LOGINS_PER_ADDRESS {
            t.failed_at(&db, &format!("late{i}"), OFFICE, old)
                .await
                .unwrap();
        }
        assert!(t.check_at(&db, "bob", OFFICE, old).await.unwrap().is_some());
        assert_eq!(t.check_at(&db, "dan", OFFICE, old).await.unwrap(), None);
    }

    #[tokio::test]
    async fn success_forgets_the_username_but_not_the_address() {
        let (db, t) = (database().await, LoginThrottle);
        for _ in 0..MAX_FAILED_LOGINS - 1 {
            t.failed_at(&db, "ann", OFFICE, at(0)).await.unwrap();
        }
        for i in 0..4 {
            t.failed_at(&db, &format!("other{i}"), OFFICE, at(0))
                .await
                .unwrap();
        }
        t.succeeded_at(&db, "ann", OFFICE, at(1)).await.unwrap();
        t.failed_at(&db, "ann", None, at(2)).await.unwrap();
        assert_eq!(t.check_at(&db, "ann", None, at(2)).await.unwrap(), None);
        // The address had eight failures: a new name there is refused.
        assert_eq!(
            t.check_at(&db, "zed", OFFICE, at(2)).await.unwrap(),
            Some(298)
        );
    }

    #[tokio::test]
    async fn expired_rows_are_deleted_as_new_ones_are_written() {
        let (db, t) = (database().await, LoginThrottle);
        for i in 0..50 {
            t.failed_at(&db, &format!("name{i}"), OFFICE, at(0))
                .await
                .unwrap();
            t.succeeded_at(&db, &format!("name{i}"), HOME, at(0))
                .await
                .unwrap();
        }
        // 50 user counters and 1 address counter, plus 50 pairs, minus the
        // user counters the successes cleared; 50 trusted pairs.
        assert_eq!(login_failure::Entity::find().count(&db).await.unwrap(), 51);
        assert_eq!(trusted_login::Entity::find().count(&db).await.unwrap(), 50);
        t.failed_at(&db, "late", None, at(300)).await.unwrap();
        assert_eq!(login_failure::Entity::find().count(&db).await.unwrap(), 1);
        let month = at(i64::try_from(TRUSTED_LOGIN_AGE.as_secs()).unwrap());
        t.succeeded_at(&db, "late", HOME, month).await.unwrap();
        assert_eq!(trusted_login::Entity::find().count(&db).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn concurrent_failures_are_all_counted() {
        let dir = std::env::temp_dir().join(format!("throttle-{}.sqlite3", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", dir.display());
        let first = crate::db::connect_with(&url, crate::db::PoolSettings::default())
            .await
            .unwrap();
        let schema = Schema::new(first.get_database_backend());
        for create in [
            schema.create_table_from_entity(login_failure::Entity),
            schema.create_table_from_entity(trusted_login::Entity),
        ] {
            first.execute(&create).await.unwrap();
        }
        let second = crate::db::connect_with(&url, crate::db::PoolSettings::default())
            .await
            .unwrap();
        let runs = [first.clone(), second.clone()].map(|db| {
            tokio::spawn(async move {
                for _ in 0..20 {
                    LoginThrottle.failed(&db, "ann", OFFICE).await.unwrap();
                }
            })
        });
        for run in runs {
            run.await.unwrap();
        }
        let row = login_failure::Entity::find_by_id(user_key("ann"))
            .one(&first)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.failures, 40);
        first.close().await.ok();
        second.close().await.ok();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }
}
