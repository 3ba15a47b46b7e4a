//! Who may sign what. The organisation's root key certifies each user's signing key on one
//! device, with their role ([`AuthorCert`]); every write on a laptop is a *commit* whose
//! changes' digests its author signs; the root revokes certificates, users and devices
//! ([`Revocation`]). Any laptop can then check, from the changes alone, who made each one,
//! on which device, and whether their role allowed it.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

mod cert;
mod chain;
mod commit;
mod keyring;
mod revocation;
mod rotation;

pub use cert::{AuthorCert, Issued, Issuer};
pub use chain::{DeviceVoid, Trust};
#[cfg(test)]
pub use commit::commit_id;
pub use commit::{
    change_digest, commit_id_of_message, commit_message, value_commitment, verify_commits, Signer,
};
#[cfg(any(test, feature = "forging"))]
pub use keyring::Envelope;
pub use keyring::{agreement_public, Keyring};
pub use revocation::{Revocation, Revoked};
pub use rotation::RootRotation;

/// The device an archive certificate names: it attests changes made before changes were
/// signed, on any device, and is issued only by the root while upgrading such a database.
pub const ARCHIVE_DEVICE: &str = "*";

/// The name an enrolment key's certificate gives as its user.
pub const ENROLMENT_USER: &str = "enrolment";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn id_of(message: &[u8]) -> String {
    hex::encode(&Sha256::digest(message)[..16])
}

