//! Finding persons by a fragment of a name in Latin or Arabic script, a UNHCR id or a
//! phone number, regardless of case, accents and Arabic diacritics.
//!
//! Text is folded the same way when indexed and when searched, and indexed by an FTS5
//! trigram table; fragments shorter than a trigram fall back to a scan of the folded text.

use rusqlite::{params, Connection, Transaction};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::Result;

/// Folds text for matching: compatibility decomposition, no combining marks (Latin accents,
/// Arabic harakat and hamza carriers), lower case, and the Arabic letters that are written
/// interchangeably brought to one form.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '\u{0640}' => None,                       // tatweel
            '\u{0671}' | '\u{0672}' | '\u{0673}' => Some('\u{0627}'), // alef variants → alef
            '\u{0649}' => Some('\u{064A}'),            // alef maksura → yeh
            '\u{0629}' => Some('\u{0647}'),            // teh marbuta → heh
            '\u{06CC}' => Some('\u{064A}'),            // Farsi yeh → yeh
            '\u{06A9}' => Some('\u{0643}'),            // keheh → kaf
            c => Some(c),
        })
        .collect()
}

const INDEXED: &[&str] = &["given", "family", "given_ar", "family_ar", "unhcr_id", "phone"];

/// Rewrites one person's entry in the search index from their current fields.
pub(crate) fn reindex_person(tx: &Transaction<'_>, id: &str) -> Result<()> {
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
        .ok();
    if let Some((rowid, text)) = row {
        tx.execute("DELETE FROM person_search WHERE rowid = ?1", [rowid])?;
        tx.execute("INSERT INTO person_search(rowid, text) VALUES (?1, ?2)", params![rowid, text])?;
    }
    Ok(())
}

/// Ids of the persons matching `needle`, ordered by family then given name.
pub(crate) fn find_persons(conn: &Connection, needle: &str) -> Result<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn latin_case_and_accents_fold_away() {
        assert_eq!(fold("Zoë HÉLÈNE"), "zoe helene");
    }

    #[test]
    fn arabic_diacritics_and_letter_variants_fold_away() {
        // "Fāṭima" with harakat and a teh marbuta, against the bare spelling with heh.
        assert_eq!(fold("فَاطِمَة"), fold("فاطمه"));
        assert_eq!(fold("أحمد"), fold("احمد"));
        assert_eq!(fold("إبراهيم"), fold("ابراهيم"));
        assert_eq!(fold("مصطفى"), fold("مصطفي"));
        assert_eq!(fold("محـــمد"), fold("محمد"));
    }
}
