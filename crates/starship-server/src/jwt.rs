//! JSON Web Tokens signed RS256 (RFC 7515, 7518, 7519), and the public
//! keys as a JWK Set (RFC 7517). No IO: the keys come from `ops::keys`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The size of the keys Starship generates.
pub const KEY_BITS: usize = 2048;

/// A signing key with its key id.
#[derive(Clone)]
pub struct Key {
    pub kid: String,
    pub private: RsaPrivateKey,
}

impl Key {
    /// A fresh key; its id is derived from its public key (RFC 7638 thumbprint).
    pub fn generate() -> Self {
        let private = RsaPrivateKey::new(&mut argon2::password_hash::rand_core::OsRng, KEY_BITS)
            .expect("generating an RSA key with the system's randomness");
        Self { kid: thumbprint(&private.to_public_key()), private }
    }

    pub fn from_pem(kid: &str, pem: &str) -> Option<Self> {
        RsaPrivateKey::from_pkcs8_pem(pem).ok().map(|private| Self { kid: kid.to_string(), private })
    }

    pub fn to_pem(&self) -> String {
        self.private.to_pkcs8_pem(LineEnding::LF).expect("an RSA key encodes as PKCS#8").to_string()
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> Value {
        let public = self.private.to_public_key();
        json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
               "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())})
    }

    /// A compact JWS of `claims`, RS256, naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        // With a random source the private-key operation is blinded, so its
        // timing says nothing of the key (RUSTSEC-2023-0071 is about
        // unblinded, non-constant-time operations).
        let signature = SigningKey::<Sha256>::new(self.private.clone())
            .sign_with_rng(&mut argon2::password_hash::rand_core::OsRng, input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638: SHA-256 of the required members in lexicographic order.
fn thumbprint(public: &RsaPublicKey) -> String {
    let canonical =
        format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(&public.e().to_bytes_be()), b64(&public.n().to_bytes_be()));
    b64(&Sha256::digest(canonical.as_bytes()))
}

/// The claims of a token signed RS256 by one of `keys` (chosen by the
/// header's `kid`); `None` for anything else, however malformed. Times are
/// the caller's to check.
pub fn verify(token: &str, keys: &[Key]) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "RS256" {
        return None;
    }
    let key = keys.iter().find(|k| header["kid"] == k.kid.as_str())?;
    let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(signature).ok()?.as_slice()).ok()?;
    let input = &token[..token.len() - token.rsplit('.').next()?.len() - 1];
    VerifyingKey::<Sha256>::new(key.private.to_public_key()).verify(input.as_bytes(), &signature).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_only_and_not_once_changed() {
        let (one, two) = (Key::generate(), Key::generate());
        assert_ne!(one.kid, two.kid);
        let claims = json!({"sub": "u1", "aud": "backlot-1"});
        let token = one.sign(&claims);
        assert_eq!(verify(&token, &[two.clone(), one.clone()]), Some(claims));
        assert_eq!(verify(&token, std::slice::from_ref(&two)), None, "another key does not verify it");
        let (head, rest) = token.split_once('.').unwrap();
        let forged_claims = b64(json!({"sub": "u2", "aud": "backlot-1"}).to_string().as_bytes());
        let forged = format!("{head}.{forged_claims}.{}", rest.rsplit('.').next().unwrap());
        assert_eq!(verify(&forged, std::slice::from_ref(&one)), None);
        let none_alg = format!("{}.{forged_claims}.", b64(br#"{"alg":"none","kid":"x"}"#));
        assert_eq!(verify(&none_alg, std::slice::from_ref(&one)), None);
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert_eq!(verify(junk, std::slice::from_ref(&one)), None, "{junk}");
        }
        let again = Key::from_pem(&one.kid, &one.to_pem()).unwrap();
        assert_eq!(verify(&again.sign(&json!({"a": 1})), &[one]), Some(json!({"a": 1})));
    }
}
