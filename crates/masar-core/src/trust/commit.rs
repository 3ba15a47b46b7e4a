//! Commits: the logged-in user's `Signer`, commit messages and their batch verification,
//! value commitments and change digests.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::{id_of, sha256, AuthorCert, Issuer};

/// A logged-in user's certificate and signing key. The key is wiped when dropped.
pub struct Signer {
    /// The certificate other laptops check.
    pub cert: AuthorCert,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("cert", &self.cert.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Pairs a key with its certificate; refuses a key the certificate does not name.
    pub fn new(cert: AuthorCert, key: SigningKey) -> Option<Signer> {
        (hex::encode(key.verifying_key().as_bytes()) == cert.public_key)
            .then_some(Signer { cert, key })
    }

    /// The key's bytes, for the test that looks for it in the database's pages.
    #[cfg(test)]
    pub fn key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// This user's key as an issuer, under their certificate (an administrator's issues).
    pub fn issuer(&self) -> Issuer {
        Issuer::under(self.key.clone(), &self.cert)
    }

    /// Signs a commit of changes with these digests; returns its id and signature.
    pub fn sign_commit(&self, digests: &[[u8; 32]]) -> (String, [u8; 64]) {
        self.sign_message(&commit_message(&self.cert.org, &self.cert.id, digests))
    }

    /// A commit's message with no digest yet: a writer appends each change's digest to it.
    pub fn empty_message(&self) -> Vec<u8> {
        commit_message(&self.cert.org, &self.cert.id, &[])
    }

    /// Signs a commit whose whole message (`commit_message`) is at hand; returns its id
    /// and signature.
    pub fn sign_message(&self, message: &[u8]) -> (String, [u8; 64]) {
        (id_of(message), self.key.sign(message).to_bytes())
    }
}

/// What a commit's author signs: the organisation, the certificate, the changes' digests
/// in order.
pub fn commit_message(org: &str, cert: &str, digests: &[[u8; 32]]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + digests.len() * 32);
    m.extend_from_slice(b"masar-commit/2\0");
    m.extend_from_slice(&sha256(&[org.as_bytes(), cert.as_bytes()]));
    for d in digests {
        m.extend_from_slice(d);
    }
    m
}

/// A commit's id: derived from what its author signed.
#[cfg(test)]
pub fn commit_id(org: &str, cert: &str, digests: &[[u8; 32]]) -> String {
    id_of(&commit_message(org, cert, digests))
}

/// The id of a commit whose whole message is at hand.
pub fn commit_id_of_message(message: &[u8]) -> String {
    id_of(message)
}

/// Checks many commit signatures at once; false if any fails.
pub fn verify_commits(items: &[(Vec<u8>, [u8; 64], VerifyingKey)]) -> bool {
    let messages: Vec<&[u8]> = items.iter().map(|(m, _, _)| m.as_slice()).collect();
    let signatures: Vec<Signature> = items
        .iter()
        .map(|(_, s, _)| Signature::from_bytes(s))
        .collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(_, _, k)| *k).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// A commitment to a field's value: a salted hash for personal data, so that once the
/// value is erased the commitment that stays (to keep the author's signature checkable)
/// cannot be turned back into it by guessing. The field is in it, so two fields of one
/// record that share a salt and a value do not show it.
pub fn value_commitment(salt: Option<&[u8]>, field: &str, value: &str) -> [u8; 32] {
    sha256(&[
        b"masar-value/2",
        salt.unwrap_or_default(),
        field.as_bytes(),
        value.as_bytes(),
    ])
}

/// The hash of a change's signed parts, as a list of byte strings.
pub fn change_digest(parts: &[&[u8]]) -> [u8; 32] {
    sha256(parts)
}
