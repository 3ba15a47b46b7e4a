//! The donor report as a PDF: laid out first into pages of drawing operations (so the
//! footer can say "page 2 of 5"), then drawn with krilla. Everything is placed from the
//! start of the line: for Arabic the page is mirrored, tables read from the right and
//! the survival chart's time runs leftwards.

mod draw;

use draw::draw;

use super::text::{Fonts, Line, Style};
use super::{DonorReport, Words, BREAKDOWNS, SUMMARY};
use crate::report::{Measure, SurvivalCurve};

/// A4 in points.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
/// Where the content stops, above the footer.
const BOTTOM: f32 = HEIGHT - 64.0;
const CONTENT: f32 = WIDTH - 2.0 * MARGIN;

const INK: (u8, u8, u8) = (30, 34, 40);
const ACCENT: (u8, u8, u8) = (24, 78, 119);
const HEADER_FILL: (u8, u8, u8) = (222, 232, 241);
const ZEBRA: (u8, u8, u8) = (245, 247, 250);
const RULE: (u8, u8, u8) = (190, 198, 208);
const BAND: (u8, u8, u8) = (198, 219, 239);
const MUTED: (u8, u8, u8) = (96, 104, 114);

const TITLE: Style = Style {
    bold: true,
    size: 22.0,
};
const HEADING: Style = Style {
    bold: true,
    size: 14.0,
};
const BODY: Style = Style {
    bold: false,
    size: 10.0,
};
const SMALL: Style = Style {
    bold: false,
    size: 8.5,
};
const TABLE: Style = Style {
    bold: false,
    size: 9.0,
};
const TABLE_HEAD: Style = Style {
    bold: true,
    size: 9.0,
};

/// One thing to draw on a page, in page coordinates (y downwards).
enum Op {
    /// A line of text, its left end at `x` on the baseline `y`.
    Text {
        x: f32,
        y: f32,
        line: Line,
        color: (u8, u8, u8),
    },
    /// A filled rectangle.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
    },
    /// A filled polygon.
    Polygon {
        points: Vec<(f32, f32)>,
        color: (u8, u8, u8),
    },
    /// A stroked polyline.
    Polyline {
        points: Vec<(f32, f32)>,
        width: f32,
        color: (u8, u8, u8),
        dashed: bool,
    },
}

/// Where a text sits in its box, from the start of the line.
#[derive(Clone, Copy, PartialEq)]
enum Align {
    Start,
    End,
}

