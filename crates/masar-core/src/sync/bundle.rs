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

use std::cell::{Cell, RefCell};
use std::io::{BufReader, Read, Write};

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::changes::Op;
use crate::clock::{Hlc, STAMP_CEILING_MILLIS};
use crate::error::SyncError;
use crate::identity::org::{DeviceCert, OrgKeys};
use crate::trust::{AuthorCert, Keyring, Revocation, RootRotation, Trust};

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

/// Writes a bundle's body change by change into the compressor, so that an export holds
/// the compressed bundle rather than its changes. The commits come before the changes,
/// so that a reader can check each change as it streams by.
pub(crate) struct BodyWriter {
    // Buffered: JSON is written a token at a time, and the compressor works best on blocks.
    z: std::io::BufWriter<flate2::write::DeflateEncoder<Vec<u8>>>,
    /// Changes written so far.
    pub count: u64,
}

fn wire_commit(c: &Commit) -> WireCommit {
    WireCommit {
        id: c.id.clone(),
        c: c.cert.clone(),
        s: hex::encode(c.signature),
        n: c.size,
        a: c.absent.iter().map(|(p, d)| (*p, hex::encode(d))).collect(),
    }
}

impl BodyWriter {
    /// Starts a body with the writer's name, certificates, revocations and the commits of
    /// the changes to come.
    pub(crate) fn new(
        device_name: Option<&str>,
        certs: &[AuthorCert],
        revocations: &[Revocation],
        commits: &[Commit],
    ) -> Result<BodyWriter, SyncError> {
        let seal = |e: &dyn std::fmt::Display| SyncError::Seal(e.to_string());
        let mut z = std::io::BufWriter::with_capacity(
            1 << 16,
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default()),
        );
        z.write_all(b"{\"dn\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, &device_name).map_err(|e| seal(&e))?;
        z.write_all(b",\"certs\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, certs).map_err(|e| seal(&e))?;
        z.write_all(b",\"revocations\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, revocations).map_err(|e| seal(&e))?;
        z.write_all(b",\"commits\":").map_err(|e| seal(&e))?;
        serde_json::to_writer(&mut z, &commits.iter().map(wire_commit).collect::<Vec<_>>())
            .map_err(|e| seal(&e))?;
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

    /// Ends the body; returns it compressed.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, SyncError> {
        let seal = |e: &dyn std::fmt::Display| SyncError::Seal(e.to_string());
        self.z.write_all(b"]}").map_err(|e| seal(&e))?;
        self.z
            .into_inner()
            .map_err(|e| seal(&e))?
            .finish()
            .map_err(|e| seal(&e))
    }
}

/// Writes a bundle of `contents` under `header`, encrypted and signed with `keys` (the
/// forgeries of the attack suite and the format's tests; exports stream with `BodyWriter`).
#[cfg(any(test, feature = "forging"))]
pub(crate) fn seal(
    header: &Header,
    contents: &Contents,
    keys: &OrgKeys,
) -> Result<Vec<u8>, SyncError> {
    let mut body = BodyWriter::new(
        contents.device_name.as_deref(),
        &contents.certs,
        &contents.revocations,
        &contents.commits,
    )?;
    for (op, c, p) in &contents.ops {
        body.push(op, *c, *p)?;
    }
    let compressed = body.finish()?;
    seal_raw(header, &compressed, keys)
}

/// Encrypts and signs an already compressed body under `header`.
pub(crate) fn seal_raw(
    header: &Header,
    compressed: &[u8],
    keys: &OrgKeys,
) -> Result<Vec<u8>, SyncError> {
    let header_json = serde_json::to_vec(header).map_err(|e| SyncError::Seal(e.to_string()))?;
    let mut out = Vec::with_capacity(compressed.len() + header_json.len() + 200);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(&header_json);
    let mut nonce = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = keys.key_for(header.epoch).ok_or(SyncError::NoKey {
        epoch: header.epoch,
    })?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&**key).into());
    let sealed = aead
        .encrypt(
            chacha20poly1305::XNonce::from_slice(&nonce),
            Payload {
                msg: compressed,
                aad: &out,
            },
        )
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

/// How many changes a bundle file's header announces, read without checking anything and
/// 0 when it cannot be read: for a progress bar's length only.
pub(crate) fn announced_changes(path: &std::path::Path) -> u64 {
    let fixed = MAGIC.len() + 2 + 4;
    // The fixed part first, then exactly the header: a small bundle is not read twice.
    let Ok(start) = crate::files::read_regular_start(path, fixed as u64) else {
        return 0;
    };
    let Some(len) = start
        .get(10..14)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .filter(|l| *l <= MAX_HEADER)
    else {
        return 0;
    };
    let Ok(start) = crate::files::read_regular_start(path, (fixed + len as usize) as u64) else {
        return 0;
    };
    start
        .get(fixed..fixed + len as usize)
        .and_then(|h| serde_json::from_slice::<Header>(h).ok())
        .map_or(0, |h| h.changes.min(MAX_CHANGES))
}

/// The bytes before the header: the magic, the format and the header's length.
pub(crate) const START: usize = MAGIC.len() + 2 + 4;

/// Checks a bundle's first bytes (at most [`START`]): the magic, the format number and
/// the header's length, so that a file that is no bundle of a format this version reads
/// is refused before the rest of it is read.
pub(crate) fn check_start(bytes: &[u8]) -> Result<(), SyncError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            return Err(SyncError::Truncated);
        }
        return Err(SyncError::NotABundle);
    }
    if bytes.len() < START {
        return Err(SyncError::Truncated);
    }
    let format = u16::from_le_bytes([bytes[8], bytes[9]]);
    if format > FORMAT {
        return Err(SyncError::NewerFormat {
            found: format,
            supported: FORMAT,
        });
    }
    if format < OLDEST_FORMAT {
        let why = if format < 2 {
            "before changes were signed by their authors"
        } else {
            "with its commits after its changes"
        };
        return Err(SyncError::Damaged(format!(
            "it was written in format {format} ({why}) by a development version that no release shipped: export it again with this version"
        )));
    }
    let header_len = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    if header_len > MAX_HEADER {
        return Err(SyncError::Damaged(format!("its clear header announces {header_len} bytes, more than the {MAX_HEADER} a bundle may hold")));
    }
    Ok(())
}

