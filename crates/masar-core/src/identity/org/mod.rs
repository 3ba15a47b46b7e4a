//! The organisation's keys and the devices' certificates.
//!
//! At `init` a laptop founds the organisation: it makes the organisation's root signing
//! key, the bundle key every enrolled laptop shares to read bundles, and its own device
//! key, certified by the root. The root key is kept only under administrators' passwords
//! (the key file), never in the database every user of a laptop can decrypt. `enrol`
//! certifies a new device key and seals everything the new laptop and its first
//! administrator need in a passphrase-protected file. At each log-in, [`at_login`] gives
//! the user their certified signing key.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use zeroize::Zeroizing;

use crate::error::SyncError;
use crate::trust::{AuthorCert, DeviceVoid, Issued, Issuer, Keyring, Trust};
use crate::Result;

mod certs;
mod device;
mod enrolment;
mod login;

pub(crate) use certs::{
    all_certs, all_revocations, cert, chain, store_revocation, store_rotations, trust, voided,
};
pub(crate) use device::{ensure_founder_keys, new_device_identity, store_member_keys};
pub use enrolment::ENROLMENT_DAYS;
pub(crate) use enrolment::{open_enrolment, open_under, seal_enrolment, seal_under, Enrolment};
pub(crate) use login::{at_login, Login};

/// Proof that a device key belongs to the organisation: the root's signature over the
/// organisation, the device id, its public key and its key-agreement key (to which new
/// bundle keys are sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCert {
    /// The device's id.
    pub device: String,
    /// Its ed25519 public key, hex.
    pub public_key: String,
    /// Its X25519 key-agreement public key, hex (empty on certificates made before keys
    /// were rotated).
    #[serde(default)]
    pub kx: String,
    /// The administrator's certificate whose key signed it; none when the root did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The issuer's signature, hex.
    pub signature: String,
}

fn cert_message(org: &str, device: &str, public_key: &str, kx: &str, by: Option<&str>) -> Vec<u8> {
    let m = if kx.is_empty() {
        format!("masar-device-cert/v1/{org}/{device}/{public_key}").into_bytes()
    } else {
        format!("masar-device-cert/v2/{org}/{device}/{public_key}/{kx}").into_bytes()
    };
    crate::trust::with_issuer(m, by)
}

impl DeviceCert {
    /// Certifies `device`'s key.
    pub fn issue(issuer: &Issuer, org: &str, device: &str, key: &SigningKey) -> DeviceCert {
        let public_key = hex::encode(key.verifying_key().as_bytes());
        let kx = crate::trust::agreement_public(key);
        let by = issuer.by().map(str::to_string);
        let signature = issuer.sign(&cert_message(org, device, &public_key, &kx, by.as_deref()));
        DeviceCert {
            device: device.to_string(),
            public_key,
            kx,
            by,
            signature,
        }
    }

    fn message(&self, org: &str) -> Vec<u8> {
        cert_message(
            org,
            &self.device,
            &self.public_key,
            &self.kx,
            self.by.as_deref(),
        )
    }

    /// Its id, derived from what its issuer signed (what a revocation keeps).
    pub fn id(&self, org: &str) -> String {
        hex::encode(&sha2::Sha256::digest(self.message(org))[..16])
    }

    /// The device's public key, if this organisation's root or an administrator certified
    /// it (void or not: [`Trust::voided`] says).
    pub fn verify(&self, trust: &Trust) -> Option<VerifyingKey> {
        let org = trust.org();
        trust
            .check_issued(
                self.by.as_deref(),
                &self.id(org),
                &self.message(org),
                &self.signature,
                Issued::Device,
            )
            .ok()?;
        let key: [u8; 32] = hex::decode(&self.public_key).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&key).ok()
    }

    /// How [`Trust::voided`] reads it.
    pub fn as_void<'a>(&'a self, org: &str) -> DeviceVoid<'a> {
        DeviceVoid {
            device: &self.device,
            id: self.id(org),
            message: self.message(org),
            signature: &self.signature,
            by: self.by.as_deref(),
        }
    }
}

/// What a laptop needs to write and read its organisation's bundles. Its secrets never
/// leave the crate.
pub(crate) struct OrgKeys {
    /// The organisation's id.
    pub(crate) org_id: String,
    /// Who may certify devices and users: the roots and the administrators.
    pub(crate) trust: Trust,
    /// The shared keys that encrypt bundles, by epoch (0 the first); the newest seals.
    pub(crate) bundle_keys: Vec<(u32, Zeroizing<[u8; 32]>)>,
    /// The keyring that carried the newest key (none for epoch 0).
    pub(crate) keyring: Option<Keyring>,
    /// The newest epoch whose keyring holds under this laptop's trust.
    pub(crate) seal_epoch: u32,
    /// The certificates this device's certificate and its keyring rest on, which its
    /// bundles' headers carry.
    pub(crate) chain: Vec<AuthorCert>,
    /// This device's signing key.
    pub(crate) device_secret: SigningKey,
    /// This device's certificate.
    pub(crate) device_cert: DeviceCert,
}

