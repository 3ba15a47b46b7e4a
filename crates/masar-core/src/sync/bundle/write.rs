//! Writing a body: change by change into the compressor, after the commits.

use std::io::Write;

use super::{to_wire, Commit, WireCommit};
use crate::changes::Op;
use crate::error::SyncError;
use crate::trust::{AuthorCert, Revocation};

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
