//! UpdateExpression: `SET`, `REMOVE`, `ADD` and `DELETE` sections in any order, each at most
//! once, their actions separated by commas, no two paths overlapping. Operand types that are
//! wrong on their face (`SET a = a + :text`, `ADD a :text`) are refused here, as DynamoDB
//! refuses them before reading the item.

use super::ast::{SetOperand, SetValue, UpdateAction};
use super::lexer::Tok;
use super::parser::{check_overlaps, Parser, UPDATE_FUNCTIONS};
use super::{ExprError, Substitutions};
use crate::dynamodb::value::Type;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Set,
    Remove,
    Add,
    Delete,
}

impl Section {
    fn named(word: &str) -> Option<Section> {
        match word.to_ascii_uppercase().as_str() {
            "SET" => Some(Section::Set),
            "REMOVE" => Some(Section::Remove),
            "ADD" => Some(Section::Add),
            "DELETE" => Some(Section::Delete),
            _ => None,
        }
    }

    fn keyword(self) -> &'static str {
        match self {
            Section::Set => "SET",
            Section::Remove => "REMOVE",
            Section::Add => "ADD",
            Section::Delete => "DELETE",
        }
    }
}

pub fn parse_update(src: &str, subs: &mut Substitutions) -> Result<Vec<UpdateAction>, ExprError> {
    let mut parser = Parser::new(src, subs)?;
    let mut seen: Vec<Section> = vec![];
    let mut actions = vec![];
    while parser.peek() != Tok::End {
        let Tok::Name(word) = parser.peek() else { return Err(parser.unexpected()) };
        let section = Section::named(word).ok_or_else(|| parser.unexpected())?;
        if seen.contains(&section) {
            return Err(ExprError::SectionTwice(section.keyword()));
        }
        seen.push(section);
        parser.advance();
        loop {
            actions.push(action(&mut parser, section)?);
            if parser.peek() != Tok::Comma {
                break;
            }
            parser.advance();
        }
    }
    check_overlaps(actions.iter().map(UpdateAction::path))?;
    Ok(actions)
}

fn action(parser: &mut Parser, section: Section) -> Result<UpdateAction, ExprError> {
    let path = parser.path()?;
    Ok(match section {
        Section::Set => {
            parser.expect(Tok::Eq)?;
            UpdateAction::Set(path, set_value(parser)?)
        }
        Section::Remove => UpdateAction::Remove(path),
        Section::Add => {
            let value = parser.value()?;
            if !matches!(value.kind(), Type::N | Type::Ss | Type::Ns | Type::Bs) {
                return Err(ExprError::ActionOperand { operator: "ADD", kind: value.kind() });
            }
            UpdateAction::Add(path, value)
        }
        Section::Delete => {
            let value = parser.value()?;
            if !matches!(value.kind(), Type::Ss | Type::Ns | Type::Bs) {
                return Err(ExprError::ActionOperand { operator: "DELETE", kind: value.kind() });
            }
            UpdateAction::Delete(path, value)
        }
    })
}

/// `operand`, `operand + operand` or `operand - operand`.
fn set_value(parser: &mut Parser) -> Result<SetValue, ExprError> {
    let left = set_operand(parser)?;
    let op = parser.peek();
    if !matches!(op, Tok::Plus | Tok::Minus) {
        return Ok(SetValue::Operand(left));
    }
    parser.advance();
    let right = set_operand(parser)?;
    let symbol = if op == Tok::Plus { "+" } else { "-" };
    for operand in [&left, &right] {
        require_constant_type(operand, symbol, Type::N)?;
    }
    Ok(if op == Tok::Plus { SetValue::Plus(left, right) } else { SetValue::Minus(left, right) })
}

/// A value operand of the wrong type is refused before any item is read.
fn require_constant_type(operand: &SetOperand, function: &str, wanted: Type) -> Result<(), ExprError> {
    match operand {
        SetOperand::Value(v) if v.kind() != wanted => Err(ExprError::OperandType { function: function.into(), kind: v.kind() }),
        _ => Ok(()),
    }
}

fn set_operand(parser: &mut Parser) -> Result<SetOperand, ExprError> {
    let Some(function) = parser.at_function() else {
        return Ok(match parser.peek() {
            Tok::ValuePlaceholder(_) => SetOperand::Value(parser.value()?),
            _ => SetOperand::Path(parser.path()?),
        });
    };
    if !UPDATE_FUNCTIONS.contains(&function) {
        let known = ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"];
        return Err(if known.contains(&function) {
            ExprError::MisusedFunction(function.into())
        } else {
            ExprError::UnknownFunction(function.into())
        });
    }
    parser.advance();
    parser.expect(Tok::LeftParen)?;
    let operand = if function == "if_not_exists" {
        let path = parser.path_argument(function)?;
        parser.expect(Tok::Comma)?;
        SetOperand::IfNotExists(path, Box::new(set_operand(parser)?))
    } else {
        let first = set_operand(parser)?;
        parser.expect(Tok::Comma)?;
        let second = set_operand(parser)?;
        for operand in [&first, &second] {
            require_constant_type(operand, function, Type::L)?;
        }
        SetOperand::ListAppend(Box::new(first), Box::new(second))
    };
    parser.expect(Tok::RightParen)?;
    Ok(operand)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(src: &str) -> Result<Vec<UpdateAction>, ExprError> {
        let names = serde_json::from_value(json!({"#w": "wave", "#x": "x"})).unwrap();
        let values = serde_json::from_value(json!({
            ":n": {"N": "1"}, ":s": {"S": "x"}, ":l": {"L": []}, ":ss": {"SS": ["a"]}
        }))
        .unwrap();
        let mut subs = Substitutions::new(Some(names), Some(values), true).unwrap();
        parse_update(src, &mut subs)
    }

    #[test]
    fn sections_in_any_order() {
        let actions = parse("REMOVE a, b ADD c :n SET #w.#x = :s, d = d + :n, e = if_not_exists(e, :n) DELETE f :ss").unwrap();
        assert_eq!(actions.len(), 7);
        assert!(parse("set g = list_append(if_not_exists(g, :l), :l)").is_ok(), "keywords in any case, functions nest");
    }

    #[test]
    fn refusals_name_the_problem() {
        assert_eq!(parse("SET a = :n SET b = :n").unwrap_err(), ExprError::SectionTwice("SET"));
        assert_eq!(parse("SET a = :n REMOVE a").unwrap_err(), ExprError::Overlap("a".into(), "a".into()));
        assert!(matches!(parse("SET a = a + :s").unwrap_err(), ExprError::OperandType { kind: Type::S, .. }));
        assert!(matches!(parse("ADD a :s").unwrap_err(), ExprError::ActionOperand { operator: "ADD", kind: Type::S }));
        assert!(matches!(parse("DELETE a :n").unwrap_err(), ExprError::ActionOperand { operator: "DELETE", .. }));
        assert!(matches!(parse("SET a = list_append(:n, a)").unwrap_err(), ExprError::OperandType { .. }));
        assert!(matches!(parse("SET a = size(b)").unwrap_err(), ExprError::MisusedFunction(_)));
        assert!(matches!(parse("UPSERT a = :n").unwrap_err(), ExprError::Syntax { .. }));
        assert!(matches!(parse("SET a = :n,").unwrap_err(), ExprError::Syntax { token, .. } if token == "<EOF>"));
    }
}
