//! Refused input: what a user typed that the core cannot accept, with the field, the
//! value and what to write instead.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Why a value was refused, as a stable code a window translates, with what the
/// translation needs; `Display` gives the core's English sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Not a calendar date.
    NotADate,
    /// Not an exact decimal amount.
    NotAnAmount,
    /// A negative amount where only zero or more is meaningful.
    Negative,
    /// A zero amount where something must be paid.
    Zero,
    /// Not a whole number.
    NotWholeNumber,
    /// A number under the smallest allowed.
    TooSmall(i64),
    /// Not one of a list of words.
    NotOneOf(Vec<String>),
    /// Not an ISO 3166-1 alpha-3 country code.
    NotACountry,
    /// Not an ISO 4217 currency code.
    NotACurrency,
    /// Not yes or no.
    NotYesNo,
    /// Not a record id.
    NotAnId,
    /// Not of the form KEY=VALUE.
    NotKeyValue,
    /// A date that must come after another.
    NotAfter(String),
    /// Not a scope of export.
    NotAScope,
    /// Longer than a value may be, in bytes.
    TooLong(usize),
}

impl Problem {
    /// A stable code, such as `not_a_date`.
    pub fn code(&self) -> &'static str {
        match self {
            Problem::NotADate => "not_a_date",
            Problem::NotAnAmount => "not_an_amount",
            Problem::Negative => "negative",
            Problem::Zero => "zero",
            Problem::NotWholeNumber => "not_whole_number",
            Problem::TooSmall(_) => "too_small",
            Problem::NotOneOf(_) => "not_one_of",
            Problem::NotACountry => "not_a_country",
            Problem::NotACurrency => "not_a_currency",
            Problem::NotYesNo => "not_yes_no",
            Problem::NotAnId => "not_an_id",
            Problem::NotKeyValue => "not_key_value",
            Problem::NotAfter(_) => "not_after",
            Problem::NotAScope => "not_a_scope",
            Problem::TooLong(_) => "too_long",
        }
    }

    /// What a translation of the problem needs.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Problem::TooSmall(min) => vec![("min", min.to_string())],
            Problem::NotOneOf(options) => vec![("options", options.join(", "))],
            Problem::NotAfter(date) => vec![("date", date.clone())],
            Problem::TooLong(max) => vec![("max", (max / 1024).to_string())],
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotADate => {
                f.write_str("is not a date: write it as YYYY-MM-DD, for example 2024-03-15")
            }
            Problem::NotAnAmount => f.write_str(
                "is not an amount: write digits with a point for decimals, for example 1250.50",
            ),
            Problem::Negative => f.write_str("is negative: an amount here must be zero or more"),
            Problem::Zero => f.write_str("is zero: a disbursement pays something"),
            Problem::NotWholeNumber => f.write_str("is not a whole number"),
            Problem::TooSmall(min) => write!(f, "is too small: it must be at least {min}"),
            Problem::NotOneOf(options) => write!(f, "is not one of: {}", options.join(", ")),
            Problem::NotACountry => f.write_str(
                "is not a country code: use the three-letter ISO code, for example SYR or COD",
            ),
            Problem::NotACurrency => f.write_str(
                "is not a currency code: use the three-letter ISO code, for example MAD or EUR",
            ),
            Problem::NotYesNo => f.write_str("is not yes or no"),
            Problem::NotAnId => {
                f.write_str("is not a record id: copy the id printed when the record was made")
            }
            Problem::NotKeyValue => {
                f.write_str("is not of the form KEY=VALUE, for example city=Rabat")
            }
            Problem::NotAfter(date) => write!(
                f,
                "is not after the visit's date {date}: give the date of the next visit"
            ),
            Problem::NotAScope => f.write_str("is not a scope: use city=NAME or counsellor=USER"),
            Problem::TooLong(max) => write!(
                f,
                "is too long: a value may hold at most {} KiB",
                max / 1024
            ),
        }
    }
}

