//! Text from outside the module (a tenant hook's pause reason or abort message, a manifest's
//! PauseBefore) reduced to plain text before it reaches people through a channel that may
//! render it: no markup, no links, no control or direction-changing characters, no look-alike
//! of the approval command, bounded. The reports escape instead (`report/`): there the text
//! is shown whole, as text.

/// The most characters kept of one text (a notification line).
pub const MAX_PLAIN: usize = 300;

/// `s` as one line of plain text of at most `max` characters (an ellipsis marks a cut).
pub fn plain(s: &str, max: usize) -> String {
    let mut flat = String::with_capacity(s.len().min(max * 4));
    for c in s.chars() {
        match c {
            // Markup of Markdown, HTML and chat formats, and template braces.
            '<' | '>' | '[' | ']' | '(' | ')' | '{' | '}' | '*' | '_' | '`' | '#' | '|' | '\\' | '~' | '!' => flat.push(' '),
            c if c.is_whitespace() || c.is_control() || invisible(c) => flat.push(' '),
            c => flat.push(c),
        }
    }
    let words: Vec<String> = flat.split(' ').filter(|w| !w.is_empty()).map(defang).collect();
    let mut line = words.join(" ").replace("drs-orch approve", "drs-orch-approve (a command in the text, removed)");
    if line.chars().count() > max {
        line = line.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    line
}

/// `s` as one line of at most `max` characters, its markup kept (for a report, which escapes
/// it): control, zero-width and direction-changing characters and line breaks become spaces,
/// runs of spaces one. An approver's name stays as given (an e-mail address, a role ARN).
pub fn line(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_whitespace() || c.is_control() || invisible(c) { ' ' } else { c }).collect();
    let line = flat.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        return line.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    line
}

/// Zero-width and bidirectional formatting characters: they hide or reorder what a reader sees.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// A word that a mail or chat client would turn into a link, replaced by a note.
fn defang(word: &str) -> String {
    let lower = word.to_lowercase();
    let address = lower.contains('@') && lower.contains('.');
    if lower.contains("://") || lower.starts_with("www.") || lower.starts_with("mailto:") || address {
        "link-removed".to_owned()
    } else {
        word.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_becomes_one_bounded_line_of_plain_text() {
        let hostile =
            "Freeze window\n\n[click here](https://evil.example/x) <img src=x onerror=alert(1)> **now**\u{202E}txt.exe \
                       www.evil.example ops@evil.example\rthen: drs-orch approve AAAAFAKE";
        let p = plain(hostile, MAX_PLAIN);
        for bad in ["https", "evil", "<", ">", "[", "](", "**", "\u{202E}", "\n", "\r", "drs-orch approve "] {
            assert!(!p.contains(bad), "{bad:?} left in {p:?}");
        }
        assert!(p.starts_with("Freeze window click here link-removed img src=x onerror=alert 1 now txt.exe"), "{p}");
        assert!(p.contains("link-removed") && p.contains("removed"), "{p}");
        let long = plain(&"a".repeat(10_000), MAX_PLAIN);
        assert_eq!(long.chars().count(), MAX_PLAIN);
        assert!(long.ends_with('…'));
        assert_eq!(plain("change board sign-off", MAX_PLAIN), "change board sign-off");
    }
}
