//! The registry of entities and their fields: the only place that names tables and
//! columns, so the write path can build SQL from it safely and sync can apply any field.
//! Also the choice lists every face offers, and the reading of typed values.

mod value;

pub use value::Value;

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::{parse_amount, parse_date, InputError, Problem, StoreError};

/// The most bytes a typed value may hold: what a bundle may carry (a long note is a few
/// KiB).
pub const MAX_TEXT_BYTES: usize = 60 * 1024;

/// Reads money stored as decimal text; text that does not read as one is an error
/// (`store.corrupt`), never a silent zero.
pub(crate) fn stored_amount(
    field: &str,
    text: Option<String>,
) -> Result<Option<Decimal>, StoreError> {
    match text {
        None => Ok(None),
        Some(t) => Decimal::from_str_exact(t.trim())
            .map(Some)
            .map_err(|_| StoreError::Corrupt {
                what: format!("amount '{field}'"),
                value: t,
            }),
    }
}

/// A kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// A user account.
    User,
    /// An entry of a reference list (donor, sector, city, partner, currency).
    RefItem,
    /// A refugee or asylum-seeker accompanied by the programme.
    Person,
    /// One reception interview.
    Intake,
    /// An awareness or training session.
    Session,
    /// One person's presence at one session.
    Attendance,
    /// An income-generating activity.
    Project,
    /// One person's membership of one project.
    Member,
    /// One line of a project's business plan budget.
    BudgetLine,
    /// A dated change of a project's stage.
    StageEvent,
    /// One tranche paid to a project.
    Disbursement,
    /// A follow-up visit to a funded project.
    FollowUp,
    /// A referral of a person to a partner.
    Referral,
}

/// How a field's text is read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text; empty means unset.
    Text,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An exact decimal amount; `signed` allows negatives (a loss).
    Amount {
        /// Whether a negative amount is meaningful.
        signed: bool,
    },
    /// A whole number at least `min`.
    Count {
        /// The smallest allowed value.
        min: i64,
    },
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
    /// An ISO 3166-1 alpha-3 country code.
    Country,
    /// An ISO 4217 currency code.
    Currency,
    /// Yes or no.
    Flag,
    /// The id of another record.
    Link(Entity),
}

/// One field of an entity.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// The field's name, also its column.
    pub name: &'static str,
    /// How its value is read and checked.
    pub kind: FieldKind,
    /// Personal data, blanked by erasure.
    pub personal: bool,
    /// Whether `set KEY=VALUE` may write it directly; stages and links have their own
    /// commands that enforce their rules.
    pub settable: bool,
}

const fn f(name: &'static str, kind: FieldKind) -> FieldDef {
    FieldDef {
        name,
        kind,
        personal: false,
        settable: true,
    }
}
const fn personal(name: &'static str, kind: FieldKind) -> FieldDef {
    FieldDef {
        name,
        kind,
        personal: true,
        settable: true,
    }
}
const fn fixed(name: &'static str, kind: FieldKind) -> FieldDef {
    FieldDef {
        name,
        kind,
        personal: false,
        settable: false,
    }
}

