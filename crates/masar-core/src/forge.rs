//! Forgeries, for the attack suite only (feature `forging`, never in a release build):
//! what an enrolled insider who decrypted their own laptop's database could sign and seal
//! with that laptop's keys and their own signing key. Each attack of `tests/system/attacks.rs`
//! builds its bundle here, with the project's own format code, so that the bundle fails
//! only for the reason the attack is about.

use std::io::Write;

use ed25519_dalek::SigningKey;

use crate::auth::Role;
use crate::changes::Op;
use crate::clock::Hlc;
use crate::identity::org::{self as keys, OrgKeys};
use crate::masar::Masar;
use crate::sync::bundle::{self, Commit, Contents, Header};
use crate::trust::AuthorCert;

/// One change as a forger writes it: every field theirs to choose.
#[derive(Debug, Clone)]
pub struct Forged {
    /// Stamp (see `Hlc`); with `device`, the identity it claims.
    pub hlc: i64,
    /// The device it claims.
    pub device: String,
    /// Entity name.
    pub entity: String,
    /// Record id.
    pub record: String,
    /// Field.
    pub field: String,
    /// New value as JSON.
    pub value: String,
    /// Whether it claims to create its record.
    pub creates: bool,
    /// Changes it claims to overwrite.
    pub parents: Vec<(i64, String)>,
    /// The author it names, by id and name.
    pub user_id: String,
    /// The author's name.
    pub user_name: String,
    /// Whether it claims to resolve a conflict.
    pub resolves: bool,
}

/// Whose key signs the forged changes.
pub enum Author {
    /// The insider's own certified key.
    Own,
    /// A certificate the insider minted with a key of their own, claiming a role.
    Minted(Role),
}

/// The keys an insider holds: their laptop's (device, bundle key) and their own signer's.
pub struct Forger<'m> {
    m: &'m Masar,
    keys: OrgKeys,
}

/// Milliseconds of a stamp.
pub fn stamp(millis: i64, counter: i64) -> i64 {
    Hlc::new(millis, counter).0
}

