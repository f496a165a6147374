//! DynamoDB's expressions: a tokenizer (`lexer.rs`), a recursive-descent parser of condition,
//! key condition, projection and update expressions (`parser.rs`, `update.rs`) into the
//! trees of `ast.rs`, and condition evaluation (`eval.rs`). `#name` and `:value` placeholders
//! are resolved while parsing (`Substitutions`), which also records which were used: DynamoDB
//! refuses a request that defines one it never uses.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod reserved;
pub mod update;

use super::error::DdbError;
use super::value::{Type, Value, WireItem};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Which expression a message is about (`Invalid ConditionExpression: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionKind {
    Condition,
    Filter,
    KeyCondition,
    Projection,
    Update,
}

impl ExpressionKind {
    pub fn member(self) -> &'static str {
        match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Projection => "ProjectionExpression",
            ExpressionKind::Update => "UpdateExpression",
        }
    }
}

/// What is wrong with an expression, in DynamoDB's words (after `Invalid <kind>: `).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("The expression can not be empty;")]
    Empty,
    #[error("Expression size has exceeded the maximum allowed size; expression size: {0}")]
    TooLong(usize),
    /// The simulator's own bound (DynamoDB's 4 KB already bounds nesting): it keeps the
    /// recursive-descent parser's stack small.
    #[error("The expression is nested more than {0} levels deep")]
    TooDeep(usize),
    #[error("Syntax error; token: \"{token}\", near: \"{near}\"")]
    Syntax { token: String, near: String },
    #[error("An expression attribute name used in the document path is not defined; attribute name: {0}")]
    UndefinedName(String),
    #[error("An expression attribute value used in expression is not defined; attribute value: {0}")]
    UndefinedValue(String),
    #[error("Attribute name is a reserved keyword; reserved keyword: {0}")]
    Reserved(String),
    #[error("Invalid function name; function: {0}")]
    UnknownFunction(String),
    #[error("The function is not allowed to be used this way in an expression; function: {0}")]
    MisusedFunction(String),
    #[error("Operator or function requires a document path; operator or function: {0}")]
    NeedsPath(String),
    #[error("Incorrect operand type for operator or function; operator or function: {function}, operand type: {}", .kind.descriptor())]
    OperandType { function: String, kind: Type },
    #[error("Invalid attribute type name found; type: {0}, valid types: {{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }}")]
    TypeName(String),
    #[error(
        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {lower}, upper bound operand: {upper}"
    )]
    BetweenBounds { lower: String, upper: String },
    #[error("The IN operator is provided with too many operands; number of operands: {0}")]
    TooManyInOperands(usize),
    #[error("The \"{0}\" section can only be used once in an update expression;")]
    SectionTwice(&'static str),
    #[error(
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{0}], path two: [{1}]"
    )]
    Overlap(String, String),
    #[error("Incorrect operand type for operator or function; operator: {operator}, operand type: {}, typeSet: ALLOWED_FOR_{operator}_OPERAND", .kind.long_name())]
    ActionOperand { operator: &'static str, kind: Type },
}

impl ExprError {
    pub fn within(self, kind: ExpressionKind) -> DdbError {
        DdbError::invalid(kind.member(), self)
    }
}

/// The `#name` and `:value` placeholders of one request, and which of them its expressions used.
#[derive(Debug, Default)]
pub struct Substitutions {
    names: BTreeMap<String, String>,
    values: BTreeMap<String, Value>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Substitutions {
    /// Reads a request's ExpressionAttributeNames and ExpressionAttributeValues; `expressions`
    /// says whether the request has any expression to use them in.
    pub fn new(names: Option<BTreeMap<String, String>>, values: Option<WireItem>, expressions: bool) -> Result<Self, DdbError> {
        let refuse = |m: String| Err(DdbError::Validation(m));
        match (&names, &values) {
            (Some(n), _) if n.is_empty() => return refuse("ExpressionAttributeNames must not be empty".into()),
            (_, Some(v)) if v.is_empty() => return refuse("ExpressionAttributeValues must not be empty".into()),
            (Some(_), _) if !expressions => {
                return refuse("ExpressionAttributeNames can only be specified when using expressions".into())
            }
            (_, Some(_)) if !expressions => {
                return refuse("ExpressionAttributeValues can only be specified when using expressions".into())
            }
            _ => {}
        }
        let names = names.unwrap_or_default();
        if let Some(bad) = names.keys().find(|k| !is_placeholder(k, '#')) {
            return refuse(format!("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""));
        }
        let mut resolved = BTreeMap::new();
        for (key, wire) in values.unwrap_or_default() {
            if !is_placeholder(&key, ':') {
                return refuse(format!("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{key}\""));
            }
            let value = wire.into_value().map_err(|e| {
                DdbError::Validation(format!("ExpressionAttributeValues contains invalid value: {e} for key {key}"))
            })?;
            resolved.insert(key, value);
        }
        Ok(Substitutions { names, values: resolved, ..Default::default() })
    }

    pub fn name(&mut self, placeholder: &str) -> Result<String, ExprError> {
        let name = self.names.get(placeholder).cloned().ok_or_else(|| ExprError::UndefinedName(placeholder.to_owned()))?;
        self.used_names.insert(placeholder.to_owned());
        Ok(name)
    }

    pub fn value(&mut self, placeholder: &str) -> Result<Value, ExprError> {
        let value = self.values.get(placeholder).cloned().ok_or_else(|| ExprError::UndefinedValue(placeholder.to_owned()))?;
        self.used_values.insert(placeholder.to_owned());
        Ok(value)
    }

    /// The size of the `:value`s, as DynamoDB measures values.
    pub fn values_size(&self) -> usize {
        self.values.values().map(crate::dynamodb::size::value_size).sum()
    }

    /// Refuses placeholders that no expression of the request used.
    pub fn check_all_used(&self) -> Result<(), DdbError> {
        let unused = |defined: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            defined.into_iter().filter(|k| !used.contains(*k)).cloned().collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(unused_error("Names", &names));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(unused_error("Values", &values));
        }
        Ok(())
    }
}

fn unused_error(what: &str, keys: &[String]) -> DdbError {
    DdbError::Validation(format!(
        "Value provided in ExpressionAttribute{what} unused in expressions: keys: {{{}}}",
        keys.join(", ")
    ))
}

fn is_placeholder(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

impl fmt::Display for ExpressionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.member())
    }
}
