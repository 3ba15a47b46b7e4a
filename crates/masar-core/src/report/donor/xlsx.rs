//! The donor report as a workbook: one sheet per table, numbers as numbers (amounts in
//! their currency's format, shares as percentages, the period as dates), header rows
//! frozen, native charts, and every sheet right to left in Arabic.

use std::collections::BTreeSet;

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, Worksheet, XlsxError};

use super::{DonorReport, Words, BREAKDOWNS, SUMMARY};
use crate::report::export::money_number_format;
use crate::report::Measure;

/// Writes the workbook; returns its bytes and its number of sheets.
pub(super) fn render(report: &DonorReport, words: &Words) -> Result<(Vec<u8>, u32), String> {
    build(report, words).map_err(|e| e.to_string())
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(text: &str, taken: &mut BTreeSet<String>) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .take(31)
        .collect();
    let mut name = clean.trim().to_string();
    let mut n = 2;
    while name.is_empty() || taken.contains(&name.to_lowercase()) {
        let suffix = format!(" {n}");
        name = clean
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            .trim()
            .to_string()
            + &suffix;
        n += 1;
    }
    taken.insert(name.to_lowercase());
    name
}

struct Formats {
    title: Format,
    bold: Format,
    header: Format,
    date: Format,
    share: Format,
    wrap: Format,
}

fn new_sheet<'w>(
    workbook: &'w mut Workbook,
    name: &str,
    rtl: bool,
) -> Result<&'w mut Worksheet, XlsxError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(name)?;
    sheet.set_right_to_left(rtl);
    Ok(sheet)
}

