//! The request shapes of the operations served, as botocore's model names their members.
//! Required members are `Option`s so that a missing one is refused in DynamoDB's words
//! (`Value null at 'tableName' ...`); legacy members (Expected, AttributeUpdates,
//! AttributesToGet, KeyConditions, QueryFilter, ConditionalOperator) are read only to refuse
//! them by name.

use super::error::DdbError;
use super::value::WireItem;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::collections::BTreeMap;

pub type Names = BTreeMap<String, String>;

/// The legacy members a request carried, by name (read as `IgnoredAny`: present or not, and
/// never built: a flattened struct made serde buffer every unknown member, a megabyte of
/// nesting read into a tree, only to be dropped).
#[derive(Debug, Clone, Copy)]
pub struct Legacy([(&'static str, bool); 6]);

impl Legacy {
    /// Refuses the pre-expression parameters, which the simulator does not serve.
    pub fn refuse(&self) -> Result<(), DdbError> {
        match self.0.iter().find(|(_, present)| *present) {
            Some((name, _)) => Err(DdbError::Validation(format!(
                "The legacy parameter {name} is not served by this simulator; use the expression parameters"
            ))),
            None => Ok(()),
        }
    }
}

/// A request shape with the legacy members every operation may carry that the simulator
/// accepts and does not model (`legacy()` says which it carried).
macro_rules! with_legacy {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            pub expected: Option<IgnoredAny>,
            pub attribute_updates: Option<IgnoredAny>,
            pub attributes_to_get: Option<IgnoredAny>,
            pub key_conditions: Option<IgnoredAny>,
            pub query_filter: Option<IgnoredAny>,
            pub conditional_operator: Option<IgnoredAny>,
        }

        impl $name {
            pub fn legacy(&self) -> Legacy {
                Legacy([
                    ("Expected", self.expected.is_some()),
                    ("AttributeUpdates", self.attribute_updates.is_some()),
                    ("AttributesToGet", self.attributes_to_get.is_some()),
                    ("KeyConditions", self.key_conditions.is_some()),
                    ("QueryFilter", self.query_filter.is_some()),
                    ("ConditionalOperator", self.conditional_operator.is_some()),
                ])
            }
        }
    };
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughput {
    pub read_capacity_units: Option<i64>,
    pub write_capacity_units: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableInput {
    pub table_name: Option<String>,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub key_schema: Option<Vec<KeySchemaElement>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub local_secondary_indexes: Option<serde_json::Value>,
    pub global_secondary_indexes: Option<serde_json::Value>,
    pub deletion_protection_enabled: Option<bool>,
}

/// DescribeTable and DeleteTable.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableInput {
    pub table_name: Option<String>,
}

with_legacy! {
/// PutItem, and a TransactWriteItems `Put`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    pub table_name: Option<String>,
    pub item: Option<WireItem>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub expression_attribute_values: Option<WireItem>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
}
}

with_legacy! {
/// UpdateItem, and a TransactWriteItems `Update`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateInput {
    pub table_name: Option<String>,
    pub key: Option<WireItem>,
    pub update_expression: Option<String>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub expression_attribute_values: Option<WireItem>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
}
}

with_legacy! {
/// DeleteItem, and a TransactWriteItems `Delete` or `ConditionCheck`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteInput {
    pub table_name: Option<String>,
    pub key: Option<WireItem>,
    pub condition_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub expression_attribute_values: Option<WireItem>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
}
}

with_legacy! {
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetInput {
    pub table_name: Option<String>,
    pub key: Option<WireItem>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub consistent_read: Option<bool>,
}
}

with_legacy! {
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    pub table_name: Option<String>,
    pub index_name: Option<String>,
    pub select: Option<String>,
    pub limit: Option<i64>,
    pub consistent_read: Option<bool>,
    pub scan_index_forward: Option<bool>,
    pub exclusive_start_key: Option<WireItem>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub expression_attribute_values: Option<WireItem>,
}
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    pub condition_check: Option<DeleteInput>,
    pub put: Option<PutInput>,
    pub delete: Option<DeleteInput>,
    pub update: Option<UpdateInput>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItemsInput {
    pub transact_items: Option<Vec<TransactWriteItem>>,
    pub client_request_token: Option<String>,
}

with_legacy! {
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributes {
    pub keys: Option<Vec<WireItem>>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<Names>,
    pub consistent_read: Option<bool>,
}
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemInput {
    pub request_items: Option<BTreeMap<String, KeysAndAttributes>>,
}

/// A required member, or DynamoDB's refusal naming it (`tableName`, `key`, ...).
pub fn required<T>(value: Option<T>, member: &str) -> Result<T, DdbError> {
    value.ok_or_else(|| DdbError::missing(member))
}

#[cfg(test)]
mod tests {
    use super::{PutInput, QueryInput};

    #[test]
    fn a_legacy_member_is_refused_by_name_and_an_unknown_one_is_read_past() {
        let put: PutInput = serde_json::from_str(r#"{"TableName": "t", "Expected": {"a": {"Exists": false}}}"#).unwrap();
        let refused = put.legacy().refuse().unwrap_err().to_string();
        assert!(refused.contains("Expected"), "{refused}");
        let query: QueryInput =
            serde_json::from_str(r#"{"TableName": "t", "KeyConditions": null, "Other": [[[{"x": 1}]]]}"#).unwrap();
        assert!(query.legacy().refuse().is_ok(), "null is absent, an unknown member is not a legacy one");
        let query: QueryInput = serde_json::from_str(r#"{"TableName": "t", "QueryFilter": {}}"#).unwrap();
        assert!(query.legacy().refuse().unwrap_err().to_string().contains("QueryFilter"));
    }
}
