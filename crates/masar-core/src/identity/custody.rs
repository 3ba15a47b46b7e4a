//! The organisation's root key kept offline (issue 21, item 7): written to a file under a
//! passphrase of its own, or to a recovery sheet to print, and taken back into an
//! administrator's custody on any laptop of the organisation, so that losing the founders'
//! laptops never loses it.

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use zeroize::Zeroizing;

use super::org as keys;
use crate::auth::{check_secret, Permission};
use crate::changes::Db;
use crate::error::{AuthError, Secret, SyncError};
use crate::keys::KeyFile;
use crate::Result;

/// The first bytes of an encrypted key file.
const MAGIC: &[u8; 8] = b"MASARKEY";
const VERSION: u16 = 1;
/// The first line of a recovery sheet.
const SHEET_TITLE: &str = "MASAR ORGANISATION KEY - RECOVERY SHEET";
/// A key file or a sheet is a few kilobytes: nothing larger is read.
const MAX_FILE: u64 = 64 * 1024;

/// Whether `file` is an encrypted organisation key file (then its passphrase is needed to
/// import it; a recovery sheet needs none).
pub fn is_encrypted_org_key(file: &Path) -> bool {
    crate::files::read_regular_start(file, MAGIC.len() as u64).is_ok_and(|b| b == MAGIC)
}

/// What an encrypted key file holds.
#[derive(Serialize, Deserialize)]
struct Sealed {
    org_id: String,
    org_name: String,
    root_public: String,
    root_secret: String,
    written: String,
    by: String,
}

/// Where the organisation's key was written, and in which form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OrgKeyExported {
    /// The file written.
    pub file: String,
    /// `encrypted` (under its own passphrase) or `sheet` (to print, then delete).
    pub form: String,
    /// The organisation's root public key, hex: what the key opens, to check it later.
    pub root_public: String,
}

/// The organisation's key, taken into the logged-in administrator's custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct OrgKeyImported {
    /// The organisation.
    pub org: String,
    /// The administrator who now holds it under their password.
    pub user: String,
    /// The root public key it matched.
    pub root_public: String,
}

/// The organisation's root replaced by a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RootRotated {
    /// The root replaced, hex: what it signs from now on is void.
    pub old_root: String,
    /// The new root, hex, now in the logged-in administrator's custody.
    pub new_root: String,
    /// How many certificates, revocations and keyrings of the old root stay valid (those
    /// this laptop held).
    pub kept: u64,
}

fn keys_error(message: impl Into<String>) -> crate::Error {
    SyncError::Keys(message.into()).into()
}

fn write(out: &Path, bytes: &[u8]) -> Result<()> {
    crate::files::write_private_atomically(out, bytes).map_err(|e| {
        SyncError::File {
            path: out.display().to_string(),
            reason: format!(
                "cannot be written ({e}): check the folder exists, is writable and has space"
            ),
            source: e,
        }
        .into()
    })
}

/// A line's check: two hex digits a typo changes.
fn line_check(n: usize, hex16: &str) -> String {
    let digest = Sha256::digest(format!("masar-sheet/{n}/{hex16}").as_bytes());
    hex::encode(&digest[..1])
}

/// The recovery sheet of `root`: the secret in four numbered lines of four groups, each
/// line with its check.
fn sheet(org_name: &str, org_id: &str, root: &SigningKey, written: &str, by: &str) -> String {
    let secret = Zeroizing::new(hex::encode(root.to_bytes()));
    let mut text = format!(
        "{SHEET_TITLE}\n\nOrganisation: {org_name}\nOrganisation id: {org_id}\nRoot public key: {}\nWritten: {written} by {by}\n\n\
Whoever holds this page can certify laptops and administrators of the organisation.\n\
Keep it locked away. Never photograph it or keep it on a computer: print it, then delete\n\
the file. To take the key back into an administrator's custody, type the four lines\n\
below into a file that starts with the title above, and run: masar org key import FILE\n\n",
        hex::encode(root.verifying_key().as_bytes())
    );
    for (i, chunk) in secret.as_bytes().chunks(16).enumerate() {
        let hex16 = std::str::from_utf8(chunk).unwrap_or_default();
        let groups: Vec<&str> = (0..4).map(|g| &hex16[g * 4..g * 4 + 4]).collect();
        text.push_str(&format!(
            "{}: {}  {}\n",
            i + 1,
            groups.join(" "),
            line_check(i + 1, hex16)
        ));
    }
    text
}

