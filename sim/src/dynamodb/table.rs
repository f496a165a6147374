//! One table: its key schema, settings and items, kept by partition key and then in sort key
//! order (the order Query reads them in). A global table is one `Table` that several regions
//! of an account hold: a write in one region is seen in the others at once.

use super::key::{KeySchema, KeyValue, PrimaryKey};
use super::size::item_size;
use super::value::Item;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// How a table is billed, as CreateTable set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    OnDemand,
    Provisioned { read: i64, write: i64 },
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub account: String,
    pub schema: KeySchema,
    pub id: String,
    pub created: DateTime<Utc>,
    pub billing: Billing,
    pub deletion_protection: bool,
    /// The regions holding this table; more than one makes it a global table.
    pub regions: Vec<String>,
    items: BTreeMap<KeyValue, BTreeMap<Option<KeyValue>, Item>>,
}

impl Table {
    pub fn new(name: &str, account: &str, schema: KeySchema, regions: Vec<String>, created: DateTime<Utc>) -> Table {
        Table {
            name: name.to_owned(),
            account: account.to_owned(),
            id: crate::ids::request_id(),
            schema,
            created,
            billing: Billing::OnDemand,
            deletion_protection: false,
            regions,
            items: BTreeMap::new(),
        }
    }

    pub fn arn(&self, region: &str) -> String {
        format!("arn:aws:dynamodb:{region}:{}:table/{}", self.account, self.name)
    }

    pub fn is_global(&self) -> bool {
        self.regions.len() > 1
    }

    pub fn get(&self, key: &PrimaryKey) -> Option<&Item> {
        self.items.get(&key.partition)?.get(&key.sort)
    }

    /// Stores `item` at `key`; answers the item it replaced.
    pub fn put(&mut self, key: PrimaryKey, item: Item) -> Option<Item> {
        self.items.entry(key.partition).or_default().insert(key.sort, item)
    }

    pub fn delete(&mut self, key: &PrimaryKey) -> Option<Item> {
        let partition = self.items.get_mut(&key.partition)?;
        let old = partition.remove(&key.sort);
        if partition.is_empty() {
            self.items.remove(&key.partition);
        }
        old
    }

    /// A partition's items in sort key order.
    pub fn partition(&self, partition: &KeyValue) -> impl DoubleEndedIterator<Item = (&Option<KeyValue>, &Item)> {
        self.items.get(partition).into_iter().flat_map(|p| p.iter())
    }

    /// Every item, by partition and sort key.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values().flat_map(|p| p.values())
    }

    pub fn item_count(&self) -> usize {
        self.items.values().map(BTreeMap::len).sum()
    }

    pub fn size_bytes(&self) -> usize {
        self.items().map(item_size).sum()
    }
}
