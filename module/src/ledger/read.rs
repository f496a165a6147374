//! Items read back from the ledger table as typed values. A record's version is read first,
//! so that a newer layout is named rather than misread; then serde_dynamo maps the item,
//! through serde_path_to_error so that a hand-edited or hostile item is refused naming the
//! attribute at fault (`gates.2.at: premature end of input`), not with serde's bare
//! "invalid type: ..., expected a string".

use super::record::{resource_pk, CleanupState, RunListing, RunRecord, RECORD_VERSION, RUN_PREFIX};
use super::store::LedgerError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// A run's record, from its item.
pub fn record(table: &str, item: Item) -> Result<RunRecord, LedgerError> {
    let (pk, sk) = (text(&item, "pk"), text(&item, "sk"));
    check_version(table, &item, &pk, &sk)?;
    with_cleanup(table, item, pk, sk)
}

/// A run's listing, from an item of a Query of `identity`'s runs (projected to
/// `RunListing::ATTRIBUTES`, so without its keys).
pub fn listing(table: &str, identity: &str, item: Item) -> Result<RunListing, LedgerError> {
    let sk = match item.get("execution") {
        Some(AttributeValue::S(e)) => format!("{RUN_PREFIX}{e}"),
        _ => String::new(),
    };
    let pk = resource_pk(identity);
    check_version(table, &item, &pk, &sk)?;
    with_cleanup(table, item, pk, sk)
}

/// A record or listing, which hold the cleanup's attributes flattened (`CleanupState`).
/// serde buffers a flattened struct's attributes and reads them apart from the path
/// serde_path_to_error follows: a bad `cleanupRemaining` would be refused as the item's fault
/// (`.`). They are read on their own first (a copy of those attributes alone, not of an item
/// of up to 400 KB), so that such an error names its attribute.
fn with_cleanup<T: DeserializeOwned>(table: &str, item: Item, pk: String, sk: String) -> Result<T, LedgerError> {
    let cleanup: Item = CleanupState::ATTRIBUTES.iter().filter_map(|k| Some(((*k).to_owned(), shallow(item.get(*k)?)))).collect();
    typed::<CleanupState>(table, cleanup, pk.clone(), sk.clone())?;
    typed(table, item, pk, sk)
}

/// A cleanup attribute as far as `CleanupState` reads it (scalars, and lists of strings): a
/// list's or map's own members, but any container inside them emptied. Its type is all a
/// refusal names, and a megabyte nested in `cleanupJobs` was copied twice only to be refused.
fn shallow(v: &AttributeValue) -> AttributeValue {
    let emptied = |x: &AttributeValue| match x {
        AttributeValue::L(_) => AttributeValue::L(vec![]),
        AttributeValue::M(_) => AttributeValue::M(Default::default()),
        other => other.clone(),
    };
    match v {
        AttributeValue::L(items) => AttributeValue::L(items.iter().map(emptied).collect()),
        AttributeValue::M(members) => AttributeValue::M(members.iter().map(|(k, x)| (k.clone(), emptied(x))).collect()),
        other => other.clone(),
    }
}

/// Any item as `T`, the attribute at fault named when it is not one.
pub fn typed<T: DeserializeOwned>(table: &str, item: Item, pk: String, sk: String) -> Result<T, LedgerError> {
    let item: serde_dynamo::Item = item.into();
    let de = serde_dynamo::Deserializer::from_attribute_value(serde_dynamo::AttributeValue::M(item.into()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let attribute = e.path().to_string();
        LedgerError::Unreadable { table: table.to_owned(), pk, sk, attribute, source: Box::new(e.into_inner()) }
    })
}

/// A record of another layout (or none: a missing or unreadable `v`) is refused by its version.
fn check_version(table: &str, item: &Item, pk: &str, sk: &str) -> Result<(), LedgerError> {
    let found = match item.get("v") {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    };
    match found == RECORD_VERSION {
        true => Ok(()),
        false => Err(LedgerError::Version { table: table.to_owned(), pk: pk.to_owned(), sk: sk.to_owned(), found }),
    }
}

