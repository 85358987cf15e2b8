//! Signed plugins: a publisher registers an Ed25519 public key; `cove
//! plugin sign` signs a component's SHA-256 digest (the 32 raw bytes) with
//! the secret key; `publish` checks the signature against the key of the
//! publisher the upload names. Keys and signatures travel as hex.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// A new key pair: (secret, public), hex.
pub fn keygen() -> (String, String) {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    (
        hex::encode(key.to_bytes()),
        hex::encode(key.verifying_key().to_bytes()),
    )
}

/// The public key of secret key `secret` (hex).
pub fn public_of(secret: &str) -> Result<String, String> {
    Ok(hex::encode(signing_key(secret)?.verifying_key().to_bytes()))
}

fn signing_key(secret: &str) -> Result<SigningKey, String> {
    let bytes: [u8; 32] = hex::decode(secret.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("a secret key is 64 hex digits")?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// The signature (hex) of `wasm`'s SHA-256 digest with secret key `secret`.
pub fn sign(secret: &str, wasm: &[u8]) -> Result<String, String> {
    let digest = Sha256::digest(wasm);
    Ok(hex::encode(signing_key(secret)?.sign(&digest).to_bytes()))
}

/// Whether `public_key` is a usable Ed25519 public key (hex).
pub fn valid_public_key(public_key: &str) -> bool {
    verifying_key(public_key).is_ok()
}

fn verifying_key(public_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(public_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("a public key is 64 hex digits")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_string())
}

/// Check `signature` (hex) over the SHA-256 digest `digest` with
/// `public_key` (hex).
pub fn verify(public_key: &str, digest: &[u8], signature: &str) -> Result<(), String> {
    let key = verifying_key(public_key)?;
    let bytes: [u8; 64] = hex::decode(signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("a signature is 128 hex digits")?;
    key.verify(digest, &Signature::from_bytes(&bytes))
        .map_err(|_| "the signature does not match this component and key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_bytes_and_key_only() {
        let (secret, public) = keygen();
        assert_eq!(public_of(&secret).unwrap(), public);
        let wasm = b"\0asm component bytes";
        let sig = sign(&secret, wasm).unwrap();
        let digest = Sha256::digest(wasm);
        assert!(verify(&public, &digest, &sig).is_ok());
        assert!(verify(&public, &Sha256::digest(b"other bytes"), &sig).is_err());
        let (_, other) = keygen();
        assert!(verify(&other, &digest, &sig).is_err());
        assert!(verify(&public, &digest, "00").is_err());
        assert!(!valid_public_key("not hex"));
    }
}
