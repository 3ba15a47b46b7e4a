//! The key file: the database key wrapped once per user, with that user's own secrets
//! (their signing key; for administrators, the organisation's root key) wrapped under the
//! same password, so that no other user of the laptop can read them.

use std::fs;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::error::AuthError;

/// The random key that encrypts one database; wiped from memory when dropped.
#[derive(Clone)]
pub struct DbKey(Zeroizing<[u8; 32]>);

impl DbKey {
    /// A fresh random key.
    pub fn generate() -> DbKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        let key = DbKey(Zeroizing::new(k));
        k.zeroize();
        key
    }

    /// The key's bytes, for the test that decrypts a database's pages itself.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> [u8; 32] {
        *self.0
    }

    /// The key as SQLCipher's raw-key literal, which skips SQLCipher's own slow KDF.
    pub(crate) fn sqlcipher_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(*self.0)))
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(..)")
    }
}

// Format 2 still: every entry has always carried its own argon2id cost, so an entry
// written at a higher cost opens in earlier versions too.
const FORMAT: u32 = 2;

/// The environment variable that lowers the key file's argon2id cost, honoured only by
/// debug builds (the tests'), never by a release build: `MASAR_DEBUG_KDF_COST=low`.
pub const DEBUG_KDF_COST_VAR: &str = "MASAR_DEBUG_KDF_COST";

/// An argon2id cost (one lane, 32-byte output), as stored beside what it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over that memory.
    pub passes: u32,
}

impl KdfCost {
    /// 64 MiB, 3 passes: new key-file entries and enrolment files.
    pub const CURRENT: KdfCost = KdfCost {
        memory_kib: 64 * 1024,
        passes: 3,
    };
    /// 19 MiB, 2 passes (OWASP's floor): key-file entries written before; they still open,
    /// and are wrapped again at `CURRENT` at their user's next log-in.
    pub const FORMER: KdfCost = KdfCost {
        memory_kib: 19 * 1024,
        passes: 2,
    };
    /// What debug builds use with `MASAR_DEBUG_KDF_COST=low`: the former cost, so that the
    /// system tests run as fast as before the cost was raised.
    pub const DEBUG_LOW: KdfCost = KdfCost::FORMER;
    /// The most a file may ask for: a damaged or planted file naming terabytes would
    /// otherwise make the log-in abort on allocating them.
    const MAX: KdfCost = KdfCost {
        memory_kib: 1024 * 1024,
        passes: 16,
    };

    /// Whether this cost is below `other` in memory or in passes.
    pub fn weaker_than(self, other: KdfCost) -> bool {
        self.memory_kib < other.memory_kib || self.passes < other.passes
    }

    /// Whether a file may ask for this cost (within argon2's bounds and `MAX`).
    fn is_acceptable(self) -> bool {
        self.memory_kib >= 8
            && self.passes >= 1
            && self.memory_kib <= Self::MAX.memory_kib
            && self.passes <= Self::MAX.passes
    }

    /// Derives a 32-byte key from `secret` and `salt` at this cost; `None` for a cost no
    /// file may ask for.
    pub fn derive(self, secret: &[u8], salt: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
        if !self.is_acceptable() {
            return None;
        }
        let params = Params::new(self.memory_kib, self.passes, 1, Some(32)).ok()?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(secret, salt, &mut *out)
            .ok()?;
        Some(out)
    }

    /// The cost new key-file entries get: `CURRENT`, or in a debug build `DEBUG_LOW` when
    /// `MASAR_DEBUG_KDF_COST=low` (a release build never reads the variable).
    pub fn for_key_file() -> KdfCost {
        #[cfg(debug_assertions)]
        if std::env::var_os(DEBUG_KDF_COST_VAR).is_some_and(|v| v == "low") {
            return KdfCost::DEBUG_LOW;
        }
        KdfCost::CURRENT
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    user: String,
    kdf: String,
    memory_kib: u32,
    passes: u32,
    salt: String,
    nonce: String,
    wrapped: String,
    /// The user's signing key: nonce and ciphertext, hex (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signing: Option<String>,
    /// The organisation's root key, for administrators only (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root: Option<String>,
}

/// A user's own secrets, kept under their password beside their copy of the database key.
#[derive(Default)]
pub struct Secrets {
    /// Their signing key.
    pub signing: Option<Zeroizing<[u8; 32]>>,
    /// The organisation's root key (administrators).
    pub root: Option<Zeroizing<[u8; 32]>>,
}

/// What a user's password opens.
pub struct Unlocked {
    /// The database key.
    pub db_key: DbKey,
    /// Their own secrets.
    pub secrets: Secrets,
}

/// The users' wrapped copies of the database key, stored beside the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    format: u32,
    entries: Vec<Entry>,
}

