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
use crate::masar::Masar;
use crate::sync::bundle::{self, Commit, Contents, Header};
use crate::sync::keys::{self, OrgKeys};
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
                let fake_root = SigningKey::from_bytes(&crate::sync::keys::random32());
                let key = SigningKey::from_bytes(&crate::sync::keys::random32());
                let user = self.m.user();
                let cert = AuthorCert::issue(
                    &fake_root,
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
            certs: vec![cert.clone()],
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
}
