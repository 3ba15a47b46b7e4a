//! The report to donors, read back by real readers: poppler's `pdftotext` (the numbers of
//! the report, Arabic in logical order) and `pdftoppm` (every page renders), LibreOffice
//! (the workbook's values, typed, its sheets right to left in Arabic).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{run, Db, PASSWORD};
use crate::exports::read_with_python;

const PERIOD: [&str; 4] = ["--from", "2024-01-01", "--to", "2024-12-31"];

/// Two persons welcomed and sensitised; a tailoring workshop the EU funded (closed at its
/// visit 184 days after its tranche) and a shop Japan reinforced (running 244 days after).
fn programme() -> Db {
    let db = Db::new().with_reference_lists();
    let amina = db.id(&[
        "person",
        "add",
        "--given",
        "Amina",
        "--family",
        "Haddad",
        "--sex",
        "female",
        "--born",
        "1990-02-03",
        "--nationality",
        "SYR",
        "--city",
        "Rabat",
    ]);
    let omar = db.id(&[
        "person",
        "add",
        "--given",
        "Omar",
        "--family",
        "Diallo",
        "--sex",
        "male",
        "--born",
        "1985-05-06",
        "--nationality",
        "COD",
        "--city",
        "Oujda",
    ]);
    for (who, day) in [(&amina, "2024-02-01"), (&omar, "2024-02-10")] {
        db.ok(&["intake", "add", who, "--date", day]);
    }
    db.ok(&[
        "session",
        "add",
        "--kind",
        "awareness",
        "--date",
        "2024-03-05",
        "--topic",
        "Starting out",
        "--attendee",
        &amina,
        "--attendee",
        &omar,
    ]);
    let workshop = db.approved_project("creation", &[&amina]);
    db.ok(&[
        "disbursement",
        "add",
        &workshop,
        "--date",
        "2024-03-01",
        "--amount",
        "1500.25",
        "--currency",
        "MAD",
        "--donor",
        "EU",
    ]);
    db.ok(&[
        "followup",
        "add",
        &workshop,
        "--date",
        "2024-06-01",
        "--status",
        "active",
    ]);
    db.ok(&[
        "followup",
        "add",
        &workshop,
        "--date",
        "2024-09-01",
        "--status",
        "closed",
    ]);
    let shop = db.approved_project_in("reinforcement", &[&omar], "EUR");
    db.ok(&[
        "disbursement",
        "add",
        &shop,
        "--date",
        "2024-04-01",
        "--amount",
        "800",
        "--currency",
        "EUR",
        "--donor",
        "Japan",
    ]);
    db.ok(&[
        "followup",
        "add",
        &shop,
        "--date",
        "2024-12-01",
        "--status",
        "active",
    ]);
    db
}

/// The window's catalogue of `language`, whose words the report uses.
fn catalogue(language: &str) -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../i18n/{language}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("the catalogue")).expect("json")
}

