//! Checking who made each change of a bundle, before anything of it is applied.
//!
//! Every change belongs to a commit that its author signed; the author's key is certified
//! by the organisation's root for one device with a role. A change is accepted only if
//! its certificate holds, it was made on the device the certificate names, it names the
//! author who signed it, the author's role permits it (`Permission::for_change`, the role
//! table of docs/security.md) and the signature covers it. One change that fails refuses
//! the whole bundle. Changes their author made after a revocation are set aside (not
//! applied, counted), so that a laptop that relays them before it hears of the
//! revocation does not stop others from syncing with it.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;
use rusqlite::Connection;

use super::bundle::{Commit, Contents};
use super::keys::{self, OrgKeys};
use crate::auth::{Permission, Role};
use crate::changes::Op;
use crate::error::SyncError;
use crate::trust::{commit_id, commit_message, verify_commits, AuthorCert, Revocation, Revoked};
use crate::Result;

/// A bundle's contents once checked: its changes, each naming its commit, and what to keep.
pub(crate) struct Checked {
    /// The changes to apply, each with its commit id and position.
    pub ops: Vec<Op>,
    /// The commits, by id.
    pub commits: Vec<(String, Commit)>,
    /// Certificates and revocations to keep.
    pub certs: Vec<AuthorCert>,
    /// Revocations to keep.
    pub revocations: Vec<Revocation>,
    /// Changes set aside because their author or device was revoked before them.
    pub revoked: u64,
    /// The name the writing laptop gave itself.
    pub device_name: Option<String>,
}

fn untrusted(op: &Op, author: &str, reason: impl Into<String>) -> SyncError {
    SyncError::Untrusted { change: op.describe(), author: author.to_string(), reason: reason.into() }
}

/// Whether a revocation withdraws a change: one of its device's, its author's or its
/// certificate's, in a commit the revocation does not keep.
pub(crate) fn revoked_by(revocations: &[Revocation], op: &Op, cert: &AuthorCert, commit: &str) -> bool {
    revocations.iter().any(|r| {
        let subject = match r.kind {
            Revoked::Device => &op.device,
            Revoked::User => &cert.user,
            Revoked::Cert => &cert.id,
        };
        *subject == r.subject && !r.keeps(commit)
    })
}

