//! The laid-out pages drawn with krilla, each with its footer.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::Document;

use super::*;

fn color((r, g, b): (u8, u8, u8)) -> krilla::paint::Paint {
    rgb::Color::new(r, g, b).into()
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: color(c),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Draws the laid-out pages, each with its footer.
pub(super) fn draw(
    pages: Vec<Vec<Op>>,
    report: &DonorReport,
    words: &Words,
    fonts: &Fonts,
) -> Result<(Vec<u8>, u32), String> {
    let rtl = words.language().rtl();
    let total = pages.len();
    let mut document = Document::new();
    let title = format!("{} — {}", report.organisation, words.t("report.title"));
    document.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title.clone())
            .language(words.language().as_str().to_string())
            .creator("Masar".to_string()),
    );
    for (n, mut ops) in pages.into_iter().enumerate() {
        let footer = words.f(
            "report.page",
            &[
                ("n", &words.count(n as u64 + 1)),
                ("total", &words.count(total as u64)),
            ],
        );
        let footer = fonts.line(&footer, SMALL, rtl);
        let name = fonts.line(&title, SMALL, rtl);
        let y = HEIGHT - 36.0;
        ops.push(Op::Rect {
            x: MARGIN,
            y: y - 14.0,
            w: CONTENT,
            h: 0.5,
            color: RULE,
        });
        let (fx, nx) = if rtl {
            (MARGIN, WIDTH - MARGIN - name.width)
        } else {
            (WIDTH - MARGIN - footer.width, MARGIN)
        };
        ops.push(Op::Text {
            x: fx,
            y,
            line: footer,
            color: MUTED,
        });
        ops.push(Op::Text {
            x: nx,
            y,
            line: name,
            color: MUTED,
        });
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("the page size is not valid")?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    line,
                    color: c,
                } => {
                    surface.set_fill(Some(fill(c)));
                    let mut at = x;
                    for run in line.runs {
                        surface.draw_glyphs(
                            Point::from_xy(at, y),
                            &run.glyphs,
                            run.font.clone(),
                            &run.copy,
                            line.size,
                            false,
                        );
                        at += run.width;
                    }
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    color: c,
                } => {
                    let mut builder = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(x, y, w.max(0.01), h.max(0.01)) {
                        builder.push_rect(rect);
                    }
                    if let Some(path) = builder.finish() {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(c)));
                        surface.draw_path(&path);
                    }
                }
                Op::Polygon { points, color: c } => {
                    if let Some(path) = polyline(&points, true) {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(c)));
                        surface.draw_path(&path);
                    }
                }
                Op::Polyline {
                    points,
                    width,
                    color: c,
                    dashed,
                } => {
                    if let Some(path) = polyline(&points, false) {
                        surface.set_fill(None);
                        let dash = dashed.then(|| StrokeDash {
                            array: vec![3.0, 3.0],
                            offset: 0.0,
                        });
                        surface.set_stroke(Some(Stroke {
                            paint: color(c),
                            width,
                            dash,
                            ..Default::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    let bytes = document
        .finish()
        .map_err(|e| format!("the PDF could not be made: {e:?}"))?;
    Ok((bytes, total as u32))
}

/// A path through `points` (none for fewer than two).
fn polyline(points: &[(f32, f32)], close: bool) -> Option<krilla::geom::Path> {
    if points.len() < 2 {
        return None;
    }
    let mut builder = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    builder.move_to(first.0, first.1);
    for p in rest {
        builder.line_to(p.0, p.1);
    }
    if close {
        builder.close();
    }
    builder.finish()
}
