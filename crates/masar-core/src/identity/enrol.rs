//! Enrolling a new laptop: its device's key and certificate, and a one-use key for its
//! first administrator, sealed under a passphrase; the file carries no root key.

use std::path::Path;

use rusqlite::params;

use super::org as keys;
use crate::auth::Permission;
use crate::changes::{ClockState, Db};
use crate::error::{InputError, Problem, SyncError};
use crate::Result;

impl Db {
    /// Writes an enrolment file for a new laptop (admin, on the laptop that founded the
    /// organisation); returns the new device's id.
    pub(crate) fn enrol(
        &mut self,
        out: &Path,
        passphrase: &str,
        valid_days: i64,
    ) -> Result<String> {
        self.require(Permission::ManageUsers)?;
        if !(1..=90).contains(&valid_days) {
            return Err(InputError::invalid(
                "valid_days",
                &valid_days.to_string(),
                Problem::NotOneOf(vec!["1 to 90 days".into()]),
            )
            .into());
        }
        // The file carries the organisation's keys and can be guessed at offline by
        // whoever finds it, expired or not: its passphrase meets the passwords' policy.
        let org_name = crate::store::meta(self.conn(), "org_name")?.unwrap_or_default();
        crate::auth::check_enrolment_passphrase(passphrase, &[&org_name, &self.user().name])?;
        let keys = keys::load(self.conn())?;
        let issuer = self.issuer("enrol laptops")?;
        let device_id = uuid::Uuid::now_v7().to_string();
        let device_key = ed25519_dalek::SigningKey::from_bytes(&keys::random32());
        let cert = keys::DeviceCert::issue(&issuer, &keys.org_id, &device_id, &device_key);
        // The file carries no root key: a one-use key that may certify the new laptop's
        // first administrator, and nothing else.
        let enrolment_key = ed25519_dalek::SigningKey::from_bytes(&keys::random32());
        let enrolment_cert = crate::trust::AuthorCert::enrolment(
            &issuer,
            &keys.org_id,
            &device_id,
            &enrolment_key.verifying_key(),
            &self.clock().now().to_rfc3339(),
        );
        // Known from now on, so that a new bundle key after a revocation is sealed to it too.
        self.conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO devices(id, public_key, cert) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                device_id,
                cert.public_key,
                serde_json::to_string(&cert).unwrap_or_default()
            ])?;
        // Kept here too, so that a rotation of the root from this laptop keeps it.
        crate::changes::keep_cert(self.conn(), &enrolment_cert)?;
        let hlc = ClockState::load(self.conn())?.hlc.0;
        let enrolment = keys::Enrolment {
            org_id: keys.org_id.clone(),
            org_name,
            root_public: hex::encode(keys.trust.anchor().as_bytes()),
            rotations: keys.trust.all_rotations().to_vec(),
            issuers: keys::chain(self.conn(), issuer.by().map(str::to_string))?,
            enrolment_secret: hex::encode(enrolment_key.to_bytes()),
            enrolment_cert,
            bundle_key: hex::encode(*keys.bundle_keys[0].1),
            later_keys: keys
                .bundle_keys
                .iter()
                .filter(|(e, _)| *e > 0)
                .map(|(e, k)| (*e, hex::encode(**k)))
                .collect(),
            keyring: keys.keyring.clone(),
            device_id: device_id.clone(),
            device_secret: hex::encode(device_key.to_bytes()),
            cert,
            hlc,
            expires: (self.clock().now() + chrono::Duration::days(valid_days)).to_rfc3339(),
        };
        let sealed = keys::seal_enrolment(&enrolment, passphrase)?;
        crate::files::write_private_atomically(out, &sealed)
            .map_err(|e| SyncError::not_written(out, e))?;
        Ok(device_id)
    }
}
