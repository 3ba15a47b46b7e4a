//! Persons, their intakes and referrals, and the CSV import of a register.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::parse_pairs;
use super::records::{Person, Record};
use super::Fields;
use crate::access::Sight;
use crate::auth::Permission;
use crate::changes::{Db, Writer};
use crate::error::InputError;
use crate::schema::{Entity, FieldKind, Value};
use crate::Result;

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

/// Fields a person must have.
pub const PERSON_REQUIRED: &[&str] = &["given", "family", "sex", "born", "nationality"];
/// Columns a person CSV may carry besides the person's fields; they add an intake.
pub const PERSON_CSV_EXTRA_COLUMNS: &[&str] = &["intake_date", "referral"];

/// The outcome of a CSV import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PersonImport {
    /// How many persons were registered.
    pub imported: usize,
    /// The new persons' ids, in file order.
    pub ids: Vec<String>,
}

fn check_required(fields: &[(&'static str, Value)]) -> Result<(), InputError> {
    for name in PERSON_REQUIRED {
        let has = |field: &str| fields.iter().any(|(n, v)| *n == field && *v != Value::Null);
        // An approximate age ("born about 1988") stands for the date of birth.
        let given = has(name) || (*name == "born" && has("birth_year"));
        if !given {
            return Err(InputError::Missing {
                field: (*name).into(),
                hint: match *name {
                    "born" => "give the date of birth as YYYY-MM-DD, or the year of birth (birth_year) when only an approximate age is known",
                    "sex" => "give female, male or other",
                    "nationality" => "give the three-letter ISO country code, for example SYR",
                    _ => "a person needs a given and a family name",
                }
                .into(),
            });
        }
    }
    Ok(())
}

fn insert_person(
    w: &mut Writer<'_>,
    mut fields: Vec<(&'static str, Value)>,
    counsellor: &str,
) -> Result<String> {
    check_required(&fields)?;
    fields.push(("counsellor", Value::text(counsellor)));
    fields.push(("erased", Value::Bool(false)));
    w.create(Entity::Person, &fields)
}

fn insert_intake(
    w: &mut Writer<'_>,
    person: &str,
    date: Value,
    referral: Value,
    counsellor: &str,
) -> Result<String> {
    w.create(
        Entity::Intake,
        &[
            ("person_id", Value::text(person)),
            ("date", date),
            ("referral", referral),
            ("counsellor", Value::text(counsellor)),
        ],
    )
}

impl Db {
    /// Registers a person and, when `intake_date` is given, their reception interview, in
    /// one transaction: a refused date leaves no person behind.
    pub(crate) fn register_person(
        &mut self,
        pairs: &[(String, String)],
        intake_date: Option<&str>,
    ) -> Result<String> {
        self.require(Permission::RecordWork)?;
        let fields = parse_pairs(Entity::Person, pairs)?;
        let intake = match intake_date.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(FieldKind::Date.parse("intake_date", d)?),
            None => None,
        };
        let me = self.user().id.clone();
        self.write(|w| {
            let id = insert_person(w, fields, &me)?;
            if let Some(date) = intake {
                insert_intake(w, &id, date, Value::Null, &me)?;
            }
            Ok(id)
        })
    }

    /// Changes fields of a person; refuses personal fields of an erased person.
    pub(crate) fn set_person(&mut self, id: &str, pairs: &[(String, String)]) -> Result<()> {
        self.require(Permission::RecordWork)?;
        let fields = parse_pairs(Entity::Person, pairs)?;
        let current = Person::existing(self.conn(), id)?;
        if current.erased {
            if let Some((name, _)) = fields
                .iter()
                .find(|(n, _)| Entity::Person.field(n).map(|d| d.personal).unwrap_or(false))
            {
                return Err(InputError::rule(
                    "erased",
                    format!(
                        "this person's data was erased: {name} cannot be recorded again for them"
                    ),
                    &[("field", name)],
                )
                .into());
            }
        }
        for name in PERSON_REQUIRED {
            if fields.iter().any(|(n, v)| n == name && *v == Value::Null) && !current.erased {
                return Err(InputError::Missing {
                    field: (*name).into(),
                    hint: "this field cannot be emptied".into(),
                }
                .into());
            }
        }
        self.write(|w| w.update(Entity::Person, id, &fields).map(|_| ()))
    }

    /// One person.
    pub(crate) fn person(&self, id: &str) -> Result<Person> {
        let person = Person::existing(self.conn(), id)?;
        if !Sight::in_lists(self.user()).follows(person.counsellor.as_deref()) {
            // Outside what the user sees: refused with the right it takes, not shown empty.
            self.require(Permission::SeeAllPersons)?;
        }
        Ok(person)
    }

    /// Persons whose names (either script), UNHCR id or phone contain `search`, or all
    /// persons, ordered by family then given name.
    pub(crate) fn list_persons(&self, search: Option<&str>) -> Result<Vec<Person>> {
        let mut out = Vec::new();
        self.each_person(search, |p| {
            out.push(p);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands every person (matching `search`, best matches first; else by name) to `f`,
    /// one at a time.
    pub(crate) fn each_person(
        &self,
        search: Option<&str>,
        mut f: impl FnMut(Person) -> Result<()>,
    ) -> Result<()> {
        let sight = Sight::in_lists(self.user());
        let ids = match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => crate::search::find_persons(self.conn(), text)?,
            None => {
                let (condition, arg) = sight.condition_1("t");
                return Person::each(
                    self.conn(),
                    &format!("WHERE {condition} ORDER BY t.family, t.given, t.id"),
                    [arg],
                    f,
                );
            }
        };
        for id in ids {
            if let Some(p) = Person::read(self.conn(), &id)? {
                if sight.follows(p.counsellor.as_deref()) {
                    f(p)?;
                }
            }
        }
        Ok(())
    }

    /// Erases a person's personal data everywhere in this database, history included;
    /// anonymous fields stay so the programme's counts stay true.
    pub(crate) fn erase_person(&mut self, id: &str) -> Result<()> {
        self.require(Permission::ErasePerson)?;
        Person::existing(self.conn(), id)?;
        self.write(|w| w.erase_person(id))?;
        // The erased values must not stay in the WAL's old pages until some later time.
        Ok(crate::store::checkpoint(self.conn())?)
    }

    /// Records a reception interview.
    pub(crate) fn add_intake(
        &mut self,
        person: &str,
        date: &str,
        referral: Option<&str>,
    ) -> Result<String> {
        self.require(Permission::RecordWork)?;
        Person::existing(self.conn(), person)?;
        let date = FieldKind::Date.parse("date", date)?;
        if date == Value::Null {
            return Err(InputError::Missing {
                field: "date".into(),
                hint: "give the intake date as YYYY-MM-DD".into(),
            }
            .into());
        }
        let me = self.user().id.clone();
        let referral = FieldKind::Text.parse("referral", referral.unwrap_or(""))?;
        self.write(|w| insert_intake(w, person, date, referral, &me))
    }

    /// Refers a person to a partner of the organisation's list.
    pub(crate) fn add_referral(
        &mut self,
        person: &str,
        partner: &str,
        date: &str,
        status: Option<&str>,
    ) -> Result<String> {
        self.require(Permission::RecordWork)?;
        Person::existing(self.conn(), person)?;
        let partner = self.check_reference("partner", partner)?;
        let date = FieldKind::Date.parse("date", date)?;
        let status = Entity::Referral
            .field("status")?
            .kind
            .parse("status", status.unwrap_or("pending"))?;
        self.write(|w| {
            w.create(
                Entity::Referral,
                &[
                    ("person_id", Value::text(person)),
                    ("partner", Value::text(partner)),
                    ("date", date),
                    ("status", status),
                ],
            )
        })
    }

    /// Imports persons from CSV text: all rows or none. The header names person fields
    /// (`given, family, sex, born, nationality` required) and optionally `intake_date`
    /// and `referral`, which add an intake.
    pub(crate) fn import_persons_csv(&mut self, data: &[u8]) -> Result<PersonImport> {
        self.require(Permission::RecordWork)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(data);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| InputError::File(format!("the header line cannot be read ({e})")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut seen = HashSet::new();
        for h in &header {
            if !seen.insert(h.as_str()) {
                return Err(InputError::Duplicate {
                    what: "column",
                    value: h.clone(),
                }
                .into());
            }
            if !PERSON_CSV_EXTRA_COLUMNS.contains(&h.as_str()) {
                let def = Entity::Person.field(h).map_err(|_| {
                    InputError::File(format!(
                        "unknown column '{h}': the columns can be {}, {}",
                        Entity::Person
                            .fields()
                            .iter()
                            .filter(|f| f.settable)
                            .map(|f| f.name)
                            .collect::<Vec<_>>()
                            .join(", "),
                        PERSON_CSV_EXTRA_COLUMNS.join(", ")
                    ))
                })?;
                if !def.settable {
                    return Err(InputError::NotSettable {
                        what: "person",
                        field: def.name,
                    }
                    .into());
                }
            }
        }
        for name in PERSON_REQUIRED {
            if !header
                .iter()
                .any(|h| h == name || (*name == "born" && h == "birth_year"))
            {
                return Err(InputError::File(format!(
                    "the required column '{name}' is missing from the header"
                ))
                .into());
            }
        }
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let row = i + 2;
            let rec = rec.map_err(|e| match e.kind() {
                csv::ErrorKind::UnequalLengths { len, .. } => InputError::Row {
                    row,
                    error: Box::new(InputError::File(format!(
                        "it has {len} columns but the header has {}: add the missing values (an empty one is allowed)",
                        header.len()
                    ))),
                },
                _ => InputError::File(format!("row {row} cannot be read ({e})")),
            })?;
            let mut pairs = Vec::new();
            let mut intake_date = None;
            let mut referral = None;
            for (h, v) in header.iter().zip(rec.iter()) {
                match h.as_str() {
                    "intake_date" => intake_date = Some(v.to_string()),
                    "referral" => referral = Some(v.to_string()),
                    _ => pairs.push((h.clone(), v.to_string())),
                }
            }
            let at_row = |e: InputError| InputError::Row {
                row,
                error: Box::new(e),
            };
            let fields = parse_pairs(Entity::Person, &pairs).map_err(at_row)?;
            check_required(&fields).map_err(at_row)?;
            let date = FieldKind::Date
                .parse("intake_date", intake_date.as_deref().unwrap_or(""))
                .map_err(at_row)?;
            let referral = FieldKind::Text
                .parse("referral", referral.as_deref().unwrap_or(""))
                .map_err(at_row)?;
            if date == Value::Null && referral != Value::Null {
                return Err(at_row(InputError::Missing {
                    field: "intake_date".into(),
                    hint: "a referral belongs to an intake: give the intake date too".into(),
                })
                .into());
            }
            rows.push((fields, date, referral));
        }
        if rows.is_empty() {
            return Err(InputError::File("it has a header but no rows".into()).into());
        }
        let me = self.user().id.clone();
        let ids = self.write(|w| {
            let mut ids = Vec::with_capacity(rows.len());
            for (fields, date, referral) in rows {
                let id = insert_person(w, fields, &me)?;
                if date != Value::Null {
                    insert_intake(w, &id, date, referral, &me)?;
                }
                ids.push(id);
            }
            Ok(ids)
        })?;
        Ok(PersonImport {
            imported: ids.len(),
            ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, temp_db};

    #[test]
    fn a_refused_intake_date_leaves_no_person_behind() {
        let (_d, mut m) = temp_db();
        let fields = kv(&[
            ("given", "A"),
            ("family", "B"),
            ("sex", "female"),
            ("born", "1990-01-01"),
            ("nationality", "SYR"),
        ]);
        let err = m
            .add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(fields.to_vec()),
                intake_date: Some("31/12/2024".into()),
            })
            .unwrap_err();
        assert!(err.to_string().contains("intake_date"), "{err}");
        assert!(m.list_persons(None).unwrap().is_empty());
        let id = m
            .add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(fields.to_vec()),
                intake_date: Some("2024-12-31".into()),
            })
            .unwrap();
        let r = m.report("2024-01-01", "2024-12-31", &[]).unwrap();
        assert_eq!(r.indicators["welcomed"], crate::report::Measure::Count(1));
        assert_eq!(m.person(&id).unwrap().given.as_deref(), Some("A"));
    }
}
