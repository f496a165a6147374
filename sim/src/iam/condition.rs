//! Condition operators as IAM evaluates them. A key's values in the request are compared
//! with the statement's values: a positive operator holds when some value matches (the
//! statement's values are ORed); a negated one (`StringNotEquals`, `ArnNotLike`, ...) holds
//! when none does, and so holds when the request lacks the key; `...IfExists` holds when the
//! key is absent; `Null` tests presence alone. `ForAllValues:` holds when every request value
//! satisfies the operator (and when there are none); `ForAnyValue:` when at least one does.

use super::context::Context;
use super::pattern;
use std::fmt;
use std::str::FromStr;

/// The comparison an operator makes, without its set qualifier and `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Bool,
    Null,
}

const BASES: [(&str, Base); 12] = [
    ("StringEquals", Base::StringEquals),
    ("StringNotEquals", Base::StringNotEquals),
    ("StringEqualsIgnoreCase", Base::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Base::StringNotEqualsIgnoreCase),
    ("StringLike", Base::StringLike),
    ("StringNotLike", Base::StringNotLike),
    ("ArnEquals", Base::ArnEquals),
    ("ArnNotEquals", Base::ArnNotEquals),
    ("ArnLike", Base::ArnLike),
    ("ArnNotLike", Base::ArnNotLike),
    ("Bool", Base::Bool),
    ("Null", Base::Null),
];

impl Base {
    fn negated(self) -> bool {
        matches!(
            self,
            Base::StringNotEquals | Base::StringNotEqualsIgnoreCase | Base::StringNotLike | Base::ArnNotEquals | Base::ArnNotLike
        )
    }

    /// The positive comparison of one request value with one statement value.
    fn matches(self, have: &str, want: &str) -> bool {
        match self {
            Base::StringEquals | Base::StringNotEquals => have == want,
            Base::StringEqualsIgnoreCase | Base::StringNotEqualsIgnoreCase => have.to_lowercase() == want.to_lowercase(),
            Base::StringLike | Base::StringNotLike => pattern::glob(want, have, false),
            // IAM's ArnEquals takes wildcards as ArnLike does.
            Base::ArnEquals | Base::ArnNotEquals | Base::ArnLike | Base::ArnNotLike => {
                have.starts_with("arn:") && pattern::arn(want, have)
            }
            Base::Bool => have.eq_ignore_ascii_case(want),
            Base::Null => false,
        }
    }