/// Whether a bundle file of `len` bytes ends as a complete one: the end marker, then its
/// own length (checked from its last bytes before the rest is read).
pub(crate) fn trailer_holds(tail: &[u8], len: u64) -> bool {
    tail.len() == TRAILER
        && &tail[..8] == END
        && tail[8..].try_into().map(u64::from_le_bytes).ok() == Some(len)
}

/// The bytes at the end of every complete bundle.
pub(crate) const TRAILER_BYTES: usize = TRAILER;

/// Reads only what identifies a bundle, after checking its signature: enough to skip a
/// bundle already imported without decrypting it.
pub(crate) fn read_header(bytes: &[u8]) -> Result<(Header, usize), SyncError> {
    let fixed = START;
    check_start(bytes)?;
    // A complete file ends with the marker and its own length; a file cut short does not.
    if bytes.len() < fixed + TRAILER || &bytes[bytes.len() - TRAILER..bytes.len() - 8] != END {
        // A complete bundle followed by stray bytes is not a short copy but a changed file.
        let complete_inside = bytes.windows(END.len()).enumerate().rev().any(|(at, w)| {
            w == END
                && bytes.len() >= at + TRAILER
                && bytes[at + 8..at + TRAILER]
                    .try_into()
                    .map(u64::from_le_bytes)
                    .ok()
                    == Some((at + TRAILER) as u64)
        });
        return Err(if complete_inside {
            SyncError::Changed
        } else {
            SyncError::Truncated
        });
    }
    let declared = u64::from_le_bytes(
        bytes[bytes.len() - 8..]
            .try_into()
            .map_err(|_| SyncError::Truncated)?,
    );
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
    let payload_len = u64::from_le_bytes(
        body[header_end..header_end + 8]
            .try_into()
            .map_err(|_| SyncError::Changed)?,
    );
    if payload_len > MAX_BYTES || (header_end as u64 + 8 + payload_len + 64) != body.len() as u64 {
        return Err(SyncError::Changed);
    }
    let payload_end = header_end + 8 + payload_len as usize;
    let header: Header =
        serde_json::from_slice(&bytes[fixed..header_end]).map_err(|_| SyncError::Changed)?;
    // The header is bounded as a whole (1 MiB); its names are bounded like the body's.
    if [&header.org, &header.bundle, &header.device, &header.created]
        .iter()
        .any(|n| n.len() > MAX_NAME_BYTES)
    {
        return Err(SyncError::Damaged(format!("its clear header holds a name longer than {MAX_NAME_BYTES} bytes: it was not written by Masar")));
    }
    let key_bytes: [u8; 32] = hex::decode(&header.cert.public_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(SyncError::Changed)?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| SyncError::Changed)?;
    let sig_bytes: [u8; 64] = body[payload_end..]
        .try_into()
        .map_err(|_| SyncError::Changed)?;
    key.verify(&body[..payload_end], &Signature::from_bytes(&sig_bytes))
        .map_err(|_| SyncError::Changed)?;
    if header.cert.device != header.device {
        return Err(SyncError::Changed);
    }
    Ok((header, header_end))
}

