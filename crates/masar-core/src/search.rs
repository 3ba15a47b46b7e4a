//! Finding persons by a fragment of a name in Latin or Arabic script, a UNHCR id or a
//! phone number, regardless of case, accents and Arabic diacritics.
//!
//! Text is folded (`fold`) the same way when indexed and when searched. Each person's words
//! and codes are indexed (`person_words`), and their whole folded text by an FTS5 trigram
//! table. A search ranks what it finds: a UNHCR number or phone given whole, then a whole
//! word, then the beginning of a word, then a fragment inside one (three letters or more:
//! shorter fragments are looked up as word beginnings only, never by a scan).

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::StoreError;
use crate::fold::fold;

const INDEXED: &[&str] = &[
    "given",
    "family",
    "given_ar",
    "family_ar",
    "unhcr_id",
    "phone",
];

/// Rewrites one person's entries in the search indexes (their folded text and their
/// words) from their current fields, read once; `fresh` for a person just shown, who has
/// none to remove.
pub(crate) fn reindex_person(
    tx: &Transaction<'_>,
    id: &str,
    fresh: bool,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT rowid, {} FROM persons WHERE id = ?1",
        INDEXED.join(", ")
    );
    type Row = (i64, Vec<Option<String>>);
    let row: Option<Row> = tx
        .prepare_cached(&sql)?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                (1..=INDEXED.len())
                    .map(|i| r.get(i))
                    .collect::<rusqlite::Result<_>>()?,
            ))
        })
        .optional()?;
    let Some((rowid, values)) = row else {
        return Ok(());
    };
    let mut parts = Vec::new();
    let mut all = std::collections::BTreeSet::new();
    for (field, value) in INDEXED.iter().zip(values) {
        let Some(value) = value else { continue };
        let folded = fold(&value);
        all.extend(words(&folded).map(str::to_string));
        if matches!(*field, "unhcr_id" | "phone") {
            all.extend(code(&folded));
        }
        parts.push(folded);
    }
    // A person just shown has nothing indexed yet (leaving removes it: `forget_person`).
    if !fresh {
        tx.prepare_cached("DELETE FROM person_search WHERE rowid = ?1")?
            .execute([rowid])?;
        tx.prepare_cached("DELETE FROM person_words WHERE person = ?1")?
            .execute([rowid])?;
    }
    tx.prepare_cached("INSERT INTO person_search(rowid, text) VALUES (?1, ?2)")?
        .execute(params![rowid, parts.join(" | ")])?;
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO person_words(word, person) VALUES (?1, ?2)")?;
    for w in all {
        insert.execute(params![w, rowid])?;
    }
    Ok(())
}

/// The words a fragment is matched against: runs of letters and digits.
fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A code (UNHCR number, phone) as one word: its letters and digits only, marked so that it
/// never equals a name.
fn code(folded: &str) -> Option<String> {
    let c: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    (!c.is_empty()).then(|| format!("#{c}"))
}

/// Indexes every person again (a database upgraded to word search).
pub(crate) fn reindex_all(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM persons")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        reindex_person(tx, &id, false)?;
    }
    Ok(())
}

/// A search as the indexes answer it: the needle's words, longest first, and the needle as
/// a whole code (UNHCR number, phone) when some person has it.
pub(crate) struct Needle {
    words: Vec<String>,
    code: Option<String>,
}

impl Needle {
    /// `None` when the needle has no letter or digit: it matches no one.
    pub fn parse(conn: &Connection, needle: &str) -> Result<Option<Needle>, StoreError> {
        let folded = fold(needle.trim());
        let mut found: Vec<String> = words(&folded).map(str::to_string).collect();
        if found.is_empty() {
            return Ok(None);
        }
        found.sort();
        found.dedup();
        found.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        // A code no one has adds no match, and would cost a second grouping of them all.
        let code = match code(&folded) {
            Some(c)
                if conn
                    .prepare_cached("SELECT 1 FROM person_words WHERE word = ?1")?
                    .exists([&c])? =>
            {
                Some(c)
            }
            _ => None,
        };
        Ok(Some(Needle { words: found, code }))
    }

