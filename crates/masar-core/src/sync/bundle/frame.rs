//! The frame: a compressed body sealed and signed into a bundle file, and a file checked
//! and opened back into its header and body.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use rand::RngCore;

#[cfg(any(test, feature = "forging"))]
use super::{BodyWriter, Contents};
use super::{
    Header, END, FORMAT, MAGIC, MAX_BYTES, MAX_CHAIN, MAX_CHANGES, MAX_HEADER, MAX_NAME_BYTES,
    MAX_ROTATIONS, OLDEST_FORMAT, TRAILER,
};
use crate::error::SyncError;
use crate::identity::org::OrgKeys;
use crate::trust::{AuthorCert, Trust};

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
