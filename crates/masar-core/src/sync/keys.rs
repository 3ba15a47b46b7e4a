//! The organisation's keys and the devices' certificates.
//!
//! At `init` a laptop founds the organisation: it makes the organisation's root signing
//! key (kept only on that laptop), the bundle key every enrolled laptop shares to read
//! bundles, and its own device key, certified by the root. `enrol` certifies a new device
//! key and seals everything the new laptop needs in a passphrase-protected file.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand::RngCore;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::SyncError;
use crate::Result;

/// Proof that a device key belongs to the organisation: the root's signature over the
/// organisation, the device id and its public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    /// The device's id.
    pub device: String,
    /// Its ed25519 public key, hex.
    pub public_key: String,
    /// The root's signature, hex.
    pub signature: String,
}

fn cert_message(org: &str, device: &str, public_key: &str) -> Vec<u8> {
    format!("masar-device-cert/v1/{org}/{device}/{public_key}").into_bytes()
}

impl DeviceCert {
    /// Certifies `device`'s key with the root key.
    pub fn issue(root: &SigningKey, org: &str, device: &str, key: &VerifyingKey) -> DeviceCert {
        let public_key = hex::encode(key.as_bytes());
        let signature = root.sign(&cert_message(org, device, &public_key));
        DeviceCert { device: device.to_string(), public_key, signature: hex::encode(signature.to_bytes()) }
    }

    /// The device's public key, if the root of `org` certified it.
    pub fn verify(&self, root: &VerifyingKey, org: &str) -> Option<VerifyingKey> {
        let sig: [u8; 64] = hex::decode(&self.signature).ok()?.try_into().ok()?;
        root.verify(&cert_message(org, &self.device, &self.public_key), &Signature::from_bytes(&sig)).ok()?;
        let key: [u8; 32] = hex::decode(&self.public_key).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&key).ok()
    }
}

/// What a laptop needs to write and read its organisation's bundles. Its secrets never
/// leave the crate.
pub(crate) struct OrgKeys {
    /// The organisation's id.
    pub(crate) org_id: String,
    /// The root's public key, which certifies devices.
    pub(crate) root_public: VerifyingKey,
    /// The root's secret key, only on the laptop that founded the organisation.
    pub(crate) root_secret: Option<SigningKey>,
    /// The shared key that encrypts bundles.
    pub(crate) bundle_key: Zeroizing<[u8; 32]>,
    /// This device's signing key.
    pub(crate) device_secret: SigningKey,
    /// This device's certificate.
    pub(crate) device_cert: DeviceCert,
}

pub(crate) fn random32() -> Zeroizing<[u8; 32]> {
    let mut k = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut *k);
    k
}

fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(crate::store::meta(conn, key)?)
}

fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    Ok(crate::store::set_meta(conn, key, value)?)
}

fn key32(hex_text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(hex::decode(hex_text).ok()?);
    let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(arr))
}

/// Gives a database that has none (a new one, or one made before sync) the keys of an
/// organisation it founds.
pub(crate) fn ensure_founder_keys(conn: &Connection) -> Result<()> {
    if get(conn, "bundle_key")?.is_some() {
        return Ok(());
    }
    let org = get(conn, "org_id")?.unwrap_or_default();
    let device = get(conn, "device_id")?.unwrap_or_default();
    let root = SigningKey::from_bytes(&random32());
    let device_key = SigningKey::from_bytes(&random32());
    let cert = DeviceCert::issue(&root, &org, &device, &device_key.verifying_key());
    put(conn, "org_root_public", &hex::encode(root.verifying_key().as_bytes()))?;
    put(conn, "org_root_secret", &hex::encode(root.to_bytes()))?;
    put(conn, "bundle_key", &hex::encode(*random32()))?;
    put(conn, "device_secret", &hex::encode(device_key.to_bytes()))?;
    put(conn, "device_cert", &serde_json::to_string(&cert).map_err(|e| SyncError::Seal(e.to_string()))?)?;
    Ok(())
}

/// Stores the keys a laptop received at enrolment.
pub(crate) fn store_member_keys(conn: &Connection, e: &Enrolment) -> Result<()> {
    put(conn, "org_root_public", &e.root_public)?;
    put(conn, "bundle_key", &e.bundle_key)?;
    put(conn, "device_secret", &e.device_secret)?;
    put(conn, "device_cert", &serde_json::to_string(&e.cert).map_err(|e| SyncError::Seal(e.to_string()))?)?;
    Ok(())
}

