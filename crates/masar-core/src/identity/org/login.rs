//! The custody of keys at log-in: the user's certified signing key, the root key under
//! administrators' passwords, and the archive signature of changes made before signing.

use ed25519_dalek::SigningKey;
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::certs::current_cert;
use super::{get, key32, put, random32};
use crate::auth::Role;
use crate::trust::{AuthorCert, Issuer, Signer};
use crate::Result;

/// Who is logging in, with what opens their key-file entry.
#[derive(Clone, Copy)]
pub(crate) struct Login<'a> {
    /// The key file beside the database.
    pub key_file: &'a std::path::Path,
    /// The user.
    pub user: &'a crate::auth::User,
    /// Their password.
    pub password: &'a str,
    /// The database key.
    pub db_key: &'a crate::keys::DbKey,
    /// The enrolment file's key, when this is the first administrator of a laptop joining
    /// with one: it certifies them.
    pub enrolment: Option<&'a Issuer>,
}

/// What a log-in holds beyond the database key: the user's certified signing key and,
/// for an administrator, the organisation's root key.
pub(crate) struct Custody {
    /// Signs the user's changes; `None` when no key could be certified for them here.
    pub signer: Option<Signer>,
    /// The root key, for administrators.
    pub root: Option<SigningKey>,
}

/// Gives the user logging in their signing key, certifying a new one when they have none
/// on this laptop and a root key is at hand (a new database, or one made before changes
/// were signed), and moves a root key found in the database (made before custody) under
/// an administrator's password. `fresh_root` is a root just made or received.
pub(crate) fn at_login(
    conn: &Connection,
    login: &Login<'_>,
    secrets: crate::keys::Secrets,
    fresh_root: Option<SigningKey>,
    now: &str,
) -> Result<Custody> {
    let Login {
        key_file,
        user,
        password,
        db_key,
        ..
    } = *login;
    // Certificates, the archive's signatures and the custody of the root change together.
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let admin = user.role == Role::Admin;
    let clear_root = get(conn, "org_root_secret")?
        .and_then(|h| key32(&h))
        .map(|k| SigningKey::from_bytes(&k));
    let had_root = secrets.root.is_some();
    let root = secrets
        .root
        .as_ref()
        .map(|k| SigningKey::from_bytes(k))
        .or(fresh_root)
        .or(clear_root.clone());
    let org = get(conn, "org_id")?.unwrap_or_default();
    let device = get(conn, "device_id")?.unwrap_or_default();
    let mut signing = secrets.signing.as_ref().map(|k| SigningKey::from_bytes(k));
    let mut signer = None;
    if let Some(key) = &signing {
        let public = hex::encode(key.verifying_key().as_bytes());
        // The newest certificate of this key not revoked: a role changed elsewhere arrives
        // as a new certificate of the same key.
        signer = current_cert(conn, &user.id, &device, &public)?
            .and_then(|c| Signer::new(c, key.clone()));
    }
    let mut rewrap = admin && !had_root && root.is_some();
    let issuer = root.clone().map(Issuer::root);
    if signer.is_none() {
        if let Some(issuer) = login.enrolment.or(issuer.as_ref()) {
            let key = SigningKey::from_bytes(&random32());
            let mut cert = AuthorCert::issue(
                issuer,
                &org,
                &user.id,
                &user.name,
                user.role,
                &device,
                &key.verifying_key(),
                now,
            );
            if login.enrolment.is_some() {
                cert = cert.at_join(issuer);
            }
            crate::changes::keep_cert(conn, &cert)?;
            signer = Signer::new(cert, key.clone());
            signing = Some(key);
            rewrap = true;
        }
    }
    if rewrap {
        let mut file = crate::keys::KeyFile::load(key_file)?;
        let kept = crate::keys::Secrets {
            signing: signing.as_ref().map(|k| Zeroizing::new(k.to_bytes())),
            root: if admin {
                root.as_ref().map(|k| Zeroizing::new(k.to_bytes()))
            } else {
                None
            },
        };
        file.add_user(&user.name, password, db_key, &kept)?;
        file.save(key_file)?;
    }
    if let Some(root) = &root {
        sign_archive(conn, root, &org, now)?;
        // A database made before custody keeps its root key in the database until every
        // active user of this laptop holds a certified key (each gets one at their first
        // log-in) and an administrator holds the root under their password; from then on
        // only administrators' passwords open it.
        // Only a database made before custody, or a root just made or received, pays for
        // this check: an ordinary log-in skips it.
        if clear_root.is_some() || !had_root {
            let uncertified = conn
                .prepare_cached(
                    "SELECT 1 FROM users u WHERE u.active = 1
                       AND NOT EXISTS (SELECT 1 FROM certs c WHERE c.user = u.id AND c.device = ?1) LIMIT 1",
                )?
                .exists([&device])?;
            if clear_root.is_some() {
                if !uncertified && crate::keys::KeyFile::load(key_file)?.holds_root() {
                    conn.execute("DELETE FROM meta WHERE key = 'org_root_secret'", [])?;
                }
            } else if uncertified || !admin {
                put(conn, "org_root_secret", &hex::encode(root.to_bytes()))?;
            }
        }
    }
    tx.commit()?;
    Ok(Custody {
        signer,
        root: if admin { root } else { None },
    })
}

/// Signs, under an archive certificate, the changes made before changes were signed, so
/// that other laptops can check them like any other.
fn sign_archive(conn: &Connection, root: &SigningKey, org: &str, now: &str) -> Result<()> {
    let unsigned = conn
        .prepare_cached("SELECT 1 FROM changes WHERE commit_id IS NULL LIMIT 1")?
        .exists([])?;
    if !unsigned {
        return Ok(());
    }
    let key = SigningKey::from_bytes(&random32());
    let cert = AuthorCert::issue(
        &Issuer::root(root.clone()),
        org,
        "archive",
        "before signatures",
        Role::Admin,
        crate::trust::ARCHIVE_DEVICE,
        &key.verifying_key(),
        now,
    );
    crate::changes::keep_cert(conn, &cert)?;
    let Some(signer) = Signer::new(cert, key) else {
        return Ok(());
    };
    let ops = crate::changes::load_ops(conn, "c.commit_id IS NULL", &[])?;
    for chunk in ops.chunks(10_000) {
        let mut digests = Vec::with_capacity(chunk.len());
        for (_, op) in chunk {
            let mut op = op.clone();
            if op.value.is_none() && op.value_commit.is_none() {
                op.value_commit = Some(crate::trust::value_commitment(None, &op.field, ""));
            }
            digests.push(op.digest().unwrap_or_default());
        }
        let (id, signature) = signer.sign_commit(&digests);
        conn.prepare_cached(
            "INSERT INTO commits(id, cert, size, signature) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(rusqlite::params![
            id,
            signer.cert.id,
            digests.len() as i64,
            signature.to_vec()
        ])?;
        let n = conn.last_insert_rowid();
        for (pos, (seq, op)) in chunk.iter().enumerate() {
            let kept = if op.value.is_none() {
                Some(crate::trust::value_commitment(None, &op.field, "").to_vec())
            } else {
                None
            };
            // Their authors stay as logged (by_cert stays 0): the archive certificate names none of them.
            conn.prepare_cached("UPDATE change_log SET commit_n = ?2, commit_pos = ?3, value_commit = coalesce(value_commit, ?4) WHERE seq = ?1")?
                .execute(rusqlite::params![seq, n, pos as i64, kept])?;
        }
    }
    Ok(())
}
