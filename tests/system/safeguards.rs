//! The journey's safeguards through the command line: money above the approved amount,
//! a plan that needs lines and freezes in committee, stage changes that can be taken back.

use crate::common::{run, Db, PASSWORD};

#[test]
fn the_safeguards_hold_through_the_command_line() {
    let db = Db::new().with_reference_lists();
    let amina = db.person("Amina", "Haddad");
    let p = db.id(&[
        "project",
        "add",
        "--title",
        "Bakery",
        "--kind",
        "creation",
        "--sector",
        "food",
        "--member",
        &amina,
        "--date",
        "2024-01-01",
    ]);
    let err = db.fail(&["project", "stage", &p, "plan_ready", "--date", "2024-01-02"]);
    assert!(err.contains("at least one budget line"), "{err}");
    let line = db.id(&[
        "project",
        "budget-add",
        &p,
        "--item",
        "Oven",
        "--quantity",
        "1",
        "--unit-cost",
        "900",
    ]);
    db.ok(&["project", "budget-set", &line, "unit_cost=10000"]);
    db.ok(&["project", "set", &p, "currency=MAD"]);
    db.ok(&["project", "stage", &p, "plan_ready", "--date", "2024-01-02"]);
    let undone = db.ok(&["project", "undo-stage", &p]);
    assert_eq!(undone["stage"], "draft");
    db.ok(&["project", "stage", &p, "plan_ready", "--date", "2024-01-02"]);
    db.ok(&[
        "project",
        "stage",
        &p,
        "in_committee",
        "--date",
        "2024-01-03",
    ]);
    let err = db.fail(&["project", "budget-remove", &line]);
    assert!(err.contains("frozen"), "{err}");
    db.ok(&[
        "project",
        "decide",
        &p,
        "approved",
        "--date",
        "2024-01-04",
        "--amount",
        "10000",
    ]);
    db.ok(&[
        "disbursement",
        "add",
        &p,
        "--date",
        "2024-01-10",
        "--amount",
        "6000",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    let before = db.snapshot();
    let out = db.run(&[
        "--json",
        "disbursement",
        "add",
        &p,
        "--date",
        "2024-01-11",
        "--amount",
        "5000",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("11000") && err.contains("10000") && err.contains("at most 4000"),
        "{err}"
    );
    assert_eq!(db.snapshot(), before, "a refused tranche changes nothing");
    let reason = "the price of the oven rose";
    let d = db.id(&[
        "disbursement",
        "add",
        &p,
        "--date",
        "2024-01-11",
        "--amount",
        "5000",
        "--currency",
        "MAD",
        "--donor",
        "EU",
        "--above-approved-because",
        reason,
    ]);
    let history = db.ok(&["history", &d]);
    assert!(
        history
            .as_array()
            .expect("a list")
            .iter()
            .any(|c| c["field"] == "override_reason" && c["new"] == reason),
        "{history}"
    );
    let err = db.fail(&["project", "undo-stage", &p]);
    assert!(err.contains("first tranche"), "{err}");
    let approx = db.id(&[
        "person",
        "add",
        "--given",
        "Omar",
        "--family",
        "Khatib",
        "--sex",
        "male",
        "--birth-year",
        "1988",
        "--nationality",
        "SYR",
    ]);
    assert_eq!(db.ok(&["person", "get", &approx])["birth_year"], 1988);
    let counsellor = run(
        &db.path,
        &db.user,
        PASSWORD,
        &["user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", PASSWORD)],
    );
    assert!(counsellor.status.success());
    let out = run(
        &db.path,
        "karim",
        PASSWORD,
        &[
            "disbursement",
            "add",
            &p,
            "--date",
            "2024-01-12",
            "--amount",
            "1",
            "--currency",
            "MAD",
            "--donor",
            "EU",
            "--above-approved-because",
            "x",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
