//! Checking who made each change of a bundle, as it streams in; a refusal rolls back
//! whatever of it was applied.
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

use super::bundle::Commit;
use crate::auth::{Permission, Role};
use crate::changes::Op;
use crate::error::SyncError;
use crate::identity::org::{self as keys, OrgKeys};
use crate::schema::Value;
use crate::trust::{
    commit_id_of_message, commit_message, verify_commits, AuthorCert, Revocation, Revoked, Trust,
};
use crate::Result;

fn untrusted(op: &Op, author: &str, reason: impl Into<String>) -> SyncError {
    SyncError::Untrusted {
        change: op.describe(),
        author: author.to_string(),
        reason: reason.into(),
    }
}

/// Whether a revocation withdraws a change: one of its device's, its author's or its
/// certificate's, in a commit the revocation does not keep.
pub(crate) fn revoked_by(
    revocations: &[Revocation],
    op: &Op,
    cert: &AuthorCert,
    commit: &str,
) -> bool {
    revocations.iter().any(|r| {
        let subject = match r.kind {
            Revoked::Device => &op.device,
            Revoked::User => &cert.user,
            Revoked::Cert => &cert.id,
        };
        *subject == r.subject && !r.keeps(commit)
    })
}

/// A bundle's checks, made as its parts stream by: certificates and revocations first,
/// then the commits, then each change; `finish` checks that every commit is whole and
/// signed. A change passes to the caller as soon as its own checks hold; the signatures
/// are checked as each commit fills (in batches), so a caller applies changes inside a
/// transaction that `finish`'s refusal rolls back.
pub(crate) struct Verifier<'k> {
    keys: &'k OrgKeys,
    certs: HashMap<String, (AuthorCert, VerifyingKey, Role)>,
    /// Revocations held and carried.
    revocations: Vec<Revocation>,
    /// The commits, with the digests of their places while they fill.
    commits: Vec<Filling>,
    /// Commits whole, waiting for their signatures to be checked together: the message,
    /// signature and key of each, and which commit it is.
    batch: Vec<(Vec<u8>, [u8; 64], VerifyingKey)>,
    batched: Vec<usize>,
    batch_bytes: usize,
    carried_certs: Vec<AuthorCert>,
    carried_revocations: Vec<Revocation>,
    revoked: u64,
    /// This laptop's trust with what the bundle carries.
    trust: Trust,
    /// Whether each author's certificate is void (its issuer retired without keeping it),
    /// once asked: known only after the bundle's revocations are read.
    void: HashMap<String, bool>,
}

/// What a bundle checked whole leaves to keep.
pub(crate) struct Verified {
    /// The certificates it carried.
    pub certs: Vec<AuthorCert>,
    /// The revocations it carried.
    pub revocations: Vec<Revocation>,
    /// Changes set aside because their author or device was revoked before them.
    pub revoked: u64,
}

/// A commit while its changes stream by.
struct Filling {
    commit: Commit,
    /// The message its author signed, its digests written in place as their changes
    /// arrive (in any order): a commit of a million changes is held once, as 32 MB, and
    /// checked without another copy. Empty until its first digest, and once checked.
    message: Vec<u8>,
    /// Which places hold their digest.
    placed: Vec<u64>,
    /// Where the digests begin in `message`.
    start: usize,
    filled: u32,
    /// Whether one of its changes is carried (else it is not kept).
    carried: bool,
    done: bool,
}

/// Commits whose signatures are checked together, at most (one batch is cheaper per
/// signature than one at a time, and this bounds what the batch holds).
const BATCH_BYTES: usize = 8 << 20;

