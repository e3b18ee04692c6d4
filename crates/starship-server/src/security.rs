//! Secrets: password hashes (argon2id) and random tokens stored as hashes.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use starship_core::domain::Password;

/// OWASP's argon2id recommendation: 19 MiB of memory, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &Password) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

/// A hash nobody's password matches, verified when the account does not
/// exist so both failures take the same time.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    hash_password(&Password::parse("password", "decoy password that never matches").expect("decoy is long enough"))
});

pub fn verify_password(candidate: &str, stored: Option<&str>) -> bool {
    let stored = stored.unwrap_or(&DECOY_HASH);
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2().verify_password(candidate.as_bytes(), &parsed).is_ok() && stored != DECOY_HASH.as_str()
}

/// A fresh secret: 256 random bits, URL-safe, with a prefix that says what
/// it is (so a leaked one is recognisable in logs and scanners).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a secret. High-entropy secrets need no salt
/// or slow hash: SHA-256 cannot be reversed and leaves nothing to guess.
pub fn secret_hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let password = Password::parse("password", "correct horse battery").unwrap();
        let hash = hash_password(&password);
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery!", Some(&hash)));
        assert!(!verify_password("anything", None));
        assert!(!verify_password("decoy password that never matches", None));
    }

    #[test]
    fn secrets_are_random_and_stored_as_hashes() {
        let a = new_secret("sst_");
        let b = new_secret("sst_");
        assert_ne!(a, b);
        assert!(a.starts_with("sst_") && a.len() > 40);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
        assert_eq!(secret_hash(&a).len(), 64);
    }
}