impl OrgKeys {
    /// The newest bundle key whose keyring still holds, and its epoch: one that a retired
    /// issuer signed is kept for reading, never for sealing.
    pub(crate) fn current(&self) -> (u32, &Zeroizing<[u8; 32]>) {
        let (epoch, key) = self
            .bundle_keys
            .iter()
            .filter(|(e, _)| *e <= self.seal_epoch)
            .max_by_key(|(e, _)| *e)
            .unwrap_or(&self.bundle_keys[0]);
        (*epoch, key)
    }

    /// The bundle key of `epoch`, if this laptop holds it.
    pub(crate) fn key_for(&self, epoch: u32) -> Option<&Zeroizing<[u8; 32]>> {
        self.bundle_keys
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, k)| k)
    }

    /// Takes a bundle key from a keyring a bundle carries, if the root signed it and it
    /// holds an envelope for this device; returns it to be kept.
    pub(crate) fn learn(&mut self, ring: &Keyring) -> Option<(u32, Zeroizing<[u8; 32]>, Keyring)> {
        if self.key_for(ring.epoch).is_some() || !ring.verify(&self.trust) {
            return None;
        }
        let key = ring.open_for(&self.device_cert.device, &self.device_secret)?;
        self.bundle_keys.push((ring.epoch, key.clone()));
        if self.keyring.as_ref().is_none_or(|k| k.epoch < ring.epoch) {
            self.keyring = Some(ring.clone());
        }
        self.seal_epoch = self.seal_epoch.max(ring.epoch);
        Some((ring.epoch, key, ring.clone()))
    }
}

/// Keeps a bundle key received or made, with its keyring.
pub(crate) fn store_bundle_key(
    conn: &Connection,
    epoch: u32,
    key: &[u8; 32],
    ring: &Keyring,
) -> Result<()> {
    let ring = serde_json::to_string(ring).map_err(|e| SyncError::Seal(e.to_string()))?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO bundle_keys(epoch, key, keyring) VALUES (?1, ?2, ?3)",
    )?
    .execute(rusqlite::params![epoch, key.to_vec(), ring])?;
    Ok(())
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

/// Reads this laptop's keys.
pub(crate) fn load(conn: &Connection) -> Result<OrgKeys> {
    let broken = || {
        SyncError::Keys("this database's organisation keys are missing or damaged: restore it from a backup, or enrol the laptop again".into())
    };
    let org_id = get(conn, "org_id")?.ok_or_else(broken)?;
    let trust = trust(conn)?;
    let first = get(conn, "bundle_key")?
        .and_then(|h| key32(&h))
        .ok_or_else(broken)?;
    let mut bundle_keys = vec![(0, first)];
    let mut keyring: Option<Keyring> = None;
    let rows: Vec<(u32, Vec<u8>, String)> = conn
        .prepare("SELECT epoch, key, keyring FROM bundle_keys ORDER BY epoch")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut seal_epoch = 0;
    for (epoch, key, ring) in rows {
        let key: [u8; 32] = key.try_into().map_err(|_| broken())?;
        bundle_keys.push((epoch, Zeroizing::new(key)));
        let ring: Option<Keyring> = serde_json::from_str(&ring).ok();
        if let Some(ring) = ring.filter(|r| r.epoch == epoch && r.verify(&trust)) {
            seal_epoch = epoch;
            keyring = Some(ring);
        }
    }
    let device_secret = get(conn, "device_secret")?
        .and_then(|h| key32(&h))
        .map(|k| SigningKey::from_bytes(&k))
        .ok_or_else(broken)?;
    let device_cert: DeviceCert = get(conn, "device_cert")?
        .and_then(|j| serde_json::from_str(&j).ok())
        .ok_or_else(broken)?;
    let mut chain = self::chain(conn, device_cert.by.clone())?;
    for c in self::chain(conn, keyring.as_ref().and_then(|k| k.by.clone()))? {
        if !chain.contains(&c) {
            chain.push(c);
        }
    }
    Ok(OrgKeys {
        org_id,
        trust,
        chain,
        bundle_keys,
        keyring,
        seal_epoch,
        device_secret,
        device_cert,
    })
}

#[cfg(test)]
mod tests {
    use super::enrolment::{enrolment_cost, open_enrolment_plain, ENROL_MAGIC};
    use super::*;
    use crate::keys::KdfCost;

    fn enrolment(expires: &str) -> Enrolment {
        let root = Issuer::root(SigningKey::from_bytes(&random32()));
        let device = SigningKey::from_bytes(&random32());
        let once = SigningKey::from_bytes(&random32());
        Enrolment {
            org_id: "org".into(),
            org_name: "Oujda programme".into(),
            root_public: String::new(),
            rotations: vec![],
            issuers: vec![],
            enrolment_secret: hex::encode(once.to_bytes()),
            enrolment_cert: AuthorCert::enrolment(&root, "org", "d", &once.verifying_key(), "t"),
            bundle_key: hex::encode(*random32()),
            later_keys: vec![],
            keyring: None,
            device_id: "d".into(),
            device_secret: hex::encode(device.to_bytes()),
            cert: DeviceCert::issue(&root, "org", "d", &device),
            hlc: 0,
            expires: expires.into(),
        }
    }

