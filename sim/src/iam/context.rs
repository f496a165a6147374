//! What one authorization is asked about: an action on a resource, with the request context
//! its conditions read (`aws:ResourceTag/*` of the resource, `aws:RequestTag/*` and
//! `aws:TagKeys` of the request, `ec2:CreateAction`, `aws:ResourceAccount`, ...). One call
//! may need several (TerminateInstances of two instances needs two; a DynamoDB transaction
//! one per item). Key names are case-insensitive, as in IAM; values are not.

use std::collections::BTreeMap;

/// The request context: each key (lower-cased) with its values; a key without values is absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
}

impl Context {
    /// The values of a key; empty when the request lacks it.
    pub fn get(&self, key: &str) -> &[String] {
        self.keys.get(&key.to_lowercase()).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn set(&mut self, key: &str, values: Vec<String>) {
        if values.is_empty() {
            self.keys.remove(&key.to_lowercase());
        } else {
            self.keys.insert(key.to_lowercase(), values);
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Context {
        self.keys.entry(key.to_lowercase()).or_default().push(value.to_owned());
        self
    }

    pub fn with_all(mut self, key: &str, values: &[String]) -> Context {
        for v in values {
            self = self.with(key, v);
        }
        self
    }

    /// `aws:ResourceTag/<key>` for each tag the resource carries. Two tags whose keys differ
    /// in case alone are one key to IAM: both values are its values.
    pub fn resource_tags<'a>(mut self, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Context {
        for (k, v) in tags {
            self = self.with(&format!("aws:ResourceTag/{k}"), v);
        }
        self
    }

    /// `aws:RequestTag/<key>` for each tag the request sets, and `aws:TagKeys` listing their keys.
    pub fn request_tags<'a>(mut self, tags: impl IntoIterator<Item = (&'a String, &'a String)>) -> Context {
        for (k, v) in tags {
            self = self.with(&format!("aws:RequestTag/{k}"), v).with("aws:TagKeys", k);
        }
        self
    }

    /// The keys present, for messages and tests.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// One action on one resource (`*` for an action without resource-level permissions).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRequest {
    pub action: String,
    pub resource: String,
    pub context: Context,
}

impl AuthRequest {
    pub fn new(action: impl Into<String>, resource: impl Into<String>, context: Context) -> AuthRequest {
        AuthRequest { action: action.into(), resource: resource.into(), context }
    }
}
