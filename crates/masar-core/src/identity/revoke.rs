//! Revoking a lost laptop or a user who left, and what follows: their later changes leave
//! every log, and a lost laptop cannot read bundles written afterwards.
//!
//! A revocation is signed by the root (an administrator) and lists the commits of its
//! subject that stay valid: those this laptop holds. It travels in every bundle. Every
//! laptop that holds it sets aside the subject's other changes on import and removes those
//! it already took (`changes::purge`), so laptops that heard of it early and late agree, and
//! a change backdated by a thief is no more valid than a new one. A device's revocation
//! also starts a new bundle key, sealed to every other device.

use rusqlite::Transaction;
use serde::Serialize;
use ts_rs::TS;

use super::org as keys;
use crate::auth::Permission;
use crate::changes::Db;
use crate::error::InputError;
use crate::schema::{Entity, Value};
use crate::trust::{Issuer, Keyring, Revocation, Revoked};
use crate::Result;

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct RevocationDone {
    /// The device or user revoked.
    pub subject: String,
    /// The newest stamp among their changes that stay valid.
    pub after: String,
    /// How many of their commits stay valid.
    pub kept: u64,
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

/// A device and author that signed two versions of one change. Every laptop keeps the
/// same version (the smaller digest); the pair is listed for supervisors, since an honest
/// laptop never does this: its key may be in other hands (revoke it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Equivocation {
    /// The device the two versions claim.
    pub device: String,
    /// The name that laptop gave itself, when known here.
    pub device_name: Option<String>,
    /// The author's user id.
    pub author: String,
    /// The author's name, as the change carries it.
    pub author_name: Option<String>,
    /// The stamp both versions carry.
    pub stamp: String,
    /// The time that stamp says (RFC 3339).
    pub at: String,
    /// The digest of the version kept everywhere.
    pub kept: String,
    /// The digest of the version set aside.
    pub dropped: String,
    /// When this laptop first met the pair.
    pub seen_at: String,
}

/// The changes of a revocation's subject (`?1`), in the log as `c`.
fn of_subject(kind: Revoked) -> &'static str {
    match kind {
        Revoked::Device => "c.device = ?1",
        Revoked::User => "c.user_id = ?1",
        Revoked::Cert => "c.commit_id IN (SELECT id FROM commits WHERE cert = ?1)",
    }
}

