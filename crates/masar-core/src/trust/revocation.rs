//! Revocations of devices, users and certificates (`Revocation`).

use serde::{Deserialize, Serialize};

use super::{id_of, with_issuer, AuthorCert, Issued, Issuer, Trust};

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
