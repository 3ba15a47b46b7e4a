//! Accounts, users, reference lists, the organisation's keys and laptops.

use super::*;

impl Masar {
    /// Adds a user with their own password (admin only).
    pub fn add_user(&mut self, new: NewUser) -> Result<String> {
        self.db.add_user(&new.name, new.role, &new.password)
    }

    /// Changes the logged-in user's password: re-wraps their copy of the key only.
    pub fn change_password(&mut self, old: &str, new: &str) -> Result<()> {
        self.db.change_password(old, new)
    }

    /// The users of this database.
    pub fn list_users(&self) -> Result<Vec<UserSummary>> {
        self.db.list_users()
    }

    /// Adds an entry to a reference list (admin only); adding an existing one revives it.
    pub fn add_reference(&mut self, list: &str, name: &str) -> Result<String> {
        self.db.add_reference(list, name)
    }

    /// Retires an entry of a reference list (admin only).
    pub fn remove_reference(&mut self, list: &str, name: &str) -> Result<()> {
        self.db.remove_reference(list, name)
    }

    /// Makes a currency of the list the programme's (admin): approvals are in it unless
    /// the supervisor names another. Returns it as the list spells it.
    pub fn set_programme_currency(&mut self, currency: &str) -> Result<String> {
        self.db.set_programme_currency(currency)
    }

    /// The programme's currency, if an administrator set one.
    pub fn programme_currency(&self) -> Result<Option<String>> {
        self.db.programme_currency()
    }

    /// The active entries of a reference list, sorted.
    pub fn references(&self, list: &str) -> Result<Vec<String>> {
        self.db.references(list)
    }

    /// Gives a user of the organisation, made on another laptop, an account here with
    /// their own password (admin); returns their id.
    pub fn admit_user(&mut self, user_id: &str, password: &str) -> Result<String> {
        self.db.admit_user(user_id, password)
    }

    /// Changes a user's role on every laptop (admin), by name here or by id.
    pub fn change_role(&mut self, who: &str, role: Role) -> Result<String> {
        self.db.change_role(who, role)
    }

    /// What is held (`crate::money`): tranches that do not count — no approval, another
    /// currency, above the approved amount without a supervisor's reason — and projects
    /// past the committee without a decision, each with who made it so (supervisors).
    pub fn unexplained_tranches(&self) -> Result<Vec<crate::money::Held>> {
        self.db.unexplained_tranches()
    }

    /// The devices and authors that signed two versions of one change, settled alike
    /// everywhere and listed so that a supervisor can have the device revoked.
    pub fn equivocations(&self) -> Result<Vec<crate::identity::Equivocation>> {
        self.db.equivocations()
    }

    /// Writes the organisation's root key to `out` under its own `passphrase` (admin who
    /// holds it), for the founders to keep offline.
    pub fn export_org_key(
        &self,
        out: &Path,
        passphrase: &str,
    ) -> Result<crate::identity::OrgKeyExported> {
        self.db.export_org_key(out, passphrase)
    }

    /// Writes the organisation's root key to `out` as a recovery sheet to print (admin).
    pub fn export_org_key_sheet(&self, out: &Path) -> Result<crate::identity::OrgKeyExported> {
        self.db.export_org_key_sheet(out)
    }

    /// Takes the organisation's root key from a key file or a typed recovery sheet into
    /// the logged-in administrator's custody, under their `password`.
    pub fn import_org_key(
        &mut self,
        file: &Path,
        passphrase: Option<&str>,
        password: &str,
    ) -> Result<crate::identity::OrgKeyImported> {
        self.db.import_org_key(file, passphrase, password)
    }

    /// Replaces the organisation's root with a new one (an administrator who holds the
    /// root); the new root goes into their custody under `password`.
    pub fn rotate_org_key(&mut self, password: &str) -> Result<crate::identity::RootRotated> {
        self.db.rotate_root(password)
    }

    /// The laptops this one knows (admin).
    pub fn devices(&self) -> Result<Vec<DeviceRow>> {
        self.db.devices()
    }

    /// Revokes a lost or stolen laptop (admin): its later changes are refused everywhere
    /// and a new bundle key keeps it from reading later bundles.
    pub fn revoke_device(&mut self, device: &str) -> Result<RevocationDone> {
        self.db.revoke_device(device)
    }

    /// Revokes a user (admin), by name here or by id: their later changes are refused
    /// everywhere and their account here is disabled.
    pub fn revoke_user(&mut self, who: &str) -> Result<RevocationDone> {
        self.db.revoke_user(who)
    }

    /// Writes an enrolment file for a new laptop (an administrator holding the
    /// organisation's key: one who created or joined it on this laptop), accepted
    /// for `valid_days` (default 7).
    pub fn enrol(
        &mut self,
        out: &Path,
        passphrase: &str,
        valid_days: Option<i64>,
    ) -> Result<Enrolled> {
        let days = valid_days.unwrap_or(crate::identity::org::ENROLMENT_DAYS);
        let device_id = self.db.enrol(out, passphrase, days)?;
        Ok(Enrolled {
            device_id,
            file: out.display().to_string(),
        })
    }
}
