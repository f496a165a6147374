//! The authorization requests of STS, Step Functions, SSM, Secrets Manager and DynamoDB.
//! GetCallerIdentity needs none (IAM allows it to every identity). AssumeRole acts on the role
//! it names, with `aws:ResourceAccount` the role's account. StartExecution acts on the state
//! machine, DescribeExecution and StopExecution on the execution; the task token callbacks
//! act on `*` (they name no resource). GetParameter acts on the parameter, GetSecretValue on
//! the secret (its full ARN when it exists). DynamoDB reads as `dynamodb/iam.rs` does, each
//! action on its table (`*` when the request names none: the operation refuses it).

use super::Call;
use crate::iam::context::{AuthRequest, Context};
use serde_json::Value;

pub fn requests(call: &Call) -> Vec<AuthRequest> {
    let action = format!("{}:{}", call.service, call.operation);
    let on = |resource: String| vec![AuthRequest::new(&action, resource, Context::default())];
    match (call.service, call.operation) {
        (_, "GetCallerIdentity") => vec![],
        ("sts", "AssumeRole") => on(call.form.and_then(|f| f.get("RoleArn")).unwrap_or("*").to_owned()),
        ("dynamodb", op) => crate::dynamodb::iam::needed(op, &call.request.body, call.account(), call.region)
            .into_iter()
            .map(|n| AuthRequest::new(n.action, n.resource.unwrap_or_else(|| "*".into()), Context::default()))
            .collect(),
        ("states", "StartExecution") => on(member(call, "stateMachineArn")),
        ("states", "DescribeExecution" | "StopExecution") => on(member(call, "executionArn")),
        ("ssm", "GetParameter") => {
            let name = member(call, "Name");
            let path = name.trim_start_matches('/');
            on(format!("arn:aws:ssm:{}:{}:parameter/{path}", call.region, call.account()))
        }
        ("secretsmanager", "GetSecretValue") => {
            let id = member(call, "SecretId");
            let stored = call.world.secrets.secret(call.account(), call.region, &id).map(|s| s.arn);
            on(stored.unwrap_or_else(|| {
                if id.starts_with("arn:") {
                    id
                } else {
                    format!("arn:aws:secretsmanager:{}:{}:secret:{id}", call.region, call.account())
                }
            }))
        }
        _ => call.on_everything(),
    }
}

/// A string member of the JSON body; `*` when absent (the operation refuses the request).
fn member(call: &Call, name: &str) -> String {
    match call.json().get(name) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => "*".into(),
    }
}