    /// Whether one request value satisfies the operator against the statement's values.
    fn satisfied_by(self, have: &str, wants: &[String]) -> bool {
        let any = wants.iter().any(|w| self.matches(have, w));
        if self.negated() {
            !any
        } else {
            any
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: Option<SetQualifier>,
    pub base: Base,
    pub if_exists: bool,
}

#[derive(Debug, PartialEq)]
pub struct UnknownOperator;

impl FromStr for Operator {
    type Err = UnknownOperator;

    fn from_str(s: &str) -> Result<Self, UnknownOperator> {
        let (set, rest) = match s.split_once(':') {
            Some(("ForAllValues", rest)) => (Some(SetQualifier::ForAllValues), rest),
            Some(("ForAnyValue", rest)) => (Some(SetQualifier::ForAnyValue), rest),
            Some(_) => return Err(UnknownOperator),
            None => (None, s),
        };
        let (name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(name) => (name, true),
            None => (rest, false),
        };
        let base = BASES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).ok_or(UnknownOperator)?;
        if base == Base::Null && (if_exists || set.is_some()) {
            return Err(UnknownOperator);
        }
        Ok(Operator { set, base, if_exists })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.set {
            Some(SetQualifier::ForAllValues) => write!(f, "ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => write!(f, "ForAnyValue:")?,
            None => {}
        }
        let name = BASES.iter().find(|(_, b)| *b == self.base).map(|(n, _)| *n).unwrap_or("Null");
        write!(f, "{name}{}", if self.if_exists { "IfExists" } else { "" })
    }
}

/// One operator on one key with the statement's values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    /// The key as the statement writes it (IAM compares key names case-insensitively).
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    pub fn new(operator: Operator, key: &str, values: Vec<String>) -> Condition {
        Condition { operator, key: key.to_owned(), values }
    }

    /// Whether the condition holds for a request's context.
    pub fn holds(&self, context: &Context) -> bool {
        let have = context.get(&self.key);
        let op = self.operator;
        if op.base == Base::Null {
            let absent = have.is_empty();
            return self.values.iter().any(|v| v.eq_ignore_ascii_case(if absent { "true" } else { "false" }));
        }
        match op.set {
            Some(SetQualifier::ForAllValues) => have.iter().all(|h| op.base.satisfied_by(h, &self.values)),
            Some(SetQualifier::ForAnyValue) => have.iter().any(|h| op.base.satisfied_by(h, &self.values)),
            None if have.is_empty() => op.if_exists || op.base.negated(),
            // A negated operator on a key with several values: none of them may match.
            None if op.base.negated() => have.iter().all(|h| op.base.satisfied_by(h, &self.values)),
            None => have.iter().any(|h| op.base.satisfied_by(h, &self.values)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition::new(op.parse().unwrap(), key, values.iter().map(|v| v.to_string()).collect())
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::default();
        for (k, v) in pairs {
            c.set(k, v.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    const MANAGED: &str = "AWSElasticDisasterRecoveryManaged";

    #[test]
    fn operators_parse_and_print_back() {
        for op in [
            "StringEquals",
            "ForAllValues:StringNotEqualsIgnoreCase",
            "ForAnyValue:StringEquals",
            "ArnLikeIfExists",
            "Null",
            "Bool",
        ] {
            assert_eq!(op.parse::<Operator>().unwrap().to_string(), op);
        }
        for bad in ["StringEqual", "ForSomeValues:StringEquals", "NullIfExists", "ForAllValues:Null", "NumericEquals"] {
            assert_eq!(bad.parse::<Operator>(), Err(UnknownOperator), "{bad}");
        }
    }

    #[test]
    fn string_operators_match_exactly_by_case_or_by_pattern() {
        let c = ctx(&[("ec2:CreateAction", &["RunInstances"])]);
        assert!(cond("StringEquals", "ec2:CreateAction", &["CreateVolume", "RunInstances"]).holds(&c));
        assert!(!cond("StringEquals", "ec2:CreateAction", &["runinstances"]).holds(&c));
        assert!(cond("StringEqualsIgnoreCase", "ec2:CreateAction", &["runinstances"]).holds(&c));
        assert!(cond("StringLike", "ec2:CreateAction", &["Run*"]).holds(&c));
        assert!(!cond("StringNotEquals", "ec2:CreateAction", &["RunInstances"]).holds(&c));
        assert!(cond("StringNotLike", "ec2:CreateAction", &["Create*"]).holds(&c));
        // Key names are case-insensitive.
        assert!(cond("StringEquals", "EC2:createaction", &["RunInstances"]).holds(&c));
    }

    #[test]
    fn a_missing_key_fails_positive_operators_and_passes_negated_and_if_exists() {
        let empty = Context::default();
        assert!(!cond("StringEquals", "ec2:CreateAction", &["RunInstances"]).holds(&empty));
        assert!(cond("StringNotEquals", "ec2:CreateAction", &["RunInstances"]).holds(&empty));
        assert!(cond("StringEqualsIfExists", "ec2:CreateAction", &["RunInstances"]).holds(&empty));
        assert!(!cond("ArnLike", "aws:SourceArn", &["arn:*"]).holds(&empty));
        assert!(cond("Null", "ec2:CreateAction", &["true"]).holds(&empty));
        assert!(!cond("Null", "ec2:CreateAction", &["false"]).holds(&empty));
    }

    #[test]
    fn set_qualifiers_on_tag_keys() {
        let never_managed = cond("ForAllValues:StringNotEquals", "aws:TagKeys", &[MANAGED]);
        let any_managed = cond("ForAnyValue:StringEquals", "aws:TagKeys", &[MANAGED]);
        let harmless = ctx(&[("aws:TagKeys", &["Owner", "drs-orch:run"])]);
        let sneaky = ctx(&[("aws:TagKeys", &["Owner", MANAGED])]);
        assert!(never_managed.holds(&harmless) && !never_managed.holds(&sneaky));
        assert!(!any_managed.holds(&harmless) && any_managed.holds(&sneaky));
        // No tag keys at all: ForAllValues holds (vacuously), ForAnyValue does not.
        assert!(never_managed.holds(&Context::default()) && !any_managed.holds(&Context::default()));
        // Case: StringNotEquals lets a differently cased key through, the IgnoreCase form does not.
        let cased = ctx(&[("aws:TagKeys", &["awselasticdisasterrecoverymanaged"])]);
        assert!(never_managed.holds(&cased));
        assert!(!cond("ForAllValues:StringNotEqualsIgnoreCase", "aws:TagKeys", &[MANAGED]).holds(&cased));
    }

    #[test]
    fn arn_and_bool_operators() {
        let c = ctx(&[("aws:SourceArn", &["arn:aws:states:us-east-1:1:stateMachine:a"]), ("aws:SecureTransport", &["true"])]);
        assert!(cond("ArnLike", "aws:SourceArn", &["arn:aws:states:*:1:stateMachine:*"]).holds(&c));
        assert!(cond("ArnEquals", "aws:SourceArn", &["arn:aws:states:us-east-1:1:stateMachine:a"]).holds(&c));
        assert!(!cond("ArnEquals", "aws:SourceArn", &["arn:aws:states:us-east-1:2:stateMachine:a"]).holds(&c));
        assert!(cond("ArnNotLike", "aws:SourceArn", &["arn:aws:lambda:*"]).holds(&c));
        assert!(cond("Bool", "aws:SecureTransport", &["True"]).holds(&c));
        assert!(!cond("Bool", "aws:SecureTransport", &["false"]).holds(&c));
    }
}
