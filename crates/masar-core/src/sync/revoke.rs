//! Revoking a lost laptop or a user who left, and what follows: their later changes leave
//! every log, and a lost laptop cannot read bundles written afterwards.
//!
//! A revocation is signed by the root (an administrator) and names the last stamp of its
//! subject still valid: the newest this laptop holds. It travels in every bundle. Every
//! laptop that holds it sets aside the subject's later changes on import and removes those
//! it already took (`oplog::purge`), so laptops that heard of it early and late agree. A
//! device's revocation also starts a new bundle key, sealed to every other device.

use rusqlite::Transaction;
use serde::Serialize;
use ts_rs::TS;

use super::keys;
use crate::auth::Permission;
use crate::changes::{oplog, Db};
use crate::error::{InputError, SyncError};
use crate::schema::{Entity, Value};
use crate::trust::{Keyring, Revocation, Revoked};
use crate::Result;

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RevocationDone {
    /// The device or user revoked.
    pub subject: String,
    /// The last stamp of theirs still valid.
    pub after: String,
    /// The new bundle key's number, when one was started (devices).
    pub bundle_key: Option<u32>,
    /// Changes of theirs, later than that stamp, removed from this laptop's log.
    pub removed: u64,
}

/// A device this laptop knows, for administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DeviceRow {
    /// The device's id.
    pub id: String,
    /// The name its laptop gave itself, once one of its bundles was read here.
    pub name: Option<String>,
    /// When this laptop last read a bundle of it.
    pub last_seen: Option<String>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Whether it is this laptop.
    pub this_laptop: bool,
}

fn where_revoked(r: &Revocation) -> (&'static str, &'static str) {
    match r.kind {
        Revoked::Device => ("c.device = ?1 AND c.hlc > ?2", "device"),
        Revoked::User => ("c.user_id = ?1 AND c.hlc > ?2", "user"),
        Revoked::Cert => ("c.hlc > ?2 AND c.commit_id IN (SELECT id FROM commits WHERE cert = ?1)", "cert"),
    }
}

/// Removes from the log what `r` revokes, and settles what that touched. Returns how many
/// changes left.
pub(crate) fn apply(tx: &Transaction<'_>, r: &Revocation) -> Result<u64> {
    let (filter, _) = where_revoked(r);
    let before: i64 = tx.query_row("SELECT count(*) FROM changes", [], |row| row.get(0))?;
    let touched = oplog::purge(tx, filter, &[&r.subject, &r.after])?;
    for (entity, record) in touched.keys() {
        if entity == "person" && oplog::person_erased(tx, record)? {
            oplog::apply_erasure(tx, record)?;
        }
        oplog::erase_linked_if_erased(tx, entity, record)?;
    }
    oplog::settle(tx, &touched)?;
    let after: i64 = tx.query_row("SELECT count(*) FROM changes", [], |row| row.get(0))?;
    Ok((before - after).max(0) as u64)
}

impl Db {
    /// The devices this laptop knows: itself, those it enrolled, those whose bundles it read.
    pub(crate) fn devices(&self) -> Result<Vec<DeviceRow>> {
        self.require(Permission::ManageUsers)?;
        let me = self.device_id().to_string();
        let mut rows: Vec<DeviceRow> = self
            .conn()
            .prepare(
                "SELECT d.id, d.name, d.last_seen, EXISTS (SELECT 1 FROM revocations r WHERE r.kind = 'device' AND r.subject = d.id)
                 FROM devices d ORDER BY d.id",
            )?
            .query_map([], |r| Ok(DeviceRow { id: r.get(0)?, name: r.get(1)?, last_seen: r.get(2)?, revoked: r.get(3)?, this_laptop: false }))?
            .collect::<rusqlite::Result<_>>()?;
        if !rows.iter().any(|d| d.id == me) {
            let name = crate::store::meta(self.conn(), "device_name")?;
            rows.insert(0, DeviceRow { id: me.clone(), name, last_seen: None, revoked: false, this_laptop: true });
        }
        for d in &mut rows {
            d.this_laptop = d.id == me;
        }
        Ok(rows)
    }

