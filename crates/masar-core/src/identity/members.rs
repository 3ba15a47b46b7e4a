//! Users as organisation-wide identities: a user made on one laptop is admitted on
//! another, and a change of role is a new certificate that travels like any other.
//!
//! A user's id and role are those of their certificates; an account (name, password) is
//! local to each laptop. Admitting a user on a laptop certifies a new key of theirs for
//! that laptop with their current role. Changing a role certifies each of their keys
//! again with the new role; a lower role also revokes the old certificates, so what a
//! demoted user signs with them afterwards is refused everywhere.

use zeroize::Zeroizing;

use super::org as keys;
use super::revoke;
use crate::auth::{check_password, Permission, Role};
use crate::changes::Db;
use crate::error::{AuthError, InputError, Problem};
use crate::keys::{KeyFile, Secrets};
use crate::schema::{Entity, Value};
use crate::trust::{AuthorCert, Revocation, Revoked};
use crate::Result;

impl Db {
    /// What certifies and revokes for the logged-in administrator, so that `action` can
    /// be done: the root key when they hold it, else their own key under their
    /// administrator's certificate (a joined laptop's administrator holds no root).
    pub(crate) fn issuer(&self, action: &str) -> crate::Result<crate::trust::Issuer> {
        if let Some(root) = self.root_key() {
            // A root replaced since (by another founder) would sign only void things.
            if keys::trust(self.conn())?.root() == &root.verifying_key() {
                return Ok(crate::trust::Issuer::root(root.clone()));
            }
        }
        match self.own_signer() {
            Some(s) if s.cert.role == crate::auth::Role::Admin.as_str() && !s.cert.is_enrolment() => {
                Ok(s.issuer())
            }
            _ => Err(crate::error::SyncError::Keys(format!(
                "your account holds no administrator's certificate on this laptop: {action} from an administrator's account"
            ))
            .into()),
        }
    }

    /// The user a name on this laptop or an id names.
    pub(super) fn user_id_of(&self, who: &str) -> Result<String> {
        let who = who.trim();
        let mut ids: std::collections::BTreeSet<String> = self
            .conn()
            .prepare("SELECT id FROM users WHERE name = ?1 OR id = ?1 UNION SELECT DISTINCT user FROM certs WHERE user = ?1")?
            .query_map([who], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // A user of another laptop, by the name their certificates carry.
        if ids.is_empty() {
            ids.extend(
                keys::all_certs(self.conn())?
                    .into_iter()
                    .filter(|c| c.name == who && !c.is_archive() && !c.is_enrolment())
                    .map(|c| c.user),
            );
        }
        let ids: Vec<String> = ids.into_iter().collect();
        match ids.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(InputError::NotFound {
                what: "user",
                id: who.to_string(),
            }
            .into()),
            _ => Err(InputError::invalid("user", who, Problem::NotOneOf(ids.clone())).into()),
        }
    }

    /// The certificates of `user` no revocation withdrew, newest first.
    fn valid_certs(&self, user: &str) -> Result<Vec<AuthorCert>> {
        let mut certs: Vec<AuthorCert> = keys::all_certs(self.conn())?
            .into_iter()
            .filter(|c| c.user == user && !c.is_archive() && !c.is_enrolment())
            .collect();
        let revoked: Vec<Revocation> = keys::all_revocations(self.conn())?;
        if revoked
            .iter()
            .any(|r| r.kind == Revoked::User && r.subject == user)
        {
            return Err(AuthError::Revoked(format!("the user {user}")).into());
        }
        certs.retain(|c| {
            !revoked.iter().any(|r| {
                (r.kind == Revoked::Cert && r.subject == c.id)
                    || (r.kind == Revoked::Device && r.subject == c.device)
            })
        });
        certs.sort_by(|a, b| (&b.issued, &b.id).cmp(&(&a.issued, &a.id)));
        Ok(certs)
    }

    /// Gives a user of the organisation (made on another laptop, known here from its
    /// bundles) an account on this laptop with their own password (admin).
    pub(crate) fn admit_user(&mut self, user: &str, password: &str) -> Result<String> {
        self.require(Permission::ManageUsers)?;
        let root = self.issuer("admit users")?;
        let id = user.trim().to_string();
        let newest =
            self.valid_certs(&id)?
                .into_iter()
                .next()
                .ok_or_else(|| InputError::NotFound {
                    what: "user of the organisation",
                    id: id.clone(),
                })?;
        let role = Role::parse(&newest.role).ok_or_else(|| InputError::NotFound {
            what: "user of the organisation",
            id: id.clone(),
        })?;
        let name = newest.name.clone();
        check_password(password, &name)?;
        if self
            .conn()
            .prepare("SELECT 1 FROM users WHERE name = ?1 OR id = ?2")?
            .exists([&name, &id])?
        {
            return Err(AuthError::UserExists(name).into());
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(&keys::random32());
        let cert = AuthorCert::issue(
            &root,
            &newest.org,
            &id,
            &name,
            role,
            self.device_id(),
            &signing.verifying_key(),
            &self.clock().now().to_rfc3339(),
        );
        // The root stays with the founders: an administrator admitted here issues under
        // their own certificate.
        let secrets = Secrets {
            signing: Some(Zeroizing::new(signing.to_bytes())),
            root: None,
        };
        let path = self.key_file_path();
        let mut file = KeyFile::load(&path)?;
        file.add_user(&name, password, self.db_key(), &secrets)?;
        self.write(|w| {
            w.add_user_row(&id, &name, role)?;
            w.keep_cert(&cert)?;
            file.save(&path)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Changes a user's role everywhere (admin): each of their keys is certified again
    /// with the new role; a lower role revokes the old certificates.
    pub(crate) fn change_role(&mut self, who: &str, role: Role) -> Result<String> {
        self.require(Permission::ManageUsers)?;
        let root = self.issuer("change roles")?;
        let id = self.user_id_of(who)?;
        if id == self.user().id {
            return Err(InputError::rule(
                "own_role",
                "you cannot change your own role: ask another administrator",
                &[],
            )
            .into());
        }
        let certs = self.valid_certs(&id)?;
        let newest = certs.first().ok_or_else(|| InputError::NotFound {
            what: "user of the organisation",
            id: id.clone(),
        })?;
        let lower = Role::parse(&newest.role).is_some_and(|old| role < old);
        let now = self.clock().now().to_rfc3339();
        // One new certificate per key (per device), the newest of each key.
        let mut keys_seen = std::collections::BTreeSet::new();
        let mut renewed = Vec::new();
        let mut revocations = Vec::new();
        for cert in &certs {
            if !keys_seen.insert(cert.public_key.clone()) {
                continue;
            }
            if let Some(new) = cert.with_role(&root, role, &now) {
                renewed.push(new);
            }
            if lower {
                let (kept, after) = revoke::held_commits(self.conn(), Revoked::Cert, &cert.id)?;
                revocations.push(Revocation::issue(
                    &root,
                    &cert.org,
                    Revoked::Cert,
                    &cert.id,
                    after,
                    kept,
                    &now,
                ));
            }
        }
        let local = self
            .conn()
            .prepare("SELECT 1 FROM users WHERE id = ?1")?
            .exists([&id])?;
        self.write(|w| {
            for cert in &renewed {
                w.keep_cert(cert)?;
            }
            if local {
                w.update_kept(Entity::User, &id, &[("role", Value::text(role.as_str()))])?;
            }
            Ok(())
        })?;
        self.transaction(|tx| {
            for r in &revocations {
                keys::store_revocation(tx, r)?;
                revoke::apply(tx, r)?;
            }
            Ok(())
        })?;
        Ok(id)
    }
}