/// The sexes recorded, as UNHCR's disaggregation uses them.
pub const SEXES: &[&str] = &["female", "male", "other"];
/// Legal statuses of the persons served.
pub const LEGAL_STATUSES: &[&str] = &["refugee", "asylum_seeker", "other"];
/// Kinds of group session.
pub const SESSION_KINDS: &[&str] = &["awareness", "training"];
/// Kinds of project.
pub const PROJECT_KINDS: &[&str] = &["creation", "reinforcement", "cooperative"];
/// Project stages, in journey order.
pub const STAGES: &[&str] = &[
    "draft",
    "plan_ready",
    "in_committee",
    "approved",
    "rejected",
    "funded",
    "active",
    "closed",
];
/// How a tranche is paid.
pub const MODES: &[&str] = &["cash", "in_kind", "transfer"];
/// What a follow-up visit found.
pub const FOLLOWUP_STATUSES: &[&str] = &["active", "struggling", "suspended", "closed"];
/// Where a referral stands.
pub const REFERRAL_STATUSES: &[&str] = &["pending", "accepted", "completed", "declined"];
/// The reference lists an administrator edits.
pub const REFERENCE_LISTS: &[&str] = &["donor", "sector", "city", "partner", "currency"];
/// Nationalities offered first, as ISO 3166-1 alpha-3 codes with their alpha-2 codes (by
/// which a window names the country in the user's language): the countries the persons
/// served come from, and their neighbours. Any other three-letter code is accepted too.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("SYR", "SY"),
    ("SDN", "SD"),
    ("SSD", "SS"),
    ("YEM", "YE"),
    ("IRQ", "IQ"),
    ("PSE", "PS"),
    ("LBN", "LB"),
    ("JOR", "JO"),
    ("LBY", "LY"),
    ("EGY", "EG"),
    ("TCD", "TD"),
    ("CAF", "CF"),
    ("COD", "CD"),
    ("COG", "CG"),
    ("CMR", "CM"),
    ("NGA", "NG"),
    ("NER", "NE"),
    ("MLI", "ML"),
    ("BFA", "BF"),
    ("SEN", "SN"),
    ("GIN", "GN"),
    ("GNB", "GW"),
    ("SLE", "SL"),
    ("LBR", "LR"),
    ("CIV", "CI"),
    ("GHA", "GH"),
    ("TGO", "TG"),
    ("BEN", "BJ"),
    ("GMB", "GM"),
    ("MRT", "MR"),
    ("DZA", "DZ"),
    ("MAR", "MA"),
    ("TUN", "TN"),
    ("ERI", "ER"),
    ("ETH", "ET"),
    ("SOM", "SO"),
    ("DJI", "DJ"),
    ("KEN", "KE"),
    ("UGA", "UG"),
    ("RWA", "RW"),
    ("BDI", "BI"),
    ("TZA", "TZ"),
    ("AFG", "AF"),
    ("PAK", "PK"),
    ("BGD", "BD"),
    ("IRN", "IR"),
    ("LKA", "LK"),
    ("MMR", "MM"),
    ("TUR", "TR"),
    ("UKR", "UA"),
    ("RUS", "RU"),
    ("VEN", "VE"),
    ("COL", "CO"),
    ("HTI", "HT"),
    ("AGO", "AO"),
    ("MOZ", "MZ"),
    ("ZWE", "ZW"),
    ("ZMB", "ZM"),
    ("SAU", "SA"),
    ("ARE", "AE"),
    ("KWT", "KW"),
    ("QAT", "QA"),
    ("FRA", "FR"),
    ("ESP", "ES"),
    ("ITA", "IT"),
    ("DEU", "DE"),
    ("BEL", "BE"),
    ("NLD", "NL"),
    ("GBR", "GB"),
    ("USA", "US"),
    ("CAN", "CA"),
];
/// Roles, as stored.
pub const ROLES: &[&str] = &["counsellor", "supervisor", "admin"];

use FieldKind::*;

