//! The journey's domain: persons, intakes, sessions, projects, disbursements, follow-ups,
//! referrals, reference lists and user accounts. Each operation checks the user's role,
//! its input and the journey's rules, then writes through the one write path; a refused
//! input changes nothing.

mod accounts;
mod inputs;
mod persons;
mod plans;
mod projects;
mod records;
mod reflists;
mod sessions;
mod tranches;

pub use crate::stage::{Decision, Stage};
pub use accounts::UserSummary;
pub use inputs::{
    CommitteeDecision, Fields, NewBudgetLine, NewFollowUp, NewIntake, NewPerson, NewProject,
    NewReferral, NewSession, NewTranche, NewUser, Roster, StageChange,
};
pub use persons::{PersonImport, PERSON_REQUIRED};
pub use plans::{BudgetLineView, BudgetSummary};
pub use projects::ProjectRules;
pub(crate) use records::Record;
pub use records::{
    BudgetLine, Disbursement, FollowUp, Intake, Person, Project, Referral, Session, StageEvent,
};

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
