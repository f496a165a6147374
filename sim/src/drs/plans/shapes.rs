//! The inputs of the twenty recovery-plan operations, member by member, with the types,
//! limits, patterns and required members of botocore's DRS model. Every request is checked
//! against its operation's shape before anything is read from it (`config_shape::check`), so a
//! refusal names the member's path as DRS does; the conformance test compares `describe` with
//! the model (`sim/conformance/update_shapes.py`).

use crate::drs::config_shape::{self, Pattern, Shape};
use crate::protocol::ApiError;
use serde_json::Value;

const ARN: Shape = Shape::Str { min: 20, max: 2048, pattern: Some(Pattern::StrictDrsArn) };
const NAME: Shape = Shape::Str { min: 1, max: 256, pattern: Some(Pattern::PlanName) };
const DESCRIPTION: Shape = Shape::Str { min: 0, max: 1024, pattern: None };
const TOKEN: Shape = Shape::Str { min: 0, max: 64, pattern: None };
const TAG_TEXT: Shape = Shape::Str { min: 0, max: 256, pattern: None };
const TAGS: Shape = Shape::Map(&TAG_TEXT, &TAG_TEXT);
const STEP_ORDER: Shape = Shape::IntIn(1, 20);
const WAIT_MINUTES: Shape = Shape::IntIn(1, 120);
const MAX_RESULTS: Shape = Shape::IntIn(1, 1000);
const NEXT_TOKEN: Shape = Shape::Str { min: 0, max: 2048, pattern: None };
pub const MODES: &[&str] = &["DRILL", "RECOVERY"];
pub const EXECUTION_STATUSES: &[&str] = &["CREATED", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLING", "CANCELLED"];
pub const STEP_STATUSES: &[&str] = &["NOT_STARTED", "EXECUTING", "WAITING", "COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED"];

const SERVER: Shape = Shape::Struct(
    &[
        ("serverArn", Shape::Str { min: 20, max: 2048, pattern: Some(Pattern::SourceServerArn) }),
        ("impactLevel", Shape::Enum(&["CRITICAL", "OPTIONAL"])),
    ],
    &["serverArn"],
);
const SERVERS: Shape = Shape::List { member: &SERVER, min: 1, max: 100 };
const WAIT: Shape = Shape::Struct(&[("waitDurationMinutes", WAIT_MINUTES)], &["waitDurationMinutes"]);
const CONFIGURATION: Shape = Shape::Union(&[
    ("serverStepConfiguration", Shape::Struct(&[("servers", SERVERS)], &["servers"])),
    ("waitStepConfiguration", WAIT),
]);
const SOURCE_SERVER: Shape = Shape::Struct(
    &[
        ("sourceServerID", Shape::Str { min: 19, max: 19, pattern: Some(Pattern::SourceServer) }),
        ("recoverySnapshotID", Shape::Str { min: 21, max: 21, pattern: Some(Pattern::SnapshotId) }),
    ],
    &["sourceServerID", "recoverySnapshotID"],
);

/// An operation's input: its name, its members and the names of those required.
pub type Input = (&'static str, &'static [(&'static str, Shape)], &'static [&'static str]);

/// Each operation's input.
pub const INPUTS: &[Input] = &[
    ("CancelRecoveryPlanExecution", &[("recoveryPlanExecutionArn", ARN)], &["recoveryPlanExecutionArn"]),
    ("CreateRecoveryPlan", &[("name", NAME), ("description", DESCRIPTION), ("clientToken", TOKEN), ("tags", TAGS)], &["name"]),
    (
        "CreateRecoveryPlanStep",
        &[
            ("recoveryPlanArn", ARN),
            ("stepName", NAME),
            ("stepOrder", STEP_ORDER),
            ("configuration", CONFIGURATION),
            ("clientToken", TOKEN),
        ],
        &["configuration", "recoveryPlanArn", "stepName"],
    ),
    ("DeleteRecoveryPlan", &[("recoveryPlanArn", ARN)], &["recoveryPlanArn"]),
    ("DeleteRecoveryPlanExecution", &[("recoveryPlanExecutionArn", ARN)], &["recoveryPlanExecutionArn"]),
    ("DeleteRecoveryPlanStep", &[("recoveryPlanStepArn", ARN)], &["recoveryPlanStepArn"]),
    ("GetRecoveryPlan", &[("recoveryPlanArn", ARN)], &["recoveryPlanArn"]),
    ("GetRecoveryPlanExecution", &[("recoveryPlanExecutionArn", ARN)], &["recoveryPlanExecutionArn"]),
    ("GetRecoveryPlanExecutionStep", &[("recoveryPlanExecutionStepArn", ARN)], &["recoveryPlanExecutionStepArn"]),
    ("GetRecoveryPlanStep", &[("recoveryPlanStepArn", ARN)], &["recoveryPlanStepArn"]),
    (
        "ListRecoveryPlanExecutionSteps",
        &[
            ("recoveryPlanExecutionArn", ARN),
            ("filter", Shape::Struct(&[("status", Shape::Enum(STEP_STATUSES))], &[])),
            ("maxResults", MAX_RESULTS),
            ("nextToken", NEXT_TOKEN),
        ],
        &["recoveryPlanExecutionArn"],
    ),
    (
        "ListRecoveryPlanExecutions",
        &[
            ("recoveryPlanArn", ARN),
            ("status", Shape::Enum(EXECUTION_STATUSES)),
            ("maxResults", MAX_RESULTS),
            ("nextToken", NEXT_TOKEN),
        ],
        &[],
    ),
    (
        "ListRecoveryPlanSteps",
        &[("recoveryPlanArn", ARN), ("maxResults", MAX_RESULTS), ("nextToken", NEXT_TOKEN)],
        &["recoveryPlanArn"],
    ),
    ("ListRecoveryPlans", &[("maxResults", MAX_RESULTS), ("nextToken", NEXT_TOKEN)], &[]),
    (
        "ReorderRecoveryPlanSteps",
        &[("recoveryPlanArn", ARN), ("orderedStepArns", Shape::List { member: &ARN, min: 1, max: 20 })],
        &["orderedStepArns", "recoveryPlanArn"],
    ),
    ("RetryRecoveryPlanExecutionStep", &[("recoveryPlanExecutionStepArn", ARN)], &["recoveryPlanExecutionStepArn"]),
    (
        "StartRecoveryPlanExecution",
        &[
            ("recoveryPlanArn", ARN),
            ("mode", Shape::Enum(MODES)),
            ("clientToken", TOKEN),
            ("sourceServers", Shape::List { member: &SOURCE_SERVER, min: 0, max: 200 }),
            ("tags", TAGS),
        ],
        &["mode", "recoveryPlanArn"],
    ),
    ("UpdateRecoveryPlan", &[("recoveryPlanArn", ARN), ("name", NAME), ("description", DESCRIPTION)], &["recoveryPlanArn"]),
    (
        "UpdateRecoveryPlanExecutionStep",
        &[
            ("recoveryPlanExecutionStepArn", ARN),
            ("status", Shape::Enum(STEP_STATUSES)),
            ("servers", SERVERS),
            ("waitDurationMinutes", WAIT_MINUTES),
        ],
        &["recoveryPlanExecutionStepArn"],
    ),
    (
        "UpdateRecoveryPlanStep",
        &[("recoveryPlanStepArn", ARN), ("stepName", NAME), ("configuration", CONFIGURATION)],
        &["recoveryPlanStepArn"],
    ),
];

/// Whether `op` is a recovery-plan operation.
pub fn is_plan_operation(op: &str) -> bool {
    INPUTS.iter().any(|(name, _, _)| *name == op)
}

/// Checks a request's body against its operation's input (none: not a plan operation).
pub fn check(op: &str, body: &Value) -> Result<(), ApiError> {
    let Some((_, members, required)) = INPUTS.iter().find(|(name, _, _)| *name == op) else { return Ok(()) };
    let Value::Object(fields) = body else { return Err(super::super::input::invalid("body", "must be an object")) };
    if let Some(missing) = required.iter().find(|r| fields.get(**r).is_none_or(Value::is_null)) {
        return Err(super::super::input::invalid(missing, "is required"));
    }
    for (name, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
        let Some((_, shape)) = members.iter().find(|(m, _)| m == name) else {
            return Err(super::super::input::invalid(name, "is not a member of this operation's input"));
        };
        config_shape::check(v, shape, name)?;
    }
    Ok(())
}

/// Every operation's input as `Shape::describe` writes it, by operation.
pub fn describe_inputs() -> Value {
    INPUTS.iter().map(|(op, members, required)| ((*op).to_owned(), config_shape::describe(members, required))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(op: &str, body: Value) -> Option<String> {
        check(op, &body).err().map(|e| e.message)
    }

    const PLAN: &str = "arn:aws:drs:us-east-1:200000000001:recovery-plan/plan-0123456789abcdefg";
    const SERVER_ARN: &str = "arn:aws:drs:us-east-1:200000000001:source-server/s-0123456789abcdefg";

    #[test]
    fn a_request_is_checked_member_by_member_against_its_operation() {
        assert_eq!(refusal("CreateRecoveryPlan", json!({"name": "shop plan_1-a"})), None);
        assert!(refusal("CreateRecoveryPlan", json!({"name": "-shop"})).unwrap().contains("name: must match"));
        assert!(refusal("CreateRecoveryPlan", json!({"name": "a<b>"})).unwrap().contains("name: must match"));
        assert!(refusal("CreateRecoveryPlan", json!({})).unwrap().contains("name: is required"));
        let step = |config: Value| json!({"recoveryPlanArn": PLAN, "stepName": "db", "configuration": config});
        let servers = json!({"serverStepConfiguration": {"servers": [{"serverArn": SERVER_ARN}]}});
        assert_eq!(refusal("CreateRecoveryPlanStep", step(servers.clone())), None);
        let both = json!({"serverStepConfiguration": servers["serverStepConfiguration"], "waitStepConfiguration": {"waitDurationMinutes": 5}});
        assert!(refusal("CreateRecoveryPlanStep", step(both)).unwrap().contains("configuration: must set exactly one"));
        let long_wait = json!({"waitStepConfiguration": {"waitDurationMinutes": 121}});
        assert!(refusal("CreateRecoveryPlanStep", step(long_wait))
            .unwrap()
            .contains("waitDurationMinutes: must be a whole number from 1 to 120"));
        let many: Vec<Value> = (0..101).map(|_| json!({"serverArn": SERVER_ARN})).collect();
        let too_many = json!({"serverStepConfiguration": {"servers": many}});
        assert!(refusal("CreateRecoveryPlanStep", step(too_many)).unwrap().contains("must hold 1 to 100 items"));
        let bad_arn =
            json!({"serverStepConfiguration": {"servers": [{"serverArn": "arn:aws:drs:us-east-1:2:source-server/s-1"}]}});
        assert!(refusal("CreateRecoveryPlanStep", step(bad_arn)).unwrap().contains("servers[0].serverArn: must match"));
        let mut ordered = step(json!({"waitStepConfiguration": {"waitDurationMinutes": 1}}));
        ordered["stepOrder"] = json!(21);
        assert!(refusal("CreateRecoveryPlanStep", ordered).unwrap().contains("stepOrder"));
        assert!(refusal("GetRecoveryPlan", json!({"recoveryPlanArn": "arn:aws:drs:us-east-1:200000000001:<script>"})).is_some());
        assert!(refusal("GetRecoveryPlan", json!({"recoveryPlanArn": PLAN, "extra": 1})).unwrap().contains("extra"));
    }

    #[test]
    fn strict_arns_take_the_partitions_aws_names() {
        let ok = |arn: &str| check("GetRecoveryPlan", &json!({"recoveryPlanArn": arn})).is_ok();
        assert!(ok(PLAN));
        assert!(ok("arn:aws-us-gov:drs:us-gov-west-1:200000000001:recovery-plan/plan-1"));
        assert!(!ok("arn:awsx:drs:us-east-1:200000000001:recovery-plan/plan-1"));
        assert!(!ok("arn:aws:ec2:us-east-1:200000000001:recovery-plan/plan-1"));
        assert!(!ok("arn:aws:drs:us-east-1:2000000000:recovery-plan/plan-1"));
    }
}