fn damaged(path: &Path, reason: impl Into<String>) -> AuthError {
    AuthError::KeyFile {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn derive(password: &str, salt: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, AuthError> {
    cost.derive(password.as_bytes(), salt)
        .ok_or(AuthError::WrongCredentials)
}

fn aad(user: &str) -> Vec<u8> {
    // Binding the user name stops an entry from being copied under another name.
    format!("masar-db-key/v1/{user}").into_bytes()
}

fn secret_aad(what: &str, user: &str) -> Vec<u8> {
    format!("masar-{what}/v2/{user}").into_bytes()
}

fn seal_secret(
    cipher: &XChaCha20Poly1305,
    what: &str,
    user: &str,
    secret: &[u8; 32],
) -> Result<String, AuthError> {
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &secret[..],
                aad: &secret_aad(what, user),
            },
        )
        .map_err(|_| AuthError::WrongCredentials)?;
    Ok(hex::encode([&nonce[..], &sealed].concat()))
}

fn open_secret(
    cipher: &XChaCha20Poly1305,
    what: &str,
    user: &str,
    hex_text: &str,
) -> Result<Zeroizing<[u8; 32]>, AuthError> {
    let bytes = hex::decode(hex_text).map_err(|_| AuthError::WrongCredentials)?;
    if bytes.len() < 24 {
        return Err(AuthError::WrongCredentials);
    }
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&bytes[..24]),
                Payload {
                    msg: &bytes[24..],
                    aad: &secret_aad(what, user),
                },
            )
            .map_err(|_| AuthError::WrongCredentials)?,
    );
    let arr: [u8; 32] = plain
        .as_slice()
        .try_into()
        .map_err(|_| AuthError::WrongCredentials)?;
    Ok(Zeroizing::new(arr))
}

impl KeyFile {
    /// An empty key file.
    pub fn new() -> KeyFile {
        KeyFile {
            format: FORMAT,
            entries: Vec::new(),
        }
    }

