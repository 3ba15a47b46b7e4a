//! A laptop's own keys: those of an organisation it founds, those an enrolment file
//! brings, and a new device identity for a restored backup.

use ed25519_dalek::SigningKey;
use rusqlite::Connection;

use super::certs::all_user_certs;
use super::{
    get, key32, put, random32, store_bundle_key, store_rotations, trust, DeviceCert, Enrolment,
};
use crate::error::SyncError;
use crate::trust::{AuthorCert, Issuer};
use crate::Result;

/// Gives a database that has none (a new one, or one made before sync) the keys of an
/// organisation it founds; returns the new root key, which the caller puts in custody.
pub(crate) fn ensure_founder_keys(conn: &Connection) -> Result<Option<SigningKey>> {
    if get(conn, "bundle_key")?.is_some() {
        return Ok(None);
    }
    let org = get(conn, "org_id")?.unwrap_or_default();
    let device = get(conn, "device_id")?.unwrap_or_default();
    let root = SigningKey::from_bytes(&random32());
    let device_key = SigningKey::from_bytes(&random32());
    let cert = DeviceCert::issue(&Issuer::root(root.clone()), &org, &device, &device_key);
    put(
        conn,
        "org_root_public",
        &hex::encode(root.verifying_key().as_bytes()),
    )?;
    put(conn, "bundle_key", &hex::encode(*random32()))?;
    put(conn, "device_secret", &hex::encode(device_key.to_bytes()))?;
    put(
        conn,
        "device_cert",
        &serde_json::to_string(&cert).map_err(|e| SyncError::Seal(e.to_string()))?,
    )?;
    Ok(Some(root))
}

/// Stores the keys a laptop received at enrolment; returns the enrolment file's one-use
/// key, with which the laptop's first administrator is certified (the file carries no
/// root key).
pub(crate) fn store_member_keys(conn: &Connection, e: &Enrolment) -> Result<Issuer> {
    let damaged = || {
        SyncError::Enrolment(
            "the enrolment file is damaged: ask the administrator for a new one".into(),
        )
    };
    put(conn, "org_root_public", &e.root_public)?;
    put(conn, "bundle_key", &e.bundle_key)?;
    put(conn, "device_secret", &e.device_secret)?;
    put(
        conn,
        "device_cert",
        &serde_json::to_string(&e.cert).map_err(|e| SyncError::Seal(e.to_string()))?,
    )?;
    store_rotations(conn, &e.rotations)?;
    for cert in &e.issuers {
        crate::changes::keep_cert(conn, cert)?;
    }
    for (epoch, key) in &e.later_keys {
        let key = key32(key).ok_or_else(damaged)?;
        if let Some(ring) = e.keyring.as_ref() {
            store_bundle_key(conn, *epoch, &key, ring)?;
        }
    }
    let key = key32(&e.enrolment_secret)
        .map(|k| SigningKey::from_bytes(&k))
        .ok_or_else(damaged)?;
    let trust = trust(conn)?;
    let cert = &e.enrolment_cert;
    let fits = cert.is_enrolment()
        && cert.device == e.device_id
        && cert.public_key == hex::encode(key.verifying_key().as_bytes())
        && cert.verify(&trust).is_ok();
    if !fits || e.cert.verify(&trust).is_none() {
        return Err(damaged().into());
    }
    crate::changes::keep_cert(conn, cert)?;
    Ok(Issuer::under(key, cert))
}

/// Gives this database a new device identity, certified by `root`, as a restored backup
/// needs: the laptop the backup came from may still be writing under the old one, and two
/// laptops must never stamp changes as one device. Every user certified on the old device
/// gets their key certified again, with their role, for the new one, so each signs at their
/// next log-in without the root key ever being left in the database. The old device's
/// changes stay in the log, as valid as they were. Returns the old device's id and the new.
pub(crate) fn new_device_identity(
    conn: &Connection,
    root: &Issuer,
    device_name: &str,
    now: &str,
) -> Result<(String, String)> {
    let org = get(conn, "org_id")?.unwrap_or_default();
    let old = get(conn, "device_id")?.unwrap_or_default();
    let device = uuid::Uuid::now_v7().to_string();
    let device_key = SigningKey::from_bytes(&random32());
    let cert = DeviceCert::issue(root, &org, &device, &device_key);
    let cert_json = serde_json::to_string(&cert).map_err(|e| SyncError::Seal(e.to_string()))?;
    put(conn, "device_id", &device)?;
    put(conn, "device_name", device_name)?;
    put(conn, "device_secret", &hex::encode(device_key.to_bytes()))?;
    put(conn, "device_cert", &cert_json)?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO devices(id, public_key, cert, name) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![
        device,
        cert.public_key,
        cert_json,
        device_name
    ])?;
    let users: Vec<String> = conn
        .prepare("SELECT DISTINCT user FROM certs WHERE device = ?1 AND user <> ?2 AND id NOT IN (SELECT subject FROM revocations WHERE kind = 'cert')")?
        .query_map([&old, crate::trust::ENROLMENT_USER], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let trust = trust(conn)?;
    for user in users {
        // The user's newest certificate here names their key and their role.
        let mut certs: Vec<AuthorCert> = all_user_certs(conn, &user, &old)?;
        certs.retain(|c| c.verify(&trust).is_ok());
        certs.sort_by(|a, b| (&b.issued, &b.id).cmp(&(&a.issued, &a.id)));
        let Some(newest) = certs.first() else {
            continue;
        };
        let (key, role) = newest.verify(&trust).map_err(|why| {
            SyncError::Keys(format!("a user's certificate cannot be renewed: {why}"))
        })?;
        let renewed = AuthorCert::issue(
            root,
            &org,
            &newest.user,
            &newest.name,
            role,
            &device,
            &key,
            now,
        );
        crate::changes::keep_cert(conn, &renewed)?;
    }
    Ok((old, device))
}