/// Reads this laptop's keys.
pub(crate) fn load(conn: &Connection) -> Result<OrgKeys> {
    let broken = || SyncError::Keys("this database's organisation keys are missing or damaged: restore it from a backup, or enrol the laptop again".into());
    let org_id = get(conn, "org_id")?.ok_or_else(broken)?;
    let root_public = get(conn, "org_root_public")?
        .and_then(|h| key32(&h))
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or_else(broken)?;
    let root_secret = get(conn, "org_root_secret")?.and_then(|h| key32(&h)).map(|k| SigningKey::from_bytes(&k));
    let bundle_key = get(conn, "bundle_key")?.and_then(|h| key32(&h)).ok_or_else(broken)?;
    let device_secret = get(conn, "device_secret")?.and_then(|h| key32(&h)).map(|k| SigningKey::from_bytes(&k)).ok_or_else(broken)?;
    let device_cert: DeviceCert =
        get(conn, "device_cert")?.and_then(|j| serde_json::from_str(&j).ok()).ok_or_else(broken)?;
    Ok(OrgKeys { org_id, root_public, root_secret, bundle_key, device_secret, device_cert })
}

/// What an enrolment file carries to a new laptop.
#[derive(Serialize, Deserialize)]
pub(crate) struct Enrolment {
    pub org_id: String,
    pub org_name: String,
    pub root_public: String,
    pub bundle_key: String,
    pub device_id: String,
    pub device_secret: String,
    pub cert: DeviceCert,
    /// The enrolling laptop's clock, so the new one starts after it.
    pub hlc: i64,
    /// When the file stops being accepted (RFC 3339): a file found later on a stick is
    /// no way into the organisation.
    #[serde(default)]
    pub expires: Option<String>,
}

/// How long an enrolment file is accepted, unless the administrator says otherwise.
pub const ENROLMENT_DAYS: i64 = 7;

impl Enrolment {
    /// Refuses a file past its expiry. A file without one was made before files expired
    /// (no release made such files; the format-1 fixture is one) and is read as before.
    pub(crate) fn check_not_expired(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(), SyncError> {
        let Some(text) = self.expires.as_deref() else { return Ok(()) };
        let expires = chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| SyncError::Enrolment("the enrolment file is damaged: ask the administrator for a new one".into()))?;
        if now > expires {
            return Err(SyncError::Enrolment(format!(
                "this enrolment file expired on {}: ask the administrator for a new one",
                expires.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        Ok(())
    }
}

const ENROL_MAGIC: &[u8; 8] = b"MASARENR";
const ENROL_VERSION: u16 = 1;

fn enrol_kek(passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, SyncError> {
    let params = argon2::Params::new(64 * 1024, 3, 1, Some(32)).map_err(|e| SyncError::Seal(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut *out)
        .map_err(|e| SyncError::Seal(e.to_string()))?;
    Ok(out)
}

/// Seals an enrolment under a passphrase (argon2id, XChaCha20-Poly1305).
pub(crate) fn seal_enrolment(e: &Enrolment, passphrase: &str) -> Result<Vec<u8>, SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let plain = Zeroizing::new(serde_json::to_vec(e).map_err(|err| SyncError::Seal(err.to_string()))?);
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let kek = enrol_kek(passphrase, &salt)?;
    let mut out = Vec::new();
    out.extend_from_slice(ENROL_MAGIC);
    out.extend_from_slice(&ENROL_VERSION.to_le_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&*kek).into());
    let sealed = aead
        .encrypt(chacha20poly1305::XNonce::from_slice(&nonce), Payload { msg: &plain, aad: &out })
        .map_err(|_| SyncError::Seal("the enrolment could not be encrypted".into()))?;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens an enrolment file with its passphrase.
pub(crate) fn open_enrolment(bytes: &[u8], passphrase: &str) -> Result<Enrolment, SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let head = 8 + 2 + 16 + 24;
    if bytes.len() < head || &bytes[..8] != ENROL_MAGIC {
        return Err(SyncError::Enrolment("this is not a Masar enrolment file".into()));
    }
    if u16::from_le_bytes([bytes[8], bytes[9]]) > ENROL_VERSION {
        return Err(SyncError::Enrolment("this enrolment file was made by a newer version of Masar: install it on this laptop".into()));
    }
    let kek = enrol_kek(passphrase, &bytes[10..26])?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&*kek).into());
    let plain = Zeroizing::new(
        aead.decrypt(chacha20poly1305::XNonce::from_slice(&bytes[26..50]), Payload { msg: &bytes[head..], aad: &bytes[..head] })
            .map_err(|_| SyncError::Enrolment("wrong passphrase, or the file was changed: ask the administrator for the passphrase or a new file".into()))?,
    );
    serde_json::from_slice(&plain).map_err(|_| SyncError::Enrolment("the enrolment file is damaged: ask the administrator for a new one".into()))
}
