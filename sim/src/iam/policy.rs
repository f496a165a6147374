//! Identity-policy statements in IAM's own JSON (`Sid`, `Effect`, `Action` or `NotAction`,
//! `Resource` or `NotResource`, `Condition`), parsed once into types: a fleet file or a
//! CloudFormation template's policy loads as written, and a statement the evaluator could not
//! honour (an unknown condition operator, no resource) is refused when loaded, naming it.

use super::condition::{Condition, Operator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// What a statement's `Action` or `Resource` names: the listed ones, or every one but them
/// (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Only(Vec<String>),
    Except(Vec<String>),
}

impl Scope {
    pub fn covers(&self, value: &str, matches: fn(&str, &str) -> bool) -> bool {
        match self {
            Scope::Only(patterns) => patterns.iter().any(|p| matches(p, value)),
            Scope::Except(patterns) => !patterns.iter().any(|p| matches(p, value)),
        }
    }

    /// The patterns it lists (granted or excepted).
    pub fn patterns(&self) -> &[String] {
        match self {
            Scope::Only(p) | Scope::Except(p) => p,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawStatement", into = "RawStatement")]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Scope,
    pub resources: Scope,
    /// Every one must hold (IAM ANDs operators and keys; a key's values are ORed).
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// An unconditioned statement on every resource (a fleet's `allowedActions` shorthand).
    pub fn on_everything(sid: &str, effect: Effect, actions: &[String]) -> Statement {
        Statement {
            sid: Some(sid.to_owned()),
            effect,
            actions: Scope::Only(actions.to_vec()),
            resources: Scope::Only(vec!["*".into()]),
            conditions: vec![],
        }
    }

    /// Its Sid, or its place when it has none, for messages and the call log.
    pub fn name(&self) -> String {
        self.sid.clone().unwrap_or_else(|| "(no Sid)".into())
    }
}

/// Why a statement does not load.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    /// Neither or both of `Action` and `NotAction`.
    #[error("statement {0}: exactly one of Action and NotAction is required")]
    Action(String),
    /// Neither or both of `Resource` and `NotResource`.
    #[error("statement {0}: exactly one of Resource and NotResource is required")]
    Resource(String),
    /// A condition operator the simulator does not evaluate.
    #[error("statement {sid}: condition operator {operator} is not supported")]
    Operator { sid: String, operator: String },
    /// A condition value that is no string, number or boolean.
    #[error("statement {sid}: condition {operator} {key} has a value that is not a string, number or boolean")]
    Value { sid: String, operator: String, key: String },
}

/// One string or a list of them, as IAM writes `Action`, `Resource` and condition values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Value>),
    One(Value),
}

impl OneOrMany {
    fn values(self) -> Vec<Value> {
        match self {
            OneOrMany::One(v) => vec![v],
            OneOrMany::Many(v) => v,
        }
    }