/// This laptop's trust, with what a bundle's header carries: its rotations of the
/// root and the certificates its device's rests on (a copy only when it adds any).
pub(crate) fn trust_for<'k>(keys: &'k OrgKeys, header: &Header) -> std::borrow::Cow<'k, Trust> {
    let known = |c: &AuthorCert| keys.trust.knows(&c.id);
    if header
        .rotations
        .iter()
        .all(|r| keys.trust.all_rotations().contains(r))
        && header.chain.iter().all(known)
    {
        return std::borrow::Cow::Borrowed(&keys.trust);
    }
    let mut trust = keys.trust.clone();
    trust.add_rotations(&header.rotations);
    for c in &header.chain {
        trust.add_issuer(c);
    }
    std::borrow::Cow::Owned(trust)
}

/// Checks everything about a bundle's frame, decrypts its payload in place and returns
/// its header and its compressed body. Nothing of a refused bundle is returned.
pub(crate) fn open(mut bytes: Vec<u8>, keys: &OrgKeys) -> Result<(Header, Vec<u8>), SyncError> {
    let (header, header_end) = read_header(&bytes)?;
    if header.org != keys.org_id {
        return Err(SyncError::OtherOrganisation { org: header.org });
    }
    if header.chain.len() > MAX_CHAIN || header.rotations.len() > MAX_ROTATIONS {
        return Err(SyncError::Damaged(format!(
            "its header carries more than {MAX_CHAIN} certificates or {MAX_ROTATIONS} rotations of the root: it was not written by Masar"
        )));
    }
    let trust = trust_for(keys, &header);
    let signer = header
        .cert
        .verify(&trust)
        .ok_or_else(|| SyncError::UnknownDevice {
            device: header.device.clone(),
        })?;
    // The signature was checked with the key the header names; that key must be the one
    // the organisation certified.
    if hex::encode(signer.as_bytes()) != header.cert.public_key {
        return Err(SyncError::UnknownDevice {
            device: header.device.clone(),
        });
    }
    if header.changes > MAX_CHANGES {
        return Err(SyncError::Damaged(format!(
            "it announces {} changes, more than the {MAX_CHANGES} a bundle may hold",
            header.changes
        )));
    }
    let (start, end) = (header_end + 8, bytes.len() - 64 - TRAILER);
    if end - start < 24 + 16 {
        return Err(SyncError::Changed);
    }
    let key = keys.key_for(header.epoch).ok_or(SyncError::NoKey {
        epoch: header.epoch,
    })?;
    let aead = chacha20poly1305::XChaCha20Poly1305::new((&**key).into());
    // In place: a large bundle is held once, not twice.
    let (aad, rest) = bytes.split_at_mut(header_end);
    let payload = &mut rest[8..end - header_end];
    let (nonce, sealed) = payload.split_at_mut(24);
    let (text, tag) = sealed.split_at_mut(sealed.len() - 16);
    aead.decrypt_in_place_detached(
        chacha20poly1305::XNonce::from_slice(nonce),
        aad,
        text,
        chacha20poly1305::Tag::from_slice(tag),
    )
    .map_err(|_| SyncError::OtherOrganisation {
        org: header.org.clone(),
    })?;
    bytes.truncate(end - 16);
    bytes.drain(..start + 24);
    Ok((header, bytes))
}