/// Lays out the report, page by page.
struct Layout<'a> {
    fonts: &'a Fonts,
    words: &'a Words,
    rtl: bool,
    pages: Vec<Vec<Op>>,
    /// The top of what comes next on the current page.
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts, words: &'a Words) -> Layout<'a> {
        Layout {
            fonts,
            words,
            rtl: words.language().rtl(),
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The left edge on the page of a box `w` wide whose start is `x` from the start margin.
    fn left(&self, x: f32, w: f32) -> f32 {
        if self.rtl {
            WIDTH - MARGIN - x - w
        } else {
            MARGIN + x
        }
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    /// A line of text in the box `[x, x + w]` from the start margin, on baseline `y`.
    fn text_at(&mut self, x: f32, w: f32, y: f32, line: Line, align: Align, color: (u8, u8, u8)) {
        let left = self.left(x, w);
        // The start of a right-to-left line is its right end.
        let at_left = (align == Align::Start) != self.rtl;
        let lx = if at_left { left } else { left + w - line.width };
        self.ops().push(Op::Text {
            x: lx,
            y,
            line,
            color,
        });
    }

    /// A paragraph across the page, wrapped.
    fn paragraph(&mut self, text: &str, style: Style, color: (u8, u8, u8)) {
        let leading = style.size * 1.45;
        for line in self.fonts.wrap(text, style, self.rtl, CONTENT) {
            self.room(leading);
            let y = self.y + style.size;
            self.text_at(0.0, CONTENT, y, line, Align::Start, color);
            self.y += leading;
        }
    }

    /// A section's heading, kept with at least `keep` points of what follows.
    fn heading(&mut self, text: &str, keep: f32) {
        self.y += 10.0;
        self.room(HEADING.size * 2.0 + keep);
        self.paragraph(text, HEADING, ACCENT);
        let (x, y) = (self.left(0.0, CONTENT), self.y);
        self.ops().push(Op::Rect {
            x,
            y,
            w: CONTENT,
            h: 0.8,
            color: ACCENT,
        });
        self.y += 8.0;
    }

    /// A table: column widths (fractions of the page's width) and alignments, a header
    /// repeated on each page, cells wrapped within their column.
    fn table(&mut self, columns: &[(f32, Align)], header: &[String], rows: &[Vec<String>]) {
        let pad = 4.0;
        let widths: Vec<f32> = columns.iter().map(|(f, _)| f * CONTENT).collect();
        let lay = |fonts: &Fonts, cells: &[String], style: Style, rtl: bool| -> Vec<Vec<Line>> {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| fonts.wrap(c, style, rtl, w - 2.0 * pad))
                .collect()
        };
        let height = |cells: &[Vec<Line>], style: Style| {
            cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * style.size * 1.3 + 2.0 * pad
        };
        let head = lay(self.fonts, header, TABLE_HEAD, self.rtl);
        let head_height = height(&head, TABLE_HEAD);
        let body: Vec<Vec<Vec<Line>>> = rows
            .iter()
            .map(|r| lay(self.fonts, r, TABLE, self.rtl))
            .collect();
        let first_row = body.first().map_or(0.0, |r| height(r, TABLE));
        self.room(head_height + first_row);
        self.table_row(columns, &widths, head, TABLE_HEAD, Some(HEADER_FILL));
        for (i, row) in body.into_iter().enumerate() {
            let h = height(&row, TABLE);
            if self.y + h > BOTTOM {
                self.room(h + head_height);
                let again = lay(self.fonts, header, TABLE_HEAD, self.rtl);
                self.table_row(columns, &widths, again, TABLE_HEAD, Some(HEADER_FILL));
            }
            self.table_row(columns, &widths, row, TABLE, (i % 2 == 1).then_some(ZEBRA));
        }
        let (x, y) = (self.left(0.0, CONTENT), self.y);
        self.ops().push(Op::Rect {
            x,
            y,
            w: CONTENT,
            h: 0.6,
            color: RULE,
        });
        self.y += 6.0;
    }

    fn table_row(
        &mut self,
        columns: &[(f32, Align)],
        widths: &[f32],
        cells: Vec<Vec<Line>>,
        style: Style,
        fill: Option<(u8, u8, u8)>,
    ) {
        let pad = 4.0;
        let leading = style.size * 1.3;
        let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * leading + 2.0 * pad;
        let top = self.y;
        if let Some(color) = fill {
            let x = self.left(0.0, CONTENT);
            self.ops().push(Op::Rect {
                x,
                y: top,
                w: CONTENT,
                h,
                color,
            });
        }
        let mut x = 0.0;
        for ((lines, w), (_, align)) in cells.into_iter().zip(widths).zip(columns) {
            for (i, line) in lines.into_iter().enumerate() {
                let baseline = top + pad + style.size + i as f32 * leading;
                self.text_at(x + pad, w - 2.0 * pad, baseline, line, *align, INK);
            }
            x += w;
        }
        self.y = top + h;
    }

    /// Horizontal bars, one per `(label, value)`, longest to scale.
    fn bars(&mut self, items: &[(String, u64)]) {
        let label_w = CONTENT * 0.38;
        let bar_room = CONTENT - label_w - 60.0;
        let row = 20.0;
        self.room(row * items.len() as f32 + 8.0);
        let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f32;
        for (label, value) in items {
            let top = self.y;
            let line = self.fonts.line(label, SMALL, self.rtl);
            self.text_at(0.0, label_w - 8.0, top + 13.0, line, Align::End, INK);
            let w = (*value as f32 / max * bar_room).max(0.5);
            let x = self.left(label_w, w);
            self.ops().push(Op::Rect {
                x,
                y: top + 4.0,
                w,
                h: row - 8.0,
                color: ACCENT,
            });
            let number = self
                .fonts
                .line(&self.words.count(*value), TABLE_HEAD, self.rtl);
            let nw = number.width;
            self.text_at(
                label_w + w + 6.0,
                nw + 1.0,
                top + 13.5,
                number,
                Align::Start,
                INK,
            );
            self.y += row;
        }
        self.y += 8.0;
    }

    /// The survival curve of all enterprises as steps, its 95% interval as a band, the
    /// horizons marked; time runs from the start of the line.
    fn survival_chart(&mut self, curve: &SurvivalCurve) {
        let (chart_h, axis_room, label_room) = (190.0, 34.0, 44.0);
        self.room(chart_h + axis_room + 10.0);
        let last_day = curve.steps.last().map_or(0, |s| s.day).max(730);
        let months = ((last_day as f32 / 30.44 / 6.0).ceil() * 6.0).max(24.0);
        let (x0, w) = (label_room, CONTENT - label_room - 10.0);
        let top = self.y + 6.0;
        let px = |layout: &Layout<'_>, m: f32| layout.left(x0 + m / months * w, 0.0);
        let py = |s: f64| top + chart_h - (s as f32) * chart_h;
        let day_to_month = |d: i64| d as f32 / 30.44;
        // Grid and the share's ticks.
        for k in 0..=4 {
            let share = f64::from(k) / 4.0;
            let y = py(share);
            let (a, b) = (px(self, 0.0), px(self, months));
            self.ops().push(Op::Polyline {
                points: vec![(a, y), (b, y)],
                width: 0.4,
                color: RULE,
                dashed: false,
            });
            let label = self.fonts.line(
                &self
                    .words
                    .percent(share)
                    .replace(",0", "")
                    .replace(".0", ""),
                SMALL,
                self.rtl,
            );
            self.text_at(0.0, x0 - 6.0, y + 3.0, label, Align::End, MUTED);
        }
        // The band: upper steps forwards, lower steps back.
        let mut upper = vec![(0.0f32, 1.0f64)];
        let mut lower = vec![(0.0f32, 1.0f64)];
        let mut survival = vec![(0.0f32, 1.0f64)];
        for s in &curve.steps {
            let m = day_to_month(s.day).min(months);
            for (points, value) in [
                (&mut upper, s.upper),
                (&mut lower, s.lower),
                (&mut survival, s.survival),
            ] {
                let previous = points.last().map_or(1.0, |p| p.1);
                points.push((m, previous));
                points.push((m, value));
            }
        }
        let end = day_to_month(curve.steps.last().map_or(0, |s| s.day)).min(months);
        for points in [&mut upper, &mut lower, &mut survival] {
            let previous = points.last().map_or(1.0, |p| p.1);
            points.push((end, previous));
        }
        let mut band: Vec<(f32, f32)> = upper.iter().map(|&(m, s)| (px(self, m), py(s))).collect();
        band.extend(lower.iter().rev().map(|&(m, s)| (px(self, m), py(s))));
        self.ops().push(Op::Polygon {
            points: band,
            color: BAND,
        });
        let line: Vec<(f32, f32)> = survival
            .iter()
            .map(|&(m, s)| (px(self, m), py(s)))
            .collect();
        self.ops().push(Op::Polyline {
            points: line,
            width: 1.8,
            color: ACCENT,
            dashed: false,
        });
        // Axes, the horizons and the months' ticks.
        let (a, b) = (px(self, 0.0), px(self, months));
        self.ops().push(Op::Polyline {
            points: vec![(a, top), (a, top + chart_h), (b, top + chart_h)],
            width: 0.8,
            color: INK,
            dashed: false,
        });
        for (m, _) in crate::report::survival::HORIZONS {
            let x = px(self, m as f32);
            self.ops().push(Op::Polyline {
                points: vec![(x, top), (x, top + chart_h)],
                width: 0.6,
                color: MUTED,
                dashed: true,
            });
        }
        let mut m = 0.0;
        while m <= months {
            let label = self
                .fonts
                .line(&self.words.count(m as u64), SMALL, self.rtl);
            let lw = label.width;
            self.text_at(
                x0 + m / months * w - lw / 2.0,
                lw,
                top + chart_h + 12.0,
                label,
                Align::Start,
                MUTED,
            );
            m += 6.0;
        }
        let caption = self
            .fonts
            .line(&self.words.t("report.chart_months"), SMALL, self.rtl);
        let cw = caption.width;
        self.text_at(
            x0 + (w - cw) / 2.0,
            cw,
            top + chart_h + 26.0,
            caption,
            Align::Start,
            INK,
        );
        self.y = top + chart_h + axis_room;
        // The key.
        let key_y = self.y;
        let swatch = self.left(x0, 14.0);
        self.ops().push(Op::Rect {
            x: swatch,
            y: key_y,
            w: 14.0,
            h: 2.0,
            color: ACCENT,
        });
        let share = self
            .fonts
            .line(&self.words.t("report.chart_share"), SMALL, self.rtl);
        let sw = share.width;
        self.text_at(x0 + 20.0, sw, key_y + 4.0, share, Align::Start, INK);
        let band_x = self.left(x0 + 40.0 + sw, 14.0);
        self.ops().push(Op::Rect {
            x: band_x,
            y: key_y - 3.0,
            w: 14.0,
            h: 8.0,
            color: BAND,
        });
        let interval = self
            .fonts
            .line(&self.words.t("report.chart_interval"), SMALL, self.rtl);
        let iw = interval.width;
        self.text_at(x0 + 60.0 + sw, iw, key_y + 4.0, interval, Align::Start, INK);
        self.y += 16.0;
    }
}

/// Lays the report out and draws it; returns the PDF's bytes and its number of pages.
pub(super) fn render(report: &DonorReport, words: &Words) -> Result<(Vec<u8>, u32), String> {
    let fonts = Fonts::load().ok_or("the fonts built into Masar are damaged: reinstall it")?;
    let mut layout = Layout::new(&fonts, words);
    cover(&mut layout, report);
    summary(&mut layout, report);
    breakdowns(&mut layout, report);
    money(&mut layout, report);
    survival(&mut layout, report);
    methods(&mut layout, report);
    let pages = std::mem::take(&mut layout.pages);
    draw(pages, report, words, &fonts)
}

fn cover(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    let band = layout.left(0.0, CONTENT);
    layout.ops().push(Op::Rect {
        x: band,
        y: MARGIN - 14.0,
        w: CONTENT,
        h: 4.0,
        color: ACCENT,
    });
    layout.y = MARGIN + 6.0;
    layout.paragraph(&report.organisation, HEADING, MUTED);
    layout.y += 4.0;
    layout.paragraph(&words.t("report.title"), TITLE, ACCENT);
    layout.y += 4.0;
    let (from, to) = (
        report.indicators.from.format("%Y-%m-%d").to_string(),
        report.indicators.to.format("%Y-%m-%d").to_string(),
    );
    layout.paragraph(
        &words.f("report.period", &[("from", &from), ("to", &to)]),
        Style {
            bold: true,
            size: 12.0,
        },
        INK,
    );
    let donor = match &report.donor {
        Some(d) => words.f("report.donor", &[("donor", d)]),
        None => words.t("report.all_donors"),
    };
    layout.paragraph(
        &donor,
        Style {
            bold: false,
            size: 12.0,
        },
        INK,
    );
    let made = words.f(
        "report.made",
        &[
            ("date", &report.made_on.format("%Y-%m-%d").to_string()),
            ("user", &report.made_by),
        ],
    );
    layout.paragraph(&made, SMALL, MUTED);
    layout.y += 6.0;
}

/// The value of an indicator as text: a count, or each currency's amount.
fn measure_text(words: &Words, measure: Option<&Measure>) -> Vec<String> {
    match measure {
        Some(Measure::Count(n)) => vec![words.count(*n)],
        Some(Measure::Money(amounts)) if !amounts.is_empty() => {
            amounts.iter().map(|(c, a)| words.money(*a, c)).collect()
        }
        Some(Measure::Money(_)) => vec![words.count(0)],
        None => vec![String::new()],
    }
}

fn summary(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    layout.heading(&words.t("report.summary"), 60.0);
    let mut rows = Vec::new();
    for name in SUMMARY {
        let mark = if report.programme_wide(name) {
            " *"
        } else {
            ""
        };
        for (i, value) in measure_text(words, report.indicators.indicators.get(name))
            .into_iter()
            .enumerate()
        {
            let label = if i == 0 {
                format!("{}{mark}", words.indicator(name))
            } else {
                String::new()
            };
            rows.push(vec![label, value]);
        }
    }
    layout.table(
        &[(0.66, Align::Start), (0.34, Align::End)],
        &[words.t("supervisor.indicator"), words.t("report.value")],
        &rows,
    );
    if report.donor.is_some() {
        layout.paragraph(&words.t("report.programme_wide"), SMALL, MUTED);
    }
    let count = |name: &str| match report.indicators.indicators.get(name) {
        Some(Measure::Count(n)) => *n,
        _ => 0,
    };
    layout.heading(&words.t("report.journey"), 90.0);
    let journey: Vec<(String, u64)> = ["welcomed", "sensitised", "trained", "funded_beneficiaries"]
        .iter()
        .map(|n| (words.indicator(n), count(n)))
        .collect();
    layout.bars(&journey);
}

fn breakdowns(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    layout.heading(&words.t("report.breakdowns"), 80.0);
    for dim in BREAKDOWNS {
        let Some(parts) = report.indicators.breakdown.get(dim.as_str()) else {
            continue;
        };
        let names = dim.indicators();
        let dim_name = words.t(&format!("dim.{}", dim.as_str()));
        let mut header = vec![words.f("supervisor.breakdown", &[("dim", &dim_name)])];
        header.extend(names.iter().map(|n| words.indicator(n)));
        let rows: Vec<Vec<String>> = parts
            .iter()
            .map(|(part, cell)| {
                let mut row = vec![words.part(dim.as_str(), part)];
                row.extend(
                    names
                        .iter()
                        .map(|n| measure_text(words, cell.get(n)).join(" + ")),
                );
                row
            })
            .collect();
        // Amounts are wider than counts.
        let weight = |n: &&str| if *n == "amount_disbursed" { 1.8 } else { 1.0 };
        let first = 0.24;
        let share = (1.0 - first) / names.iter().map(weight).sum::<f32>();
        let mut columns = vec![(first, Align::Start)];
        columns.extend(names.iter().map(|n| (share * weight(n), Align::End)));
        layout.y += 4.0;
        layout.table(&columns, &header, &rows);
    }
}

fn money(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    layout.heading(&words.t("report.money"), 60.0);
    let mut rows = Vec::new();
    if let Some(parts) = report.indicators.breakdown.get("donor") {
        for (donor, cell) in parts {
            let count = |n: &str| measure_text(words, cell.get(n)).join("");
            match cell.get("amount_disbursed") {
                Some(Measure::Money(amounts)) if !amounts.is_empty() => {
                    for (i, (currency, amount)) in amounts.iter().enumerate() {
                        let (name, funded, reinforced) = if i == 0 {
                            (
                                words.part("donor", donor),
                                count("projects_funded"),
                                count("enterprises_reinforced"),
                            )
                        } else {
                            Default::default()
                        };
                        rows.push(vec![
                            name,
                            currency.clone(),
                            words.money(*amount, currency),
                            funded,
                            reinforced,
                        ]);
                    }
                }
                _ => rows.push(vec![
                    words.part("donor", donor),
                    String::new(),
                    words.count(0),
                    count("projects_funded"),
                    count("enterprises_reinforced"),
                ]),
            }
        }
    }
    let header = DonorReport::money_header(words);
    layout.table(
        &[
            (0.26, Align::Start),
            (0.12, Align::Start),
            (0.24, Align::End),
            (0.19, Align::End),
            (0.19, Align::End),
        ],
        &header,
        &rows,
    );
}

fn survival(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    layout.heading(&words.t("report.survival"), 240.0);
    layout.paragraph(
        &words.f(
            "report.survival_intro",
            &[(
                "date",
                &report.survival.as_of.format("%Y-%m-%d").to_string(),
            )],
        ),
        BODY,
        INK,
    );
    layout.y += 4.0;
    if let Some(all) = report.survival.curves.first() {
        layout.survival_chart(all);
    }
    let share = |at: &crate::report::SurvivalAt| match (at.survival, at.lower, at.upper) {
        (Some(s), Some(l), Some(u)) => {
            let bare = |x: f64| {
                words
                    .percent(x)
                    .trim_end_matches(['%', '\u{a0}'])
                    .to_string()
            };
            format!("{} ({}–{})", words.percent(s), bare(l), bare(u))
        }
        _ => words.t("report.not_known"),
    };
    let rows: Vec<Vec<String>> = report
        .survival
        .curves
        .iter()
        .map(|c| {
            let mut row = vec![
                DonorReport::group_name(words, &c.group),
                words.count(c.enterprises),
                words.count(c.closed),
            ];
            row.extend(c.at.iter().map(share));
            row
        })
        .collect();
    let header = [
        words.t("report.group"),
        words.t("report.enterprises"),
        words.t("report.closed"),
        words.t("report.m6"),
        words.t("report.m12"),
        words.t("report.m24"),
    ];
    let columns = [
        (0.22, Align::Start),
        (0.11, Align::End),
        (0.1, Align::End),
        (0.19, Align::End),
        (0.19, Align::End),
        (0.19, Align::End),
    ];
    layout.table(&columns, &header, &rows);
}

fn methods(layout: &mut Layout<'_>, report: &DonorReport) {
    let words = layout.words;
    layout.heading(&words.t("report.methods"), 40.0);
    for key in report.methods() {
        layout.paragraph(&words.t(key), BODY, INK);
        layout.y += 4.0;
    }
}
