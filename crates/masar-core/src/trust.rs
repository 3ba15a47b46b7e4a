//! Who may sign what. The organisation's root key certifies each user's signing key on one
//! device, with their role ([`AuthorCert`]); every write on a laptop is a *commit* whose
//! changes' digests its author signs; the root revokes certificates, users and devices
//! ([`Revocation`]). Any laptop can then check, from the changes alone, who made each one,
//! on which device, and whether their role allowed it.

use std::collections::HashMap;

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::Role;

/// The device an archive certificate names: it attests changes made before changes were
/// signed, on any device, and is issued only by the root while upgrading such a database.
pub const ARCHIVE_DEVICE: &str = "*";

/// The root's statement that a user's key, on one device, speaks for that user with a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorCert {
    /// Derived from everything signed, so two certificates never share an id.
    pub id: String,
    /// The organisation.
    pub org: String,
    /// The user's id, the same on every laptop.
    pub user: String,
    /// The user's name as the history shows it.
    pub name: String,
    /// The role the user holds under this certificate.
    pub role: String,
    /// The only device whose changes this key may sign.
    pub device: String,
    /// The user's ed25519 public key, hex.
    pub public_key: String,
    /// When it was issued (RFC 3339); the newest valid certificate of a key gives its role.
    pub issued: String,
    /// Whether it was issued to a laptop's first administrator when the laptop joined with
    /// an enrolment file: one device joins once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub joined: bool,
    /// Whether it certifies an enrolment file's one-use key, which may certify only its
    /// laptop's first administrator (`joined`) and signs no change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrolment: bool,
    /// The administrator's certificate whose key signed it; none when the root did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The issuer's signature, hex.
    pub signature: String,
}

/// The name an enrolment key's certificate gives as its user.
pub const ENROLMENT_USER: &str = "enrolment";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn id_of(message: &[u8]) -> String {
    hex::encode(&Sha256::digest(message)[..16])
}

fn verifying_key(hex_text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn signature(hex_text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(hex_text).ok()?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

impl AuthorCert {
    fn message(&self) -> Vec<u8> {
        let fields = (
            "masar-author-cert/2",
            &self.org,
            &self.user,
            &self.name,
            &self.role,
            &self.device,
            &self.public_key,
            &self.issued,
        );
        let mut m = serde_json::to_vec(&fields).unwrap_or_default();
        if self.joined {
            m.extend_from_slice(b"/joined");
        }
        if self.enrolment {
            m.extend_from_slice(b"/enrolment");
        }
        with_issuer(m, self.by.as_deref())
    }

    /// Certifies `key` for `user` with `role` on `device`, with the issuer's key.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        issuer: &Issuer,
        org: &str,
        user: &str,
        name: &str,
        role: Role,
        device: &str,
        key: &VerifyingKey,
        issued: &str,
    ) -> AuthorCert {
        let mut cert = AuthorCert {
            id: String::new(),
            org: org.into(),
            user: user.into(),
            name: name.into(),
            role: role.as_str().into(),
            device: device.into(),
            public_key: hex::encode(key.as_bytes()),
            issued: issued.into(),
            joined: false,
            enrolment: false,
            by: issuer.by.clone(),
            signature: String::new(),
        };
        cert.sign(issuer);
        cert
    }

    fn sign(&mut self, issuer: &Issuer) {
        self.by = issuer.by.clone();
        let message = self.message();
        self.id = id_of(&message);
        self.signature = hex::encode(issuer.key.sign(&message).to_bytes());
    }

    /// Marks it as a joining laptop's first administrator's, and signs it again.
    pub fn at_join(mut self, issuer: &Issuer) -> AuthorCert {
        self.joined = true;
        self.sign(issuer);
        self
    }

    /// Certifies an enrolment file's one-use key for `device`: it may certify that
    /// laptop's first administrator, and nothing else.
    pub fn enrolment(
        issuer: &Issuer,
        org: &str,
        device: &str,
        key: &VerifyingKey,
        issued: &str,
    ) -> AuthorCert {
        let mut cert = AuthorCert::issue(
            issuer,
            org,
            ENROLMENT_USER,
            "enrolment file",
            Role::Admin,
            device,
            key,
            issued,
        );
        cert.enrolment = true;
        cert.sign(issuer);
        cert
    }

    /// The same key with another role, issued now.
    pub fn with_role(&self, issuer: &Issuer, role: Role, issued: &str) -> Option<AuthorCert> {
        let key = verifying_key(&self.public_key)?;
        Some(AuthorCert::issue(
            issuer,
            &self.org,
            &self.user,
            &self.name,
            role,
            &self.device,
            &key,
            issued,
        ))
    }

    /// The key and role it certifies, if this organisation's root or one of its
    /// administrators signed it; else why not. A certificate its issuer signed after being
    /// revoked still verifies: [`Trust::voided`] says which are void.
    pub fn verify(&self, trust: &Trust) -> Result<(VerifyingKey, Role), &'static str> {
        self.verify_at(trust, 0).map(|(key, role, _)| (key, role))
    }

    /// Whether it verifies but its issuer (or one it rests on) was retired without
    /// keeping it.
    pub fn is_void(&self, trust: &Trust) -> bool {
        matches!(self.verify_at(trust, 0), Ok((_, _, true)))
    }

    fn verify_at(
        &self,
        trust: &Trust,
        depth: usize,
    ) -> Result<(VerifyingKey, Role, bool), &'static str> {
        if self.org != trust.org {
            return Err("its certificate belongs to another organisation");
        }
        let message = self.message();
        if self.id != id_of(&message) {
            return Err("its certificate's id does not match its contents");
        }
        let key = verifying_key(&self.public_key).ok_or("its certificate names a malformed key")?;
        let role = Role::parse(&self.role).ok_or("its certificate names an unknown role")?;
        let void = trust.check(
            self.by.as_deref(),
            &self.id,
            &message,
            &self.signature,
            Issued::Author(self),
            depth,
        )?;
        Ok((key, role, void))
    }

    /// Whether it attests history made before changes were signed.
    pub fn is_archive(&self) -> bool {
        self.device == ARCHIVE_DEVICE
    }

    /// Whether it is an enrolment file's key, which signs no change.
    pub fn is_enrolment(&self) -> bool {
        self.enrolment
    }
}

