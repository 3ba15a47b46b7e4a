//! Folding text for matching: the same person is found whatever the case, the accents,
//! the Arabic diacritics or the variant of a letter typed.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Folds text for matching: compatibility decomposition, no combining marks (Latin accents,
/// Arabic harakat and hamza carriers), lower case, and the Arabic letters that are written
/// interchangeably brought to one form.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '\u{0640}' => None,                                       // tatweel
            '\u{0671}' | '\u{0672}' | '\u{0673}' => Some('\u{0627}'), // alef variants → alef
            '\u{0649}' => Some('\u{064A}'),                           // alef maksura → yeh
            '\u{0629}' => Some('\u{0647}'),                           // teh marbuta → heh
            '\u{06CC}' => Some('\u{064A}'),                           // Farsi yeh → yeh
            '\u{06A9}' => Some('\u{0643}'),                           // keheh → kaf
            c => Some(c),
        })
        .collect()
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
