//! The report to donors: the indicators of a period with every breakdown, the money per
//! donor in its currencies, the survival of the enterprises and the methods, for the whole
//! programme or one donor, written as a PDF (shaped Arabic, right to left) or a workbook
//! (typed cells, native charts, right-to-left sheets), in French, Arabic or English.

mod pdf;
mod text;
mod words;
mod xlsx;

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;
use ts_rs::TS;

use super::{Dimension, Report, Survival, SurvivalBy};
use crate::error::{InputError, Problem};
use crate::Result;

pub use words::Language;
pub(crate) use words::Words;

/// A file format of the donor report, from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum DonorFormat {
    /// A PDF to print or send.
    Pdf,
    /// A workbook: one sheet per table, native charts.
    Xlsx,
}

impl DonorFormat {
    /// The format a file name asks for by its extension.
    pub fn of(path: &Path) -> Result<DonorFormat, InputError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("pdf") => Ok(DonorFormat::Pdf),
            Some("xlsx") => Ok(DonorFormat::Xlsx),
            _ => Err(InputError::Invalid {
                field: "out".into(),
                value: path.display().to_string(),
                problem: Problem::NotOneOf(vec!["FILE.pdf".into(), "FILE.xlsx".into()]),
            }),
        }
    }

    /// The format's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DonorFormat::Pdf => "pdf",
            DonorFormat::Xlsx => "xlsx",
        }
    }
}

/// What a donor report holds, before it is written in one language and format.
#[derive(Debug, Clone)]
pub(crate) struct DonorReport {
    /// The organisation's name, on the cover.
    pub organisation: String,
    /// The donor reported to, or the whole programme.
    pub donor: Option<String>,
    /// The day the report was made.
    pub made_on: NaiveDate,
    /// Who made it.
    pub made_by: String,
    /// The indicators of the period, with every breakdown.
    pub indicators: Report,
    /// Survival of the enterprises on the period's last day, per cohort.
    pub survival: Survival,
}

/// The person breakdowns and the sector, in the order the report shows them (money per
/// donor has its own table).
pub(crate) const BREAKDOWNS: [Dimension; 5] = [
    Dimension::Sex,
    Dimension::Age,
    Dimension::Nationality,
    Dimension::City,
    Dimension::Sector,
];

/// The indicators of the summary, in the order of the programme's closing table.
pub(crate) const SUMMARY: [&str; 9] = super::INDICATORS;

/// The indicators that stay the whole programme's in one donor's report.
pub(crate) const PROGRAMME_WIDE: [&str; 5] = [
    "welcomed",
    "sensitised",
    "trained",
    "cooperatives_created",
    "followups_overdue",
];

/// The finished report: where, in which format, how many pages or sheets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DonorReportDone {
    /// Where it was written.
    pub path: String,
    /// PDF or workbook.
    pub format: DonorFormat,
    /// Pages of the PDF, or sheets of the workbook.
    pub parts: u32,
}

/// Gathers the report of `[from, to]`, for `donor` or the whole programme.
pub(crate) fn gather(
    conn: &rusqlite::Connection,
    from: NaiveDate,
    to: NaiveDate,
    donor: Option<&str>,
    made: (NaiveDate, &str),
) -> Result<DonorReport> {
    let all: Vec<Dimension> = Dimension::ALL.to_vec();
    let indicators = super::indicators(
        conn,
        from,
        to,
        &all,
        super::Filter {
            donor,
            counsellor: None,
        },
    )?;
    let survival = super::survival::survival(
        conn,
        to,
        Some(SurvivalBy::Cohort),
        super::Filter {
            donor,
            counsellor: None,
        },
    )?;
    Ok(DonorReport {
        organisation: crate::store::meta(conn, "org_name")?.unwrap_or_default(),
        donor: donor.map(str::to_string),
        made_on: made.0,
        made_by: made.1.to_string(),
        indicators,
        survival,
    })
}

