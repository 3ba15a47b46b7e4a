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

const FORMAT: u32 = 2;
/// argon2id cost: 19 MiB and 2 passes, OWASP's recommended floor.
const KDF_MEMORY_KIB: u32 = 19 * 1024;
const KDF_PASSES: u32 = 2;

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

fn derive(
    password: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
) -> Result<Zeroizing<[u8; 32]>, AuthError> {
    let params =
        Params::new(memory_kib, passes, 1, Some(32)).map_err(|_| AuthError::WrongCredentials)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut *out)
        .map_err(|_| AuthError::WrongCredentials)?;
    Ok(out)
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
    /// of theirs.
    pub fn add_user(
        &mut self,
        user: &str,
        password: &str,
        key: &DbKey,
        secrets: &Secrets,
    ) -> Result<(), AuthError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let kek = derive(password, &salt, KDF_MEMORY_KIB, KDF_PASSES)?;
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
            memory_kib: KDF_MEMORY_KIB,
            passes: KDF_PASSES,
            salt: hex::encode(salt),
            nonce: hex::encode(nonce),
            wrapped: hex::encode(wrapped),
            signing,
            root,
        });
        Ok(())
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
        let kek = derive(password, &salt, entry.memory_kib, entry.passes)?;
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
