//! The journey's domain: persons, intakes, sessions, projects, disbursements, follow-ups,
//! referrals, reference lists and user accounts. Each operation checks the user's role,
//! its input and the journey's rules, then writes through the one write path; a refused
//! input changes nothing.

mod accounts;
mod persons;
mod plans;
mod projects;
mod records;
mod reflists;
mod sessions;
mod tranches;

pub use crate::stage::{Decision, Stage};
pub use accounts::NewUser;
pub use accounts::UserSummary;
pub use persons::{NewIntake, NewPerson, NewReferral};
pub use persons::{PersonImport, PERSON_REQUIRED};
pub use plans::NewBudgetLine;
pub use plans::{BudgetLineView, BudgetSummary};
pub use projects::ProjectRules;
pub use projects::{CommitteeDecision, NewProject, StageChange};
pub(crate) use records::Record;
pub use records::{
    BudgetLine, Disbursement, FollowUp, Intake, Person, Project, Referral, Session, StageEvent,
};
pub use sessions::{NewSession, Roster};
pub use tranches::{NewFollowUp, NewTranche};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

use crate::error::InputError;
use crate::schema::{Entity, Value};

/// Reads `KEY=VALUE` pairs typed by a user for `entity`; every key must be settable.
pub(crate) fn parse_pairs(
    entity: Entity,
    pairs: &[(String, String)],
) -> Result<Vec<(&'static str, Value)>, InputError> {
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    for (key, text) in pairs {
        let def = entity.field(key.trim())?;
        if out.iter().any(|(n, _)| *n == def.name) {
            return Err(InputError::Duplicate {
                what: "field",
                value: def.name.to_string(),
            });
        }
        out.push((def.name, entity.parse_settable(def.name, text)?));
    }
    Ok(out)
}

/// A name-based id, so that two laptops recording the same fact make the same record.
pub(crate) fn fact_id(kind: &str, parts: &[&str]) -> String {
    let name = format!("{kind}/{}", parts.join("/"));
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewTranche, StageChange};

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
