//! The IAM actions a DynamoDB call is authorized as, and the table each one is on. Most
//! operations are their own action (`dynamodb:PutItem` on the table named). IAM has no
//! `dynamodb:TransactWriteItems`: AWS authorizes each action of a transaction as the
//! single-item operation it stands for (`Put` as `dynamodb:PutItem`, `Update` as
//! `dynamodb:UpdateItem`, `Delete` as `dynamodb:DeleteItem`, `ConditionCheck` as
//! `dynamodb:ConditionCheckItem`) on that action's table. The request is read only as far as
//! naming those: a body the operation refuses is refused by the operation afterwards.

use crate::protocol::ApiError;
use serde_json::Value;

/// One action a call needs, and the table ARN it is needed on when the request names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub action: String,
    pub resource: Option<String>,
}

/// A transaction's members and the action each stands for.
const TRANSACT_MEMBERS: [(&str, &str); 4] = [
    ("Put", "dynamodb:PutItem"),
    ("Update", "dynamodb:UpdateItem"),
    ("Delete", "dynamodb:DeleteItem"),
    ("ConditionCheck", "dynamodb:ConditionCheckItem"),
];

/// What `operation` with this `body` must be permitted, in request order (a transaction's
/// actions as they come, repeats included; callers deduplicate). A TransactWriteItems whose
/// body names no action needs none: the operation refuses it.
pub fn needed(operation: &str, body: &[u8], account: &str, region: &str) -> Vec<Needed> {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let table = |v: &Value| table_arn(v.get("TableName"), account, region);
    match operation {
        "TransactWriteItems" => body
            .get("TransactItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|entry| {
                TRANSACT_MEMBERS.iter().filter_map(move |(member, action)| {
                    let m = entry.get(*member)?;
                    Some(Needed { action: (*action).to_owned(), resource: table(m) })
                })
            })
            .collect(),
        // One request per table the batch reads (a table the role may not read refuses it all).
        "BatchGetItem" => {
            let tables: Vec<String> =
                body.get("RequestItems").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            if tables.is_empty() {
                return vec![Needed { action: "dynamodb:BatchGetItem".into(), resource: None }];
            }
            tables
                .into_iter()
                .map(|t| Needed {
                    action: "dynamodb:BatchGetItem".into(),
                    resource: table_arn(Some(&Value::String(t)), account, region),
                })
                .collect()
        }
        other => vec![Needed { action: format!("dynamodb:{other}"), resource: table(&body) }],
    }
}

/// DynamoDB's refusal of an action the caller's role does not allow: status 400 (DynamoDB
/// answers every client error 400), `com.amazon.coral.service#AccessDeniedException`, and
/// IAM's message naming the action and the table it was asked on.
pub fn access_denied(message: String) -> ApiError {
    let mut error = ApiError::new(400, "AccessDeniedException", message.clone()).with("Message", message);
    error.type_namespace = Some("com.amazon.coral.service");
    error
}

/// The ARN of the table a request names (by name or ARN); None when it names none.
fn table_arn(name: Option<&Value>, account: &str, region: &str) -> Option<String> {
    let name = name?.as_str().filter(|n| !n.is_empty())?;
    Some(if name.starts_with("arn:") { name.to_owned() } else { format!("arn:aws:dynamodb:{region}:{account}:table/{name}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actions(operation: &str, body: Value) -> Vec<(String, Option<String>)> {
        needed(operation, body.to_string().as_bytes(), "100000000000", "us-east-1")
            .into_iter()
            .map(|n| (n.action, n.resource))
            .collect()
    }

    const RUNS: &str = "arn:aws:dynamodb:us-east-1:100000000000:table/runs";

    #[test]
    fn a_transaction_is_authorized_action_by_action() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "runs"}},
            {"Update": {"TableName": "arn:aws:dynamodb:us-east-1:100000000000:table/other"}},
            {"ConditionCheck": {"TableName": "runs"}},
            {"Delete": {}},
            {"Put": {"TableName": "runs"}}
        ]});
        assert_eq!(
            actions("TransactWriteItems", body),
            [
                ("dynamodb:PutItem".into(), Some(RUNS.into())),
                ("dynamodb:UpdateItem".into(), Some("arn:aws:dynamodb:us-east-1:100000000000:table/other".into())),
                ("dynamodb:ConditionCheckItem".into(), Some(RUNS.into())),
                ("dynamodb:DeleteItem".into(), None),
                ("dynamodb:PutItem".into(), Some(RUNS.into())),
            ]
        );
        assert!(actions("TransactWriteItems", json!({"TransactItems": "x"})).is_empty());
        assert!(needed("TransactWriteItems", b"not json", "1", "r").is_empty());
    }

    #[test]
    fn other_operations_are_their_own_action() {
        assert_eq!(actions("PutItem", json!({"TableName": "runs"})), [("dynamodb:PutItem".into(), Some(RUNS.into()))]);
        assert_eq!(actions("Query", json!({})), [("dynamodb:Query".into(), None)]);
        assert_eq!(
            actions("BatchGetItem", json!({"RequestItems": {"runs": {"Keys": []}, "other": {"Keys": []}}})),
            [
                ("dynamodb:BatchGetItem".into(), Some("arn:aws:dynamodb:us-east-1:100000000000:table/other".into())),
                ("dynamodb:BatchGetItem".into(), Some(RUNS.into()))
            ]
        );
    }
}
