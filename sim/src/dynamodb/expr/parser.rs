//! A recursive-descent parser of condition expressions (ConditionExpression, FilterExpression,
//! KeyConditionExpression) and projection expressions, with DynamoDB's precedence
//! (comparisons, IN, BETWEEN and functions bind tightest, then NOT, AND, OR) and its refusals.
//! `update.rs` parses UpdateExpression on the same `Parser`.

use super::ast::{Comparator, Condition, Operand};
use super::lexer::{self, Tok, Token};
use super::reserved::is_reserved;
use super::{eval, ExprError, Substitutions};
use crate::dynamodb::document::{Path, PathStep};
use crate::dynamodb::value::{Type, Value};
use std::cmp::Ordering;

/// The functions that are conditions by themselves; `size` is an operand.
const CONDITION_FUNCTIONS: [&str; 5] = ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"];
/// SET's functions, which no condition may call.
pub const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];
/// DynamoDB's bound on the operands of IN.
const MAX_IN_OPERANDS: usize = 100;
/// DynamoDB's bound on an expression's length, in bytes.
const MAX_EXPRESSION_BYTES: usize = 4096;
/// How deep parentheses and NOTs may nest (the simulator's bound; see `ExprError::TooDeep`).
const MAX_DEPTH: usize = 100;

pub struct Parser<'s, 'u> {
    src: &'s str,
    tokens: Vec<Token<'s>>,
    pos: usize,
    depth: usize,
    pub subs: &'u mut Substitutions,
}

