//! The CLI contract, command by command.

use crate::common::{run, Db, PASSWORD};

#[test]
fn init_prints_the_organisation_and_device_ids_and_refuses_to_overwrite() {
    let db = Db::new();
    let out = db.fail(&["init", "--org", "Other", "--device", "x"]);
    assert!(out.contains("already exists"), "{out}");
    let status = db.ok(&["status"]);
    assert_eq!(status["user"], "admin");
    assert_eq!(status["role"], "admin");
    assert!(status["org_id"].as_str().is_some_and(|s| s.len() == 36));
}

#[test]
fn a_person_is_added_read_corrected_and_listed() {
    let db = Db::new();
    let id = db.id(&[
        "person",
        "add",
        "--given",
        "Amina",
        "--family",
        "Haddad",
        "--given-ar",
        "أمينة",
        "--family-ar",
        "حداد",
        "--sex",
        "female",
        "--born",
        "1991-04-12",
        "--nationality",
        "syr",
        "--unhcr-id",
        "250-17C00042",
        "--city",
        "Rabat",
        "--phone",
        "+212 600 11 22 33",
        "--consent",
        "2024-01-15",
    ]);
    let p = db.ok(&["person", "get", &id]);
    for (k, v) in [
        ("id", id.as_str()),
        ("given", "Amina"),
        ("family", "Haddad"),
        ("given_ar", "أمينة"),
        ("family_ar", "حداد"),
        ("sex", "female"),
        ("born", "1991-04-12"),
        ("nationality", "SYR"),
        ("unhcr_id", "250-17C00042"),
        ("city", "Rabat"),
        ("phone", "+212 600 11 22 33"),
        ("consent", "2024-01-15"),
    ] {
        assert_eq!(p[k], v, "{k} in {p}");
    }
    db.ok(&["person", "set", &id, "city=Oujda", "household_size=4"]);
    let p = db.ok(&["person", "get", &id]);
    assert_eq!(p["city"], "Oujda");
    assert_eq!(p["household_size"], 4);
    let list = db.ok(&["person", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[test]
fn search_finds_fragments_of_names_in_both_scripts_ignoring_case_accents_and_diacritics() {
    let db = Db::new();
    let amina = db.id(&[
        "person",
        "add",
        "--given",
        "Amina",
        "--family",
        "Haddad",
        "--given-ar",
        "أَمِينَة",
        "--family-ar",
        "حداد",
        "--sex",
        "female",
        "--born",
        "1991-04-12",
        "--nationality",
        "SYR",
        "--unhcr-id",
        "250-17C00042",
        "--phone",
        "0611223344",
    ]);
    let helene = db.id(&[
        "person",
        "add",
        "--given",
        "Hélène",
        "--family",
        "Mbuyi",
        "--sex",
        "female",
        "--born",
        "1988-02-02",
        "--nationality",
        "COD",
    ]);
    let omar = db.person("Omar", "Khatib");
    let found = |q: &str| -> Vec<String> {
        db.ok(&["person", "list", "--search", q])
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(found("amin"), vec![amina.clone()]);
    assert_eq!(found("ADDA"), vec![amina.clone()]);
    assert_eq!(
        found("امينه"),
        vec![amina.clone()],
        "Arabic without diacritics, hamza or teh marbuta"
    );
    assert_eq!(found("حدا"), vec![amina.clone()]);
    assert_eq!(found("helene"), vec![helene.clone()]);
    assert_eq!(found("HÉL"), vec![helene.clone()]);
    assert_eq!(found("17C000"), vec![amina.clone()], "UNHCR id");
    assert_eq!(found("223344"), vec![amina.clone()], "phone");
    assert_eq!(
        found("om"),
        vec![omar.clone()],
        "two letters fall back to a scan"
    );
    assert!(found("zzz").is_empty());
    assert!(
        found("\"").is_empty(),
        "a quote in the search is text, not syntax"
    );
}

#[test]
fn history_records_who_changed_what_and_when() {
    let db = Db::new();
    let id = db.person("Omar", "Khatib");
    db.ok(&["person", "set", &id, "city=Rabat"]);
    let h = db.ok(&["history", &id]);
    let h = h.as_array().expect("an array");
    let city: Vec<_> = h.iter().filter(|c| c["field"] == "city").collect();
    assert_eq!(city.len(), 1);
    assert_eq!(city[0]["new"], "Rabat");
    assert_eq!(city[0]["old"], serde_json::Value::Null);
    assert_eq!(city[0]["user"], "admin");
    assert_eq!(city[0]["entity"], "person");
    assert!(city[0]["at"].as_str().is_some_and(|t| t.contains('T')));
    assert!(h
        .iter()
        .any(|c| c["field"] == "given" && c["new"] == "Omar"));
}

#[test]
fn a_wrong_password_or_user_gets_one_clear_line() {
    let db = Db::new();
    for (user, password) in [("admin", "not-the-password"), ("nobody", PASSWORD)] {
        let out = run(&db.path, user, password, &["person", "list"], &[]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim(),
            "error: wrong user name or password",
            "stderr was: {err}"
        );
    }
}

#[test]
fn roles_are_enforced_by_the_core() {
    let db = Db::new().with_reference_lists();
    let out = run(
        &db.path,
        "admin",
        PASSWORD,
        &["--json", "user", "add", "karim", "--role", "counsellor"],
        &[("MASAR_NEW_PASSWORD", "karim-password")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let karim = |args: &[&str]| run(&db.path, "karim", "karim-password", args, &[]);
    let p = karim(&[
        "--json",
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
        "SYR",
    ]);
    assert!(p.status.success(), "a counsellor records persons");
    let id: serde_json::Value = serde_json::from_slice(&p.stdout).expect("json");
    let id = id["id"].as_str().expect("id");
    for (args, needed) in [
        (vec!["person", "erase", id], "supervisor"),
        (vec!["ref", "add", "donor", "X"], "admin"),
        (vec!["user", "add", "eve", "--role", "admin"], "admin"),
    ] {
        let out = karim(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("a counsellor may not") && err.contains(needed),
            "{err}"
        );
    }
    let proj = db.id(&[
        "project",
        "add",
        "--title",
        "T",
        "--kind",
        "creation",
        "--sector",
        "food",
        "--member",
        id,
        "--date",
        "2020-01-01",
    ]);
    db.ok(&[
        "project",
        "budget-add",
        &proj,
        "--item",
        "Sewing machine",
        "--quantity",
        "1",
        "--unit-cost",
        "900",
    ]);
    db.ok(&[
        "project",
        "stage",
        &proj,
        "plan_ready",
        "--date",
        "2020-01-02",
    ]);
    db.ok(&[
        "project",
        "stage",
        &proj,
        "in_committee",
        "--date",
        "2020-01-03",
    ]);
    let out = karim(&[
        "project",
        "stage",
        &proj,
        "approved",
        "--date",
        "2020-01-04",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not record committee decisions"));
}

#[test]
fn erasure_removes_personal_fields_and_their_history_but_keeps_counts() {
    let db = Db::new();
    let id = db.id(&[
        "person",
        "add",
        "--given",
        "Rania",
        "--family",
        "Darwish",
        "--given-ar",
        "رانيا",
        "--sex",
        "female",
        "--born",
        "1990-03-03",
        "--nationality",
        "SYR",
        "--phone",
        "0699887766",
        "--city",
        "Rabat",
    ]);
    db.ok(&["intake", "add", &id, "--date", "2024-02-01"]);
    db.ok(&["person", "set", &id, "phone=0611111111"]);
    db.ok(&["person", "erase", &id]);
    let p = db.ok(&["person", "get", &id]);
    for k in ["given", "family", "given_ar", "phone", "born"] {
        assert_eq!(p[k], serde_json::Value::Null, "{k} survived erasure: {p}");
    }
    assert_eq!(p["sex"], "female");
    assert_eq!(p["erased"], true);
    let history = db.ok(&["history", &id]).to_string();
    for secret in [
        "Rania",
        "Darwish",
        "رانيا",
        "0699887766",
        "0611111111",
        "1990-03-03",
    ] {
        assert!(
            !history.contains(secret),
            "{secret} is still in the history: {history}"
        );
    }
    assert!(db
        .ok(&["person", "list", "--search", "Rania"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let r = db.ok(&[
        "report",
        "indicators",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--by",
        "age",
    ]);
    assert_eq!(r["indicators"]["welcomed"], 1);
    assert_eq!(
        r["breakdown"]["age"]["18-59"]["welcomed"], 1,
        "the birth year is kept for the age bracket"
    );
    let err = db.fail(&["person", "set", &id, "given=Rania"]);
    assert!(err.contains("erased"), "{err}");
}

#[test]
fn a_csv_import_adds_persons_and_intakes_in_file_order() {
    let db = Db::new();
    let csv = db.dir().join("persons.csv");
    std::fs::write(
        &csv,
        "given,family,sex,born,nationality,given_ar,city,intake_date,referral\n\
         Ahmad,Saleh,male,1985-01-01,SYR,أحمد,Rabat,2024-03-01,UNHCR\n\
         Grâce,Ngoma,female,1992-07-07,COD,,Oujda,,\n",
    )
    .expect("write csv");
    let v = db.ok(&["import", "persons", csv.to_str().expect("utf-8 path")]);
    assert_eq!(v["imported"], 2);
    let ids = v["ids"].as_array().expect("ids");
    assert_eq!(
        db.ok(&["person", "get", ids[0].as_str().expect("id")])["given_ar"],
        "أحمد"
    );
    assert_eq!(
        db.ok(&["person", "get", ids[1].as_str().expect("id")])["given"],
        "Grâce"
    );
    let r = db.ok(&[
        "report",
        "indicators",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
    ]);
    assert_eq!(
        r["indicators"]["welcomed"], 1,
        "only the row with an intake date has an intake"
    );
}

#[test]
fn sessions_record_attendance_once_per_person() {
    let db = Db::new();
    let a = db.person("A", "One");
    let b = db.person("B", "Two");
    let s = db.id(&[
        "session",
        "add",
        "--kind",
        "awareness",
        "--date",
        "2024-05-05",
        "--topic",
        "Self-employment",
        "--attendee",
        &a,
    ]);
    db.ok(&["session", "attend", &s, &b]);
    assert!(db
        .fail(&["session", "attend", &s, &b])
        .contains("given twice"));
    db.ok(&["session", "unattend", &s, &a]);
    let mut attendees = db.ok(&["session", "attendees", &s]);
    assert_eq!(attendees.as_array_mut().map(|a| a.len()), Some(1));
    assert_eq!(attendees[0], b.as_str());
}

#[test]
fn a_project_goes_from_plan_to_funded_to_followed_up_with_exact_money() {
    let db = Db::new().with_reference_lists();
    let a = db.person("A", "One");
    let b = db.person("B", "Two");
    // The plan is written while the project is a draft: it is frozen from committee on.
    let p = db.id(&[
        "project",
        "add",
        "--title",
        "Workshop",
        "--kind",
        "creation",
        "--sector",
        "tailoring",
        "--member",
        &a,
        "--member",
        &b,
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
        "3",
        "--unit-cost",
        "0.10",
    ]);
    db.ok(&[
        "project",
        "budget-add",
        &p,
        "--item",
        "Fabric",
        "--quantity",
        "0.2",
        "--unit-cost",
        "0.10",
    ]);
    db.ok(&["project", "set", &p, "own_contribution=0.05"]);
    let budget = db.ok(&["project", "budget", &p]);
    assert_eq!(budget["total"], "0.320", "exact decimal: 3×0.10 + 0.2×0.10");
    assert_eq!(budget["to_finance"], "0.270");
    for (stage, date) in [("plan_ready", "2019-01-10"), ("in_committee", "2019-01-20")] {
        db.ok(&["project", "stage", &p, stage, "--date", date]);
    }
    db.ok(&[
        "project",
        "decide",
        &p,
        "approved",
        "--date",
        "2019-02-01",
        "--amount",
        "5000",
        "--currency",
        "MAD",
    ]);
    db.ok(&[
        "disbursement",
        "add",
        &p,
        "--date",
        "2019-03-01",
        "--amount",
        "1000.10",
        "--currency",
        "mad",
        "--donor",
        "eu",
    ]);
    let proj = db.ok(&["project", "get", &p]);
    assert_eq!(
        proj["stage"], "funded",
        "the first tranche funds the project"
    );
    assert_eq!(proj["stage_date"], "2019-03-01");
    db.ok(&[
        "disbursement",
        "add",
        &p,
        "--date",
        "2019-05-01",
        "--amount",
        "999.20",
        "--currency",
        "MAD",
        "--donor",
        "EU",
        "--mode",
        "transfer",
    ]);
    db.ok(&[
        "followup",
        "add",
        &p,
        "--date",
        "2019-06-01",
        "--status",
        "active",
        "--revenue",
        "3000",
        "--profit",
        "-150.5",
        "--jobs",
        "2",
        "--next-due",
        "2019-08-01",
    ]);
    let overdue = db.ok(&["followup", "overdue", "--on", "2019-09-01"]);
    assert_eq!(overdue[0]["project"], p.as_str());
    assert_eq!(overdue[0]["due"], "2019-08-01");
    db.ok(&[
        "followup",
        "add",
        &p,
        "--date",
        "2019-09-02",
        "--status",
        "active",
        "--next-due",
        "2019-11-01",
    ]);
    assert!(db
        .ok(&["followup", "overdue", "--on", "2019-09-03"])
        .as_array()
        .is_some_and(Vec::is_empty));
    let r = db.ok(&[
        "report",
        "indicators",
        "--from",
        "2019-01-01",
        "--to",
        "2019-12-31",
    ]);
    assert_eq!(r["indicators"]["amount_disbursed"]["MAD"], "1999.30");
    assert_eq!(r["indicators"]["projects_funded"], 1);
    assert_eq!(r["indicators"]["funded_beneficiaries"], 2);
}

#[test]
fn the_demo_fills_an_empty_database_with_a_programme_in_every_stage() {
    let db = Db::new();
    let v = db.ok(&["demo"]);
    assert!(v["persons"].as_u64().is_some_and(|n| n >= 200), "{v}");
    assert!(v["overdue"].as_u64().is_some_and(|n| n > 0), "{v}");
    let persons = db.ok(&["person", "list"]);
    let persons = persons.as_array().expect("array");
    assert!(persons.iter().any(|p| p["given_ar"].is_string()));
    let nationalities: std::collections::BTreeSet<_> = persons
        .iter()
        .filter_map(|p| p["nationality"].as_str())
        .collect();
    assert!(nationalities.len() >= 4, "{nationalities:?}");
    let r = db.ok(&[
        "report",
        "indicators",
        "--from",
        "2000-01-01",
        "--to",
        "2100-01-01",
        "--by",
        "donor",
    ]);
    assert!(
        r["breakdown"]["donor"]
            .as_object()
            .is_some_and(|d| d.len() >= 2),
        "several donors: {r}"
    );
    assert!(db.fail(&["demo"]).contains("only an empty database"));
    // Its projects are named in the language asked for (French by default).
    let titles = |db: &Db| {
        let out = db.dir().join("projects.csv");
        db.ok(&[
            "export",
            "--format",
            "csv",
            "--what",
            "projects",
            "--out",
            out.to_str().expect("utf-8"),
        ]);
        std::fs::read_to_string(out).expect("the export")
    };
    assert!(
        titles(&db).contains("Atelier de couture"),
        "French by default"
    );
    let arabic = Db::new();
    arabic.ok(&["demo", "--lang", "ar"]);
    assert!(titles(&arabic).contains("ورشة خياطة"));
    assert!(Db::new().fail(&["demo", "--lang", "de"]).contains("fr"));
}

#[test]
fn a_reader_that_stops_early_ends_the_listing_quietly() {
    use std::io::BufRead;
    let db = Db::new();
    let csv = db.dir().join("many.csv");
    let mut text = String::from("given,family,sex,born,nationality\n");
    for i in 0..2000 {
        text.push_str(&format!("Given{i},Family{i},female,1990-01-01,SYR\n"));
    }
    std::fs::write(&csv, text).expect("csv");
    db.ok(&["import", "persons", csv.to_str().expect("utf-8")]);
    // `masar person list | head -1`: far more than a pipe holds, and a reader that leaves.
    let mut child = crate::common::masar_command()
        .env("MASAR_DB", &db.path)
        .env("MASAR_USER", "admin")
        .env("MASAR_PASSWORD", PASSWORD)
        .args(["person", "list"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("masar runs");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    assert!(!first.is_empty());
    let out = child.wait_with_output().expect("masar ends");
    assert!(out.status.success(), "status {:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "nothing on stderr, no panic"
    );
}

/// 100,000 persons, in the debug build CI runs (`benches/` times the same size in release).
#[test]
fn a_search_among_many_answers_one_page_best_matches_first_with_the_total() {
    let db = Db::new();
    let csv = db.dir().join("many.csv");
    let mut text = String::from("given,family,sex,born,nationality,phone,unhcr_id\n");
    for i in 0..100_000 {
        text.push_str(&format!(
            "Given{i},Fam{},female,1990-01-01,SYR,06{i:08},250-{i:05}C\n",
            i % 100
        ));
    }
    std::fs::write(&csv, text).expect("csv");
    db.ok(&["import", "persons", csv.to_str().expect("utf-8")]);
    let page = |search: &str, offset: &str| {
        db.ok(&[
            "person", "list", "--search", search, "--limit", "20", "--offset", offset,
        ])
    };
    // "Fam7": the whole word for 1,000 persons, the beginning of Fam70–Fam79 for 10,000 more.
    let first = page("fam7", "0");
    assert_eq!(first["total"], 11_000, "{first}");
    let rows = first["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 20, "one page, never every match");
    assert!(
        rows.iter().all(|p| p["family"] == "Fam7"),
        "whole words first"
    );
    let second = page("fam7", "20");
    let ids = |v: &serde_json::Value| {
        v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|p| p["id"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert!(
        ids(&second).iter().all(|id| !ids(&first).contains(id)),
        "the next page goes on"
    );
    let last = page("fam7", "10990");
    assert_eq!(last["rows"].as_array().map(Vec::len), Some(10));
    assert!(
        last["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|p| p["family"] != "Fam7"),
        "beginnings after whole words"
    );
    // A phone given whole is on top, alone; a UNHCR number too.
    let phone = page("0600004242", "0");
    assert_eq!(
        (phone["total"].as_u64(), phone["rows"][0]["given"].as_str()),
        (Some(1), Some("Given4242"))
    );
    let unhcr = page("250-04242C", "0");
    assert_eq!(unhcr["rows"][0]["given"], "Given4242", "{unhcr}");
    // Two letters are looked up as word beginnings, not by a scan: still one page.
    let short = page("gi", "0");
    assert_eq!(
        (
            short["total"].as_u64(),
            short["rows"].as_array().map(Vec::len)
        ),
        (Some(100_000), Some(20))
    );
}

#[test]
fn the_version_says_which_schema_and_bundle_format_this_build_writes() {
    let out = crate::common::masar_command()
        .arg("--version")
        .output()
        .expect("masar");
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    let v = masar_core::Versions::current();
    assert_eq!(line.trim(), format!("masar {}", v.line()));
    assert!(
        line.contains(&format!("database schema {}", masar_core::SCHEMA_VERSION))
            && line.contains(env!("CARGO_PKG_VERSION")),
        "{line}"
    );
    assert!(
        line.contains(&format!("bundle format {}", v.bundle_format)),
        "{line}"
    );
}
