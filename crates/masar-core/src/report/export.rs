//! Tables leaving Masar for the tools partners use: CSV (UTF-8 with a byte-order mark, so
//! that a spreadsheet shows Arabic), HXL (the same CSV with a row of hashtags under the
//! header, for the humanitarian data ecosystem) and XLSX (typed cells). Rows are written
//! as they are read, into an owner-only temporary file renamed at the end: no row cap,
//! bounded memory, and never half a file. A workbook's amounts are the one place an exact decimal becomes
//! a floating-point number: a spreadsheet's numbers are nothing else.

use std::io::Write;
use std::path::Path;

use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::error::{InputError, Problem, StoreError};
use crate::Result;

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated values, UTF-8 with a byte-order mark.
    Csv,
    /// CSV with HXL hashtags under the header.
    Hxl,
    /// An Excel workbook: typed cells (numbers, amounts in their currency's format, dates),
    /// the header row frozen.
    Xlsx,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Csv, ExportFormat::Hxl, ExportFormat::Xlsx];

    /// Reads a format's name.
    pub fn parse(s: &str) -> Result<ExportFormat, InputError> {
        match s.trim() {
            "csv" => Ok(ExportFormat::Csv),
            "hxl" => Ok(ExportFormat::Hxl),
            "xlsx" => Ok(ExportFormat::Xlsx),
            _ => Err(InputError::Invalid {
                field: "format".into(),
                value: s.into(),
                problem: Problem::NotOneOf(vec!["csv".into(), "hxl".into(), "xlsx".into()]),
            }),
        }
    }

    /// The format's name as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Hxl => "hxl",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// What a column holds, which says how it leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Free text someone typed: neutralised against spreadsheet formulas.
    Text,
    /// A value Masar wrote itself (a number, a date, a code from a list).
    Value,
    /// A name, a phone, a registration number, a date of birth: left out of a
    /// pseudonymised export.
    Personal,
    /// A person's id: a stable pseudonym in a pseudonymised export.
    PersonId,
}

/// What a cell is in a workbook (CSV and HXL write text either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Whole,
    /// An exact decimal amount, in the currency of the row's `currency` column if any.
    Money,
    Date,
}

/// One column: its header, its HXL hashtag, the SQL that reads it, its kind, and its cell.
type Column = (&'static str, &'static str, &'static str, Kind, Cell);

/// A table that can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ExportTable {
    /// Persons (person-level: supervisors and administrators).
    Persons,
    /// Awareness and training sessions.
    Sessions,
    /// Who attended which session (person-level).
    Attendance,
    /// Projects.
    Projects,
    /// Tranches paid.
    Disbursements,
    /// Follow-up visits.
    Followups,
    /// The indicator report of the period, every total and every part of every breakdown.
    Indicators,
}

impl ExportTable {
    /// Every table.
    pub const ALL: [ExportTable; 7] = [
        ExportTable::Persons,
        ExportTable::Sessions,
        ExportTable::Attendance,
        ExportTable::Projects,
        ExportTable::Disbursements,
        ExportTable::Followups,
        ExportTable::Indicators,
    ];

