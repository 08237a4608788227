//! Login throttling shared by `POST /api/auth/token` and the admin's login
//! form: failures are counted per username, per client address and per
//! (address, username) pair, in memory, over [`FAILED_LOGIN_WINDOW`].
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

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per username (and per address and username pair) in one window.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// Failed logins allowed per client address, over every username, in one window.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: u32 = 8;
/// The window over which failed logins are counted.
pub const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// How long a successful login from an address keeps that username trusted there.
pub const TRUSTED_LOGIN_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Entries kept before expired ones are swept, so the maps stay bounded.
const SWEEP_AT: usize = 100_000;

/// Failure counters and trusted (address, username) pairs, shared by every
/// login path of one app. Per process: with several instances, each
/// counts the attempts it serves.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    trusted: Mutex<HashMap<String, Instant>>,
}

fn pair_key(addr: IpAddr, username: &str) -> String {
    format!("{addr}|{username}")
}

impl LoginThrottle {
    fn count(&self, key: &str) -> Option<(u32, Duration)> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (count, since) = failures.get(key)?;
        let elapsed = since.elapsed();
        (elapsed < FAILED_LOGIN_WINDOW).then_some((*count, FAILED_LOGIN_WINDOW - elapsed))
    }

    fn blocked_at(&self, key: &str, limit: u32) -> Option<u64> {
        self.count(key)
            .filter(|(count, _)| *count >= limit)
            .map(|(_, left)| left.as_secs().max(1))
    }

    fn is_trusted(&self, addr: IpAddr, username: &str) -> bool {
        let trusted = self.trusted.lock().unwrap_or_else(|e| e.into_inner());
        trusted
            .get(&pair_key(addr, username))
            .is_some_and(|at| at.elapsed() < TRUSTED_LOGIN_AGE)
    }

    /// Seconds to wait before `username` may try to log in from `addr`
    /// (`None` for a caller whose address is unknown), or `None` when it may
    /// try now.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Option<u64> {
        if let Some(addr) = addr {
            if let Some(wait) = self.blocked_at(&pair_key(addr, username), MAX_FAILED_LOGINS) {
                return Some(wait);
            }
            if self.is_trusted(addr, username) {
                return None;
            }
        }
        let by_user = self.blocked_at(&format!("user:{username}"), MAX_FAILED_LOGINS);
        let by_addr = addr.and_then(|addr| {
            self.blocked_at(&format!("addr:{addr}"), MAX_FAILED_LOGINS_PER_ADDRESS)
        });
        by_user.max(by_addr)
    }

    fn fail_key(&self, key: String) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > SWEEP_AT {
            failures.retain(|_, (_, since)| since.elapsed() < FAILED_LOGIN_WINDOW);
        }
        let entry = failures.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILED_LOGIN_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Records a failed login of `username` from `addr`.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        self.fail_key(format!("user:{username}"));
        if let Some(addr) = addr {
            self.fail_key(format!("addr:{addr}"));
            self.fail_key(pair_key(addr, username));
        }
    }

    /// Records a successful login: the username's failures are forgotten
    /// and the pair is trusted. The address's count stays, so logging in
    /// to an account of one's own does not reset a spraying run.
    pub fn succeeded(&self, username: &str, addr: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&format!("user:{username}"));
        if let Some(addr) = addr {
            failures.remove(&pair_key(addr, username));
            drop(failures);
            let mut trusted = self.trusted.lock().unwrap_or_else(|e| e.into_inner());
            if trusted.len() > SWEEP_AT {
                trusted.retain(|_, at| at.elapsed() < TRUSTED_LOGIN_AGE);
            }
            trusted.insert(pair_key(addr, username), Instant::now());
        }
    }
}
