//! Which tranches count: a deterministic function of the converged log, so that every
//! laptop holding the same changes counts the same money, whatever an insider signs.
//!
//! A tranche counts (indicators, dashboard, donor report, survival) only when its
//! project has an approval — an approved amount whose winning value a supervisor wrote —
//! in the tranche's currency, and the approval covers the running total of the counted
//! tranches before it. Tranches are taken in a stated order: those whose amount a
//! supervisor wrote first, then by date, then by id; so a counsellor's tranche can never
//! push a supervisor's out. A tranche above the approval counts when a supervisor wrote
//! its reason, its amount and its currency (the reasoned override). Everything else is
//! **held**: not counted, and listed with the author of the change that made it so — the
//! author of its amount or currency, not of the record. A project moved past the
//! committee with no approval is listed too.
//!
//! The write path refuses what would be held (`Db::add_disbursement`); what arrives held
//! was signed by someone who edited their own laptop, and the list names them.

use std::collections::{BTreeMap, HashSet};

use rusqlite::Connection;
use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use crate::auth::Permission;
use crate::changes::{winner_authors, Author};
use crate::schema::stored_amount;
use crate::stage::Stage;
use crate::Result;

/// Why a tranche, or a project, is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum HeldReason {
    /// The project has no approval: no committee decided an amount.
    NoApproval,
    /// The tranche is in another currency than the approval.
    OtherCurrency,
    /// The tranche takes the payments above the approved amount, with no supervisor's
    /// reason.
    AboveApproved,
    /// The project stands at a stage past the committee (approved, funded, active,
    /// closed) without any approval.
    StageWithoutDecision,
}

/// Something held: a tranche that does not count, or a project past the committee with
/// no decision. Shown to supervisors (`masar report unexplained`, the supervision screen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Held {
    /// Why it is held.
    pub reason: HeldReason,
    /// The project.
    pub project: String,
    /// Its title.
    pub title: Option<String>,
    /// The tranche; none when the project itself is held.
    pub tranche: Option<String>,
    /// When it was paid.
    pub date: Option<String>,
    /// How much, as a decimal.
    pub amount: Option<String>,
    /// The tranche's currency.
    pub currency: Option<String>,
    /// What counted before it in the approval's currency, with it.
    pub paid: Option<String>,
    /// The amount the committee approved.
    pub approved: Option<String>,
    /// The currency of the approval.
    pub approved_currency: Option<String>,
    /// Who wrote the change that made it so (the tranche's amount or currency, the
    /// project's stage), by the name their certificate carries.
    pub recorded_by: Option<String>,
    /// On which laptop.
    pub device: Option<String>,
}

/// A project's approval: the amount and its currency, which only a supervisor's decision
/// writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Approval {
    /// The amount approved.
    pub amount: Decimal,
    /// Its currency.
    pub currency: String,
}

/// A tranche about to be written, judged with the others before it is (the write path
/// refuses what would be held).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proposed<'a> {
    /// The id it will have.
    pub id: &'a str,
    /// Its date.
    pub date: &'a str,
    /// Its amount.
    pub amount: Decimal,
    /// Its currency.
    pub currency: &'a str,
    /// Whether it carries a supervisor's reason (the write path checked the right).
    pub overridden: bool,
    /// Whether its author is a supervisor.
    pub by_supervisor: bool,
}

/// One tranche as the rule reads it.
#[derive(Debug, Clone)]
struct Tranche {
    id: String,
    date: Option<String>,
    amount: Decimal,
    currency: Option<String>,
    overridden: bool,
}

/// The judgement of one project's tranches.
#[derive(Debug, Clone, Default)]
pub(crate) struct Judgement {
    /// The tranches held, with why.
    pub held: Vec<Held>,
    /// What counts, in the approval's currency (zero without an approval).
    pub counted: Decimal,
    /// The approval it was judged against.
    pub approval: Option<Approval>,
}

fn decides(author: Option<&Author>, permission: Permission) -> bool {
    author
        .and_then(|a| a.role)
        .is_some_and(|r| permission.allows(r))
}

