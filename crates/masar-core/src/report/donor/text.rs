//! Lines of text for the PDF: ordered by the Unicode bidirectional algorithm, each run set
//! in the font that has its script (Noto Sans Arabic for Arabic, Noto Sans for the rest),
//! and shaped, so that Arabic letters join and read right to left, digits inside Arabic
//! keep their order, and a copy of the text comes out in logical order.

use krilla::text::{GlyphId, KrillaGlyph};
use rustybuzz::{Direction, UnicodeBuffer};
use unicode_bidi::{Level, ParagraphBidiInfo};

/// The fonts the report embeds (SIL Open Font License, `assets/fonts/OFL.txt`).
const LATIN: &[u8] = include_bytes!("../../../../../assets/fonts/NotoSans-Regular.ttf");
const LATIN_BOLD: &[u8] = include_bytes!("../../../../../assets/fonts/NotoSans-Bold.ttf");
const ARABIC: &[u8] = include_bytes!("../../../../../assets/fonts/NotoSansArabic-Regular.ttf");
const ARABIC_BOLD: &[u8] = include_bytes!("../../../../../assets/fonts/NotoSansArabic-Bold.ttf");

/// One font, as the PDF embeds it and as the shaper reads it.
struct Face {
    pdf: krilla::text::Font,
    shaper: rustybuzz::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Face> {
        Some(Face {
            pdf: krilla::text::Font::new(data.into(), 0)?,
            shaper: rustybuzz::Face::from_slice(data, 0)?,
        })
    }
}

/// How a piece of text is set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    /// Bold or regular.
    pub bold: bool,
    /// The size in points.
    pub size: f32,
}

/// A stretch of a line in one font and one direction, its glyphs in visual order.
pub(crate) struct Run {
    /// The run's text, in logical order.
    #[cfg(test)]
    pub text: String,
    /// The text the PDF maps the glyphs to: in a right-to-left run each cluster of several
    /// characters (a letter and its vowel mark, the lam–alef ligature) is stored reversed,
    /// because text extractors (poppler's `pdftotext`, pdf.js) read glyphs in visual order
    /// and reverse right-to-left words whole, cluster texts included.
    pub copy: String,
    /// Glyphs, left to right, advances relative to the font size.
    pub glyphs: Vec<KrillaGlyph>,
    /// The font that draws them.
    pub font: krilla::text::Font,
    /// Its width in points.
    pub width: f32,
}

/// A line ready to draw: runs left to right.
pub(crate) struct Line {
    /// The runs, in the order they are drawn from the left.
    pub runs: Vec<Run>,
    /// The line's width in points.
    pub width: f32,
    /// The font size.
    pub size: f32,
}

/// The report's four faces.
pub(crate) struct Fonts {
    latin: Face,
    latin_bold: Face,
    arabic: Face,
    arabic_bold: Face,
}

/// Whether `c` is written in the Arabic script.
fn arabic(c: char) -> bool {
    matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0x08A0..=0x08FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF)
}

impl Fonts {
    /// The bundled fonts; `None` only if a font file built into the program is damaged.
    pub(crate) fn load() -> Option<Fonts> {
        Some(Fonts {
            latin: Face::load(LATIN)?,
            latin_bold: Face::load(LATIN_BOLD)?,
            arabic: Face::load(ARABIC)?,
            arabic_bold: Face::load(ARABIC_BOLD)?,
        })
    }

    fn face(&self, bold: bool, arabic: bool) -> &Face {
        match (bold, arabic) {
            (false, false) => &self.latin,
            (true, false) => &self.latin_bold,
            (false, true) => &self.arabic,
            (true, true) => &self.arabic_bold,
        }
    }

    /// `text` as one line, in a paragraph of direction `rtl`; a text with no Arabic letter
    /// (a number, an age bracket, an amount and its currency) reads left to right.
    pub(crate) fn line(&self, text: &str, style: Style, rtl: bool) -> Line {
        let text = text.replace(['\n', '\r', '\t'], " ");
        if text.is_empty() {
            return Line {
                runs: Vec::new(),
                width: 0.0,
                size: style.size,
            };
        }
        let rtl = rtl && text.chars().any(arabic);
        let bidi =
            ParagraphBidiInfo::new(&text, Some(if rtl { Level::rtl() } else { Level::ltr() }));
        let (levels, visual) = bidi.visual_runs(0..text.len());
        let mut runs = Vec::new();
        for range in visual {
            let run_rtl = levels.get(range.start).is_some_and(|l| l.is_rtl());
            let mut segments = self.segments(&text, range);
            if run_rtl {
                segments.reverse();
            }
            for (range, is_arabic) in segments {
                // Isolates order the runs; they are not drawn, nor copied.
                let piece: String = text[range]
                    .chars()
                    .filter(|c| !matches!(c, '\u{2066}'..='\u{2069}'))
                    .collect();
                if !piece.is_empty() {
                    runs.push(self.shape(&piece, style, is_arabic, run_rtl));
                }
            }
        }
        let width = runs.iter().map(|r| r.width).sum();
        Line {
            runs,
            width,
            size: style.size,
        }
    }

    /// The width of `text` on one line.
    pub(crate) fn width(&self, text: &str, style: Style, rtl: bool) -> f32 {
        self.line(text, style, rtl).width
    }

