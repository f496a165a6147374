//! CreateTable, DescribeTable and DeleteTable in the caller's account and region. Creation
//! and deletion are instant: CreateTable answers CREATING, as DynamoDB's first answer does,
//! and the table is ACTIVE (and usable) from then on; DeleteTable answers DELETING and the
//! table is gone. Secondary indexes are refused: Query serves the table's own key only.

use super::common::{address, to_json};
use super::describe::{describe, TableDescription};
use crate::ctx::Ctx;
use crate::dynamodb::error::DdbError;
use crate::dynamodb::input::{
    required, AttributeDefinition, CreateTableInput, KeySchemaElement, ProvisionedThroughput, TableInput,
};
use crate::dynamodb::key::{KeyAttribute, KeySchema, ScalarType};
use crate::dynamodb::table::{Billing, Table};
use serde::Serialize;

/// DescribeTable's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TableOutput {
    table: TableDescription,
}

/// CreateTable's and DeleteTable's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TableDescriptionOutput {
    table_description: TableDescription,
}

fn invalid(reason: &str) -> DdbError {
    DdbError::Validation(format!("One or more parameter values were invalid: {reason}"))
}

fn enum_error(value: &str, member: &str, set: &str) -> DdbError {
    DdbError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{set}]"
    ))
}

pub fn create_table(ctx: &Ctx, input: CreateTableInput) -> Result<serde_json::Value, DdbError> {
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let indexes =
        [("LocalSecondaryIndexes", &input.local_secondary_indexes), ("GlobalSecondaryIndexes", &input.global_secondary_indexes)];
    if let Some((member, _)) = indexes.iter().find(|(_, given)| given.is_some()) {
        return Err(DdbError::Validation(format!("Secondary indexes are not served by this simulator: {member}")));
    }
    let schema =
        key_schema(required(input.key_schema, "keySchema")?, required(input.attribute_definitions, "attributeDefinitions")?)?;
    let billing = billing(input.billing_mode.as_deref(), input.provisioned_throughput)?;
    let mut table = Table::new(&address.name, &address.account, schema, vec![address.region.clone()], ctx.now());
    table.billing = billing;
    table.deletion_protection = input.deletion_protection_enabled.unwrap_or(false);
    let mut registry = ctx.world.tables.lock();
    let table = registry.create(table)?;
    Ok(to_json(&TableDescriptionOutput { table_description: describe(table, &address.region, "CREATING") }))
}

/// One HASH element, then at most one RANGE element, each defined exactly once.
fn key_schema(elements: Vec<KeySchemaElement>, definitions: Vec<AttributeDefinition>) -> Result<KeySchema, DdbError> {
    if elements.is_empty() || elements.len() > 2 {
        let constraint = if elements.is_empty() { "greater than or equal to 1" } else { "less than or equal to 2" };
        return Err(DdbError::Validation(format!(
            "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length {constraint}"
        )));
    }
    for (i, e) in elements.iter().enumerate() {
        if !matches!(e.key_type.as_str(), "HASH" | "RANGE") {
            return Err(enum_error(&e.key_type, &format!("keySchema.{}.member.keyType", i + 1), "HASH, RANGE"));
        }
    }
    if elements[0].key_type != "HASH" {
        return Err(DdbError::Validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type".into()));
    }
    if elements.get(1).is_some_and(|e| e.key_type != "RANGE") {
        return Err(DdbError::Validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type".into()));
    }
    if elements.get(1).is_some_and(|e| e.attribute_name == elements[0].attribute_name) {
        return Err(DdbError::Validation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name".into(),
        ));
    }
    let mut types = vec![];
    for (i, d) in definitions.iter().enumerate() {
        let kind = match d.attribute_type.as_str() {
            "S" => ScalarType::S,
            "N" => ScalarType::N,
            "B" => ScalarType::B,
            other => return Err(enum_error(other, &format!("attributeDefinitions.{}.member.attributeType", i + 1), "B, N, S")),
        };
        types.push((d.attribute_name.clone(), kind));
    }
    let key_names: Vec<&str> = elements.iter().map(|e| e.attribute_name.as_str()).collect();
    let defined: Vec<&str> = types.iter().map(|(n, _)| n.as_str()).collect();
    if key_names.iter().any(|k| !defined.contains(k)) {
        return Err(invalid(&format!(
            "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            key_names.join(", "),
            defined.join(", ")
        )));
    }
    if defined.len() != key_names.len() {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let attribute = |name: &str| {
        let kind = types.iter().find(|(n, _)| n == name).map_or(ScalarType::S, |(_, k)| *k);
        KeyAttribute { name: name.to_owned(), kind }
    };
    Ok(KeySchema { partition: attribute(key_names[0]), sort: key_names.get(1).map(|n| attribute(n)) })
}

fn billing(mode: Option<&str>, throughput: Option<ProvisionedThroughput>) -> Result<Billing, DdbError> {
    match (mode.unwrap_or("PROVISIONED"), throughput) {
        ("PAY_PER_REQUEST", None) => Ok(Billing::OnDemand),
        ("PAY_PER_REQUEST", Some(_)) => {
            Err(invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"))
        }
        ("PROVISIONED", Some(ProvisionedThroughput { read_capacity_units: Some(read), write_capacity_units: Some(write) }))
            if read >= 1 && write >= 1 =>
        {
            Ok(Billing::Provisioned { read, write })
        }
        ("PROVISIONED", _) => {
            Err(invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"))
        }
        (other, _) => Err(enum_error(other, "billingMode", "PROVISIONED, PAY_PER_REQUEST")),
    }
}

pub fn describe_table(ctx: &Ctx, input: TableInput) -> Result<serde_json::Value, DdbError> {
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let registry = ctx.world.tables.lock();
    let table = registry.table(&address)?;
    Ok(to_json(&TableOutput { table: describe(table, &address.region, "ACTIVE") }))
}

pub fn delete_table(ctx: &Ctx, input: TableInput) -> Result<serde_json::Value, DdbError> {
    let address = address(ctx, input.table_name.as_deref(), "tableName")?;
    let mut registry = ctx.world.tables.lock();
    let table = registry.delete(&address)?;
    Ok(to_json(&TableDescriptionOutput { table_description: describe(&table, &address.region, "DELETING") }))
}
