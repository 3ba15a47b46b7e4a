//! The bundle file: versioned, compressed, encrypted for the organisation and signed by
//! the device that wrote it; inside, every change is signed by its author (a commit) and
//! relays carry those signatures unchanged. See docs/bundle-format.md.
//!
//! ```text
//! "MASARBND" | format u16 | header length u32 | header (JSON)
//!            | payload length u64 | payload | signature (64 bytes) | "MASAREND" | file length u64
//! payload   = nonce (24) | XChaCha20-Poly1305(bundle key, deflate(JSON body), aad = all before payload length)
//! signature = ed25519(device key, every byte before it)
//! ```
//!
//! Reading checks, in this order: the magic, the format version, the end marker (a file
//! cut short has none), the lengths, the signature (a changed byte), the organisation, the
//! device's certificate, then decrypts in place. The body is then read part by part
//! (`read_body`): certificates, revocations and commits first, then one change at a time,
//! so that a reader never holds a bundle's changes whole; the caller applies them inside
//! one transaction that a refusal anywhere rolls back, so nothing of a refused bundle stays.

use serde::{Deserialize, Serialize};

use crate::changes::Op;
use crate::clock::{Hlc, STAMP_CEILING_MILLIS};
use crate::error::SyncError;
use crate::identity::org::DeviceCert;
#[cfg(any(test, feature = "forging", feature = "fuzzing"))]
use crate::trust::Revocation;
use crate::trust::{AuthorCert, Keyring, RootRotation};

mod frame;
mod read;
mod write;

#[cfg(any(test, feature = "forging"))]
pub(crate) use frame::seal;
pub(crate) use frame::{
    announced_changes, check_start, open, read_header, seal_raw, trailer_holds, START,
    TRAILER_BYTES,
};
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use read::decode_body;
pub(crate) use read::{read_body, Part};
pub(crate) use write::BodyWriter;

/// The first bytes of every bundle.
pub const MAGIC: &[u8; 8] = b"MASARBND";
/// The marker that ends every complete bundle, followed by the file's length.
pub const END: &[u8; 8] = b"MASAREND";
const TRAILER: usize = 16;
/// The newest bundle format this version writes and reads.
pub const FORMAT: u16 = 3;
/// The oldest format this version reads: format 1 carried no author signatures and format
/// 2 its commits after its changes (so a reader had to hold them whole); both were retired
/// before any release.
pub const OLDEST_FORMAT: u16 = 3;
/// The most certificates or revocations one bundle may carry.
pub const MAX_CERTS: usize = 10_000;
/// A bundle larger than this is refused before anything is read into memory.
pub const MAX_BYTES: u64 = 2 << 30;
const MAX_HEADER: u32 = 1 << 20;
/// The most changes one bundle may hold: three times the whole log of a national programme
/// of 100,000 persons. A bundle announcing more is refused before it is decrypted.
pub const MAX_CHANGES: u64 = 5_000_000;
/// The most bytes one value may hold (a long note is a few KiB).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The most bytes one name may hold (ids, devices, entities, fields).
const MAX_NAME_BYTES: usize = 128;
/// Decompressed bytes allowed per announced change, plus a fixed slack for a few long
/// notes: a bundle that inflates beyond is a bomb, refused once that much is read.
const BYTES_PER_CHANGE: u64 = 2048;
const DECOMPRESSION_SLACK: u64 = 16 << 20;

/// The bundle's clear header: who wrote it, for whom, what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The organisation it belongs to.
    pub org: String,
    /// A unique id, so a bundle read twice is recognised at once.
    pub bundle: String,
    /// The device that wrote it.
    pub device: String,
    /// That device's certificate.
    pub cert: DeviceCert,
    /// When it was written, by the writer's clock (information only).
    pub created: String,
    /// How many changes it carries.
    pub changes: u64,
    /// Whether it carries everything its writer had (in scope).
    pub full: bool,
    /// The scope it was limited to, as `key=value` strings.
    #[serde(default)]
    pub scope: Vec<String>,
    /// The writer's schema version.
    pub schema: i64,
    /// Which bundle key sealed it (0 the first; a new one after each revocation).
    #[serde(default)]
    pub epoch: u32,
    /// The root's keyring for that key, so that every device still enrolled learns it from
    /// whichever bundle reaches it first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring: Option<Keyring>,
    /// The administrators' certificates the device's certificate and the keyring rest on,
    /// for a reader that does not know them yet (at most [`MAX_CHAIN`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<AuthorCert>,
    /// The rotations of the organisation's root, so a reader trusts the current root (at
    /// most [`MAX_ROTATIONS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotations: Vec<RootRotation>,
}

