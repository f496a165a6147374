//! Static private addresses claimed by resources, in the ledger's table: one item per address
//! (`address#<account>/<region>/<subnet>/<ip>`), written with a condition so that two
//! resources instantiated at once, in one layer or in two manifests, cannot both hold it; and
//! one item per resource listing what it holds (`claims#<resource>`), so that an address it
//! no longer asks is let go.

use super::store::{Ledger, LedgerError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The sort key of a claim and of a resource's list.
const CLAIM_SK: &str = "claim";
const LIST_SK: &str = "addresses";

/// An address as a claim names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddressKey {
    pub account: String,
    pub region: String,
    pub subnet: String,
    pub address: String,
}

impl AddressKey {
    fn pk(&self) -> String {
        format!("address#{}/{}/{}/{}", self.account, self.region, self.subnet, self.address)
    }

    fn parse(pk: &str) -> Option<AddressKey> {
        let mut parts = pk.strip_prefix("address#")?.splitn(4, '/');
        let mut next = || parts.next().map(str::to_owned);
        Some(AddressKey { account: next()?, region: next()?, subnet: next()?, address: next()? })
    }
}

/// Who holds an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub resource: String,
    /// The server it is given to (host name, or source server id) and the field giving it.
    pub server: String,
    pub field: String,
    pub at: Option<DateTime<Utc>>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

impl Ledger {
    /// Claims `key` for `holder.resource`: Ok(None) when it is the resource's now (new, or
    /// already its own), Ok(Some(other)) when another resource holds it.
    pub async fn claim_address(
        &self,
        key: &AddressKey,
        holder: &Holder,
        at: DateTime<Utc>,
    ) -> Result<Option<Holder>, LedgerError> {
        let put = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key.pk()))
            .item("sk", s(CLAIM_SK))
            .item("resource", s(&holder.resource))
            .item("server", s(&holder.server))
            .item("field", s(&holder.field))
            .item("at", s(crate::time::secs(&at)))
            .condition_expression("attribute_not_exists(pk) OR #r = :me")
            .expression_attribute_names("#r", "resource")
            .expression_attribute_values(":me", s(&holder.resource))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(x) if x.is_conditional_check_failed_exception() => {
                    let carried = match x {
                        PutItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                        _ => None,
                    };
                    let item = match carried {
                        Some(item) => item,
                        None => self.claim_item(key).await?.unwrap_or_default(),
                    };
                    Ok(Some(Holder {
                        resource: text(&item, "resource"),
                        server: text(&item, "server"),
                        field: text(&item, "field"),
                        at: text(&item, "at").parse().ok(),
                    }))
                }
                _ => Err(self.call("dynamodb:PutItem", &e)),
            },
        }
    }

    async fn claim_item(&self, key: &AddressKey) -> Result<Option<HashMap<String, AttributeValue>>, LedgerError> {
        let got = self
            .db
            .get_item()
            .table_name(&self.table)
            .key("pk", s(key.pk()))
            .key("sk", s(CLAIM_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.call("dynamodb:GetItem", &e))?;
        Ok(got.item)
    }

    /// Lets `key` go, if `resource` still holds it.
    pub async fn release_address(&self, key: &AddressKey, resource: &str) -> Result<(), LedgerError> {
        let deleted = self
            .db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(key.pk()))
            .key("sk", s(CLAIM_SK))
            .condition_expression("#r = :me")
            .expression_attribute_names("#r", "resource")
            .expression_attribute_values(":me", s(resource))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|x| x.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(self.call("dynamodb:DeleteItem", &e)),
        }
    }

    /// The addresses `resource` listed as its own when it was last instantiated.
    pub async fn claims_of(&self, resource: &str) -> Result<Vec<AddressKey>, LedgerError> {
        let got = self
            .db
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("claims#{resource}")))
            .key("sk", s(LIST_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.call("dynamodb:GetItem", &e))?;
        let keys = got.item.as_ref().and_then(|i| i.get("keys")).and_then(|v| v.as_l().ok()).cloned().unwrap_or_default();
        Ok(keys.iter().filter_map(|k| k.as_s().ok()).filter_map(|k| AddressKey::parse(k)).collect())
    }

    /// Records the addresses `resource` holds now (none: its list goes).
    pub async fn set_claims(&self, resource: &str, keys: &[AddressKey]) -> Result<(), LedgerError> {
        let pk = s(format!("claims#{resource}"));
        if keys.is_empty() {
            self.db
                .delete_item()
                .table_name(&self.table)
                .key("pk", pk)
                .key("sk", s(LIST_SK))
                .send()
                .await
                .map_err(|e| self.call("dynamodb:DeleteItem", &e))?;
            return Ok(());
        }
        let list = AttributeValue::L(keys.iter().map(|k| s(k.pk())).collect());
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", pk)
            .item("sk", s(LIST_SK))
            .item("resource", s(resource))
            .item("keys", list)
            .send()
            .await
            .map_err(|e| self.call("dynamodb:PutItem", &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::AddressKey;

    #[test]
    fn an_address_key_reads_back_from_its_item_key() {
        let k = AddressKey {
            account: "200000000001".into(),
            region: "us-east-1".into(),
            subnet: "subnet-0d15ec0de0000e01".into(),
            address: "10.10.0.10".into(),
        };
        assert_eq!(AddressKey::parse(&k.pk()), Some(k));
        assert_eq!(AddressKey::parse("resource#x"), None);
        assert_eq!(AddressKey::parse("address#a/b"), None);
    }
}
