//! Read models: what each screen of the window, and each listing of the command line,
//! shows, assembled once as typed answers that both faces send on unchanged. The views
//! carry what a screen needs to decide what to offer (allowed stages, permissions, choice
//! lists, today's date by the core's clock), so no face keeps a copy of a rule.

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::access::Sight;
use crate::auth::Role;
use crate::changes::Db;
use crate::domain::{
    BudgetSummary, Decision, Disbursement, FollowUp, Person, Project, ProjectRules, Record,
    Session, Stage, StageEvent,
};
use crate::error::StoreError;
use crate::fold::fold;
use crate::report::{Dimension, ExportFormat, ExportTable};
use crate::schema;
use crate::Result;

mod home;
mod persons;
mod projects;
mod sessions;
mod sync_state;

pub use home::{Home, OverdueVisit, RecentEvent, VisitDue};
pub use persons::{PersonQuery, PersonSort, PersonsPage, Timeline, TimelineEvent};
pub use projects::{ProjectQuery, ProjectRow, ProjectSort, ProjectTile, ProjectView, ProjectsPage};
pub use sessions::{SessionTile, SessionView};
pub use sync_state::SyncState;

/// The answer of a command that made or changed one record: its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Id {
    /// The record's id.
    pub id: String,
}

impl From<String> for Id {
    fn from(id: String) -> Id {
        Id { id }
    }
}

/// What the window knows before anyone logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AppInfo {
    /// The database file.
    pub db: String,
    /// Whether it exists yet (else the first-run screen is shown).
    pub exists: bool,
    /// Whether it is the demo database, whose accounts the login screen may show.
    pub demo: bool,
    /// Masar's version, its database schema's and its bundle format's.
    pub versions: Versions,
    /// The system's language as the operating system names it ("fr-FR", "ar-MA"), which
    /// the window speaks until the user chooses.
    pub system_language: Option<String>,
    /// Where the window writes its log for support, when it keeps one.
    pub log_folder: Option<String>,
}

impl AppInfo {
    /// The facts about the database at `db`, on a system speaking `system_language`.
    pub fn new(db: &Path, demo: bool, system_language: Option<String>) -> AppInfo {
        AppInfo {
            db: db.display().to_string(),
            exists: db.exists(),
            demo,
            versions: Versions::current(),
            system_language,
            log_folder: None,
        }
    }
}

/// What a support call asks first: which Masar, which database schema it writes, which
/// bundle format it reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Versions {
    /// The application's version.
    pub app: String,
    /// The database schema it opens and upgrades to.
    pub schema: i64,
    /// The bundle format it writes (and the oldest it reads).
    pub bundle_format: u16,
    /// The oldest bundle format it reads.
    pub oldest_bundle_format: u16,
}

impl Versions {
    /// One line: "0.1.0 (database schema 9, bundle format 3; reads bundles from format 3)".
    pub fn line(&self) -> String {
        format!(
            "{} (database schema {}, bundle format {}; reads bundles from format {})",
            self.app, self.schema, self.bundle_format, self.oldest_bundle_format
        )
    }
}

/// What the logged-in user may do, as screens decide what to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Permissions {
    /// Add users, change roles, enrol laptops.
    pub manage_users: bool,
    /// Edit the organisation's reference lists.
    pub edit_reference_lists: bool,
    /// Record committee decisions, resolve conflicts, export for another laptop's scope.
    pub decide_in_committee: bool,
    /// Erase a person's personal data.
    pub erase_person: bool,
    /// Record the daily work.
    pub record_work: bool,
    /// Export person-level tables (persons, attendance).
    pub export_person_data: bool,
    /// Write the report to donors; without it the dashboard shows one's own caseload.
    pub report_to_donors: bool,
}

