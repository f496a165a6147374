//! TableDescription as CreateTable, DescribeTable and DeleteTable answer it. A global table
//! adds `GlobalTableVersion` 2019.11.21 and `Replicas`: the other regions holding it, each
//! ACTIVE (DescribeTable in a region lists the replicas elsewhere, not itself).

use crate::dynamodb::table::{Billing, Table};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeySchemaElement {
    attribute_name: String,
    key_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Throughput {
    number_of_decreases_today: i64,
    read_capacity_units: i64,
    write_capacity_units: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BillingModeSummary {
    billing_mode: &'static str,
    last_update_to_pay_per_request_date_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Replica {
    region_name: String,
    replica_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableDescription {
    attribute_definitions: Vec<AttributeDefinition>,
    table_name: String,
    key_schema: Vec<KeySchemaElement>,
    table_status: &'static str,
    creation_date_time: f64,
    provisioned_throughput: Throughput,
    table_size_bytes: usize,
    item_count: usize,
    table_arn: String,
    table_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_mode_summary: Option<BillingModeSummary>,
    deletion_protection_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    global_table_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicas: Option<Vec<Replica>>,
}

/// The version of global tables whose replicas DescribeTable lists.
const GLOBAL_TABLE_VERSION: &str = "2019.11.21";

/// `table` as seen from `region`, in `status` (CREATING, ACTIVE or DELETING).
pub fn describe(table: &Table, region: &str, status: &'static str) -> TableDescription {
    let created = table.created.timestamp_millis() as f64 / 1000.0;
    let (read, write) = match table.billing {
        Billing::OnDemand => (0, 0),
        Billing::Provisioned { read, write } => (read, write),
    };
    let replicas: Vec<Replica> = table
        .regions
        .iter()
        .filter(|r| *r != region)
        .map(|r| Replica { region_name: r.clone(), replica_status: "ACTIVE" })
        .collect();
    TableDescription {
        attribute_definitions: table
            .schema
            .attributes()
            .map(|a| AttributeDefinition { attribute_name: a.name.clone(), attribute_type: a.kind.descriptor() })
            .collect(),
        table_name: table.name.clone(),
        key_schema: table
            .schema
            .attributes()
            .enumerate()
            .map(|(i, a)| KeySchemaElement { attribute_name: a.name.clone(), key_type: if i == 0 { "HASH" } else { "RANGE" } })
            .collect(),
        table_status: status,
        creation_date_time: created,
        provisioned_throughput: Throughput {
            number_of_decreases_today: 0,
            read_capacity_units: read,
            write_capacity_units: write,
        },
        table_size_bytes: table.size_bytes(),
        item_count: table.item_count(),
        table_arn: table.arn(region),
        table_id: table.id.clone(),
        billing_mode_summary: (table.billing == Billing::OnDemand)
            .then_some(BillingModeSummary { billing_mode: "PAY_PER_REQUEST", last_update_to_pay_per_request_date_time: created }),
        deletion_protection_enabled: table.deletion_protection,
        global_table_version: table.is_global().then_some(GLOBAL_TABLE_VERSION),
        replicas: table.is_global().then_some(replicas),
    }
}