/// Checks every change of `contents` against its author's certificate, role and
/// signature; `known` looks up certificates this laptop already holds.
pub(crate) fn check(conn: &Connection, keys: &OrgKeys, contents: Contents) -> Result<Checked> {
    let org = keys.org_id.as_str();
    let root = &keys.root_public;
    // Certificates: those carried, and those this laptop holds.
    let mut certs: HashMap<String, (AuthorCert, VerifyingKey, Role)> = HashMap::new();
    for cert in &contents.certs {
        let (key, role) = cert.verify(root, org).map_err(|why| SyncError::Untrusted {
            change: format!("the certificate {} of user {} on device {}", cert.id, cert.name, cert.device),
            author: cert.name.clone(),
            reason: why.into(),
        })?;
        certs.insert(cert.id.clone(), (cert.clone(), key, role));
    }
    // One laptop joins with one enrolment file: the first to reach a laptop is the one.
    let mut joins: HashMap<&str, &str> = HashMap::new();
    for cert in contents.certs.iter().filter(|c| c.joined) {
        let other: Option<String> = conn
            .prepare_cached("SELECT id FROM certs WHERE device = ?1 AND joined = 1 AND id <> ?2 LIMIT 1")?
            .query_row([&cert.device, &cert.id], |r| r.get(0))
            .ok();
        let twin = joins.insert(&cert.device, &cert.id).is_some_and(|id| id != cert.id);
        if other.is_some() || twin {
            return Err(SyncError::Untrusted {
                change: format!("the joining of device {}", cert.device),
                author: cert.name.clone(),
                reason: "another laptop had already joined the organisation with the same enrolment file: the later one cannot sync; ask the administrator for a new enrolment file for it".into(),
            }
            .into());
        }
    }
    for r in &contents.revocations {
        if !r.verify(root, org) {
            return Err(SyncError::Untrusted {
                change: format!("the revocation of {}", r.subject),
                author: "?".into(),
                reason: "it was not signed by this organisation's administrators".into(),
            }
            .into());
        }
    }
    let mut revocations = keys::all_revocations(conn)?;
    revocations.extend(contents.revocations.iter().cloned());

    // Each commit's digests: the changes carried, and the digests of those it lacks.
    let mut digests: Vec<Vec<Option<[u8; 32]>>> = contents.commits.iter().map(|c| vec![None; c.size as usize]).collect();
    for (i, c) in contents.commits.iter().enumerate() {
        for (pos, d) in &c.absent {
            let slot = digests[i].get_mut(*pos as usize).ok_or_else(|| SyncError::Damaged("a commit in it lists a change beyond its size".into()))?;
            *slot = Some(*d);
        }
    }
    let mut ops = Vec::with_capacity(contents.ops.len());
    for (op, commit, pos) in contents.ops.into_iter() {
        let c = &contents.commits[commit];
        if !certs.contains_key(&c.cert) {
            let held = keys::cert(conn, &c.cert)?.ok_or_else(|| untrusted(&op, "an unknown author", "its author's certificate is unknown to this organisation"))?;
            let (key, role) = held.verify(root, org).map_err(|why| untrusted(&op, &held.name, why))?;
            certs.insert(held.id.clone(), (held, key, role));
        }
        let (cert, _, role) = &certs[&c.cert];
        if !cert.is_archive() {
            if op.device != cert.device {
                return Err(untrusted(&op, &cert.name, format!("it claims device {} but its author's key is certified only for device {}", op.device, cert.device)).into());
            }
            if op.user_id.as_deref() != Some(cert.user.as_str()) || op.user_name.as_deref() != Some(cert.name.as_str()) {
                return Err(untrusted(
                    &op,
                    &cert.name,
                    format!("it names {} as its author but was signed by {}", op.user_name.as_deref().unwrap_or("no one"), cert.name),
                )
                .into());
            }
        }
        let needed = Permission::for_change(&op.entity, &op.field, op.value.as_deref(), op.resolves);
        if !needed.allows(*role) {
            return Err(untrusted(&op, &cert.name, format!("a {} may not {}", role.as_str(), needed.describe())).into());
        }
        let digest = op.digest().ok_or_else(|| untrusted(&op, &cert.name, "it has neither a value nor a commitment"))?;
        let slot = digests[commit].get_mut(pos as usize).ok_or_else(|| untrusted(&op, &cert.name, "its place in its commit is beyond the commit's size"))?;
        if slot.replace(digest).is_some() {
            return Err(untrusted(&op, &cert.name, "two changes claim the same place in one commit").into());
        }
        ops.push((op, commit, pos));
    }
    // Every commit whole, and every signature right (checked in one batch).
    // The messages to check in one batch, and which commit each is.
    let mut batch = Vec::with_capacity(contents.commits.len());
    let mut which = Vec::with_capacity(contents.commits.len());
    let mut ids = Vec::with_capacity(contents.commits.len());
    for (i, c) in contents.commits.iter().enumerate() {
        let full: Vec<[u8; 32]> = digests[i]
            .iter()
            .map(|d| d.ok_or_else(|| SyncError::Damaged("a commit in it lacks one of its changes and its digest".into())))
            .collect::<Result<_, _>>()?;
        let Some((_, key, _)) = certs.get(&c.cert) else {
            // A commit none of whose changes the bundle carries: nothing to check or keep.
            ids.push(None);
            continue;
        };
        ids.push(Some(commit_id(org, &c.cert, &full)));
        batch.push((commit_message(org, &c.cert, &full), c.signature, *key));
        which.push(i);
    }
    if !verify_commits(&batch) {
        // Find the first that fails, to name it.
        for (item, i) in batch.iter().zip(&which) {
            if !verify_commits(std::slice::from_ref(item)) {
                let (op, _, _) = ops.iter().find(|(_, c, _)| c == i).ok_or(SyncError::Changed)?;
                let name = certs.get(&contents.commits[*i].cert).map(|c| c.0.name.clone()).unwrap_or_default();
                return Err(untrusted(op, &name, "its author's signature does not cover it: it was changed or forged").into());
            }
        }
    }
    let mut revoked = 0;
    let mut out = Vec::with_capacity(ops.len());
    for (mut op, commit, pos) in ops {
        let id = ids[commit].clone().ok_or(SyncError::Changed)?;
        let cert = &certs[&contents.commits[commit].cert].0;
        if revoked_by(&revocations, &op, cert, &id) {
            revoked += 1;
            continue;
        }
        op.commit = Some((id, pos));
        out.push(op);
    }
    let commits = contents.commits.into_iter().zip(ids).filter_map(|(c, id)| id.map(|id| (id, c))).collect();
    let certs = certs.into_values().map(|(c, _, _)| c).collect();
    Ok(Checked { ops: out, commits, certs, revocations: contents.revocations, revoked, device_name: contents.device_name })
}