const USER: &[FieldDef] = &[
    fixed("name", Text),
    fixed("role", Choice(ROLES)),
    fixed("active", Flag),
];
const REF_ITEM: &[FieldDef] = &[
    fixed("list", Choice(REFERENCE_LISTS)),
    f("name", Text),
    f("active", Flag),
    // The programme's currency: the one entry of the currency list so marked (schema 13).
    f("preferred", Flag),
];
const PERSON: &[FieldDef] = &[
    personal("given", Text),
    personal("family", Text),
    personal("given_ar", Text),
    personal("family_ar", Text),
    f("sex", Choice(SEXES)),
    personal("born", Date),
    // Known alone when only an approximate age is ("born about 1988"), and kept after
    // erasure so that age brackets stay true.
    f("birth_year", Count { min: 1900 }),
    f("nationality", Country),
    f("legal_status", Choice(LEGAL_STATUSES)),
    personal("unhcr_id", Text),
    personal("arrival", Date),
    f("city", Text),
    f("household_size", Count { min: 1 }),
    // Free text can name the person or those around them: erasure blanks it too.
    personal("languages", Text),
    personal("education", Text),
    personal("occupation", Text),
    personal("skills", Text),
    personal("needs", Text),
    personal("phone", Text),
    f("consent", Date),
    personal("consent_scope", Text),
    fixed("counsellor", Link(Entity::User)),
    fixed("erased", Flag),
];
const INTAKE: &[FieldDef] = &[
    fixed("person_id", Link(Entity::Person)),
    f("date", Date),
    personal("referral", Text),
    personal("notes", Text),
    fixed("counsellor", Link(Entity::User)),
];
const SESSION: &[FieldDef] = &[
    fixed("kind", Choice(SESSION_KINDS)),
    f("date", Date),
    f("topic", Text),
    f("place", Text),
    f("facilitator", Text),
];
const ATTENDANCE: &[FieldDef] = &[
    fixed("session_id", Link(Entity::Session)),
    fixed("person_id", Link(Entity::Person)),
    fixed("present", Flag),
    f("completed", Flag),
];
const PROJECT: &[FieldDef] = &[
    f("title", Text),
    fixed("kind", Choice(PROJECT_KINDS)),
    f("sector", Text),
    f("place", Text),
    f("description", Text),
    f("currency", Currency),
    f("own_contribution", Amount { signed: false }),
    f("amount_requested", Amount { signed: false }),
    fixed("stage", Choice(STAGES)),
    fixed("stage_date", Date),
    fixed("committee_date", Date),
    fixed("approved_amount", Amount { signed: false }),
    // The currency the committee approved the amount in (schema 10): tranches in any
    // other currency are held, whatever the project's own currency field later says.
    fixed("approved_currency", Currency),
    fixed("committee_remarks", Text),
    f("registered_on", Date),
    fixed("counsellor", Link(Entity::User)),
];
const MEMBER: &[FieldDef] = &[
    fixed("project_id", Link(Entity::Project)),
    fixed("person_id", Link(Entity::Person)),
    fixed("active", Flag),
];
const BUDGET_LINE: &[FieldDef] = &[
    fixed("project_id", Link(Entity::Project)),
    f("item", Text),
    f("quantity", Amount { signed: false }),
    f("unit_cost", Amount { signed: false }),
    fixed("active", Flag),
];
const STAGE_EVENT: &[FieldDef] = &[
    fixed("project_id", Link(Entity::Project)),
    fixed("stage", Choice(STAGES)),
    fixed("date", Date),
    fixed("undone", Flag),
];
const DISBURSEMENT: &[FieldDef] = &[
    fixed("project_id", Link(Entity::Project)),
    f("date", Date),
    fixed("amount", Amount { signed: false }),
    fixed("currency", Currency),
    fixed("donor", Text),
    f("mode", Choice(MODES)),
    f("receipt", Text),
    fixed("override_reason", Text),
];
const FOLLOW_UP: &[FieldDef] = &[
    fixed("project_id", Link(Entity::Project)),
    f("date", Date),
    f("status", Choice(FOLLOWUP_STATUSES)),
    f("revenue", Amount { signed: false }),
    f("profit", Amount { signed: true }),
    f("jobs", Count { min: 0 }),
    f("notes", Text),
    f("next_due", Date),
];
const REFERRAL: &[FieldDef] = &[
    fixed("person_id", Link(Entity::Person)),
    f("partner", Text),
    f("date", Date),
    f("status", Choice(REFERRAL_STATUSES)),
    personal("notes", Text),
];

/// Fields added after the first release (schema 9), as `(entity, field)`: the digest
/// counts one only when it holds a value, so a database that never used it keeps the
/// digest the release gave it.
pub const LATER_FIELDS: &[(&str, &str)] =
    &[("project", "approved_currency"), ("ref_item", "preferred")];