/// A part of a bundle's body, in the order a reader meets them.
// A change is handed over one at a time and never stored in this shape: boxing it would
// cost an allocation per change for nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Part {
    /// The name the writing laptop gave itself (information for administrators).
    Name(Option<String>),
    /// The authors' certificates it carries.
    Certs(Vec<AuthorCert>),
    /// The revocations it carries.
    Revocations(Vec<Revocation>),
    /// Its commits, before any change.
    Commits(Vec<Commit>),
    /// A change, the `pos`-th of the body's `commit`-th commit.
    Op(Op, usize, u32),
}

/// The most bytes of body JSON one item may take before it is held: serde reads a string
/// or a list whole before handing it over, so each item is read from a reader that stops
/// at its allowance (`Allowance`), and nothing larger is ever allocated.
pub mod item_limits {
    /// A key of the body or of a commit.
    pub const KEY: u64 = 1024;
    /// The writing laptop's name (128 bytes, escaped at most six times over).
    pub const NAME: u64 = 1024;
    /// One author's certificate.
    pub const CERT: u64 = 4096;
    /// All the revocations together (each keeps a list of commit ids).
    pub const REVOCATIONS: u64 = 32 << 20;
    /// One commit, its list of digests left out apart.
    pub const COMMIT: u64 = 4096;
    /// One entry of a commit's digests left out: `[position, 64 hex digits]`.
    pub const ABSENT_ENTRY: u64 = 128;
    /// One change: a value of 64 KiB escaped at most six times over, and its names.
    pub const CHANGE: u64 = 6 * super::MAX_VALUE_BYTES as u64 + (64 << 10);
}

/// Compressed bytes each digest of a change left out costs at least: a SHA-256 digest
/// does not compress, so an honest bundle listing `k` of them is at least about `32 k`
/// bytes; half of that is allowed, and a list that compresses better is a forgery built to
/// cost its reader memory.
const COMPRESSED_BYTES_PER_ABSENT: u64 = 16;

/// How much of the body the item being read may still take, shared between the reader
/// that gives the bytes and the visitors that know which item they read.
struct Allowance {
    left: Cell<u64>,
    /// What is being read and its limit, for the refusal's message.
    what: Cell<(&'static str, u64)>,
    exceeded: Cell<bool>,
    /// Why a visitor refused what it read.
    refused: RefCell<Option<String>>,
}

impl Allowance {
    fn new() -> Allowance {
        Allowance {
            left: Cell::new(u64::MAX),
            what: Cell::new(("body", u64::MAX)),
            exceeded: Cell::new(false),
            refused: RefCell::new(None),
        }
    }

    /// The next item, `what`, may take `limit` bytes.
    fn set(&self, what: &'static str, limit: u64) {
        self.left.set(limit);
        self.what.set((what, limit));
    }

    /// Bytes taken since the last `set`.
    fn used(&self) -> u64 {
        self.what.get().1.saturating_sub(self.left.get())
    }

    /// The item being read may take `more` bytes (a list that grows one entry at a time).
    fn grant(&self, more: u64) {
        self.left.set(self.left.get().saturating_add(more));
        let (what, limit) = self.what.get();
        self.what.set((what, limit.saturating_add(more)));
    }

    fn refuse<E: serde::de::Error>(&self, why: String) -> E {
        let e = E::custom(&why);
        *self.refused.borrow_mut() = Some(why);
        e
    }
}

/// A reader that gives the item being read no more than its allowance.
struct Budget<'a, R> {
    inner: R,
    allowance: &'a Allowance,
}

impl<R: Read> Read for Budget<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.allowance.left.get();
        if left == 0 {
            self.allowance.exceeded.set(true);
            return Err(std::io::Error::other(
                "an item of the bundle is longer than allowed",
            ));
        }
        let most = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..most])?;
        self.allowance.left.set(left - n as u64);
        Ok(n)
    }
}

