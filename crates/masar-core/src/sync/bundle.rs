//! The bundle file: versioned, compressed, encrypted for the organisation and signed by
//! the device that wrote it; inside, every change is signed by its author (a commit) and
//! relays carry those signatures unchanged. See docs/bundle-format.md.
//!
//! ```text
//! "MASARBND" | format u16 | header length u32 | header (JSON)
//!            | payload length u64 | payload | signature (64 bytes) | "MASAREND" | file length u64
//! payload   = nonce (24) | XChaCha20-Poly1305(bundle key, deflate(JSON ops), aad = all before payload length)
//! signature = ed25519(device key, every byte before it)
//! ```
//!
//! Reading checks, in this order: the magic, the format version, the end marker (a file
//! cut short has none), the lengths, the signature (a changed byte), the organisation, the
//! device's certificate, then decrypts. Nothing is applied before all of it holds.

use std::io::{Read, Write};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::keys::{DeviceCert, OrgKeys};
use crate::trust::{AuthorCert, Keyring, Revocation};
use crate::changes::Op;
use crate::clock::{Hlc, STAMP_CEILING_MILLIS};
use crate::error::SyncError;

/// The first bytes of every bundle.
pub const MAGIC: &[u8; 8] = b"MASARBND";
/// The marker that ends every complete bundle, followed by the file's length.
pub const END: &[u8; 8] = b"MASAREND";
const TRAILER: usize = 16;
/// The newest bundle format this version writes and reads.
pub const FORMAT: u16 = 2;
/// The oldest format this version reads: format 1 carried no author signatures and was
/// retired before any release.
pub const OLDEST_FORMAT: u16 = 2;
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
}

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
    /// The author's certificate id.
    pub cert: String,
    /// The author's signature over the digests.
    pub signature: [u8; 64],
    /// How many changes it holds.
    pub size: u32,
    /// The digests of its changes the bundle does not carry, by position.
    pub absent: Vec<(u32, [u8; 32])>,
}

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

