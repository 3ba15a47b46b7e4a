//! Reading a body part by part, each item bounded before it is held, so that a reader
//! never holds a bundle's changes whole.

use std::cell::{Cell, RefCell};
use std::io::{BufReader, Read};

use serde::Deserialize;

#[cfg(any(test, feature = "fuzzing"))]
use super::Contents;
use super::{
    from_wire, hex_array, Commit, WireOp, BYTES_PER_CHANGE, DECOMPRESSION_SLACK, MAX_CERTS,
    MAX_CHANGES, MAX_NAME_BYTES, MAX_VALUE_BYTES,
};
use crate::changes::Op;
use crate::error::SyncError;
use crate::trust::{AuthorCert, Revocation};

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
