//! The enrolment file: what it carries to a new laptop, sealed under a passphrase, and
//! opened again.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::DeviceCert;
use crate::error::SyncError;
use crate::keys::KdfCost;
use crate::trust::{AuthorCert, Keyring, RootRotation};
use crate::Result;

/// What an enrolment file carries to a new laptop.
#[derive(Serialize, Deserialize)]
pub(crate) struct Enrolment {
    pub org_id: String,
    pub org_name: String,
    /// The organisation's first root, hex: every laptop's anchor of trust.
    pub root_public: String,
    /// The rotations of the root since, so the new laptop trusts the current one.
    #[serde(default)]
    pub rotations: Vec<RootRotation>,
    /// The administrators' certificates the device's and the enrolment key's rest on.
    #[serde(default)]
    pub issuers: Vec<AuthorCert>,
    /// The one-use key that certifies the new laptop's first administrator, hex; the file
    /// carries no root key.
    pub enrolment_secret: String,
    /// Its certificate: it may certify that administrator, on that device, and nothing else.
    pub enrolment_cert: AuthorCert,
    pub bundle_key: String,
    /// Bundle keys after the first, by epoch, hex, with the newest keyring.
    #[serde(default)]
    pub later_keys: Vec<(u32, String)>,
    /// The keyring of the newest key.
    #[serde(default)]
    pub keyring: Option<Keyring>,
    pub device_id: String,
    pub device_secret: String,
    pub cert: DeviceCert,
    /// The enrolling laptop's clock, so the new one starts after it.
    pub hlc: i64,
    /// When the file stops being accepted (RFC 3339): a file found later on a stick is
    /// no way into the organisation.
    pub expires: String,
}

/// How long an enrolment file is accepted, unless the administrator says otherwise.
pub const ENROLMENT_DAYS: i64 = 7;