    fn strings(self) -> Vec<String> {
        self.values().into_iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).collect()
    }

    fn of(values: &[String]) -> OneOrMany {
        match values {
            [one] => OneOrMany::One(Value::String(one.clone())),
            many => OneOrMany::Many(many.iter().cloned().map(Value::String).collect()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RawStatement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    effect: Effect,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_action: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_resource: Option<OneOrMany>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    condition: Option<BTreeMap<String, BTreeMap<String, OneOrMany>>>,
}

fn scope(only: Option<OneOrMany>, except: Option<OneOrMany>) -> Option<Scope> {
    match (only, except) {
        (Some(o), None) => Some(Scope::Only(o.strings())),
        (None, Some(e)) => Some(Scope::Except(e.strings())),
        _ => None,
    }
}

impl TryFrom<RawStatement> for Statement {
    type Error = PolicyError;

    fn try_from(raw: RawStatement) -> Result<Self, PolicyError> {
        let sid = raw.sid.clone().unwrap_or_else(|| "(no Sid)".into());
        let actions = scope(raw.action, raw.not_action).ok_or_else(|| PolicyError::Action(sid.clone()))?;
        let resources = scope(raw.resource, raw.not_resource).ok_or_else(|| PolicyError::Resource(sid.clone()))?;
        let mut conditions = vec![];
        for (operator_text, keys) in raw.condition.unwrap_or_default() {
            let operator: Operator =
                operator_text.parse().map_err(|_| PolicyError::Operator { sid: sid.clone(), operator: operator_text.clone() })?;
            for (key, values) in keys {
                let values = values.values();
                if values.iter().any(|v| v.is_object() || v.is_array() || v.is_null()) {
                    return Err(PolicyError::Value { sid, operator: operator_text, key });
                }
                let values = values.into_iter().map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
                conditions.push(Condition::new(operator, &key, values.collect()));
            }
        }
        Ok(Statement { sid: raw.sid, effect: raw.effect, actions, resources, conditions })
    }
}

impl From<Statement> for RawStatement {
    fn from(s: Statement) -> Self {
        let split = |scope: &Scope| match scope {
            Scope::Only(v) => (Some(OneOrMany::of(v)), None),
            Scope::Except(v) => (None, Some(OneOrMany::of(v))),
        };
        let (action, not_action) = split(&s.actions);
        let (resource, not_resource) = split(&s.resources);
        let mut condition: BTreeMap<String, BTreeMap<String, OneOrMany>> = BTreeMap::new();
        for c in &s.conditions {
            condition.entry(c.operator.to_string()).or_default().insert(c.key.clone(), OneOrMany::of(&c.values));
        }
        RawStatement {
            sid: s.sid,
            effect: s.effect,
            action,
            not_action,
            resource,
            not_resource,
            condition: (!condition.is_empty()).then_some(condition),
        }
    }
}

/// The statements of a policy document (`{"Version": ..., "Statement": [...]}` or a single
/// statement object), each parsed.
pub fn statements_of(document: &Value) -> Result<Vec<Statement>, String> {
    let list = match &document["Statement"] {
        Value::Array(list) => list.clone(),
        Value::Object(one) => vec![Value::Object(one.clone())],
        _ => return Err("the policy has no Statement".into()),
    };
    list.into_iter()
        .enumerate()
        .map(|(i, s)| serde_json::from_value::<Statement>(s).map_err(|e| format!("Statement[{i}]: {e}")))
        .collect()
}

/// A statement written out as IAM JSON (for messages and tests).
pub fn to_json(s: &Statement) -> Map<String, Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statements_load_as_iam_writes_them_and_write_back_the_same() {
        let doc = json!({"Sid": "Tags", "Effect": "Allow", "Action": "ec2:CreateTags",
            "Resource": ["arn:aws:ec2:*:1:instance/*", "arn:aws:ec2:*:1:volume/*"],
            "Condition": {"ForAllValues:StringNotEqualsIgnoreCase": {"aws:TagKeys": ["AWSElasticDisasterRecoveryManaged"]},
                          "Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"},
                          "Bool": {"aws:SecureTransport": true}}});
        let s: Statement = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(s.actions, Scope::Only(vec!["ec2:CreateTags".into()]));
        assert_eq!(s.conditions.len(), 3);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["Condition"]["Bool"]["aws:SecureTransport"], "true");
        assert_eq!(back["Action"], "ec2:CreateTags");
        assert_eq!(back["Resource"], doc["Resource"]);
    }

    #[test]
    fn statements_the_evaluator_cannot_honour_are_refused_by_name() {
        let err = |v: Value| serde_json::from_value::<Statement>(v).unwrap_err().to_string();
        let e = err(json!({"Sid": "S", "Effect": "Allow", "Action": "a:b", "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}));
        assert!(e.contains("statement S: condition operator DateGreaterThan is not supported"), "{e}");
        let e = err(json!({"Sid": "S", "Effect": "Allow", "Action": "a:b"}));
        assert!(e.contains("exactly one of Resource and NotResource"), "{e}");
        let e = err(json!({"Sid": "S", "Effect": "Allow", "Action": "a:b", "NotAction": "c:d", "Resource": "*"}));
        assert!(e.contains("exactly one of Action and NotAction"), "{e}");
        let e = err(json!({"Effect": "Allow", "Action": "a:b", "Resource": "*", "Condition": {"StringEquals": {"k": {"x": 1}}}}));
        assert!(e.contains("not a string, number or boolean"), "{e}");
        assert!(err(json!({"Effect": "Maybe", "Action": "a:b", "Resource": "*"})).contains("Maybe"));
    }

    #[test]
    fn documents_hold_a_list_or_one_statement() {
        let one = json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*"}});
        let s = statements_of(&one).unwrap();
        assert_eq!((s[0].effect, &s[0].resources), (Effect::Deny, &Scope::Except(vec!["*".into()])));
        let e = statements_of(&json!({"Statement": [{"Effect": "Allow"}]})).unwrap_err();
        assert!(e.starts_with("Statement[0]:"), "{e}");
    }
}