/// Appends the issuing certificate to a signed message, when an administrator signed it:
/// a message the root signs is unchanged, so what was signed before stays valid.
pub(crate) fn with_issuer(mut message: Vec<u8>, by: Option<&str>) -> Vec<u8> {
    if let Some(by) = by {
        message.extend_from_slice(b"/by/");
        message.extend_from_slice(by.as_bytes());
    }
    message
}

/// What signs certificates, revocations and keyrings: the organisation's root, or an
/// administrator's own key under their certificate. The key is wiped when dropped.
pub struct Issuer {
    key: SigningKey,
    by: Option<String>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer")
            .field("by", &self.by)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// The organisation's root.
    pub fn root(key: SigningKey) -> Issuer {
        Issuer { key, by: None }
    }

    /// A key under a certificate (an administrator's, or an enrolment file's).
    pub fn under(key: SigningKey, cert: &AuthorCert) -> Issuer {
        Issuer {
            key,
            by: Some(cert.id.clone()),
        }
    }

    /// The certificate it signs under; none for the root.
    pub fn by(&self) -> Option<&str> {
        self.by.as_deref()
    }

    /// Signs a message (the kinds of things issued each build their own).
    pub(crate) fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.key.sign(message).to_bytes())
    }
}

/// What an issuer signed, as the rules on who may issue what see it.
#[derive(Clone, Copy)]
pub enum Issued<'a> {
    /// A user's (or an enrolment key's) certificate.
    Author(&'a AuthorCert),
    /// A device's certificate.
    Device,
    /// A revocation.
    Revocation,
    /// A new bundle key.
    Keyring,
}

/// The longest chain of certificates from the root to what is checked: the root certifies
/// an administrator (or an enrolment key, which certifies one), who certifies more.
const MAX_CHAIN: usize = 8;