    /// `text` broken into lines no wider than `width` (a word wider than that keeps a
    /// line to itself).
    pub(crate) fn wrap(&self, text: &str, style: Style, rtl: bool, width: f32) -> Vec<Line> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if !current.is_empty() && self.width(&candidate, style, rtl) > width {
                lines.push(self.line(&current, style, rtl));
                current = word.to_string();
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(self.line(&current, style, rtl));
        }
        lines
    }

    /// Splits a bidi run into stretches of one font: Arabic letters in the Arabic face,
    /// the rest in the Latin one; spaces and punctuation stay with the letters before them
    /// when that face has them.
    fn segments(
        &self,
        text: &str,
        range: std::ops::Range<usize>,
    ) -> Vec<(std::ops::Range<usize>, bool)> {
        let mut out: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
        let slice = &text[range.clone()];
        // Neutral characters at the start take the font of the first letter that follows.
        let first = slice
            .chars()
            .find(|c| c.is_alphanumeric())
            .map(arabic)
            .unwrap_or(false);
        let mut current = first;
        for (i, c) in slice.char_indices() {
            let at = range.start + i;
            let wanted = if arabic(c) {
                true
            } else if c.is_alphanumeric() {
                false
            } else {
                current && self.face(false, true).shaper.glyph_index(c).is_some()
            };
            current = wanted;
            match out.last_mut() {
                Some((r, a)) if *a == wanted => r.end = at + c.len_utf8(),
                _ => out.push((at..at + c.len_utf8(), wanted)),
            }
        }
        out
    }

    /// Shapes `text` in one face and direction.
    fn shape(&self, text: &str, style: Style, is_arabic: bool, rtl: bool) -> Run {
        let face = self.face(style.bold, is_arabic);
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&face.shaper, &[], buffer);
        let em = face.shaper.units_per_em().max(1) as f32;
        // A glyph's text is its cluster: from its start to the next cluster's start.
        let mut starts: Vec<usize> = shaped
            .glyph_infos()
            .iter()
            .map(|g| g.cluster as usize)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let end_of = |start: usize| {
            starts
                .iter()
                .copied()
                .find(|&s| s > start)
                .unwrap_or(text.len())
        };
        let glyphs: Vec<KrillaGlyph> = shaped
            .glyph_infos()
            .iter()
            .zip(shaped.glyph_positions())
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end_of(start),
                    None,
                )
            })
            .collect();
        let width = glyphs.iter().map(|g| g.x_advance).sum::<f32>() * style.size;
        // Reversing a cluster's characters keeps its bytes within the same range.
        let copy = if rtl {
            let mut copy = String::with_capacity(text.len());
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).copied().unwrap_or(text.len());
                copy.extend(text.get(start..end).unwrap_or_default().chars().rev());
            }
            copy
        } else {
            text.to_string()
        };
        Run {
            #[cfg(test)]
            text: text.to_string(),
            copy,
            glyphs,
            font: face.pdf.clone(),
            width,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: Style = Style {
        bold: false,
        size: 10.0,
    };

    #[test]
    fn arabic_is_set_in_the_arabic_face_right_to_left_with_digits_in_order() {
        let fonts = Fonts::load().expect("the bundled fonts");
        let line = fonts.line("المجموع 2024 Rabat", BODY, true);
        // Visual order from the left: the Latin name, the year, then the Arabic word.
        let texts: Vec<&str> = line.runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts.first().map(|t| t.trim()), Some("Rabat"), "{texts:?}");
        assert!(
            texts.iter().any(|t| t.contains("2024")),
            "the year is one run in reading order: {texts:?}"
        );
        assert_eq!(texts.last().map(|t| t.trim()), Some("المجموع"), "{texts:?}");
        let word = line.runs.last().expect("a run");
        // Joined letters: the shaper picked contextual forms, so the glyphs are not the isolated ones.
        let isolated = fonts.shape("م ج م و ع", BODY, true, true);
        assert_ne!(
            word.glyphs.iter().map(|g| g.glyph_id).collect::<Vec<_>>(),
            isolated
                .glyphs
                .iter()
                .filter(|g| g.x_advance > 0.0)
                .map(|g| g.glyph_id)
                .collect::<Vec<_>>()
        );
        assert!(line.width > 0.0);
    }

    #[test]
    fn an_empty_text_is_an_empty_line() {
        let fonts = Fonts::load().expect("the bundled fonts");
        for rtl in [false, true] {
            assert_eq!(fonts.line("", BODY, rtl).width, 0.0);
            assert_eq!(fonts.wrap("  ", BODY, rtl, 100.0).len(), 1);
        }
    }

    #[test]
    fn wrapping_keeps_every_word_and_each_line_within_the_width() {
        let fonts = Fonts::load().expect("the bundled fonts");
        let text =
            "Une personne compte une fois par indicateur, quel que soit le nombre de ses venues.";
        let lines = fonts.wrap(text, BODY, false, 120.0);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| l.width <= 120.0));
        let words: Vec<String> = lines
            .iter()
            .flat_map(|l| l.runs.iter().map(|r| r.text.clone()))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        assert_eq!(words.join(" "), text);
    }
}
