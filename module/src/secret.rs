//! A value that must never be logged or printed in full (an ExternalId, a token).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first two characters and the length.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(2).collect();
        format!("{head}…({} chars)", self.0.chars().count())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = super::Secret::new("drsorch-demo-200000000001");
        assert!(!format!("{s:?} {s}").contains("200000000001"));
        assert_eq!(s.expose(), "drsorch-demo-200000000001");
    }
}
