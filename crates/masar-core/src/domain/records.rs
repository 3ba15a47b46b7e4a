//! Records as the faces show them: one typed struct per kind of record, its fields named
//! and ordered as the registry (`schema`) declares them, read straight from the row.
//!
//! Money is read back as an exact decimal and dates as dates; stored text that does not
//! read as one is an error (`store.corrupt`), never a silent zero.

use chrono::NaiveDate;
use rusqlite::{Connection, Row};
use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use crate::error::{InputError, StoreError};
use crate::schema::{stored_amount, Entity};
use crate::Result;

/// A kind of record the faces show, read from its entity's table.
pub(crate) trait Record: Sized {
    /// The entity it is a record of.
    const ENTITY: Entity;
    /// Its fields, in the registry's order.
    const FIELDS: &'static [&'static str];
    /// Builds it from a row selected with `id` and [`Self::FIELDS`].
    fn from_row(r: &Row<'_>) -> Result<Self>;

    /// Reads one record, or `None` when the id names none.
    fn read(conn: &Connection, id: &str) -> Result<Option<Self>> {
        let sql = format!(
            "SELECT id, {} FROM {} WHERE id = ?1",
            Self::FIELDS.join(", "),
            Self::ENTITY.table()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(Self::from_row(r)?)),
            None => Ok(None),
        }
    }

    /// Reads one record or says that the id names none.
    fn existing(conn: &Connection, id: &str) -> Result<Self> {
        Self::read(conn, id)?.ok_or_else(|| {
            InputError::NotFound {
                what: Self::ENTITY.label(),
                id: id.to_string(),
            }
            .into()
        })
    }

    /// Reads the records of `SELECT … FROM table t {tail}`: `tail` joins, filters and
    /// orders, naming the record's table `t`.
    fn select(conn: &Connection, tail: &str, params: impl rusqlite::Params) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        Self::each(conn, tail, params, |record| {
            out.push(record);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands the records of `SELECT … FROM table t {tail}` to `f` one at a time, so that a
    /// register of any size is never held whole.
    fn each(
        conn: &Connection,
        tail: &str,
        params: impl rusqlite::Params,
        mut f: impl FnMut(Self) -> Result<()>,
    ) -> Result<()> {
        let cols: Vec<String> = Self::FIELDS.iter().map(|f| format!("t.{f}")).collect();
        let sql = format!(
            "SELECT t.id, {} FROM {} t {tail}",
            cols.join(", "),
            Self::ENTITY.table()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(r) = rows.next()? {
            f(Self::from_row(r)?)?;
        }
        Ok(())
    }
}

/// How one column is read into a field of a typed record.
trait Column: Sized {
    fn read(r: &Row<'_>, name: &str) -> Result<Self>;
}

impl Column for Option<String> {
    fn read(r: &Row<'_>, name: &str) -> Result<Self> {
        Ok(r.get(name)?)
    }
}

impl Column for Option<i64> {
    fn read(r: &Row<'_>, name: &str) -> Result<Self> {
        Ok(r.get(name)?)
    }
}

impl Column for bool {
    fn read(r: &Row<'_>, name: &str) -> Result<Self> {
        Ok(r.get::<_, Option<i64>>(name)?.is_some_and(|i| i != 0))
    }
}

fn corrupt(name: &str, text: String) -> crate::Error {
    StoreError::Corrupt {
        what: format!("field '{name}'"),
        value: text,
    }
    .into()
}

impl Column for Option<NaiveDate> {
    fn read(r: &Row<'_>, name: &str) -> Result<Self> {
        match r.get::<_, Option<String>>(name)? {
            None => Ok(None),
            Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| corrupt(name, t)),
        }
    }
}

impl Column for Option<Decimal> {
    fn read(r: &Row<'_>, name: &str) -> Result<Self> {
        Ok(stored_amount(name, r.get(name)?)?)
    }
}

macro_rules! records {
    ($( $(#[$m:meta])* $name:ident for $entity:ident { $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)? } )*) => { $(
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, TS)]
        pub struct $name {
            /// Stable id, the same on every laptop.
            pub id: String,
            $( $(#[$fm])* pub $field: $ty, )*
        }

        impl Record for $name {
            const ENTITY: Entity = Entity::$entity;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn from_row(r: &Row<'_>) -> Result<Self> {
                Ok($name { id: r.get("id")?, $( $field: Column::read(r, stringify!($field))?, )* })
            }
        }
    )* };
}

records! {
    /// A refugee or asylum-seeker accompanied by the programme.
    Person for Person {
        /// Given name, Latin script.
        given: Option<String>,
        /// Family name, Latin script.
        family: Option<String>,
        /// Given name, Arabic script.
        given_ar: Option<String>,
        /// Family name, Arabic script.
        family_ar: Option<String>,
        /// female, male or other.
        sex: Option<String>,
        /// Date of birth.
        born: Option<NaiveDate>,
        /// Year of birth, kept after erasure so that age brackets stay true.
        birth_year: Option<i64>,
        /// ISO 3166-1 alpha-3 code.
        nationality: Option<String>,
        /// refugee, asylum_seeker or other.
        legal_status: Option<String>,
        /// UNHCR registration number.
        unhcr_id: Option<String>,
        /// Date of arrival in the country.
        arrival: Option<NaiveDate>,
        /// City of residence.
        city: Option<String>,
        /// Persons in the household.
        household_size: Option<i64>,
        /// Languages spoken.
        languages: Option<String>,
        /// Education.
        education: Option<String>,
        /// Occupation before exile.
        occupation: Option<String>,
        /// Skills.
        skills: Option<String>,
        /// Needs expressed.
        needs: Option<String>,
        /// Phone number.
        phone: Option<String>,
        /// Date consent was given.
        consent: Option<NaiveDate>,
        /// What the consent covers.
        consent_scope: Option<String>,
        /// The user who registered the person.
        counsellor: Option<String>,
        /// Whether the person's personal data was erased.
        erased: bool,
    }

    /// One reception interview.
    Intake for Intake {
        /// The person received.
        person_id: Option<String>,
        /// When.
        date: Option<NaiveDate>,
        /// Who referred them.
        referral: Option<String>,
        /// Notes.
        notes: Option<String>,
        /// The user who received them.
        counsellor: Option<String>,
    }

    /// An awareness or training session.
    Session for Session {
        /// awareness or training.
        kind: Option<String>,
        /// When it took place.
        date: Option<NaiveDate>,
        /// Its topic.
        topic: Option<String>,
        /// Where.
        place: Option<String>,
        /// Who led it.
        facilitator: Option<String>,
    }

    /// An income-generating activity and where it stands.
    Project for Project {
        /// Short title.
        title: Option<String>,
        /// creation, reinforcement or cooperative.
        kind: Option<String>,
        /// Sector, from the organisation's list.
        sector: Option<String>,
        /// Where it operates.
        place: Option<String>,
        /// Description.
        description: Option<String>,
        /// The currency of its plan (ISO 4217).
        currency: Option<String>,
        /// The members' own contribution.
        #[ts(as = "Option<String>")]
        own_contribution: Option<Decimal>,
        /// The amount asked of the committee.
        #[ts(as = "Option<String>")]
        amount_requested: Option<Decimal>,
        /// Current stage.
        stage: Option<String>,
        /// When it reached that stage.
        stage_date: Option<NaiveDate>,
        /// When the committee decided.
        committee_date: Option<NaiveDate>,
        /// The amount the committee approved.
        #[ts(as = "Option<String>")]
        approved_amount: Option<Decimal>,
        /// The currency of the approved amount (ISO 4217).
        approved_currency: Option<String>,
        /// The committee's remarks.
        committee_remarks: Option<String>,
        /// Legal registration date of a cooperative.
        registered_on: Option<NaiveDate>,
        /// The user who opened it.
        counsellor: Option<String>,
    }

    /// One line of a business plan's budget.
    BudgetLine for BudgetLine {
        /// The project.
        project_id: Option<String>,
        /// What is bought.
        item: Option<String>,
        /// How many.
        #[ts(as = "Option<String>")]
        quantity: Option<Decimal>,
        /// At what unit cost.
        #[ts(as = "Option<String>")]
        unit_cost: Option<Decimal>,
        /// Whether the line is still in the plan.
        active: bool,
    }

    /// A dated change of a project's stage.
    StageEvent for StageEvent {
        /// The project.
        project_id: Option<String>,
        /// The stage reached.
        stage: Option<String>,
        /// When.
        date: Option<NaiveDate>,
        /// Whether the change was taken back.
        undone: bool,
    }

    /// One tranche paid to a project.
    Disbursement for Disbursement {
        /// The project.
        project_id: Option<String>,
        /// When it was paid.
        date: Option<NaiveDate>,
        /// How much.
        #[ts(as = "Option<String>")]
        amount: Option<Decimal>,
        /// In which currency (ISO 4217).
        currency: Option<String>,
        /// Paid from which donor's funds.
        donor: Option<String>,
        /// cash, in_kind or transfer.
        mode: Option<String>,
        /// Receipt reference.
        receipt: Option<String>,
        /// Why a supervisor paid above the approved amount.
        override_reason: Option<String>,
    }

    /// A follow-up visit to a funded project.
    FollowUp for FollowUp {
        /// The project.
        project_id: Option<String>,
        /// When.
        date: Option<NaiveDate>,
        /// active, struggling, suspended or closed.
        status: Option<String>,
        /// Revenue since the last visit.
        #[ts(as = "Option<String>")]
        revenue: Option<Decimal>,
        /// Profit (or loss) since the last visit.
        #[ts(as = "Option<String>")]
        profit: Option<Decimal>,
        /// Jobs the activity provides.
        jobs: Option<i64>,
        /// Notes.
        notes: Option<String>,
        /// When the next visit is due.
        next_due: Option<NaiveDate>,
    }

    /// A referral of a person to a partner.
    Referral for Referral {
        /// The person referred.
        person_id: Option<String>,
        /// The partner, from the organisation's list.
        partner: Option<String>,
        /// When.
        date: Option<NaiveDate>,
        /// pending, accepted, completed or declined.
        status: Option<String>,
        /// Notes.
        notes: Option<String>,
    }
}

impl Person {
    /// The Latin-script name, or a dash when there is none (an erased person).
    pub fn display_name(&self) -> String {
        let latin = format!(
            "{} {}",
            self.given.as_deref().unwrap_or(""),
            self.family.as_deref().unwrap_or("")
        );
        match latin.trim() {
            "" => "—".into(),
            name => name.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: Entity) -> Vec<&'static str> {
        e.fields().iter().map(|f| f.name).collect()
    }

    #[test]
    fn every_typed_record_has_exactly_its_entitys_fields_in_order() {
        assert_eq!(Person::FIELDS, names(Entity::Person));
        assert_eq!(Intake::FIELDS, names(Entity::Intake));
        assert_eq!(Session::FIELDS, names(Entity::Session));
        assert_eq!(Project::FIELDS, names(Entity::Project));
        assert_eq!(BudgetLine::FIELDS, names(Entity::BudgetLine));
        assert_eq!(StageEvent::FIELDS, names(Entity::StageEvent));
        assert_eq!(Disbursement::FIELDS, names(Entity::Disbursement));
        assert_eq!(FollowUp::FIELDS, names(Entity::FollowUp));
        assert_eq!(Referral::FIELDS, names(Entity::Referral));
    }
}