/// The commits of `subject` this laptop holds, and what its certificates issued (other
/// certificates, devices' certificates, revocations, keyrings): what a revocation keeps.
pub(super) fn held_commits(
    conn: &rusqlite::Connection,
    kind: Revoked,
    subject: &str,
) -> Result<(Vec<String>, i64)> {
    let sql = format!(
        "SELECT DISTINCT c.commit_id FROM changes c WHERE {} AND c.commit_id IS NOT NULL",
        of_subject(kind)
    );
    let mut kept: Vec<String> = conn
        .prepare(&sql)?
        .query_map([subject], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    kept.extend(issued_by(conn, kind, subject)?);
    let newest: i64 = conn.query_row(
        &format!(
            "SELECT coalesce(max(c.hlc), 0) FROM changes c WHERE {}",
            of_subject(kind)
        ),
        [subject],
        |r| r.get(0),
    )?;
    Ok((kept, newest))
}

/// The ids of what the certificates of a revocation's subject issued, held here.
fn issued_by(conn: &rusqlite::Connection, kind: Revoked, subject: &str) -> Result<Vec<String>> {
    let issuers: std::collections::HashSet<String> = keys::all_certs(conn)?
        .into_iter()
        .filter(|c| match kind {
            Revoked::Device => c.device == subject,
            Revoked::User => c.user == subject,
            Revoked::Cert => c.id == subject,
        })
        .map(|c| c.id)
        .collect();
    if issuers.is_empty() {
        return Ok(Vec::new());
    }
    issued(conn, |by| by.is_some_and(|b| issuers.contains(b)))
}

/// The ids of the certificates (of users and devices), revocations and keyrings held here
/// whose issuer `by` accepts (`None` for the root).
pub(super) fn issued(
    conn: &rusqlite::Connection,
    by: impl Fn(Option<&str>) -> bool,
) -> Result<Vec<String>> {
    let org = crate::store::meta(conn, "org_id")?.unwrap_or_default();
    let mut ids: Vec<String> = keys::all_certs(conn)?
        .into_iter()
        .filter(|c| by(c.by.as_deref()))
        .map(|c| c.id)
        .collect();
    let bodies = |sql: &str| -> Result<Vec<String>> {
        Ok(conn
            .prepare(sql)?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    };
    for cert in bodies("SELECT cert FROM devices WHERE cert IS NOT NULL")? {
        if let Ok(d) = serde_json::from_str::<keys::DeviceCert>(&cert) {
            if by(d.by.as_deref()) {
                ids.push(d.id(&org));
            }
        }
    }
    for r in keys::all_revocations(conn)? {
        if by(r.by.as_deref()) {
            ids.push(r.id);
        }
    }
    for ring in bodies("SELECT keyring FROM bundle_keys")? {
        if let Ok(k) = serde_json::from_str::<Keyring>(&ring) {
            if by(k.by.as_deref()) {
                ids.push(k.id());
            }
        }
    }
    Ok(ids)
}

/// Removes from the log what `r` revokes, and settles what that touched. Returns how many
/// changes left.
pub(crate) fn apply(tx: &Transaction<'_>, r: &Revocation) -> Result<u64> {
    let filter = format!(
        "{} AND coalesce(c.commit_id, '') NOT IN (SELECT value FROM json_each(?2))",
        of_subject(r.kind)
    );
    let kept = serde_json::to_string(&r.kept).unwrap_or_else(|_| "[]".into());
    crate::changes::purge(tx, &filter, &[&r.subject, &kept])
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
            rows.insert(
                0,
                DeviceRow {
                    id: me.clone(),
                    name,
                    last_seen: None,
                    revoked: false,
                    this_laptop: true,
                },
            );
        }
        for d in &mut rows {
            d.this_laptop = d.id == me;
        }
        Ok(rows)
    }

    /// The devices and authors that signed two versions of one change (supervisors),
    /// newest stamp first.
    pub(crate) fn equivocations(&self) -> Result<Vec<Equivocation>> {
        self.require(Permission::DecideInCommittee)?;
        let rows = self
            .conn()
            .prepare(
                "SELECT e.device, d.name, e.author, e.author_name, e.hlc, e.kept, e.dropped, e.seen_at
                 FROM equivocations e LEFT JOIN devices d ON d.id = e.device
                 ORDER BY e.hlc DESC, e.device, e.author, e.dropped",
            )?
            .query_map([], |r| {
                let hlc = crate::clock::Hlc(r.get(4)?);
                Ok(Equivocation {
                    device: r.get(0)?,
                    device_name: r.get(1)?,
                    author: r.get(2)?,
                    author_name: r.get(3)?,
                    stamp: hlc.0.to_string(),
                    at: chrono::DateTime::from_timestamp_millis(hlc.millis())
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default(),
                    kept: r.get(5)?,
                    dropped: r.get(6)?,
                    seen_at: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Revokes a laptop (lost, stolen, retired): nothing it signs after the newest of its
    /// changes this laptop holds is accepted anywhere, and a new bundle key, sealed to
    /// every other device, keeps it from reading bundles written from now on.
    pub(crate) fn revoke_device(&mut self, device: &str) -> Result<RevocationDone> {
        self.require(Permission::ManageUsers)?;
        let device = device.trim();
        if device == self.device_id() {
            return Err(InputError::rule(
                "revoke_self",
                "this laptop cannot revoke itself: revoke it from another administrator's laptop",
                &[],
            )
            .into());
        }
        let known = self
            .conn()
            .prepare("SELECT 1 FROM devices WHERE id = ?1")?
            .exists([device])?
            || self
                .conn()
                .prepare("SELECT 1 FROM changes WHERE device = ?1 LIMIT 1")?
                .exists([device])?;
        if !known {
            return Err(InputError::NotFound {
                what: "device",
                id: device.to_string(),
            }
            .into());
        }
        self.revoke(Revoked::Device, device)
    }

    /// Revokes a user (by name on this laptop, or by id): nothing they sign after the
    /// newest of their changes this laptop holds is accepted anywhere, and their account
    /// here is disabled.
    pub(crate) fn revoke_user(&mut self, who: &str) -> Result<RevocationDone> {
        self.require(Permission::ManageUsers)?;
        let id = self.user_id_of(who)?;
        if id == self.user().id {
            return Err(InputError::rule(
                "revoke_self",
                "you cannot revoke your own account: ask another administrator",
                &[],
            )
            .into());
        }
        let done = self.revoke(Revoked::User, &id)?;
        let local = self
            .conn()
            .prepare("SELECT 1 FROM users WHERE id = ?1 AND active = 1")?
            .exists([&id])?;
        if local {
            self.write(|w| {
                w.update_kept(Entity::User, &id, &[("active", Value::Bool(false))])
                    .map(|_| ())
            })?;
        }
        Ok(done)
    }

    fn revoke(&mut self, kind: Revoked, subject: &str) -> Result<RevocationDone> {
        let root = self.issuer("revoke")?;
        let org = crate::store::meta(self.conn(), "org_id")?.unwrap_or_default();
        let now = self.clock().now().to_rfc3339();
        let (kept, after) = held_commits(self.conn(), kind, subject)?;
        let revocation = Revocation::issue(&root, &org, kind, subject, after, kept, &now);
        let org_keys = keys::load(self.conn())?;
        self.transaction(|tx| {
            keys::store_revocation(tx, &revocation)?;
            let removed = apply(tx, &revocation)?;
            let bundle_key = if kind == Revoked::Device {
                Some(rotate(tx, &root, &org_keys, &now)?)
            } else {
                None
            };
            Ok(RevocationDone {
                subject: subject.to_string(),
                after: after.to_string(),
                kept: revocation.kept.len() as u64,
                bundle_key,
                removed,
            })
        })
    }
}

/// Starts a new bundle key, sealed to every device this laptop knows that is not revoked.
fn rotate(tx: &Transaction<'_>, root: &Issuer, org: &keys::OrgKeys, now: &str) -> Result<u32> {
    let epoch = org.current().0 + 1;
    let key = keys::random32();
    let certs: Vec<(String, Option<String>)> = tx
        .prepare("SELECT id, cert FROM devices WHERE id NOT IN (SELECT subject FROM revocations WHERE kind = 'device')")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut devices = vec![(org.device_cert.device.clone(), org.device_cert.kx.clone())];
    for (id, cert) in certs {
        let Some(cert) = cert.and_then(|c| serde_json::from_str::<keys::DeviceCert>(&c).ok())
        else {
            continue;
        };
        if id != org.device_cert.device
            && cert.device == id
            && !cert.kx.is_empty()
            && cert.verify(&org.trust).is_some()
        {
            devices.push((id, cert.kx));
        }
    }
    let ring = Keyring::issue(root, &org.org_id, epoch, &key, &devices, now);
    keys::store_bundle_key(tx, epoch, &key, &ring)?;
    Ok(epoch)
}
