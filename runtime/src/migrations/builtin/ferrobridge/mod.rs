//! The migrations of app `ferrobridge`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;
mod m0002_externalidentity;
mod m0003_loginfailure_trustedlogin;

/// The migrations of app `ferrobridge`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "ferrobridge",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations/builtin/ferrobridge",
    )
    .migration(m0001_initial::migration())
    .migration(m0002_externalidentity::migration())
    .migration(m0003_loginfailure_trustedlogin::migration())
}