/// The most certificates a header's chain may carry: twice the longest chain a reader
/// follows, since the device's and the keyring's may differ.
pub const MAX_CHAIN: usize = 16;
/// The most rotations of the root a header may carry.
pub const MAX_ROTATIONS: usize = 64;

/// A change as bundles carry it; short names keep bundles small. Fields unknown to this
/// version are ignored, so newer writers can add some.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireOp {
    h: i64,
    d: String,
    e: String,
    r: String,
    f: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    c: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    p: Vec<(i64, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    t: String,
    #[serde(default)]
    fr: i64,
    /// Resolves a conflict.
    #[serde(default, skip_serializing_if = "is_false")]
    k: bool,
    /// The salt of a personal value's commitment, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    /// The commitment to a value erased since, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vc: Option<String>,
    /// Its commit: an index into the body's commits, and its place in that commit.
    m: u32,
    i: u32,
}

/// A commit as bundles carry it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireCommit {
    /// Its id, as its writer knows it: a reader uses it while the changes stream by and
    /// refuses the bundle if it is not the id of what the author signed.
    id: String,
    /// The author's certificate id.
    c: String,
    /// The author's signature, hex.
    s: String,
    /// How many changes it holds.
    n: u32,
    /// The digests of its changes this bundle does not carry: `[position, hex]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    a: Vec<(u32, String)>,
}

/// A commit of a bundle: who signed which changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Commit {
    /// Its id, derived from what its author signed (claimed, until a reader checks it).
    pub id: String,
    /// The author's certificate id.
    pub cert: String,
    /// The author's signature over the digests.
    pub signature: [u8; 64],
    /// How many changes it holds.
    pub size: u32,
    /// The digests of its changes the bundle does not carry, by position.
    pub absent: Vec<(u32, [u8; 32])>,
}

#[cfg(any(test, feature = "forging", feature = "fuzzing"))]
/// What a bundle carries: the certificates and revocations its reader needs, the commits,
/// and the changes, each with its commit (an index into `commits`) and place in it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Contents {
    pub device_name: Option<String>,
    pub certs: Vec<AuthorCert>,
    pub revocations: Vec<Revocation>,
    pub commits: Vec<Commit>,
    pub ops: Vec<(Op, usize, u32)>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn to_wire(op: &Op, commit: usize, pos: u32) -> WireOp {
    WireOp {
        h: op.hlc.0,
        d: op.device.clone(),
        e: op.entity.clone(),
        r: op.record.clone(),
        f: op.field.clone(),
        v: op.value.clone(),
        c: op.creates,
        p: op.parents.iter().map(|(h, d)| (h.0, d.clone())).collect(),
        u: op.user_id.clone(),
        n: op.user_name.clone(),
        t: op.at.clone(),
        fr: op.frontier,
        k: op.resolves,
        s: op.salt.as_ref().map(hex::encode),
        vc: if op.value.is_none() {
            op.value_commit.map(hex::encode)
        } else {
            None
        },
        m: commit as u32,
        i: pos,
    }
}

fn hex_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok()?.try_into().ok()
}