    /// Revokes a laptop (lost, stolen, retired): nothing it signs after the newest of its
    /// changes this laptop holds is accepted anywhere, and a new bundle key, sealed to
    /// every other device, keeps it from reading bundles written from now on.
    pub(crate) fn revoke_device(&mut self, device: &str) -> Result<RevocationDone> {
        self.require(Permission::ManageUsers)?;
        let device = device.trim();
        if device == self.device_id() {
            return Err(InputError::rule("revoke_self", "this laptop cannot revoke itself: revoke it from another administrator's laptop", &[]).into());
        }
        let known = self.conn().prepare("SELECT 1 FROM devices WHERE id = ?1")?.exists([device])?
            || self.conn().prepare("SELECT 1 FROM changes WHERE device = ?1 LIMIT 1")?.exists([device])?;
        if !known {
            return Err(InputError::NotFound { what: "device", id: device.to_string() }.into());
        }
        let after: i64 = self.conn().query_row("SELECT coalesce(max(hlc), 0) FROM changes WHERE device = ?1", [device], |r| r.get(0))?;
        self.revoke(Revoked::Device, device, after)
    }

    /// Revokes a user (by name on this laptop, or by id): nothing they sign after the
    /// newest of their changes this laptop holds is accepted anywhere, and their account
    /// here is disabled.
    pub(crate) fn revoke_user(&mut self, who: &str) -> Result<RevocationDone> {
        self.require(Permission::ManageUsers)?;
        let id = self.user_id_of(who)?;
        if id == self.user().id {
            return Err(InputError::rule("revoke_self", "you cannot revoke your own account: ask another administrator", &[]).into());
        }
        let after: i64 = self.conn().query_row("SELECT coalesce(max(hlc), 0) FROM changes WHERE user_id = ?1", [&id], |r| r.get(0))?;
        let done = self.revoke(Revoked::User, &id, after)?;
        let local = self.conn().prepare("SELECT 1 FROM users WHERE id = ?1 AND active = 1")?.exists([&id])?;
        if local {
            self.write(|w| w.update_kept(Entity::User, &id, &[("active", Value::Bool(false))]).map(|_| ()))?;
        }
        Ok(done)
    }

    fn revoke(&mut self, kind: Revoked, subject: &str, after: i64) -> Result<RevocationDone> {
        let root = self.root_key().cloned().ok_or_else(|| {
            SyncError::Keys("your account holds no organisation key on this laptop: revoke from an administrator's account that created or joined the organisation here".into())
        })?;
        let org = crate::store::meta(self.conn(), "org_id")?.unwrap_or_default();
        let now = self.clock().now().to_rfc3339();
        let revocation = Revocation::issue(&root, &org, kind, subject, after, &now);
        let org_keys = keys::load(self.conn())?;
        self.transaction(|tx| {
            keys::store_revocation(tx, &revocation)?;
            let removed = apply(tx, &revocation)?;
            let bundle_key = if kind == Revoked::Device { Some(rotate(tx, &root, &org_keys, &now)?) } else { None };
            Ok(RevocationDone { subject: subject.to_string(), after: after.to_string(), bundle_key, removed })
        })
    }
}

/// Starts a new bundle key, sealed to every device this laptop knows that is not revoked.
fn rotate(tx: &Transaction<'_>, root: &ed25519_dalek::SigningKey, org: &keys::OrgKeys, now: &str) -> Result<u32> {
    let epoch = org.current().0 + 1;
    let key = keys::random32();
    let certs: Vec<(String, Option<String>)> = tx
        .prepare("SELECT id, cert FROM devices WHERE id NOT IN (SELECT subject FROM revocations WHERE kind = 'device')")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut devices = vec![(org.device_cert.device.clone(), org.device_cert.kx.clone())];
    for (id, cert) in certs {
        let Some(cert) = cert.and_then(|c| serde_json::from_str::<keys::DeviceCert>(&c).ok()) else { continue };
        if id != org.device_cert.device && cert.device == id && !cert.kx.is_empty() && cert.verify(&org.root_public, &org.org_id).is_some() {
            devices.push((id, cert.kx));
        }
    }
    let ring = Keyring::issue(root, &org.org_id, epoch, &key, &devices, now);
    keys::store_bundle_key(tx, epoch, &key, &ring)?;
    Ok(epoch)
}
