//! `GET /_sim/tables/{name}[?account=&region=]` (account and region default to the hub's):
//! a table's items as AttributeValue maps, in key order, for tests and debugging.

use super::tables::Address;
use super::value::Item;
use crate::world::World;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableView {
    table_name: String,
    account_id: String,
    region: String,
    /// Every region holding the table (more than one: a global table).
    regions: Vec<String>,
    item_count: usize,
    items: Vec<Item>,
}

/// The table's view, or None when that account and region hold no table of that name.
pub fn table_view(world: &World, name: &str, account: Option<String>, region: Option<String>) -> Option<TableView> {
    let account = account.unwrap_or_else(|| world.hub.account_id.clone());
    let region = region.unwrap_or_else(|| world.hub.region.clone());
    let registry = world.tables.lock();
    let table = registry.table(&Address::new(&account, &region, name)).ok()?;
    Some(TableView {
        table_name: table.name.clone(),
        account_id: account,
        region,
        regions: table.regions.clone(),
        item_count: table.item_count(),
        items: table.items().cloned().collect(),
    })
}