fn build(report: &DonorReport, words: &Words) -> Result<(Vec<u8>, u32), XlsxError> {
    let rtl = words.language().rtl();
    let f = Formats {
        title: Format::new().set_bold().set_font_size(16),
        bold: Format::new().set_bold(),
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_background_color("DEE8F1"),
        date: Format::new()
            .set_num_format("yyyy-mm-dd")
            .set_align(rust_xlsxwriter::FormatAlign::Left),
        share: Format::new().set_num_format("0.0%"),
        wrap: Format::new()
            .set_text_wrap()
            .set_align(rust_xlsxwriter::FormatAlign::Top),
    };
    let money = |currency: &str| Format::new().set_num_format(money_number_format(currency));
    let mut workbook = Workbook::new();
    let mut taken = BTreeSet::new();

    // The summary: the cover's facts, the closing table, and the journey as a bar chart.
    let summary = sheet_name(&words.t("report.summary"), &mut taken);
    {
        let sheet = new_sheet(&mut workbook, &summary, rtl)?;
        sheet.set_column_width(0, 44)?;
        sheet.set_column_width(1, 18)?;
        sheet.set_column_width(2, 10)?;
        sheet.write_string_with_format(0, 0, words.t("report.title"), &f.title)?;
        sheet.write_string(1, 0, &report.organisation)?;
        sheet.write_string(2, 0, words.t("supervisor.from"))?;
        sheet.write_date_with_format(2, 1, report.indicators.from, &f.date)?;
        sheet.write_string(3, 0, words.t("supervisor.to"))?;
        sheet.write_date_with_format(3, 1, report.indicators.to, &f.date)?;
        sheet.write_string(4, 0, words.t("dim.donor"))?;
        sheet.write_string(
            4,
            1,
            report
                .donor
                .clone()
                .unwrap_or_else(|| words.t("report.all_donors")),
        )?;
        sheet.write_string(
            5,
            0,
            words.f(
                "report.made",
                &[
                    ("date", &report.made_on.format("%Y-%m-%d").to_string()),
                    ("user", &report.made_by),
                ],
            ),
        )?;
        let head = 7;
        for (col, text) in [
            words.t("supervisor.indicator"),
            words.t("report.value"),
            words.t("report.currency"),
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string_with_format(head, col as u16, text, &f.header)?;
        }
        sheet.set_freeze_panes(head + 1, 0)?;
        let mut row = head + 1;
        let mut journey = Vec::new();
        for name in SUMMARY {
            let mark = if report.programme_wide(name) {
                " *"
            } else {
                ""
            };
            let label = format!("{}{mark}", words.indicator(name));
            match report.indicators.indicators.get(name) {
                Some(Measure::Count(n)) => {
                    sheet.write_string(row, 0, &label)?;
                    sheet.write_number(row, 1, *n as f64)?;
                    if ["welcomed", "sensitised", "trained", "funded_beneficiaries"].contains(&name)
                    {
                        journey.push((words.indicator(name), *n));
                    }
                    row += 1;
                }
                Some(Measure::Money(amounts)) => {
                    if amounts.is_empty() {
                        sheet.write_string(row, 0, &label)?;
                        sheet.write_number(row, 1, 0.0)?;
                        row += 1;
                    }
                    for (currency, amount) in amounts {
                        sheet.write_string(row, 0, &label)?;
                        sheet.write_with_format(row, 1, *amount, &money(currency))?;
                        sheet.write_string(row, 2, currency)?;
                        row += 1;
                    }
                }
                None => {}
            }
        }
        if report.donor.is_some() {
            sheet.write_string(row + 1, 0, words.t("report.programme_wide"))?;
        }
        // The chart reads a small table of its own beside the summary.
        let (jc, jr) = (4u16, head);
        sheet.write_string_with_format(jr, jc, words.t("report.journey"), &f.header)?;
        sheet.write_string_with_format(jr, jc + 1, words.t("report.value"), &f.header)?;
        sheet.set_column_width(jc, 34)?;
        for (i, source) in journey.iter().enumerate() {
            let r = jr + 1 + i as u32;
            let (label, value) = source;
            sheet.write_string(r, jc, label)?;
            sheet.write_number(r, jc + 1, *value as f64)?;
        }
        let last = jr + journey.len() as u32;
        let mut chart = Chart::new(ChartType::Bar);
        chart.title().set_name(&words.t("report.journey"));
        chart
            .add_series()
            .set_categories((summary.as_str(), jr + 1, jc, last, jc))
            .set_values((summary.as_str(), jr + 1, jc + 1, last, jc + 1));
        chart.legend().set_hidden();
        // Bars list top-down in reading order; in Arabic they grow leftwards too.
        chart.y_axis().set_reverse();
        if rtl {
            chart.x_axis().set_reverse();
        }
        sheet.insert_chart(last + 2, jc, &chart)?;
    }

    // One sheet per breakdown; money has a column per currency.
    let currencies: Vec<String> = match report.indicators.indicators.get("amount_disbursed") {
        Some(Measure::Money(amounts)) => amounts.keys().cloned().collect(),
        _ => Vec::new(),
    };
    for dim in BREAKDOWNS {
        let Some(parts) = report.indicators.breakdown.get(dim.as_str()) else {
            continue;
        };
        let dim_name = words.t(&format!("dim.{}", dim.as_str()));
        let title = words.f("supervisor.breakdown", &[("dim", &dim_name)]);
        let name = sheet_name(&title, &mut taken);
        let sheet = new_sheet(&mut workbook, &name, rtl)?;
        let mut columns: Vec<(String, &str, Option<&str>)> = Vec::new();
        for n in dim.indicators() {
            if *n == "amount_disbursed" {
                columns.extend(currencies.iter().map(|c| {
                    (
                        format!("{} ({c})", words.indicator(n)),
                        *n,
                        Some(c.as_str()),
                    )
                }));
            } else {
                columns.push((words.indicator(n), n, None));
            }
        }
        sheet.write_string_with_format(0, 0, &title, &f.header)?;
        sheet.set_column_width(0, 26)?;
        for (i, (header, ..)) in columns.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16 + 1, header, &f.header)?;
            sheet.set_column_width(i as u16 + 1, 18)?;
        }
        sheet.set_freeze_panes(1, 1)?;
        for (r, (part, cell)) in parts.iter().enumerate() {
            let row = r as u32 + 1;
            sheet.write_string(row, 0, words.part(dim.as_str(), part))?;
            for (i, (_, indicator, currency)) in columns.iter().enumerate() {
                let col = i as u16 + 1;
                match (cell.get(indicator), currency) {
                    (Some(Measure::Count(n)), None) => {
                        sheet.write_number(row, col, *n as f64)?;
                    }
                    (Some(Measure::Money(amounts)), Some(c)) => {
                        let amount = amounts.get(*c).copied().unwrap_or_default();
                        sheet.write_with_format(row, col, amount, &money(c))?;
                    }
                    _ => {}
                }
            }
        }
    }

    // Money per donor, in each currency, with the projects it funded.
    let name = sheet_name(&words.t("report.money"), &mut taken);
    {
        let sheet = new_sheet(&mut workbook, &name, rtl)?;
        let header = DonorReport::money_header(words);
        for (i, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16, h, &f.header)?;
            sheet.set_column_width(i as u16, if i == 0 { 26 } else { 18 })?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let mut row = 1;
        let count = |m: Option<&Measure>| match m {
            Some(Measure::Count(n)) => *n as f64,
            _ => 0.0,
        };
        for (donor, cell) in report
            .indicators
            .breakdown
            .get("donor")
            .into_iter()
            .flatten()
        {
            let amounts: Vec<(String, rust_decimal::Decimal)> = match cell.get("amount_disbursed") {
                Some(Measure::Money(m)) => m.iter().map(|(c, a)| (c.clone(), *a)).collect(),
                _ => Vec::new(),
            };
            for (currency, amount) in amounts {
                sheet.write_string(row, 0, words.part("donor", donor))?;
                sheet.write_string(row, 1, &currency)?;
                sheet.write_with_format(row, 2, amount, &money(&currency))?;
                sheet.write_number(row, 3, count(cell.get("projects_funded")))?;
                sheet.write_number(row, 4, count(cell.get("enterprises_reinforced")))?;
                row += 1;
            }
        }
        if row > 1 {
            let mut chart = Chart::new(ChartType::Column);
            chart.title().set_name(&words.indicator("projects_funded"));
            chart
                .add_series()
                .set_categories((name.as_str(), 1, 0, row - 1, 0))
                .set_values((name.as_str(), 1, 3, row - 1, 3));
            chart.legend().set_hidden();
            if rtl {
                chart.x_axis().set_reverse();
            }
            sheet.insert_chart(row + 1, 0, &chart)?;
        }
    }

    // Survival: each group's shares at the horizons, then the curve of all as steps, charted.
    let name = sheet_name(&words.t("report.survival"), &mut taken);
    {
        let sheet = new_sheet(&mut workbook, &name, rtl)?;
        let mut header = vec![
            words.t("report.group"),
            words.t("report.enterprises"),
            words.t("report.closed"),
        ];
        for key in ["report.m6", "report.m12", "report.m24"] {
            let h = words.t(key);
            header.push(h.clone());
            header.push(format!("{h} − 95%"));
            header.push(format!("{h} + 95%"));
        }
        for (i, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, i as u16, h, &f.header)?;
            sheet.set_column_width(i as u16, if i == 0 { 24 } else { 12 })?;
        }
        sheet.set_freeze_panes(1, 1)?;
        let mut row = 1;
        for curve in &report.survival.curves {
            sheet.write_string(row, 0, DonorReport::group_name(words, &curve.group))?;
            sheet.write_number(row, 1, curve.enterprises as f64)?;
            sheet.write_number(row, 2, curve.closed as f64)?;
            for (i, at) in curve.at.iter().enumerate() {
                let col = 3 + 3 * i as u16;
                match (at.survival, at.lower, at.upper) {
                    (Some(s), Some(l), Some(u)) => {
                        sheet.write_number_with_format(row, col, s, &f.share)?;
                        sheet.write_number_with_format(row, col + 1, l, &f.share)?;
                        sheet.write_number_with_format(row, col + 2, u, &f.share)?;
                    }
                    _ => {
                        sheet.write_string(row, col, words.t("report.not_known"))?;
                    }
                }
            }
            row += 1;
        }
        // The curve of all enterprises, as the points of its steps.
        if let Some(all) = report.survival.curves.first() {
            let top = row + 2;
            let columns = [
                words.t("report.chart_months"),
                words.t("report.chart_share"),
                format!("{} −", words.t("report.chart_interval")),
                format!("{} +", words.t("report.chart_interval")),
            ];
            for (i, h) in columns.iter().enumerate() {
                sheet.write_string_with_format(top, i as u16, h, &f.header)?;
            }
            let mut points: Vec<(f64, f64, f64, f64)> = vec![(0.0, 1.0, 1.0, 1.0)];
            for step in &all.steps {
                let months = step.day as f64 / 30.44;
                let previous = points.last().copied().unwrap_or((0.0, 1.0, 1.0, 1.0));
                points.push((months, previous.1, previous.2, previous.3));
                points.push((months, step.survival, step.lower, step.upper));
            }
            for (i, (m, s, l, u)) in points.iter().enumerate() {
                let r = top + 1 + i as u32;
                sheet.write_number_with_format(
                    r,
                    0,
                    (m * 10.0).round() / 10.0,
                    &Format::new().set_num_format("0.0"),
                )?;
                sheet.write_number_with_format(r, 1, *s, &f.share)?;
                sheet.write_number_with_format(r, 2, *l, &f.share)?;
                sheet.write_number_with_format(r, 3, *u, &f.share)?;
            }
            let last = top + points.len() as u32;
            let mut chart = Chart::new(ChartType::ScatterStraight);
            chart
                .title()
                .set_name(&DonorReport::group_name(words, &all.group));
            for col in 1..=3u16 {
                chart
                    .add_series()
                    .set_name((name.as_str(), top, col))
                    .set_categories((name.as_str(), top + 1, 0, last, 0))
                    .set_values((name.as_str(), top + 1, col, last, col));
            }
            chart
                .x_axis()
                .set_name(&words.t("report.chart_months"))
                .set_min(0);
            chart
                .y_axis()
                .set_name(&words.t("report.chart_share"))
                .set_min(0)
                .set_max(1)
                .set_num_format("0%");
            if rtl {
                chart.x_axis().set_reverse();
            }
            sheet.insert_chart(top, 5, &chart)?;
        }
    }

    // The methods, a paragraph a row.
    let name = sheet_name(&words.t("report.methods"), &mut taken);
    {
        let sheet = new_sheet(&mut workbook, &name, rtl)?;
        sheet.set_column_width(0, 110)?;
        sheet.write_string_with_format(0, 0, words.t("report.methods"), &f.bold)?;
        for (i, key) in report.methods().iter().enumerate() {
            sheet.write_string_with_format(i as u32 + 1, 0, words.t(key), &f.wrap)?;
        }
    }
    let sheets = workbook.worksheets().len() as u32;
    Ok((workbook.save_to_buffer()?, sheets))
}
