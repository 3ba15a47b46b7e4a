//! Reports: indicators, the dashboard, survival, exports and the donor report.

use super::*;

impl Masar {
    /// The indicators of the period `[from, to]` with the breakdowns in `by`.
    pub fn report(&self, from: &str, to: &str, by: &[Dimension]) -> Result<Report> {
        self.db.report(from, to, by)
    }

    /// The dashboard of `[from, to]`: indicators with every breakdown, the journey, overdue
    /// visits per counsellor, survival; a counsellor's own caseload only.
    pub fn dashboard(&self, from: &str, to: &str) -> Result<crate::report::Dashboard> {
        self.db.dashboard(from, to)
    }

    /// Survival of the funded enterprises on `as_of` (today by default), for all of them
    /// and, with `by`, per cohort, sector or sex (`docs/indicators.md`).
    pub fn survival(
        &self,
        as_of: Option<&str>,
        by: Option<crate::report::SurvivalBy>,
    ) -> Result<crate::report::Survival> {
        self.db.survival(as_of, by)
    }

    /// Writes a table (persons, sessions, attendance, projects, disbursements, follow-ups)
    /// of a period to a CSV, HXL or XLSX file, pseudonymised if asked; person-level tables are for
    /// supervisors and administrators, and every export is recorded.
    pub fn export_table(
        &self,
        table: crate::report::ExportTable,
        format: crate::report::ExportFormat,
        period: (Option<&str>, Option<&str>),
        pseudonymise: bool,
        out: &std::path::Path,
    ) -> Result<crate::report::ExportDone> {
        self.db
            .export_table(table, format, period, pseudonymise, out)
    }

    /// Writes the report to donors of `[from, to]` (for one donor, or the whole programme)
    /// in `language`, as a PDF or a workbook by `out`'s extension; supervisors and
    /// administrators, recorded with the exports.
    pub fn donor_report(
        &self,
        from: &str,
        to: &str,
        donor: Option<&str>,
        language: crate::report::Language,
        out: &std::path::Path,
    ) -> Result<crate::report::DonorReportDone> {
        self.db.donor_report((from, to), donor, language, out)
    }

    /// The exports made on this laptop, newest first: who took which data out, when.
    pub fn exports(&self) -> Result<Vec<crate::report::ExportRecord>> {
        self.db.exports()
    }
}