#[derive(Serialize, Deserialize)]
struct Body {
    /// The name the writing laptop gave itself (information for administrators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dn: Option<String>,
    #[serde(default)]
    certs: Vec<AuthorCert>,
    #[serde(default)]
    revocations: Vec<Revocation>,
    #[serde(default)]
    commits: Vec<WireCommit>,
    ops: Vec<WireOp>,
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
        vc: if op.value.is_none() { op.value_commit.map(hex::encode) } else { None },
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
        return Err(SyncError::Damaged("a change in it has an empty name".into()));
    }
    if [&w.d, &w.e, &w.r, &w.f].iter().any(|n| n.len() > MAX_NAME_BYTES) || w.p.iter().any(|(_, d)| d.len() > MAX_NAME_BYTES) {
        return Err(SyncError::Damaged(format!("a change in it has a name longer than {MAX_NAME_BYTES} bytes")));
    }
    if w.v.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
        return Err(SyncError::Damaged(format!("a change in it holds a value longer than {} KiB", MAX_VALUE_BYTES / 1024)));
    }
    let salt = match &w.s {
        Some(h) => Some(hex_array::<16>(h).ok_or_else(|| SyncError::Damaged("a change in it has a malformed salt".into()))?.to_vec()),
        None => None,
    };
    let value_commit = match (&w.v, &w.vc) {
        (None, Some(h)) => Some(hex_array::<32>(h).ok_or_else(|| SyncError::Damaged("a change in it has a malformed commitment".into()))?),
        (None, None) => return Err(SyncError::Damaged("a change in it has neither a value nor the commitment to an erased one".into())),
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

/// Writes a bundle's body change by change into the compressor, so that an export holds
/// the compressed bundle rather than its changes. The changes come first and the commits
/// after them (a reader takes the keys in any order), so commits are known when written.
pub(crate) struct BodyWriter {
    // Buffered: JSON is written a token at a time, and the compressor works best on blocks.
    z: std::io::BufWriter<flate2::write::DeflateEncoder<Vec<u8>>>,
    /// Changes written so far.
    pub count: u64,
}

impl BodyWriter {
    /// Starts a body with the writer's name, certificates and revocations.
    pub(crate) fn new(device_name: Option<&str>, certs: &[AuthorCert], revocations: &[Revocation]) -> Result<BodyWriter, SyncError> {
        let seal = |e: &dyn std::fmt::Display| SyncError::Seal(e.to_string());
        let mut z = std::io::BufWriter::with_capacity(1 << 16, flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default()));
        z.write_all(b"{\"dn\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, &device_name).map_err(|e| seal(&e))?;
        z.write_all(b",\"certs\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, certs).map_err(|e| seal(&e))?;
        z.write_all(b",\"revocations\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, revocations).map_err(|e| seal(&e))?;
        z.write_all(b",\"ops\":[").map_err(|e| seal(&e))?;
        Ok(BodyWriter { z, count: 0 })
    }

    /// Adds a change, the `pos`-th of the body's `commit`-th commit.
    pub(crate) fn push(&mut self, op: &Op, commit: usize, pos: u32) -> Result<(), SyncError> {
        let seal = |e: &dyn std::fmt::Display| SyncError::Seal(e.to_string());
        if self.count > 0 {
            self.z.write_all(b",").map_err(|e| seal(&e))?;
        }
        serde_json::to_writer(&mut self.z, &to_wire(op, commit, pos)).map_err(|e| seal(&e))?;
        self.count += 1;
        Ok(())
    }

    /// Ends the body with its commits; returns it compressed.
    pub(crate) fn finish(mut self, commits: &[Commit]) -> Result<Vec<u8>, SyncError> {
        let seal = |e: &dyn std::fmt::Display| SyncError::Seal(e.to_string());
        let wire: Vec<WireCommit> = commits
            .iter()
            .map(|c| WireCommit {
                c: c.cert.clone(),
                s: hex::encode(c.signature),
                n: c.size,
                a: c.absent.iter().map(|(p, d)| (*p, hex::encode(d))).collect(),
            })
            .collect();
        self.z.write_all(b"],\"commits\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut self.z, &wire).map_err(|e| seal(&e))?;
        self.z.write_all(b"}").map_err(|e| seal(&e))?;
        self.z.into_inner().map_err(|e| seal(&e))?.finish().map_err(|e| seal(&e))
    }
}

/// Writes a bundle of `contents` under `header`, encrypted and signed with `keys` (the
/// forgeries of the attack suite and the format's tests; exports stream with `BodyWriter`).
#[cfg(any(test, feature = "forging"))]
pub(crate) fn seal(header: &Header, contents: &Contents, keys: &OrgKeys) -> Result<Vec<u8>, SyncError> {
    let mut body = BodyWriter::new(contents.device_name.as_deref(), &contents.certs, &contents.revocations)?;
    for (op, c, p) in &contents.ops {
        body.push(op, *c, *p)?;
    }
    let compressed = body.finish(&contents.commits)?;
    seal_raw(header, &compressed, keys)
}

/// Encrypts and signs an already compressed body under `header`.
pub(crate) fn seal_raw(header: &Header, compressed: &[u8], keys: &OrgKeys) -> Result<Vec<u8>, SyncError> {
    let header_json = serde_json::to_vec(header).map_err(|e| SyncError::Seal(e.to_string()))?;
    let mut out = Vec::with_capacity(compressed.len() + header_json.len() + 200);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(&header_json);
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = keys.key_for(header.epoch).ok_or(SyncError::NoKey { epoch: header.epoch })?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&**key).into());
    let sealed = aead
        .encrypt(chacha20poly1305::XNonce::from_slice(&nonce), Payload { msg: compressed, aad: &out })
        .map_err(|_| SyncError::Seal("encryption failed".into()))?;
    out.extend_from_slice(&((nonce.len() + sealed.len()) as u64).to_le_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    let signature = keys.device_secret.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    out.extend_from_slice(END);
    out.extend_from_slice(&((out.len() + 8) as u64).to_le_bytes());
    Ok(out)
}

/// Reads only what identifies a bundle, after checking its signature: enough to skip a
/// bundle already imported without decrypting it.
pub(crate) fn read_header(bytes: &[u8]) -> Result<(Header, usize), SyncError> {
    let fixed = MAGIC.len() + 2 + 4;
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return Err(SyncError::Truncated);
        }
        return Err(SyncError::NotABundle);
    }
    if bytes.len() < fixed {
        return Err(SyncError::Truncated);
    }
    let format = u16::from_le_bytes([bytes[8], bytes[9]]);
    if format > FORMAT {
        return Err(SyncError::NewerFormat { found: format, supported: FORMAT });
    }
    if format < OLDEST_FORMAT {
        return Err(SyncError::Damaged(format!(
            "it was written in format {format}, before changes were signed by their authors, which no release wrote: export it again with this version"
        )));
    }
    // A complete file ends with the marker and its own length; a file cut short does not.
    if bytes.len() < fixed + TRAILER || &bytes[bytes.len() - TRAILER..bytes.len() - 8] != END {
        // A complete bundle followed by stray bytes is not a short copy but a changed file.
        let complete_inside = bytes.windows(END.len()).enumerate().rev().any(|(at, w)| {
            w == END
                && bytes.len() >= at + TRAILER
                && bytes[at + 8..at + TRAILER].try_into().map(u64::from_le_bytes).ok() == Some((at + TRAILER) as u64)
        });
        return Err(if complete_inside { SyncError::Changed } else { SyncError::Truncated });
    }
    let declared = u64::from_le_bytes(bytes[bytes.len() - 8..].try_into().map_err(|_| SyncError::Truncated)?);
    if declared != bytes.len() as u64 {
        return Err(SyncError::Changed);
    }
    let body = &bytes[..bytes.len() - TRAILER];
    let header_len = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    if header_len > MAX_HEADER {
        return Err(SyncError::Changed);
    }
    let header_end = fixed + header_len as usize;
    if body.len() < header_end + 8 {
        return Err(SyncError::Changed);
    }
    let payload_len = u64::from_le_bytes(body[header_end..header_end + 8].try_into().map_err(|_| SyncError::Changed)?);
    if payload_len > MAX_BYTES || (header_end as u64 + 8 + payload_len + 64) != body.len() as u64 {
        return Err(SyncError::Changed);
    }
    let payload_end = header_end + 8 + payload_len as usize;
    let header: Header = serde_json::from_slice(&bytes[fixed..header_end]).map_err(|_| SyncError::Changed)?;
    let key_bytes: [u8; 32] = hex::decode(&header.cert.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SyncError::Changed)?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| SyncError::Changed)?;
    let sig_bytes: [u8; 64] = body[payload_end..].try_into().map_err(|_| SyncError::Changed)?;
    key.verify(&body[..payload_end], &Signature::from_bytes(&sig_bytes)).map_err(|_| SyncError::Changed)?;
    if header.cert.device != header.device {
        return Err(SyncError::Changed);
    }
    Ok((header, header_end))
}