    /// The persons matching, and how well, as an SQL subquery of `(person, r)` (the
    /// person's rowid; `r` 0 for a whole code, 1 a whole word, 2 a word's beginning, 3 a
    /// fragment inside a word) with its parameters, in the order the text names them.
    /// Every word must match: the longest word finds the candidates, and each other word
    /// is checked on each candidate alone, so a word common to everyone ("250" of every
    /// UNHCR number) costs nothing.
    pub fn candidates(&self) -> (String, Vec<String>) {
        let Some((first, others)) = self.words.split_first() else {
            return ("SELECT 0 AS person, 0 AS r WHERE 0".into(), Vec::new());
        };
        // The candidates: the longest word, from the word index and the trigram index.
        let mut cand_args = vec![first.to_string(), first.to_string(), upper(first)];
        let mut parts = vec!["SELECT person, CASE WHEN word = ? THEN 1 ELSE 2 END AS r FROM person_words WHERE word >= ? AND word < ?".to_string()];
        if first.chars().count() >= 3 {
            // A quoted FTS5 string is matched as a substring by the trigram tokenizer.
            parts.push(
                "SELECT rowid AS person, 3 AS r FROM person_search WHERE person_search MATCH ?"
                    .into(),
            );
            cand_args.push(format!("\"{first}\""));
        }
        let candidates = format!(
            "SELECT person, min(r) AS r FROM ({}) GROUP BY person",
            parts.join(" UNION ALL ")
        );
        let (mut sql, mut args) = if others.is_empty() {
            (candidates, cand_args)
        } else {
            // Each other word on one candidate: its best rank there, or NULL.
            let mut args = Vec::new();
            let mut columns = Vec::new();
            for w in others {
                let mut expr =
                    "(SELECT min(CASE WHEN x.word = ? THEN 1 ELSE 2 END) FROM person_words x
                                  WHERE x.person = c.person AND x.word >= ? AND x.word < ?)"
                        .to_string();
                args.extend([w.to_string(), w.to_string(), upper(w)]);
                if w.chars().count() >= 3 {
                    expr = format!("coalesce({expr}, CASE WHEN (SELECT text FROM person_search WHERE rowid = c.person) LIKE ? ESCAPE '\\' THEN 3 END)");
                    args.push(like_inside(w));
                }
                columns.push(expr);
            }
            let named: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, e)| format!("{e} AS r{i}"))
                .collect();
            let all: Vec<String> = std::iter::once("r".to_string())
                .chain((0..columns.len()).map(|i| format!("r{i}")))
                .collect();
            let present: Vec<String> = (0..columns.len())
                .map(|i| format!("r{i} IS NOT NULL"))
                .collect();
            args.extend(cand_args);
            (
                format!(
                    "SELECT person, max({}) AS r FROM (SELECT c.person, c.r, {} FROM ({candidates}) c) WHERE {}",
                    all.join(", "),
                    named.join(", "),
                    present.join(" AND ")
                ),
                args,
            )
        };
        if let Some(c) = &self.code {
            sql = format!("SELECT person, min(r) AS r FROM ({sql} UNION ALL SELECT person, 0 AS r FROM person_words WHERE word = ?) GROUP BY person");
            args.push(c.clone());
        }
        (sql, args)
    }

    /// Whether the person whose rowid is the SQL expression `person` matches, as an SQL
    /// condition with its parameters: the same persons as [`Needle::candidates`], asked of
    /// one person (to walk persons in name order when the matches are many).
    pub fn predicate(&self, person: &str) -> (String, Vec<String>) {
        let mut args = Vec::new();
        let mut all = Vec::new();
        for w in &self.words {
            let mut clause = format!("EXISTS (SELECT 1 FROM person_words x WHERE x.person = {person} AND x.word >= ? AND x.word < ?)");
            args.extend([w.to_string(), upper(w)]);
            if w.chars().count() >= 3 {
                clause = format!("({clause} OR (SELECT text FROM person_search WHERE rowid = {person}) LIKE ? ESCAPE '\\')");
                args.push(like_inside(w));
            }
            all.push(clause);
        }
        let mut sql = format!("({})", all.join(" AND "));
        if let Some(c) = &self.code {
            sql = format!("({sql} OR EXISTS (SELECT 1 FROM person_words x WHERE x.person = {person} AND x.word = ?))");
            args.push(c.clone());
        }
        (sql, args)
    }
}

