//! What a laptop trusts to issue (`Trust`): its roots, the administrators' certificates,
//! and the revocations and rotations that retire issuers.

use std::collections::HashMap;

use ed25519_dalek::{Verifier, VerifyingKey};

use super::{signature, verifying_key, AuthorCert, Issued, Revocation, Revoked, RootRotation};
use crate::auth::Role;

/// The longest chain of certificates from the root to what is checked: the root certifies
/// an administrator (or an enrolment key, which certifies one), who certifies more.
const MAX_CHAIN: usize = 8;

/// What a laptop trusts to issue: the organisation's first root, the roots that replaced
/// it, and the administrators' certificates; with the revocations and rotations that
/// retire issuers, which make void what they signed and did not keep.
#[derive(Debug, Clone)]
pub struct Trust {
    pub(super) org: String,
    /// The first root, then each rotation's new root, in order.
    roots: Vec<VerifyingKey>,
    /// The rotations that made `roots`, in order.
    rotations: Vec<RootRotation>,
    /// Every rotation both roots signed.
    pool: Vec<RootRotation>,
    /// Certificates that may issue (administrators' and enrolment keys'), by id.
    issuers: HashMap<String, AuthorCert>,
    revocations: Vec<Revocation>,
}

impl Trust {
    /// Trust in an organisation whose first root is `anchor`.
    pub fn new(org: &str, anchor: VerifyingKey) -> Trust {
        Trust {
            org: org.to_string(),
            roots: vec![anchor],
            rotations: Vec::new(),
            pool: Vec::new(),
            issuers: HashMap::new(),
            revocations: Vec::new(),
        }
    }

    /// The organisation.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The root that signs from now on.
    pub fn root(&self) -> &VerifyingKey {
        self.roots.last().unwrap_or(&self.roots[0])
    }

    /// The first root, which every laptop of the organisation was given.
    pub fn anchor(&self) -> &VerifyingKey {
        &self.roots[0]
    }

    /// The rotations of the root, in order.
    pub fn rotations(&self) -> &[RootRotation] {
        &self.rotations
    }

    /// Takes rotations in any order: every one both roots signed is kept, and the chain
    /// is rebuilt from the first root over all of them (when two replace one root, the
    /// smaller new key continues it), so every laptop follows the same chain whatever
    /// order they arrived in. Returns the rotations that were new, to be stored.
    pub fn add_rotations(&mut self, carried: &[RootRotation]) -> Vec<RootRotation> {
        let mut added = Vec::new();
        for r in carried {
            if !self.pool.contains(r) && r.verify(&self.org) {
                self.pool.push(r.clone());
                added.push(r.clone());
            }
        }
        if !added.is_empty() {
            self.roots.truncate(1);
            self.rotations.clear();
            loop {
                let current = hex::encode(self.root().as_bytes());
                let Some(next) = self
                    .pool
                    .iter()
                    .filter(|r| r.old == current)
                    .min_by(|a, b| a.new.cmp(&b.new))
                else {
                    break;
                };
                match verifying_key(&next.new) {
                    Some(new) if !self.roots.contains(&new) => {
                        self.roots.push(new);
                        self.rotations.push(next.clone());
                    }
                    _ => break,
                }
            }
        }
        added
    }

    /// Every rotation both roots signed, in or out of the chain: what bundles carry.
    pub fn all_rotations(&self) -> &[RootRotation] {
        &self.pool
    }

    /// Knows a certificate; only an administrator's or an enrolment key's may issue.
    pub fn add_issuer(&mut self, cert: &AuthorCert) {
        if cert.role == Role::Admin.as_str() && !cert.is_archive() {
            self.issuers.insert(cert.id.clone(), cert.clone());
        }
    }

    /// Whether it knows the certificate `id` as one that may issue.
    pub fn knows(&self, id: &str) -> bool {
        self.issuers.contains_key(id)
    }

    /// Knows revocations (already checked).
    pub fn add_revocations(&mut self, revocations: impl IntoIterator<Item = Revocation>) {
        for r in revocations {
            if !self.revocations.iter().any(|h| h.id == r.id) {
                self.revocations.push(r);
            }
        }
    }