/// Reads a bundle's decrypted body: deflated JSON holding exactly `expected` changes.
/// Public so that the fuzzer can reach it without forging signatures.
pub(crate) fn decode_body(compressed: &[u8], expected: u64) -> Result<Contents, SyncError> {
    if expected > MAX_CHANGES {
        return Err(SyncError::Damaged(format!("it announces {expected} changes, more than the {MAX_CHANGES} a bundle may hold")));
    }
    let mut json = Vec::new();
    // Bounded, so a small bomb cannot exhaust memory.
    let limit = expected.saturating_mul(BYTES_PER_CHANGE) + DECOMPRESSION_SLACK;
    flate2::read::DeflateDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut json)
        .map_err(|_| SyncError::Damaged("its contents cannot be decompressed".into()))?;
    if json.len() as u64 >= limit {
        return Err(SyncError::Damaged("its contents are far larger than the changes it announces".into()));
    }
    let body: Body = serde_json::from_slice(&json).map_err(|e| SyncError::Damaged(format!("its contents cannot be read ({e})")))?;
    if body.ops.len() as u64 != expected {
        return Err(SyncError::Damaged("it does not hold the number of changes its header announces".into()));
    }
    if body.certs.len() > MAX_CERTS || body.revocations.len() > MAX_CERTS || body.commits.len() > body.ops.len().max(1) {
        return Err(SyncError::Damaged("it holds more certificates, revocations or commits than a bundle may".into()));
    }
    let mut commits = Vec::with_capacity(body.commits.len());
    for c in body.commits {
        let bad = || SyncError::Damaged("a commit in it is malformed".into());
        if c.n as u64 > MAX_CHANGES || c.a.len() > c.n as usize || c.c.len() > MAX_NAME_BYTES {
            return Err(bad());
        }
        let absent = c.a.iter().map(|(p, d)| hex_array::<32>(d).map(|d| (*p, d)).ok_or_else(bad)).collect::<Result<Vec<_>, _>>()?;
        commits.push(Commit { cert: c.c, signature: hex_array::<64>(&c.s).ok_or_else(bad)?, size: c.n, absent });
    }
    let ops = body.ops.into_iter().map(from_wire).collect::<Result<Vec<_>, _>>()?;
    if ops.iter().any(|(_, c, _)| *c >= commits.len()) {
        return Err(SyncError::Damaged("a change in it names a commit it does not carry".into()));
    }
    let device_name = body.dn.filter(|n| n.len() <= MAX_NAME_BYTES);
    Ok(Contents { device_name, certs: body.certs, revocations: body.revocations, commits, ops })
}

