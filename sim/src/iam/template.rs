//! A CloudFormation template's role policies (inline and trust) as the stack would create them: `Ref`,
//! `Fn::Sub`, `Fn::GetAtt`, `Fn::If` (over the template's `Conditions`), `Fn::Join` and
//! `AWS::NoValue` resolved for one account, region and set of parameter values, then parsed
//! as statements. Tests load the project's templates this way, so the simulator enforces the
//! policies as written rather than a copy of them.

use super::policy::{statements_of, Statement};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The stack a template is resolved for.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub partition: String,
    pub account: String,
    pub region: String,
    /// Parameters (a list parameter as an array), and the resources the policies name: `Name`
    /// for `Ref` and `${Name}`, `Name.Attribute` for `Fn::GetAtt` and `${Name.Attribute}`.
    /// A parameter left out takes its default.
    pub values: BTreeMap<String, Value>,
}

impl Stack {
    pub fn new(account: &str, region: &str) -> Stack {
        Stack { partition: "aws".into(), account: account.into(), region: region.into(), values: BTreeMap::new() }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Stack {
        self.values.insert(name.to_owned(), value.into());
        self
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TemplateError {
    /// The template has no such resource, or it is no role with that policy.
    #[error("the template has no role {0} with that policy")]
    NoRole(String),
    /// A name neither a parameter, a given value nor a pseudo parameter.
    #[error("{0} is not resolved: give it a value")]
    Unresolved(String),
    /// An intrinsic function this reader does not evaluate.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// A resolved statement that does not load.
    #[error("policy {policy}: {reason}")]
    Policy { policy: String, reason: String },
}

/// The statements of a role's inline policies (`Properties.Policies`), resolved for `stack`.
pub fn role_statements(template: &Value, role: &str, stack: &Stack) -> Result<Vec<Statement>, TemplateError> {
    let policies =
        template["Resources"][role]["Properties"]["Policies"].as_array().ok_or_else(|| TemplateError::NoRole(role.to_owned()))?;
    let r = Resolver { template, stack };
    let mut out = vec![];
    for p in policies {
        let name = p["PolicyName"].as_str().unwrap_or("(unnamed)").to_owned();
        let document = r.resolve(&p["PolicyDocument"])?.unwrap_or(Value::Null);
        out.extend(statements_of(&document).map_err(|reason| TemplateError::Policy { policy: name, reason })?);
    }
    Ok(out)
}

/// The statements of a role's trust policy (`Properties.AssumeRolePolicyDocument`), resolved.
pub fn role_trust(template: &Value, role: &str, stack: &Stack) -> Result<Vec<Statement>, TemplateError> {
    let document = &template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"];
    if document.is_null() {
        return Err(TemplateError::NoRole(role.to_owned()));
    }
    let resolved = Resolver { template, stack }.resolve(document)?.unwrap_or(Value::Null);
    statements_of(&resolved).map_err(|reason| TemplateError::Policy { policy: format!("{role} trust"), reason })
}

struct Resolver<'a> {
    template: &'a Value,
    stack: &'a Stack,
}

impl Resolver<'_> {
    /// The value with every intrinsic function evaluated; None for `AWS::NoValue`.
    fn resolve(&self, v: &Value) -> Result<Option<Value>, TemplateError> {
        match v {
            Value::Array(items) => {
                let mut out = vec![];
                for item in items {
                    out.extend(self.resolve(item)?);
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) if map.len() == 1 && self.is_function(map) => self.function(map),
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, item) in map {
                    if let Some(r) = self.resolve(item)? {
                        out.insert(k.clone(), r);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn is_function(&self, map: &Map<String, Value>) -> bool {
        map.keys().next().is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition")
    }

    fn function(&self, map: &Map<String, Value>) -> Result<Option<Value>, TemplateError> {
        let (name, arg) = map.iter().next().ok_or_else(|| TemplateError::Unsupported("an empty object".into()))?;
        match name.as_str() {
            "Ref" => match arg.as_str() {
                Some("AWS::NoValue") => Ok(None),
                Some(n) => self.value(n).map(Some),
                None => Err(TemplateError::Unsupported(format!("Ref {arg}"))),
            },
            "Fn::GetAtt" => {
                let path = match arg {
                    Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("."),
                    Value::String(s) => s.clone(),
                    _ => return Err(TemplateError::Unsupported(format!("Fn::GetAtt {arg}"))),
                };
                self.value(&path).map(Some)
            }
            "Fn::Sub" => self.sub(arg).map(|s| Some(Value::String(s))),
            "Fn::Join" => {
                let (sep, items) = (arg[0].as_str().unwrap_or_default(), self.resolve(&arg[1])?);
                let parts: Vec<String> = items.as_ref().and_then(Value::as_array).into_iter().flatten().map(text).collect();
                Ok(Some(Value::String(parts.join(sep))))
            }
            "Fn::If" => {
                let condition = arg[0].as_str().unwrap_or_default();
                let chosen = if self.condition(condition)? { &arg[1] } else { &arg[2] };
                self.resolve(chosen)
            }
            other => Err(TemplateError::Unsupported(other.to_owned())),
        }
    }

    /// A parameter, a given value, or a pseudo parameter.
    fn value(&self, name: &str) -> Result<Value, TemplateError> {
        let pseudo = match name {
            "AWS::Partition" => Some(&self.stack.partition),
            "AWS::AccountId" => Some(&self.stack.account),
            "AWS::Region" => Some(&self.stack.region),
            _ => None,
        };
        if let Some(p) = pseudo {
            return Ok(Value::String(p.clone()));
        }
        if let Some(v) = self.stack.values.get(name) {
            return Ok(v.clone());
        }
        let param = &self.template["Parameters"][name];
        match (param["Default"].as_str(), param["Type"].as_str()) {
            (Some(d), Some("CommaDelimitedList")) => {
                Ok(Value::Array(d.split(',').filter(|s| !s.is_empty()).map(|s| Value::String(s.trim().into())).collect()))
            }
            (Some(d), _) => Ok(Value::String(d.to_owned())),
            _ => Err(TemplateError::Unresolved(name.to_owned())),
        }
    }

    /// `${Name}` and `${Name.Attribute}` replaced; `${!Literal}` kept as `${Literal}`.
    fn sub(&self, arg: &Value) -> Result<String, TemplateError> {
        let (text_in, locals) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) => (a[0].as_str().unwrap_or_default(), a[1].as_object().cloned().unwrap_or_default()),
            _ => return Err(TemplateError::Unsupported(format!("Fn::Sub {arg}"))),
        };
        let mut out = String::new();
        let mut rest = text_in;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| TemplateError::Unsupported(format!("Fn::Sub {text_in}")))?;
            let name = &after[..end];
            match name.strip_prefix('!') {
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => {
                    let v = match locals.get(name) {
                        Some(local) => self.resolve(local)?.unwrap_or(Value::Null),
                        None => self.value(name)?,
                    };
                    out.push_str(&text(&v));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A template condition, evaluated over the resolved parameters.
    fn condition(&self, name: &str) -> Result<bool, TemplateError> {
        let def = &self.template["Conditions"][name];
        if def.is_null() {
            return Err(TemplateError::Unresolved(format!("condition {name}")));
        }
        self.truth(def)
    }

    fn truth(&self, v: &Value) -> Result<bool, TemplateError> {
        let Some((f, arg)) = v.as_object().and_then(|m| m.iter().next()) else {
            return Err(TemplateError::Unsupported(format!("condition {v}")));
        };
        match f.as_str() {
            "Fn::Equals" => Ok(self.resolve(&arg[0])? == self.resolve(&arg[1])?),
            "Fn::Not" => Ok(!self.truth(&arg[0])?),
            "Fn::And" => arg.as_array().into_iter().flatten().try_fold(true, |acc, c| Ok(acc && self.truth(c)?)),
            "Fn::Or" => arg.as_array().into_iter().flatten().try_fold(false, |acc, c| Ok(acc || self.truth(c)?)),
            "Condition" => self.condition(arg.as_str().unwrap_or_default()),
            other => Err(TemplateError::Unsupported(other.to_owned())),
        }
    }
}

/// A resolved value as text (a list joined with commas, as CloudFormation substitutes it).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "Parameters": {"Name": {"Type": "String", "Default": "runs"}, "Org": {"Type": "String", "Default": ""},
                           "Accounts": {"Type": "CommaDelimitedList"}},
            "Conditions": {"HasOrg": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Org"}, ""]}]}},
            "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Table", "Effect": "Allow", "Action": "dynamodb:GetItem",
                     "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Name}"}},
                    {"Sid": "Gate", "Effect": "Allow", "Action": "states:StartExecution",
                     "Resource": [{"Ref": "Machine"}, {"Fn::GetAtt": ["Logs", "Arn"]}, {"Ref": "AWS::NoValue"}],
                     "Condition": {"StringEquals": {"Fn::If": ["HasOrg", {"aws:PrincipalOrgID": {"Ref": "Org"}}, {"aws:ResourceAccount": {"Ref": "Accounts"}}]}}}
                ]}}]}}}
        })
    }

    #[test]
    fn a_roles_policies_resolve_for_a_stack() {
        let stack = Stack::new("100000000000", "us-east-1")
            .with("Machine", "arn:aws:states:us-east-1:100000000000:stateMachine:gate")
            .with("Logs.Arn", "arn:aws:logs:us-east-1:100000000000:log-group:l")
            .with("Accounts", json!(["1", "2"]));
        let s = role_statements(&template(), "Role", &stack).unwrap();
        assert_eq!(s[0].resources.patterns(), ["arn:aws:dynamodb:us-east-1:100000000000:table/runs"]);
        assert_eq!(s[1].resources.patterns().len(), 2, "AWS::NoValue is dropped");
        assert_eq!(
            (s[1].conditions[0].key.as_str(), s[1].conditions[0].values.clone()),
            ("aws:ResourceAccount", vec!["1".into(), "2".into()])
        );
        let with_org = role_statements(&template(), "Role", &stack.clone().with("Org", "o-abcdefghij")).unwrap();
        assert_eq!(with_org[1].conditions[0].key, "aws:PrincipalOrgID");
    }

    #[test]
    fn what_cannot_be_resolved_is_named() {
        let e = role_statements(&template(), "Role", &Stack::new("1", "us-east-1").with("Accounts", json!(["1"]))).unwrap_err();
        assert_eq!(e, TemplateError::Unresolved("Machine".into()));
        assert_eq!(
            role_statements(&template(), "Nope", &Stack::new("1", "r")).unwrap_err(),
            TemplateError::NoRole("Nope".into())
        );
    }
}