    fn refusal(opened: Result<Enrolment, SyncError>) -> String {
        match opened {
            Ok(_) => panic!("the file opened"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_new_enrolment_file_names_its_cost_and_a_changed_cost_is_refused() {
        let sealed = seal_enrolment(
            &enrolment("2030-01-01T00:00:00Z"),
            "tailoring in Oujda 2024",
        )
        .unwrap();
        assert_eq!(enrolment_cost(&sealed), Some(KdfCost::CURRENT));
        assert!(open_enrolment(&sealed, "tailoring in Oujda 2024").is_ok());
        assert!(refusal(open_enrolment(&sealed, "tailoring in Oujda 2025"))
            .contains("wrong passphrase"));
        // A finder who lowers the cost in the header to guess faster gets nothing: the
        // header is bound to the ciphertext, and the key derived at the lower cost differs.
        let mut cheaper = sealed.clone();
        cheaper[10..14].copy_from_slice(&(19u32 * 1024).to_le_bytes());
        assert!(refusal(open_enrolment(&cheaper, "tailoring in Oujda 2024"))
            .contains("wrong passphrase"));
        let mut huge = sealed;
        huge[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(refusal(open_enrolment(&huge, "tailoring in Oujda 2024")).contains("damaged"));
    }

    /// Re-seals a fixture enrolment file of format 2 or 3 (which carried the root key) as
    /// format 4, certifying a one-use key with the root it carried, so that the fixtures
    /// of old bundles and databases can still be joined. Run once per fixture:
    /// `MASAR_RESEAL=tests/fixtures/…/laptop.enrol cargo test -p masar-core --lib -- --ignored reseal`.
    #[test]
    #[ignore = "converts a fixture file in place when MASAR_RESEAL names it"]
    fn reseal_a_fixture_enrolment_file() {
        let Ok(path) = std::env::var("MASAR_RESEAL") else {
            return;
        };
        let bytes = std::fs::read(&path).expect("the fixture");
        let (version, plain) = open_enrolment_plain(&bytes, "fixture-passphrase").expect("opens");
        assert!(version < 4, "already format {version}");
        let mut v: serde_json::Value = serde_json::from_slice(&plain).expect("json");
        let root = key32(v["root_secret"].as_str().expect("a root"))
            .map(|k| SigningKey::from_bytes(&k))
            .expect("a root key");
        let once = SigningKey::from_bytes(&random32());
        let cert = AuthorCert::enrolment(
            &Issuer::root(root),
            v["org_id"].as_str().expect("org"),
            v["device_id"].as_str().expect("device"),
            &once.verifying_key(),
            "2024-06-01T00:00:00+00:00",
        );
        let o = v.as_object_mut().expect("an object");
        o.remove("root_secret");
        o.insert(
            "enrolment_secret".into(),
            hex::encode(once.to_bytes()).into(),
        );
        o.insert(
            "enrolment_cert".into(),
            serde_json::to_value(&cert).expect("cert"),
        );
        let e: Enrolment = serde_json::from_value(v).expect("the new shape");
        let sealed = seal_enrolment(&e, "fixture-passphrase").expect("seal");
        std::fs::write(&path, sealed).expect("write");
    }

    #[test]
    fn a_file_that_carried_the_root_key_is_refused_with_what_to_do() {
        let bytes = seal_under(
            ENROL_MAGIC,
            3,
            br#"{"root_secret":"00"}"#,
            "tailoring in Oujda 2024",
        )
        .expect("seal");
        let refused = refusal(open_enrolment(&bytes, "tailoring in Oujda 2024"));
        assert!(
            refused.contains("root key") && refused.contains("new one"),
            "{refused}"
        );
    }

    #[test]
    fn an_expired_file_still_opens_with_its_passphrase_outside_masar() {
        // The limit, shown rather than hidden: the expiry is checked by the joining code,
        // not by the cryptography. Whoever holds the file and finds the passphrase reads
        // what it carries, however old the file is: a device's key and a one-use key that
        // certifies that device's first administrator, and no root key.
        let sealed = seal_enrolment(
            &enrolment("2020-01-01T00:00:00Z"),
            "tailoring in Oujda 2024",
        )
        .unwrap();
        let opened = open_enrolment(&sealed, "tailoring in Oujda 2024").unwrap();
        assert!(
            opened.check_not_expired(chrono::Utc::now()).is_err(),
            "Masar refuses to join with it"
        );
        assert!(
            key32(&opened.enrolment_secret).is_some(),
            "but its one-use key is in it"
        );
    }
}
