//! A realistic fictional programme, the database the desktop app opens on by default and
//! the one screenshots and benchmarks use. Everything goes through the public operations,
//! so the demo obeys the same rules as a counsellor.

use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use serde::Serialize;
use ts_rs::TS;

use crate::auth::{Permission, Role};
use crate::error::InputError;
use crate::masar::Masar;
use crate::Result;

/// What the demo made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
pub struct DemoSummary {
    /// Persons registered.
    pub persons: usize,
    /// Intakes recorded.
    pub intakes: usize,
    /// Sessions held.
    pub sessions: usize,
    /// Projects opened.
    pub projects: usize,
    /// Tranches paid.
    pub disbursements: usize,
    /// Visits made.
    pub followups: usize,
    /// Projects whose visit is overdue today.
    pub overdue: usize,
    /// Demo accounts made besides the current user, with the demo password.
    pub users: Vec<String>,
}

/// The password of the demo's extra accounts; a demo database holds no real data.
pub const DEMO_PASSWORD: &str = "masar-demo";

struct Origin {
    nationality: &'static str,
    arabic: bool,
    female: &'static [(&'static str, &'static str)],
    male: &'static [(&'static str, &'static str)],
    family: &'static [(&'static str, &'static str)],
}

const ARAB_FEMALE: &[(&str, &str)] = &[
    ("Fatima", "فاطمة"),
    ("Amina", "أمينة"),
    ("Rania", "رانيا"),
    ("Hiba", "هبة"),
    ("Nour", "نور"),
    ("Layla", "ليلى"),
    ("Salma", "سلمى"),
    ("Maryam", "مريم"),
    ("Rim", "ريم"),
    ("Zeinab", "زينب"),
];
const ARAB_MALE: &[(&str, &str)] = &[
    ("Ahmad", "أحمد"),
    ("Mohammad", "محمد"),
    ("Omar", "عمر"),
    ("Khaled", "خالد"),
    ("Youssef", "يوسف"),
    ("Ibrahim", "إبراهيم"),
    ("Hassan", "حسن"),
    ("Mustafa", "مصطفى"),
    ("Tariq", "طارق"),
    ("Bilal", "بلال"),
];
const ARAB_FAMILY: &[(&str, &str)] = &[
    ("Al-Hamwi", "الحموي"),
    ("Haddad", "حداد"),
    ("Al-Halabi", "الحلبي"),
    ("Khatib", "خطيب"),
    ("Darwish", "درويش"),
    ("Al-Masri", "المصري"),
    ("Saleh", "صالح"),
    ("Othman", "عثمان"),
    ("Nasser", "ناصر"),
    ("Al-Sudani", "السوداني"),
    ("Abdallah", "عبد الله"),
    ("Qassem", "قاسم"),
];
const WEST_AFRICA_FEMALE: &[(&str, &str)] = &[
    ("Aïcha", ""),
    ("Mariam", ""),
    ("Fanta", ""),
    ("Awa", ""),
    ("Grâce", ""),
    ("Esther", ""),
    ("Clarisse", ""),
];
const WEST_AFRICA_MALE: &[(&str, &str)] = &[
    ("Mamadou", ""),
    ("Ibrahima", ""),
    ("Jean-Baptiste", ""),
    ("Moussa", ""),
    ("Désiré", ""),
    ("Patrick", ""),
    ("Serge", ""),
];
const WEST_AFRICA_FAMILY: &[(&str, &str)] = &[
    ("Diallo", ""),
    ("Koné", ""),
    ("Traoré", ""),
    ("Mbuyi", ""),
    ("Kabila", ""),
    ("Ngoma", ""),
    ("Bamba", ""),
    ("Yao", ""),
];

const ORIGINS: &[Origin] = &[
    Origin {
        nationality: "SYR",
        arabic: true,
        female: ARAB_FEMALE,
        male: ARAB_MALE,
        family: ARAB_FAMILY,
    },
    Origin {
        nationality: "YEM",
        arabic: true,
        female: ARAB_FEMALE,
        male: ARAB_MALE,
        family: ARAB_FAMILY,
    },
    Origin {
        nationality: "SDN",
        arabic: true,
        female: ARAB_FEMALE,
        male: ARAB_MALE,
        family: ARAB_FAMILY,
    },
    Origin {
        nationality: "PSE",
        arabic: true,
        female: ARAB_FEMALE,
        male: ARAB_MALE,
        family: ARAB_FAMILY,
    },
    Origin {
        nationality: "COD",
        arabic: false,
        female: WEST_AFRICA_FEMALE,
        male: WEST_AFRICA_MALE,
        family: WEST_AFRICA_FAMILY,
    },
    Origin {
        nationality: "CIV",
        arabic: false,
        female: WEST_AFRICA_FEMALE,
        male: WEST_AFRICA_MALE,
        family: WEST_AFRICA_FAMILY,
    },
    Origin {
        nationality: "CAF",
        arabic: false,
        female: WEST_AFRICA_FEMALE,
        male: WEST_AFRICA_MALE,
        family: WEST_AFRICA_FAMILY,
    },
    Origin {
        nationality: "GIN",
        arabic: false,
        female: WEST_AFRICA_FEMALE,
        male: WEST_AFRICA_MALE,
        family: WEST_AFRICA_FAMILY,
    },
];