impl Enrolment {
    /// Refuses a file past its expiry.
    pub(crate) fn check_not_expired(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SyncError> {
        let expires = chrono::DateTime::parse_from_rfc3339(&self.expires).map_err(|_| {
            SyncError::Enrolment(
                "the enrolment file is damaged: ask the administrator for a new one".into(),
            )
        })?;
        if now > expires {
            return Err(SyncError::Enrolment(format!(
                "this enrolment file expired on {}: ask the administrator for a new one",
                expires.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        Ok(())
    }
}

pub(super) const ENROL_MAGIC: &[u8; 8] = b"MASARENR";
/// Version 3 names its argon2id cost in its header; version 2 (the root key for the new
/// laptop's administrator, at `ENROL_V2_COST` without saying so) still opens; version 1
/// (no release made any) is refused.
const ENROL_VERSION: u16 = 4;
/// What version-2 files were sealed at.
const ENROL_V2_COST: KdfCost = KdfCost {
    memory_kib: 64 * 1024,
    passes: 3,
};

/// The argon2id cost an enrolment file names in its header (version 3), or the one its
/// version implies; `None` for a file too short or not an enrolment file.
pub(crate) fn enrolment_cost(bytes: &[u8]) -> Option<KdfCost> {
    if bytes.len() < 10 || &bytes[..8] != ENROL_MAGIC {
        return None;
    }
    match u16::from_le_bytes([bytes[8], bytes[9]]) {
        2 => Some(ENROL_V2_COST),
        3 | 4 => {
            let word = |at: usize| {
                bytes
                    .get(at..at + 4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_le_bytes)
            };
            Some(KdfCost {
                memory_kib: word(10)?,
                passes: word(14)?,
            })
        }
        _ => None,
    }
}

fn enrol_kek(
    passphrase: &str,
    salt: &[u8],
    cost: KdfCost,
) -> Result<Zeroizing<[u8; 32]>, SyncError> {
    cost.derive(passphrase.as_bytes(), salt).ok_or_else(|| {
        SyncError::Enrolment(
            "the enrolment file is damaged: ask the administrator for a new one".into(),
        )
    })
}

/// Seals an enrolment under a passphrase: argon2id at `KdfCost::CURRENT` (whatever a debug
/// build's tests ask of the key file), XChaCha20-Poly1305. The header (magic, version,
/// cost, salt, nonce) is the associated data, so none of it can be changed unnoticed.
pub(crate) fn seal_enrolment(e: &Enrolment, passphrase: &str) -> Result<Vec<u8>, SyncError> {
    let plain =
        Zeroizing::new(serde_json::to_vec(e).map_err(|err| SyncError::Seal(err.to_string()))?);
    seal_under(ENROL_MAGIC, ENROL_VERSION, &plain, passphrase)
}

/// Seals `plain` under a passphrase behind `magic` and `version`: argon2id at
/// `KdfCost::CURRENT` (named in the header), XChaCha20-Poly1305, the header (magic,
/// version, cost, salt, nonce) as associated data so that none of it changes unnoticed.
pub(crate) fn seal_under(
    magic: &[u8; 8],
    version: u16,
    plain: &[u8],
    passphrase: &str,
) -> Result<Vec<u8>, SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cost = KdfCost::CURRENT;
    let kek = enrol_kek(passphrase, &salt, cost)?;
    let mut out = Vec::new();
    out.extend_from_slice(magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&cost.memory_kib.to_le_bytes());
    out.extend_from_slice(&cost.passes.to_le_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&*kek).into());
    let sealed = aead
        .encrypt(
            chacha20poly1305::XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &out,
            },
        )
        .map_err(|_| SyncError::Seal("the file could not be encrypted".into()))?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens what [`seal_under`] sealed with `magic` at `version`; `what` names the file in
/// refusals.
pub(crate) fn open_under(
    magic: &[u8; 8],
    version: u16,
    bytes: &[u8],
    passphrase: &str,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>, SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    const HEAD: usize = 8 + 2 + 8 + 16 + 24;
    let damaged = || SyncError::Keys(format!("the {what} is damaged: use another copy"));
    if bytes.len() < HEAD || &bytes[..8] != magic {
        return Err(damaged());
    }
    let found = u16::from_le_bytes([bytes[8], bytes[9]]);
    if found != version {
        return Err(SyncError::Keys(format!(
            "the {what} was written by another version of Masar (format {found}, this one reads {version}): use the version that wrote it"
        )));
    }
    let word =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let cost = KdfCost {
        memory_kib: word(10),
        passes: word(14),
    };
    let kek = cost
        .derive(passphrase.as_bytes(), &bytes[18..34])
        .ok_or_else(damaged)?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&*kek).into());
    aead.decrypt(
        chacha20poly1305::XNonce::from_slice(&bytes[34..HEAD]),
        Payload {
            msg: &bytes[HEAD..],
            aad: &bytes[..HEAD],
        },
    )
    .map(Zeroizing::new)
    .map_err(|_| SyncError::Keys(format!("wrong passphrase, or the {what} was changed")))
}

/// Opens an enrolment file with its passphrase.
pub(crate) fn open_enrolment(bytes: &[u8], passphrase: &str) -> Result<Enrolment, SyncError> {
    if bytes.len() < 10 || &bytes[..8] != ENROL_MAGIC {
        return Err(SyncError::Enrolment(
            "this is not a Masar enrolment file".into(),
        ));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version > ENROL_VERSION {
        return Err(SyncError::Enrolment(
            "this enrolment file was made by a newer version of Masar: install it on this laptop"
                .into(),
        ));
    }
    if version < 2 {
        return Err(SyncError::Enrolment("this enrolment file was made by an earlier version of Masar, before changes were signed: ask the administrator for a new one".into()));
    }
    if version < 4 {
        return Err(SyncError::Enrolment("this enrolment file was made by an earlier version of Masar, which put the organisation's root key in it: delete it, and ask the administrator for a new one".into()));
    }
    let (_, plain) = open_enrolment_plain(bytes, passphrase)?;
    serde_json::from_slice(&plain).map_err(|_| {
        SyncError::Enrolment(
            "the enrolment file is damaged: ask the administrator for a new one".into(),
        )
    })
}

/// An enrolment file's version and its decrypted contents.
pub(super) fn open_enrolment_plain(
    bytes: &[u8],
    passphrase: &str,
) -> Result<(u16, Zeroizing<Vec<u8>>), SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    // Version 3 puts the cost (two little-endian u32) between the version and the salt.
    let salt_at = if version >= 3 { 18 } else { 10 };
    let head = salt_at + 16 + 24;
    let damaged = || {
        SyncError::Enrolment(
            "the enrolment file is damaged: ask the administrator for a new one".into(),
        )
    };
    if bytes.len() < head {
        return Err(damaged());
    }
    let cost = enrolment_cost(bytes).ok_or_else(damaged)?;
    let kek = enrol_kek(passphrase, &bytes[salt_at..salt_at + 16], cost)?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&*kek).into());
    let plain = Zeroizing::new(
        aead.decrypt(chacha20poly1305::XNonce::from_slice(&bytes[salt_at + 16..head]), Payload { msg: &bytes[head..], aad: &bytes[..head] })
            .map_err(|_| SyncError::Enrolment("wrong passphrase, or the file was changed: ask the administrator for the passphrase or a new file".into()))?,
    );
    Ok((version, plain))
}