fn verifying_key(hex_text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(hex_text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn signature(hex_text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(hex_text).ok()?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

/// Appends the issuing certificate to a signed message, when an administrator signed it:
/// a message the root signs is unchanged, so what was signed before stays valid.
pub(crate) fn with_issuer(mut message: Vec<u8>, by: Option<&str>) -> Vec<u8> {
    if let Some(by) = by {
        message.extend_from_slice(b"/by/");
        message.extend_from_slice(by.as_bytes());
    }
    message
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::auth::Role;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn root(n: u8) -> Issuer {
        Issuer::root(key(n))
    }

    fn trust(n: u8) -> Trust {
        Trust::new("org", key(n).verifying_key())
    }

    #[test]
    fn a_certificate_checks_only_under_its_root_and_unchanged() {
        let user = key(2);
        let cert = AuthorCert::issue(
            &root(1),
            "org",
            "u1",
            "amina",
            Role::Counsellor,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert_eq!(cert.verify(&trust(1)).map(|(_, r)| r), Ok(Role::Counsellor));
        assert!(cert.verify(&trust(3)).is_err(), "another root");
        assert!(
            cert.verify(&Trust::new("other", key(1).verifying_key()))
                .is_err(),
            "another organisation"
        );
        let mut promoted = cert.clone();
        promoted.role = "admin".into();
        assert!(promoted.verify(&trust(1)).is_err(), "a role edited in");
        // Minted by a user's own key instead of the root.
        let minted = AuthorCert::issue(
            &Issuer::root(user.clone()),
            "org",
            "u1",
            "amina",
            Role::Admin,
            "dev",
            &user.verifying_key(),
            "t",
        );
        assert!(minted.verify(&trust(1)).is_err());
    }

    fn cert(by: &Issuer, user: &str, role: Role, device: &str, k: u8) -> AuthorCert {
        AuthorCert::issue(
            by,
            "org",
            user,
            user,
            role,
            device,
            &key(k).verifying_key(),
            "t",
        )
    }

    #[test]
    fn an_administrators_certificate_issues_and_no_other_does() {
        let mut t = trust(1);
        let admin = cert(&root(1), "a", Role::Admin, "d1", 10);
        let counsellor = cert(&root(1), "c", Role::Counsellor, "d1", 11);
        t.add_issuer(&admin);
        t.add_issuer(&counsellor);
        let by_admin = cert(
            &Issuer::under(key(10), &admin),
            "u",
            Role::Counsellor,
            "d2",
            12,
        );
        assert_eq!(by_admin.verify(&t).map(|(_, r)| r), Ok(Role::Counsellor));
        // A counsellor's certificate is not an issuer, whatever it signs.
        let by_counsellor = cert(
            &Issuer::under(key(11), &counsellor),
            "u",
            Role::Admin,
            "d2",
            13,
        );
        assert!(by_counsellor.verify(&t).is_err());
        // The administrator's certificate named, but another key signed.
        let stolen_name = cert(&Issuer::under(key(14), &admin), "u", Role::Admin, "d2", 13);
        assert!(stolen_name.verify(&t).is_err());
        // An administrator cannot certify the archive: only the root does.
        let archive = cert(
            &Issuer::under(key(10), &admin),
            "x",
            Role::Admin,
            ARCHIVE_DEVICE,
            15,
        );
        assert!(archive.verify(&t).is_err());
        // An issuer this laptop does not know.
        assert!(by_admin.verify(&trust(1)).is_err());
    }

    #[test]
    fn an_enrolment_key_certifies_its_laptops_first_administrator_and_nothing_else() {
        let mut t = trust(1);
        let once = AuthorCert::enrolment(&root(1), "org", "d9", &key(20).verifying_key(), "t");
        t.add_issuer(&once);
        let issuer = Issuer::under(key(20), &once);
        let first = cert(&issuer, "a", Role::Admin, "d9", 21).at_join(&issuer);
        assert_eq!(first.verify(&t).map(|(_, r)| r), Ok(Role::Admin));
        for (what, c) in [
            ("not the joining", cert(&issuer, "a", Role::Admin, "d9", 21)),
            (
                "another laptop",
                cert(&issuer, "a", Role::Admin, "d8", 21).at_join(&issuer),
            ),
            (
                "a counsellor",
                cert(&issuer, "a", Role::Counsellor, "d9", 21).at_join(&issuer),
            ),
        ] {
            assert!(c.verify(&t).is_err(), "{what}");
        }
        let r = Revocation::issue(&issuer, "org", Revoked::Device, "d1", 0, vec![], "t");
        assert!(!r.verify(&t), "an enrolment key revokes nothing");
        // The joined administrator issues in turn.
        t.add_issuer(&first);
        let second = cert(
            &Issuer::under(key(21), &first),
            "u",
            Role::Counsellor,
            "d9",
            22,
        );
        assert!(second.verify(&t).is_ok());
    }

    #[test]
    fn what_a_revoked_administrator_issued_and_no_one_kept_is_void_down_the_chain() {
        let mut t = trust(1);
        let admin = cert(&root(1), "a", Role::Admin, "d1", 10);
        t.add_issuer(&admin);
        let under = Issuer::under(key(10), &admin);
        let before = cert(&under, "u1", Role::Counsellor, "d2", 11);
        let after = cert(&under, "u2", Role::Admin, "d2", 12);
        t.add_issuer(&after);
        let grandchild = cert(
            &Issuer::under(key(12), &after),
            "u3",
            Role::Counsellor,
            "d3",
            13,
        );
        let ring_after = Keyring::issue(&under, "org", 5, &[1; 32], &[], "t");
        assert!(!before.is_void(&t) && !after.is_void(&t) && ring_after.verify(&t));
        let revoked = Revocation::issue(
            &root(1),
            "org",
            Revoked::User,
            "a",
            0,
            vec![before.id.clone()],
            "t",
        );
        assert!(revoked.verify(&t));
        t.add_revocations([revoked]);
        assert!(!before.is_void(&t), "kept");
        assert!(after.is_void(&t), "not kept");
        assert!(grandchild.is_void(&t), "rests on one not kept");
        assert!(!ring_after.verify(&t), "a keyring not kept");
        let implied = t.voided(&[before.clone(), after.clone(), grandchild.clone()], &[]);
        let subjects: Vec<&str> = implied.iter().map(|r| r.subject.as_str()).collect();
        assert_eq!(subjects, [after.id.as_str(), grandchild.id.as_str()]);
        assert!(implied
            .iter()
            .all(|r| r.kind == Revoked::Cert && r.kept.is_empty()));
    }

    #[test]
    fn a_rotated_root_keeps_what_it_listed_and_every_laptop_follows_one_chain() {
        let mut t = trust(1);
        let kept = cert(&root(1), "u1", Role::Counsellor, "d1", 10);
        let later = cert(&root(1), "u2", Role::Admin, "d1", 11);
        let rotation = RootRotation::issue(&key(1), &key(2), "org", vec![kept.id.clone()], "t");
        // A rival rotation of the same root, and one signed by one root only.
        let rival = RootRotation::issue(&key(1), &key(3), "org", vec![], "t");
        let mut forged = RootRotation::issue(&key(1), &key(4), "org", vec![], "t");
        forged.new_signature = rival.new_signature.clone();
        assert!(!forged.verify("org"));
        let pooled = t.add_rotations(&[rival.clone(), forged, rotation.clone()]);
        assert_eq!(
            pooled.len(),
            2,
            "both genuine rotations are kept to pass on"
        );
        assert_eq!(t.rotations().len(), 1, "one continues the chain");
        let smaller = [key(2), key(3)]
            .into_iter()
            .map(|k| k.verifying_key())
            .min_by_key(|k| hex::encode(k.as_bytes()))
            .expect("two");
        assert_eq!(t.root(), &smaller);
        for order in [[&rotation, &rival], [&rival, &rotation]] {
            let mut other = trust(1);
            other.add_rotations(&[order[0].clone()]);
            other.add_rotations(&[order[1].clone()]);
            assert_eq!(other.root(), t.root(), "the same chain, in any order");
        }
        let mut t = trust(1);
        t.add_rotations(&[rotation]);
        assert!(!kept.is_void(&t));
        assert!(later.is_void(&t), "the old root's, not kept");
        let new = cert(&root(2), "u3", Role::Counsellor, "d1", 12);
        assert!(new.verify(&t).is_ok() && !new.is_void(&t));
        assert!(cert(&root(9), "u4", Role::Admin, "d1", 13)
            .verify(&t)
            .is_err());
    }

    #[test]
    fn commits_verify_in_a_batch_and_one_bad_signature_fails_it() {
        let k = key(2);
        let cert = AuthorCert::issue(
            &root(1),
            "org",
            "u",
            "n",
            Role::Admin,
            "d",
            &k.verifying_key(),
            "t",
        );
        let signer = Signer::new(cert.clone(), k.clone()).expect("pair");
        let digests = [[7u8; 32], [8u8; 32]];
        let (id, sig) = signer.sign_commit(&digests);
        assert_eq!(id, commit_id("org", &cert.id, &digests));
        let good = (
            commit_message("org", &cert.id, &digests),
            sig,
            k.verifying_key(),
        );
        assert!(verify_commits(&[good.clone(), good.clone()]));
        let bad = (
            commit_message("org", &cert.id, &[[9u8; 32]]),
            sig,
            k.verifying_key(),
        );
        assert!(!verify_commits(&[good, bad]));
        assert!(
            Signer::new(cert, key(5)).is_none(),
            "a key the certificate does not name"
        );
    }
}

#[cfg(test)]
mod keyring_tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    #[test]
    fn a_keyring_opens_for_the_devices_it_names_and_for_no_other() {
        let root = SigningKey::from_bytes(&[1; 32]);
        let (a, b, c) = (
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[3; 32]),
            SigningKey::from_bytes(&[4; 32]),
        );
        let key = [9u8; 32];
        let ring = Keyring::issue(
            &Issuer::root(root.clone()),
            "org",
            1,
            &key,
            &[
                ("a".into(), agreement_public(&a)),
                ("b".into(), agreement_public(&b)),
            ],
            "t",
        );
        assert!(ring.verify(&Trust::new("org", root.verifying_key())));
        assert_eq!(ring.open_for("a", &a).as_deref(), Some(&key));
        assert_eq!(ring.open_for("b", &b).as_deref(), Some(&key));
        assert!(ring.open_for("c", &c).is_none(), "a device left out");
        assert!(ring.open_for("a", &c).is_none(), "another device's key");
        let mut forged = ring.clone();
        forged.epoch = 2;
        assert!(!forged.verify(&Trust::new("org", root.verifying_key())));
    }
}
