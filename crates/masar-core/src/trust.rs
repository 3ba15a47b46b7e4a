//! Who may sign what. The organisation's root key certifies each user's signing key on one
//! device, with their role ([`AuthorCert`]); every write on a laptop is a *commit* whose
//! changes' digests its author signs; the root revokes certificates, users and devices
//! ([`Revocation`]). Any laptop can then check, from the changes alone, who made each one,
//! on which device, and whether their role allowed it.

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
    /// The root's signature, hex.
    pub signature: String,
}

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
        m
    }

    /// Certifies `key` for `user` with `role` on `device`, with the root key.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        root: &SigningKey,
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
            signature: String::new(),
        };
        let message = cert.message();
        cert.id = id_of(&message);
        cert.signature = hex::encode(root.sign(&message).to_bytes());
        cert
    }

    /// Marks it as a joining laptop's first administrator's, and signs it again.
    pub fn at_join(mut self, root: &SigningKey) -> AuthorCert {
        self.joined = true;
        let message = self.message();
        self.id = id_of(&message);
        self.signature = hex::encode(root.sign(&message).to_bytes());
        self
    }

    /// The same key with another role, issued now by the root.
    pub fn with_role(&self, root: &SigningKey, role: Role, issued: &str) -> Option<AuthorCert> {
        let key = verifying_key(&self.public_key)?;
        Some(AuthorCert::issue(
            root,
            &self.org,
            &self.user,
            &self.name,
            role,
            &self.device,
            &key,
            issued,
        ))
    }

    /// The key and role it certifies, if the root of `org` signed it; else why not.
    pub fn verify(
        &self,
        root: &VerifyingKey,
        org: &str,
    ) -> Result<(VerifyingKey, Role), &'static str> {
        if self.org != org {
            return Err("its certificate belongs to another organisation");
        }
        let message = self.message();
        if self.id != id_of(&message) {
            return Err("its certificate's id does not match its contents");
        }
        let sig = signature(&self.signature).ok_or("its certificate's signature is malformed")?;
        root.verify(&message, &sig)
            .map_err(|_| "its certificate was not issued by this organisation's administrators")?;
        let key = verifying_key(&self.public_key).ok_or("its certificate names a malformed key")?;
        let role = Role::parse(&self.role).ok_or("its certificate names an unknown role")?;
        Ok((key, role))
    }

    /// Whether it attests history made before changes were signed.
    pub fn is_archive(&self) -> bool {
        self.device == ARCHIVE_DEVICE
    }
}

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
    /// The root's signature, hex.
    pub signature: String,
}

impl Revocation {
    fn message(&self) -> Vec<u8> {
        serde_json::to_vec(&(
            "masar-revocation/2",
            &self.org,
            self.kind,
            &self.subject,
            self.after,
            &self.kept,
            &self.issued,
        ))
        .unwrap_or_default()
    }

    /// Signs a revocation with the root key.
    pub fn issue(
        root: &SigningKey,
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
            signature: String::new(),
        };
        let message = r.message();
        r.id = id_of(&message);
        r.signature = hex::encode(root.sign(&message).to_bytes());
        r
    }

    /// Whether a commit of its subject stays valid.
    pub fn keeps(&self, commit: &str) -> bool {
        self.kept
            .binary_search_by(|k| k.as_str().cmp(commit))
            .is_ok()
    }

    /// Whether the root of `org` signed it.
    pub fn verify(&self, root: &VerifyingKey, org: &str) -> bool {
        let message = self.message();
        self.org == org
            && self.id == id_of(&message)
            && signature(&self.signature).is_some_and(|s| root.verify(&message, &s).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn a_certificate_checks_only_under_its_root_and_unchanged() {
        let root = key(1);
        let user = key(2);
        let cert = AuthorCert::issue(
            &root,
            "org",
            "u1",
            "amina",
            Role::Counsellor,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert_eq!(
            cert.verify(&root.verifying_key(), "org").map(|(_, r)| r),
            Ok(Role::Counsellor)
        );
        assert!(
            cert.verify(&key(3).verifying_key(), "org").is_err(),
            "another root"
        );
        assert!(
            cert.verify(&root.verifying_key(), "other").is_err(),
            "another organisation"
        );
        let mut promoted = cert.clone();
        promoted.role = "admin".into();
        assert!(
            promoted.verify(&root.verifying_key(), "org").is_err(),
            "a role edited in"
        );
        // Minted by a user's own key instead of the root.
        let minted = AuthorCert::issue(
            &user,
            "org",
            "u1",
            "amina",
            Role::Admin,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert!(minted.verify(&root.verifying_key(), "org").is_err());
    }

    #[test]
    fn commits_verify_in_a_batch_and_one_bad_signature_fails_it() {
        let root = key(1);
        let k = key(2);
        let cert = AuthorCert::issue(
            &root,
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
    /// The root's signature, hex.
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
        serde_json::to_vec(&(
            "masar-keyring/2",
            &self.org,
            self.epoch,
            &self.envelopes,
            &self.issued,
        ))
        .unwrap_or_default()
    }

    /// Seals `key` to each `(device, agreement public key hex)` and signs the whole with the root.
    pub fn issue(
        root: &SigningKey,
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
            signature: String::new(),
        };
        ring.signature = hex::encode(root.sign(&ring.message()).to_bytes());
        ring
    }

    /// Whether the root of `org` signed it.
    pub fn verify(&self, root: &VerifyingKey, org: &str) -> bool {
        self.org == org
            && signature(&self.signature).is_some_and(|s| root.verify(&self.message(), &s).is_ok())
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
            &root,
            "org",
            1,
            &key,
            &[
                ("a".into(), agreement_public(&a)),
                ("b".into(), agreement_public(&b)),
            ],
            "t",
        );
        assert!(ring.verify(&root.verifying_key(), "org"));
        assert_eq!(ring.open_for("a", &a).as_deref(), Some(&key));
        assert_eq!(ring.open_for("b", &b).as_deref(), Some(&key));
        assert!(ring.open_for("c", &c).is_none(), "a device left out");
        assert!(ring.open_for("a", &c).is_none(), "another device's key");
        let mut forged = ring.clone();
        forged.epoch = 2;
        assert!(!forged.verify(&root.verifying_key(), "org"));
    }
}