/// Reads a decrypted body (deflated JSON holding exactly `expected` changes) part by
/// part, handing each to `sink` as it is read: only one change is held at a time. Every
/// item is bounded before it is held (`item_limits`), and the digests of changes left out
/// by the compressed size. A refusal by `sink` stops the reading and is returned as it is.
pub(crate) fn read_body(
    compressed: &[u8],
    expected: u64,
    sink: &mut dyn FnMut(Part) -> crate::Result<()>,
) -> crate::Result<()> {
    if expected > MAX_CHANGES {
        return Err(SyncError::Damaged(format!(
            "it announces {expected} changes, more than the {MAX_CHANGES} a bundle may hold"
        ))
        .into());
    }
    // Bounded, so a small bomb cannot exhaust memory or time.
    let limit = expected.saturating_mul(BYTES_PER_CHANGE) + DECOMPRESSION_SLACK;
    let mut inflated = Bounded {
        inner: flate2::read::DeflateDecoder::new(compressed),
        left: limit,
        exceeded: false,
    };
    let allowance = Allowance::new();
    let absent_left = (compressed.len() as u64 / COMPRESSED_BYTES_PER_ABSENT + 64).min(MAX_CHANGES);
    let mut body = BodyReader {
        expected,
        sink,
        stopped: None,
        commits: None,
        ops: 0,
        seen: Vec::new(),
        allowance: &allowance,
        absent_left,
    };
    let read = {
        let budget = Budget {
            inner: BufReader::with_capacity(1 << 16, &mut inflated),
            allowance: &allowance,
        };
        let mut de = serde_json::Deserializer::from_reader(budget);
        serde::de::Deserializer::deserialize_map(&mut de, &mut body).and_then(|()| {
            allowance.set("end of the body", item_limits::KEY);
            de.end()
        })
    };
    if let Some(stopped) = body.stopped {
        return Err(stopped);
    }
    if let Some(why) = allowance.refused.borrow_mut().take() {
        return Err(SyncError::Damaged(why).into());
    }
    if inflated.exceeded {
        return Err(SyncError::Damaged(
            "its contents are far larger than the changes it announces".into(),
        )
        .into());
    }
    if allowance.exceeded.get() {
        let (what, most) = allowance.what.get();
        return Err(SyncError::Damaged(format!("its {what} is longer than a bundle may hold ({most} bytes at most): it was not written by Masar")).into());
    }
    match read {
        Err(e) if e.is_io() => {
            return Err(SyncError::Damaged("its contents cannot be decompressed".into()).into())
        }
        Err(e) => {
            return Err(SyncError::Damaged(format!("its contents cannot be read ({e})")).into())
        }
        Ok(()) => {}
    }
    if body.ops != expected {
        return Err(SyncError::Damaged(
            "it does not hold the number of changes its header announces".into(),
        )
        .into());
    }
    Ok(())
}

/// A reader that refuses to give more than `left` bytes.
struct Bounded<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            self.exceeded = true;
            return Err(std::io::Error::other(
                "the contents inflate beyond their bound",
            ));
        }
        let most = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..most])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The body's reader: hands each part to the sink as serde reads it.
struct BodyReader<'s, 'a> {
    expected: u64,
    sink: &'s mut dyn FnMut(Part) -> crate::Result<()>,
    /// Why the reading stopped, when the sink or a check refused.
    stopped: Option<crate::Error>,
    /// How many commits, once read.
    commits: Option<usize>,
    ops: u64,
    seen: Vec<String>,
    allowance: &'a Allowance,
    /// How many more digests of changes left out the commits may list.
    absent_left: u64,
}

impl BodyReader<'_, '_> {
    fn emit<E: serde::de::Error>(&mut self, part: Part) -> Result<(), E> {
        (self.sink)(part).map_err(|e| {
            self.stopped = Some(e);
            E::custom("refused")
        })
    }

    fn refuse<E: serde::de::Error>(&mut self, why: &str) -> E {
        self.stopped = Some(SyncError::Damaged(why.into()).into());
        E::custom(why)
    }

    fn check_commits<E: serde::de::Error>(&mut self, commits: &[Commit]) -> Result<(), E> {
        // Each carried change fills one place of a commit and each digest another: more
        // places than that cannot all be filled (and would cost memory to track).
        let places: u64 = commits.iter().map(|c| u64::from(c.size)).sum();
        let absent: u64 = commits.iter().map(|c| c.absent.len() as u64).sum();
        if places > self.expected + absent {
            return Err(self.refuse("its commits hold more changes than it carries or names"));
        }
        Ok(())
    }
}