/// What a laptop trusts to issue: the organisation's first root, the roots that replaced
/// it, and the administrators' certificates; with the revocations and rotations that
/// retire issuers, which make void what they signed and did not keep.
#[derive(Debug, Clone)]
pub struct Trust {
    org: String,
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
    fn check(
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
    fn retires_any(&self) -> bool {
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

/// The founders' replacement of the organisation's root: the old root and the new both
/// sign it, and it lists what the old root signed that stays valid (what the rotating
/// laptop held); everything else the old root signs is void, so a root that was exposed
/// stops counting once its rotation reaches a laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRotation {
    /// The organisation.
    pub org: String,
    /// The root replaced, hex.
    pub old: String,
    /// The new root, hex.
    pub new: String,
    /// The ids of what the old root signed that stay valid, sorted.
    pub kept: Vec<String>,
    /// When, by the rotating laptop's clock (information only).
    pub issued: String,
    /// The old root's signature, hex.
    pub old_signature: String,
    /// The new root's signature, hex.
    pub new_signature: String,
}

impl RootRotation {
    fn message(&self) -> Vec<u8> {
        serde_json::to_vec(&(
            "masar-root-rotation/1",
            &self.org,
            &self.old,
            &self.new,
            &self.kept,
            &self.issued,
        ))
        .unwrap_or_default()
    }

    /// Replaces `old` with `new`, keeping `kept`.
    pub fn issue(
        old: &SigningKey,
        new: &SigningKey,
        org: &str,
        mut kept: Vec<String>,
        issued: &str,
    ) -> RootRotation {
        kept.sort();
        kept.dedup();
        let mut r = RootRotation {
            org: org.into(),
            old: hex::encode(old.verifying_key().as_bytes()),
            new: hex::encode(new.verifying_key().as_bytes()),
            kept,
            issued: issued.into(),
            old_signature: String::new(),
            new_signature: String::new(),
        };
        let message = r.message();
        r.old_signature = hex::encode(old.sign(&message).to_bytes());
        r.new_signature = hex::encode(new.sign(&message).to_bytes());
        r
    }

    /// Whether both roots signed it, for `org`.
    pub fn verify(&self, org: &str) -> bool {
        let message = self.message();
        let signed = |key: &str, sig: &str| {
            verifying_key(key)
                .zip(signature(sig))
                .is_some_and(|(k, s)| k.verify(&message, &s).is_ok())
        };
        self.org == org
            && self.kept.len() <= MAX_KEPT
            && signed(&self.old, &self.old_signature)
            && signed(&self.new, &self.new_signature)
    }

    /// Whether what the old root signed under `id` stays valid.
    pub fn keeps(&self, id: &str) -> bool {
        self.kept.binary_search_by(|k| k.as_str().cmp(id)).is_ok()
    }
}

/// The most ids a rotation may keep.
pub const MAX_KEPT: usize = 1_000_000;

/// A logged-in user's certificate and signing key. The key is wiped when dropped.
pub struct Signer {
    /// The certificate other laptops check.
    pub cert: AuthorCert,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("cert", &self.cert.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Pairs a key with its certificate; refuses a key the certificate does not name.
    pub fn new(cert: AuthorCert, key: SigningKey) -> Option<Signer> {
        (hex::encode(key.verifying_key().as_bytes()) == cert.public_key)
            .then_some(Signer { cert, key })
    }

    /// The key's bytes, for the test that looks for it in the database's pages.
    #[cfg(test)]
    pub fn key_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// This user's key as an issuer, under their certificate (an administrator's issues).
    pub fn issuer(&self) -> Issuer {
        Issuer::under(self.key.clone(), &self.cert)
    }

    /// Signs a commit of changes with these digests; returns its id and signature.
    pub fn sign_commit(&self, digests: &[[u8; 32]]) -> (String, [u8; 64]) {
        self.sign_message(&commit_message(&self.cert.org, &self.cert.id, digests))
    }

    /// A commit's message with no digest yet: a writer appends each change's digest to it.
    pub fn empty_message(&self) -> Vec<u8> {
        commit_message(&self.cert.org, &self.cert.id, &[])
    }

    /// Signs a commit whose whole message (`commit_message`) is at hand; returns its id
    /// and signature.
    pub fn sign_message(&self, message: &[u8]) -> (String, [u8; 64]) {
        (id_of(message), self.key.sign(message).to_bytes())
    }
}

/// What a commit's author signs: the organisation, the certificate, the changes' digests
/// in order.
pub fn commit_message(org: &str, cert: &str, digests: &[[u8; 32]]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + digests.len() * 32);
    m.extend_from_slice(b"masar-commit/2\0");
    m.extend_from_slice(&sha256(&[org.as_bytes(), cert.as_bytes()]));
    for d in digests {
        m.extend_from_slice(d);
    }
    m
}

/// A commit's id: derived from what its author signed.
#[cfg(test)]
pub fn commit_id(org: &str, cert: &str, digests: &[[u8; 32]]) -> String {
    id_of(&commit_message(org, cert, digests))
}

/// The id of a commit whose whole message is at hand.
pub fn commit_id_of_message(message: &[u8]) -> String {
    id_of(message)
}

/// Checks many commit signatures at once; false if any fails.
pub fn verify_commits(items: &[(Vec<u8>, [u8; 64], VerifyingKey)]) -> bool {
    let messages: Vec<&[u8]> = items.iter().map(|(m, _, _)| m.as_slice()).collect();
    let signatures: Vec<Signature> = items
        .iter()
        .map(|(_, s, _)| Signature::from_bytes(s))
        .collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(_, _, k)| *k).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// A commitment to a field's value: a salted hash for personal data, so that once the
/// value is erased the commitment that stays (to keep the author's signature checkable)
/// cannot be turned back into it by guessing. The field is in it, so two fields of one
/// record that share a salt and a value do not show it.
pub fn value_commitment(salt: Option<&[u8]>, field: &str, value: &str) -> [u8; 32] {
    sha256(&[
        b"masar-value/2",
        salt.unwrap_or_default(),
        field.as_bytes(),
        value.as_bytes(),
    ])
}

/// The hash of a change's signed parts, as a list of byte strings.
pub fn change_digest(parts: &[&[u8]]) -> [u8; 32] {
    sha256(parts)
}

/// What a revocation withdraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Revoked {
    /// A laptop: none of its later changes or bundles are accepted.
    Device,
    /// A user: none of their later changes are accepted, on any laptop.
    User,
    /// One certificate (a role that changed).
    Cert,
}

/// The root's statement that a device, a user or a certificate signs nothing valid but
/// the commits it lists: those the revoking laptop held. Listing them, rather than giving
/// a date, means a thief cannot slip in a change backdated before the revocation; laptops
/// that imported the listed commits before the revocation arrived agree with those that
/// did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Derived from everything signed.
    pub id: String,
    /// The organisation.
    pub org: String,
    /// What kind of thing is revoked.
    pub kind: Revoked,
    /// Its id (device id, user id or certificate id).
    pub subject: String,
    /// The newest stamp among the kept commits (information only).
    pub after: i64,
    /// The ids of the subject's commits that stay valid, sorted.
    pub kept: Vec<String>,
    /// When, by the revoking laptop's clock (information only).
    pub issued: String,
    /// The administrator's certificate whose key signed it; none when the root did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The issuer's signature, hex.
    pub signature: String,
}

