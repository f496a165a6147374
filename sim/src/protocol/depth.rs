//! How deep a JSON body nests, read from its bytes without building it. Every service's
//! requests nest only so deep (botocore's models: DRS and Step Functions 5 levels, Secrets
//! Manager 4; DynamoDB's attribute values up to 32 levels of maps and lists), so a body
//! nested deeper is refused before it is parsed: a megabyte of nesting is not built, walked
//! and dropped only to be refused afterwards.

/// The deepest request of DRS's model (CreateRecoveryPlanStep and UpdateRecoveryPlanStep).
pub const DRS: usize = 5;
/// Step Functions' deepest (CreateStateMachine's tags and logging configuration).
pub const STATES: usize = 5;
/// Secrets Manager's deepest (BatchGetSecretValue's filters).
pub const SECRETS: usize = 4;
/// DynamoDB: a request's own levels (BatchWriteItem: RequestItems, the table's list, the
/// request, PutRequest, Item, the attribute) and 32 levels of maps or lists of attribute
/// values, each two JSON levels (`{"M": {...}}`, `{"L": [...]}`).
pub const DYNAMODB: usize = 6 + 2 * 32 + 2;

/// Where a body nests past its limit: the depth reached, and the top-level member it is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Deep {
    pub depth: usize,
    pub member: Option<String>,
}

impl Deep {
    /// ` (in 'member')`, or nothing when the body itself is the deep one.
    pub fn within(&self) -> String {
        self.member.as_ref().map(|m| format!(" (in '{m}')")).unwrap_or_default()
    }
}

/// Where `body` passes `limit` levels of nesting, if it does (strings are skipped, escapes
/// honoured; the scan stops there). A body that is not JSON is left to the parser to name.
pub fn past(body: &[u8], limit: usize) -> Option<Deep> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    // The last string that ended at the top level: the key of the member being read.
    let (mut string_start, mut member) = (0usize, None::<(usize, usize)>);
    for (i, b) in body.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    if depth == 1 {
                        member = Some((string_start, i));
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => (in_string, string_start) = (true, i + 1),
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    // The key as JSON has it (escapes read), else as its bytes are.
                    let member = member.map(|(a, z)| {
                        let key = serde_json::from_slice::<String>(&body[a - 1..=z])
                            .unwrap_or_else(|_| String::from_utf8_lossy(&body[a..z]).into_owned());
                        cut(key)
                    });
                    return Some(Deep { depth, member });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Characters of a member's name an error cites; a longer name is cut there and marked so.
pub const NAMED_CHARS: usize = 64;

/// `key`, or its first `NAMED_CHARS` characters and `…` when it is longer.
fn cut(key: String) -> String {
    match key.char_indices().nth(NAMED_CHARS) {
        Some((at, _)) => format!("{}…", &key[..at]),
        None => key,
    }
}

#[cfg(test)]
mod tests {
    use super::{past, Deep};

    #[test]
    fn nesting_is_counted_outside_strings_only_and_named_by_its_member() {
        let depth = |body: &[u8], limit| past(body, limit).map(|d| d.depth);
        assert_eq!(depth(br#"{"a": [{"b": 1}]}"#, 3), None);
        assert_eq!(past(br#"{"a": 1, "b": [{"c": [1]}]}"#, 3), Some(Deep { depth: 4, member: Some("b".into()) }));
        assert_eq!(depth(br#"{"a": "[[[[{{{{", "b": "\"[[[["}"#, 1), None, "brackets in strings, an escaped quote");
        assert_eq!(depth(br#"{"a": "\\", "b": [[1]]}"#, 2), Some(3), "an escaped backslash ends its escape");
        assert_eq!(depth(b"]]]]{", 0), Some(1), "closing more than opened does not go negative");
        let escaped = past(br#"{"a\u0041]b": [[1]]}"#, 2).unwrap();
        assert_eq!((escaped.member.as_deref(), escaped.within()), (Some("aA]b"), " (in 'aA]b')".to_owned()));
        assert_eq!(past(b"[[[1]]]", 2), Some(Deep { depth: 3, member: None }));
    }

    #[test]
    fn a_long_member_name_is_cut_and_marked_so() {
        let long = "k".repeat(super::NAMED_CHARS) + "é-and-more";
        let body = format!(r#"{{"{long}": [[1]]}}"#);
        let deep = past(body.as_bytes(), 2).unwrap();
        assert_eq!(deep.member, Some("k".repeat(super::NAMED_CHARS) + "…"));
        let exact = "k".repeat(super::NAMED_CHARS);
        let body = format!(r#"{{"{exact}": [[1]]}}"#);
        assert_eq!(past(body.as_bytes(), 2).unwrap().member, Some(exact), "a name of the limit's length is whole");
    }
}
