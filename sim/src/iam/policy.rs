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

/// Who a trust policy's statement names: `"*"`, an AWS principal (an account id, an account's
/// `root`, a role ARN) or a service (`lambda.amazonaws.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anyone,
    Aws(String),
    Service(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawStatement", into = "RawStatement")]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Scope,
    /// `*` for a trust policy's statement, which names no resource.
    pub resources: Scope,
    /// Every one must hold (IAM ANDs operators and keys; a key's values are ORed).
    pub conditions: Vec<Condition>,
    /// A trust policy's `Principal`; None in an identity policy.
    pub principals: Option<Vec<Principal>>,
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
            principals: None,
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
    /// Neither or both of `Resource` and `NotResource` in an identity policy.
    #[error("statement {0}: exactly one of Resource and NotResource is required")]
    Resource(String),
    /// A `Principal` the simulator does not read (`NotPrincipal`, `Federated`, `CanonicalUser`).
    #[error("statement {0}: Principal must be \"*\" or name AWS or Service principals")]
    Principal(String),
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    principal: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_principal: Option<Value>,
}

/// `"*"`, or `{"AWS": ..., "Service": ...}` with one string or a list each.
fn principals(v: &Value) -> Option<Vec<Principal>> {
    if v == "*" {
        return Some(vec![Principal::Anyone]);
    }
    let mut out = vec![];
    for (kind, names) in v.as_object()? {
        let names: Vec<&str> = match names {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(Value::as_str).collect::<Option<_>>()?,
            _ => return None,
        };
        for n in names {
            out.push(match (kind.as_str(), n) {
                ("AWS", "*") => Principal::Anyone,
                ("AWS", n) => Principal::Aws(n.to_owned()),
                ("Service", n) => Principal::Service(n.to_owned()),
                _ => return None,
            });
        }
    }
    (!out.is_empty()).then_some(out)
}

fn principal_json(p: &[Principal]) -> Value {
    if p.contains(&Principal::Anyone) {
        return Value::String("*".into());
    }
    let mut m = Map::new();
    for (kind, names) in [
        ("AWS", p.iter().filter_map(|x| if let Principal::Aws(n) = x { Some(n.clone()) } else { None }).collect::<Vec<_>>()),
        ("Service", p.iter().filter_map(|x| if let Principal::Service(n) = x { Some(n.clone()) } else { None }).collect()),
    ] {
        match names.as_slice() {
            [] => {}
            [one] => {
                m.insert(kind.into(), Value::String(one.clone()));
            }
            many => {
                m.insert(kind.into(), many.iter().cloned().map(Value::String).collect());
            }
        }
    }
    Value::Object(m)
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
        if raw.not_principal.is_some() {
            return Err(PolicyError::Principal(sid));
        }
        let principals = match &raw.principal {
            Some(p) => Some(principals(p).ok_or_else(|| PolicyError::Principal(sid.clone()))?),
            None => None,
        };
        let resources = match (scope(raw.resource, raw.not_resource), &principals) {
            (Some(r), _) => r,
            (None, Some(_)) => Scope::Only(vec!["*".into()]),
            (None, None) => return Err(PolicyError::Resource(sid)),
        };
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
        Ok(Statement { sid: raw.sid, effect: raw.effect, actions, resources, conditions, principals })
    }
}

impl From<Statement> for RawStatement {
    fn from(s: Statement) -> Self {
        let split = |scope: &Scope| match scope {
            Scope::Only(v) => (Some(OneOrMany::of(v)), None),
            Scope::Except(v) => (None, Some(OneOrMany::of(v))),
        };
        let (action, not_action) = split(&s.actions);
        // A trust statement's implied `*` is not written back.
        let implied = s.principals.is_some() && s.resources == Scope::Only(vec!["*".into()]);
        let (resource, not_resource) = if implied { (None, None) } else { split(&s.resources) };
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
            principal: s.principals.as_deref().map(principal_json),
            not_principal: None,
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
    fn trust_statements_name_principals_and_no_resource() {
        let doc = json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/hub", "Service": ["lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x"}}});
        let s: Statement = serde_json::from_value(doc).unwrap();
        assert_eq!(
            s.principals,
            Some(vec![Principal::Aws("arn:aws:iam::1:role/hub".into()), Principal::Service("lambda.amazonaws.com".into())])
        );
        let back = serde_json::to_value(&s).unwrap();
        assert!(back.get("Resource").is_none(), "{back}");
        assert_eq!(back["Principal"]["Service"], "lambda.amazonaws.com");
        let anyone: Statement =
            serde_json::from_value(json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})).unwrap();
        assert_eq!(anyone.principals, Some(vec![Principal::Anyone]));
        for bad in [json!({"Federated": "x"}), json!({"AWS": 1}), json!({})] {
            let raw = json!({"Sid": "T", "Effect": "Allow", "Principal": bad, "Action": "sts:AssumeRole"});
            assert!(serde_json::from_value::<Statement>(raw).unwrap_err().to_string().contains("statement T: Principal"));
        }
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
