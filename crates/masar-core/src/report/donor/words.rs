//! The donor report's words and numbers in the reader's language. The words are the
//! catalogues the window reads too (`i18n/*.json` at the top of the repository), read at
//! build time: one translation of each indicator, shared by the window and the report.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use ts_rs::TS;

use crate::error::{InputError, Problem};

/// A language the report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// French.
    Fr,
    /// Arabic, right to left.
    Ar,
    /// English.
    En,
}

impl Language {
    /// Every language.
    pub const ALL: [Language; 3] = [Language::Fr, Language::Ar, Language::En];

    /// The language's code as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::Ar => "ar",
            Language::En => "en",
        }
    }

    /// Reads a language's code.
    pub fn parse(s: &str) -> Result<Language, InputError> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim())
            .ok_or_else(|| InputError::Invalid {
                field: "lang".into(),
                value: s.into(),
                problem: Problem::NotOneOf(
                    Language::ALL
                        .iter()
                        .map(|l| l.as_str().to_string())
                        .collect(),
                ),
            })
    }

    /// Whether the language is written right to left.
    pub fn rtl(self) -> bool {
        self == Language::Ar
    }

    fn catalogue(self) -> &'static str {
        match self {
            Language::Fr => include_str!("../../../../../i18n/fr.json"),
            Language::Ar => include_str!("../../../../../i18n/ar.json"),
            Language::En => include_str!("../../../../../i18n/en.json"),
        }
    }
}

/// The words of one language, and the keys asked for that it lacked (a test keeps that
/// list empty in every language).
pub(crate) struct Words {
    language: Language,
    isolate: bool,
    entries: BTreeMap<String, serde_json::Value>,
    missing: RefCell<Vec<String>>,
}

impl Words {
    /// The catalogue of `language` (checked by the catalogue tests; an unreadable one
    /// shows every key as itself rather than failing the report). With `isolate`, values
    /// put into Arabic sentences are bidirectional isolates (for the PDF, which lays out
    /// its own lines; a spreadsheet orders its cells itself).
    pub(crate) fn new(language: Language, isolate: bool) -> Words {
        Words {
            language,
            isolate,
            entries: serde_json::from_str(language.catalogue()).unwrap_or_default(),
            missing: RefCell::new(Vec::new()),
        }
    }

    /// The language.
    pub(crate) fn language(&self) -> Language {
        self.language
    }

    /// The text of `key`.
    pub(crate) fn t(&self, key: &str) -> String {
        match self.entries.get(key).and_then(|v| v.as_str()) {
            Some(text) => text.to_string(),
            None => {
                self.missing.borrow_mut().push(key.to_string());
                key.to_string()
            }
        }
    }

    /// The text of `key` with its `{name}` placeholders filled. In Arabic, for the PDF, each value is a
    /// bidirectional isolate: a date such as 2024-01-31 after Arabic words would otherwise
    /// read as Arabic numbers and show its parts in reverse (31-01-2024).
    pub(crate) fn f(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in values {
            let value = if self.isolate && self.language.rtl() {
                format!("\u{2068}{value}\u{2069}")
            } else {
                value.to_string()
            };
            text = text.replace(&format!("{{{name}}}"), &value);
        }
        text
    }

    /// The keys asked for that the catalogue lacks.
    #[cfg(test)]
    pub(crate) fn missing(&self) -> Vec<String> {
        self.missing.borrow().clone()
    }

    /// The name of an indicator.
    pub(crate) fn indicator(&self, name: &str) -> String {
        self.t(&format!("ind.{name}"))
    }

    /// A part of a breakdown as the reader knows it: sexes and "unknown" translated, the
    /// organisation's own names (cities, donors, sectors) as written.
    pub(crate) fn part(&self, dimension: &str, part: &str) -> String {
        match (dimension, part) {
            (_, "unknown") => self.t("common.unknown"),
            (_, "mixed") => self.t("report.mixed"),
            ("sex", "female" | "male" | "other") => self.t(&format!("sex.{part}")),
            _ => part.to_string(),
        }
    }

    /// The thousands separator and the decimal mark.
    fn marks(&self) -> (&'static str, &'static str) {
        match self.language {
            // A narrow no-break space, as French typography groups digits.
            Language::Fr => ("\u{202f}", ","),
            Language::Ar | Language::En => (",", "."),
        }
    }

    /// A whole number with its digits grouped.
    pub(crate) fn count(&self, n: u64) -> String {
        group(&n.to_string(), self.marks().0)
    }

    /// An amount with two decimals (more when it has them) and its currency's code.
    pub(crate) fn money(&self, amount: Decimal, currency: &str) -> String {
        let (thousands, decimal) = self.marks();
        let mut exact = amount.normalize();
        if exact.scale() < 2 {
            exact.rescale(2);
        }
        let text = exact.abs().to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let sign = if amount.is_sign_negative() && !amount.is_zero() {
            "-"
        } else {
            ""
        };
        let number = format!("{sign}{}{decimal}{fraction}", group(whole, thousands));
        format!("{number}\u{a0}{currency}")
    }

    /// A share between 0 and 1 as a percentage with one decimal.
    pub(crate) fn percent(&self, share: f64) -> String {
        let text = format!("{:.1}", share * 100.0);
        match self.language {
            Language::Fr => format!("{}\u{a0}%", text.replace('.', ",")),
            Language::Ar | Language::En => format!("{text}%"),
        }
    }
}

/// `digits` grouped by threes from the right with `separator`.
fn group(digits: &str, separator: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * separator.len());
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_marked_as_each_language_writes_them() {
        let (fr, en, ar) = (
            Words::new(Language::Fr, true),
            Words::new(Language::En, true),
            Words::new(Language::Ar, true),
        );
        assert_eq!(fr.count(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(en.count(1_234_567), "1,234,567");
        assert_eq!(en.count(999), "999");
        assert_eq!(
            en.money(Decimal::new(12_500, 0), "MAD"),
            "12,500.00\u{a0}MAD"
        );
        assert_eq!(
            fr.money(Decimal::new(-1_234_505, 3), "EUR"),
            "-1\u{202f}234,505\u{a0}EUR"
        );
        assert_eq!(ar.percent(0.8333), "83.3%");
        assert_eq!(fr.percent(0.5), "50,0\u{a0}%");
    }

    #[test]
    fn words_come_from_the_windows_catalogues_and_a_missing_key_is_noticed() {
        let ar = Words::new(Language::Ar, true);
        assert_eq!(ar.indicator("welcomed"), "الأشخاص المستقبلون");
        assert_eq!(ar.part("sex", "female"), "أنثى");
        assert_eq!(ar.part("city", "Rabat"), "Rabat");
        assert!(ar.missing().is_empty());
        assert_eq!(ar.t("report.no_such_key"), "report.no_such_key");
        assert_eq!(ar.missing(), vec!["report.no_such_key".to_string()]);
        assert!(Language::parse("de")
            .unwrap_err()
            .to_string()
            .contains("fr"));
    }
}
