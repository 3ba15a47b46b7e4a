//! Every kind of bad input is refused with a message naming the field, the value and the
//! fix, and changes nothing.

use crate::common::Db;

/// A database with one person, one approved project and one rejected project.
struct World {
    db: Db,
    person: String,
    approved: String,
    rejected: String,
    draft: String,
}

fn world() -> World {
    let db = Db::new().with_reference_lists();
    let person = db.person("Amina", "Haddad");
    let approved = db.approved_project("creation", &[&person]);
    let rejected = {
        let p = db.id(&[
            "project",
            "add",
            "--title",
            "R",
            "--kind",
            "creation",
            "--sector",
            "food",
            "--member",
            &person,
            "--date",
            "2019-01-01",
        ]);
        db.ok(&[
            "project",
            "budget-add",
            &p,
            "--item",
            "Sewing machine",
            "--quantity",
            "1",
            "--unit-cost",
            "900",
        ]);
        db.ok(&["project", "stage", &p, "plan_ready", "--date", "2019-01-02"]);
        db.ok(&[
            "project",
            "stage",
            &p,
            "in_committee",
            "--date",
            "2019-01-03",
        ]);
        db.ok(&[
            "project",
            "decide",
            &p,
            "rejected",
            "--date",
            "2019-01-04",
            "--remarks",
            "not viable",
        ]);
        p
    };
    let draft = db.id(&[
        "project",
        "add",
        "--title",
        "D",
        "--kind",
        "reinforcement",
        "--sector",
        "food",
        "--member",
        &person,
    ]);
    World {
        db,
        person,
        approved,
        rejected,
        draft,
    }
}

