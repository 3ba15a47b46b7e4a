//! Bundle keys sealed to each device's key-agreement key (`Keyring`).

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::{id_of, sha256, with_issuer, Issued, Issuer, Trust};

/// A device's key-agreement secret, derived from its signing key: a separate key, so that
/// signing and encryption never share one, without a second secret to keep.
pub fn agreement_secret(device: &SigningKey) -> zeroize::Zeroizing<[u8; 32]> {
    zeroize::Zeroizing::new(sha256(&[b"masar-kx/2", &device.to_bytes()]))
}

/// The public half of [`agreement_secret`], hex: what a device certificate carries.
pub fn agreement_public(device: &SigningKey) -> String {
    hex::encode(
        curve25519_dalek::MontgomeryPoint::mul_base_clamped(*agreement_secret(device)).to_bytes(),
    )
}

/// A bundle key sealed to one device's agreement key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The device it is for.
    pub device: String,
    /// The sender's one-time public key, hex.
    pub ephemeral: String,
    /// Nonce and ciphertext of the bundle key, hex.
    pub sealed: String,
}

/// The root's announcement of a new bundle key (an *epoch*), sealed to every device that
/// may read bundles from now on; a revoked device is left out, so what a stolen laptop
/// holds cannot read bundles written afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    /// The organisation.
    pub org: String,
    /// The key's number; bundles name the epoch they were sealed with.
    pub epoch: u32,
    /// The key, sealed to each device.
    pub envelopes: Vec<Envelope>,
    /// When, by the rotating laptop's clock (information only).
    pub issued: String,
    /// The administrator's certificate whose key signed it; none when the root did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The issuer's signature, hex.
    pub signature: String,
}

fn envelope_key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
    org: &str,
    epoch: u32,
    device: &str,
) -> [u8; 32] {
    sha256(&[
        b"masar-keyring/2",
        shared,
        ephemeral,
        recipient,
        org.as_bytes(),
        &epoch.to_le_bytes(),
        device.as_bytes(),
    ])
}

impl Keyring {
    fn message(&self) -> Vec<u8> {
        let m = serde_json::to_vec(&(
            "masar-keyring/2",
            &self.org,
            self.epoch,
            &self.envelopes,
            &self.issued,
        ))
        .unwrap_or_default();
        with_issuer(m, self.by.as_deref())
    }

    /// Its id, derived from what its issuer signed.
    pub fn id(&self) -> String {
        id_of(&self.message())
    }

    /// Seals `key` to each `(device, agreement public key hex)` and signs the whole.
    pub fn issue(
        issuer: &Issuer,
        org: &str,
        epoch: u32,
        key: &[u8; 32],
        devices: &[(String, String)],
        issued: &str,
    ) -> Keyring {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use rand::RngCore;
        let mut envelopes = Vec::new();
        for (device, public_hex) in devices {
            let Some(recipient) = hex::decode(public_hex)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
            else {
                continue;
            };
            let mut eph = zeroize::Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(&mut *eph);
            let ephemeral = curve25519_dalek::MontgomeryPoint::mul_base_clamped(*eph).to_bytes();
            let shared = zeroize::Zeroizing::new(
                curve25519_dalek::MontgomeryPoint(recipient)
                    .mul_clamped(*eph)
                    .to_bytes(),
            );
            let k = zeroize::Zeroizing::new(envelope_key(
                &shared, &ephemeral, &recipient, org, epoch, device,
            ));
            let mut nonce = [0u8; 24];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let aead = chacha20poly1305::XChaCha20Poly1305::new((&*k).into());
            let Ok(sealed) = aead.encrypt(
                chacha20poly1305::XNonce::from_slice(&nonce),
                Payload {
                    msg: key,
                    aad: device.as_bytes(),
                },
            ) else {
                continue;
            };
            envelopes.push(Envelope {
                device: device.clone(),
                ephemeral: hex::encode(ephemeral),
                sealed: hex::encode([&nonce[..], &sealed].concat()),
            });
        }
        let mut ring = Keyring {
            org: org.into(),
            epoch,
            envelopes,
            issued: issued.into(),
            by: issuer.by.clone(),
            signature: String::new(),
        };
        ring.signature = issuer.sign(&ring.message());
        ring
    }

    /// Whether this organisation's root or an administrator signed it, and its issuer was
    /// not retired without keeping it: a retired key cannot make laptops seal bundles to a
    /// key of its choosing.
    pub fn verify(&self, trust: &Trust) -> bool {
        let message = self.message();
        self.org == trust.org
            && trust.check_issued(
                self.by.as_deref(),
                &id_of(&message),
                &message,
                &self.signature,
                Issued::Keyring,
            ) == Ok(false)
    }

    /// The bundle key, if this keyring carries it for `device` (whose signing key is given).
    pub fn open_for(
        &self,
        device: &str,
        device_key: &SigningKey,
    ) -> Option<zeroize::Zeroizing<[u8; 32]>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let env = self.envelopes.iter().find(|e| e.device == device)?;
        let ephemeral: [u8; 32] = hex::decode(&env.ephemeral).ok()?.try_into().ok()?;
        let sealed = hex::decode(&env.sealed).ok()?;
        if sealed.len() < 24 {
            return None;
        }
        let secret = agreement_secret(device_key);
        let recipient = curve25519_dalek::MontgomeryPoint::mul_base_clamped(*secret).to_bytes();
        let shared = zeroize::Zeroizing::new(
            curve25519_dalek::MontgomeryPoint(ephemeral)
                .mul_clamped(*secret)
                .to_bytes(),
        );
        let k = zeroize::Zeroizing::new(envelope_key(
            &shared, &ephemeral, &recipient, &self.org, self.epoch, device,
        ));
        let aead = chacha20poly1305::XChaCha20Poly1305::new((&*k).into());
        let plain = zeroize::Zeroizing::new(
            aead.decrypt(
                chacha20poly1305::XNonce::from_slice(&sealed[..24]),
                Payload {
                    msg: &sealed[24..],
                    aad: device.as_bytes(),
                },
            )
            .ok()?,
        );
        let key: [u8; 32] = plain.as_slice().try_into().ok()?;
        Some(zeroize::Zeroizing::new(key))
    }
}