    /// The table's name as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportTable::Persons => "persons",
            ExportTable::Sessions => "sessions",
            ExportTable::Attendance => "attendance",
            ExportTable::Projects => "projects",
            ExportTable::Disbursements => "disbursements",
            ExportTable::Followups => "followups",
            ExportTable::Indicators => "indicators",
        }
    }

    /// Reads a table's name.
    pub fn parse(s: &str) -> Result<ExportTable, InputError> {
        ExportTable::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| InputError::Invalid {
                field: "what".into(),
                value: s.into(),
                problem: Problem::NotOneOf(
                    ExportTable::ALL
                        .iter()
                        .map(|t| t.as_str().to_string())
                        .collect(),
                ),
            })
    }

    /// Whether a row is about one person.
    pub fn person_level(self) -> bool {
        matches!(self, ExportTable::Persons | ExportTable::Attendance)
    }

    /// The columns, and the rows as SQL (`?1`, `?2`: the period, both days included; `?3`:
    /// no period was given, so persons with no intake and projects with no tranche count).
    fn source(self) -> (&'static [Column], &'static str) {
        use Kind::*;
        match self {
            ExportTable::Persons => (
                &[
                    ("id", "#beneficiary +id", "t.id", PersonId, Cell::Text),
                    ("given", "#beneficiary +name +given", "t.given", Personal, Cell::Text),
                    ("family", "#beneficiary +name +family", "t.family", Personal, Cell::Text),
                    ("given_ar", "#beneficiary +name +given +ar", "t.given_ar", Personal, Cell::Text),
                    ("family_ar", "#beneficiary +name +family +ar", "t.family_ar", Personal, Cell::Text),
                    ("sex", "#beneficiary +sex", "t.sex", Value, Cell::Text),
                    ("born", "#date +birth", "t.born", Personal, Cell::Date),
                    ("birth_year", "#beneficiary +birth_year", "coalesce(substr(t.born, 1, 4), t.birth_year)", Value, Cell::Whole),
                    ("nationality", "#country +origin", "t.nationality", Value, Cell::Text),
                    ("legal_status", "#beneficiary +status", "t.legal_status", Value, Cell::Text),
                    ("unhcr_id", "#beneficiary +code +unhcr", "t.unhcr_id", Personal, Cell::Text),
                    ("phone", "#contact +phone", "t.phone", Personal, Cell::Text),
                    ("city", "#loc +name", "t.city", Text, Cell::Text),
                    ("first_intake", "#date +intake", "(SELECT min(i.date) FROM intakes i WHERE i.person_id = t.id)", Value, Cell::Date),
                ],
                "FROM persons t WHERE ?3 OR EXISTS (SELECT 1 FROM intakes i WHERE i.person_id = t.id AND i.date BETWEEN ?1 AND ?2) ORDER BY t.id",
            ),
            ExportTable::Sessions => (
                &[
                    ("id", "#activity +id", "t.id", Value, Cell::Text),
                    ("kind", "#activity +type", "t.kind", Value, Cell::Text),
                    ("date", "#date", "t.date", Value, Cell::Date),
                    ("topic", "#activity +name", "t.topic", Text, Cell::Text),
                    ("place", "#loc +name", "t.place", Text, Cell::Text),
                    ("present", "#reached", "(SELECT count(*) FROM attendance a WHERE a.session_id = t.id AND a.present = 1)", Value, Cell::Whole),
                ],
                "FROM sessions t WHERE t.date BETWEEN ?1 AND ?2 ORDER BY t.date, t.id",
            ),
            ExportTable::Attendance => (
                &[
                    ("session", "#activity +id", "t.session_id", Value, Cell::Text),
                    ("date", "#date", "s.date", Value, Cell::Date),
                    ("kind", "#activity +type", "s.kind", Value, Cell::Text),
                    ("person", "#beneficiary +id", "t.person_id", PersonId, Cell::Text),
                    ("present", "#indicator +present", "t.present", Value, Cell::Whole),
                    ("completed", "#indicator +completed", "t.completed", Value, Cell::Whole),
                ],
                "FROM attendance t JOIN sessions s ON s.id = t.session_id WHERE s.date BETWEEN ?1 AND ?2 ORDER BY s.date, t.session_id, t.id",
            ),
            ExportTable::Projects => (
                &[
                    ("id", "#activity +id", "t.id", Value, Cell::Text),
                    ("title", "#activity +name", "t.title", Text, Cell::Text),
                    ("kind", "#activity +type", "t.kind", Value, Cell::Text),
                    ("sector", "#sector", "t.sector", Value, Cell::Text),
                    ("place", "#loc +name", "t.place", Text, Cell::Text),
                    ("stage", "#status", "t.stage", Value, Cell::Text),
                    ("approved_amount", "#value +approved", "t.approved_amount", Value, Cell::Money),
                    ("currency", "#currency", "t.currency", Value, Cell::Text),
                    ("members", "#reached", "(SELECT count(*) FROM members m WHERE m.project_id = t.id AND m.active = 1)", Value, Cell::Whole),
                ],
                "FROM projects t WHERE ?3 OR EXISTS (SELECT 1 FROM disbursements d WHERE d.project_id = t.id AND d.date BETWEEN ?1 AND ?2) ORDER BY t.id",
            ),
            ExportTable::Disbursements => (
                &[
                    ("id", "#meta +id", "t.id", Value, Cell::Text),
                    ("project", "#activity +id", "t.project_id", Value, Cell::Text),
                    ("date", "#date", "t.date", Value, Cell::Date),
                    ("amount", "#value", "t.amount", Value, Cell::Money),
                    ("currency", "#currency", "t.currency", Value, Cell::Text),
                    ("donor", "#org +funder", "t.donor", Value, Cell::Text),
                    ("mode", "#modality", "t.mode", Value, Cell::Text),
                ],
                "FROM disbursements t WHERE t.date BETWEEN ?1 AND ?2 ORDER BY t.date, t.id",
            ),
            ExportTable::Followups => (
                &[
                    ("id", "#meta +id", "t.id", Value, Cell::Text),
                    ("project", "#activity +id", "t.project_id", Value, Cell::Text),
                    ("date", "#date", "t.date", Value, Cell::Date),
                    ("status", "#status", "t.status", Value, Cell::Text),
                    ("revenue", "#value +revenue", "t.revenue", Value, Cell::Money),
                    ("profit", "#value +profit", "t.profit", Value, Cell::Money),
                    ("jobs", "#indicator +jobs", "t.jobs", Value, Cell::Whole),
                ],
                "FROM followups t WHERE t.date BETWEEN ?1 AND ?2 ORDER BY t.date, t.id",
            ),
            // Rows made from the report, not read by SQL: see `indicator_rows`.
            ExportTable::Indicators => (
                &[
                    ("indicator", "#indicator +code", "", Value, Cell::Text),
                    ("breakdown", "#category +type", "", Value, Cell::Text),
                    ("part", "#category +name", "", Text, Cell::Text),
                    ("count", "#indicator +num", "", Value, Cell::Whole),
                    ("amount", "#value", "", Value, Cell::Money),
                    ("currency", "#currency", "", Value, Cell::Text),
                ],
                "",
            ),
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ExportDone {
    /// The file written.
    pub path: String,
    /// Rows written, the header and hashtags aside.
    pub rows: u64,
    /// Whether names, phones and registration numbers were left out and ids replaced.
    pub pseudonymised: bool,
}

/// One export made on this laptop: who took which data out, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ExportRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who, by name.
    pub user: String,
    /// Which table.
    pub what: String,
    /// csv, hxl or xlsx.
    pub format: String,
    /// The period's first day, empty for every date.
    pub from: String,
    /// The period's last day, empty for every date.
    pub to: String,
    /// Whether names, phones and registration numbers were left out.
    pub pseudonymised: bool,
    /// Rows written.
    pub rows: u64,
    /// Where the file was written.
    pub path: String,
}

/// The exports made on this laptop, newest first.
pub(crate) fn records(conn: &Connection) -> Result<Vec<ExportRecord>> {
    let mut stmt = conn.prepare("SELECT at, user_name, what, format, period_from, period_to, pseudonymised, rows, path FROM exports ORDER BY rowid DESC")?;
    let rows = stmt.query_map([], |r| {
        Ok(ExportRecord {
            at: r.get(0)?,
            user: r.get(1)?,
            what: r.get(2)?,
            format: r.get(3)?,
            from: r.get(4)?,
            to: r.get(5)?,
            pseudonymised: r.get(6)?,
            rows: r.get::<_, i64>(7)?.max(0) as u64,
            path: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) is written with a leading apostrophe, so that it stays text.
pub(crate) fn neutralised(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A person's stable pseudonym: the same on every laptop of the organisation (keyed by its
/// first bundle key, which they all hold), and no way back to the id without that key.
fn pseudonym(key: &[u8], id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"masar-pseudonym/1\0")
        .chain_update(key)
        .chain_update(id.as_bytes())
        .finalize();
    format!("P-{}", hex::encode(&digest[..8]))
}

/// Writes `table`'s rows of `[from, to]` (every date when `None`) to `out` in `format`.
pub(crate) fn export_table(
    conn: &Connection,
    table: ExportTable,
    format: ExportFormat,
    period: Option<(NaiveDate, NaiveDate)>,
    pseudonymise: bool,
    out: &Path,
) -> Result<ExportDone> {
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
    // The file is the owner's alone, whole or absent; a failure of the database while it
    // is written is reported as itself, not as a failure to write.
    let mut failure = None;
    let mut rows = 0;
    let written = crate::files::write_private_atomically_with(out, |file| {
        match write_rows(
            conn,
            file,
            table,
            format,
            period,
            pseudonymise,
            &not_written,
        ) {
            Ok(n) => {
                rows = n;
                Ok(())
            }
            Err(e) => {
                let reason = e.to_string();
                failure = Some(e);
                Err(std::io::Error::other(reason))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    written.map_err(|e| not_written(&e))?;
    Ok(ExportDone {
        path: out.display().to_string(),
        rows,
        pseudonymised: pseudonymise,
    })
}

/// Writes the export's rows into `file`; returns how many.
fn write_rows(
    conn: &Connection,
    file: &mut std::fs::File,
    table: ExportTable,
    format: ExportFormat,
    period: Option<(NaiveDate, NaiveDate)>,
    pseudonymise: bool,
    not_written: &dyn Fn(&dyn std::fmt::Display) -> crate::Error,
) -> Result<u64> {
    let key = crate::store::meta(conn, "bundle_key")?
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| StoreError::Corrupt {
            what: "the organisation's keys".into(),
            value: "no first bundle key".into(),
        })?;
    let (columns, rows_sql) = table.source();
    let kept: Vec<&Column> = columns
        .iter()
        .filter(|c| !(pseudonymise && c.3 == Kind::Personal))
        .collect();
    let mut sink: Box<dyn Sink + '_> = match format {
        ExportFormat::Csv | ExportFormat::Hxl => {
            Box::new(CsvSink::new(&*file, format, &kept).map_err(|e| not_written(&e))?)
        }
        ExportFormat::Xlsx => Box::new(XlsxSink::new(table, &kept).map_err(|e| not_written(&e))?),
    };
    let count = if table == ExportTable::Indicators {
        let (from, to) = period.ok_or_else(|| InputError::Missing {
            field: "from".into(),
            hint: "give the report's period with --from and --to".into(),
        })?;
        let report = super::indicators(
            conn,
            from,
            to,
            &super::Dimension::ALL,
            super::Filter::default(),
        )?;
        let rows = indicator_rows(&report);
        for row in &rows {
            sink.row(row).map_err(|e| not_written(&e))?;
        }
        rows.len() as u64
    } else {
        let select: Vec<&str> = kept.iter().map(|c| c.2).collect();
        let sql = format!("SELECT {} {rows_sql}", select.join(", "));
        // Dates are stored as YYYY-MM-DD and compared as text: every date lies in these bounds.
        let (f, t) = period.map_or(("0000-01-01".into(), "9999-12-31".into()), |(f, t)| {
            (
                f.format("%Y-%m-%d").to_string(),
                t.format("%Y-%m-%d").to_string(),
            )
        });
        let mut stmt = conn.prepare(&sql)?;
        let all: [&dyn rusqlite::ToSql; 3] = [&f, &t, &period.is_none()];
        let mut rows = stmt.query(&all[..stmt.parameter_count().min(3)])?;
        let mut count = 0u64;
        let mut record: Vec<String> = Vec::with_capacity(kept.len());
        while let Some(r) = rows.next()? {
            record.clear();
            for (i, column) in kept.iter().enumerate() {
                let value = match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => String::new(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        String::from_utf8_lossy(b).into_owned()
                    }
                };
                record.push(match column.3 {
                    Kind::PersonId if pseudonymise && !value.is_empty() => pseudonym(&key, &value),
                    _ => value,
                });
            }
            sink.row(&record).map_err(|e| not_written(&e))?;
            count += 1;
        }
        count
    };
    sink.finish(file).map_err(|e| not_written(&e))?;
    Ok(count)
}

/// The indicator report as rows: each total, then each part of each breakdown; a count in
/// `count`, money as one row per currency.
fn indicator_rows(report: &super::Report) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut add =
        |indicator: &str, breakdown: &str, part: &str, measure: &super::Measure| match measure {
            super::Measure::Count(n) => rows.push(vec![
                indicator.into(),
                breakdown.into(),
                part.into(),
                n.to_string(),
                String::new(),
                String::new(),
            ]),
            super::Measure::Money(amounts) => {
                for (currency, amount) in amounts {
                    rows.push(vec![
                        indicator.into(),
                        breakdown.into(),
                        part.into(),
                        String::new(),
                        amount.to_string(),
                        currency.clone(),
                    ]);
                }
            }
        };
    for (name, measure) in &report.indicators {
        add(name, "", "", measure);
    }
    for (dimension, parts) in &report.breakdown {
        for (part, cell) in parts {
            for (name, measure) in cell {
                add(name, dimension, part, measure);
            }
        }
    }
    rows
}

/// Where an export's rows go, in one format.
trait Sink {
    /// Adds a row of values as read (ids already pseudonymised where asked).
    fn row(&mut self, values: &[String]) -> Result<(), String>;
    /// Writes what is left into `file`.
    fn finish(&mut self, file: &std::fs::File) -> Result<(), String>;
}

/// CSV and HXL: text, a formula neutralised, written through a buffer.
struct CsvSink<'a> {
    writer: csv::Writer<std::io::BufWriter<&'a std::fs::File>>,
    kinds: Vec<Kind>,
    cells: Vec<String>,
}

impl<'a> CsvSink<'a> {
    fn new(
        file: &'a std::fs::File,
        format: ExportFormat,
        kept: &[&Column],
    ) -> Result<CsvSink<'a>, String> {
        let mut buffer = std::io::BufWriter::with_capacity(1 << 16, file);
        if format == ExportFormat::Csv {
            buffer
                .write_all("\u{feff}".as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let mut writer = csv::WriterBuilder::new().from_writer(buffer);
        writer
            .write_record(kept.iter().map(|c| c.0))
            .map_err(|e| e.to_string())?;
        if format == ExportFormat::Hxl {
            writer
                .write_record(kept.iter().map(|c| c.1))
                .map_err(|e| e.to_string())?;
        }
        Ok(CsvSink {
            writer,
            kinds: kept.iter().map(|c| c.3).collect(),
            cells: Vec::with_capacity(kept.len()),
        })
    }
}

impl Sink for CsvSink<'_> {
    fn row(&mut self, values: &[String]) -> Result<(), String> {
        self.cells.clear();
        for (value, kind) in values.iter().zip(&self.kinds) {
            self.cells.push(match kind {
                Kind::Text | Kind::Personal => neutralised(value).into_owned(),
                _ => value.clone(),
            });
        }
        self.writer
            .write_record(&self.cells)
            .map_err(|e| e.to_string())
    }

    fn finish(&mut self, _: &std::fs::File) -> Result<(), String> {
        self.writer.flush().map_err(|e| e.to_string())
    }
}

/// A workbook in constant memory (rows go to a temporary file as they are written): typed
/// cells, the header frozen, a new sheet when one is full. Text is written as text cells,
/// which a spreadsheet never runs as formulas, so it needs no neutralising.
struct XlsxSink {
    workbook: rust_xlsxwriter::Workbook,
    name: &'static str,
    headers: Vec<&'static str>,
    cells: Vec<Cell>,
    currency: Option<usize>,
    header: rust_xlsxwriter::Format,
    date: rust_xlsxwriter::Format,
    money: std::collections::HashMap<String, rust_xlsxwriter::Format>,
    sheets: u32,
    row: u32,
}

/// The number format of an amount in `currency`: two decimals and the currency's code.
pub(crate) fn money_number_format(currency: &str) -> String {
    let code: String = currency
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if code.is_empty() {
        "#,##0.00".to_string()
    } else {
        format!("#,##0.00 \"{code}\"")
    }
}

/// Rows in a sheet, the header included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;

impl XlsxSink {
    fn new(table: ExportTable, kept: &[&Column]) -> Result<XlsxSink, String> {
        let mut sink = XlsxSink {
            workbook: rust_xlsxwriter::Workbook::new(),
            name: table.as_str(),
            headers: kept.iter().map(|c| c.0).collect(),
            cells: kept.iter().map(|c| c.4).collect(),
            currency: kept.iter().position(|c| c.0 == "currency"),
            header: rust_xlsxwriter::Format::new().set_bold(),
            date: rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd"),
            money: std::collections::HashMap::new(),
            sheets: 0,
            row: 0,
        };
        sink.new_sheet()?;
        Ok(sink)
    }

    fn new_sheet(&mut self) -> Result<(), String> {
        self.sheets += 1;
        let name = if self.sheets == 1 {
            self.name.to_string()
        } else {
            format!("{} ({})", self.name, self.sheets)
        };
        let sheet = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(|e| e.to_string())?;
        sheet.set_name(name).map_err(|e| e.to_string())?;
        for (col, header) in self.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, *header, &self.header)
                .map_err(|e| e.to_string())?;
        }
        sheet.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
        self.row = 1;
        Ok(())
    }

    /// The format of an amount in `currency`, made once per currency.
    fn money_format(&mut self, currency: &str) -> rust_xlsxwriter::Format {
        self.money
            .entry(currency.to_string())
            .or_insert_with(|| {
                rust_xlsxwriter::Format::new().set_num_format(money_number_format(currency))
            })
            .clone()
    }
}

impl Sink for XlsxSink {
    fn row(&mut self, values: &[String]) -> Result<(), String> {
        if self.row >= SHEET_ROWS {
            self.new_sheet()?;
        }
        let currency = self
            .currency
            .and_then(|i| values.get(i))
            .cloned()
            .unwrap_or_default();
        let money = self.money_format(&currency);
        let row = self.row;
        let sheet = self
            .workbook
            .worksheet_from_index(self.sheets as usize - 1)
            .map_err(|e| e.to_string())?;
        for (col, (value, cell)) in values.iter().zip(&self.cells).enumerate() {
            let col = col as u16;
            if value.is_empty() {
                continue;
            }
            let typed = match cell {
                Cell::Whole => value
                    .parse::<i64>()
                    .ok()
                    .map(|n| sheet.write_number(row, col, n as f64).map(|_| ())),
                Cell::Money => value
                    .parse::<rust_decimal::Decimal>()
                    .ok()
                    .map(|d| sheet.write_with_format(row, col, d, &money).map(|_| ())),
                Cell::Date => NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(|d| {
                    sheet
                        .write_date_with_format(row, col, d, &self.date)
                        .map(|_| ())
                }),
                Cell::Text => None,
            };
            // A value that is not what its column holds stays as it was, as text.
            typed
                .unwrap_or_else(|| sheet.write_string(row, col, value).map(|_| ()))
                .map_err(|e| e.to_string())?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(&mut self, file: &std::fs::File) -> Result<(), String> {
        self.workbook
            .save_to_writer(file)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_a_spreadsheet_would_run_stays_text() {
        assert_eq!(
            neutralised("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for f in ["+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(neutralised(f).starts_with('\''), "{f}");
        }
        assert_eq!(neutralised("Amina"), "Amina");
        assert_eq!(neutralised("أمينة"), "أمينة");
    }

    #[test]
    fn a_pseudonym_is_stable_for_one_key_and_differs_by_key_and_id() {
        let (a, b) = (pseudonym(b"key one", "id-1"), pseudonym(b"key one", "id-1"));
        assert_eq!(a, b);
        assert_ne!(a, pseudonym(b"key two", "id-1"));
        assert_ne!(a, pseudonym(b"key one", "id-2"));
        assert!(a.starts_with("P-") && a.len() == 18 && !a.contains("id-1"));
    }
}