/// A project's approval, if a supervisor's decision wrote it: the winning approved amount
/// and currency must both be a supervisor's (the role table refuses anyone else's, and
/// this holds even for a log that a forged role table once let in). An approval recorded
/// before approvals carried a currency (schema 10) is read as the version that recorded
/// it compared it: in the project's currency, else in that of its first tranche.
pub(crate) fn approval(conn: &Connection, project: &str) -> Result<Option<Approval>> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT approved_amount, approved_currency, currency FROM projects WHERE id = ?1",
        )?
        .query_row([project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .ok();
    let Some((amount, approved_currency, currency)) = row else {
        return Ok(None);
    };
    let Some(amount) = stored_amount("approved_amount", amount)? else {
        return Ok(None);
    };
    let authors = winner_authors(conn, "project", project)?;
    if !decides(
        authors.get("approved_amount"),
        Permission::DecideInCommittee,
    ) {
        return Ok(None);
    }
    let currency = match approved_currency {
        Some(c) if decides(authors.get("approved_currency"), Permission::DecideInCommittee) => Some(c),
        Some(_) => None,
        None => match currency {
            Some(c) => Some(c),
            None => conn
                .prepare_cached("SELECT currency FROM disbursements WHERE project_id = ?1 AND currency IS NOT NULL ORDER BY date, id LIMIT 1")?
                .query_row([project], |r| r.get(0))
                .ok(),
        },
    };
    Ok(currency.map(|currency| Approval { amount, currency }))
}

/// Judges one project's tranches, with `extra` as if it were paid too (the write path
/// asks whether a new tranche would be held).
pub(crate) fn judge_project(
    conn: &Connection,
    project: &str,
    title: Option<String>,
    extra: Option<Proposed<'_>>,
) -> Result<Judgement> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = conn
        .prepare_cached("SELECT id, date, amount, currency, override_reason FROM disbursements WHERE project_id = ?1")?
        .query_map([project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tranches = Vec::with_capacity(rows.len() + 1);
    for (id, date, amount, currency, reason) in rows {
        let amount = stored_amount("amount", amount)?.unwrap_or_default();
        tranches.push(Tranche {
            id,
            date,
            amount,
            currency,
            overridden: reason.is_some_and(|r| !r.trim().is_empty()),
        });
    }
    if let Some(n) = extra {
        tranches.push(Tranche {
            id: n.id.to_string(),
            date: Some(n.date.into()),
            amount: n.amount,
            currency: Some(n.currency.into()),
            overridden: n.overridden,
        });
    }
    let approval = approval(conn, project)?;
    let mut out = Judgement {
        approval: approval.clone(),
        ..Judgement::default()
    };
    if tranches.is_empty() {
        return Ok(out);
    }
    // The common case needs no author: every tranche in the approval's currency, none
    // with a reason, and all of them within it, count in any order.
    if let Some(a) = &approval {
        let all_in = tranches
            .iter()
            .all(|t| t.currency.as_deref() == Some(a.currency.as_str()) && !t.overridden);
        let total: Decimal = tranches.iter().map(|t| t.amount).sum();
        if all_in && total <= a.amount {
            out.counted = total;
            return Ok(out);
        }
    }
    // Otherwise each tranche's authors decide: read them once.
    let mut authors: BTreeMap<String, BTreeMap<String, Author>> = BTreeMap::new();
    let new_id = extra.map(|n| n.id);
    for t in tranches.iter().filter(|t| Some(t.id.as_str()) != new_id) {
        authors.insert(t.id.clone(), winner_authors(conn, "disbursement", &t.id)?);
    }
    // The new tranche is this user's, whose role the write path knows.
    let by_supervisor = |t: &Tranche, field: &str, permission: Permission| -> bool {
        match extra {
            Some(n) if n.id == t.id => n.by_supervisor,
            _ => decides(authors.get(&t.id).and_then(|a| a.get(field)), permission),
        }
    };
    tranches.sort_by(|a, b| {
        let sa = by_supervisor(a, "amount", Permission::DecideInCommittee);
        let sb = by_supervisor(b, "amount", Permission::DecideInCommittee);
        sb.cmp(&sa)
            .then_with(|| a.date.cmp(&b.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut paid = Decimal::ZERO;
    for t in &tranches {
        let author_of = |field: &str| authors.get(&t.id).and_then(|a| a.get(field)).cloned();
        let held = |reason: HeldReason, blame: Option<Author>, paid: Option<Decimal>| Held {
            reason,
            project: project.to_string(),
            title: title.clone(),
            tranche: Some(t.id.clone()),
            date: t.date.clone(),
            amount: Some(t.amount.to_string()),
            currency: t.currency.clone(),
            paid: paid.map(|p| p.to_string()),
            approved: approval.as_ref().map(|a| a.amount.to_string()),
            approved_currency: approval.as_ref().map(|a| a.currency.clone()),
            recorded_by: blame.as_ref().and_then(|a| a.name.clone()),
            device: blame.map(|a| a.device),
        };
        let Some(a) = &approval else {
            out.held
                .push(held(HeldReason::NoApproval, author_of("amount"), None));
            continue;
        };
        if t.currency.as_deref() != Some(a.currency.as_str()) {
            out.held
                .push(held(HeldReason::OtherCurrency, author_of("currency"), None));
            continue;
        }
        let would_be = paid + t.amount;
        let overridden = t.overridden
            && ["override_reason", "amount", "currency"]
                .iter()
                .all(|f| by_supervisor(t, f, Permission::OverrideApprovedAmount));
        if would_be <= a.amount || overridden {
            paid = would_be;
        } else {
            out.held.push(held(
                HeldReason::AboveApproved,
                author_of("amount"),
                Some(would_be),
            ));
        }
    }
    out.counted = paid;
    Ok(out)
}

/// Everything held, by project: the tranches that do not count and the projects past the
/// committee without a decision.
pub(crate) fn held(conn: &Connection) -> Result<Vec<Held>> {
    type ProjectRow = (String, Option<String>, Option<String>, bool);
    // The stages past an approval, from the one rule that says which they are.
    let past: Vec<String> = Stage::ALL
        .into_iter()
        .filter(|s| s.past_approval())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let projects: Vec<ProjectRow> = conn
        .prepare(&format!(
            "SELECT p.id, p.title, p.stage, EXISTS (SELECT 1 FROM disbursements d WHERE d.project_id = p.id)
             FROM projects p WHERE p.stage IN ({})
                OR EXISTS (SELECT 1 FROM disbursements d WHERE d.project_id = p.id) ORDER BY p.id",
            past.join(", ")
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (project, title, stage, any_tranche) in projects {
        if stage
            .as_deref()
            .and_then(|s| Stage::stored(Some(s)).ok())
            .is_some_and(Stage::past_approval)
            && approval(conn, &project)?.is_none()
        {
            let blame = winner_authors(conn, "project", &project)?.remove("stage");
            out.push(Held {
                reason: HeldReason::StageWithoutDecision,
                project: project.clone(),
                title: title.clone(),
                tranche: None,
                date: None,
                amount: None,
                currency: None,
                paid: None,
                approved: None,
                approved_currency: None,
                recorded_by: blame.as_ref().and_then(|a| a.name.clone()),
                device: blame.map(|a| a.device),
            });
        }
        if any_tranche {
            let mut judged = judge_project(conn, &project, title, None)?.held;
            judged.sort_by(|a, b| (&a.date, &a.tranche).cmp(&(&b.date, &b.tranche)));
            out.extend(judged);
        }
    }
    Ok(out)
}

/// The ids of the tranches held, for the queries that count money.
pub(crate) fn held_tranches(conn: &Connection) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    let projects: Vec<(String, Option<String>)> = conn
        .prepare("SELECT DISTINCT d.project_id, p.title FROM disbursements d LEFT JOIN projects p ON p.id = d.project_id")?
        .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (project, title) in projects {
        out.extend(
            judge_project(conn, &project, title, None)?
                .held
                .into_iter()
                .filter_map(|h| h.tranche),
        );
    }
    Ok(out)
}

/// Fills the connection's temporary table `held_tranches` with the tranches held now, so
/// that the queries counting money leave them out (`d.id NOT IN temp.held_tranches`).
/// Temporary: local to this connection, never in the file, never synced.
pub(crate) fn mark_held(conn: &Connection) -> Result<()> {
    conn.execute_batch("CREATE TEMP TABLE IF NOT EXISTS held_tranches(id TEXT PRIMARY KEY); DELETE FROM temp.held_tranches;")?;
    let mut insert =
        conn.prepare_cached("INSERT OR IGNORE INTO temp.held_tranches(id) VALUES (?1)")?;
    for id in held_tranches(conn)? {
        insert.execute([id])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Honest and forged money changes — tranches, approvals, currencies, stage moves —
    //! across three laptops in random orders: every laptop ends with the same indicators,
    //! and no tranche counted lacks a covering approval in its currency.

    use std::path::PathBuf;
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::{Clock, FixedClock};
    use crate::forge::{Author, Forged, Forger};
    use crate::report::Measure;
    use crate::Masar;

    #[derive(Debug, Clone)]
    enum Action {
        /// An honest tranche (the write path may refuse it).
        Pay {
            laptop: usize,
            amount: usize,
            euro: bool,
        },
        /// A supervisor's new decision on the amount.
        Decide {
            laptop: usize,
            amount: usize,
        },
        /// Karim forges a tranche of his own.
        ForgeTranche {
            amount: usize,
            euro: bool,
        },
        /// Karim raises the newest tranche he holds.
        ForgeRaise {
            amount: usize,
        },
        /// Karim changes a currency: the project's plan, the approval's, or a tranche's.
        ForgeCurrency {
            which: usize,
        },
        /// Karim moves the project's stage.
        ForgeStage {
            active: bool,
        },
        Export {
            laptop: usize,
        },
        Import {
            laptop: usize,
            bundle: usize,
        },
    }

    const AMOUNTS: [&str; 4] = ["100", "450.50", "900", "250000"];

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            3 => (0..3usize, 0..4usize, any::<bool>()).prop_map(|(laptop, amount, euro)| Action::Pay { laptop, amount, euro }),
            1 => (0..3usize, 0..4usize).prop_map(|(laptop, amount)| Action::Decide { laptop, amount }),
            2 => (0..4usize, any::<bool>()).prop_map(|(amount, euro)| Action::ForgeTranche { amount, euro }),
            1 => (0..4usize).prop_map(|amount| Action::ForgeRaise { amount }),
            1 => (0..3usize).prop_map(|which| Action::ForgeCurrency { which }),
            1 => any::<bool>().prop_map(|active| Action::ForgeStage { active }),
            3 => (0..3usize).prop_map(|laptop| Action::Export { laptop }),
            4 => (0..3usize, 0..64usize).prop_map(|(laptop, bundle)| Action::Import { laptop, bundle }),
        ]
    }

    struct World {
        dir: tempfile::TempDir,
        laptops: Vec<Masar>,
        insider: Masar,
        project: String,
        bundles: Vec<PathBuf>,
        forged: usize,
    }

    fn clock() -> Arc<dyn Clock> {
        Arc::new(FixedClock(
            chrono::NaiveDate::from_ymd_opt(2024, 6, 1)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .expect("date")
                .and_utc(),
        ))
    }

    fn world() -> World {
        let (dir, mut founder) = crate::testing::temp_db();
        let p = crate::testing::person(&mut founder, "Amina", "female", "1990-01-01");
        let project = founder
            .add_project(crate::domain::NewProject {
                title: "Bakery".into(),
                kind: "creation".into(),
                sector: "food".into(),
                members: vec![p],
                date: Some("2024-01-01".into()),
            })
            .expect("project");
        founder
            .add_budget_line(crate::domain::NewBudgetLine {
                project: project.to_string(),
                item: "Oven".into(),
                quantity: "1".into(),
                unit_cost: "900".into(),
            })
            .expect("line");
        founder
            .set_stage(crate::domain::StageChange {
                project: project.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2024-01-02".into(),
            })
            .expect("stage");
        founder
            .set_stage(crate::domain::StageChange {
                project: project.to_string(),
                stage: crate::domain::Stage::InCommittee,
                date: "2024-01-03".into(),
            })
            .expect("stage");
        founder
            .decide(crate::domain::CommitteeDecision {
                project: project.to_string(),
                decision: crate::domain::Decision::Approved,
                date: "2024-01-04".into(),
                amount: Some("1000".into()),
                currency: Some("MAD".into()),
                remarks: None,
            })
            .expect("approve");
        founder
            .add_user(crate::domain::NewUser {
                name: "karim".into(),
                role: crate::auth::Role::Counsellor,
                password: "karim tailors in Oujda".into(),
            })
            .expect("karim");
        let seed = dir.path().join("seed.masar");
        founder
            .export_bundle(&seed, true, &[], |_| {})
            .expect("export");
        let mut laptops = vec![founder];
        for i in 1..3 {
            let enrol = dir.path().join(format!("l{i}.enrol"));
            laptops[0]
                .enrol(&enrol, "passphrase!", None)
                .expect("enrol");
            let bytes = std::fs::read(&enrol).expect("read");
            let (mut m, _) = Masar::join(
                &dir.path().join(format!("l{i}.db")),
                &bytes,
                "passphrase!",
                &format!("l{i}"),
                "admin",
                "a long enough passphrase",
                clock(),
            )
            .expect("join");
            m.import_bundles(&[seed.as_path()], |_| {}).expect("seed");
            laptops.push(m);
        }
        let insider = Masar::open(
            &dir.path().join("t.db"),
            "karim",
            "karim tailors in Oujda",
            clock(),
        )
        .expect("karim");
        World {
            dir,
            laptops,
            insider,
            project,
            bundles: vec![seed],
            forged: 0,
        }
    }

    fn forge(w: &mut World, make: impl FnOnce(&Forger<'_>, &str) -> Vec<Forged>) {
        w.forged += 1;
        let id = format!("forged-{}", w.forged);
        let forger = Forger::new(&w.insider);
        let changes = make(&forger, &w.project);
        if changes.is_empty() {
            return;
        }
        let path = w.dir.path().join(format!("{id}.masar"));
        std::fs::write(&path, forger.bundle(&changes, Author::Own, &id)).expect("write");
        w.bundles.push(path);
    }

    fn head(m: &Masar, entity: &str, record: &str, field: &str) -> Option<(i64, String)> {
        m.conn()
            .query_row(
                "SELECT hlc, device FROM changes WHERE entity = ?1 AND record = ?2 AND field = ?3 AND head = 1 ORDER BY hlc DESC LIMIT 1",
                [entity, record, field],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
    }

    fn run(w: &mut World, a: &Action) {
        match a.clone() {
            Action::Pay {
                laptop,
                amount,
                euro,
            } => {
                let _ = w.laptops[laptop].add_disbursement(crate::domain::NewTranche {
                    project: w.project.clone(),
                    date: "2024-02-01".into(),
                    amount: AMOUNTS[amount].into(),
                    currency: if euro { "EUR" } else { "MAD" }.into(),
                    donor: "EU".into(),
                    ..Default::default()
                });
            }
            Action::Decide { laptop, amount } => {
                let _ = w.laptops[laptop].decide(crate::domain::CommitteeDecision {
                    project: w.project.clone(),
                    decision: crate::domain::Decision::Approved,
                    date: "2024-02-02".into(),
                    amount: Some(AMOUNTS[amount].into()),
                    currency: Some("MAD".into()),
                    remarks: None,
                });
            }
            Action::ForgeTranche { amount, euro } => {
                let n = w.forged;
                forge(w, |f, project| {
                    let id = uuid::Uuid::new_v5(
                        &uuid::Uuid::NAMESPACE_OID,
                        format!("tranche-{n}").as_bytes(),
                    )
                    .to_string();
                    let fields = [
                        ("project_id", format!("\"{project}\"")),
                        ("date", "\"2024-02-03\"".to_string()),
                        ("amount", format!("\"{}\"", AMOUNTS[amount])),
                        (
                            "currency",
                            if euro { "\"EUR\"" } else { "\"MAD\"" }.to_string(),
                        ),
                        ("donor", "\"EU\"".to_string()),
                    ];
                    let base = f.change("disbursement", &id, "date", "null").hlc + n as i64 * 16;
                    fields
                        .iter()
                        .enumerate()
                        .map(|(i, (field, json))| {
                            let mut c = f.change("disbursement", &id, field, json);
                            c.hlc = base + i as i64;
                            c.creates = i == 0;
                            c
                        })
                        .collect()
                });
            }
            Action::ForgeRaise { amount } => {
                let newest: Option<String> = w
                    .insider
                    .conn()
                    .query_row(
                        "SELECT id FROM disbursements ORDER BY id DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                let Some(tranche) = newest else { return };
                let parent = head(&w.insider, "disbursement", &tranche, "amount");
                let n = w.forged as i64;
                forge(w, |f, _| {
                    let mut c = f.change(
                        "disbursement",
                        &tranche,
                        "amount",
                        &format!("\"{}\"", AMOUNTS[amount]),
                    );
                    c.hlc += n * 16;
                    c.parents = parent.into_iter().collect();
                    vec![c]
                });
            }
            Action::ForgeCurrency { which } => {
                let newest: Option<String> = w
                    .insider
                    .conn()
                    .query_row(
                        "SELECT id FROM disbursements ORDER BY id DESC LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .ok();
                let n = w.forged as i64;
                forge(w, |f, project| {
                    let mut c = match (which, newest) {
                        (0, _) => f.change("project", project, "currency", "\"EUR\""),
                        (1, _) => f.change("project", project, "approved_currency", "\"EUR\""),
                        (_, Some(t)) => f.change("disbursement", &t, "currency", "\"EUR\""),
                        (_, None) => return Vec::new(),
                    };
                    c.hlc += n * 16;
                    vec![c]
                });
            }
            Action::ForgeStage { active } => {
                let n = w.forged as i64;
                forge(w, |f, project| {
                    let mut c = f.change(
                        "project",
                        project,
                        "stage",
                        if active { "\"active\"" } else { "\"draft\"" },
                    );
                    c.hlc += n * 16;
                    vec![c]
                });
            }
            Action::Export { laptop } => {
                let path = w.dir.path().join(format!("b{}.masar", w.bundles.len()));
                w.laptops[laptop]
                    .export_bundle(&path, false, &[], |_| {})
                    .expect("export");
                w.bundles.push(path);
            }
            Action::Import { laptop, bundle } => {
                let b = w.bundles[bundle % w.bundles.len()].clone();
                // A forgery beyond the role table is refused whole; that is one outcome.
                let _ = w.laptops[laptop].import_bundles(&[b.as_path()], |_| {});
            }
        }
    }

    /// Every counted tranche is in its approval's currency and their sum is within it.
    fn covered(m: &Masar, project: &str) -> std::result::Result<(), String> {
        let conn = m.conn();
        let held = held_tranches(conn).map_err(|e| e.to_string())?;
        let rows: Vec<(String, Option<String>, Option<String>)> = conn
            .prepare("SELECT id, amount, currency FROM disbursements WHERE project_id = ?1")
            .and_then(|mut s| {
                s.query_map([project], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(|e| e.to_string())?;
        let counted: Vec<_> = rows
            .into_iter()
            .filter(|(id, ..)| !held.contains(id))
            .collect();
        if counted.is_empty() {
            return Ok(());
        }
        let a = approval(conn, project)
            .map_err(|e| e.to_string())?
            .ok_or("a tranche counts without an approval")?;
        let mut sum = Decimal::ZERO;
        for (id, amount, currency) in counted {
            if currency.as_deref() != Some(a.currency.as_str()) {
                return Err(format!(
                    "tranche {id} in {currency:?} counts against an approval in {}",
                    a.currency
                ));
            }
            sum += amount
                .and_then(|t| Decimal::from_str_exact(&t).ok())
                .unwrap_or_default();
        }
        if sum > a.amount {
            return Err(format!("{sum} counted against {} approved", a.amount));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 20, ..ProptestConfig::default() })]
        #[test]
        fn money_counts_alike_everywhere_and_only_as_approved(actions in prop::collection::vec(action(), 5..25)) {
            let mut w = world();
            for a in &actions {
                run(&mut w, a);
            }
            // Everyone exchanges everything: every bundle, then each laptop's whole log.
            let all: Vec<PathBuf> = w.bundles.clone();
            for m in w.laptops.iter_mut() {
                for b in &all {
                    let _ = m.import_bundles(&[b.as_path()], |_| {});
                }
            }
            let mut fulls = Vec::new();
            for (i, m) in w.laptops.iter_mut().enumerate() {
                let path = w.dir.path().join(format!("full{i}.masar"));
                m.export_bundle(&path, true, &[], |_| {}).expect("export");
                fulls.push(path);
            }
            let refs: Vec<&std::path::Path> = fulls.iter().map(PathBuf::as_path).collect();
            for m in w.laptops.iter_mut() {
                m.import_bundles(&refs, |_| {}).expect("honest bundles");
            }
            let first = &w.laptops[0];
            let report = first.report("2024-01-01", "2024-12-31", &[]).expect("report");
            for (i, m) in w.laptops.iter().enumerate() {
                prop_assert_eq!(m.digest().expect("digest"), first.digest().expect("digest"), "laptop {}", i);
                prop_assert_eq!(&m.report("2024-01-01", "2024-12-31", &[]).expect("report").indicators, &report.indicators, "laptop {}", i);
                prop_assert_eq!(m.unexplained_tranches().expect("held"), first.unexplained_tranches().expect("held"), "laptop {}", i);
                if let Err(e) = covered(m, &w.project) {
                    prop_assert!(false, "laptop {}: {}", i, e);
                }
            }
            if let Some(Measure::Money(m)) = report.indicators.get("amount_disbursed") {
                prop_assert!(m.keys().all(|c| c == "MAD"), "only the approval's currency counts: {:?}", m);
            }
        }
    }
}
