//! The certificates, rotations of the root and revocations this laptop holds, and the
//! trust built from them.

use ed25519_dalek::VerifyingKey;
use rusqlite::Connection;

use super::{get, key32, put, DeviceCert};
use crate::error::SyncError;
use crate::trust::{AuthorCert, DeviceVoid, Revocation, RootRotation, Trust};
use crate::Result;

/// The certificates `by` rests on, up to the root: what a reader who may not know them
/// needs to check what it signed.
pub(crate) fn chain(conn: &Connection, mut by: Option<String>) -> Result<Vec<AuthorCert>> {
    let mut out: Vec<AuthorCert> = Vec::new();
    while let Some(id) = by {
        if out.len() >= 8 || out.iter().any(|c| c.id == id) {
            break;
        }
        let Some(c) = cert(conn, &id)? else {
            break;
        };
        by = c.by.clone();
        out.push(c);
    }
    Ok(out)
}

/// The rotations of the root this laptop holds, in no order.
pub(crate) fn rotations(conn: &Connection) -> Result<Vec<RootRotation>> {
    Ok(get(conn, "org_root_rotations")?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

/// Keeps rotations of the root with those held; only those that continue the chain from
/// the first root count, which [`trust`] decides.
pub(crate) fn store_rotations(conn: &Connection, more: &[RootRotation]) -> Result<()> {
    if more.is_empty() {
        return Ok(());
    }
    let mut all = rotations(conn)?;
    for r in more {
        if !all.contains(r) {
            all.push(r.clone());
        }
    }
    let json = serde_json::to_string(&all).map_err(|e| SyncError::Seal(e.to_string()))?;
    put(conn, "org_root_rotations", &json)
}

/// What this laptop trusts to issue: the first root and its rotations, the
/// administrators' certificates, and the revocations held.
pub(crate) fn trust(conn: &Connection) -> Result<Trust> {
    let broken = || {
        SyncError::Keys("this database's organisation keys are missing or damaged: restore it from a backup, or enrol the laptop again".into())
    };
    let org = get(conn, "org_id")?.ok_or_else(broken)?;
    let anchor = get(conn, "org_root_public")?
        .and_then(|h| key32(&h))
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .ok_or_else(broken)?;
    let mut trust = Trust::new(&org, anchor);
    trust.add_rotations(&rotations(conn)?);
    for cert in all_certs(conn)? {
        trust.add_issuer(&cert);
    }
    trust.add_revocations(all_revocations(conn)?);
    Ok(trust)
}

/// The revocations that follow from issuers' retirements (see [`Trust::voided`]), over
/// every certificate this laptop holds.
pub(crate) fn voided(conn: &Connection, trust: &Trust) -> Result<Vec<Revocation>> {
    // Asked once per bundle read: without a retired issuer nothing is void, and nothing
    // needs reading.
    if !trust.retires_any() {
        return Ok(Vec::new());
    }
    let certs = all_certs(conn)?;
    let devices: Vec<DeviceCert> = conn
        .prepare("SELECT cert FROM devices WHERE cert IS NOT NULL")?
        .query_map([], |r| r.get::<_, String>(0))?
        .filter_map(|c| c.ok().and_then(|c| serde_json::from_str(&c).ok()))
        .collect();
    let reads: Vec<DeviceVoid<'_>> = devices.iter().map(|d| d.as_void(trust.org())).collect();
    Ok(trust.voided(&certs, &reads))
}

/// The certificates of `user` on `device` that no revocation withdrew, nor an issuer's
/// retirement made void.
pub(super) fn all_user_certs(
    conn: &Connection,
    user: &str,
    device: &str,
) -> Result<Vec<AuthorCert>> {
    let bodies: Vec<String> = conn
        .prepare_cached(
            "SELECT body FROM certs WHERE user = ?1 AND device = ?2
               AND id NOT IN (SELECT subject FROM revocations WHERE kind = 'cert')",
        )?
        .query_map(rusqlite::params![user, device], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let certs: Vec<AuthorCert> = bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    if certs.iter().all(|c| c.by.is_none()) && get(conn, "org_root_rotations")?.is_none() {
        return Ok(certs);
    }
    let trust = trust(conn)?;
    Ok(certs.into_iter().filter(|c| !c.is_void(&trust)).collect())
}

/// A certificate this laptop holds, by id.
pub(crate) fn cert(conn: &Connection, id: &str) -> Result<Option<AuthorCert>> {
    use rusqlite::OptionalExtension;
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM certs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

/// The newest certificate of `user`'s key `public` on `device` that no revocation withdrew.
pub(crate) fn current_cert(
    conn: &Connection,
    user: &str,
    device: &str,
    public: &str,
) -> Result<Option<AuthorCert>> {
    let mut certs = all_user_certs(conn, user, device)?;
    certs.retain(|c| c.public_key == public);
    certs.sort_by(|a, b| (&b.issued, &b.id).cmp(&(&a.issued, &a.id)));
    Ok(certs.into_iter().next())
}

/// Every certificate this laptop holds.
pub(crate) fn all_certs(conn: &Connection) -> Result<Vec<AuthorCert>> {
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM certs ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect())
}

/// Keeps a revocation the root signed; true if it is new here.
pub(crate) fn store_revocation(conn: &Connection, r: &Revocation) -> Result<bool> {
    let body = serde_json::to_string(r).map_err(|e| SyncError::Seal(e.to_string()))?;
    let kind = serde_json::to_value(r.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let added = conn
        .prepare_cached("INSERT OR IGNORE INTO revocations(id, kind, subject, after, body) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(rusqlite::params![r.id, kind, r.subject, r.after, body])?;
    Ok(added > 0)
}

/// Every revocation this laptop holds.
pub(crate) fn all_revocations(conn: &Connection) -> Result<Vec<Revocation>> {
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM revocations ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(bodies
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect())
}