/// A field that points to a record of another entity: `entity.field` holds its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The entity whose records hold the link.
    pub entity: Entity,
    /// The field holding the id (also its column).
    pub field: &'static str,
    /// Whether that entity has personal fields (blanked when the person linked is erased).
    pub personal: bool,
}

/// Every field of `schema` (entities with their fields) that points to `target`, in the
/// schema's order: what follows a person (erasure, scoped export, reports) reads its links
/// here, so a new linking field needs no edit elsewhere.
pub fn links_to(schema: &[(Entity, &'static [FieldDef])], target: Entity) -> Vec<Link> {
    schema
        .iter()
        .flat_map(|(entity, fields)| {
            fields
                .iter()
                .filter(move |f| f.kind == FieldKind::Link(target) && *entity != target)
                .map(move |f| Link {
                    entity: *entity,
                    field: f.name,
                    personal: fields.iter().any(|g| g.personal),
                })
        })
        .collect()
}

/// The registry: every entity with its fields.
pub fn registry() -> Vec<(Entity, &'static [FieldDef])> {
    Entity::ALL.iter().map(|e| (*e, e.fields())).collect()
}

impl Entity {
    /// The fields of the registry that point to a record of this entity.
    pub fn linked_from(self) -> Vec<Link> {
        links_to(&registry(), self)
    }

    /// This entity's field that points to a record of `target`, if it has one.
    pub fn link_to(self, target: Entity) -> Option<&'static str> {
        self.fields()
            .iter()
            .find(|f| f.kind == FieldKind::Link(target))
            .map(|f| f.name)
    }

    /// Every entity.
    pub const ALL: [Entity; 13] = [
        Entity::User,
        Entity::RefItem,
        Entity::Person,
        Entity::Intake,
        Entity::Session,
        Entity::Attendance,
        Entity::Project,
        Entity::Member,
        Entity::BudgetLine,
        Entity::StageEvent,
        Entity::Disbursement,
        Entity::FollowUp,
        Entity::Referral,
    ];

    /// The name used in the change log.
    pub fn name(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::RefItem => "ref_item",
            Entity::Person => "person",
            Entity::Intake => "intake",
            Entity::Session => "session",
            Entity::Attendance => "attendance",
            Entity::Project => "project",
            Entity::Member => "member",
            Entity::BudgetLine => "budget_line",
            Entity::StageEvent => "stage_event",
            Entity::Disbursement => "disbursement",
            Entity::FollowUp => "followup",
            Entity::Referral => "referral",
        }
    }

    /// Finds an entity by its change-log name.
    pub fn from_name(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The table that caches its records.
    pub fn table(self) -> &'static str {
        match self {
            Entity::User => "users",
            Entity::RefItem => "ref_items",
            Entity::Person => "persons",
            Entity::Intake => "intakes",
            Entity::Session => "sessions",
            Entity::Attendance => "attendance",
            Entity::Project => "projects",
            Entity::Member => "members",
            Entity::BudgetLine => "budget_lines",
            Entity::StageEvent => "stage_events",
            Entity::Disbursement => "disbursements",
            Entity::FollowUp => "followups",
            Entity::Referral => "referrals",
        }
    }

    /// How a message names one of its records.
    pub fn label(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::RefItem => "reference entry",
            Entity::Person => "person",
            Entity::Intake => "intake",
            Entity::Session => "session",
            Entity::Attendance => "attendance",
            Entity::Project => "project",
            Entity::Member => "project member",
            Entity::BudgetLine => "budget line",
            Entity::StageEvent => "stage change",
            Entity::Disbursement => "disbursement",
            Entity::FollowUp => "follow-up visit",
            Entity::Referral => "referral",
        }
    }

    /// Its fields, in display order.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Entity::User => USER,
            Entity::RefItem => REF_ITEM,
            Entity::Person => PERSON,
            Entity::Intake => INTAKE,
            Entity::Session => SESSION,
            Entity::Attendance => ATTENDANCE,
            Entity::Project => PROJECT,
            Entity::Member => MEMBER,
            Entity::BudgetLine => BUDGET_LINE,
            Entity::StageEvent => STAGE_EVENT,
            Entity::Disbursement => DISBURSEMENT,
            Entity::FollowUp => FOLLOW_UP,
            Entity::Referral => REFERRAL,
        }
    }

    /// One field by name, or an error that lists the known ones.
    pub fn field(self, name: &str) -> Result<&'static FieldDef, InputError> {
        self.fields()
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| InputError::UnknownField {
                what: self.label(),
                field: name.to_string(),
                known: self
                    .fields()
                    .iter()
                    .filter(|f| f.settable)
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Reads `text` typed by a user for `field`, as `set KEY=VALUE` does: the field must
    /// be settable.
    pub fn parse_settable(self, field: &str, text: &str) -> Result<Value, InputError> {
        let def = self.field(field)?;
        if !def.settable {
            return Err(InputError::NotSettable {
                what: self.label(),
                field: def.name,
            });
        }
        def.kind.parse(def.name, text)
    }
}

