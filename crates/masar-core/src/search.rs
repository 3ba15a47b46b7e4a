//! Finding persons by a fragment of a name in Latin or Arabic script, a UNHCR id or a
//! phone number, regardless of case, accents and Arabic diacritics.
//!
//! Text is folded (`fold`) the same way when indexed and when searched, and indexed by an
//! FTS5 trigram table; fragments shorter than a trigram fall back to a scan of the folded
//! text.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::StoreError;
use crate::fold::fold;

const INDEXED: &[&str] = &["given", "family", "given_ar", "family_ar", "unhcr_id", "phone"];

/// Rewrites one person's entry in the search index from their current fields.
pub(crate) fn reindex_person(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    let sql = format!("SELECT rowid, {} FROM persons WHERE id = ?1", INDEXED.join(", "));
    let row: Option<(i64, String)> = tx
        .query_row(&sql, [id], |r| {
            let mut parts = Vec::new();
            for i in 0..INDEXED.len() {
                if let Some(s) = r.get::<_, Option<String>>(i + 1)? {
                    parts.push(fold(&s));
                }
            }
            Ok((r.get(0)?, parts.join(" | ")))
        })
        .optional()?;
    if let Some((rowid, text)) = row {
        tx.execute("DELETE FROM person_search WHERE rowid = ?1", [rowid])?;
        tx.execute("INSERT INTO person_search(rowid, text) VALUES (?1, ?2)", params![rowid, text])?;
    }
    Ok(())
}

/// Removes one person's entry from the search index (their record is leaving the table).
pub(crate) fn forget_person(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM person_search WHERE rowid = (SELECT rowid FROM persons WHERE id = ?1)", [id])?;
    Ok(())
}

/// A condition on the persons table (named `alias`) that keeps those matching `needle`,
/// with its one parameter: the search as a filter among others.
pub(crate) fn condition(alias: &str, needle: &str) -> (String, String) {
    let folded = fold(needle.trim());
    if folded.chars().count() >= 3 {
        // A quoted FTS5 string is matched as a substring by the trigram tokenizer.
        (format!("{alias}.rowid IN (SELECT rowid FROM person_search WHERE person_search MATCH ?)"), format!("\"{}\"", folded.replace('"', "\"\"")))
    } else {
        let pattern = format!("%{}%", folded.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        (format!("{alias}.rowid IN (SELECT rowid FROM person_search WHERE text LIKE ? ESCAPE '\\')"), pattern)
    }
}

/// Ids of the persons matching `needle`, ordered by family then given name.
pub(crate) fn find_persons(conn: &Connection, needle: &str) -> Result<Vec<String>, StoreError> {
    let folded = fold(needle.trim());
    let ids = if folded.chars().count() >= 3 {
        // A quoted FTS5 string is matched as a substring by the trigram tokenizer.
        let phrase = format!("\"{}\"", folded.replace('"', "\"\""));
        let mut stmt = conn.prepare(
            "SELECT p.id FROM person_search s JOIN persons p ON p.rowid = s.rowid
             WHERE person_search MATCH ?1 ORDER BY p.family, p.given, p.id",
        )?;
        let ids = stmt.query_map([phrase], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        ids
    } else {
        let pattern = format!("%{}%", folded.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let mut stmt = conn.prepare(
            "SELECT p.id FROM person_search s JOIN persons p ON p.rowid = s.rowid
             WHERE s.text LIKE ?1 ESCAPE '\\' ORDER BY p.family, p.given, p.id",
        )?;
        let ids = stmt.query_map([pattern], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        ids
    };
    Ok(ids)
}
