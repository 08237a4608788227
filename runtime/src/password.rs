//! Password hashing in Django's own formats, so a database ferrobridge
//! serves stays usable by Django: new hashes are argon2id written as
//! Django's `Argon2PasswordHasher` writes them (`argon2$argon2id$v=19$...`,
//! the `argon2` crate's PHC string behind Django's algorithm name), and
//! Django's `pbkdf2_sha256$...` hashes verify (and are re-hashed at login).
//! Hashes of ferrobridge versions before Django's format was kept (a bare
//! `$argon2id$...` PHC string, which Django refuses as "unknown hashing
//! algorithm") verify too and are rewritten in Django's form at login.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2};
use base64::Engine;
use subtle::ConstantTimeEq;

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// Wrong password, or an unusable or unknown hash.
    Invalid,
    /// Right password, stored in ferrobridge's format.
    Valid,
    /// Right password, stored in another format: store a fresh hash.
    ValidNeedsRehash,
}

/// Django's name for argon2 hashes, prefixed to the PHC string.
const DJANGO_ARGON2: &str = "argon2";

/// Hashes `password` as Django's `Argon2PasswordHasher` stores it:
/// `argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. Django verifies it
/// when `argon2-cffi` is installed (`pip install django[argon2]`); its
/// default `PASSWORD_HASHERS` list the argon2 hasher.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| format!("{DJANGO_ARGON2}{hash}"))
        // Only an impossible parameter set fails; an unusable hash (Django's
        // `!` prefix) then refuses every login instead of storing plain text.
        .unwrap_or_else(|_| "!".to_string())
}

/// Checks `password` against `stored`, in constant time for each format.
pub fn check_password(password: &str, stored: &str) -> PasswordCheck {
    let (valid, current) = if let Some(phc) = stored.strip_prefix(DJANGO_ARGON2) {
        // Django's form; argon2i/argon2d hashes of old Django versions are
        // upgraded to argon2id, as Django's own `must_update` would.
        let (valid, algorithm) = verify_phc(password, phc);
        (valid, algorithm == Some(Algorithm::Argon2id))
    } else if stored.starts_with("$argon2") {
        (verify_phc(password, stored).0, false)
    } else if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        (verify_django_pbkdf2(password, rest), false)
    } else {
        (false, false)
    };
    match (valid, current) {
        (false, _) => PasswordCheck::Invalid,
        (true, true) => PasswordCheck::Valid,
        (true, false) => PasswordCheck::ValidNeedsRehash,
    }
}

/// Verifies a PHC string (`$argon2id$v=19$...`); also says which argon2
/// variant it was made with.
fn verify_phc(password: &str, phc: &str) -> (bool, Option<Algorithm>) {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return (false, None);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).ok();
    let valid = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    (valid, algorithm)
}

/// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 digest>`.
fn verify_django_pbkdf2(password: &str, rest: &str) -> bool {
    let mut parts = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(expected)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    if iterations == 0 || iterations > 10_000_000 {
        return false;
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
        return false;
    };
    let mut derived = vec![0u8; expected.len().max(1)];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
        password.as_bytes(),
        salt.as_bytes(),
        iterations,
        &mut derived,
    );
    derived.ct_eq(&expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse battery staple";

    #[test]
    fn ferrobridge_hashes_are_in_djangos_argon2_format() {
        let hash = hash_password(PASSWORD);
        assert!(hash.starts_with("argon2$argon2id$v=19$"), "{hash}");
        assert_eq!(check_password(PASSWORD, &hash), PasswordCheck::Valid);
        assert_eq!(check_password("wrong", &hash), PasswordCheck::Invalid);
        assert_ne!(hash, hash_password(PASSWORD), "a fresh salt each time");
    }

    #[test]
    fn django_hashes_verify() {
        // Made by Django's PBKDF2PasswordHasher (1000 iterations to keep the test fast).
        let pbkdf2 = "pbkdf2_sha256$1000$seasalt1234$JlBQ/OWmu3PcCFg2koQd315wDykzd702rqDsH8M7iWI=";
        assert_eq!(
            check_password(PASSWORD, pbkdf2),
            PasswordCheck::ValidNeedsRehash
        );
        assert_eq!(check_password("wrong", pbkdf2), PasswordCheck::Invalid);
        // Django's Argon2PasswordHasher encoding (argon2-cffi's `hash_secret`,
        // small parameters to keep the test fast): kept as it is.
        let argon2id = "argon2$argon2id$v=19$m=512,t=2,p=2$ZGphbmdvc2FsdDEyMzQ1Njc4OTBhYg$PbdQGtPQb9Tx049MtbX/tMyavYK3LOnc7XCxJgaE6tQ";
        assert_eq!(check_password(PASSWORD, argon2id), PasswordCheck::Valid);
        assert_eq!(check_password("wrong", argon2id), PasswordCheck::Invalid);
        // Django before 3.2 wrote argon2i: upgraded to argon2id.
        let argon2i = "argon2$argon2i$v=19$m=512,t=2,p=2$ZGphbmdvc2FsdDEyMzQ1Njc4OTBhYg$T4vKU4CwqKrBMec7aPrpaoZ12qUzv/osWbYu0aqLwbc";
        assert_eq!(
            check_password(PASSWORD, argon2i),
            PasswordCheck::ValidNeedsRehash
        );
        assert_eq!(check_password("wrong", argon2i), PasswordCheck::Invalid);
    }

    #[test]
    fn bare_phc_hashes_of_older_versions_verify_and_are_rewritten() {
        let bare = hash_password(PASSWORD)
            .strip_prefix("argon2")
            .expect("Django's prefix")
            .to_string();
        assert!(bare.starts_with("$argon2id$"));
        assert_eq!(
            check_password(PASSWORD, &bare),
            PasswordCheck::ValidNeedsRehash
        );
        assert_eq!(check_password("wrong", &bare), PasswordCheck::Invalid);
    }

    #[test]
    fn unusable_and_garbage_hashes_never_verify() {
        for stored in [
            "!",
            "!abc",
            "",
            "md5$x$y",
            "pbkdf2_sha256$x$y$z",
            "pbkdf2_sha256$0$s$AAAA",
            "$argon2id$bad",
            "argon2$argon2id$bad",
            "argon2",
            "argon2$",
        ] {
            assert_eq!(
                check_password(PASSWORD, stored),
                PasswordCheck::Invalid,
                "{stored}"
            );
        }
    }
}
