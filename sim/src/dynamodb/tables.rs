//! Every table of every account and region, behind one lock: TransactWriteItems is
//! all-or-nothing across tables, which one lock makes simple, and DynamoDB calls are few and
//! short next to the DRS traffic. A global table is one `Table` reached from each of its
//! regions. TransactWriteItems' client request tokens are kept here for their 10 minutes.

use super::error::DdbError;
use super::table::Table;
use chrono::{DateTime, Duration, Utc};
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;

/// Where a table is reached from: an account, a region and the table's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl Address {
    pub fn new(account: &str, region: &str, name: &str) -> Address {
        Address { account: account.to_owned(), region: region.to_owned(), name: name.to_owned() }
    }
}

/// An opaque handle on a table, stable while it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(u64);

/// How long DynamoDB remembers a TransactWriteItems ClientRequestToken.
const TOKEN_WINDOW_MINUTES: i64 = 10;

/// A transaction applied under a client request token: what it asked, and when.
struct TokenUse {
    request: serde_json::Value,
    at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Registry {
    tables: HashMap<TableId, Table>,
    addresses: HashMap<Address, TableId>,
    next_id: u64,
    tokens: HashMap<(String, String), TokenUse>,
}

#[derive(Default)]
pub struct Tables {
    registry: Mutex<Registry>,
}

impl Tables {
    pub fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock()
    }

    /// Adds a table that exists from the start (a fleet's).
    pub fn add(&self, table: Table) -> Result<(), DdbError> {
        self.lock().create(table).map(|_| ())
    }
}

impl Registry {
    pub fn id(&self, address: &Address) -> Result<TableId, DdbError> {
        self.addresses.get(address).copied().ok_or_else(|| DdbError::table_not_found(&address.name))
    }

    pub fn table(&self, address: &Address) -> Result<&Table, DdbError> {
        let id = self.id(address)?;
        self.tables.get(&id).ok_or_else(|| DdbError::table_not_found(&address.name))
    }

    pub fn table_mut(&mut self, address: &Address) -> Result<&mut Table, DdbError> {
        let id = self.id(address)?;
        self.by_id_mut(id).ok_or_else(|| DdbError::table_not_found(&address.name))
    }

    pub fn by_id(&self, id: TableId) -> Option<&Table> {
        self.tables.get(&id)
    }

    pub fn by_id_mut(&mut self, id: TableId) -> Option<&mut Table> {
        self.tables.get_mut(&id)
    }

    /// Adds `table` in each of its regions; refused when any of them has one of that name.
    pub fn create(&mut self, table: Table) -> Result<&Table, DdbError> {
        let addresses: Vec<Address> = table.regions.iter().map(|r| Address::new(&table.account, r, &table.name)).collect();
        if addresses.iter().any(|a| self.addresses.contains_key(a)) {
            return Err(DdbError::ResourceInUse(format!("Table already exists: {}", table.name)));
        }
        let id = TableId(self.next_id);
        self.next_id += 1;
        for address in addresses {
            self.addresses.insert(address, id);
        }
        Ok(self.tables.entry(id).or_insert(table))
    }

    /// Removes the table from `address`'s region (the other replicas of a global table stay);
    /// answers the table as it was.
    pub fn delete(&mut self, address: &Address) -> Result<Table, DdbError> {
        let id = self.id(address)?;
        let table = self.tables.get_mut(&id).ok_or_else(|| DdbError::table_not_found(&address.name))?;
        if table.deletion_protection {
            return Err(DdbError::Validation(format!(
                "1 validation error detected: Table '{}' can't be deleted while DeletionProtectionEnabled is set to True",
                address.name
            )));
        }
        let before = table.clone();
        table.regions.retain(|r| *r != address.region);
        self.addresses.remove(address);
        if !self.addresses.values().any(|i| *i == id) {
            self.tables.remove(&id);
        }
        Ok(before)
    }

    /// Whether a transaction under `token` was already applied: `Ok(true)` for the same
    /// request within the window, an error for another request under the same token.
    pub fn seen_token(
        &mut self,
        account: &str,
        token: &str,
        request: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool, DdbError> {
        self.tokens.retain(|_, u| now - u.at < Duration::minutes(TOKEN_WINDOW_MINUTES));
        match self.tokens.get(&(account.to_owned(), token.to_owned())) {
            Some(u) if u.request == *request => Ok(true),
            Some(_) => Err(DdbError::IdempotentParameterMismatch),
            None => Ok(false),
        }
    }

    pub fn remember_token(&mut self, account: &str, token: &str, request: serde_json::Value, now: DateTime<Utc>) {
        self.tokens.insert((account.to_owned(), token.to_owned()), TokenUse { request, at: now });
    }
}
