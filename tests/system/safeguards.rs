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

/// An administrator sets the programme's currency; a committee's approval is in it unless
/// the supervisor names another, whatever the plan's currency (issue 21, item 1).
#[test]
fn an_approval_is_in_the_programmes_currency_unless_another_is_named() {
    let db = Db::new().with_reference_lists();
    assert_eq!(db.ok(&["ref", "currency"]), serde_json::Value::Null);
    let out = run(
        &db.path,
        &db.user,
        &db.password,
        &["--json", "user", "add", "samira", "--role", "supervisor"],
        &[("MASAR_NEW_PASSWORD", "samira counts the budget")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samira = |args: &[&str]| run(&db.path, "samira", "samira counts the budget", args, &[]);
    let refused = samira(&["ref", "currency", "EUR"]);
    assert_eq!(refused.status.code(), Some(3), "a supervisor is refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("edit reference lists"));
    let err = db.fail(&["ref", "currency", "USD"]);
    assert!(err.contains("USD") && err.contains("MAD"), "{err}");
    assert_eq!(db.ok(&["ref", "currency", "eur"]), "EUR");
    assert_eq!(db.ok(&["ref", "currency"]), "EUR");
    let project = |title: &str| {
        let amina = db.person("Amina", title);
        let p = db.id(&[
            "project",
            "add",
            "--title",
            title,
            "--kind",
            "creation",
            "--sector",
            "food",
            "--member",
            &amina,
            "--date",
            "2024-01-01",
        ]);
        db.id(&[
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
        db.ok(&["project", "set", &p, "currency=MAD"]);
        for (stage, date) in [("plan_ready", "2024-01-02"), ("in_committee", "2024-01-03")] {
            db.ok(&["project", "stage", &p, stage, "--date", date]);
        }
        p
    };
    let decide = |p: &str, extra: &[&str]| {
        let mut args = vec![
            "project",
            "decide",
            p,
            "approved",
            "--date",
            "2024-01-04",
            "--amount",
            "900",
        ];
        args.extend_from_slice(extra);
        let out = samira(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        db.ok(&["project", "get", p])["approved_currency"].clone()
    };
    let bakery = project("Bakery");
    assert_eq!(
        decide(&bakery, &[]),
        "EUR",
        "the programme's, not the plan's"
    );
    let tailor = project("Tailor");
    assert_eq!(decide(&tailor, &["--currency", "MAD"]), "MAD", "as named");
    // Another currency made the programme's: the earlier one is no longer it.
    assert_eq!(db.ok(&["ref", "currency", "MAD"]), "MAD");
    let grocer = project("Grocer");
    assert_eq!(decide(&grocer, &[]), "MAD");
}
