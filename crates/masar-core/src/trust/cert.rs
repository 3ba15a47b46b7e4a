//! Certificates of authors (`AuthorCert`) and what issues them (`Issuer`, `Issued`).

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{id_of, verifying_key, with_issuer, Trust, ARCHIVE_DEVICE, ENROLMENT_USER};
use crate::auth::Role;

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

    pub(super) fn verify_at(
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

/// What signs certificates, revocations and keyrings: the organisation's root, or an
/// administrator's own key under their certificate. The key is wiped when dropped.
pub struct Issuer {
    key: SigningKey,
    pub(super) by: Option<String>,
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