impl<'de> serde::de::Visitor<'de> for &mut BodyReader<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a bundle's body")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let allowance = self.allowance;
        loop {
            allowance.set("key", item_limits::KEY);
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            if self.seen.contains(&key) {
                return Err(self.refuse(&format!("its contents name {key} twice")));
            }
            match key.as_str() {
                "dn" => {
                    allowance.set("laptop name", item_limits::NAME);
                    let name: Option<String> = map.next_value()?;
                    self.emit(Part::Name(name.filter(|n| n.len() <= MAX_NAME_BYTES)))?;
                }
                "certs" => {
                    let certs: Vec<AuthorCert> = map.next_value_seed(List::new(
                        allowance,
                        "certificate",
                        item_limits::CERT,
                        u64::MAX,
                    ))?;
                    self.emit(Part::Certs(certs))?;
                }
                "revocations" => {
                    let revocations: Vec<Revocation> = map.next_value_seed(List::new(
                        allowance,
                        "list of revocations",
                        u64::MAX,
                        item_limits::REVOCATIONS,
                    ))?;
                    self.emit(Part::Revocations(revocations))?;
                }
                "commits" => {
                    let most = self.expected.max(1);
                    let commits = map.next_value_seed(CommitList {
                        allowance,
                        most,
                        absent_left: &mut self.absent_left,
                    })?;
                    self.check_commits(&commits)?;
                    self.commits = Some(commits.len());
                    self.emit(Part::Commits(commits))?;
                }
                "ops" => {
                    if self.commits.is_none() {
                        return Err(self.refuse("its changes come before their commits"));
                    }
                    map.next_value_seed(Ops(&mut *self))?;
                }
                _ => {
                    // Ignored without being held: serde skips a string or a list unread.
                    allowance.set("unknown part", u64::MAX);
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            self.seen.push(key);
        }
        Ok(())
    }
}

/// A list of at most `MAX_CERTS` items, each at most `each` bytes and all of them at most
/// `total` bytes.
struct List<'a, T> {
    allowance: &'a Allowance,
    what: &'static str,
    each: u64,
    total: u64,
    item: std::marker::PhantomData<T>,
}

impl<'a, T> List<'a, T> {
    fn new(allowance: &'a Allowance, what: &'static str, each: u64, total: u64) -> List<'a, T> {
        List {
            allowance,
            what,
            each,
            total,
            item: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> serde::de::DeserializeSeed<'de> for List<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for List<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of {}s", self.what)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        let mut total_left = self.total;
        loop {
            self.allowance.set(self.what, self.each.min(total_left));
            let Some(item) = seq.next_element::<T>()? else {
                break;
            };
            total_left = total_left.saturating_sub(self.allowance.used());
            out.push(item);
            if out.len() > MAX_CERTS {
                return Err(self.allowance.refuse(format!(
                    "it holds more than {MAX_CERTS} items in its list of {}s",
                    self.what
                )));
            }
        }
        Ok(out)
    }
}

/// The commits, each read within its allowance, their digests left out straight into
/// their 32 bytes.
struct CommitList<'a, 'b> {
    allowance: &'a Allowance,
    most: u64,
    absent_left: &'b mut u64,
}

impl<'de> serde::de::DeserializeSeed<'de> for CommitList<'_, '_> {
    type Value = Vec<Commit>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Commit>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CommitList<'_, '_> {
    type Value = Vec<Commit>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of commits")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Commit>, A::Error> {
        let mut out = Vec::new();
        loop {
            self.allowance.set("commit", item_limits::COMMIT);
            let Some(c) = seq.next_element_seed(OneCommit {
                allowance: self.allowance,
                absent_left: &mut *self.absent_left,
            })?
            else {
                break;
            };
            out.push(c);
            if out.len() as u64 > self.most {
                return Err(self
                    .allowance
                    .refuse("it holds more commits than changes".into()));
            }
        }
        Ok(out)
    }
}

/// One commit.
struct OneCommit<'a, 'b> {
    allowance: &'a Allowance,
    absent_left: &'b mut u64,
}

