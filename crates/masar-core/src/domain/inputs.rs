//! What each write takes: one struct per door, with one name per value from the form (or
//! the command line) to the row. Values a person types stay text here, because the core
//! reads them (dates and amounts in every common spelling) and names the field it could
//! not read; values chosen from a list are enums.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

use crate::auth::Role;
use crate::stage::{Decision, Stage};

/// Field values by name, in the order given: `KEY=VALUE` on the command line, a form's
/// fields in the window (a JSON object). A name given twice is refused by the core.
#[derive(Debug, Clone, Default, PartialEq, Eq, TS)]
#[ts(type = "Record<string, string>")]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The pairs, in the order given.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl From<Vec<(String, String)>> for Fields {
    fn from(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs)
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of field names and text values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                // Bounded by the document the window sent, which Tauri already holds.
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// A person to register, with their reception interview when `intake_date` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewPerson {
    /// The person's fields (names as `person get` prints them).
    pub fields: Fields,
    /// The day of the reception interview recorded with the person, if any.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub intake_date: Option<String>,
}

/// A reception interview.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewIntake {
    /// The person's id.
    pub person: String,
    /// The day of the interview.
    pub date: String,
    /// Who sent the person, if anyone.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub referral: Option<String>,
}

/// A referral of a person to a partner of the organisation's list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewReferral {
    /// The person's id.
    pub person: String,
    /// The partner, as the list spells it (any case).
    pub partner: String,
    /// The day of the referral.
    pub date: String,
    /// Where it stands (`pending` by default).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub status: Option<String>,
}

/// A group session with the persons present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewSession {
    /// `awareness` or `training`.
    pub kind: String,
    /// The day it was held.
    pub date: String,
    /// What it was about.
    pub topic: String,
    /// Where, if said.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub place: Option<String>,
    /// The ids of the persons present.
    #[serde(default)]
    pub attendees: Vec<String>,
}

/// Marks at once for a session: who was present, who was not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Roster {
    /// The session's id.
    pub session: String,
    /// The ids of the persons to mark present.
    #[serde(default)]
    pub present: Vec<String>,
    /// The ids of the persons to mark absent.
    #[serde(default)]
    pub absent: Vec<String>,
}

/// A project to open in stage `draft`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewProject {
    /// A short title.
    pub title: String,
    /// `creation`, `reinforcement` or `cooperative`.
    pub kind: String,
    /// A sector of the organisation's list.
    pub sector: String,
    /// The ids of its members (at least one).
    pub members: Vec<String>,
    /// The day it opens (today when not given).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub date: Option<String>,
}

/// A move of a project to another stage by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StageChange {
    /// The project's id.
    pub project: String,
    /// The stage it moves to.
    pub stage: Stage,
    /// The day of the move.
    pub date: String,
}

/// A committee's decision on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommitteeDecision {
    /// The project's id.
    pub project: String,
    /// What the committee decided.
    pub decision: Decision,
    /// The day of the committee.
    pub date: String,
    /// The approved amount (an approval needs one).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub amount: Option<String>,
    /// The currency of the amount (the programme's, else the plan's, when not given).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub currency: Option<String>,
    /// What the committee remarked.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub remarks: Option<String>,
}

/// A line of a business plan's budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewBudgetLine {
    /// The project's id.
    pub project: String,
    /// What is bought.
    pub item: String,
    /// How many.
    pub quantity: String,
    /// At what price each.
    pub unit_cost: String,
}

/// A tranche paid to an approved project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewTranche {
    /// The project's id.
    pub project: String,
    /// The day it was paid.
    pub date: String,
    /// How much.
    pub amount: String,
    /// In which currency of the list (the approval's, for it to count).
    pub currency: String,
    /// Which donor of the list pays it.
    pub donor: String,
    /// `cash` (the default), `in_kind` or `transfer`.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub mode: Option<String>,
    /// The receipt's reference.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub receipt: Option<String>,
    /// Why a supervisor pays above the approved amount; without it such a tranche is
    /// refused. Kept with the tranche and its history.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub above_approved_because: Option<String>,
}

/// A follow-up visit to a funded project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewFollowUp {
    /// The project's id.
    pub project: String,
    /// The visit's fields (date, status, next_due, …).
    pub fields: Fields,
}

/// A user account to add on this laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NewUser {
    /// The user's log-in name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Their first password.
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_the_order_and_the_repeats_they_were_given_in() {
        let f: Fields = serde_json::from_str(r#"{"given_name":"Amina","family_name":"Haddad"}"#)
            .expect("fields");
        assert_eq!(
            f.pairs(),
            [
                ("given_name".to_string(), "Amina".to_string()),
                ("family_name".to_string(), "Haddad".to_string())
            ]
        );
        assert_eq!(
            serde_json::to_string(&f).expect("json"),
            r#"{"given_name":"Amina","family_name":"Haddad"}"#
        );
        let t: NewTranche = serde_json::from_str(
            r#"{"project":"p","date":"2024-01-05","amount":"500","currency":"MAD","donor":"UNHCR"}"#,
        )
        .expect("a tranche without its optional parts");
        assert_eq!(t.above_approved_because, None);
        assert!(serde_json::from_str::<StageChange>(
            r#"{"project":"p","stage":"paid","date":"x"}"#
        )
        .is_err());
    }
}
