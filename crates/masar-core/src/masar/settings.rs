//! This user's settings on this laptop and their session.

use super::*;

impl Masar {
    /// A setting of this user on this laptop (language, …); never synced.
    pub fn preference(&self, key: &str) -> Result<Option<String>> {
        Ok(meta(
            self.conn(),
            &format!("pref:{}:{key}", self.user().id),
        )?)
    }

    /// Saves a setting of this user on this laptop.
    pub fn set_preference(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(set_meta(
            self.conn(),
            &format!("pref:{}:{key}", self.user().id),
            value,
        )?)
    }

    /// The logged-in user's session, for the window.
    pub fn session_info(&self, demo: bool) -> Result<SessionInfo> {
        let s = self.status()?;
        let role = self.user().role;
        Ok(SessionInfo {
            user: s.user,
            role: s.role,
            org_name: s.org_name,
            device_name: s.device_name,
            language: self.preference("language")?,
            months: self.preference("months")?,
            digits: self.preference("digits")?,
            demo,
            permissions: Permissions {
                manage_users: Permission::ManageUsers.allows(role),
                edit_reference_lists: Permission::EditReferenceLists.allows(role),
                decide_in_committee: Permission::DecideInCommittee.allows(role),
                erase_person: Permission::ErasePerson.allows(role),
                record_work: Permission::RecordWork.allows(role),
                export_person_data: Permission::ExportPersonData.allows(role),
                report_to_donors: Permission::ReportToDonors.allows(role),
            },
            choices: Choices::current(),
            today: self.clock().today(),
        })
    }
}