fn invalid(field: &str, value: &str, problem: Problem) -> InputError {
    InputError::invalid(field, value, problem)
}

impl FieldKind {
    /// Reads a value as a change carries it (JSON) into its typed value, the way local
    /// entry would have written it: the right type, text in its canonical form (a real
    /// date, an exact amount of the right sign, one of the choices, an upper-case code),
    /// and the JSON itself byte for byte what [`Value::to_json`] writes. Decisions are
    /// then taken on the typed value, never on the text: `"\u0061pproved"` or
    /// `"approved "` is refused here rather than read as something a role check does not
    /// recognise. `None` or JSON null is an unset or erased value.
    pub(crate) fn typed_json(self, field: &str, json: Option<&str>) -> Result<Value, String> {
        let Some(json) = json else {
            return Ok(Value::Null);
        };
        let parsed: serde_json::Value =
            serde_json::from_str(json).map_err(|_| "is not a value".to_string())?;
        let typed = match (self, parsed) {
            (_, serde_json::Value::Null) => Value::Null,
            (Count { min }, serde_json::Value::Number(n)) => match n.as_i64() {
                Some(i) if i >= min => Value::Int(i),
                _ => return Err(format!("is not a whole number of at least {min}")),
            },
            (Flag, serde_json::Value::Bool(b)) => Value::Bool(b),
            // Flags read back from SQLite are 0 or 1; a change may carry them so.
            (Flag, serde_json::Value::Number(n)) if matches!(n.as_i64(), Some(0 | 1)) => {
                Value::Int(n.as_i64().unwrap_or(0))
            }
            (Text, serde_json::Value::String(text)) => Value::Text(text),
            (kind, serde_json::Value::String(text)) if !matches!(kind, Count { .. } | Flag) => {
                match kind.parse(field, &text) {
                    Ok(Value::Text(canonical)) if canonical == text => Value::Text(text),
                    Ok(_) => return Err("is not written as Masar writes it".to_string()),
                    Err(e) => {
                        return Err(match e {
                            InputError::Invalid { problem, .. } => problem.to_string(),
                            other => other.to_string(),
                        })
                    }
                }
            }
            _ => return Err("is not of the field's type".to_string()),
        };
        if typed.to_json() != json {
            return Err(
                "is not written as Masar writes it (its JSON is not in canonical form)".to_string(),
            );
        }
        Ok(typed)
    }