/// Checks everything about a bundle and returns its header and changes. Nothing of a
/// refused bundle is returned.
pub(crate) fn open(bytes: &[u8], keys: &OrgKeys) -> Result<(Header, Contents), SyncError> {
    let (header, header_end) = read_header(bytes)?;
    if header.org != keys.org_id {
        return Err(SyncError::OtherOrganisation { org: header.org });
    }
    let signer = header.cert.verify(&keys.root_public, &keys.org_id).ok_or_else(|| SyncError::UnknownDevice { device: header.device.clone() })?;
    // The signature was checked with the key the header names; that key must be the one
    // the organisation certified.
    if hex::encode(signer.as_bytes()) != header.cert.public_key {
        return Err(SyncError::UnknownDevice { device: header.device.clone() });
    }
    if header.changes > MAX_CHANGES {
        return Err(SyncError::Damaged(format!("it announces {} changes, more than the {MAX_CHANGES} a bundle may hold", header.changes)));
    }
    let payload = &bytes[header_end + 8..bytes.len() - 64 - TRAILER];
    if payload.len() < 24 {
        return Err(SyncError::Changed);
    }
    let key = keys.key_for(header.epoch).ok_or(SyncError::NoKey { epoch: header.epoch })?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&**key).into());
    let compressed = aead
        .decrypt(chacha20poly1305::XNonce::from_slice(&payload[..24]), Payload { msg: &payload[24..], aad: &bytes[..header_end] })
        .map_err(|_| SyncError::OtherOrganisation { org: header.org.clone() })?;
    let contents = decode_body(&compressed, header.changes)?;
    Ok((header, contents))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::keys;
    use crate::testing::{person, temp_db};

    fn sample() -> (tempfile::TempDir, crate::Masar, OrgKeys) {
        let (d, mut m) = temp_db();
        person(&mut m, "Amina", "female", "1990-01-01");
        let k = keys::load(m.conn()).expect("keys");
        (d, m, k)
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
        }
    }

    #[test]
    fn a_decompression_bomb_and_an_announced_flood_are_refused_before_they_cost_memory() {
        let (_d, _m, k) = sample();
        // One change whose value inflates from kilobytes to 40 MB.
        let mut bomb = op();
        bomb.value = Some(format!("\"{}\"", "a".repeat(40 << 20)));
        let sealed = seal(&header(&k, 1), &one(bomb), &k).unwrap();
        assert!(sealed.len() < 100_000, "the bomb is small on disk: {}", sealed.len());
        let e = open(&sealed, &k).unwrap_err().to_string();
        assert!(e.contains("far larger"), "{e}");
        // Ten million announced changes: refused from the header, before decryption.
        let flood = seal(&header(&k, 10_000_000), &one(op()), &k).unwrap();
        let e = open(&flood, &k).unwrap_err().to_string();
        assert!(e.contains("more than the 5000000"), "{e}");
        // A value over the limit, compressed small, is refused too.
        let mut long = op();
        long.value = Some(format!("\"{}\"", "b".repeat(MAX_VALUE_BYTES + 10)));
        let e = open(&seal(&header(&k, 1), &one(long), &k).unwrap(), &k).unwrap_err().to_string();
        assert!(e.contains("KiB"), "{e}");
    }

    /// One change in a commit of its own (signed by no one: the reader's checks of
    /// authors are in `sync`).
    fn one(op: Op) -> Contents {
        Contents {
            commits: vec![Commit { cert: "c".into(), signature: [1; 64], size: 1, absent: vec![] }],
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
        let (h, contents) = open(&bytes, &k).expect("open");
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
        let cert = keys::DeviceCert::issue(&rogue_root, &k.org_id, "rogue", &rogue_device);
        let rogue = OrgKeys {
            org_id: k.org_id.clone(),
            root_public: rogue_root.verifying_key(),
            bundle_keys: k.bundle_keys.clone(),
            keyring: None,
            device_secret: rogue_device,
            device_cert: cert.clone(),
        };
        let mut h = header(&rogue, 1);
        h.device = "rogue".into();
        let bytes = seal(&h, &one(op()), &rogue).expect("seal");
        assert!(matches!(open(&bytes, &k), Err(SyncError::UnknownDevice { .. })));
    }

    #[test]
    fn fields_added_by_a_newer_writer_are_ignored() {
        let json = br#"{"ops":[{"h":111411200000000,"d":"d","e":"person","r":"r","f":"city","v":"\"Rabat\"","t":"t","fr":0,"m":0,"i":0,"zz":[1,2]}],"extra":true}"#;
        let body: Body = serde_json::from_slice(json).expect("newer body reads");
        assert_eq!(body.ops.len(), 1);
        assert!(from_wire(body.ops[0].clone()).is_ok());
    }

    #[test]
    fn impossible_stamps_are_refused() {
        let mut w = to_wire(&op(), 0, 0);
        w.h = -5;
        assert!(matches!(from_wire(w), Err(SyncError::Damaged(_))));
    }
}
