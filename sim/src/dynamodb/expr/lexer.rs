//! The tokens of DynamoDB's expressions: names, `#name` and `:value` placeholders, list
//! indexes, comparators, `+ -`, brackets, parentheses, commas and dots. Keywords (AND, SET,
//! BETWEEN, ...) are names here; the parser tells them apart by position.

use super::ExprError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok<'a> {
    Name(&'a str),
    /// `#name`, with its `#`.
    NamePlaceholder(&'a str),
    /// `:value`, with its `:`.
    ValuePlaceholder(&'a str),
    Integer(&'a str),
    Dot,
    Comma,
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    End,
}

/// A token and where it sits in the expression, for the `near` of syntax errors.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub start: usize,
    pub end: usize,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn tokenize(src: &str) -> Result<Vec<Token<'_>>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let word_end = |from: usize| src[from..].find(|c: char| !is_word(c)).map_or(src.len(), |n| from + n);
        let (tok, end) = match c {
            '#' | ':' => {
                let end = word_end(start + 1);
                if end == start + 1 {
                    return Err(syntax(src, &tokens, start, start + 1));
                }
                let text = &src[start..end];
                (if c == '#' { Tok::NamePlaceholder(text) } else { Tok::ValuePlaceholder(text) }, end)
            }
            c if c.is_ascii_digit() => {
                let end = src[start..].find(|c: char| !c.is_ascii_digit()).map_or(src.len(), |n| start + n);
                (Tok::Integer(&src[start..end]), end)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = word_end(start);
                (Tok::Name(&src[start..end]), end)
            }
            '<' if src[start + 1..].starts_with('>') => (Tok::Ne, start + 2),
            '<' if src[start + 1..].starts_with('=') => (Tok::Le, start + 2),
            '>' if src[start + 1..].starts_with('=') => (Tok::Ge, start + 2),
            '<' => (Tok::Lt, start + 1),
            '>' => (Tok::Gt, start + 1),
            '=' => (Tok::Eq, start + 1),
            '+' => (Tok::Plus, start + 1),
            '-' => (Tok::Minus, start + 1),
            '.' => (Tok::Dot, start + 1),
            ',' => (Tok::Comma, start + 1),
            '(' => (Tok::LeftParen, start + 1),
            ')' => (Tok::RightParen, start + 1),
            '[' => (Tok::LeftBracket, start + 1),
            ']' => (Tok::RightBracket, start + 1),
            other => return Err(syntax(src, &tokens, start, start + other.len_utf8())),
        };
        tokens.push(Token { tok, start, end });
        while chars.peek().is_some_and(|(i, _)| *i < end) {
            chars.next();
        }
    }
    tokens.push(Token { tok: Tok::End, start: src.len(), end: src.len() });
    Ok(tokens)
}

/// A syntax error at `src[start..end]`, near the token before it and itself, as DynamoDB shows it.
pub fn syntax(src: &str, before: &[Token], start: usize, end: usize) -> ExprError {
    let token = if start >= src.len() { "<EOF>".to_owned() } else { src[start..end].to_owned() };
    let from = before.last().map_or(start, |t| t.start);
    ExprError::Syntax { token, near: src[from.min(end)..end].trim().to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn reads_every_token() {
        assert_eq!(
            kinds("#a.b[10] <> :v AND c<=d"),
            [
                Tok::NamePlaceholder("#a"),
                Tok::Dot,
                Tok::Name("b"),
                Tok::LeftBracket,
                Tok::Integer("10"),
                Tok::RightBracket,
                Tok::Ne,
                Tok::ValuePlaceholder(":v"),
                Tok::Name("AND"),
                Tok::Name("c"),
                Tok::Le,
                Tok::Name("d"),
                Tok::End
            ]
        );
    }

    #[test]
    fn refuses_strange_characters_naming_them() {
        let e = tokenize("a = $b").unwrap_err();
        assert_eq!(e, ExprError::Syntax { token: "$".into(), near: "= $".into() });
        assert!(matches!(tokenize("a = :").unwrap_err(), ExprError::Syntax { token, .. } if token == ":"));
    }
}
