//! The project's CloudFormation roles loaded into the simulator as the stacks would create
//! them: each target account's role with cloudformation/target-account.json's policy and trust,
//! the hub with cloudformation/hub.json's policy, resolved for the demo fleet's accounts, region, approval
//! state machine, run ledger and reports bucket (the stack's name for it, in the fleet too). The simulator then evaluates them as IAM does (actions,
//! resources, conditions), nothing else granted.

use drs_sim::generate::{self, HUB_ACCOUNT, HUB_ROLE, TARGET_ROLE};
use drs_sim::iam::template::{role_statements, role_trust, Stack};
use drs_sim::iam::{Effect, Statement};
use serde_json::{json, Value};

pub const REGION: &str = "us-east-1";
const APPROVAL: &str = "drs-orch-approval";
/// The reports bucket hub.json names (`drs-orch-reports-<account>-<region>`; the role's policy
/// spells the name out rather than referring to the bucket, which would close a cycle through
/// the key that encrypts it).
pub const REPORTS_BUCKET: &str = "drs-orch-reports-100000000000-us-east-1";

pub fn template(name: &str) -> Value {
    // Tests run in the package directory, the repository root.
    let text = std::fs::read_to_string(format!("cloudformation/{name}")).unwrap_or_else(|e| panic!("cloudformation/{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cloudformation/{name}: {e}"))
}

/// The target role's statements in `account`.
pub fn target_statements(account: &str) -> Vec<Statement> {
    role_statements(&template("target-account.json"), "TargetRole", &Stack::new(account, REGION)).unwrap()
}

/// The target role's trust in `account`: the hub's role with the account's ExternalId, and
/// the hub's organization when `organization` is not empty.
pub fn target_trust(account: &str, organization: &str) -> Vec<Statement> {
    let stack = Stack::new(account, REGION)
        .with("HubAccountId", HUB_ACCOUNT)
        .with("ExternalId", generate::external_id(account))
        .with("OrganizationId", organization);
    role_trust(&template("target-account.json"), "TargetRole", &stack).unwrap()
}

/// The hub role's statements for the demo fleet's target accounts.
pub fn hub_statements(targets: &[String]) -> Vec<Statement> {
    let stack = Stack::new(HUB_ACCOUNT, REGION)
        .with("TargetAccountIds", json!(targets))
        .with("ApprovalStateMachine", format!("arn:aws:states:{REGION}:{HUB_ACCOUNT}:stateMachine:{APPROVAL}"))
        .with("ApprovalStateMachine.Name", APPROVAL)
        .with("LogGroup.Arn", format!("arn:aws:logs:{REGION}:{HUB_ACCOUNT}:log-group:/aws/lambda/drs-orch"));
    role_statements(&template("hub.json"), "HubRole", &stack).unwrap()
}

/// The demo fleet whose roles hold the templates' policies alone.
pub fn fleet() -> drs_sim::Fleet {
    let mut fleet = drs_sim::Fleet::demo();
    let targets: Vec<String> = fleet.accounts.iter().map(|a| a.account_id.clone()).collect();
    for role in fleet.roles.iter_mut().filter(|r| r.role_name == TARGET_ROLE) {
        role.allowed_actions = vec![];
        role.statements = target_statements(&role.account_id);
        role.trust = target_trust(&role.account_id, "");
    }
    let mut hub = fleet.roles[0].clone();
    hub.account_id = HUB_ACCOUNT.into();
    hub.role_name = HUB_ROLE.into();
    hub.external_id = None;
    hub.trusted_principals = vec![];
    hub.allowed_actions = vec![];
    hub.statements = hub_statements(&targets);
    hub.trust = vec![];
    fleet.roles.push(hub);
    fleet.buckets.push(drs_sim::fleet::BucketSpec { name: REPORTS_BUCKET.into(), account: None, region: None, versioned: true });
    fleet
}

/// Each (Sid, action) an Allow statement grants, actions as written.
pub fn granted(statements: &[Statement]) -> std::collections::BTreeSet<(String, String)> {
    statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .flat_map(|s| s.actions.patterns().iter().map(move |a| (s.name(), a.clone())))
        .collect()
}