/// Writes `report` to `out` in `language`, whole or not at all; returns the pages or sheets.
pub(crate) fn write(
    report: &DonorReport,
    language: Language,
    format: DonorFormat,
    out: &Path,
) -> Result<u32> {
    let words = Words::new(language, format == DonorFormat::Pdf);
    let not_written = |e: &dyn std::fmt::Display| -> crate::Error {
        InputError::rule(
            "export_not_written",
            format!(
                "{} could not be written ({e}): choose a folder you may write to, with free space",
                out.display()
            ),
            &[("path", &out.display().to_string())],
        )
        .into()
    };
    let (bytes, parts) = match format {
        DonorFormat::Pdf => pdf::render(report, &words).map_err(|e| not_written(&e))?,
        DonorFormat::Xlsx => xlsx::render(report, &words).map_err(|e| not_written(&e))?,
    };
    crate::files::write_private_atomically_with(out, |file| {
        std::io::Write::write_all(file, &bytes)
    })
    .map_err(|e| not_written(&e))?;
    Ok(parts)
}

impl DonorReport {
    /// The title of a survival curve's group: all, or a cohort.
    pub(crate) fn group_name(words: &Words, group: &str) -> String {
        match group {
            "all" => words.t("report.all"),
            "unknown" => words.t("common.unknown"),
            year => words.f("report.cohort", &[("year", year)]),
        }
    }

    /// The columns of the money table: donor, currency, amount, projects funded and reinforced.
    pub(crate) fn money_header(words: &Words) -> [String; 5] {
        [
            words.t("dim.donor"),
            words.t("report.currency"),
            words.t("report.amount"),
            words.indicator("projects_funded"),
            words.indicator("enterprises_reinforced"),
        ]
    }