/// Input refused, with the field, the value and what to do. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A value that cannot be read as its field requires.
    #[error("{field}: '{value}' {problem}")]
    Invalid {
        /// The field concerned.
        field: String,
        /// The value as typed.
        value: String,
        /// Why it was refused and how to write it.
        problem: Problem,
    },
    /// A required field is missing.
    #[error("{field} is required: {hint}")]
    Missing {
        /// The field concerned.
        field: String,
        /// How to give it.
        hint: String,
    },
    /// A field name that does not exist.
    #[error("a {what} has no field '{field}': the fields you can set are {known}")]
    UnknownField {
        /// The kind of record.
        what: &'static str,
        /// The name given.
        field: String,
        /// The names that exist.
        known: String,
    },
    /// A field kept by its own command.
    #[error("{field} of a {what} cannot be set directly: use the command made for it")]
    NotSettable {
        /// The kind of record.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
    /// An id that names no record.
    #[error("no {what} with id '{id}': check the id (the list commands print them)")]
    NotFound {
        /// The kind of record.
        what: &'static str,
        /// The id given.
        id: String,
    },
    /// The same thing given twice.
    #[error("{what} '{value}' is given twice: give it once")]
    Duplicate {
        /// What was repeated.
        what: &'static str,
        /// The repeated value.
        value: String,
    },
    /// A value outside the organisation's reference list.
    #[error("{list} '{value}' is not in the organisation's list ({known}): use one of these, or ask an administrator to add it with `masar ref add {list} \"{value}\"`")]
    UnknownReference {
        /// The list.
        list: &'static str,
        /// The value given.
        value: String,
        /// What the list holds.
        known: String,
    },
    /// A rule of the journey that the request breaks.
    #[error("{message}")]
    Rule {
        /// Which rule, as a stable code a window translates (`plan_frozen`, …).
        reason: &'static str,
        /// The core's English sentence.
        message: String,
        /// What a translation needs (stages, dates).
        params: Vec<(&'static str, String)>,
    },
    /// A tranche that would take the payments above what the committee approved.
    #[error("this tranche would bring what was paid to {would_be} {currency}, above the {approved} {currency} the committee approved: pay at most {remaining} {currency}, or ask a supervisor to record it with a reason")]
    AboveApproved {
        /// The approved amount.
        approved: String,
        /// What the payments would reach.
        would_be: String,
        /// What may still be paid.
        remaining: String,
        /// The approved amount's currency.
        currency: String,
    },
    /// One row of an imported file is wrong; the whole file was refused.
    #[error("row {row} of the file: {error} (nothing was imported)")]
    Row {
        /// The row number, counting the header as row 1.
        row: usize,
        /// What is wrong with it.
        #[source]
        error: Box<InputError>,
    },
    /// The file cannot be read as the expected CSV.
    #[error("the file cannot be imported: {0} (nothing was imported)")]
    File(String),
}

impl InputError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Invalid { .. } => "input.invalid",
            InputError::Missing { .. } => "input.missing",
            InputError::UnknownField { .. } => "input.unknown_field",
            InputError::NotSettable { .. } => "input.not_settable",
            InputError::NotFound { .. } => "input.not_found",
            InputError::Duplicate { .. } => "input.duplicate",
            InputError::UnknownReference { .. } => "input.unknown_reference",
            InputError::Rule { .. } => "input.rule",
            InputError::AboveApproved { .. } => "input.above_approved",
            InputError::Row { .. } => "input.row",
            InputError::File(_) => "input.file",
        }
    }

    /// The field the error concerns, so a form can show it beside that field.
    pub fn field(&self) -> Option<&str> {
        match self {
            InputError::Invalid { field, .. } | InputError::Missing { field, .. } => Some(field),
            InputError::UnknownField { field, .. } => Some(field),
            InputError::NotSettable { field, .. } => Some(field),
            InputError::Row { error, .. } => error.field(),
            InputError::AboveApproved { .. } => Some("amount"),
            _ => None,
        }
    }
}

impl InputError {
    /// A value refused for `problem`.
    pub fn invalid(field: &str, value: &str, problem: Problem) -> InputError {
        InputError::Invalid {
            field: field.to_string(),
            value: value.to_string(),
            problem,
        }
    }