/// Just past every word that begins with `w`, for a range of the word index.
fn upper(w: &str) -> String {
    format!("{w}\u{10FFFF}")
}

/// A LIKE pattern for `w` anywhere in a text.
fn like_inside(w: &str) -> String {
    format!(
        "%{}%",
        w.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

/// Removes one person's entry from the search index (their record is leaving the table).
pub(crate) fn forget_person(tx: &Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM person_search WHERE rowid = (SELECT rowid FROM persons WHERE id = ?1)",
        [id],
    )?;
    tx.execute(
        "DELETE FROM person_words WHERE person = (SELECT rowid FROM persons WHERE id = ?1)",
        [id],
    )?;
    Ok(())
}

/// Ids of the persons matching `needle`, best matches first, then by family and given name.
pub(crate) fn find_persons(conn: &Connection, needle: &str) -> Result<Vec<String>, StoreError> {
    let Some(needle) = Needle::parse(conn, needle)? else {
        return Ok(Vec::new());
    };
    let (sub, args) = needle.candidates();
    let sql = format!("SELECT p.id FROM persons p JOIN ({sub}) k ON k.person = p.rowid ORDER BY k.r, p.family, p.given, p.id");
    let ids = conn
        .prepare(&sql)?
        .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use crate::testing::{kv, temp_db};
    use crate::PersonQuery;

    #[test]
    fn a_search_ranks_a_whole_code_then_a_whole_word_then_a_beginning_then_a_fragment() {
        let (_d, mut m) = temp_db();
        let mut add = |given: &str, family: &str, phone: &str| {
            m.add_person(crate::domain::NewPerson {
                fields: crate::domain::Fields(
                    kv(&[
                        ("given", given),
                        ("family", family),
                        ("sex", "female"),
                        ("born", "1990-01-01"),
                        ("nationality", "SYR"),
                        ("phone", phone),
                    ])
                    .to_vec(),
                ),
                intake_date: None,
            })
            .expect("person")
        };
        let inside = add("Salim", "Abdelkarim", "0600000001"); // "karim" inside a word
        let begins = add("Karima", "Zaid", "0600000002"); // a word beginning with "karim"
        let whole = add("Karim", "Nasser", "0600000003"); // the whole word
        let code = add("Lina", "Haddad", "0612345678");
        let ids = |needle: &str| super::find_persons(m.conn(), needle).expect("search");
        assert_eq!(
            ids("karim"),
            vec![whole.clone(), begins.clone(), inside.clone()]
        );
        assert_eq!(
            ids("06 12 34 56 78"),
            vec![code.clone()],
            "a phone typed with spaces, whole"
        );
        assert_eq!(
            ids("ka"),
            vec![whole.clone(), begins.clone()],
            "two letters: word beginnings only, no scan"
        );
        assert_eq!(
            ids("karim nass"),
            vec![whole.clone()],
            "every word must match"
        );
        assert!(
            ids("\"").is_empty() && ids("-").is_empty(),
            "punctuation matches no one"
        );
        // The window's page: at most what it asks for, best first, with the total.
        let page = m
            .persons_page(&PersonQuery {
                search: Some("karim".into()),
                limit: 2,
                ..Default::default()
            })
            .expect("page");
        assert_eq!(page.total, 3);
        assert_eq!(
            page.rows.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
            vec![whole, begins]
        );
        let sorted = m
            .persons_page(&PersonQuery {
                search: Some("karim".into()),
                limit: 5,
                sort: crate::PersonSort::Name,
                ..Default::default()
            })
            .expect("page");
        assert_eq!(
            sorted.rows[0].id, inside,
            "a column the user sorts by wins over relevance"
        );
    }
}