/// Reads the root key back from a sheet's four lines, each checked.
fn read_sheet(text: &str) -> Result<SigningKey> {
    let mut lines: Vec<Option<String>> = vec![None; 4];
    for line in text.lines() {
        let Some((n, rest)) = line.trim().split_once(':') else {
            continue;
        };
        let Ok(n) = n.trim().parse::<usize>() else {
            continue;
        };
        if !(1..=4).contains(&n) {
            continue;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let Some((check, groups)) = words.split_last() else {
            continue;
        };
        let hex16: String = groups.concat().to_ascii_lowercase();
        if hex16.len() != 16 || !hex16.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(keys_error(format!(
                "line {n} of the recovery sheet should hold four groups of four characters (0-9, a-f) and its check: compare it with the printed sheet"
            )));
        }
        if line_check(n, &hex16) != check.to_ascii_lowercase() {
            return Err(keys_error(format!(
                "line {n} of the recovery sheet does not match its check ({check}): a character was mistyped; compare it with the printed sheet"
            )));
        }
        lines[n - 1] = Some(hex16);
    }
    let missing: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(keys_error(format!(
            "the recovery sheet lacks line {}: type all four numbered lines",
            missing.join(", ")
        )));
    }
    let secret = Zeroizing::new(lines.into_iter().flatten().collect::<String>());
    let bytes: [u8; 32] = hex::decode(secret.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| keys_error("the recovery sheet's key is damaged"))?;
    Ok(SigningKey::from_bytes(&bytes))
}

impl Db {
    /// The root key the logged-in administrator holds, or why they cannot act with it.
    fn held_root(&self) -> Result<SigningKey> {
        self.require(Permission::ManageUsers)?;
        let root = self.root_key().cloned().ok_or_else(|| {
            keys_error("your account holds no organisation key on this laptop: write it from the account of an administrator who holds it (the founder's, or one who imported it)")
        })?;
        let trust = keys::trust(self.conn())?;
        if root.verifying_key() != *trust.root() {
            return Err(keys_error("the organisation key you hold was replaced by a rotation of the root: it signs nothing valid now; take the current one into your custody (org key import)"));
        }
        Ok(root)
    }

    /// Writes the organisation's root key to `out`, encrypted under `passphrase` (which
    /// passes the passwords' policy; argon2id 64 MiB × 3, XChaCha20-Poly1305), for
    /// administrators to keep offline (admin).
    pub(crate) fn export_org_key(&self, out: &Path, passphrase: &str) -> Result<OrgKeyExported> {
        let root = self.held_root()?;
        let org_name = crate::store::meta(self.conn(), "org_name")?.unwrap_or_default();
        check_secret(
            Secret::OrgKeyPassphrase,
            passphrase,
            &[&org_name, &self.user().name],
        )?;
        let org = keys::load(self.conn())?;
        let root_public = hex::encode(root.verifying_key().as_bytes());
        let sealed = Sealed {
            org_id: org.org_id,
            org_name,
            root_public: root_public.clone(),
            root_secret: hex::encode(root.to_bytes()),
            written: self.clock().now().to_rfc3339(),
            by: self.user().name.clone(),
        };
        let plain = Zeroizing::new(
            serde_json::to_vec(&sealed).map_err(|e| SyncError::Seal(e.to_string()))?,
        );
        let bytes = keys::seal_under(MAGIC, VERSION, &plain, passphrase)?;
        write(out, &bytes)?;
        Ok(OrgKeyExported {
            file: out.display().to_string(),
            form: "encrypted".into(),
            root_public,
        })
    }

    /// Writes the organisation's root key to `out` as a recovery sheet to print (admin).
    pub(crate) fn export_org_key_sheet(&self, out: &Path) -> Result<OrgKeyExported> {
        let root = self.held_root()?;
        let org_name = crate::store::meta(self.conn(), "org_name")?.unwrap_or_default();
        let org = keys::load(self.conn())?;
        let text = Zeroizing::new(sheet(
            &org_name,
            &org.org_id,
            &root,
            &self.clock().now().format("%Y-%m-%d").to_string(),
            &self.user().name,
        ));
        write(out, text.as_bytes())?;
        Ok(OrgKeyExported {
            file: out.display().to_string(),
            form: "sheet".into(),
            root_public: hex::encode(root.verifying_key().as_bytes()),
        })
    }