/// The choice lists every form offers, as the core accepts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Choices {
    /// Sexes.
    pub sexes: Vec<String>,
    /// Legal statuses.
    pub legal_statuses: Vec<String>,
    /// Kinds of session.
    pub session_kinds: Vec<String>,
    /// Kinds of project.
    pub project_kinds: Vec<String>,
    /// Project stages, in journey order.
    pub stages: Vec<Stage>,
    /// Ways a tranche is paid.
    pub modes: Vec<String>,
    /// What a follow-up visit may find.
    pub followup_statuses: Vec<String>,
    /// Where a referral may stand.
    pub referral_statuses: Vec<String>,
    /// The organisation's reference lists.
    pub reference_lists: Vec<String>,
    /// Roles, lowest first.
    pub roles: Vec<Role>,
    /// What a committee may decide.
    pub decisions: Vec<Decision>,
    /// Ways the indicators may be split.
    pub dimensions: Vec<String>,
    /// The indicators, in the order of the programme's closing table.
    pub indicators: Vec<String>,
    /// Nationalities offered first: ISO alpha-3 and alpha-2 codes.
    pub countries: Vec<(String, String)>,
    /// Tables that can be exported.
    pub export_tables: Vec<String>,
    /// Of those, the ones that hold persons (for supervisors and administrators).
    pub person_level_tables: Vec<String>,
    /// File formats of an export.
    pub export_formats: Vec<String>,
    /// A person's required fields (`born` may be given as `birth_year`).
    pub person_required: Vec<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

impl Choices {
    /// The lists as this version of the core accepts them.
    pub fn current() -> Choices {
        Choices {
            sexes: strings(schema::SEXES),
            legal_statuses: strings(schema::LEGAL_STATUSES),
            session_kinds: strings(schema::SESSION_KINDS),
            project_kinds: strings(schema::PROJECT_KINDS),
            stages: Stage::ALL.to_vec(),
            modes: strings(schema::MODES),
            followup_statuses: strings(schema::FOLLOWUP_STATUSES),
            referral_statuses: strings(schema::REFERRAL_STATUSES),
            reference_lists: strings(schema::REFERENCE_LISTS),
            roles: Role::ALL.to_vec(),
            decisions: Decision::ALL.to_vec(),
            dimensions: Dimension::ALL
                .iter()
                .map(|d| d.as_str().to_string())
                .collect(),
            indicators: strings(&crate::report::INDICATORS),
            countries: schema::COUNTRIES
                .iter()
                .map(|(a3, a2)| ((*a3).to_string(), (*a2).to_string()))
                .collect(),
            person_required: strings(crate::domain::PERSON_REQUIRED),
            export_tables: ExportTable::ALL
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            person_level_tables: ExportTable::ALL
                .iter()
                .filter(|t| t.person_level())
                .map(|t| t.as_str().to_string())
                .collect(),
            export_formats: ExportFormat::ALL
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
        }
    }
}

/// The logged-in user's session: who they are, what they may do, what forms offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SessionInfo {
    /// Log-in name.
    pub user: String,
    /// Role.
    pub role: String,
    /// The organisation's name.
    pub org_name: String,
    /// This laptop's name.
    pub device_name: String,
    /// The user's language on this laptop, when chosen.
    pub language: Option<String>,
    /// The Arabic month names the user reads: maghreb, levant or standard.
    pub months: Option<String>,
    /// The digits the user reads in Arabic: latn (0123) or arab (٠١٢٣).
    pub digits: Option<String>,
    /// Whether this is the demo database.
    pub demo: bool,
    /// What the user may do.
    pub permissions: Permissions,
    /// The choice lists.
    pub choices: Choices,
    /// Today, by the core's clock: the default date of every form.
    pub today: NaiveDate,
}

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Money {
    /// ISO 4217 code.
    pub currency: String,
    /// Exact amount.
    #[ts(type = "string")]
    pub amount: Decimal,
}

/// What `masar check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Checked {
    /// Whether SQLite's integrity check passed.
    pub ok: bool,
    /// Records waiting for what they link to.
    pub pending: i64,
}

/// The digest of what a database shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Digest {
    /// SHA-256, hex.
    pub digest: String,
}

/// An entry of a reference list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ReferenceEntry {
    /// The list.
    pub list: String,
    /// The entry.
    pub name: String,
}

/// Where a project is back after an undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct StageUndone {
    /// The project.
    pub id: String,
    /// The stage it is back at.
    pub stage: Stage,
}

/// Whose password was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PasswordChanged {
    /// The user.
    pub user: String,
}