    /// The paragraphs of the methods note (catalogue keys); the donor's only in a donor's report.
    pub(crate) fn methods(&self) -> Vec<&'static str> {
        let mut keys = vec![
            "report.method_period",
            "report.method_persons",
            "report.method_projects",
        ];
        if self.donor.is_some() {
            keys.push("report.method_donor");
        }
        keys.extend(["report.method_survival", "report.method_overdue"]);
        keys
    }

    /// Whether the indicator is marked as the whole programme's (in a donor's report).
    pub(crate) fn programme_wide(&self, name: &str) -> bool {
        self.donor.is_some() && PROGRAMME_WIDE.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Measure;
    use crate::testing::{kv, person, temp_db};

    /// Two enterprises: a bakery the EU funded first (closed after 90 days), a shop Japan
    /// funded, still running at its last visit.
    fn programme() -> (tempfile::TempDir, crate::Masar) {
        let (dir, mut m) = temp_db();
        let amina = person(&mut m, "Amina", "female", "1990-01-01");
        let omar = person(&mut m, "Omar", "male", "1985-01-01");
        for (title, member, donor, visits) in [
            (
                "Bakery",
                &amina,
                "EU",
                [("2024-02-01", "active"), ("2024-04-01", "closed")],
            ),
            (
                "Shop",
                &omar,
                "Japan",
                [("2024-03-01", "active"), ("2024-09-01", "active")],
            ),
        ] {
            let p = m
                .add_project(crate::domain::NewProject {
                    title: title.to_string(),
                    kind: "creation".into(),
                    sector: "food".into(),
                    members: std::slice::from_ref(member).to_vec(),
                    date: Some("2023-10-01".into()),
                })
                .unwrap();
            m.add_budget_line(crate::domain::NewBudgetLine {
                project: p.to_string(),
                item: "Stock".into(),
                quantity: "1".into(),
                unit_cost: "1000".into(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::PlanReady,
                date: "2023-10-02".into(),
            })
            .unwrap();
            m.set_stage(crate::domain::StageChange {
                project: p.to_string(),
                stage: crate::domain::Stage::InCommittee,
                date: "2023-10-03".into(),
            })
            .unwrap();
            m.decide(crate::domain::CommitteeDecision {
                project: p.to_string(),
                decision: crate::domain::Decision::Approved,
                date: "2023-10-04".into(),
                amount: Some("1000".into()),
                currency: Some("MAD".into()),
                remarks: None,
            })
            .unwrap();
            m.add_disbursement(crate::domain::NewTranche {
                project: p.to_string(),
                date: "2024-01-02".into(),
                amount: "600".into(),
                currency: "MAD".into(),
                donor: donor.to_string(),
                mode: None,
                receipt: None,
                above_approved_because: None,
            })
            .unwrap();
            for (day, status) in visits {
                m.add_followup(crate::domain::NewFollowUp {
                    project: p.to_string(),
                    fields: crate::domain::Fields(
                        kv(&[("date", day), ("status", status)]).to_vec(),
                    ),
                })
                .unwrap();
            }
        }
        (dir, m)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_word_the_report_uses_exists_in_every_language_and_both_formats_render() {
        let (_dir, m) = programme();
        for donor in [None, Some("EU")] {
            let report = gather(
                m.conn(),
                day("2024-01-01"),
                day("2024-12-31"),
                donor,
                (day("2025-01-15"), "admin"),
            )
            .unwrap();
            for language in Language::ALL {
                let words = Words::new(language, true);
                let (pdf, pages) = pdf::render(&report, &words).unwrap();
                assert!(
                    pdf.starts_with(b"%PDF") && pages >= 2,
                    "{language:?}: {pages} pages"
                );
                let (xlsx, sheets) = xlsx::render(&report, &Words::new(language, false)).unwrap();
                assert!(
                    xlsx.starts_with(b"PK") && sheets == 9,
                    "{language:?}: {sheets} sheets"
                );
                assert_eq!(words.missing(), Vec::<String>::new(), "{language:?}");
            }
        }
    }

    #[test]
    fn a_donors_report_counts_the_projects_and_survival_of_what_it_funded_first() {
        let (_dir, m) = programme();
        let eu = gather(
            m.conn(),
            day("2024-01-01"),
            day("2024-12-31"),
            Some("EU"),
            (day("2025-01-15"), "admin"),
        )
        .unwrap();
        assert_eq!(
            eu.indicators.indicators["projects_funded"],
            Measure::Count(1)
        );
        assert_eq!(
            eu.indicators.indicators["funded_beneficiaries"],
            Measure::Count(1)
        );
        assert_eq!(
            eu.indicators.indicators["welcomed"],
            Measure::Count(0),
            "no intake: the programme's count, not the donor's"
        );
        let all = &eu.survival.curves[0];
        assert_eq!(
            (all.enterprises, all.closed),
            (1, 1),
            "only the bakery, closed on day 90"
        );
        let whole = gather(
            m.conn(),
            day("2024-01-01"),
            day("2024-12-31"),
            None,
            (day("2025-01-15"), "admin"),
        )
        .unwrap();
        assert_eq!(
            (
                whole.survival.curves[0].enterprises,
                whole.survival.curves[0].closed
            ),
            (2, 1)
        );
        assert_eq!(
            whole.survival.as_of,
            day("2024-12-31"),
            "survival is read on the period's last day"
        );
        assert!(
            eu.programme_wide("welcomed")
                && !eu.programme_wide("projects_funded")
                && !whole.programme_wide("welcomed")
        );
    }

    #[test]
    fn the_format_is_the_files_extension() {
        assert_eq!(
            DonorFormat::of(Path::new("/tmp/r.PDF")).unwrap(),
            DonorFormat::Pdf
        );
        assert_eq!(
            DonorFormat::of(Path::new("r.xlsx")).unwrap(),
            DonorFormat::Xlsx
        );
        let e = DonorFormat::of(Path::new("r.docx"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("FILE.pdf") && e.contains("FILE.xlsx"), "{e}");
    }
}