    /// Takes the organisation's root key from a key file (with its passphrase) or a
    /// recovery sheet into the logged-in administrator's custody, under their password
    /// (admin). The key must be this organisation's root: another is refused.
    pub(crate) fn import_org_key(
        &mut self,
        file: &Path,
        passphrase: Option<&str>,
        password: &str,
    ) -> Result<OrgKeyImported> {
        self.require(Permission::ManageUsers)?;
        let bytes = crate::files::read_regular(file, MAX_FILE).map_err(|why| {
            keys_error(format!(
                "{} cannot be read ({}): give the organisation key file or the recovery sheet typed into a file",
                file.display(),
                match why {
                    crate::files::ReadRefusal::NotRegular => "not a regular file".to_string(),
                    crate::files::ReadRefusal::TooLarge | crate::files::ReadRefusal::NoMemory => "far larger than a key file".to_string(),
                    crate::files::ReadRefusal::Io(e) => e.to_string(),
                }
            ))
        })?;
        let org = keys::load(self.conn())?;
        let root = if bytes.starts_with(MAGIC) {
            let passphrase = passphrase.ok_or_else(|| {
                keys_error("this organisation key file is encrypted: give its passphrase (MASAR_KEY_PASSPHRASE, or asked)")
            })?;
            let plain =
                keys::open_under(MAGIC, VERSION, &bytes, passphrase, "organisation key file")?;
            let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| {
                keys_error(
                    "the organisation key file is damaged: use another copy, or the recovery sheet",
                )
            })?;
            if sealed.org_id != org.org_id {
                return Err(keys_error(format!(
                    "this key is organisation {}'s ({}), not this laptop's ({})",
                    sealed.org_name, sealed.org_id, org.org_id
                )));
            }
            let secret = Zeroizing::new(sealed.root_secret);
            let key: [u8; 32] = hex::decode(secret.as_bytes())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| keys_error("the organisation key file is damaged: use another copy, or the recovery sheet"))?;
            SigningKey::from_bytes(&key)
        } else if std::str::from_utf8(&bytes).is_ok_and(|t| t.trim_start().starts_with(SHEET_TITLE))
        {
            read_sheet(std::str::from_utf8(&bytes).unwrap_or_default())?
        } else {
            return Err(keys_error(
                "this is neither an organisation key file nor a recovery sheet (whose first line is its title)",
            ));
        };
        if root.verifying_key() != *org.trust.root() {
            let former = org
                .trust
                .rotations()
                .iter()
                .find(|r| r.old == hex::encode(root.verifying_key().as_bytes()));
            return Err(keys_error(match former {
                Some(r) => format!(
                    "this is the organisation's former root key, replaced on {}: it opens nothing now; use the current root's file or sheet",
                    r.issued.get(..10).unwrap_or(&r.issued)
                ),
                None => "this key is not this organisation's root key: it opens nothing here".into(),
            }));
        }
        let name = self.user().name.clone();
        let file_keys = self.with_root_in_custody(&root, password)?;
        file_keys.save(&self.key_file_path())?;
        let root_public = hex::encode(root.verifying_key().as_bytes());
        self.set_root(Some(root));
        Ok(OrgKeyImported {
            org: org.org_id,
            user: name,
            root_public,
        })
    }

    /// The key file with `root` under the logged-in administrator's password, not yet
    /// saved.
    fn with_root_in_custody(&self, root: &SigningKey, password: &str) -> Result<KeyFile> {
        let name = self.user().name.clone();
        let mut file_keys = KeyFile::load(&self.key_file_path())?;
        let unlocked = file_keys
            .unwrap_for(&name, password)
            .map_err(|_| AuthError::WrongCredentials)?;
        let mut secrets = unlocked.secrets;
        secrets.root = Some(Zeroizing::new(root.to_bytes()));
        file_keys.add_user(&name, password, self.db_key(), &secrets)?;
        Ok(file_keys)
    }

    /// Replaces the organisation's root with a new one (an administrator who holds the
    /// root): both sign the rotation, which every bundle carries from now on; what the old
    /// root signed and this laptop holds stays valid, and anything else it signs is void
    /// wherever the rotation has arrived. The new root goes into the administrator's
    /// custody under `password`: write it offline at once (`org key export`).
    pub(crate) fn rotate_root(&mut self, password: &str) -> Result<RootRotated> {
        let old = self.held_root()?;
        let org = keys::load(self.conn())?;
        let mut kept = super::revoke::issued(self.conn(), |by| by.is_none())?;
        if let Some(own) = crate::store::meta(self.conn(), "device_cert")?
            .and_then(|c| serde_json::from_str::<keys::DeviceCert>(&c).ok())
        {
            if own.by.is_none() {
                kept.push(own.id(&org.org_id));
            }
        }
        let new = SigningKey::from_bytes(&keys::random32());
        let rotation = crate::trust::RootRotation::issue(
            &old,
            &new,
            &org.org_id,
            kept,
            &self.clock().now().to_rfc3339(),
        );
        let file_keys = self.with_root_in_custody(&new, password)?;
        let path = self.key_file_path();
        self.transaction(|tx| {
            keys::store_rotations(tx, std::slice::from_ref(&rotation))?;
            // Saved inside the transaction: a failed save leaves the old root in force.
            file_keys.save(&path)?;
            Ok(())
        })?;
        self.set_root(Some(new));
        Ok(RootRotated {
            old_root: rotation.old.clone(),
            new_root: rotation.new.clone(),
            kept: rotation.kept.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_gives_its_key_back_and_a_mistyped_line_is_named() {
        let root = SigningKey::from_bytes(&keys::random32());
        let text = sheet("Oujda programme", "org-1", &root, "2026-12-07", "admin");
        assert_eq!(
            read_sheet(&text).expect("read back").to_bytes(),
            root.to_bytes()
        );
        // One character of line 3 changed: its check names it.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("3: "))
            .expect("line 3");
        let flipped: String = lines[at]
            .char_indices()
            .map(|(i, c)| {
                if i == 3 {
                    if c == '0' {
                        '1'
                    } else {
                        '0'
                    }
                } else {
                    c
                }
            })
            .collect();
        lines[at] = flipped;
        let e = read_sheet(&lines.join("\n"))
            .map(|_| ())
            .expect_err("refused")
            .to_string();
        assert!(e.contains("line 3") && e.contains("mistyped"), "{e}");
        lines.remove(at);
        let e = read_sheet(&lines.join("\n"))
            .map(|_| ())
            .expect_err("refused")
            .to_string();
        assert!(e.contains("lacks line 3"), "{e}");
    }
}
