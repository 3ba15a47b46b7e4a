//! The window's TypeScript types, generated from the core's answers by ts-rs, so that a
//! change on one side that the other does not follow fails the build: this test compares
//! the generated text with the committed `ui/src/lib/types.ts` (and `svelte-check` then
//! checks the window's code against it). `MASAR_WRITE_TYPES=1` rewrites the file.

use ts_rs::{Config, TS};

use crate::*;

macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(format!("export {}", <$t as TS>::decl($cfg))),*]
    };
}

fn generate() -> String {
    // Counts travel as JSON numbers; none of them comes near 2^53.
    let cfg = Config::new().with_large_int("number");
    let decls: Vec<String> = declarations!(&cfg;
        ErrorReport, Versions, AppInfo, SessionInfo, Permissions, Choices, Id, Created, Status, Enrolled,
        UserSummary, Person, Intake, Session, Project, BudgetLine, BudgetLineView, BudgetSummary, StageEvent,
        Disbursement, FollowUp, Referral, PersonImport, ProjectRules, SessionTile, SessionView, ProjectTile,
        Money, ProjectView, PersonSort, PersonQuery, PersonsPage, ProjectSort, ProjectQuery, ProjectRow, ProjectsPage, TimelineEvent, Timeline, RecentEvent, VisitDue, SyncState, OverdueVisit, Home, Change,
        Conflict, Exported, Imported, SyncStage, SyncProgress, DeviceRow, RevocationDone, Equivocation, OrgKeyExported, OrgKeyImported, RootRotated, Held, HeldReason, Measure, Report, SurvivalStep, SurvivalAt, SurvivalBy, SurvivalCurve, Survival, JourneyStep, CounsellorOverdue, Dashboard,
        ExportFormat, ExportTable, ExportDone, ExportRecord, Language, DonorFormat, DonorReportDone, Checked, Digest, ReferenceEntry, PasswordChanged, StageUndone,
        BackupDone, BackupFile, BackupSettings, Restored, FolderFile, FolderSync,
        demo::DemoSummary,
        Done, Role, Stage, Decision, Fields, NewPerson, NewIntake, NewReferral, NewSession, Roster, NewProject,
        StageChange, CommitteeDecision, NewBudgetLine, NewTranche, NewFollowUp, NewUser,
    );
    let mut out = String::from(
        "// Generated from the Rust core's answers by ts-rs (crates/masar-core/src/typescript.rs).\n\
         // Do not edit: change the Rust struct, then run\n\
         // `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib typescript`.\n\n",
    );
    for d in decls {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_windows_typescript_types_match_the_cores_answers() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/types.ts");
    let generated = generate();
    if std::env::var("MASAR_WRITE_TYPES").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write the types");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/lib/types.ts is not what the core's answers generate: run \
         `MASAR_WRITE_TYPES=1 cargo test -p masar-core --lib typescript` and commit the file"
    );
}