impl Revocation {
    fn message(&self) -> Vec<u8> {
        let m = serde_json::to_vec(&(
            "masar-revocation/2",
            &self.org,
            self.kind,
            &self.subject,
            self.after,
            &self.kept,
            &self.issued,
        ))
        .unwrap_or_default();
        with_issuer(m, self.by.as_deref())
    }

    /// Signs a revocation.
    pub fn issue(
        issuer: &Issuer,
        org: &str,
        kind: Revoked,
        subject: &str,
        after: i64,
        mut kept: Vec<String>,
        issued: &str,
    ) -> Revocation {
        kept.sort();
        kept.dedup();
        let mut r = Revocation {
            id: String::new(),
            org: org.into(),
            kind,
            subject: subject.into(),
            after,
            kept,
            issued: issued.into(),
            by: issuer.by.clone(),
            signature: String::new(),
        };
        let message = r.message();
        r.id = id_of(&message);
        r.signature = issuer.sign(&message);
        r
    }

    /// Whether it withdraws `cert` (as its certificate, its user's or its device's).
    pub fn withdraws(&self, cert: &AuthorCert) -> bool {
        let subject = match self.kind {
            Revoked::Device => &cert.device,
            Revoked::User => &cert.user,
            Revoked::Cert => &cert.id,
        };
        *subject == self.subject
    }