    /// Whether `by` (the root when none) signed `message` as `signature`, being allowed to
    /// issue `what`; `Ok(true)` when it did but had been retired (revoked, or the root
    /// replaced) without keeping `id`: such a thing is void.
    pub(super) fn check(
        &self,
        by: Option<&str>,
        id: &str,
        message: &[u8],
        signature_hex: &str,
        what: Issued<'_>,
        depth: usize,
    ) -> Result<bool, &'static str> {
        let sig = signature(signature_hex).ok_or("its signature is malformed")?;
        let Some(by) = by else {
            let at = self
                .roots
                .iter()
                .position(|root| root.verify(message, &sig).is_ok())
                .ok_or("it was not issued by this organisation's administrators")?;
            return Ok(self.rotations.get(at).is_some_and(|r| !r.keeps(id)));
        };
        if depth >= MAX_CHAIN {
            return Err("its chain of administrators' certificates is too long");
        }
        let issuer = self.issuers.get(by).ok_or(
            "it was issued under an administrator's certificate this laptop does not know",
        )?;
        // An enrolment key certifies its own laptop's first administrator and nothing
        // else; only the root certifies the archive.
        let first_admin = |c: &AuthorCert| {
            c.joined && !c.enrolment && c.device == issuer.device && c.role == Role::Admin.as_str()
        };
        match what {
            Issued::Author(c) if issuer.enrolment && first_admin(c) => {}
            _ if issuer.enrolment => {
                return Err(
                    "an enrolment file's key certifies only its own laptop's first administrator",
                )
            }
            Issued::Author(c) if c.is_archive() => {
                return Err("only the organisation's root certifies the archive")
            }
            _ => {}
        }
        let (key, role, issuer_void) = issuer.verify_at(self, depth + 1)?;
        if role != Role::Admin {
            return Err("its issuer is not an administrator");
        }
        key.verify(message, &sig)
            .map_err(|_| "its signature is not its issuer's")?;
        Ok(issuer_void || self.retires(issuer, id))
    }

    /// Whether any issuer is retired: a rotation of the root, or a revocation that
    /// withdraws an administrator's (or an enrolment key's) certificate. Most laptops have
    /// none, and then nothing is void.
    pub(crate) fn retires_any(&self) -> bool {
        !self.rotations.is_empty()
            || self
                .issuers
                .values()
                .any(|issuer| self.revocations.iter().any(|r| r.withdraws(issuer)))
    }

    /// Whether a revocation withdrew `issuer` without keeping `id`.
    fn retires(&self, issuer: &AuthorCert, id: &str) -> bool {
        self.revocations
            .iter()
            .any(|r| r.withdraws(issuer) && !r.keeps(id))
    }

    /// Revocations that follow from the issuers' retirements: each certificate (of a user
    /// or a device) that a retired issuer signed and did not keep is revoked whole, so its
    /// changes leave every log as a revocation's would. Never signed nor carried: every
    /// laptop derives them from what it holds.
    pub fn voided(&self, certs: &[AuthorCert], devices: &[DeviceVoid<'_>]) -> Vec<Revocation> {
        let mut out = Vec::new();
        if !self.retires_any() {
            return out;
        }
        for c in certs {
            if matches!(c.verify_at(self, 0), Ok((_, _, true))) {
                out.push(implied(&self.org, Revoked::Cert, &c.id));
            }
        }
        for d in devices {
            if matches!(
                self.check(d.by, &d.id, &d.message, d.signature, Issued::Device, 0),
                Ok(true)
            ) {
                out.push(implied(&self.org, Revoked::Device, d.device));
            }
        }
        out
    }

    /// Checks a signature over something other than a certificate of a user: `Ok(void)`.
    pub(crate) fn check_issued(
        &self,
        by: Option<&str>,
        id: &str,
        message: &[u8],
        signature_hex: &str,
        what: Issued<'_>,
    ) -> Result<bool, &'static str> {
        self.check(by, id, message, signature_hex, what, 0)
    }
}

/// A device's certificate as [`Trust::voided`] reads it.
pub struct DeviceVoid<'a> {
    /// The device.
    pub device: &'a str,
    /// The certificate's id.
    pub id: String,
    /// What its issuer signed.
    pub message: Vec<u8>,
    /// The signature, hex.
    pub signature: &'a str,
    /// Its issuer's certificate.
    pub by: Option<&'a str>,
}

fn implied(org: &str, kind: Revoked, subject: &str) -> Revocation {
    Revocation {
        id: format!("implied:{subject}"),
        org: org.to_string(),
        kind,
        subject: subject.to_string(),
        after: 0,
        kept: Vec::new(),
        issued: String::new(),
        by: None,
        signature: String::new(),
    }
}
