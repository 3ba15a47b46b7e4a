//! The op log: how a change, local or imported, enters the log and settles the record.
//!
//! A change names its parents, the changes it overwrote. A field's *heads* are its
//! changes that no other change names as parent: one head is the field's value; several
//! heads are a conflict, whose winner is the head of highest [`rank`] and whose losers stay
//! reviewable. Because heads depend only on the set of changes, every database holding the
//! same changes shows the same values and the same conflicts, whatever the order they came
//! in. A record is shown once a change that creates it has arrived and the records it
//! links to are shown; until then it is *pending*, kept and retried.

use crate::clock::Hlc;

mod erase;
mod heads;
mod insert;
mod purge;
mod read;
mod settle;

pub(crate) use erase::apply_erasure;
pub(crate) use heads::{current_stamps, head_stamps, heads, winner_authors, Author, Head};
pub(crate) use insert::{insert, Numbers};
pub(crate) use purge::purge;
pub(crate) use read::{each_op, latest, load_ops, Written};
pub(crate) use settle::{
    holds_erasure, settle, settle_arrived, settle_since, Bulk, Conflicted, Touched,
};

/// How far ahead of the newest stamp its device had seen from others a change's stamp is
/// believed: past this, it ranks as that newest stamp (the last time its laptop was in
/// touch), so a laptop whose clock runs fast wins no concurrent edit by its clock.
pub const RANK_BOUND_MILLIS: i64 = 30 * 24 * 3600 * 1000;

/// One field change as the log holds it and bundles carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Hybrid logical clock stamp; with `device`, the change's identity everywhere.
    pub hlc: Hlc,
    /// The device that made the change.
    pub device: String,
    /// Entity name (`person`, `project`, …).
    pub entity: String,
    /// The record's id.
    pub record: String,
    /// The field written.
    pub field: String,
    /// The new value as JSON; `None` when blanked by erasure.
    pub value: Option<String>,
    /// Whether this change created its record.
    pub creates: bool,
    /// The changes this one overwrote.
    pub parents: Vec<(Hlc, String)>,
    /// Who made it, by id on their laptop.
    pub user_id: Option<String>,
    /// Who made it, by name.
    pub user_name: Option<String>,
    /// The writing device's wall-clock time (RFC 3339).
    pub at: String,
    /// The newest stamp (milliseconds) its device had seen from other devices; 0 if none.
    pub frontier: i64,
    /// Whether it resolves a conflict (it overwrites every head of its field).
    pub resolves: bool,
    /// The random salt of a personal value's commitment; gone with the value on erasure.
    pub salt: Option<Vec<u8>>,
    /// The commitment to a value erased since (the value itself is gone).
    pub value_commit: Option<[u8; 32]>,
    /// The signed commit it belongs to, and its place in it.
    pub commit: Option<(String, u32)>,
}

impl Op {
    /// The commitment to its value: from the value and salt, or the one kept after erasure.
    pub fn commitment(&self) -> Option<[u8; 32]> {
        match &self.value {
            Some(v) => Some(crate::trust::value_commitment(
                self.salt.as_deref(),
                &self.field,
                v,
            )),
            None => self.value_commit,
        }
    }

    /// The hash of everything its author signed about it: its identity, what it writes,
    /// what it overwrites, who and when. `None` for a blanked change without its
    /// commitment (made before changes were signed).
    pub fn digest(&self) -> Option<[u8; 32]> {
        let value = self.commitment()?;
        // Parents are a set: the order a laptop happens to list them in is not signed.
        let mut sorted: Vec<&(Hlc, String)> = self.parents.iter().collect();
        sorted.sort();
        let mut parents = Vec::with_capacity(self.parents.len() * 24);
        for (h, d) in sorted {
            parents.extend_from_slice(&h.0.to_le_bytes());
            parents.extend_from_slice(&(d.len() as u32).to_le_bytes());
            parents.extend_from_slice(d.as_bytes());
        }
        let opt = |o: &Option<String>| -> Vec<u8> {
            match o {
                Some(s) => [b"1", s.as_bytes()].concat(),
                None => b"0".to_vec(),
            }
        };
        let (uid, uname) = (opt(&self.user_id), opt(&self.user_name));
        Some(crate::trust::change_digest(&[
            b"masar-change/2",
            &self.hlc.0.to_le_bytes(),
            self.device.as_bytes(),
            self.entity.as_bytes(),
            self.record.as_bytes(),
            self.field.as_bytes(),
            &[u8::from(self.creates), u8::from(self.resolves)],
            &parents,
            &uid,
            &uname,
            self.at.as_bytes(),
            &self.frontier.to_le_bytes(),
            &value,
        ]))
    }

    /// How a refusal names it.
    pub fn describe(&self) -> String {
        format!(
            "the change of {} {} field {} stamped {} on device {}",
            self.entity, self.record, self.field, self.hlc.0, self.device
        )
    }
}

/// The rank of a head among concurrent heads: its stamp, or its frontier when the stamp
/// is more than [`RANK_BOUND_MILLIS`] past it (a time its laptop's own contacts cannot
/// vouch for); then the device id, then the full stamp, then the author's id (two
/// authors under one stamp of one device: only a forgery). Only data the change carries
/// decides, so every laptop ranks alike.
pub fn rank(hlc: Hlc, device: &str, frontier: i64, author: &str) -> Rank {
    let ms = if frontier > 0 && hlc.millis() > frontier.saturating_add(RANK_BOUND_MILLIS) {
        frontier
    } else {
        hlc.millis()
    };
    (ms, device.to_string(), hlc.0, author.to_string())
}

/// How heads are ordered: see [`rank`].
pub type Rank = (i64, String, i64, String);

/// Where a change is filed in this laptop's log: its device's, record's and commit's local
/// numbers, and whether its author is the one its commit's certificate names (then the
/// author is not stored again with the change).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filed {
    pub device: i64,
    pub record: i64,
    /// No change in the log can name this one as parent ([`Numbers::record`]).
    pub childless: bool,
    pub commit: Option<i64>,
    pub by_cert: bool,
    /// The author's number (`author_numbers`; 0 for a change naming none): with the device
    /// and the stamp, the change's identity.
    pub author: i64,
}