    /// Whether a commit of its subject stays valid.
    pub fn keeps(&self, commit: &str) -> bool {
        self.kept
            .binary_search_by(|k| k.as_str().cmp(commit))
            .is_ok()
    }

    /// Whether this organisation's root or an administrator signed it. A revocation holds
    /// once signed, even if its issuer is retired later: revoking is one-way, so every
    /// laptop agrees whichever it heard of first.
    pub fn verify(&self, trust: &Trust) -> bool {
        let message = self.message();
        self.org == trust.org
            && self.id == id_of(&message)
            && trust
                .check_issued(
                    self.by.as_deref(),
                    &self.id,
                    &message,
                    &self.signature,
                    Issued::Revocation,
                )
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn root(n: u8) -> Issuer {
        Issuer::root(key(n))
    }

    fn trust(n: u8) -> Trust {
        Trust::new("org", key(n).verifying_key())
    }

    #[test]
    fn a_certificate_checks_only_under_its_root_and_unchanged() {
        let user = key(2);
        let cert = AuthorCert::issue(
            &root(1),
            "org",
            "u1",
            "amina",
            Role::Counsellor,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert_eq!(cert.verify(&trust(1)).map(|(_, r)| r), Ok(Role::Counsellor));
        assert!(cert.verify(&trust(3)).is_err(), "another root");
        assert!(
            cert.verify(&Trust::new("other", key(1).verifying_key()))
                .is_err(),
            "another organisation"
        );
        let mut promoted = cert.clone();
        promoted.role = "admin".into();
        assert!(promoted.verify(&trust(1)).is_err(), "a role edited in");
        // Minted by a user's own key instead of the root.
        let minted = AuthorCert::issue(
            &Issuer::root(user.clone()),
            "org",
            "u1",
            "amina",
            Role::Admin,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert!(minted.verify(&trust(1)).is_err());
    }

    fn cert(by: &Issuer, user: &str, role: Role, device: &str, k: u8) -> AuthorCert {
        AuthorCert::issue(
            by,
            "org",
            user,
            user,
            role,
            device,
            &key(k).verifying_key(),
            "t",
        )
    }

    #[test]
    fn an_administrators_certificate_issues_and_no_other_does() {
        let mut t = trust(1);
        let admin = cert(&root(1), "a", Role::Admin, "d1", 10);
        let counsellor = cert(&root(1), "c", Role::Counsellor, "d1", 11);
        t.add_issuer(&admin);
        t.add_issuer(&counsellor);
        let by_admin = cert(
            &Issuer::under(key(10), &admin),
            "u",
            Role::Counsellor,
            "d2",
            12,
        );
        assert_eq!(by_admin.verify(&t).map(|(_, r)| r), Ok(Role::Counsellor));
        // A counsellor's certificate is not an issuer, whatever it signs.
        let by_counsellor = cert(
            &Issuer::under(key(11), &counsellor),
            "u",
            Role::Admin,
            "d2",
            13,
        );
        assert!(by_counsellor.verify(&t).is_err());
        // The administrator's certificate named, but another key signed.
        let stolen_name = cert(&Issuer::under(key(14), &admin), "u", Role::Admin, "d2", 13);
        assert!(stolen_name.verify(&t).is_err());
        // An administrator cannot certify the archive: only the root does.
        let archive = cert(
            &Issuer::under(key(10), &admin),
            "x",
            Role::Admin,
            ARCHIVE_DEVICE,
            15,
        );
        assert!(archive.verify(&t).is_err());
        // An issuer this laptop does not know.
        assert!(by_admin.verify(&trust(1)).is_err());
    }

    #[test]
    fn an_enrolment_key_certifies_its_laptops_first_administrator_and_nothing_else() {
        let mut t = trust(1);
        let once = AuthorCert::enrolment(&root(1), "org", "d9", &key(20).verifying_key(), "t");
        t.add_issuer(&once);
        let issuer = Issuer::under(key(20), &once);
        let first = cert(&issuer, "a", Role::Admin, "d9", 21).at_join(&issuer);
        assert_eq!(first.verify(&t).map(|(_, r)| r), Ok(Role::Admin));
        for (what, c) in [
            ("not the joining", cert(&issuer, "a", Role::Admin, "d9", 21)),
            (
                "another laptop",
                cert(&issuer, "a", Role::Admin, "d8", 21).at_join(&issuer),
            ),
            (
                "a counsellor",
                cert(&issuer, "a", Role::Counsellor, "d9", 21).at_join(&issuer),
            ),
        ] {
            assert!(c.verify(&t).is_err(), "{what}");
        }
        let r = Revocation::issue(&issuer, "org", Revoked::Device, "d1", 0, vec![], "t");
        assert!(!r.verify(&t), "an enrolment key revokes nothing");
        // The joined administrator issues in turn.
        t.add_issuer(&first);
        let second = cert(
            &Issuer::under(key(21), &first),
            "u",
            Role::Counsellor,
            "d9",
            22,
        );
        assert!(second.verify(&t).is_ok());
    }

    #[test]
    fn what_a_revoked_administrator_issued_and_no_one_kept_is_void_down_the_chain() {
        let mut t = trust(1);
        let admin = cert(&root(1), "a", Role::Admin, "d1", 10);
        t.add_issuer(&admin);
        let under = Issuer::under(key(10), &admin);
        let before = cert(&under, "u1", Role::Counsellor, "d2", 11);
        let after = cert(&under, "u2", Role::Admin, "d2", 12);
        t.add_issuer(&after);
        let grandchild = cert(
            &Issuer::under(key(12), &after),
            "u3",
            Role::Counsellor,
            "d3",
            13,
        );
        let ring_after = Keyring::issue(&under, "org", 5, &[1; 32], &[], "t");
        assert!(!before.is_void(&t) && !after.is_void(&t) && ring_after.verify(&t));
        let revoked = Revocation::issue(
            &root(1),
            "org",
            Revoked::User,
            "a",
            0,
            vec![before.id.clone()],
            "t",
        );
        assert!(revoked.verify(&t));
        t.add_revocations([revoked]);
        assert!(!before.is_void(&t), "kept");
        assert!(after.is_void(&t), "not kept");
        assert!(grandchild.is_void(&t), "rests on one not kept");
        assert!(!ring_after.verify(&t), "a keyring not kept");
        let implied = t.voided(&[before.clone(), after.clone(), grandchild.clone()], &[]);
        let subjects: Vec<&str> = implied.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(subjects, [after.id.as_str(), grandchild.id.as_str()]);
        assert!(implied
            .iter()
            .all(|r| r.kind == Revoked::Cert && r.kept.is_empty()));
    }

    #[test]
    fn a_rotated_root_keeps_what_it_listed_and_every_laptop_follows_one_chain() {
        let mut t = trust(1);
        let kept = cert(&root(1), "u1", Role::Counsellor, "d1", 10);
        let later = cert(&root(1), "u2", Role::Admin, "d1", 11);
        let rotation = RootRotation::issue(&key(1), &key(2), "org", vec![kept.id.clone()], "t");
        // A rival rotation of the same root, and one signed by one root only.
        let rival = RootRotation::issue(&key(1), &key(3), "org", vec![], "t");
        let mut forged = RootRotation::issue(&key(1), &key(4), "org", vec![], "t");
        forged.new_signature = rival.new_signature.clone();
        assert!(!forged.verify("org"));
        let pooled = t.add_rotations(&[rival.clone(), forged, rotation.clone()]);
        assert_eq!(
            pooled.len(),
            2,
            "both genuine rotations are kept to pass on"
        );
        assert_eq!(t.rotations().len(), 1, "one continues the chain");
        let smaller = [key(2), key(3)]
            .into_iter()
            .map(|k| k.verifying_key())
            .min_by_key(|k| hex::encode(k.as_bytes()))
            .expect("two");
        assert_eq!(t.root(), &smaller);
        for order in [[&rotation, &rival], [&rival, &rotation]] {
            let mut other = trust(1);
            other.add_rotations(&[order[0].clone()]);
            other.add_rotations(&[order[1].clone()]);
            assert_eq!(other.root(), t.root(), "the same chain, in any order");
        }
        let mut t = trust(1);
        t.add_rotations(&[rotation]);
        assert!(!kept.is_void(&t));
        assert!(later.is_void(&t), "the old root's, not kept");
        let new = cert(&root(2), "u3", Role::Counsellor, "d1", 12);
        assert!(new.verify(&t).is_ok() && !new.is_void(&t));
        assert!(cert(&root(9), "u4", Role::Admin, "d1", 13)
            .verify(&t)
            .is_err());
    }

    #[test]
    fn commits_verify_in_a_batch_and_one_bad_signature_fails_it() {
        let k = key(2);
        let cert = AuthorCert::issue(
            &root(1),
            "org",
            "u",
            "n",
            Role::Admin,
            "d",
            &k.verifying_key(),
            "t",
        );
        let signer = Signer::new(cert.clone(), k.clone()).expect("pair");
        let digests = [[7u8; 32], [8u8; 32]];
        let (id, sig) = signer.sign_commit(&digests);
        assert_eq!(id, commit_id("org", &cert.id, &digests));
        let good = (
            commit_message("org", &cert.id, &digests),
            sig,
            k.verifying_key(),
        );
        assert!(verify_commits(&[good.clone(), good.clone()]));
        let bad = (
            commit_message("org", &cert.id, &[[9u8; 32]]),
            sig,
            k.verifying_key(),
        );
        assert!(!verify_commits(&[good, bad]));
        assert!(
            Signer::new(cert, key(5)).is_none(),
            "a key the certificate does not name"
        );
    }
}

/// A device's key-agreement secret, derived from its signing key: a separate key, so that
/// signing and encryption never share one, without a second secret to keep.
pub fn agreement_secret(device: &SigningKey) -> zeroize::Zeroizing<[u8; 32]> {
    zeroize::Zeroizing::new(sha256(&[b"masar-kx/2", &device.to_bytes()]))
}

/// The public half of [`agreement_secret`], hex: what a device certificate carries.
pub fn agreement_public(device: &SigningKey) -> String {
    hex::encode(
        curve25519_dalek::MontgomeryPoint::mul_base_clamped(*agreement_secret(device)).to_bytes(),
    )
}

/// A bundle key sealed to one device's agreement key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The device it is for.
    pub device: String,
    /// The sender's one-time public key, hex.
    pub ephemeral: String,
    /// Nonce and ciphertext of the bundle key, hex.
    pub sealed: String,
}

/// The root's announcement of a new bundle key (an *epoch*), sealed to every device that
/// may read bundles from now on; a revoked device is left out, so what a stolen laptop
/// holds cannot read bundles written afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    /// The organisation.
    pub org: String,
    /// The key's number; bundles name the epoch they were sealed with.
    pub epoch: u32,
    /// The key, sealed to each device.
    pub envelopes: Vec<Envelope>,
    /// When, by the rotating laptop's clock (information only).
    pub issued: String,
    /// The administrator's certificate whose key signed it; none when the root did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The issuer's signature, hex.
    pub signature: String,
}

fn envelope_key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
    org: &str,
    epoch: u32,
    device: &str,
) -> [u8; 32] {
    sha256(&[
        b"masar-keyring/2",
        shared,
        ephemeral,
        recipient,
        org.as_bytes(),
        &epoch.to_le_bytes(),
        device.as_bytes(),
    ])
}