const DONORS: &[&str] = &["European Union", "Principality of Monaco", "Japan"];
const SECTORS: &[&str] = &[
    "tailoring",
    "food",
    "commerce",
    "hairdressing",
    "crafts",
    "agriculture",
    "services",
    "mechanics",
];
const CITIES: &[&str] = &["Rabat", "Casablanca", "Oujda", "Tangier", "Fès"];
const PARTNERS: &[&str] = &[
    "Employment agency",
    "Cooperatives office",
    "Microfinance",
    "Vocational training",
];
const TOPICS: &[&str] = &[
    "Why start your own activity?",
    "Rights and obligations of a self-employed worker",
    "From an idea to a project",
    "Saving and credit",
];
const TRAININGS: &[&str] = &[
    "Business management basics",
    "Bookkeeping for small shops",
    "Marketing and sales",
    "Pastry (trade training)",
];
const ITEMS: &[(&str, i64)] = &[
    ("Sewing machine", 2500),
    ("Fabric stock", 800),
    ("Oven", 3200),
    ("Display shelves", 900),
    ("Hair dryer", 450),
    ("Tools kit", 1200),
    ("First stock of goods", 2000),
    ("Rent deposit", 1500),
];

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Fills an empty database with a fictional programme over the last eighteen months, its
/// projects named in `language`. `seed` makes it reproducible.
pub fn fill(m: &mut Masar, seed: u64, language: crate::report::Language) -> Result<DemoSummary> {
    let words = crate::report::Words::new(language, false);
    m.require(Permission::ManageUsers)?;
    if !m.list_persons(None)?.is_empty() {
        return Err(InputError::rule(
            "demo_not_empty",
            "this database already holds persons: the demo fills only an empty database",
            &[],
        )
        .into());
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let today = m.clock().today();
    let start = today - Duration::days(540);
    let mut s = DemoSummary::default();

    for (list, names) in [
        ("donor", DONORS),
        ("sector", SECTORS),
        ("city", CITIES),
        ("partner", PARTNERS),
        ("currency", &["MAD", "EUR"][..]),
    ] {
        for name in names {
            m.add_reference(list, name)?;
        }
    }
    // Committees in the demo approve in dirhams unless they say otherwise.
    m.set_programme_currency("MAD")?;
    for (name, role) in [("leila", Role::Supervisor), ("karim", Role::Counsellor)] {
        if !m.list_users()?.iter().any(|u| u.name == *name) {
            m.add_user(crate::domain::NewUser {
                name: name.to_string(),
                role,
                password: DEMO_PASSWORD.to_string(),
            })?;
            s.users.push(name.to_string());
        }
    }

    // Persons, each with an intake; a few come twice.
    let mut persons: Vec<(String, NaiveDate)> = Vec::new();
    for i in 0..320 {
        let origin = &ORIGINS[rng.gen_range(0..ORIGINS.len())];
        let female = rng.gen_bool(0.52);
        let (given, given_ar) = if female { origin.female } else { origin.male }
            [rng.gen_range(0..origin.female.len().min(origin.male.len()))];
        let (family, family_ar) = origin.family[rng.gen_range(0..origin.family.len())];
        let born = NaiveDate::from_ymd_opt(
            rng.gen_range(1962..2006),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
        )
        .unwrap_or(start);
        let intake = start + Duration::days(rng.gen_range(0..520));
        let mut fields = vec![
            ("given".to_string(), given.to_string()),
            ("family".to_string(), family.to_string()),
            (
                "sex".to_string(),
                if female { "female" } else { "male" }.to_string(),
            ),
            ("born".to_string(), day(born)),
            ("nationality".to_string(), origin.nationality.to_string()),
            (
                "legal_status".to_string(),
                if rng.gen_bool(0.8) {
                    "refugee"
                } else {
                    "asylum_seeker"
                }
                .to_string(),
            ),
            (
                "unhcr_id".to_string(),
                format!("250-{:02}C{:05}", rng.gen_range(14..24), 10000 + i * 37),
            ),
            (
                "city".to_string(),
                CITIES[rng.gen_range(0..CITIES.len())].to_string(),
            ),
            (
                "phone".to_string(),
                format!(
                    "+212 6{:02} {:02} {:02} {:02}",
                    rng.gen_range(0..100),
                    rng.gen_range(0..100),
                    rng.gen_range(0..100),
                    i % 100
                ),
            ),
            (
                "household_size".to_string(),
                rng.gen_range(1..8).to_string(),
            ),
            ("consent".to_string(), day(intake)),
            (
                "consent_scope".to_string(),
                "programme follow-up and anonymous reporting".to_string(),
            ),
        ];
        if origin.arabic {
            fields.push(("given_ar".to_string(), given_ar.to_string()));
            fields.push(("family_ar".to_string(), family_ar.to_string()));
        }
        let id = m.add_person(crate::domain::NewPerson {
            fields: crate::domain::Fields(fields.to_vec()),
            intake_date: None,
        })?;
        m.add_intake(crate::domain::NewIntake {
            person: id.to_string(),
            date: day(intake),
            referral: Some(
                ["walk-in", "UNHCR", "partner NGO", "word of mouth"][rng.gen_range(0..4)]
                    .to_string(),
            ),
        })?;
        s.intakes += 1;
        if rng.gen_bool(0.05) && intake + Duration::days(60) < today {
            m.add_intake(crate::domain::NewIntake {
                person: id.to_string(),
                date: day(intake + Duration::days(rng.gen_range(30..60))),
                referral: Some("returned".into()),
            })?;
            s.intakes += 1;
        }
        if rng.gen_bool(0.1) {
            m.add_referral(crate::domain::NewReferral {
                person: id.to_string(),
                partner: PARTNERS[rng.gen_range(0..PARTNERS.len())].to_string(),
                date: day(intake + Duration::days(7)),
                status: Some("pending".into()),
            })?;
        }
        persons.push((id, intake));
    }
    s.persons = persons.len();

    // Sessions: awareness for most, training for a part; some planned in the coming weeks.
    for (n, kind, topics) in [(14, "awareness", TOPICS), (8, "training", TRAININGS)] {
        for k in 0..n {
            let date = start
                + Duration::days(30 + (k as i64) * 500 / n as i64)
                + Duration::days(rng.gen_range(0..10));
            let mut pool: Vec<&String> = persons
                .iter()
                .filter(|(_, i)| *i <= date)
                .map(|(id, _)| id)
                .collect();
            pool.shuffle(&mut rng);
            let attendees: Vec<String> = if date > today {
                Vec::new()
            } else {
                pool.into_iter()
                    .take(rng.gen_range(12..28))
                    .cloned()
                    .collect()
            };
            m.add_session(crate::domain::NewSession {
                kind: kind.to_string(),
                date: day(date.min(today + Duration::days(14))),
                topic: topics[k % topics.len()].to_string(),
                place: Some(CITIES[k % CITIES.len()].to_string()),
                attendees: attendees.to_vec(),
            })?;
            s.sessions += 1;
        }
    }

    // Projects in every stage.
    let stages = [
        "draft",
        "plan_ready",
        "in_committee",
        "rejected",
        "approved",
        "funded",
        "funded",
        "active",
        "active",
        "active",
        "closed",
    ];
    for p in 0..64 {
        let kind = match p % 16 {
            0..=11 => "creation",
            12..=14 => "reinforcement",
            _ => "cooperative",
        };
        let members: Vec<String> = {
            let mut pool: Vec<&(String, NaiveDate)> = persons.iter().collect();
            pool.shuffle(&mut rng);
            let n = match kind {
                "cooperative" => rng.gen_range(5..8),
                _ => rng.gen_range(1..3),
            };
            pool.into_iter().take(n).map(|(id, _)| id.clone()).collect()
        };
        let sector = SECTORS[rng.gen_range(0..SECTORS.len())];
        let target = stages[p % stages.len()];
        let opened = start + Duration::days(rng.gen_range(40..300));
        let id = m.add_project(crate::domain::NewProject {
            title: format!(
                "{} {}",
                words.t(&format!("demo.title.{}", sector_key(sector))),
                p + 1
            ),
            kind: kind.to_string(),
            sector: sector.to_string(),
            members: members.to_vec(),
            date: Some(day(opened)),
        })?;
        s.projects += 1;
        for _ in 0..rng.gen_range(2..5) {
            let (item, cost) = ITEMS[rng.gen_range(0..ITEMS.len())];
            m.add_budget_line(crate::domain::NewBudgetLine {
                project: id.to_string(),
                item: item.to_string(),
                quantity: rng.gen_range(1..4).to_string().to_string(),
                unit_cost: format!("{cost}.00"),
            })?;
        }
        m.set_project(
            &id,
            &[
                (
                    "own_contribution".into(),
                    format!("{}.00", rng.gen_range(2..10) * 100),
                ),
                ("currency".into(), "MAD".into()),
            ],
        )?;
        let order = ["plan_ready", "in_committee"];
        let mut date = opened;
        if target == "draft" {
            continue;
        }
        for st in order {
            date += Duration::days(rng.gen_range(5..20));
            m.set_stage(crate::domain::StageChange {
                project: id.to_string(),
                stage: crate::domain::Stage::parse("stage", st)?,
                date: day(date),
            })?;
            if st == target {
                break;
            }
        }
        if matches!(target, "plan_ready" | "in_committee") {
            continue;
        }
        date += Duration::days(rng.gen_range(10..30));
        if target == "rejected" {
            m.decide(crate::domain::CommitteeDecision {
                project: id.to_string(),
                decision: crate::domain::Decision::Rejected,
                date: day(date),
                amount: None,
                currency: None,
                remarks: Some("Market already saturated in this area".into()),
            })?;
            continue;
        }
        let amount = rng.gen_range(8..30) * 1000;
        m.decide(crate::domain::CommitteeDecision {
            project: id.to_string(),
            decision: crate::domain::Decision::Approved,
            date: day(date),
            amount: Some(format!("{amount}.00")),
            currency: None,
            remarks: None,
        })?;
        if target == "approved" {
            continue;
        }
        let donor = DONORS[rng.gen_range(0..DONORS.len())];
        date += Duration::days(rng.gen_range(5..20));
        let first = amount * 6 / 10;
        m.add_disbursement(crate::domain::NewTranche {
            project: id.to_string(),
            date: day(date),
            amount: format!("{first}.00"),
            currency: "MAD".into(),
            donor: donor.to_string(),
            mode: Some("transfer".into()),
            receipt: Some(format!("RC-{:04}", p * 3)),
            above_approved_because: None,
        })?;
        s.disbursements += 1;
        if rng.gen_bool(0.6) {
            m.add_disbursement(crate::domain::NewTranche {
                project: id.to_string(),
                date: day(date + Duration::days(60)),
                amount: format!("{}.50", amount - first - 1),
                currency: "MAD".into(),
                donor: donor.to_string(),
                mode: Some("in_kind".into()),
                receipt: None,
                above_approved_because: None,
            })?;
            s.disbursements += 1;
        }
        if kind == "cooperative" {
            m.set_project(
                &id,
                &[("registered_on".into(), day(date + Duration::days(20)))],
            )?;
        }
        // Visits every two months up to a point (for a year or more once the enterprise
        // runs, so that its survival can be read); the last one sets the next due date,
        // which for some projects is now in the past. A closed enterprise's last visit
        // found it closed.
        let visits = if matches!(target, "active" | "closed") {
            rng.gen_range(4..12)
        } else {
            rng.gen_range(1..4)
        };
        let mut visit = date + Duration::days(30);
        for v in 0..visits {
            if visit >= today {
                break;
            }
            let revenue = rng.gen_range(15..60) * 100;
            let last = v + 1 == visits || visit + Duration::days(60) >= today;
            let status = if target == "closed" && last {
                "closed"
            } else if rng.gen_bool(0.8) {
                "active"
            } else {
                "struggling"
            };
            m.add_followup(crate::domain::NewFollowUp {
                project: id.to_string(),
                fields: crate::domain::Fields(vec![
                    ("date".into(), day(visit)),
                    ("status".into(), status.into()),
                    ("revenue".into(), format!("{revenue}.00")),
                    ("profit".into(), format!("{}.00", revenue / 3 - 300)),
                    ("jobs".into(), rng.gen_range(1..4).to_string()),
                    (
                        "next_due".into(),
                        day(visit
                            + Duration::days(if v + 1 == visits {
                                rng.gen_range(20..120)
                            } else {
                                60
                            })),
                    ),
                ]),
            })?;
            s.followups += 1;
            visit += Duration::days(60);
        }
        if matches!(target, "active" | "closed") {
            m.set_stage(crate::domain::StageChange {
                project: id.to_string(),
                stage: crate::domain::Stage::Active,
                date: day(date + Duration::days(31)),
            })?;
        }
        if target == "closed" {
            m.set_stage(crate::domain::StageChange {
                project: id.to_string(),
                stage: crate::domain::Stage::Closed,
                date: day(today.min(visit)),
            })?;
        }
    }
    s.overdue = m.overdue_followups(today)?.len();
    Ok(s)
}

/// The demo organisation's name in `language`.
pub fn organisation(language: crate::report::Language) -> String {
    crate::report::Words::new(language, false).t("demo.org")
}

/// The catalogue key of a demo sector's project title (`demo.title.KEY`).
fn sector_key(sector: &str) -> &'static str {
    match sector {
        "tailoring" => "tailoring",
        "food" => "food",
        "commerce" => "commerce",
        "hairdressing" => "hairdressing",
        "crafts" => "crafts",
        "agriculture" => "agriculture",
        "services" => "services",
        _ => "mechanics",
    }
}