    /// A rule of the journey broken: `reason` is its stable code, `message` the English
    /// sentence, `params` what a translation needs.
    pub fn rule(
        reason: &'static str,
        message: impl Into<String>,
        params: &[(&'static str, &str)],
    ) -> InputError {
        InputError::Rule {
            reason,
            message: message.into(),
            params: params.iter().map(|(k, v)| (*k, (*v).to_string())).collect(),
        }
    }

    /// The specific reason, and what its translation needs, for the errors that have one.
    pub fn reason(&self) -> Option<(&'static str, Vec<(&'static str, String)>)> {
        match self {
            InputError::Invalid { problem, value, .. } => {
                let mut params = problem.params();
                params.push(("value", value.clone()));
                Some((problem.code(), params))
            }
            InputError::Rule { reason, params, .. } => Some((reason, params.clone())),
            InputError::Row { row, error } => error.reason().map(|(r, mut p)| {
                p.push(("row", row.to_string()));
                (r, p)
            }),
            InputError::AboveApproved {
                approved,
                would_be,
                remaining,
                currency,
            } => Some((
                "above_approved",
                vec![
                    ("approved", approved.clone()),
                    ("would_be", would_be.clone()),
                    ("remaining", remaining.clone()),
                    ("currency", currency.clone()),
                ],
            )),
            InputError::UnknownReference { list, value, .. } => Some((
                "unknown_reference",
                vec![("list", (*list).to_string()), ("value", value.clone())],
            )),
            InputError::Duplicate { value, .. } => {
                Some(("duplicate", vec![("value", value.clone())]))
            }
            _ => None,
        }
    }
}

fn invalid(field: &str, value: &str, problem: Problem) -> InputError {
    InputError::invalid(field, value, problem)
}

/// Reads a date typed as `YYYY-MM-DD`.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, InputError> {
    let t = text.trim();
    let ok = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    ok.then(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| invalid(field, text, Problem::NotADate))
}

/// Reads an exact decimal amount; refuses floats' notations and, unless `signed`, negatives.
pub fn parse_amount(field: &str, text: &str, signed: bool) -> Result<Decimal, InputError> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && t.chars().filter(|c| *c == '.').count() <= 1
        && !t[1.min(t.len())..].contains('-');
    let d = plain
        .then(|| Decimal::from_str_exact(t).ok())
        .flatten()
        .ok_or_else(|| invalid(field, text, Problem::NotAnAmount))?;
    if !signed && d.is_sign_negative() && !d.is_zero() {
        return Err(invalid(field, text, Problem::Negative));
    }
    Ok(d)
}

/// Reads a required text argument.
pub(crate) fn required_text(field: &str, text: &str, hint: &str) -> Result<String, InputError> {
    let t = text.trim();
    if t.is_empty() {
        Err(InputError::Missing {
            field: field.into(),
            hint: hint.into(),
        })
    } else {
        Ok(t.to_string())
    }
}

/// Splits `KEY=VALUE` as typed on a command line.
pub fn split_pair(text: &str) -> Result<(String, String), InputError> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(invalid("KEY=VALUE", text, Problem::NotKeyValue)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_iso_and_real() {
        assert!(parse_date("born", "1990-02-28").is_ok());
        for bad in [
            "1990-02-30",
            "28/02/1990",
            "1990-2-28",
            "yesterday",
            "19900228",
        ] {
            let e = parse_date("born", bad).unwrap_err().to_string();
            assert!(
                e.contains("born") && e.contains(bad) && e.contains("YYYY-MM-DD"),
                "{e}"
            );
        }
    }

    #[test]
    fn amounts_are_exact_and_refuse_floats_notations() {
        assert_eq!(
            parse_amount("amount", "1250.50", false)
                .unwrap()
                .to_string(),
            "1250.50"
        );
        assert_eq!(
            parse_amount("profit", "-20", true).unwrap().to_string(),
            "-20"
        );
        for bad in ["1e3", "12,5", "abc", "", "1.2.3", "NaN", "5-"] {
            assert!(parse_amount("amount", bad, false).is_err(), "{bad}");
        }
        let neg = parse_amount("amount", "-5", false).unwrap_err().to_string();
        assert!(neg.contains("negative"), "{neg}");
    }
}