impl<'m> Forger<'m> {
    /// The insider logged in on `m`.
    pub fn new(m: &'m Masar) -> Forger<'m> {
        let keys = keys::load(m.conn()).expect("the laptop's keys");
        Forger { m, keys }
    }

    /// A change of `field` of `record` to `json`, made by the insider on their laptop, as
    /// an honest change would be (a stamp after the laptop's clock).
    pub fn change(&self, entity: &str, record: &str, field: &str, json: &str) -> Forged {
        let millis = self.m.clock().now().timestamp_millis() + 1000;
        let user = self.m.user();
        Forged {
            hlc: stamp(millis, 0),
            device: self.m.device_id().to_string(),
            entity: entity.into(),
            record: record.into(),
            field: field.into(),
            value: json.into(),
            creates: false,
            parents: Vec::new(),
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            resolves: false,
        }
    }

    fn op(f: &Forged, pos: u32) -> Op {
        Op {
            hlc: Hlc(f.hlc),
            device: f.device.clone(),
            entity: f.entity.clone(),
            record: f.record.clone(),
            field: f.field.clone(),
            value: Some(f.value.clone()),
            creates: f.creates,
            parents: f
                .parents
                .iter()
                .map(|(h, d)| (Hlc(*h), d.clone()))
                .collect(),
            user_id: Some(f.user_id.clone()),
            user_name: Some(f.user_name.clone()),
            at: "2024-06-01T12:00:00Z".into(),
            frontier: 0,
            resolves: f.resolves,
            salt: None,
            value_commit: None,
            commit: Some((String::new(), pos)),
        }
    }

    /// A bundle of `changes` in one commit signed by `author`, sealed with the laptop's
    /// keys under the bundle id `id`.
    pub fn bundle(&self, changes: &[Forged], author: Author, id: &str) -> Vec<u8> {
        let ops: Vec<Op> = changes
            .iter()
            .enumerate()
            .map(|(i, f)| Self::op(f, i as u32))
            .collect();
        let digests: Vec<[u8; 32]> = ops.iter().map(|o| o.digest().expect("a digest")).collect();
        let (cert, (commit_id, signature)) = match author {
            Author::Own => {
                let signer = self.m.db().signer().expect("the insider's key");
                (signer.cert.clone(), signer.sign_commit(&digests))
            }
            Author::Minted(role) => {
                let fake_root = SigningKey::from_bytes(&crate::identity::org::random32());
                let key = SigningKey::from_bytes(&crate::identity::org::random32());
                let user = self.m.user();
                let cert = AuthorCert::issue(
                    &crate::trust::Issuer::root(fake_root),
                    &self.keys.org_id,
                    &user.id,
                    &user.name,
                    role,
                    self.m.device_id(),
                    &key.verifying_key(),
                    "t",
                );
                let signer = crate::trust::Signer::new(cert.clone(), key).expect("a pair");
                (cert, signer.sign_commit(&digests))
            }
        };
        let contents = Contents {
            device_name: None,
            // The insider's certificate and those it rests on, as an honest bundle carries.
            certs: std::iter::once(cert.clone())
                .chain(crate::identity::org::chain(self.m.conn(), cert.by.clone()).expect("chain"))
                .collect(),
            revocations: Vec::new(),
            commits: vec![Commit {
                id: commit_id,
                cert: cert.id.clone(),
                signature,
                size: ops.len() as u32,
                absent: Vec::new(),
            }],
            ops: ops
                .into_iter()
                .enumerate()
                .map(|(i, o)| (o, 0, i as u32))
                .collect(),
        };
        self.seal(&contents, id)
    }

    /// A bundle of `contents` sealed with the laptop's keys under the bundle id `id`.
    fn seal(&self, contents: &Contents, id: &str) -> Vec<u8> {
        bundle::seal(
            &self.header(id, contents.ops.len() as u64),
            contents,
            &self.keys,
        )
        .expect("seal")
    }

    fn header(&self, id: &str, changes: u64) -> Header {
        Header {
            org: self.keys.org_id.clone(),
            bundle: id.into(),
            device: self.keys.device_cert.device.clone(),
            cert: self.keys.device_cert.clone(),
            created: "t".into(),
            changes,
            full: false,
            scope: vec![],
            schema: crate::store::SCHEMA_VERSION,
            epoch: self.keys.current().0,
            keyring: self.keys.keyring.clone(),
            chain: self.keys.chain.clone(),
            rotations: self.keys.trust.all_rotations().to_vec(),
        }
    }

    /// An empty bundle, validly sealed by the insider's laptop, under the id `id` (which
    /// another bundle may carry).
    pub fn empty_bundle(&self, id: &str) -> Vec<u8> {
        self.seal(&Contents::default(), id)
    }

    /// A sealed bundle that announces `announced` changes and whose body inflates to
    /// `inflated` bytes of padding before anything else: a bomb that an honest header does
    /// not show.
    pub fn inflating_bundle(&self, announced: u64, inflated: u64) -> Vec<u8> {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"{\"padding\":\"").expect("deflate");
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..inflated >> 20 {
            z.write_all(&chunk).expect("deflate");
        }
        z.write_all(b"\",\"commits\":[],\"ops\":[]}")
            .expect("deflate");
        let compressed = z.finish().expect("deflate");
        bundle::seal_raw(&self.header("bomb", announced), &compressed, &self.keys).expect("seal")
    }
    /// A sealed bundle announcing a million changes (so that the body's overall bound
    /// allows two gigabytes) whose `item` is inflated to about `bytes` of JSON, compressed
    /// to a few megabytes: what each item's own limit must refuse before it is held.
    pub fn inflated_bundle(&self, item: Inflated, bytes: u64) -> Vec<u8> {
        let hex64 = "cd".repeat(32);
        let sig = "ab".repeat(64);
        let cert = r#"{"id":"c","org":"o","user":"u","name":"n","role":"counsellor","device":"d","public_key":"p","issued":"t","signature":"s"}"#;
        let (head, unit, tail): (String, String, String) = match item {
            Inflated::LaptopName => (r#"{"dn":""#.into(), "x".into(), r#"","certs":[],"revocations":[],"commits":[],"ops":[]}"#.into()),
            Inflated::CertString => (
                r#"{"certs":[{"id":"c","org":"o","user":"u","name":""#.into(),
                "n".into(),
                r#"","role":"counsellor","device":"d","public_key":"p","issued":"t","signature":"s"}],"commits":[],"ops":[]}"#.into(),
            ),
            Inflated::CertCount => (r#"{"certs":["#.into(), format!("{cert},"), format!(r#"{cert}],"commits":[],"ops":[]}}"#)),
            Inflated::Digests => (
                format!(r#"{{"commits":[{{"id":"i","c":"c","s":"{sig}","n":4000000000,"a":["#),
                format!(r#"[1,"{hex64}"],"#),
                format!(r#"[0,"{hex64}"]]}}],"ops":[]}}"#),
            ),
            Inflated::Revocation => (
                r#"{"revocations":[{"id":"r","org":"o","kind":"device","subject":"d","after":1,"kept":["#.into(),
                format!(r#""{hex64}","#),
                r#""x"],"issued":"t","signature":"s"}],"commits":[],"ops":[]}"#.into(),
            ),
            Inflated::Keyring => {
                // The keyring travels in the clear header: inflated there.
                let envelope = crate::trust::Envelope { device: "d".into(), ephemeral: hex64.clone(), sealed: hex64.clone() };
                let count = (bytes / 160).max(1) as usize;
                let mut header = self.header("keyring", 0);
                header.keyring = Some(crate::trust::Keyring {
                    org: self.keys.org_id.clone(),
                    epoch: header.epoch,
                    envelopes: vec![envelope; count],
                    issued: "t".into(),
                    by: None,
                    signature: sig.clone(),
                });
                let body = bundle::BodyWriter::new(None, &[], &[], &[]).expect("body").finish().expect("body");
                return bundle::seal_raw(&header, &body, &self.keys).expect("seal");
            }
        };
        let mut block = Vec::with_capacity((1 << 20) + unit.len());
        while block.len() < 1 << 20 {
            block.extend_from_slice(unit.as_bytes());
        }
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(head.as_bytes()).expect("deflate");
        for _ in 0..(bytes / block.len() as u64).max(1) {
            z.write_all(&block).expect("deflate");
        }
        z.write_all(tail.as_bytes()).expect("deflate");
        let compressed = z.finish().expect("deflate");
        bundle::seal_raw(
            &self.header(item.name(), 1_000_000),
            &compressed,
            &self.keys,
        )
        .expect("seal")
    }

    /// An acknowledgement signed with the insider's laptop's key, saying it imported
    /// `imported` and keeps the merged export `merged` covering `covers`: a coverage list
    /// that is only its writer's word.
    pub fn acknowledgement(&self, imported: &[String], merged: &str, covers: &[String]) -> Vec<u8> {
        let issued = self.m.clock().now().to_rfc3339();
        crate::sync::folder::signed_acknowledgement(
            &self.keys,
            &issued,
            imported,
            Some((merged, covers)),
        )
    }
}

/// An item of a bundle an insider inflates (see [`Forger::inflated_bundle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inflated {
    /// The writing laptop's name, in the body.
    LaptopName,
    /// One string of a certificate.
    CertString,
    /// The number of certificates.
    CertCount,
    /// The digests of changes left out of one commit.
    Digests,
    /// The commits a revocation keeps.
    Revocation,
    /// The keyring, in the clear header.
    Keyring,
}

impl Inflated {
    /// A short name, for the bundle's id and the test's messages.
    pub fn name(self) -> &'static str {
        match self {
            Inflated::LaptopName => "laptop-name",
            Inflated::CertString => "cert-string",
            Inflated::CertCount => "cert-count",
            Inflated::Digests => "digests",
            Inflated::Revocation => "revocation",
            Inflated::Keyring => "keyring",
        }
    }
}
