//! Records read back from storage the module does not control alone: the run ledger's items
//! (a DynamoDB table that people and other tools can write) and the hook cache's artifact
//! record (a file in a directory of this user's).

use super::{verdict, Runner, Verdict};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use drs_module::ledger::{read, LedgerError};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The ledger table the errors name.
const TABLE: &str = "drs-orch-ledger";
/// The resource identity a listing is read for.
const IDENTITY: &str = "fuzz-identity";

/// An item in DynamoDB's JSON (`{"pk": {"S": "..."}, "v": {"N": "1"}}`) read back as the seed's
/// name says: `record.*` as a run record, `listing.*` as a listing of a resource's runs.
pub(super) fn ledger_item() -> Runner {
    Box::new(|seed, m| {
        let seed = seed.strip_prefix("regress-").unwrap_or(seed);
        let Value::Object(map) = &m.value else {
            return Verdict::Rejected("the item: not a map of attributes".into());
        };
        let item = item(map);
        super::super::engine::begin();
        match seed.starts_with("listing.") {
            true => ledger_verdict(read::listing(TABLE, IDENTITY, item)),
            false => ledger_verdict(read::record(TABLE, item)),
        }
    })
}

/// The error as the module shows it, with the item's own keys blanked: they are the input's
/// text (a `pk` of `resource#...` would "name" the `resource` attribute), and only the
/// attribute the error itself names may count as naming one.
fn ledger_verdict<T>(r: Result<T, LedgerError>) -> Verdict {
    let blank = || "<key>".to_owned();
    let table = TABLE.to_owned();
    Verdict::Rejected(match r {
        Ok(_) => return Verdict::Accepted,
        Err(LedgerError::Unreadable { attribute, source, .. }) => {
            LedgerError::Unreadable { table, pk: blank(), sk: blank(), attribute, source }.to_string()
        }
        Err(LedgerError::Version { found, .. }) => LedgerError::Version { table, pk: blank(), sk: blank(), found }.to_string(),
        Err(e) => e.to_string(),
    })
}

fn item(map: &Map<String, Value>) -> HashMap<String, AttributeValue> {
    map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()
}

/// DynamoDB JSON as the SDK would hand it over. The table can hold any type under any name,
/// so every input maps to some attribute: an object of one type key (`S`, `N`, `B`, `BOOL`,
/// `NULL`, `M`, `L`, `SS`, `NS`, `BS`) is that type, with its value taken as that type can
/// hold it; anything else (an object of several keys, a bare string) maps by its JSON kind.
fn attribute(v: &Value) -> AttributeValue {
    let typed = match v {
        Value::Object(m) if m.len() == 1 => m.iter().next(),
        _ => None,
    };
    match typed {
        Some((t, x)) => match t.as_str() {
            "S" => AttributeValue::S(text(x)),
            "N" => AttributeValue::N(text(x)),
            "B" => AttributeValue::B(blob(x)),
            "BOOL" => AttributeValue::Bool(x.as_bool().unwrap_or(false)),
            "NULL" => AttributeValue::Null(true),
            "M" => AttributeValue::M(x.as_object().map(item).unwrap_or_default()),
            "L" => AttributeValue::L(list(x).iter().map(attribute).collect()),
            "SS" => AttributeValue::Ss(list(x).iter().map(text).collect()),
            "NS" => AttributeValue::Ns(list(x).iter().map(text).collect()),
            "BS" => AttributeValue::Bs(list(x).iter().map(blob).collect()),
            _ => by_kind(v),
        },
        None => by_kind(v),
    }
}

fn by_kind(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(attribute).collect()),
        Value::Object(m) => AttributeValue::M(item(m)),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// Base64 as DynamoDB's JSON carries binary; text that is not base64 is taken as its bytes.
fn blob(v: &Value) -> Blob {
    let t = text(v);
    Blob::new(base64::engine::general_purpose::STANDARD.decode(&t).unwrap_or_else(|_| t.into_bytes()))
}

/// The component and engine the `cache-record` seeds' records name.
const COMPONENT: &str = "5f0c6a8b1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccd";
const ENGINE: &str = "0123456789abcdef";

/// An artifact file of the hook cache, `{"head": <its first line>, "body": <the compiled
/// bytes, as text>}`, checked against its record as a load checks it. `{digest}` in the head
/// stands for the body's real SHA-256, so that a mutated body still reaches past the digest.
pub(super) fn cache_record() -> Runner {
    Box::new(|_, m| {
        let part = |k: &str| m.value.get(k).map(text).unwrap_or_default();
        let body = part("body");
        let head = part("head").replace("{digest}", &drs_host::sha256_hex(body.as_bytes()));
        let file = format!("{head}\n{body}").into_bytes();
        verdict(drs_host::verify_artifact_record(&file, COMPONENT, ENGINE))
    })
}