impl<'de> serde::de::DeserializeSeed<'de> for OneCommit<'_, '_> {
    type Value = Commit;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Commit, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for OneCommit<'_, '_> {
    type Value = Commit;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a commit")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Commit, A::Error> {
        let malformed = |a: &Allowance| a.refuse::<A::Error>("a commit in it is malformed".into());
        let (mut id, mut cert, mut signature, mut size, mut absent) =
            (None, None, None, None, Vec::new());
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => id = Some(map.next_value::<String>()?),
                "c" => cert = Some(map.next_value::<String>()?),
                "s" => signature = Some(map.next_value::<String>()?),
                "n" => size = Some(map.next_value::<u32>()?),
                "a" => {
                    absent = map.next_value_seed(AbsentList {
                        allowance: self.allowance,
                        absent_left: &mut *self.absent_left,
                    })?
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let (Some(id), Some(cert), Some(signature), Some(size)) = (id, cert, signature, size)
        else {
            return Err(malformed(self.allowance));
        };
        if absent.len() > size as usize || cert.len() > MAX_NAME_BYTES || id.len() > MAX_NAME_BYTES
        {
            return Err(malformed(self.allowance));
        }
        let Some(signature) = hex_array::<64>(&signature) else {
            return Err(malformed(self.allowance));
        };
        Ok(Commit {
            id,
            cert,
            signature,
            size,
            absent,
        })
    }
}

/// A commit's digests of changes left out, each entry within its own allowance and all of
/// them within what the compressed size allows.
struct AbsentList<'a, 'b> {
    allowance: &'a Allowance,
    absent_left: &'b mut u64,
}

impl<'de> serde::de::DeserializeSeed<'de> for AbsentList<'_, '_> {
    type Value = Vec<(u32, [u8; 32])>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AbsentList<'_, '_> {
    type Value = Vec<(u32, [u8; 32])>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of digests")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            self.allowance.grant(item_limits::ABSENT_ENTRY);
            let Some((pos, digest)) = seq.next_element::<(u32, String)>()? else {
                break;
            };
            if *self.absent_left == 0 {
                return Err(self.allowance.refuse(format!(
                    "its commits list more digests of changes left out than its size allows (one per {COMPRESSED_BYTES_PER_ABSENT} compressed bytes): digests do not compress, so it was built to cost its reader memory"
                )));
            }
            *self.absent_left -= 1;
            let Some(digest) = hex_array::<32>(&digest) else {
                return Err(self.allowance.refuse("a commit in it is malformed".into()));
            };
            out.push((pos, digest));
        }
        Ok(out)
    }
}

/// The changes, read one at a time.
struct Ops<'a, 's, 'b>(&'a mut BodyReader<'s, 'b>);

impl<'de> serde::de::DeserializeSeed<'de> for Ops<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Ops<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of changes")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let r = self.0;
        let commits = r.commits.unwrap_or(0);
        loop {
            r.allowance.set("change", item_limits::CHANGE);
            let Some(wire) = seq.next_element::<WireOp>()? else {
                break;
            };
            r.ops += 1;
            if r.ops > r.expected {
                return Err(r.refuse("it does not hold the number of changes its header announces"));
            }
            let (op, commit, pos) = match from_wire(wire) {
                Ok(read) => read,
                Err(e) => {
                    r.stopped = Some(e.into());
                    return Err(serde::de::Error::custom("refused"));
                }
            };
            if commit >= commits {
                return Err(r.refuse("a change in it names a commit it does not carry"));
            }
            r.emit(Part::Op(op, commit, pos))?;
        }
        Ok(())
    }
}

/// What a bundle carries, read whole (the format's tests and the fuzzer; imports stream).
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn decode_body(compressed: &[u8], expected: u64) -> crate::Result<Contents> {
    let mut contents = Contents::default();
    read_body(compressed, expected, &mut |part| {
        match part {
            Part::Name(n) => contents.device_name = n,
            Part::Certs(c) => contents.certs = c,
            Part::Revocations(r) => contents.revocations = r,
            Part::Commits(c) => contents.commits = c,
            Part::Op(op, c, p) => contents.ops.push((op, c, p)),
        }
        Ok(())
    })?;
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::org as keys;
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