impl Keyring {
    fn message(&self) -> Vec<u8> {
        let m = serde_json::to_vec(&(
            "masar-keyring/2",
            &self.org,
            self.epoch,
            &self.envelopes,
            &self.issued,
        ))
        .unwrap_or_default();
        with_issuer(m, self.by.as_deref())
    }

    /// Its id, derived from what its issuer signed.
    pub fn id(&self) -> String {
        id_of(&self.message())
    }

    /// Seals `key` to each `(device, agreement public key hex)` and signs the whole.
    pub fn issue(
        issuer: &Issuer,
        org: &str,
        epoch: u32,
        key: &[u8; 32],
        devices: &[(String, String)],
        issued: &str,
    ) -> Keyring {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use rand::RngCore;
        let mut envelopes = Vec::new();
        for (device, public_hex) in devices {
            let Some(recipient) = hex::decode(public_hex)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
            else {
                continue;
            };
            let mut eph = zeroize::Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(&mut *eph);
            let ephemeral = curve25519_dalek::MontgomeryPoint::mul_base_clamped(*eph).to_bytes();
            let shared = zeroize::Zeroizing::new(
                curve25519_dalek::MontgomeryPoint(recipient)
                    .mul_clamped(*eph)
                    .to_bytes(),
            );
            let k = zeroize::Zeroizing::new(envelope_key(
                &shared, &ephemeral, &recipient, org, epoch, device,
            ));
            let mut nonce = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let aead = chacha20poly1305::XChaCha20Poly1305::new((&*k).into());
            let Ok(sealed) = aead.encrypt(
                chacha20poly1305::XNonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: device.as_bytes(),
                },
            ) else {
                continue;
            };
            envelopes.push(Envelope {
                device: device.clone(),
                ephemeral: hex::encode(ephemeral),
                sealed: hex::encode([&nonce[..], &sealed].concat()),
            });
        }
        let mut ring = Keyring {
            org: org.into(),
            epoch,
            envelopes,
            issued: issued.into(),
            by: issuer.by.clone(),
            signature: String::new(),
        };
        ring.signature = issuer.sign(&ring.message());
        ring
    }

    /// Whether this organisation's root or an administrator signed it, and its issuer was
    /// not retired without keeping it: a retired key cannot make laptops seal bundles to a
    /// key of its choosing.
    pub fn verify(&self, trust: &Trust) -> bool {
        let message = self.message();
        self.org == trust.org
            && trust.check_issued(
                self.by.as_deref(),
                &id_of(&message),
                &message,
                &self.signature,
                Issued::Keyring,
            ) == Ok(false)
    }

    /// The bundle key, if this keyring carries it for `device` (whose signing key is given).
    pub fn open_for(
        &self,
        device: &str,
        device_key: &SigningKey,
    ) -> Option<zeroize::Zeroizing<[u8; 32]>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let env = self.envelopes.iter().find(|e| e.device == device)?;
        let ephemeral: [u8; 32] = hex::decode(&env.ephemeral).ok()?.try_into().ok()?;
        let sealed = hex::decode(&env.sealed).ok()?;
        if sealed.len() < 24 {
            return None;
        }
        let secret = agreement_secret(device_key);
        let recipient = curve25519_dalek::MontgomeryPoint::mul_base_clamped(*secret).to_bytes();
        let shared = zeroize::Zeroizing::new(
            curve25519_dalek::MontgomeryPoint(ephemeral)
                .mul_clamped(*secret)
                .to_bytes(),
        );
        let k = zeroize::Zeroizing::new(envelope_key(
            &shared, &ephemeral, &recipient, &self.org, self.epoch, device,
        ));
        let aead = chacha20poly1305::XChaCha20Poly1305::new((&*k).into());
        let plain = zeroize::Zeroizing::new(
            aead.decrypt(
                chacha20poly1305::XNonce::from_slice(&sealed[..24]),
                Payload {
                    msg: &sealed[24..],
                    aad: device.as_bytes(),
                },
            )
            .ok()?,
        );
        let key: [u8; 32] = plain.as_slice().try_into().ok()?;
        Some(zeroize::Zeroizing::new(key))
    }
}

#[cfg(test)]
mod keyring_tests {
    use super::*;

    #[test]
    fn a_keyring_opens_for_the_devices_it_names_and_for_no_other() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let (a, b, c) = (
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[3; 32]),
            SigningKey::from_bytes(&[4; 32]),
        );
        let key = [9u8; 32];
        let ring = Keyring::issue(
            &Issuer::root(root.clone()),
            "org",
            1,
            &key,
            &[
                ("a".into(), agreement_public(&a)),
                ("b".into(), agreement_public(&b)),
            ],
            "t",
        );
        assert!(ring.verify(&Trust::new("org", root.verifying_key())));
        assert_eq!(ring.open_for("a", &a).as_deref(), Some(&key));
        assert_eq!(ring.open_for("b", &b).as_deref(), Some(&key));
        assert!(ring.open_for("c", &c).is_none(), "a device left out");
        assert!(ring.open_for("a", &c).is_none(), "another device's key");
        let mut forged = ring.clone();
        forged.epoch = 2;
        assert!(!forged.verify(&Trust::new("org", root.verifying_key())));
    }
}