/// The PDF's text as `pdftotext -layout` gives it, without the direction marks it wraps
/// right-to-left lines in, and with no-break spaces as spaces.
fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().expect("utf-8"), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .chars()
        .filter(|c| !matches!(c, '\u{202a}'..='\u{202c}' | '\u{2066}'..='\u{2069}'))
        .map(|c| {
            if matches!(c, '\u{a0}' | '\u{202f}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `pdftoppm` renders every page; how many PNGs it wrote.
fn rendered_pages(pdf: &Path, dir: &Path) -> usize {
    let prefix = dir.join("page");
    let out = Command::new("pdftoppm")
        .args([
            "-r",
            "30",
            "-png",
            pdf.to_str().expect("utf-8"),
            prefix.to_str().expect("utf-8"),
        ])
        .output()
        .expect("pdftoppm (poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_dir(dir)
        .expect("the folder")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with("page")
                && std::fs::metadata(e.path()).is_ok_and(|m| m.len() > 500)
        })
        .count()
}

fn donor_report(db: &Db, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["report", "donor", "--out", out.to_str().expect("utf-8")];
    args.extend(PERIOD);
    args.extend(extra);
    db.ok(&args)
}

/// Whether some line holds `label` and ends with `value` (a row of a table).
fn row_reads(text: &str, label: &str, value: &str) -> bool {
    text.lines().any(|l| {
        l.contains(label) && (l.trim_end().ends_with(value) || l.trim_start().starts_with(value))
    })
}

#[test]
fn the_pdf_reads_back_with_the_reports_numbers_in_french_and_arabic_in_logical_order() {
    let db = programme();
    let mut args = vec!["report", "indicators"];
    args.extend(PERIOD);
    let report = db.ok(&args);
    let folder = tempfile::tempdir().expect("a folder");
    for language in ["fr", "ar"] {
        let pdf = folder.path().join(format!("report-{language}.pdf"));
        let done = donor_report(&db, &pdf, &["--lang", language]);
        let pages = done["parts"].as_u64().expect("pages") as usize;
        let pngs = tempfile::tempdir().expect("a folder");
        assert_eq!(
            rendered_pages(&pdf, pngs.path()),
            pages,
            "pdftoppm renders every page"
        );
        let text = pdf_text(&pdf);
        let words = catalogue(language);
        let word = |key: &str| words[key].as_str().expect(key).to_string();
        for heading in [
            "report.title",
            "report.summary",
            "report.breakdowns",
            "report.money",
            "report.survival",
            "report.methods",
        ] {
            assert!(
                text.contains(&word(heading)),
                "{language}: the heading {heading} ({}) reads in logical order:\n{text}",
                word(heading)
            );
        }
        for (name, value) in report["indicators"].as_object().expect("totals") {
            if let Some(n) = value.as_u64() {
                assert!(
                    row_reads(&text, &word(&format!("ind.{name}")), &n.to_string()),
                    "{language}: {name} = {n}:\n{text}"
                );
            }
        }
        let (workshop, shop) = if language == "fr" {
            ("1 500,25 MAD", "800,00 EUR")
        } else {
            ("1,500.25 MAD", "800.00 EUR")
        };
        assert!(
            text.contains(workshop) && text.contains(shop),
            "{language}: the amounts in their currencies:\n{text}"
        );
        // Survival: all running at 6 months (the shop censored at day 244, the workshop
        // closing on day 184); 12 months is past the longest follow-up.
        let six = if language == "fr" {
            "100,0 %"
        } else {
            "100.0%"
        };
        assert!(
            row_reads(&text, &word("report.all"), &word("report.not_known")) && text.contains(six),
            "{language}:\n{text}"
        );
        assert!(
            text.contains("2024-12-31"),
            "the period's dates keep their order in both directions"
        );
    }
    let arabic = pdf_text(&folder.path().join("report-ar.pdf"));
    // The lam–alef ligature and a vowel mark come back in the order they are read.
    assert!(
        arabic.contains("الأشخاص المستقبلون") && arabic.contains("تقرير إلى المانحين"),
        "{arabic}"
    );
}

/// LibreOffice converts every sheet of `xlsx` to CSV (cells as stored, or as shown); the
/// sheets by name.
fn libreoffice_sheets(xlsx: &Path, as_shown: bool) -> Vec<(String, Vec<Vec<String>>)> {
    let dir = tempfile::tempdir().expect("a folder for LibreOffice");
    let filter = format!(
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,{as_shown},false,false,-1"
    );
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let out = Command::new("libreoffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            &filter,
            "--outdir",
            dir.path().to_str().expect("utf-8"),
            xlsx.to_str().expect("utf-8"),
        ])
        .output()
        .expect("LibreOffice (scripts/setup.sh installs libreoffice-calc-nogui)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stem = xlsx
        .file_stem()
        .expect("a name")
        .to_string_lossy()
        .to_string();
    let mut sheets = Vec::new();
    for entry in std::fs::read_dir(dir.path())
        .expect("the folder")
        .filter_map(|e| e.ok())
    {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(sheet) = name
            .strip_prefix(&format!("{stem}-"))
            .and_then(|n| n.strip_suffix(".csv"))
        {
            let rows = read_with_python("import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8') as f:\n    print(json.dumps(list(csv.reader(f))))", &entry.path());
            sheets.push((
                sheet.to_string(),
                serde_json::from_value(rows).expect("rows of text"),
            ));
        }
    }
    sheets
}

#[test]
fn the_workbook_opens_in_libreoffice_with_typed_values_charts_and_right_to_left_sheets() {
    let db = programme();
    let folder = tempfile::tempdir().expect("a folder");
    let xlsx = folder.path().join("report.xlsx");
    let done = donor_report(&db, &xlsx, &["--lang", "ar"]);
    assert_eq!(
        done["parts"], 9,
        "summary, five breakdowns, money, survival, methods: {done}"
    );
    let ar = catalogue("ar");
    let word = |key: &str| ar[key].as_str().expect(key).to_string();
    let stored = libreoffice_sheets(&xlsx, false);
    assert_eq!(
        stored.len(),
        9,
        "{:?}",
        stored.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let sheet = |sheets: &[(String, Vec<Vec<String>>)], name: &str| {
        sheets
            .iter()
            .find(|s| s.0 == name)
            .map(|s| s.1.clone())
            .expect(name)
    };
    let summary = sheet(&stored, &word("report.summary"));
    let value = |rows: &[Vec<String>], label: &str| {
        rows.iter()
            .find(|r| r.first().is_some_and(|c| c == label))
            .map(|r| r[1..].to_vec())
            .expect(label)
    };
    assert_eq!(value(&summary, &word("ind.welcomed"))[0], "2");
    assert_eq!(value(&summary, &word("ind.sensitised"))[0], "2");
    assert_eq!(value(&summary, &word("ind.projects_funded"))[0], "1");
    assert_eq!(value(&summary, &word("ind.enterprises_reinforced"))[0], "1");
    let money: Vec<(String, String)> = summary
        .iter()
        .filter(|r| r[0] == word("ind.amount_disbursed"))
        .map(|r| (r[1].clone(), r[2].clone()))
        .collect();
    assert_eq!(
        money,
        vec![
            ("800".to_string(), "EUR".to_string()),
            ("1500.25".to_string(), "MAD".to_string())
        ],
        "amounts are numbers, exactly"
    );
    let shown = libreoffice_sheets(&xlsx, true);
    let summary_shown = sheet(&shown, &word("report.summary"));
    assert!(
        summary_shown
            .iter()
            .any(|r| r.get(1).is_some_and(|c| c == "1,500.25 MAD")),
        "in the currency's format: {summary_shown:?}"
    );
    assert!(
        summary_shown
            .iter()
            .any(|r| r.get(1).is_some_and(|c| c == "2024-01-01")),
        "the period's days are dates: {summary_shown:?}"
    );
    let by_sex = sheet(
        &stored,
        &format!(
            "{} {}",
            word("supervisor.breakdown").replace(" {dim}", ""),
            word("dim.sex")
        ),
    );
    assert_eq!(value(&by_sex, &word("sex.female"))[0], "1", "{by_sex:?}");
    let survival = sheet(&stored, &word("report.survival"));
    let all = value(&survival, &word("report.all"));
    assert_eq!(
        (all[0].as_str(), all[1].as_str(), all[2].as_str()),
        ("2", "1", "100%"),
        "two enterprises, one closed, all running at 6 months: {all:?}"
    );
    // Every sheet reads right to left, its header frozen; the charts are the workbook's own.
    let parts = read_with_python(
        "import json, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({n: z.read(n).decode() for n in z.namelist() if n.startswith('xl/worksheets/sheet') or n.startswith('xl/charts/chart')}))",
        &xlsx,
    );
    let parts = parts.as_object().expect("parts");
    let sheets: Vec<&str> = parts
        .iter()
        .filter(|(n, _)| n.starts_with("xl/worksheets/"))
        .filter_map(|(_, x)| x.as_str())
        .collect();
    assert_eq!(sheets.len(), 9);
    assert!(
        sheets.iter().all(|x| x.contains("rightToLeft=\"1\"")),
        "every sheet right to left"
    );
    assert!(
        sheets
            .iter()
            .filter(|x| x.contains("state=\"frozen\""))
            .count()
            >= 8,
        "header rows frozen"
    );
    assert_eq!(
        parts.keys().filter(|n| n.starts_with("xl/charts/")).count(),
        3,
        "the journey, projects per donor, the survival curve"
    );
    let french = folder.path().join("rapport.xlsx");
    donor_report(&db, &french, &["--lang", "fr"]);
    let first = read_with_python("import json, sys, zipfile\nprint(json.dumps(zipfile.ZipFile(sys.argv[1]).read('xl/worksheets/sheet1.xml').decode()))", &french);
    assert!(
        !first.as_str().unwrap_or("").contains("rightToLeft"),
        "French reads left to right"
    );
}

#[test]
fn one_donors_report_counts_its_own_projects_and_a_counsellor_may_not_make_one() {
    let db = programme();
    let folder = tempfile::tempdir().expect("a folder");
    let japan = folder.path().join("japan.pdf");
    donor_report(&db, &japan, &["--lang", "fr", "--donor", "Japan"]);
    let text = pdf_text(&japan);
    let fr = catalogue("fr");
    let word = |key: &str| fr[key].as_str().expect(key).to_string();
    assert!(text.contains("Bailleur : Japan"), "{text}");
    assert!(
        row_reads(&text, &word("ind.projects_funded"), "0")
            && row_reads(&text, &word("ind.enterprises_reinforced"), "1"),
        "{text}"
    );
    assert!(
        row_reads(&text, &format!("{} *", word("ind.welcomed")), "2"),
        "the programme's activities, marked as such:\n{text}"
    );
    assert!(
        text.contains("800,00 EUR") && !text.contains("1 500,25"),
        "only Japan's money:\n{text}"
    );

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
    let refused_file = folder.path().join("karim.pdf");
    let mut args = vec![
        "report",
        "donor",
        "--lang",
        "en",
        "--out",
        refused_file.to_str().expect("utf-8"),
    ];
    args.extend(PERIOD);
    let refused = run(&db.path, "karim", "karim-password", &args, &[]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && message.contains("write the report to donors"),
        "{message}"
    );
    assert!(!refused_file.exists(), "nothing written");

    let log = db.ok(&["exports"]);
    let seen: Vec<(&str, &str, &str)> = log
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap_or(""),
                e["what"].as_str().unwrap_or(""),
                e["format"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![("admin", "donor report (Japan)", "pdf")],
        "recorded with who made it; the refused one is not there"
    );

    let wrong = |extra: &[&str], out: &Path| {
        let mut args = vec!["report", "donor", "--out", out.to_str().expect("utf-8")];
        args.extend(PERIOD);
        args.extend(extra);
        db.fail(&args)
    };
    let bad_language = wrong(&["--lang", "de"], &japan);
    assert!(
        bad_language.contains("fr") && bad_language.contains("ar") && bad_language.contains("en"),
        "{bad_language}"
    );
    let bad_format = wrong(&["--lang", "en"], &folder.path().join("report.docx"));
    assert!(
        bad_format.contains("FILE.pdf") && bad_format.contains("FILE.xlsx"),
        "{bad_format}"
    );
    let nowhere = wrong(
        &["--lang", "en"],
        &folder.path().join("no such folder").join("r.pdf"),
    );
    assert!(
        nowhere.contains("could not be written") && nowhere.contains("choose a folder"),
        "{nowhere}"
    );
    let reversed = db.fail(&[
        "report",
        "donor",
        "--from",
        "2024-12-31",
        "--to",
        "2024-01-01",
        "--lang",
        "en",
        "--out",
        japan.to_str().expect("utf-8"),
    ]);
    assert!(reversed.contains("swap --from and --to"), "{reversed}");
    assert_eq!(
        db.ok(&["exports"]).as_array().map(Vec::len),
        Some(1),
        "a report that failed is not recorded"
    );
}