impl<'s, 'u> Parser<'s, 'u> {
    pub fn new(src: &'s str, subs: &'u mut Substitutions) -> Result<Self, ExprError> {
        if src.trim().is_empty() {
            return Err(ExprError::Empty);
        }
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError::TooLong(src.len()));
        }
        Ok(Parser { src, tokens: lexer::tokenize(src)?, pos: 0, depth: 0, subs })
    }

    pub fn peek(&self) -> Tok<'s> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Tok<'s> {
        self.tokens.get(self.pos + ahead).map_or(Tok::End, |t| t.tok)
    }

    pub fn advance(&mut self) {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
    }

    /// A syntax error at the current token.
    pub fn unexpected(&self) -> ExprError {
        let here = self.tokens[self.pos.min(self.tokens.len() - 1)];
        lexer::syntax(self.src, &self.tokens[..self.pos], here.start, here.end)
    }

    pub fn expect(&mut self, tok: Tok) -> Result<(), ExprError> {
        if self.peek() != tok {
            return Err(self.unexpected());
        }
        self.advance();
        Ok(())
    }

    pub fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n.eq_ignore_ascii_case(word))
    }

    /// A name followed by `(`: a function call.
    pub fn at_function(&self) -> Option<&'s str> {
        match (self.peek(), self.peek_at(1)) {
            (Tok::Name(n), Tok::LeftParen) => Some(n),
            _ => None,
        }
    }

    pub fn finish(&self) -> Result<(), ExprError> {
        if self.peek() == Tok::End {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// `name ( '.' name | '[' index ']' )*`, names plain (not reserved) or `#placeholders`.
    pub fn path(&mut self) -> Result<Path, ExprError> {
        let mut steps = vec![PathStep::Key(self.path_name()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.advance();
                    steps.push(PathStep::Key(self.path_name()?));
                }
                Tok::LeftBracket => {
                    self.advance();
                    let Tok::Integer(digits) = self.peek() else { return Err(self.unexpected()) };
                    let index = digits.parse().map_err(|_| self.unexpected())?;
                    self.advance();
                    self.expect(Tok::RightBracket)?;
                    steps.push(PathStep::Index(index));
                }
                _ => return Ok(Path { steps }),
            }
        }
    }

    fn path_name(&mut self) -> Result<String, ExprError> {
        let name = match self.peek() {
            Tok::Name(n) if is_reserved(n) => return Err(ExprError::Reserved(n.to_owned())),
            Tok::Name(n) => n.to_owned(),
            Tok::NamePlaceholder(p) => self.subs.name(p)?,
            _ => return Err(self.unexpected()),
        };
        self.advance();
        Ok(name)
    }

    /// A `:placeholder`'s value.
    pub fn value(&mut self) -> Result<Value, ExprError> {
        let Tok::ValuePlaceholder(p) = self.peek() else { return Err(self.unexpected()) };
        let value = self.subs.value(p)?;
        self.advance();
        Ok(value)
    }

    /// The path that is a function's first argument (a value there is refused by name).
    pub fn path_argument(&mut self, function: &str) -> Result<Path, ExprError> {
        if matches!(self.peek(), Tok::ValuePlaceholder(_)) {
            return Err(ExprError::NeedsPath(function.to_owned()));
        }
        self.path()
    }

    pub fn condition(&mut self) -> Result<Condition, ExprError> {
        let mut left = self.conjunction()?;
        while self.at_keyword("OR") {
            self.advance();
            left = Condition::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Condition, ExprError> {
        let mut left = self.negation()?;
        while self.at_keyword("AND") {
            self.advance();
            left = Condition::And(Box::new(left), Box::new(self.negation()?));
        }
        Ok(left)
    }

    fn negation(&mut self) -> Result<Condition, ExprError> {
        if self.at_keyword("NOT") {
            self.advance();
            let inner = self.nested(Self::negation)?;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    /// Parses one level deeper, within the nesting bound.
    fn nested(&mut self, parse: fn(&mut Self) -> Result<Condition, ExprError>) -> Result<Condition, ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(ExprError::TooDeep(MAX_DEPTH));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn primary(&mut self) -> Result<Condition, ExprError> {
        if self.peek() == Tok::LeftParen {
            self.advance();
            let inner = self.nested(Self::condition)?;
            self.expect(Tok::RightParen)?;
            return Ok(inner);
        }
        if let Some(f) = self.at_function().filter(|f| CONDITION_FUNCTIONS.contains(f)) {
            return self.function_condition(f);
        }
        let subject = self.operand()?;
        if let Some(comparator) = comparator(self.peek()) {
            self.advance();
            return Ok(Condition::Compare(subject, comparator, self.operand()?));
        }
        if self.at_keyword("BETWEEN") {
            self.advance();
            let lower = self.operand()?;
            if !self.at_keyword("AND") {
                return Err(self.unexpected());
            }
            self.advance();
            let upper = self.operand()?;
            check_bounds(&lower, &upper)?;
            return Ok(Condition::Between { subject, lower, upper });
        }
        if self.at_keyword("IN") {
            self.advance();
            self.expect(Tok::LeftParen)?;
            let mut options = vec![self.operand()?];
            while self.peek() == Tok::Comma {
                self.advance();
                options.push(self.operand()?);
            }
            self.expect(Tok::RightParen)?;
            if options.len() > MAX_IN_OPERANDS {
                return Err(ExprError::TooManyInOperands(options.len()));
            }
            return Ok(Condition::In(subject, options));
        }
        match subject {
            Operand::Size(_) => Err(ExprError::MisusedFunction("size".into())),
            _ => Err(self.unexpected()),
        }
    }

    fn function_condition(&mut self, function: &'s str) -> Result<Condition, ExprError> {
        self.advance();
        self.expect(Tok::LeftParen)?;
        let path = self.path_argument(function)?;
        let condition = match function {
            "attribute_exists" => Condition::Exists(path),
            "attribute_not_exists" => Condition::NotExists(path),
            "attribute_type" => {
                self.expect(Tok::Comma)?;
                let kind = self.value()?;
                match &kind {
                    Value::S(s) if Type::from_descriptor(s).is_some() => {}
                    Value::S(s) => return Err(ExprError::TypeName(s.clone())),
                    other => return Err(ExprError::OperandType { function: function.into(), kind: other.kind() }),
                }
                Condition::HasType(path, kind)
            }
            _ => {
                self.expect(Tok::Comma)?;
                let operand = self.operand()?;
                if function == "begins_with" {
                    if let Operand::Value(v) = &operand {
                        if !matches!(v.kind(), Type::S | Type::B) {
                            return Err(ExprError::OperandType { function: function.into(), kind: v.kind() });
                        }
                    }
                    Condition::BeginsWith(path, operand)
                } else {
                    Condition::Contains(path, operand)
                }
            }
        };
        self.expect(Tok::RightParen)?;
        Ok(condition)
    }

    /// A path, a `:value` or `size(path)`.
    fn operand(&mut self) -> Result<Operand, ExprError> {
        if let Some(f) = self.at_function() {
            if f != "size" {
                let known = CONDITION_FUNCTIONS.contains(&f) || UPDATE_FUNCTIONS.contains(&f);
                return Err(if known { ExprError::MisusedFunction(f.into()) } else { ExprError::UnknownFunction(f.into()) });
            }
            self.advance();
            self.advance();
            let path = self.path_argument("size")?;
            self.expect(Tok::RightParen)?;
            return Ok(Operand::Size(path));
        }
        match self.peek() {
            Tok::ValuePlaceholder(_) => Ok(Operand::Value(self.value()?)),
            _ => Ok(Operand::Path(self.path()?)),
        }
    }
}

fn comparator(tok: Tok) -> Option<Comparator> {
    Some(match tok {
        Tok::Eq => Comparator::Eq,
        Tok::Ne => Comparator::Ne,
        Tok::Lt => Comparator::Lt,
        Tok::Le => Comparator::Le,
        Tok::Gt => Comparator::Gt,
        Tok::Ge => Comparator::Ge,
        _ => return None,
    })
}

/// BETWEEN with two values whose lower bound is above the upper is refused up front.
fn check_bounds(lower: &Operand, upper: &Operand) -> Result<(), ExprError> {
    if let (Operand::Value(l), Operand::Value(u)) = (lower, upper) {
        if eval::scalar_cmp(l, u) == Some(Ordering::Greater) {
            return Err(ExprError::BetweenBounds { lower: l.describe(), upper: u.describe() });
        }
    }
    Ok(())
}

/// Parses a whole condition expression.
pub fn parse_condition(src: &str, subs: &mut Substitutions) -> Result<Condition, ExprError> {
    let mut parser = Parser::new(src, subs)?;
    let condition = parser.condition()?;
    parser.finish()?;
    Ok(condition)
}

/// Parses a projection expression: paths separated by commas, none inside another.
pub fn parse_projection(src: &str, subs: &mut Substitutions) -> Result<Vec<Path>, ExprError> {
    let mut parser = Parser::new(src, subs)?;
    let mut paths = vec![parser.path()?];
    while parser.peek() == Tok::Comma {
        parser.advance();
        paths.push(parser.path()?);
    }
    parser.finish()?;
    check_overlaps(&paths)?;
    Ok(paths)
}

/// Refuses two paths of which one is, or lies inside, the other.
pub fn check_overlaps<'p>(paths: impl IntoIterator<Item = &'p Path> + Clone) -> Result<(), ExprError> {
    for (i, a) in paths.clone().into_iter().enumerate() {
        if let Some(b) = paths.clone().into_iter().skip(i + 1).find(|b| a.overlaps(b)) {
            return Err(ExprError::Overlap(a.to_string(), b.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn subs(names: serde_json::Value, values: serde_json::Value) -> Substitutions {
        let names = serde_json::from_value(names).unwrap();
        let values = serde_json::from_value(values).unwrap();
        Substitutions::new(Some(names), Some(values), true).unwrap()
    }

    fn parse(src: &str) -> Result<Condition, ExprError> {
        let mut s = subs(json!({"#n": "name", "#m": "map"}), json!({":v": {"N": "1"}, ":s": {"S": "x"}, ":w": {"N": "9"}}));
        parse_condition(src, &mut s)
    }

    #[test]
    fn precedence_is_dynamodbs() {
        let c = parse("a = :v OR b = :v AND NOT c = :v").unwrap();
        let Condition::Or(_, right) = c else { panic!("OR binds loosest: {c:?}") };
        assert!(matches!(*right, Condition::And(_, ref r) if matches!(**r, Condition::Not(_))));
        assert!(parse("(a = :v OR b = :v) AND c BETWEEN :v AND :w").is_ok());
        assert!(parse("#m.k[3].#n IN (:v, :s) AND attribute_exists(#n) AND size(a) > :v").is_ok());
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(parse("a = :nope").unwrap_err(), ExprError::UndefinedValue(":nope".into()));
        assert_eq!(parse("#nope = :v").unwrap_err(), ExprError::UndefinedName("#nope".into()));
        assert_eq!(parse("status = :v").unwrap_err(), ExprError::Reserved("status".into()));
        assert_eq!(parse("frobnicate(a)").unwrap_err(), ExprError::UnknownFunction("frobnicate".into()));
        assert_eq!(parse("size(a)").unwrap_err(), ExprError::MisusedFunction("size".into()));
        assert_eq!(parse("attribute_exists(:v)").unwrap_err(), ExprError::NeedsPath("attribute_exists".into()));
        assert_eq!(parse("attribute_type(a, :s)").unwrap_err(), ExprError::TypeName("x".into()));
        assert!(matches!(parse("a BETWEEN :w AND :v").unwrap_err(), ExprError::BetweenBounds { .. }));
        assert!(matches!(parse("a = = :v").unwrap_err(), ExprError::Syntax { token, near } if token == "=" && near == "= ="));
        assert!(matches!(parse("a =").unwrap_err(), ExprError::Syntax { token, .. } if token == "<EOF>"));
        assert!(matches!(parse("begins_with(a, :v)").unwrap_err(), ExprError::OperandType { .. }));
        let deep = format!("{}a = :v{}", "(".repeat(2000), ")".repeat(2000));
        assert_eq!(parse(&deep).unwrap_err(), ExprError::TooDeep(MAX_DEPTH), "refused, not a stack overflow");
        assert_eq!(parse(&"NOT ".repeat(1000)).unwrap_err(), ExprError::TooDeep(MAX_DEPTH));
        let long = format!("a = :v{}", " OR a = :v".repeat(500));
        assert_eq!(parse(&long).unwrap_err(), ExprError::TooLong(long.len()));
    }

    /// Token soup from a fixed seed: every parser answers it with a value or an error.
    #[test]
    fn arbitrary_input_is_refused_not_panicked_on() {
        let fragments = [
            "a",
            "#n",
            ":v",
            ":s",
            "(",
            ")",
            "[",
            "]",
            "[0]",
            "[99999999999999999999]",
            ".",
            ",",
            "=",
            "<>",
            "<",
            ">=",
            "+",
            "-",
            "AND",
            "OR",
            "NOT",
            "BETWEEN",
            "IN",
            "SET",
            "REMOVE",
            "ADD",
            "DELETE",
            "size(",
            "begins_with(",
            "contains(",
            "attribute_type(",
            "if_not_exists(",
            "list_append(",
            "é",
            "#",
            ":",
            "$",
            " ",
        ];
        let mut state: u64 = 0x5eed;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(fragments[(state >> 33) as usize % fragments.len()]);
                text.push(' ');
            }
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut s = subs(json!({"#n": "name"}), json!({":v": {"N": "1"}, ":s": {"SS": ["x"]}}));
            let _ = parse_condition(&text, &mut s);
            let _ = parse_projection(&text, &mut s);
            let _ = super::super::update::parse_update(&text, &mut s);
        }
    }

    #[test]
    fn projections_refuse_overlaps() {
        let mut s = subs(json!({"#n": "name"}), json!({":v": {"N": "1"}}));
        let paths = parse_projection("a, #n.b[1]", &mut s).unwrap();
        assert_eq!(paths.len(), 2);
        let e = parse_projection("a.b, a", &mut s).unwrap_err();
        assert_eq!(e, ExprError::Overlap("a, b".into(), "a".into()));
    }
}
