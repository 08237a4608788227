//! Password hashing: argon2id PHC strings through the `argon2` crate, and
//! verification of Django's `pbkdf2_sha256$...` and `argon2$argon2id$...`
//! hashes so users of a Django database can log in (and get re-hashed).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
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

/// Hashes `password` as an argon2id PHC string (`$argon2id$v=19$...`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        // Only an impossible parameter set fails; an unusable hash (Django's
        // `!` prefix) then refuses every login instead of storing plain text.
        .unwrap_or_else(|_| "!".to_string())
}

/// Checks `password` against `stored`, in constant time for each format.
pub fn check_password(password: &str, stored: &str) -> PasswordCheck {
    if stored.starts_with("$argon2") {
        return match verify_phc(password, stored) {
            true => PasswordCheck::Valid,
            false => PasswordCheck::Invalid,
        };
    }
    let valid = if let Some(phc) = stored.strip_prefix("argon2$") {
        verify_phc(password, &format!("${phc}"))
    } else if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        verify_django_pbkdf2(password, rest)
    } else {
        false
    };
    if valid {
        PasswordCheck::ValidNeedsRehash
    } else {
        PasswordCheck::Invalid
    }
}

fn verify_phc(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
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
    fn ferrobridge_hashes_verify() {
        let hash = hash_password(PASSWORD);
        assert!(hash.starts_with("$argon2id$v=19$"));
        assert_eq!(check_password(PASSWORD, &hash), PasswordCheck::Valid);
        assert_eq!(check_password("wrong", &hash), PasswordCheck::Invalid);
        assert_ne!(hash, hash_password(PASSWORD), "a fresh salt each time");
    }

    #[test]
    fn django_hashes_verify_and_ask_for_a_rehash() {
        // Made by Django's PBKDF2PasswordHasher (1000 iterations to keep the test fast).
        let pbkdf2 = "pbkdf2_sha256$1000$seasalt1234$JlBQ/OWmu3PcCFg2koQd315wDykzd702rqDsH8M7iWI=";
        assert_eq!(
            check_password(PASSWORD, pbkdf2),
            PasswordCheck::ValidNeedsRehash
        );
        assert_eq!(check_password("wrong", pbkdf2), PasswordCheck::Invalid);
        // Django's Argon2PasswordHasher writes `argon2` + argon2-cffi's PHC string.
        let argon = format!("argon2{}", hash_password(PASSWORD));
        assert_eq!(
            check_password(PASSWORD, &argon),
            PasswordCheck::ValidNeedsRehash
        );
        assert_eq!(check_password("wrong", &argon), PasswordCheck::Invalid);
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
        ] {
            assert_eq!(
                check_password(PASSWORD, stored),
                PasswordCheck::Invalid,
                "{stored}"
            );
        }
    }
}