fn date(text: Option<String>) -> Result<Option<NaiveDate>> {
    match text {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                StoreError::Corrupt {
                    what: "date".into(),
                    value: t,
                }
                .into()
            }),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, person, temp_db};

    #[test]
    fn a_timeline_names_the_project_of_its_tranches_and_visits() {
        let (_d, mut m) = temp_db();
        for (list, name) in [("sector", "food"), ("donor", "EU"), ("currency", "MAD")] {
            m.add_reference(list, name).unwrap();
        }
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: std::slice::from_ref(&a).to_vec(),
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        crate::testing::approve(&mut m, &p, "900", "1000", Some("MAD"));
        m.add_disbursement(crate::domain::NewTranche {
            project: p.to_string(),
            date: "2024-01-05".into(),
            amount: "1000".into(),
            currency: "MAD".into(),
            donor: "EU".into(),
            mode: None,
            receipt: None,
            above_approved_because: None,
        })
        .unwrap();
        m.add_followup(crate::domain::NewFollowUp {
            project: p.to_string(),
            fields: crate::domain::Fields(
                kv(&[("date", "2024-02-01"), ("status", "active")]).to_vec(),
            ),
        })
        .unwrap();
        let t = m.timeline(&a).unwrap();
        let of = |kind: &str| {
            t.events
                .iter()
                .find(|e| e.kind == kind)
                .unwrap_or_else(|| panic!("no {kind} in {:?}", t.events))
        };
        assert_eq!(of("disbursement").project.as_deref(), Some(p.as_str()));
        assert_eq!(of("followup").project.as_deref(), Some(p.as_str()));
        assert_ne!(of("disbursement").id, p, "the event keeps its own id");
        assert_eq!(of("stage:funded").project.as_deref(), Some(p.as_str()));
    }

    #[test]
    fn home_lists_recent_events_in_words_and_the_true_count_of_my_persons() {
        let (_d, mut m) = temp_db();
        for i in 0..25 {
            person(&mut m, &format!("P{i}"), "female", "1990-01-01");
        }
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: std::slice::from_ref(&a).to_vec(),
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        m.add_budget_line(crate::domain::NewBudgetLine {
            project: p.to_string(),
            item: "Oven".into(),
            quantity: "1".into(),
            unit_cost: "900".into(),
        })
        .unwrap();
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::PlanReady,
            date: "2024-01-02".into(),
        })
        .unwrap();
        m.set_person(&a, &kv(&[("city", "Rabat"), ("phone", "0600")]))
            .unwrap();
        let home = m.home().unwrap();
        assert_eq!((home.caseload.len(), home.caseload_count), (20, 26));
        let kinds: Vec<(&str, &str, Option<&str>)> = home
            .recent
            .iter()
            .map(|e| (e.kind.as_str(), e.title.as_str(), e.detail.as_deref()))
            .collect();
        assert_eq!(
            kinds[0],
            ("record_updated", "Amina Test", Some("phone")),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("project_stage", "Bakery", Some("plan_ready"))),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&("project_opened", "Bakery", None)),
            "{kinds:?}"
        );
        assert!(
            !kinds
                .iter()
                .any(|k| k.2 == Some("project_id") || k.2 == Some("stage_date")),
            "{kinds:?}"
        );
    }

    #[test]
    fn the_persons_table_filters_sorts_and_pages_in_the_database() {
        let (_d, mut m) = temp_db();
        for (i, city) in ["Rabat", "Oujda", "Rabat"]
            .iter()
            .cycle()
            .take(30)
            .enumerate()
        {
            m.add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(
                    kv(&[
                        ("given", &format!("Fatima{i:02}")),
                        ("family", "Nasser"),
                        ("sex", "female"),
                        ("born", &format!("19{:02}-01-01", 60 + i)),
                        ("nationality", "SYR"),
                        ("city", city),
                    ])
                    .to_vec(),
                ),
                intake_date: None,
            })
            .unwrap();
        }
        let q = |search: Option<&str>,
                 city: Option<&str>,
                 sort: &str,
                 descending: bool,
                 offset: u32| crate::PersonQuery {
            search: search.map(Into::into),
            mine: true,
            city: city.map(Into::into),
            sort: serde_json::from_value(serde_json::json!(sort)).expect("a sort"),
            descending,
            offset,
            limit: 7,
        };
        let page = m.persons_page(&q(None, None, "born", false, 0)).unwrap();
        assert_eq!((page.total, page.rows.len()), (30, 7));
        assert_eq!(page.rows[0].given.as_deref(), Some("Fatima00"));
        assert_eq!(page.cities, vec!["Oujda".to_string(), "Rabat".to_string()]);
        let last = m.persons_page(&q(None, None, "born", false, 28)).unwrap();
        assert_eq!(last.rows.len(), 2);
        let rabat = m
            .persons_page(&q(Some("nass"), Some("rabat"), "born", true, 0))
            .unwrap();
        assert_eq!(rabat.total, 20);
        assert_eq!(rabat.rows[0].given.as_deref(), Some("Fatima29"));
        assert_eq!(
            m.persons_page(&q(Some("zz"), None, "name", false, 0))
                .unwrap()
                .total,
            0
        );
        // An order the table does not have cannot even be asked for.
        assert!(serde_json::from_value::<crate::PersonQuery>(
            serde_json::json!({"sort": "shoe size"})
        )
        .is_err());
    }

    #[test]
    fn a_search_walking_persons_in_name_order_gives_the_pages_that_sorting_its_matches_gives() {
        let (_d, mut m) = temp_db();
        let given = ["Amina", "Samir", "Salma", "Karim", "Sara", "Omar"];
        let family = ["Haddad", "Saleh", "Nasser", "Khatib", "Sabri"];
        let mut csv =
            String::from("given,family,given_ar,sex,born,nationality,phone,unhcr_id,city\n");
        for i in 0..240 {
            let (g, f) = (
                given[i % given.len()],
                family[(i / given.len()) % family.len()],
            );
            let ar = ["أمينة", "سمير", "سلمى"][i % 3];
            let city = ["Rabat", "Oujda", "rabat"][i % 3];
            csv.push_str(&format!(
                "{g},{f},{ar},female,1990-01-01,SYR,06{i:08},250-00C{i:05},{city}\n"
            ));
        }
        m.import_persons_csv(csv.as_bytes()).unwrap();
        for needle in [
            "amina",
            "sa",
            "sal",
            "adda",
            "karim hadd",
            "سلم",
            "0600000012",
            "250 00c",
            "zz",
        ] {
            for (sort, descending) in [
                ("", false),
                ("name", false),
                ("name", true),
                ("born", false),
            ] {
                for offset in [0, 15, 90] {
                    for city in [None, Some("RABAT")] {
                        let q = crate::PersonQuery {
                            search: Some(needle.into()),
                            mine: false,
                            city: city.map(Into::into),
                            sort: serde_json::from_value(serde_json::json!(sort)).expect("a sort"),
                            descending,
                            offset,
                            limit: 15,
                        };
                        let walked = m.db().persons_page_walking_from(&q, 0).unwrap();
                        let sorted = m.db().persons_page_walking_from(&q, u64::MAX).unwrap();
                        assert_eq!(walked, sorted, "{q:?}");
                    }
                }
            }
        }
        let all = |needle: &str| crate::PersonQuery {
            search: Some(needle.into()),
            limit: 200,
            ..Default::default()
        };
        assert_eq!(m.persons_page(&all("amina")).unwrap().total, 40);
        assert_eq!(
            m.persons_page(&all("sa")).unwrap().total,
            120 + 48,
            "Samir, Salma and Sara, and two in five of the others (Saleh, Sabri)"
        );
    }

    #[test]
    fn the_projects_table_shows_what_was_paid_and_the_next_visit() {
        let (_d, mut m) = temp_db();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let mut ids = Vec::new();
        for (i, amount) in ["300", "100", "200"].iter().enumerate() {
            let p = m
                .add_project(crate::domain::NewProject {
                    title: format!("Shop {i}"),
                    kind: "creation".into(),
                    sector: "food".into(),
                    members: std::slice::from_ref(&a).to_vec(),
                    date: Some("2024-01-01".into()),
                })
                .unwrap();
            m.add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Stock".into(),
                quantity: "1".into(),
                unit_cost: amount.to_string(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2024-01-02".into(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::InCommittee,
                date: "2024-01-03".into(),
            })
            .unwrap();
            m.decide(crate::domain::CommitteeDecision {
                project: p.to_string(),
                decision: crate::domain::Decision::Approved,
                date: "2024-01-04".into(),
                amount: Some(amount.to_string()),
                currency: Some("MAD".into()),
                remarks: None,
            })
            .unwrap();
            m.add_disbursement(crate::domain::NewTranche {
                project: p.to_string(),
                date: "2024-01-05".into(),
                amount: amount.to_string(),
                currency: "MAD".into(),
                donor: "EU".into(),
                mode: None,
                receipt: None,
                above_approved_because: None,
            })
            .unwrap();
            ids.push(p);
        }
        m.add_followup(crate::domain::NewFollowUp {
            project: ids[1].to_string(),
            fields: crate::domain::Fields(
                kv(&[
                    ("date", "2024-02-01"),
                    ("status", "active"),
                    ("next_due", "2024-03-01"),
                ])
                .to_vec(),
            ),
        })
        .unwrap();
        let q = crate::ProjectQuery {
            sort: crate::ProjectSort::Paid,
            limit: 50,
            ..Default::default()
        };
        let page = m.projects_page(&q).unwrap();
        let titles: Vec<_> = page
            .rows
            .iter()
            .map(|r| r.project.title.clone().unwrap_or_default())
            .collect();
        assert_eq!(titles, vec!["Shop 1", "Shop 2", "Shop 0"]);
        assert_eq!(
            page.rows[0].next_due.map(|d| d.to_string()).as_deref(),
            Some("2024-03-01")
        );
        assert!(page.rows[0].overdue, "the fixed clock is at 2024-06-01");
        let overdue = m
            .projects_page(&crate::ProjectQuery {
                overdue: true,
                limit: 50,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(overdue.total, 1);
        let funded = m
            .projects_page(&crate::ProjectQuery {
                stage: Some("funded".into()),
                limit: 2,
                ..Default::default()
            })
            .unwrap();
        assert_eq!((funded.total, funded.rows.len()), (3, 2));
    }

    #[test]
    fn a_project_view_says_what_the_rules_allow_for_the_user() {
        let (_d, mut m) = temp_db();
        m.add_reference("sector", "food").unwrap();
        let a = person(&mut m, "Amina", "female", "1990-01-01");
        let p = m
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![a],
                date: Some("2024-01-01".into()),
            })
            .unwrap();
        m.add_budget_line(crate::domain::NewBudgetLine {
            project: p.to_string(),
            item: "Oven".into(),
            quantity: "1".into(),
            unit_cost: "900".into(),
        })
        .unwrap();
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::PlanReady,
            date: "2024-01-02".into(),
        })
        .unwrap();
        let v = m.project_view(&p).unwrap();
        assert_eq!(
            v.rules.next_stages,
            [
                crate::domain::Stage::InCommittee,
                crate::domain::Stage::Draft
            ]
        );
        assert!(!v.rules.can_disburse && !v.rules.can_visit && !v.rules.can_decide);
        m.set_stage(crate::domain::StageChange {
            project: p.to_string(),
            stage: crate::domain::Stage::InCommittee,
            date: "2024-01-03".into(),
        })
        .unwrap();
        let v = m.project_view(&p).unwrap();
        assert!(
            v.rules.next_stages.is_empty(),
            "a committee's outcome is a decision: {:?}",
            v.rules.next_stages
        );
        assert!(v.rules.can_decide, "the test user is an admin");
        assert!(!v.rules.can_amend, "nothing approved yet");
        assert_eq!(
            v.decision_currency, None,
            "neither programme nor plan currency"
        );
        m.add_reference("currency", "MAD").unwrap();
        m.set_programme_currency("MAD").unwrap();
        let v = m.project_view(&p).unwrap();
        assert_eq!(v.decision_currency.as_deref(), Some("MAD"));
        m.decide(crate::domain::CommitteeDecision {
            project: p.to_string(),
            decision: crate::domain::Decision::Approved,
            date: "2024-01-04".into(),
            amount: Some("900".into()),
            currency: None,
            remarks: None,
        })
        .unwrap();
        let v = m.project_view(&p).unwrap();
        assert!(
            !v.rules.can_decide && v.rules.can_amend,
            "a new decision amends it"
        );
        assert_eq!(v.project.approved_currency.as_deref(), Some("MAD"));
    }
}