fn from_wire(w: WireOp) -> Result<(Op, usize, u32), SyncError> {
    let plausible = |h: i64| h > 0 && Hlc(h).millis() <= STAMP_CEILING_MILLIS;
    if !plausible(w.h) || w.p.iter().any(|(h, _)| !plausible(*h)) {
        return Err(SyncError::Damaged(
            "a change in it is stamped after the year 2200 or before 1970: the clock of the laptop that wrote it is wrong".into(),
        ));
    }
    if w.d.is_empty() || w.r.is_empty() || w.f.is_empty() {
        return Err(SyncError::Damaged(
            "a change in it has an empty name".into(),
        ));
    }
    if [&w.d, &w.e, &w.r, &w.f]
        .iter()
        .any(|n| n.len() > MAX_NAME_BYTES)
        || w.p.iter().any(|(_, d)| d.len() > MAX_NAME_BYTES)
    {
        return Err(SyncError::Damaged(format!(
            "a change in it has a name longer than {MAX_NAME_BYTES} bytes"
        )));
    }
    if w.v.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(SyncError::Damaged(format!(
            "a change in it holds a value longer than {} KiB",
            MAX_VALUE_BYTES / 1024
        )));
    }
    let salt = match &w.s {
        Some(h) => Some(
            hex_array::<16>(h)
                .ok_or_else(|| SyncError::Damaged("a change in it has a malformed salt".into()))?
                .to_vec(),
        ),
        None => None,
    };
    let value_commit = match (&w.v, &w.vc) {
        (None, Some(h)) => Some(hex_array::<32>(h).ok_or_else(|| {
            SyncError::Damaged("a change in it has a malformed commitment".into())
        })?),
        (None, None) => {
            return Err(SyncError::Damaged(
                "a change in it has neither a value nor the commitment to an erased one".into(),
            ))
        }
        _ => None,
    };
    let (commit, pos) = (w.m as usize, w.i);
    let op = Op {
        hlc: Hlc(w.h),
        device: w.d,
        entity: w.e,
        record: w.r,
        field: w.f,
        value: w.v,
        creates: w.c,
        parents: w.p.into_iter().map(|(h, d)| (Hlc(h), d)).collect(),
        user_id: w.u,
        user_name: w.n,
        at: w.t,
        frontier: w.fr.max(0),
        resolves: w.k,
        salt,
        value_commit,
        commit: None,
    };
    Ok((op, commit, pos))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::identity::org as keys;
    use crate::identity::org::OrgKeys;
    use crate::testing::{person, temp_db};

    fn sample() -> (tempfile::TempDir, crate::Masar, OrgKeys) {
        let (d, mut m) = temp_db();
        person(&mut m, "Amina", "female", "1990-01-01");
        let k = keys::load(m.conn()).expect("keys");
        (d, m, k)
    }

    /// Opens and reads a bundle whole.
    fn open_whole(bytes: Vec<u8>, k: &OrgKeys) -> crate::Result<(Header, Contents)> {
        let (header, body) = open(bytes, k)?;
        let contents = decode_body(&body, header.changes)?;
        Ok((header, contents))
    }

    fn header(k: &OrgKeys, changes: u64) -> Header {
        Header {
            org: k.org_id.clone(),
            bundle: "b".into(),
            device: k.device_cert.device.clone(),
            cert: k.device_cert.clone(),
            created: "now".into(),
            changes,
            full: true,
            scope: vec![],
            schema: crate::store::SCHEMA_VERSION,
            epoch: 0,
            keyring: None,
            chain: vec![],
            rotations: vec![],
        }
    }

    #[test]
    fn a_decompression_bomb_and_an_announced_flood_are_refused_before_they_cost_memory() {
        let (_d, _m, k) = sample();
        // One change whose value inflates from kilobytes to 40 MB.
        let mut bomb = op();
        bomb.value = Some(format!("\"{}\"", "a".repeat(40 << 20)));
        let sealed = seal(&header(&k, 1), &one(bomb), &k).unwrap();
        assert!(
            sealed.len() < 100_000,
            "the bomb is small on disk: {}",
            sealed.len()
        );
        let e = open_whole(sealed, &k).unwrap_err().to_string();
        // One change may take at most its own allowance, well before the body's bound.
        assert!(
            e.contains("its change is longer than a bundle may hold"),
            "{e}"
        );
        // Ten million announced changes: refused from the header, before decryption.
        let flood = seal(&header(&k, 10_000_000), &one(op()), &k).unwrap();
        let e = open_whole(flood, &k).unwrap_err().to_string();
        assert!(e.contains("more than the 5000000"), "{e}");
        // A value over the limit, compressed small, is refused too.
        let mut long = op();
        long.value = Some(format!("\"{}\"", "b".repeat(MAX_VALUE_BYTES + 10)));
        let e = open_whole(seal(&header(&k, 1), &one(long), &k).unwrap(), &k)
            .unwrap_err()
            .to_string();
        assert!(e.contains("KiB"), "{e}");
    }

    /// One change in a commit of its own (signed by no one: the reader's checks of
    /// authors are in `sync`).
    fn one(op: Op) -> Contents {
        Contents {
            commits: vec![Commit {
                id: "i".into(),
                cert: "c".into(),
                signature: [1; 64],
                size: 1,
                absent: vec![],
            }],
            ops: vec![(op, 0, 0)],
            ..Contents::default()
        }
    }

    fn op() -> Op {
        Op {
            hlc: Hlc::new(1_700_000_000_000, 1),
            device: "d".into(),
            entity: "person".into(),
            record: "r".into(),
            field: "city".into(),
            value: Some("\"Rabat\"".into()),
            creates: false,
            parents: vec![],
            user_id: None,
            user_name: Some("amina".into()),
            at: "t".into(),
            frontier: 0,
            resolves: false,
            salt: None,
            value_commit: None,
            commit: None,
        }
    }

    #[test]
    fn a_sealed_bundle_opens_with_the_same_changes() {
        let (_d, _m, k) = sample();
        let bytes = seal(&header(&k, 1), &one(op()), &k).expect("seal");
        let (h, contents) = open_whole(bytes, &k).expect("open");
        assert_eq!(h.changes, 1);
        assert_eq!(contents.ops[0].0, op());
        assert_eq!(contents.commits, one(op()).commits);
    }

    #[test]
    fn a_device_the_organisation_did_not_certify_is_refused() {
        let (_d, _m, k) = sample();
        // Same organisation id and bundle key, but a certificate from another root.
        let rogue_root = ed25519_dalek::SigningKey::from_bytes(&keys::random32());
        let rogue_device = ed25519_dalek::SigningKey::from_bytes(&keys::random32());
        let cert = keys::DeviceCert::issue(
            &crate::trust::Issuer::root(rogue_root.clone()),
            &k.org_id,
            "rogue",
            &rogue_device,
        );
        let rogue = OrgKeys {
            org_id: k.org_id.clone(),
            trust: crate::trust::Trust::new(&k.org_id, rogue_root.verifying_key()),
            bundle_keys: k.bundle_keys.clone(),
            keyring: None,
            seal_epoch: 0,
            chain: vec![],
            device_secret: rogue_device,
            device_cert: cert.clone(),
        };
        let mut h = header(&rogue, 1);
        h.device = "rogue".into();
        let bytes = seal(&h, &one(op()), &rogue).expect("seal");
        assert!(matches!(
            open(bytes, &k),
            Err(SyncError::UnknownDevice { .. })
        ));
    }

    fn deflate(json: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(json).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn fields_added_by_a_newer_writer_are_ignored() {
        let json = br#"{"commits":[{"id":"i","c":"c","s":"","n":1,"zz":3}],"ops":[{"h":111411200000000,"d":"d","e":"person","r":"r","f":"city","v":"\"Rabat\"","t":"t","fr":0,"m":0,"i":0,"zz":[1,2]}],"extra":true}"#;
        let e = decode_body(&deflate(json), 1).unwrap_err().to_string();
        assert!(
            e.contains("malformed"),
            "an empty signature is malformed, whatever else: {e}"
        );
        let json = String::from_utf8_lossy(json)
            .replace(r#""s":"""#, &format!(r#""s":"{}""#, "ab".repeat(64)));
        let body = decode_body(&deflate(json.as_bytes()), 1).expect("newer body reads");
        assert_eq!(body.ops.len(), 1);
        assert_eq!(body.commits[0].id, "i");
    }

    #[test]
    fn a_body_out_of_order_or_miscounted_is_refused_while_it_streams() {
        let op = r#"{"h":111411200000000,"d":"d","e":"person","r":"r","f":"city","v":"\"Rabat\"","t":"t","m":0,"i":0}"#;
        let commits = format!(
            r#""commits":[{{"id":"i","c":"c","s":"{}","n":1}}]"#,
            "ab".repeat(64)
        );
        let cases = [
            (
                format!(r#"{{"ops":[{op}],{commits}}}"#),
                1,
                "before their commits",
            ),
            (
                format!(r#"{{{commits},"ops":[{op},{op}]}}"#),
                1,
                "number of changes",
            ),
            (
                format!(r#"{{{commits},"ops":[{op}]}}"#),
                2,
                "number of changes",
            ),
            (
                format!(r#"{{{commits},{commits},"ops":[{op}]}}"#),
                1,
                "twice",
            ),
            (
                format!(
                    r#"{{{commits},"ops":[{}]}}"#,
                    op.replace(r#""m":0"#, r#""m":1"#)
                ),
                1,
                "names a commit it does not carry",
            ),
            (
                format!(
                    r#"{{{},"ops":[{op}]}}"#,
                    commits.replace(r#""n":1"#, r#""n":9"#)
                ),
                1,
                "more changes than it carries",
            ),
            (format!(r#"{{{commits},"ops":[{op}]"#), 1, "cannot be read"),
        ];
        for (json, expected, why) in cases {
            let mut seen = 0;
            let e = read_body(&deflate(json.as_bytes()), expected, &mut |_| {
                seen += 1;
                Ok(())
            })
            .unwrap_err()
            .to_string();
            assert!(e.contains(why), "{json}: {e}");
        }
        // A refusal by the reader's caller stops the reading with the caller's error.
        let json = format!(r#"{{{commits},"ops":[{op}]}}"#);
        let e = read_body(&deflate(json.as_bytes()), 1, &mut |part| match part {
            Part::Op(..) => Err(SyncError::Changed.into()),
            _ => Ok(()),
        })
        .unwrap_err();
        assert!(matches!(e, crate::Error::Sync(SyncError::Changed)), "{e}");
    }

    /// Deflates `parts` written one after the other, `repeat` times for the middle one.
    fn inflated(head: &str, middle: &str, repeat: usize, tail: &str) -> Vec<u8> {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(head.as_bytes()).unwrap();
        for _ in 0..repeat {
            z.write_all(middle.as_bytes()).unwrap();
        }
        z.write_all(tail.as_bytes()).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn every_inflated_item_is_refused_at_its_own_limit_before_it_is_held() {
        let sig = "ab".repeat(64);
        let commit = format!(r#"{{"id":"i","c":"c","s":"{sig}","n":1}}"#);
        // A header announcing a million changes allows two gigabytes of body: each item
        // must stop far below that.
        let expected = 1_000_000;
        let cases = [
            (
                inflated(r#"{"dn":""#, "x", 8 << 20, r#"","commits":[],"ops":[]}"#),
                "laptop name is longer",
            ),
            (
                inflated(r#"{"zz":1,""#, "k", 8 << 20, r#"":1}"#),
                "key is longer",
            ),
            (
                inflated(r#"{"certs":[{"id":""#, "c", 8 << 20, r#""}]}"#),
                "certificate is longer",
            ),
            (
                inflated(
                    r#"{"certs":["#,
                    r#"{"id":"i","org":"o","user":"u","name":"n","role":"r","device":"d","public_key":"p","issued":"t","signature":"s"},"#,
                    20_000,
                    r#"{}]}"#,
                ),
                "more than 10000 items",
            ),
            (
                inflated(
                    r#"{"revocations":[{"kept":["#,
                    r#""aaaaaaaaaaaaaaaa","#,
                    4 << 20,
                    r#""a"]}]}"#,
                ),
                "list of revocations is longer",
            ),
            (
                inflated(r#"{"commits":[{"id":""#, "i", 8 << 20, r#""}]}"#),
                "commit is longer",
            ),
            (
                inflated(
                    r#"{"commits":[{"id":"i","c":"c","s":"","n":4000000000,"a":["#,
                    &format!(r#"[1,"{}"],"#, "cd".repeat(32)),
                    8_000_000,
                    r#"[2,"ab"]]}]}"#,
                ),
                "more digests of changes left out than its size allows",
            ),
            (
                inflated(
                    &format!(
                        r#"{{"commits":[{commit}],"ops":[{{"h":111411200000000,"d":"d","e":"person","r":"r","f":"city","v":""#
                    ),
                    "v",
                    8 << 20,
                    r#""}]}"#,
                ),
                "change is longer",
            ),
        ];
        for (body, why) in cases {
            assert!(body.len() < 12 << 20, "small on disk: {}", body.len());
            let e = read_body(&body, expected, &mut |_| Ok(()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn impossible_stamps_are_refused() {
        let mut w = to_wire(&op(), 0, 0);
        w.h = -5;
        assert!(matches!(from_wire(w), Err(SyncError::Damaged(_))));
    }
}
