//! Exports read by real readers: Python's csv module and libhxl (installed by
//! scripts/setup.sh in target/py), not the project's own parser.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{run, Db, PASSWORD};

/// The Python of the project's virtual environment, with libhxl.
pub(crate) fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py/bin/python")
}

/// Runs a Python script on `file`; its standard output, parsed as JSON.
pub(crate) fn read_with_python(script: &str, file: &Path) -> serde_json::Value {
    let out = Command::new(python())
        .args(["-c", script, file.to_str().expect("utf-8")])
        .output()
        .expect("the project's Python (scripts/setup.sh makes it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

const CSV_ROWS: &str = "import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    print(json.dumps(list(csv.DictReader(f))))";

const HXL_TAGS: &str = "import hxl, json, sys\nsource = hxl.data(sys.argv[1], hxl.InputOptions(allow_local=True))\nrows = [row.values for row in source]\nprint(json.dumps({'tags': [c.display_tag for c in source.columns], 'rows': rows}))";

fn programme() -> (Db, String) {
    let db = Db::new().with_reference_lists();
    let amina = db.id(&[
        "person",
        "add",
        "--given",
        "=HYPERLINK(\"http://x\",\"y\")",
        "--family",
        "Haddad",
        "--given-ar",
        "أمينة",
        "--family-ar",
        "حداد",
        "--sex",
        "female",
        "--born",
        "1990-02-03",
        "--nationality",
        "SYR",
        "--phone",
        "0611223344",
        "--unhcr-id",
        "250-99C12345",
        "--city",
        "Rabat",
    ]);
    db.ok(&["intake", "add", &amina, "--date", "2024-03-01"]);
    db.ok(&[
        "session",
        "add",
        "--kind",
        "awareness",
        "--date",
        "2024-03-05",
        "--topic",
        "@SUM(A1)",
        "--attendee",
        &amina,
    ]);
    (db, amina)
}

#[test]
fn a_csv_export_keeps_arabic_names_and_a_spreadsheet_formula_stays_text() {
    let (db, amina) = programme();
    let out = db.dir().join("persons.csv");
    let done = db.ok(&[
        "export",
        "--format",
        "csv",
        "--what",
        "persons",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(done["rows"], 1, "{done}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out)
            .expect("the file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(
            mode, 0o600,
            "personal data leaves readable by its owner only"
        );
    }
    let bytes = std::fs::read(&out).expect("the file");
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "a byte-order mark, for spreadsheets to read UTF-8"
    );
    let rows = read_with_python(CSV_ROWS, &out);
    let row = &rows[0];
    assert_eq!(row["id"], amina.as_str());
    assert_eq!(row["given_ar"], "أمينة");
    assert_eq!(row["family_ar"], "حداد");
    assert_eq!(
        row["given"], "'=HYPERLINK(\"http://x\",\"y\")",
        "neutralised"
    );
    assert_eq!(row["phone"], "0611223344");
    let sessions = db.dir().join("sessions.csv");
    db.ok(&[
        "export",
        "--format",
        "csv",
        "--what",
        "sessions",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--out",
        sessions.to_str().expect("utf-8"),
    ]);
    let rows = read_with_python(CSV_ROWS, &sessions);
    assert_eq!(
        (rows[0]["topic"].as_str(), rows[0]["present"].as_str()),
        (Some("'@SUM(A1)"), Some("1")),
        "{rows}"
    );
    let none = db.ok(&[
        "export",
        "--format",
        "csv",
        "--what",
        "sessions",
        "--from",
        "2025-01-01",
        "--out",
        sessions.to_str().expect("utf-8"),
    ]);
    assert_eq!(none["rows"], 0, "the period counts");
}

#[test]
fn an_hxl_export_is_read_by_libhxl_with_its_hashtags() {
    let (db, amina) = programme();
    let out = db.dir().join("attendance.hxl.csv");
    db.ok(&[
        "export",
        "--format",
        "hxl",
        "--what",
        "attendance",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let read = read_with_python(HXL_TAGS, &out);
    let tags: Vec<&str> = read["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert_eq!(
        tags,
        vec![
            "#activity+id",
            "#date",
            "#activity+type",
            "#beneficiary+id",
            "#indicator+present",
            "#indicator+completed"
        ],
        "{read}"
    );
    assert_eq!(read["rows"][0][3], amina.as_str());
    let persons = db.dir().join("persons.hxl.csv");
    db.ok(&[
        "export",
        "--format",
        "hxl",
        "--what",
        "persons",
        "--out",
        persons.to_str().expect("utf-8"),
    ]);
    let read = read_with_python(HXL_TAGS, &persons);
    let tags: Vec<&str> = read["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(
        tags.contains(&"#country+origin")
            && tags.contains(&"#loc+name")
            && tags.contains(&"#beneficiary+sex"),
        "{tags:?}"
    );
}

#[test]
fn a_pseudonymised_export_has_no_name_phone_or_number_and_stable_pseudonyms() {
    let (db, amina) = programme();
    let (a, b) = (db.dir().join("a.csv"), db.dir().join("b.csv"));
    for out in [&a, &b] {
        db.ok(&[
            "export",
            "--format",
            "csv",
            "--what",
            "persons",
            "--pseudonymise",
            "--out",
            out.to_str().expect("utf-8"),
        ]);
    }
    let text = std::fs::read_to_string(&a).expect("the file");
    for secret in [
        "HYPERLINK",
        "Haddad",
        "أمينة",
        "حداد",
        "0611223344",
        "250-99C12345",
        "1990-02-03",
        amina.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let rows = read_with_python(CSV_ROWS, &a);
    let pseudonym = rows[0]["id"].as_str().expect("an id").to_string();
    assert!(pseudonym.starts_with("P-"), "{pseudonym}");
    assert_eq!(
        (
            rows[0]["birth_year"].as_str(),
            rows[0]["sex"].as_str(),
            rows[0]["city"].as_str()
        ),
        (Some("1990"), Some("female"), Some("Rabat"))
    );
    assert_eq!(
        read_with_python(CSV_ROWS, &b)[0]["id"],
        pseudonym.as_str(),
        "stable from one export to the next"
    );
    let attendance = db.dir().join("attendance.csv");
    db.ok(&[
        "export",
        "--format",
        "csv",
        "--what",
        "attendance",
        "--pseudonymise",
        "--out",
        attendance.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        read_with_python(CSV_ROWS, &attendance)[0]["person"],
        pseudonym.as_str(),
        "the same person is the same pseudonym in every table"
    );
}

#[test]
fn a_counsellor_may_not_export_persons_and_every_export_is_recorded() {
    let (db, _) = programme();
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
    let file = db.dir().join("persons.csv");
    let karim = |args: &[&str]| run(&db.path, "karim", "karim-password", args, &[]);
    let refused = karim(&[
        "export",
        "--format",
        "csv",
        "--what",
        "persons",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && message.contains("export person-level data"),
        "{message}"
    );
    assert!(!file.exists(), "nothing written");
    let sessions = db.dir().join("sessions.csv");
    let allowed = karim(&[
        "--json",
        "export",
        "--format",
        "csv",
        "--what",
        "sessions",
        "--out",
        sessions.to_str().expect("utf-8"),
    ]);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    db.ok(&[
        "export",
        "--format",
        "hxl",
        "--what",
        "persons",
        "--pseudonymise",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    let log = db.ok(&["exports"]);
    let seen: Vec<(&str, &str, &str, bool)> = log
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap_or(""),
                e["what"].as_str().unwrap_or(""),
                e["format"].as_str().unwrap_or(""),
                e["pseudonymised"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("admin", "persons", "hxl", true),
            ("karim", "sessions", "csv", false)
        ],
        "newest first; the refused one is not there"
    );
    let bad = db.fail(&[
        "export",
        "--format",
        "xls",
        "--what",
        "persons",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert!(bad.contains("csv") && bad.contains("hxl"), "{bad}");
    let nowhere = db.dir().join("no such folder").join("persons.csv");
    let unwritten = db.fail(&[
        "export",
        "--format",
        "csv",
        "--what",
        "sessions",
        "--out",
        nowhere.to_str().expect("utf-8"),
    ]);
    assert!(
        unwritten.contains("could not be written") && unwritten.contains("choose a folder"),
        "{unwritten}"
    );
    assert_eq!(
        db.ok(&["exports"]).as_array().map(Vec::len),
        Some(2),
        "an export that failed is not recorded"
    );
}

/// LibreOffice converts `xlsx` to CSV in `dir`, with cells as shown or as stored; the rows.
fn libreoffice_rows(xlsx: &Path, dir: &Path, as_shown: bool) -> Vec<Vec<String>> {
    let filter =
        format!("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,{as_shown},false,false");
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.join("libreoffice-profile").display()
    );
    let out = Command::new("libreoffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            &filter,
            "--outdir",
            dir.to_str().expect("utf-8"),
            xlsx.to_str().expect("utf-8"),
        ])
        .output()
        .expect("LibreOffice (scripts/setup.sh installs libreoffice-calc-nogui)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = dir
        .join(xlsx.file_stem().expect("a name"))
        .with_extension("csv");
    let rows = read_with_python("import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8') as f:\n    print(json.dumps(list(csv.reader(f))))", &csv);
    serde_json::from_value(rows).expect("rows of text")
}

#[test]
fn an_xlsx_export_is_opened_by_libreoffice_with_typed_cells_and_a_frozen_header() {
    let (db, amina) = programme();
    let project = db.approved_project("creation", &[&amina]);
    db.ok(&[
        "disbursement",
        "add",
        &project,
        "--date",
        "2024-03-01",
        "--amount",
        "1500.25",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    let lo = tempfile::tempdir().expect("a folder for LibreOffice");
    let tranches = lo.path().join("tranches.xlsx");
    let done = db.ok(&[
        "export",
        "--format",
        "xlsx",
        "--what",
        "disbursements",
        "--out",
        tranches.to_str().expect("utf-8"),
    ]);
    assert_eq!(done["rows"], 1, "{done}");
    let shown = libreoffice_rows(&tranches, lo.path(), true);
    assert_eq!(
        shown[0],
        vec!["id", "project", "date", "amount", "currency", "donor", "mode"]
    );
    assert_eq!(
        (shown[1][2].as_str(), shown[1][3].as_str()),
        ("2024-03-01", "1,500.25 MAD"),
        "a date, and a number in its currency's format: {shown:?}"
    );
    let stored = libreoffice_rows(&tranches, lo.path(), false);
    assert_eq!(
        stored[1][3], "1500.25",
        "the amount is a number, exactly the one recorded"
    );
    let persons = lo.path().join("persons.xlsx");
    db.ok(&[
        "export",
        "--format",
        "xlsx",
        "--what",
        "persons",
        "--out",
        persons.to_str().expect("utf-8"),
    ]);
    let rows = libreoffice_rows(&persons, lo.path(), true);
    let column = |name: &str| rows[0].iter().position(|h| h == name).expect(name);
    let row = &rows[1];
    assert_eq!(row[column("given_ar")], "أمينة");
    assert_eq!(
        row[column("given")],
        "=HYPERLINK(\"http://x\",\"y\")",
        "a text cell, never run as a formula"
    );
    assert_eq!(
        row[column("phone")],
        "0611223344",
        "a phone stays text, its leading zero kept"
    );
    assert_eq!(
        (
            row[column("born")].as_str(),
            row[column("birth_year")].as_str()
        ),
        ("1990-02-03", "1990")
    );
    let sheet = read_with_python(
        "import json, sys, zipfile\nprint(json.dumps(zipfile.ZipFile(sys.argv[1]).read('xl/worksheets/sheet1.xml').decode()))",
        &persons,
    );
    assert!(
        sheet
            .as_str()
            .is_some_and(|x| x.contains("state=\"frozen\"") && x.contains("ySplit=\"1\"")),
        "the header row is frozen"
    );
}

#[test]
fn the_indicator_report_exports_every_total_and_every_part_as_the_report_gives_them() {
    let (db, amina) = programme();
    let project = db.approved_project("creation", &[&amina]);
    db.ok(&[
        "disbursement",
        "add",
        &project,
        "--date",
        "2024-03-01",
        "--amount",
        "1500.25",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    let out = db.dir().join("indicators.csv");
    let period = ["--from", "2024-01-01", "--to", "2024-12-31"];
    let mut args = vec![
        "export",
        "--format",
        "csv",
        "--what",
        "indicators",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend(period);
    db.ok(&args);
    let rows = read_with_python(CSV_ROWS, &out);
    let rows = rows.as_array().expect("rows");
    let find = |indicator: &str, breakdown: &str, part: &str| -> Vec<&serde_json::Value> {
        rows.iter()
            .filter(|r| {
                r["indicator"] == indicator && r["breakdown"] == breakdown && r["part"] == part
            })
            .collect()
    };
    let mut report_args = vec!["report", "indicators"];
    report_args.extend(period);
    for by in ["sex", "age", "nationality", "city", "donor", "sector"] {
        report_args.extend(["--by", by]);
    }
    let report = db.ok(&report_args);
    let same = |measure: &serde_json::Value, found: &[&serde_json::Value], what: &str| match measure
        .as_u64()
    {
        Some(n) => assert_eq!(
            found
                .iter()
                .map(|r| r["count"].as_str())
                .collect::<Vec<_>>(),
            vec![Some(n.to_string().as_str())],
            "{what}"
        ),
        None => {
            let amounts: Vec<(String, String)> = measure
                .as_object()
                .expect("money")
                .iter()
                .map(|(c, a)| (c.clone(), a.as_str().unwrap_or("").to_string()))
                .collect();
            let got: Vec<(String, String)> = found
                .iter()
                .map(|r| {
                    (
                        r["currency"].as_str().unwrap_or("").to_string(),
                        r["amount"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            assert_eq!(got, amounts, "{what}");
        }
    };
    for (name, measure) in report["indicators"].as_object().expect("totals") {
        same(measure, &find(name, "", ""), name);
    }
    for (dimension, parts) in report["breakdown"].as_object().expect("breakdowns") {
        for (part, cell) in parts.as_object().expect("parts") {
            for (name, measure) in cell.as_object().expect("a cell") {
                same(
                    measure,
                    &find(name, dimension, part),
                    &format!("{name} by {dimension}: {part}"),
                );
            }
        }
    }
    assert_eq!(find("welcomed", "sex", "female")[0]["count"], "1");
    assert_eq!(
        (find("amount_disbursed", "donor", "EU")[0]["amount"].as_str()),
        Some("1500.25")
    );
    let missing = db.fail(&[
        "export",
        "--format",
        "csv",
        "--what",
        "indicators",
        "--from",
        "2024-01-01",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(missing.contains("--to"), "{missing}");
}