/// Runs a command that must fail, checks its message holds every `needle`, and that the
/// database is exactly as before.
fn refused(w: &World, args: &[&str], needles: &[&str]) {
    let before = w.db.snapshot();
    let err = w.db.fail(args);
    for n in needles {
        assert!(err.contains(n), "message for {args:?} lacks {n:?}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert_eq!(w.db.snapshot(), before, "{args:?} changed the database");
}

const UNKNOWN: &str = "0190f0e4-0000-7000-8000-000000000000";

#[test]
fn malformed_dates_name_the_field_the_value_and_the_format() {
    let w = world();
    refused(
        &w,
        &[
            "person",
            "add",
            "--given",
            "A",
            "--family",
            "B",
            "--sex",
            "male",
            "--born",
            "1990-13-01",
            "--nationality",
            "SYR",
        ],
        &["born", "'1990-13-01'", "YYYY-MM-DD"],
    );
    refused(
        &w,
        &["intake", "add", &w.person, "--date", "12/03/2024"],
        &["date", "'12/03/2024'", "YYYY-MM-DD"],
    );
    refused(
        &w,
        &[
            "disbursement",
            "add",
            &w.approved,
            "--date",
            "2019-02-30",
            "--amount",
            "10",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
        &["date", "2019-02-30"],
    );
    refused(
        &w,
        &[
            "report",
            "indicators",
            "--from",
            "2024",
            "--to",
            "2024-12-31",
        ],
        &["from", "'2024'"],
    );
}

#[test]
fn unknown_choices_list_the_accepted_words() {
    let w = world();
    refused(
        &w,
        &[
            "person",
            "add",
            "--given",
            "A",
            "--family",
            "B",
            "--sex",
            "x",
            "--born",
            "1990-01-01",
            "--nationality",
            "SYR",
        ],
        &["sex", "'x'", "female, male, other"],
    );
    refused(
        &w,
        &[
            "project", "add", "--title", "T", "--kind", "shop", "--sector", "food", "--member",
            &w.person,
        ],
        &["kind", "'shop'", "creation, reinforcement, cooperative"],
    );
    refused(
        &w,
        &[
            "session",
            "add",
            "--kind",
            "party",
            "--date",
            "2024-01-01",
            "--topic",
            "T",
        ],
        &["kind", "'party'", "awareness, training"],
    );
    refused(
        &w,
        &[
            "followup",
            "add",
            &w.approved,
            "--date",
            "2019-03-01",
            "--status",
            "fine",
        ],
        &["status", "'fine'"],
    );
    refused(
        &w,
        &[
            "person",
            "add",
            "--given",
            "A",
            "--family",
            "B",
            "--sex",
            "male",
            "--born",
            "1990-01-01",
            "--nationality",
            "Syria",
        ],
        &["nationality", "'Syria'", "three-letter"],
    );
}

#[test]
fn negative_or_non_numeric_amounts_are_refused() {
    let w = world();
    let base = [
        "disbursement",
        "add",
        &w.approved,
        "--date",
        "2019-03-01",
        "--currency",
        "MAD",
        "--donor",
        "EU",
        "--amount",
    ];
    let with = |a: &'static str| -> Vec<&str> { base.iter().copied().chain([a]).collect() };
    refused(&w, &with("-500"), &["amount", "'-500'", "negative"]);
    refused(
        &w,
        &with("12abc"),
        &["amount", "'12abc'", "not an amount", "1250.50"],
    );
    refused(&w, &with("1e3"), &["amount", "'1e3'"]);
    refused(&w, &with("12,50"), &["amount", "'12,50'"]);
    refused(&w, &with("0"), &["amount", "zero"]);
    refused(
        &w,
        &[
            "project",
            "budget-add",
            &w.approved,
            "--item",
            "X",
            "--quantity",
            "two",
            "--unit-cost",
            "5",
        ],
        &["quantity", "'two'"],
    );
}

#[test]
fn unknown_ids_and_members_that_do_not_exist_are_named() {
    let w = world();
    refused(&w, &["person", "get", UNKNOWN], &["no person", UNKNOWN]);
    refused(
        &w,
        &["intake", "add", UNKNOWN, "--date", "2024-01-01"],
        &["no person", UNKNOWN],
    );
    refused(
        &w,
        &[
            "project", "add", "--title", "T", "--kind", "creation", "--sector", "food", "--member",
            &w.person, "--member", UNKNOWN,
        ],
        &["no person", UNKNOWN],
    );
    refused(
        &w,
        &[
            "disbursement",
            "add",
            UNKNOWN,
            "--date",
            "2019-03-01",
            "--amount",
            "10",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
        &["no project", UNKNOWN],
    );
    refused(
        &w,
        &[
            "session",
            "add",
            "--kind",
            "awareness",
            "--date",
            "2024-01-01",
            "--topic",
            "T",
            "--attendee",
            &w.person,
            "--attendee",
            UNKNOWN,
        ],
        &["no person", UNKNOWN],
    );
}

#[test]
fn a_stage_that_cannot_follow_the_current_one_says_which_can() {
    let w = world();
    refused(
        &w,
        &[
            "project",
            "stage",
            &w.draft,
            "active",
            "--date",
            "2030-01-01",
        ],
        &["'draft'", "'active'", "plan_ready"],
    );
    // An approval is the committee's decision with its amount, never a bare stage.
    refused(
        &w,
        &[
            "project",
            "stage",
            &w.draft,
            "approved",
            "--date",
            "2030-01-01",
        ],
        &["project decide", "--amount"],
    );
    refused(
        &w,
        &[
            "project",
            "stage",
            &w.draft,
            "flying",
            "--date",
            "2030-01-01",
        ],
        &["stage", "'flying'"],
    );
    refused(
        &w,
        &[
            "project",
            "stage",
            &w.approved,
            "funded",
            "--date",
            "2019-03-01",
        ],
        &["first disbursement"],
    );
    refused(
        &w,
        &[
            "project",
            "stage",
            &w.rejected,
            "plan_ready",
            "--date",
            "2018-01-01",
        ],
        &["2018-01-01", "before"],
    );
}

#[test]
fn a_disbursement_on_a_rejected_or_unapproved_project_is_refused() {
    let w = world();
    refused(
        &w,
        &[
            "disbursement",
            "add",
            &w.rejected,
            "--date",
            "2019-03-01",
            "--amount",
            "100",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
        &["rejected", "approved project"],
    );
    refused(
        &w,
        &[
            "disbursement",
            "add",
            &w.draft,
            "--date",
            "2030-03-01",
            "--amount",
            "100",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
        &["'draft'", "approve"],
    );
    refused(
        &w,
        &[
            "disbursement",
            "add",
            &w.approved,
            "--date",
            "2018-03-01",
            "--amount",
            "100",
            "--currency",
            "MAD",
            "--donor",
            "EU",
        ],
        &["before the committee's approval"],
    );
    refused(
        &w,
        &[
            "disbursement",
            "add",
            &w.approved,
            "--date",
            "2019-03-01",
            "--amount",
            "100",
            "--currency",
            "MAD",
            "--donor",
            "Atlantis Fund",
        ],
        &["donor", "'Atlantis Fund'", "EU", "masar ref add donor"],
    );
}

#[test]
fn a_duplicate_attendee_or_member_refuses_the_whole_session_or_project() {
    let w = world();
    refused(
        &w,
        &[
            "session",
            "add",
            "--kind",
            "awareness",
            "--date",
            "2024-01-01",
            "--topic",
            "T",
            "--attendee",
            &w.person,
            "--attendee",
            &w.person,
        ],
        &["attendee", &w.person, "twice"],
    );
    refused(
        &w,
        &[
            "project", "add", "--title", "T", "--kind", "creation", "--sector", "food", "--member",
            &w.person, "--member", &w.person,
        ],
        &["member", "twice"],
    );
}

#[test]
fn unknown_fields_are_refused_with_the_known_ones() {
    let w = world();
    refused(
        &w,
        &["person", "set", &w.person, "colour=blue"],
        &["no field 'colour'", "given"],
    );
    refused(
        &w,
        &["person", "set", &w.person, "erased=yes"],
        &["erased", "cannot be set directly"],
    );
    refused(&w, &["person", "set", &w.person, "city"], &["KEY=VALUE"]);
    refused(
        &w,
        &["project", "set", &w.approved, "registered_on=2019-05-05"],
        &["registered_on", "cooperative"],
    );
    refused(
        &w,
        &[
            "followup",
            "add",
            &w.approved,
            "--date",
            "2019-06-01",
            "--status",
            "active",
        ],
        &["'approved'", "funded"],
    );
}

fn csv(w: &World, name: &str, text: &str) -> String {
    let path = w.db.dir().join(name);
    std::fs::write(&path, text).expect("write csv");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_csv_import_is_all_rows_or_none() {
    let w = world();
    let missing_column = csv(
        &w,
        "a.csv",
        "given,family,sex,born,nationality\nA,B,male,1990-01-01,SYR\nC,D,female,1991-01-01\n",
    );
    refused(
        &w,
        &["import", "persons", &missing_column],
        &["row 3", "4 columns", "header has 5", "nothing was imported"],
    );
    let bad_date = csv(
        &w,
        "b.csv",
        "given,family,sex,born,nationality\nA,B,male,1990-01-01,SYR\nC,D,female,01/01/1991,SYR\n",
    );
    refused(
        &w,
        &["import", "persons", &bad_date],
        &["row 3", "born", "'01/01/1991'", "nothing was imported"],
    );
    let unknown_column = csv(
        &w,
        "c.csv",
        "given,family,sex,born,nationality,shoe_size\nA,B,male,1990-01-01,SYR,42\n",
    );
    refused(
        &w,
        &["import", "persons", &unknown_column],
        &["unknown column 'shoe_size'"],
    );
    let no_required = csv(&w, "d.csv", "given,family,sex,nationality\nA,B,male,SYR\n");
    refused(
        &w,
        &["import", "persons", &no_required],
        &["'born'", "missing"],
    );
    let empty_required = csv(
        &w,
        "e.csv",
        "given,family,sex,born,nationality\nA,,male,1990-01-01,SYR\n",
    );
    refused(
        &w,
        &["import", "persons", &empty_required],
        &["row 2", "family is required"],
    );
    refused(
        &w,
        &["import", "persons", "/nonexistent/file.csv"],
        &["/nonexistent/file.csv", "cannot be read"],
    );
}

#[test]
fn a_follow_up_due_before_its_visit_and_an_inverted_period_are_refused() {
    let w = world();
    w.db.ok(&[
        "disbursement",
        "add",
        &w.approved,
        "--date",
        "2019-03-01",
        "--amount",
        "100",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    refused(
        &w,
        &[
            "followup",
            "add",
            &w.approved,
            "--date",
            "2019-06-01",
            "--status",
            "active",
            "--next-due",
            "2019-05-01",
        ],
        &["next_due", "2019-05-01", "after"],
    );
    refused(
        &w,
        &[
            "followup",
            "add",
            &w.approved,
            "--date",
            "2019-06-01",
            "--status",
            "active",
            "--jobs",
            "-1",
        ],
        &["jobs", "'-1'"],
    );
    refused(
        &w,
        &[
            "report",
            "indicators",
            "--from",
            "2024-12-31",
            "--to",
            "2024-01-01",
        ],
        &["swap"],
    );
}
