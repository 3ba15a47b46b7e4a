//! The founders' replacement of the organisation's root (`RootRotation`).

use ed25519_dalek::{Signer as _, SigningKey, Verifier};
use serde::{Deserialize, Serialize};

use super::{signature, verifying_key};

/// The founders' replacement of the organisation's root: the old root and the new both
/// sign it, and it lists what the old root signed that stays valid (what the rotating
/// laptop held); everything else the old root signs is void, so a root that was exposed
/// stops counting once its rotation reaches a laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRotation {
    /// The organisation.
    pub org: String,
    /// The root replaced, hex.
    pub old: String,
    /// The new root, hex.
    pub new: String,
    /// The ids of what the old root signed that stay valid, sorted.
    pub kept: Vec<String>,
    /// When, by the rotating laptop's clock (information only).
    pub issued: String,
    /// The old root's signature, hex.
    pub old_signature: String,
    /// The new root's signature, hex.
    pub new_signature: String,
}

impl RootRotation {
    fn message(&self) -> Vec<u8> {
        serde_json::to_vec(&(
            "masar-root-rotation/1",
            &self.org,
            &self.old,
            &self.new,
            &self.kept,
            &self.issued,
        ))
        .unwrap_or_default()
    }

    /// Replaces `old` with `new`, keeping `kept`.
    pub fn issue(
        old: &SigningKey,
        new: &SigningKey,
        org: &str,
        mut kept: Vec<String>,
        issued: &str,
    ) -> RootRotation {
        kept.sort();
        kept.dedup();
        let mut r = RootRotation {
            org: org.into(),
            old: hex::encode(old.verifying_key().as_bytes()),
            new: hex::encode(new.verifying_key().as_bytes()),
            kept,
            issued: issued.into(),
            old_signature: String::new(),
            new_signature: String::new(),
        };
        let message = r.message();
        r.old_signature = hex::encode(old.sign(&message).to_bytes());
        r.new_signature = hex::encode(new.sign(&message).to_bytes());
        r
    }

    /// Whether both roots signed it, for `org`.
    pub fn verify(&self, org: &str) -> bool {
        let message = self.message();
        let signed = |key: &str, sig: &str| {
            verifying_key(key)
                .zip(signature(sig))
                .is_some_and(|(k, s)| k.verify(&message, &s).is_ok())
        };
        self.org == org
            && self.kept.len() <= MAX_KEPT
            && signed(&self.old, &self.old_signature)
            && signed(&self.new, &self.new_signature)
    }

    /// Whether what the old root signed under `id` stays valid.
    pub fn keeps(&self, id: &str) -> bool {
        self.kept.binary_search_by(|k| k.as_str().cmp(id)).is_ok()
    }
}

/// The most ids a rotation may keep.
pub const MAX_KEPT: usize = 1_000_000;