    /// Reads `text` typed by a user for the field `field`; empty text means unset.
    pub fn parse(self, field: &str, text: &str) -> Result<Value, InputError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(Value::Null);
        }
        if t.len() > MAX_TEXT_BYTES {
            let shown = t.char_indices().nth(40).map_or(t, |(i, _)| &t[..i]);
            return Err(invalid(field, shown, Problem::TooLong(MAX_TEXT_BYTES)));
        }
        Ok(match self {
            Text => Value::text(t),
            Date => Value::text(parse_date(field, t)?.format("%Y-%m-%d").to_string()),
            Amount { signed } => Value::text(parse_amount(field, t, signed)?.to_string()),
            Count { min } => {
                let n: i64 = t
                    .parse()
                    .map_err(|_| invalid(field, text, Problem::NotWholeNumber))?;
                if n < min {
                    return Err(invalid(field, text, Problem::TooSmall(min)));
                }
                Value::Int(n)
            }
            Choice(options) => {
                let lower = t.to_lowercase();
                match options.iter().find(|o| **o == lower) {
                    Some(o) => Value::text(*o),
                    None => {
                        return Err(invalid(
                            field,
                            text,
                            Problem::NotOneOf(options.iter().map(|o| (*o).to_string()).collect()),
                        ))
                    }
                }
            }
            Country => {
                if t.len() == 3 && t.chars().all(|c| c.is_ascii_alphabetic()) {
                    Value::text(t.to_ascii_uppercase())
                } else {
                    return Err(invalid(field, text, Problem::NotACountry));
                }
            }
            Currency => {
                if t.len() == 3 && t.chars().all(|c| c.is_ascii_alphabetic()) {
                    Value::text(t.to_ascii_uppercase())
                } else {
                    return Err(invalid(field, text, Problem::NotACurrency));
                }
            }
            Flag => match t.to_lowercase().as_str() {
                "yes" | "true" | "1" | "oui" => Value::Bool(true),
                "no" | "false" | "0" | "non" => Value::Bool(false),
                _ => return Err(invalid(field, text, Problem::NotYesNo)),
            },
            Link(_) => {
                if uuid::Uuid::from_str(t).is_err() {
                    return Err(invalid(field, text, Problem::NotAnId));
                }
                Value::text(t)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_to_a_person_is_found_in_the_registry_and_a_new_one_is_followed() {
        let found: Vec<(&str, &str, bool)> = Entity::Person
            .linked_from()
            .iter()
            .map(|l| (l.entity.name(), l.field, l.personal))
            .collect();
        assert_eq!(
            found,
            [
                ("intake", "person_id", true),
                ("attendance", "person_id", false),
                ("member", "person_id", false),
                ("referral", "person_id", true),
            ]
        );
        // A schema where follow-up visits also name a person (with personal notes): the
        // link is followed with nothing else to edit.
        const VISIT_WITH_PERSON: &[FieldDef] = &[
            fixed("project_id", Link(Entity::Project)),
            fixed("visited_person", Link(Entity::Person)),
            personal("notes", Text),
        ];
        let mut schema = registry();
        for (entity, fields) in &mut schema {
            if *entity == Entity::FollowUp {
                *fields = VISIT_WITH_PERSON;
            }
        }
        let links = links_to(&schema, Entity::Person);
        assert!(links.contains(&Link {
            entity: Entity::FollowUp,
            field: "visited_person",
            personal: true
        }));
        assert_eq!(links.len(), 5);
        assert_eq!(
            Entity::Attendance.link_to(Entity::Session),
            Some("session_id")
        );
        assert_eq!(Entity::Person.link_to(Entity::Project), None);
    }

    #[test]
    fn a_value_longer_than_a_bundle_may_carry_is_refused_at_entry() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        let e = FieldKind::Text.parse("notes", &long).unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        assert!(FieldKind::Text.parse("notes", &"é".repeat(1000)).is_ok());
    }

    #[test]
    fn every_entity_names_a_distinct_table_and_change_log_name() {
        let mut names: Vec<_> = Entity::ALL.iter().map(|e| e.name()).collect();
        let mut tables: Vec<_> = Entity::ALL.iter().map(|e| e.table()).collect();
        names.sort();
        names.dedup();
        tables.sort();
        tables.dedup();
        assert_eq!(names.len(), Entity::ALL.len());
        assert_eq!(tables.len(), Entity::ALL.len());
        for e in Entity::ALL {
            assert_eq!(Entity::from_name(e.name()), Some(e));
        }
    }
}
