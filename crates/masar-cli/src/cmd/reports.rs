//! What the programme's data says and where it goes: `report`, `export`, `exports`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use masar_core::{Dimension, ExportFormat, ExportTable, Language, SurvivalBy};
use serde_json::Value as Json;

use crate::common::{open, Failure};
use crate::output::json;

/// `masar report`: indicators, survival, the donors' report and the anomalies.
#[derive(Subcommand)]
pub(crate) enum ReportCmd {
    /// The programme's indicators for a period.
    Indicators {
        /// The period's first day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The period's last day (YYYY-MM-DD), counted whole.
        #[arg(long)]
        to: String,
        /// sex, age, nationality, city, donor or sector (repeatable).
        #[arg(long)]
        by: Vec<String>,
    },
    /// Tranches that took a project above its approved amount without a supervisor's
    /// reason, with who recorded them (supervisor).
    Unexplained,
    /// Devices and authors that signed two versions of one change: every laptop keeps
    /// the same one; revoke the device (supervisor).
    Equivocations,
    /// Survival of funded enterprises: the share still running 6, 12 and 24 months after
    /// their first tranche (Kaplan–Meier; docs/indicators.md).
    Survival {
        /// cohort (year of the first tranche), sector or sex.
        #[arg(long)]
        by: Option<String>,
        /// The day of the analysis (YYYY-MM-DD); today by default.
        #[arg(long)]
        at: Option<String>,
    },
    /// The report to donors of a period, as a PDF or a workbook (supervisor): the
    /// indicators with every breakdown, money per donor, survival, and the methods.
    Donor {
        /// The period's first day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// The period's last day (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        /// Only this donor's projects, beneficiaries and money (as written in the donors'
        /// list); the whole programme by default.
        #[arg(long)]
        donor: Option<String>,
        /// fr, ar or en; the language you chose in the window, else French.
        #[arg(long)]
        lang: Option<String>,
        /// The file to write: FILE.pdf or FILE.xlsx.
        #[arg(long)]
        out: PathBuf,
    },
}

impl ReportCmd {
    /// Runs the `report` command given.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        match self {
            ReportCmd::Unexplained => Ok(json(&open(path)?.unexplained_tranches()?)),
            ReportCmd::Equivocations => Ok(json(&open(path)?.equivocations()?)),
            ReportCmd::Survival { by, at } => {
                let by = by.as_deref().map(SurvivalBy::parse).transpose()?;
                Ok(json(&open(path)?.survival(at.as_deref(), by)?))
            }
            ReportCmd::Donor {
                from,
                to,
                donor,
                lang,
                out,
            } => {
                let m = open(path)?;
                let chosen = match lang {
                    Some(l) => Some(l),
                    None => m.preference("language")?,
                };
                let language = Language::parse(chosen.as_deref().unwrap_or("fr"))?;
                Ok(json(&m.donor_report(
                    &from,
                    &to,
                    donor.as_deref(),
                    language,
                    &out,
                )?))
            }
            ReportCmd::Indicators { from, to, by } => {
                let m = open(path)?;
                let dims = by
                    .iter()
                    .map(|b| Dimension::parse(b))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(json(&m.report(&from, &to, &dims)?))
            }
        }
    }
}

/// `masar export`: one table written to a file.
#[derive(Args)]
pub(crate) struct ExportArgs {
    /// csv, hxl or xlsx.
    #[arg(long)]
    format: String,
    /// persons, sessions, attendance, projects, disbursements, followups or indicators
    /// (the report of --from to --to, every breakdown).
    #[arg(long)]
    what: String,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// The period's first day (YYYY-MM-DD); every date by default.
    #[arg(long)]
    from: Option<String>,
    /// The period's last day (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// Leave out names, phones, registration numbers and dates of birth, and give each
    /// person a stable pseudonym instead of their id.
    #[arg(long)]
    pseudonymise: bool,
}

impl ExportArgs {
    /// Writes the table; the export is recorded.
    pub(crate) fn run(self, path: &Path) -> Result<Json, Failure> {
        let ExportArgs {
            format,
            what,
            out,
            from,
            to,
            pseudonymise,
        } = self;
        let (table, format) = (ExportTable::parse(&what)?, ExportFormat::parse(&format)?);
        Ok(json(&open(path)?.export_table(
            table,
            format,
            (from.as_deref(), to.as_deref()),
            pseudonymise,
            &out,
        )?))
    }
}

/// `masar exports`: the exports made on this laptop.
pub(crate) fn exports(path: &Path) -> Result<Json, Failure> {
    Ok(json(&open(path)?.exports()?))
}