    /// Reads the key file at `path`.
    pub fn load(path: &Path) -> Result<KeyFile, AuthError> {
        let text = fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                damaged(path, "it is missing; it must stay beside the database it opens (restore it from your backup)")
            } else {
                damaged(path, format!("it cannot be read ({e})"))
            }
        })?;
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
            damaged(
                path,
                format!("it is damaged ({e}); restore it from your backup"),
            )
        })?;
        if file.format > FORMAT {
            return Err(damaged(
                path,
                "it was written by a newer version of Masar: install that version",
            ));
        }
        Ok(file)
    }

    /// Writes the key file atomically: a temporary file, flushed, then renamed over.
    pub fn save(&self, path: &Path) -> Result<(), AuthError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| damaged(path, format!("it cannot be written ({e})")))?;
        // Owner-only, and never written through a name someone else planted.
        crate::files::write_private_atomically(path, text.as_bytes()).map_err(|e| {
            damaged(
                path,
                format!("it cannot be written ({e}); check free space and permissions"),
            )
        })
    }

    /// Wraps `key` and `secrets` for `user` under `password`, replacing any earlier copy
    /// of theirs, at the cost new entries get ([`KdfCost::for_key_file`]).
    pub fn add_user(
        &mut self,
        user: &str,
        password: &str,
        key: &DbKey,
        secrets: &Secrets,
    ) -> Result<(), AuthError> {
        self.add_user_at(user, password, key, secrets, KdfCost::for_key_file())
    }

    /// Wraps `key` and `secrets` for `user` under `password` at `cost`, replacing any
    /// earlier copy of theirs.
    pub(crate) fn add_user_at(
        &mut self,
        user: &str,
        password: &str,
        key: &DbKey,
        secrets: &Secrets,
        cost: KdfCost,
    ) -> Result<(), AuthError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let kek = derive(password, &salt, cost)?;
        let cipher = XChaCha20Poly1305::new((&*kek).into());
        let wrapped = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key.0[..],
                    aad: &aad(user),
                },
            )
            .map_err(|_| AuthError::WrongCredentials)?;
        let signing = secrets
            .signing
            .as_ref()
            .map(|k| seal_secret(&cipher, "signing", user, k))
            .transpose()?;
        let root = secrets
            .root
            .as_ref()
            .map(|k| seal_secret(&cipher, "root", user, k))
            .transpose()?;
        self.entries.retain(|e| e.user != user);
        self.entries.push(Entry {
            user: user.to_string(),
            kdf: "argon2id".into(),
            memory_kib: cost.memory_kib,
            passes: cost.passes,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            wrapped: hex::encode(wrapped),
            signing,
            root,
        });
        Ok(())
    }

    /// The argon2id cost `user`'s entry was wrapped at, if they have one.
    pub fn cost_for(&self, user: &str) -> Option<KdfCost> {
        self.entries
            .iter()
            .find(|e| e.user == user)
            .map(|e| KdfCost {
                memory_kib: e.memory_kib,
                passes: e.passes,
            })
    }

    /// Whether some user's entry holds the organisation's root key.
    pub fn holds_root(&self) -> bool {
        self.entries.iter().any(|e| e.root.is_some())
    }

    /// Recovers the database key and the user's own secrets with their password.
    pub fn unwrap_for(&self, user: &str, password: &str) -> Result<Unlocked, AuthError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.user == user)
            .ok_or(AuthError::WrongCredentials)?;
        let salt = hex::decode(&entry.salt).map_err(|_| AuthError::WrongCredentials)?;
        let nonce = hex::decode(&entry.nonce).map_err(|_| AuthError::WrongCredentials)?;
        let wrapped = hex::decode(&entry.wrapped).map_err(|_| AuthError::WrongCredentials)?;
        if nonce.len() != 24 || entry.kdf != "argon2id" {
            return Err(AuthError::WrongCredentials);
        }
        let kek = derive(
            password,
            &salt,
            KdfCost {
                memory_kib: entry.memory_kib,
                passes: entry.passes,
            },
        )?;
        let cipher = XChaCha20Poly1305::new((&*kek).into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &wrapped,
                        aad: &aad(user),
                    },
                )
                .map_err(|_| AuthError::WrongCredentials)?,
        );
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| AuthError::WrongCredentials)?;
        let secrets = Secrets {
            signing: entry
                .signing
                .as_deref()
                .map(|h| open_secret(&cipher, "signing", user, h))
                .transpose()?,
            root: entry
                .root
                .as_deref()
                .map(|h| open_secret(&cipher, "root", user, h))
                .transpose()?,
        };
        Ok(Unlocked {
            db_key: DbKey(Zeroizing::new(bytes)),
            secrets,
        })
    }
}

