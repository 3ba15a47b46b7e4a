//! Roles, permissions and the rules for user names and passwords.
//!
//! Roles live inside the encrypted database, and every permission is checked in the core
//! (`Db::require`), never in a UI. The keys that open the database are in `keys`.

pub use crate::error::Secret;
use crate::error::{AuthError, InputError, Problem};
use crate::schema::Value;

/// What a user may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Records the journey of their caseload.
    Counsellor,
    /// Merges laptops, decides in committee, erases, reports.
    Supervisor,
    /// Installs, enrols, manages users and reference lists.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Counsellor, Role::Supervisor, Role::Admin];

    /// The role's name as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Counsellor => "counsellor",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Reads a role typed by a user, or says which roles exist.
    pub fn from_input(text: &str) -> Result<Role, InputError> {
        Role::parse(text.trim()).ok_or_else(|| InputError::Invalid {
            field: "role".into(),
            value: text.into(),
            problem: Problem::NotOneOf(Role::ALL.map(|r| r.as_str().to_string()).to_vec()),
        })
    }
}

/// An action that not every role may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Add users, change roles.
    ManageUsers,
    /// Edit the organisation's reference lists.
    EditReferenceLists,
    /// Record a committee decision (approve, reject, defer).
    DecideInCommittee,
    /// Erase a person's personal data.
    ErasePerson,
    /// Record the daily work: persons, intakes, sessions, projects, visits.
    RecordWork,
    /// Pay a project above the amount its committee approved, giving a reason.
    OverrideApprovedAmount,
    /// Export person-level data (persons, attendance) out of Masar.
    ExportPersonData,
    /// Write the report to donors: counts only, but a small part of a breakdown (one
    /// person of a nationality in a city) can single someone out.
    ReportToDonors,
    /// See every person, not only one's caseload (`access::Sight`).
    SeeAllPersons,
}

impl Permission {
    /// The lowest role that holds this permission.
    pub fn lowest_role(self) -> Role {
        match self {
            Permission::ManageUsers | Permission::EditReferenceLists => Role::Admin,
            Permission::DecideInCommittee
            | Permission::ErasePerson
            | Permission::OverrideApprovedAmount
            | Permission::ExportPersonData
            | Permission::ReportToDonors
            | Permission::SeeAllPersons => Role::Supervisor,
            Permission::RecordWork => Role::Counsellor,
        }
    }

    /// Every permission.
    pub const ALL: [Permission; 9] = [
        Permission::ManageUsers,
        Permission::EditReferenceLists,
        Permission::DecideInCommittee,
        Permission::ErasePerson,
        Permission::RecordWork,
        Permission::OverrideApprovedAmount,
        Permission::ExportPersonData,
        Permission::ReportToDonors,
        Permission::SeeAllPersons,
    ];

    /// Whether `role` holds this permission.
    pub fn allows(self, role: Role) -> bool {
        role >= self.lowest_role()
    }

    /// The permission a change needs, whoever makes it and wherever it is checked: the
    /// write path checks it before logging a change, and every import checks it against
    /// the author's certified role (the role table of docs/security.md). `value` is the
    /// change's value read into its field's type (never its text: a spelling cannot slip
    /// past); a resolution of a conflict needs what its field needs and a supervisor's
    /// right to decide.
    pub fn for_change(entity: &str, field: &str, value: &Value, resolves: bool) -> Permission {
        let base = match (entity, field) {
            ("user", _) => Permission::ManageUsers,
            ("ref_item", _) => Permission::EditReferenceLists,
            ("person", "erased") if !matches!(value, Value::Bool(false) | Value::Int(0)) => {
                Permission::ErasePerson
            }
            (
                "project",
                "committee_date" | "approved_amount" | "approved_currency" | "committee_remarks",
            ) => Permission::DecideInCommittee,
            ("project" | "stage_event", "stage")
                if matches!(value.as_str(), Some("approved" | "rejected")) =>
            {
                Permission::DecideInCommittee
            }
            ("disbursement", "override_reason") if *value != Value::Null => {
                Permission::OverrideApprovedAmount
            }
            _ => Permission::RecordWork,
        };
        if resolves && base.lowest_role() < Permission::DecideInCommittee.lowest_role() {
            Permission::DecideInCommittee
        } else {
            base
        }
    }

    /// What the permission lets one do, as a refusal names it.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ManageUsers => "manage users",
            Permission::EditReferenceLists => "edit reference lists",
            Permission::DecideInCommittee => "record committee decisions",
            Permission::ErasePerson => "erase a person's data",
            Permission::RecordWork => "record work",
            Permission::OverrideApprovedAmount => "pay above the approved amount",
            Permission::ExportPersonData => "export person-level data",
            Permission::ReportToDonors => "write the report to donors",
            Permission::SeeAllPersons => "see every person, beyond their own caseload",
        }
    }
}

/// The logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id, the same on every laptop.
    pub id: String,
    /// Log-in name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;