fn text(item: &Item, key: &str) -> String {
    match item.get(key) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::record::{GateAsked, RunKey};
    use crate::resource::Mode;
    use chrono::{TimeZone, Utc};

    fn item() -> Item {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("a valid time");
        let key = RunKey::new("abc", "drill-1");
        let mut record = RunRecord {
            pk: key.pk(),
            sk: key.sk(),
            version: RECORD_VERSION,
            resource: "Shop".into(),
            identity: "abc".into(),
            execution: "drill-1".into(),
            params_digest: "00".into(),
            definition_digest: None,
            mode: Mode::Drill,
            tenant: None,
            hooks: vec![],
            started: at,
            jobs_from: at,
            deadline: at,
            servers: 2,
            waves: 1,
            partitions: vec![],
            gates: Default::default(),
            given_up: Default::default(),
            crossings: Default::default(),
            answers: Default::default(),
            completed: Default::default(),
            holds: Default::default(),
            busy: Default::default(),
            down: Default::default(),
            lost: Default::default(),
            repointed: Default::default(),
            end: None,
            cleanup: Default::default(),
        };
        record.gates.insert("2".into(), GateAsked { reason: "why".into(), at });
        serde_dynamo::to_item(&record).expect("a record maps to an item")
    }

    fn refused(item: Item) -> String {
        match record("t", item) {
            Err(LedgerError::Unreadable { attribute, .. }) => attribute,
            other => panic!("not refused as unreadable: {other:?}"),
        }
    }

    #[test]
    fn a_record_reads_back_and_a_bad_attribute_is_named() {
        assert_eq!(record("t", item()).expect("its own item reads back").execution, "drill-1");
        let mut bad = item();
        bad.insert("servers".into(), AttributeValue::S("two".into()));
        assert_eq!(refused(bad), "servers");
        let mut bad = item();
        let gate = HashMap::from([
            ("reason".to_owned(), AttributeValue::S("x".into())),
            ("at".to_owned(), AttributeValue::N("1".into())),
        ]);
        bad.insert("gates".into(), AttributeValue::M(HashMap::from([("2".to_owned(), AttributeValue::M(gate))])));
        assert_eq!(refused(bad), "gates.2.at");
    }

    /// The cleanup's attributes are flattened into the record: serde reads them apart from the
    /// path it tracks, and they used to be refused as the item's fault (`.`).
    #[test]
    fn a_bad_cleanup_attribute_is_named_too() {
        let mut bad = item();
        bad.insert("cleanupRemaining".into(), AttributeValue::S("one".into()));
        assert_eq!(refused(bad.clone()), "cleanupRemaining");
        bad.insert("execution".into(), AttributeValue::S("drill-1".into()));
        let listing = listing("t", "abc", bad).expect_err("a listing reads the same attribute");
        assert!(listing.to_string().contains("cleanupRemaining: "), "{listing}");
    }

    /// A cleanup list holding containers is refused for its element's type, the attribute
    /// named, whatever those containers hold (they are not copied to be refused).
    #[test]
    fn a_cleanup_list_of_containers_is_named_by_its_element() {
        let deep = (0..200).fold(AttributeValue::S("x".into()), |inner, _| AttributeValue::L(vec![inner]));
        for held in [deep, AttributeValue::M([("k".to_owned(), AttributeValue::S("v".into()))].into())] {
            let mut bad = item();
            bad.insert("cleanupJobs".into(), AttributeValue::L(vec![AttributeValue::S("j-1".into()), held]));
            assert_eq!(refused(bad), "cleanupJobs[1]");
        }
        let mut good = item();
        good.insert("cleanupJobs".into(), AttributeValue::L(vec![AttributeValue::S("j-1".into())]));
        let record = record("t", good).unwrap();
        assert_eq!(record.cleanup.cleanup_jobs, ["j-1"], "a well-formed list is read whole");
    }

    /// The cleanup's attributes as `with_cleanup` copies them are all there are.
    #[test]
    fn the_cleanup_attributes_are_listed_whole() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("a valid time");
        let full = CleanupState {
            cleanup_started: Some(at),
            cleanup_checked: Some(at),
            cleanup_remaining: 1,
            cleanup_jobs: vec!["j".into()],
            cleanup_open: vec!["o".into()],
            cleanup_done: Some(at),
        };
        let item: Item = serde_dynamo::to_item(&full).expect("a cleanup state maps to an item");
        let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
        keys.sort();
        let mut listed = CleanupState::ATTRIBUTES.to_vec();
        listed.sort();
        assert_eq!(keys, listed);
    }

    #[test]
    fn another_version_is_refused_by_its_version() {
        let mut newer = item();
        newer.insert("v".into(), AttributeValue::N("2".into()));
        assert!(matches!(record("t", newer), Err(LedgerError::Version { found: 2, .. })));
    }
}