/// Wraps `user`'s entry of the key file at `path` again at `cost` when it was wrapped at a
/// lower one (by an earlier version), keeping what it holds; the file is rewritten whole
/// (`KeyFile::save`: a temporary file, flushed, renamed over), never half. Called after a
/// successful log-in, with what that log-in unlocked. Returns whether it was wrapped again.
pub(crate) fn upgrade_entry(
    path: &Path,
    user: &str,
    password: &str,
    unlocked: &Unlocked,
    cost: KdfCost,
) -> Result<bool, AuthError> {
    let mut file = KeyFile::load(path)?;
    match file.cost_for(user) {
        Some(was) if was.weaker_than(cost) => {
            file.add_user_at(user, password, &unlocked.db_key, &unlocked.secrets, cost)?;
            file.save(path)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

impl Default for KeyFile {
    fn default() -> Self {
        KeyFile::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_right_password_unwraps_the_key_and_a_wrong_one_does_not() {
        let key = DbKey::generate();
        let mut file = KeyFile::new();
        let secrets = Secrets {
            signing: Some(Zeroizing::new([3u8; 32])),
            root: None,
        };
        file.add_user("amina", "correct horse", &key, &secrets)
            .unwrap();
        let back = file.unwrap_for("amina", "correct horse").unwrap();
        assert_eq!(*back.db_key.0, *key.0);
        assert_eq!(back.secrets.signing.as_deref(), Some(&[3u8; 32]));
        assert!(back.secrets.root.is_none());
        assert!(matches!(
            file.unwrap_for("amina", "wrong horse"),
            Err(AuthError::WrongCredentials)
        ));
        assert!(matches!(
            file.unwrap_for("nobody", "correct horse"),
            Err(AuthError::WrongCredentials)
        ));
    }

    #[test]
    fn an_entry_of_the_former_cost_opens_and_is_wrapped_again_at_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db.keys");
        let key = DbKey::generate();
        let secrets = Secrets {
            signing: Some(Zeroizing::new([5u8; 32])),
            root: Some(Zeroizing::new([6u8; 32])),
        };
        let mut file = KeyFile::new();
        file.add_user_at("amina", "correct horse", &key, &secrets, KdfCost::FORMER)
            .unwrap();
        file.add_user_at(
            "omar",
            "battery staple",
            &key,
            &Secrets::default(),
            KdfCost::FORMER,
        )
        .unwrap();
        file.save(&path).unwrap();
        let unlocked = KeyFile::load(&path)
            .unwrap()
            .unwrap_for("amina", "correct horse")
            .unwrap();
        assert!(
            upgrade_entry(&path, "amina", "correct horse", &unlocked, KdfCost::CURRENT).unwrap()
        );
        let file = KeyFile::load(&path).unwrap();
        assert_eq!(file.cost_for("amina"), Some(KdfCost::CURRENT));
        assert_eq!(
            file.cost_for("omar"),
            Some(KdfCost::FORMER),
            "only the user who logged in"
        );
        let back = file.unwrap_for("amina", "correct horse").unwrap();
        assert_eq!(*back.db_key.0, *key.0);
        assert_eq!(back.secrets.signing.as_deref(), Some(&[5u8; 32]));
        assert_eq!(back.secrets.root.as_deref(), Some(&[6u8; 32]));
        assert!(matches!(
            file.unwrap_for("amina", "wrong horse"),
            Err(AuthError::WrongCredentials)
        ));
        assert!(file.unwrap_for("omar", "battery staple").is_ok());
        assert!(
            !upgrade_entry(&path, "amina", "correct horse", &back, KdfCost::CURRENT).unwrap(),
            "once only"
        );
        assert!(
            !upgrade_entry(&path, "amina", "correct horse", &back, KdfCost::FORMER).unwrap(),
            "never lowered"
        );
    }

    #[test]
    fn a_cost_no_file_may_ask_for_is_refused_before_any_memory_is_taken() {
        let key = DbKey::generate();
        let mut file = KeyFile::new();
        file.add_user_at(
            "amina",
            "correct horse",
            &key,
            &Secrets::default(),
            KdfCost::FORMER,
        )
        .unwrap();
        file.entries[0].memory_kib = u32::MAX;
        assert!(matches!(
            file.unwrap_for("amina", "correct horse"),
            Err(AuthError::WrongCredentials)
        ));
        assert!(KdfCost {
            memory_kib: 64 * 1024,
            passes: 0
        }
        .derive(b"x", &[0u8; 16])
        .is_none());
    }

    #[test]
    fn an_entry_copied_under_another_name_does_not_open() {
        let key = DbKey::generate();
        let mut file = KeyFile::new();
        file.add_user("amina", "correct horse", &key, &Secrets::default())
            .unwrap();
        let mut stolen = file.entries[0].clone();
        stolen.user = "omar".into();
        file.entries.push(stolen);
        assert!(file.unwrap_for("omar", "correct horse").is_err());
    }
}