/// The lowest zxcvbn score accepted: about 10^8 guesses. Against the key file's argon2id
/// (64 MiB, 3 passes: 8.1 guesses a second per core in a release build) that is 142 days
/// of one core's work and about 2 days on 64 cores (docs/security.md): a floor, not a
/// fortress.
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// The one strength policy for every secret a thief or a finder could guess offline:
/// refuses one too short or too easy to guess, by zxcvbn's estimate of how many guesses
/// it takes (common passwords, words, dates, keyboard patterns, and the `known` words: the
/// user's name, the organisation's).
pub(crate) fn check_secret(what: Secret, secret: &str, known: &[&str]) -> Result<(), AuthError> {
    if secret.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::WeakPassword {
            what,
            min: MIN_PASSWORD_LEN,
        });
    }
    let estimate = zxcvbn::zxcvbn(secret, known);
    if u8::from(estimate.score()) < MIN_PASSWORD_SCORE {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(AuthError::GuessablePassword {
            what,
            min: MIN_PASSWORD_LEN,
            hint,
        });
    }
    Ok(())
}

/// Refuses a password too short or too easy to guess ([`check_secret`]).
pub(crate) fn check_password(password: &str, user: &str) -> Result<(), AuthError> {
    check_secret(Secret::Password, password, &[user])
}

/// Refuses an enrolment passphrase too short or too easy to guess ([`check_secret`]): the
/// file it seals carries the organisation's keys, and whoever finds the file can guess
/// offline for as long as they like, whatever its expiry says.
pub(crate) fn check_enrolment_passphrase(
    passphrase: &str,
    known: &[&str],
) -> Result<(), AuthError> {
    check_secret(Secret::EnrolmentPassphrase, passphrase, known)
}

/// Refuses a user name that could not be typed back or shown plainly.
pub(crate) fn check_user_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::BadUserName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_table_names_what_each_kind_of_change_needs() {
        use Permission::*;
        let t = Value::text;
        let cases: &[(&str, &str, Value, bool, Permission)] = &[
            ("person", "city", t("Rabat"), false, RecordWork),
            ("person", "erased", Value::Bool(false), false, RecordWork),
            ("person", "erased", Value::Int(0), false, RecordWork),
            ("person", "erased", Value::Bool(true), false, ErasePerson),
            ("person", "erased", Value::Int(1), false, ErasePerson),
            ("person", "erased", Value::Null, false, ErasePerson),
            ("project", "stage", t("plan_ready"), false, RecordWork),
            ("project", "stage", t("approved"), false, DecideInCommittee),
            (
                "stage_event",
                "stage",
                t("rejected"),
                false,
                DecideInCommittee,
            ),
            (
                "project",
                "approved_amount",
                t("99999999"),
                false,
                DecideInCommittee,
            ),
            (
                "project",
                "approved_amount",
                Value::Null,
                false,
                DecideInCommittee,
            ),
            (
                "project",
                "approved_currency",
                t("EUR"),
                false,
                DecideInCommittee,
            ),
            ("disbursement", "amount", t("5000000"), false, RecordWork),
            (
                "disbursement",
                "override_reason",
                Value::Null,
                false,
                RecordWork,
            ),
            (
                "disbursement",
                "override_reason",
                t("EU extension"),
                false,
                OverrideApprovedAmount,
            ),
            ("ref_item", "name", t("EU"), false, EditReferenceLists),
            ("user", "role", t("admin"), false, ManageUsers),
            ("person", "city", t("Rabat"), true, DecideInCommittee),
            ("ref_item", "name", t("EU"), true, EditReferenceLists),
        ];
        for (entity, field, value, resolves, needed) in cases {
            assert_eq!(
                Permission::for_change(entity, field, value, *resolves),
                *needed,
                "{entity}.{field} = {value:?}"
            );
        }
    }

    #[test]
    fn short_common_and_guessable_passwords_are_refused_with_a_reason() {
        for weak in [
            "12345678",
            "password",
            "Passw0rd!",
            "azertyuiop",
            "karim1990",
            "karimkarim",
        ] {
            let e = check_password(weak, "karim").unwrap_err();
            assert_eq!(e.code(), "auth.weak_password", "{weak}");
            assert!(
                e.to_string().contains("guess") || e.to_string().contains("short"),
                "{weak}: {e}"
            );
        }
        assert!(check_password("short", "karim")
            .unwrap_err()
            .to_string()
            .contains("the password is too short"));
        for strong in [
            "a long enough passphrase",
            "test-password-1",
            "tailoring in Oujda 2024",
        ] {
            check_password(strong, "karim").unwrap_or_else(|e| panic!("{strong}: {e}"));
        }
    }

    #[test]
    fn an_enrolment_passphrase_meets_the_password_policy_and_is_named_in_the_refusal() {
        for weak in [
            "password",
            "12345678",
            "Oujda2024",
            "short",
            "Oujda programme",
        ] {
            let e = check_enrolment_passphrase(weak, &["Oujda programme", "admin"])
                .err()
                .unwrap_or_else(|| panic!("{weak} was accepted"));
            assert_eq!(e.code(), "auth.weak_password", "{weak}");
            assert!(
                e.to_string().starts_with("the enrolment passphrase is too"),
                "{weak}: {e}"
            );
        }
        for strong in [
            "enrolment passphrase",
            "a passphrase for Oujda",
            "benchmark-passphrase",
            "fixture-passphrase",
            "a long passphrase",
            "e2e passphrase",
        ] {
            check_enrolment_passphrase(strong, &["Oujda programme", "admin"])
                .unwrap_or_else(|e| panic!("{strong}: {e}"));
        }
    }
}
