//! DynamoDB's reserved words (its documentation's list, `reserved_words.txt`): an expression
//! that names an attribute with one of them, in any case, is refused; a `#name` placeholder
//! is the way around it.

use std::collections::HashSet;
use std::sync::OnceLock;

const WORDS: &str = include_str!("reserved_words.txt");

pub fn is_reserved(name: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| WORDS.lines().map(str::trim).filter(|w| !w.is_empty()).collect())
        .contains(name.to_ascii_uppercase().as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_in_any_case() {
        assert!(super::is_reserved("status"));
        assert!(super::is_reserved("Name"));
        assert!(!super::is_reserved("runId"));
    }
}