impl<'k> Verifier<'k> {
    /// Starts the checks of one bundle with the revocations this laptop holds.
    pub(crate) fn new(conn: &Connection, keys: &'k OrgKeys) -> Result<Verifier<'k>> {
        let mut revocations = keys::all_revocations(conn)?;
        // What retired issuers signed and did not keep is revoked whole (see Trust::voided).
        revocations.extend(keys::voided(conn, &keys.trust)?);
        Ok(Verifier {
            keys,
            certs: HashMap::new(),
            revocations,
            trust: keys.trust.clone(),
            void: HashMap::new(),
            commits: Vec::new(),
            batch: Vec::new(),
            batched: Vec::new(),
            batch_bytes: 0,
            carried_certs: Vec::new(),
            carried_revocations: Vec::new(),
            revoked: 0,
        })
    }

    /// Checks the certificates a bundle carries: signed by this organisation's root, and
    /// one joining per laptop.
    pub(crate) fn certs(&mut self, conn: &Connection, carried: Vec<AuthorCert>) -> Result<()> {
        for cert in &carried {
            self.trust.add_issuer(cert);
        }
        for cert in &carried {
            let (key, role) = cert
                .verify(&self.trust)
                .map_err(|why| SyncError::Untrusted {
                    change: format!(
                        "the certificate {} of user {} on device {}",
                        cert.id, cert.name, cert.device
                    ),
                    author: cert.name.clone(),
                    reason: why.into(),
                })?;
            self.certs
                .insert(cert.id.clone(), (cert.clone(), key, role));
        }
        // One laptop joins with one enrolment file: the first to reach a laptop is the one.
        let mut joins: HashMap<&str, &str> = HashMap::new();
        for cert in carried.iter().filter(|c| c.joined) {
            let other: Option<String> = conn
                .prepare_cached(
                    "SELECT id FROM certs WHERE device = ?1 AND joined = 1 AND id <> ?2 LIMIT 1",
                )?
                .query_row([&cert.device, &cert.id], |r| r.get(0))
                .ok();
            let twin = joins
                .insert(&cert.device, &cert.id)
                .is_some_and(|id| id != cert.id);
            if other.is_some() || twin {
                return Err(SyncError::Untrusted {
                    change: format!("the joining of device {}", cert.device),
                    author: cert.name.clone(),
                    reason: "another laptop had already joined the organisation with the same enrolment file: the later one cannot sync; ask the administrator for a new enrolment file for it".into(),
                }
                .into());
            }
        }
        self.carried_certs.extend(carried);
        Ok(())
    }

    /// Sets aside the changes of a device whose certificate a retired issuer signed and
    /// did not keep (a bundle's header names it).
    pub(crate) fn device(&mut self, cert: &keys::DeviceCert) {
        let org = self.keys.org_id.clone();
        self.revocations
            .extend(self.trust.voided(&[], &[cert.as_void(&org)]));
    }

    /// Checks the revocations a bundle carries: signed by this organisation's root.
    pub(crate) fn revocations(&mut self, carried: Vec<Revocation>) -> Result<()> {
        for r in &carried {
            if !r.verify(&self.trust) {
                return Err(SyncError::Untrusted {
                    change: format!("the revocation of {}", r.subject),
                    author: "?".into(),
                    reason: "it was not signed by this organisation's administrators".into(),
                }
                .into());
            }
        }
        self.revocations.extend(carried.iter().cloned());
        self.trust.add_revocations(carried.iter().cloned());
        self.carried_revocations.extend(carried);
        Ok(())
    }

    /// Takes the bundle's commits, each with the digests of its changes it does not carry.
    pub(crate) fn commits(&mut self, commits: Vec<Commit>) -> Result<()> {
        for commit in commits {
            let mut filling = Filling {
                message: Vec::new(),
                placed: Vec::new(),
                start: 0,
                filled: 0,
                carried: false,
                done: false,
                commit,
            };
            let absent = std::mem::take(&mut filling.commit.absent);
            for (pos, d) in &absent {
                filling.place(&self.keys.org_id, *pos, d).map_err(|_| {
                    SyncError::Damaged(
                        "a commit in it lists a change beyond its size, or one twice".into(),
                    )
                })?;
            }
            filling.commit.absent = absent;
            self.commits.push(filling);
            self.check_if_whole(self.commits.len() - 1)?;
        }
        Ok(())
    }

    /// The bundle's commit at `i`, as it was read.
    pub(crate) fn commit(&self, i: usize) -> &Commit {
        &self.commits[i].commit
    }

    /// The user id and name that the certificate of the commit at `i` names, once checked.
    pub(crate) fn author(&self, i: usize) -> Option<(&str, &str)> {
        self.certs
            .get(&self.commits[i].commit.cert)
            .map(|(cert, _, _)| (cert.user.as_str(), cert.name.as_str()))
    }

    /// Checks one change: its author's certificate, device, name and role, and its place
    /// in its commit. Returns it with its commit's id, or `None` when a revocation sets it
    /// aside.
    /// `value` is the change's value read into its field's type (`check_value`).
    pub(crate) fn op(
        &mut self,
        conn: &Connection,
        mut op: Op,
        value: &Value,
        commit: usize,
        pos: u32,
    ) -> Result<Option<Op>> {
        let cert_id = self.commits[commit].commit.cert.as_str();
        if !self.certs.contains_key(cert_id) {
            let held = keys::cert(conn, cert_id)?.ok_or_else(|| {
                untrusted(
                    &op,
                    "an unknown author",
                    "its author's certificate is unknown to this organisation",
                )
            })?;
            let (key, role) = held
                .verify(&self.trust)
                .map_err(|why| untrusted(&op, &held.name, why))?;
            self.certs.insert(held.id.clone(), (held, key, role));
        }
        if !self.void.contains_key(cert_id) {
            let void = self.certs[cert_id].0.is_void(&self.trust);
            self.void.insert(cert_id.to_string(), void);
        }
        let void = self.void[cert_id];
        let (cert, _, role) = &self.certs[cert_id];
        if cert.is_enrolment() {
            return Err(untrusted(
                &op,
                &cert.name,
                "it is signed by an enrolment file's key, which certifies a laptop's first administrator and signs no change",
            )
            .into());
        }
        if !cert.is_archive() {
            if op.device != cert.device {
                return Err(untrusted(
                    &op,
                    &cert.name,
                    format!(
                        "it claims device {} but its author's key is certified only for device {}",
                        op.device, cert.device
                    ),
                )
                .into());
            }
            if op.user_id.as_deref() != Some(cert.user.as_str())
                || op.user_name.as_deref() != Some(cert.name.as_str())
            {
                return Err(untrusted(
                    &op,
                    &cert.name,
                    format!(
                        "it names {} as its author but was signed by {}",
                        op.user_name.as_deref().unwrap_or("no one"),
                        cert.name
                    ),
                )
                .into());
            }
        }
        // A change that names more than one parent closes a fork: it is a resolution by
        // its structure, whatever its flag says.
        let resolves = op.resolves || op.parents.len() > 1;
        let needed = Permission::for_change(&op.entity, &op.field, value, resolves);
        if !needed.allows(*role) {
            return Err(untrusted(
                &op,
                &cert.name,
                format!("a {} may not {}", role.as_str(), needed.describe()),
            )
            .into());
        }
        let digest = op
            .digest()
            .ok_or_else(|| untrusted(&op, &cert.name, "it has neither a value nor a commitment"))?;
        let filling = &mut self.commits[commit];
        filling
            .place(&self.keys.org_id, pos, &digest)
            .map_err(|beyond| {
                let why = if beyond {
                    "its place in its commit is beyond the commit's size"
                } else {
                    "two changes claim the same place in one commit"
                };
                untrusted(&op, &cert.name, why)
            })?;
        filling.carried = true;
        let id = filling.commit.id.clone();
        let set_aside = void || revoked_by(&self.revocations, &op, cert, &id);
        self.check_if_whole(commit)?;
        if set_aside {
            self.revoked += 1;
            return Ok(None);
        }
        op.commit = Some((id, pos));
        Ok(Some(op))
    }

    /// Once a commit has every digest: its id must be that of what its author signed, and
    /// its signature joins the batch.
    fn check_if_whole(&mut self, i: usize) -> Result<()> {
        let filling = &mut self.commits[i];
        if filling.done || filling.filled < filling.commit.size || !filling.carried {
            return Ok(());
        }
        filling.done = true;
        let message = std::mem::take(&mut filling.message);
        filling.placed = Vec::new();
        let Some((cert, key, _)) = self.certs.get(&filling.commit.cert) else {
            return Ok(());
        };
        if commit_id_of_message(&message) != filling.commit.id {
            return Err(SyncError::Untrusted {
                change: format!("the commit {} of {}", filling.commit.id, cert.name),
                author: cert.name.clone(),
                reason: "its id is not that of what its author signed: it was changed or forged"
                    .into(),
            }
            .into());
        }
        self.batch_bytes += message.len();
        self.batch.push((message, filling.commit.signature, *key));
        self.batched.push(i);
        if self.batch_bytes >= BATCH_BYTES {
            self.check_batch()?;
        }
        Ok(())
    }

    /// Checks the signatures of the commits waiting, in one batch; names the first that fails.
    fn check_batch(&mut self) -> Result<()> {
        let items = std::mem::take(&mut self.batch);
        let which = std::mem::take(&mut self.batched);
        self.batch_bytes = 0;
        if verify_commits(&items) {
            return Ok(());
        }
        for (item, i) in items.iter().zip(&which) {
            if !verify_commits(std::slice::from_ref(item)) {
                let c = &self.commits[*i].commit;
                let name = self
                    .certs
                    .get(&c.cert)
                    .map(|c| c.0.name.clone())
                    .unwrap_or_default();
                return Err(SyncError::Untrusted {
                    change: format!("the commit {} of {}", c.id, name),
                    author: name,
                    reason: "its author's signature does not cover it: it was changed or forged"
                        .into(),
                }
                .into());
            }
        }
        Err(SyncError::Changed.into())
    }

    /// Every commit whole and every signature right; returns what to keep.
    pub(crate) fn finish(mut self) -> Result<Verified> {
        if self.commits.iter().any(|f| f.filled < f.commit.size) {
            return Err(SyncError::Damaged(
                "a commit in it lacks one of its changes and its digest".into(),
            )
            .into());
        }
        self.check_batch()?;
        Ok(Verified {
            certs: self.carried_certs,
            revocations: self.carried_revocations,
            revoked: self.revoked,
        })
    }
}

impl Filling {
    /// Records a place's digest: `Err(true)` beyond the commit's size, `Err(false)` taken.
    fn place(&mut self, org: &str, pos: u32, digest: &[u8; 32]) -> Result<(), bool> {
        if pos >= self.commit.size || self.done {
            return Err(pos >= self.commit.size);
        }
        if self.message.is_empty() {
            self.message = commit_message(org, &self.commit.cert, &[]);
            self.start = self.message.len();
            self.message
                .resize(self.start + 32 * self.commit.size as usize, 0);
            self.placed = vec![0; (self.commit.size as usize).div_ceil(64)];
        }
        let (word, bit) = (pos as usize / 64, 1u64 << (pos % 64));
        if self.placed[word] & bit != 0 {
            return Err(false);
        }
        self.placed[word] |= bit;
        let at = self.start + 32 * pos as usize;
        self.message[at..at + 32].copy_from_slice(digest);
        self.filled += 1;
        Ok(())
    }
}
