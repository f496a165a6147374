//! The fleet file: accounts, regions, roles and their trust, the hub identity, servers,
//! DynamoDB tables, quotas and faults. JSON or YAML, validated against `schemas/fleet.schema.json`,
//! then its references (`checks.rs`); an account's own network is in `network.rs`.

use crate::dynamodb::key::KeyAttribute;
use crate::faults::FaultSet;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

mod checks;
mod network;
pub use network::{SecurityGroupSpec, SubnetSpec};

pub const FLEET_SCHEMA: &str = include_str!("../../../schemas/fleet.schema.json");

/// The fleet schema, compiled once (compiling it took longer than checking most fleets).
fn validator() -> &'static jsonschema::Validator {
    static V: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        let schema: serde_json::Value = serde_json::from_str(FLEET_SCHEMA).expect("the embedded schema is JSON");
        jsonschema::validator_for(&schema).expect("the embedded schema compiles")
    });
    &V
}
pub const DEMO_FLEET: &str = include_str!("../../fleets/demo.json");

pub type Tags = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fleet {
    pub hub: Hub,
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub servers: Vec<Server>,
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub faults: FaultSet,
    #[serde(default)]
    pub clock: ClockSettings,
    /// Task tokens that exist from the start (for a standalone run driven by another tool).
    #[serde(default)]
    pub task_tokens: Vec<String>,
    /// DynamoDB tables that exist from the start (the module's run ledger).
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    /// S3 buckets that exist from the start (where the module writes its run reports).
    #[serde(default)]
    pub buckets: Vec<BucketSpec>,
}

/// An S3 bucket that exists from the start, in the hub's account and region unless the spec
/// names others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BucketSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub versioned: bool,
}

impl BucketSpec {
    pub fn account_in(&self, hub: &Hub) -> String {
        self.account.clone().unwrap_or_else(|| hub.account_id.clone())
    }

    pub fn region_in(&self, hub: &Hub) -> String {
        self.region.clone().unwrap_or_else(|| hub.region.clone())
    }
}

/// A DynamoDB table that exists from the start, in the hub's account and region unless the
/// spec names others; two or more regions make it a global table (one store that every one
/// of them serves).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    pub partition_key: KeyAttribute,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<KeyAttribute>,
}

impl TableSpec {
    /// The account holding the table: the spec's, or the hub's.
    pub fn account_in(&self, hub: &Hub) -> String {
        self.account.clone().unwrap_or_else(|| hub.account_id.clone())
    }

    /// The regions holding the table: the spec's, or the hub's region.
    pub fn regions_in(&self, hub: &Hub) -> Vec<String> {
        if self.regions.is_empty() {
            vec![hub.region.clone()]
        } else {
            self.regions.clone()
        }
    }
}

/// The identity that the orchestrator runs as (the Lambda's role in the central account).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hub {
    pub account_id: String,
    pub role_name: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The AWS Organizations id of the hub's account (`aws:PrincipalOrgID`), when it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

impl Hub {
    pub fn principal_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account_id, self.role_name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Account {
    pub account_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Regions where DRS is initialized in this account.
    pub regions: Vec<String>,
    /// Regions where DRS exists but was never initialized (UninitializedAccountException).
    #[serde(default)]
    pub uninitialized_regions: Vec<String>,
    /// The AWS Organizations id of the account (`aws:PrincipalOrgID`), when it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// A staging account: the target accounts its `DRSStagingAccountRole` trusts, which may
    /// extend its source servers (`iam/staging.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staging_for: Vec<String>,
    /// Subnets besides the default VPC's (a recovery network), in the default VPC of their
    /// region unless they name another.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<SubnetSpec>,
    /// Security groups besides each region's `default`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<SecurityGroupSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    pub account_id: String,
    pub role_name: String,
    /// Principal ARNs allowed to assume the role: a role, a user or `arn:aws:iam::<acct>:root`.
    pub trusted_principals: Vec<String>,
    /// When set, AssumeRole must carry exactly this ExternalId.
    #[serde(default)]
    pub external_id: Option<String>,
    /// IAM actions (`drs:StartRecovery`, `ec2:*`) this role may call on every resource, without
    /// conditions; default all. A role whose `statements` are its whole policy sets `[]`.
    #[serde(default = "allow_all")]
    pub allowed_actions: Vec<String>,
    /// IAM actions denied on every resource, whatever else allows them.
    #[serde(default)]
    pub denied_actions: Vec<String>,
    /// Identity-policy statements in IAM's JSON (resources and conditions evaluated as IAM
    /// does: `iam/`), beside the two shorthands above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<crate::iam::Statement>,
    /// The trust policy in IAM's JSON (statements with a `Principal`), evaluated for AssumeRole
    /// with `sts:ExternalId`, `aws:PrincipalArn`, `aws:PrincipalAccount` and
    /// `aws:PrincipalOrgID`; when set it replaces `trustedPrincipals` and `externalId`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust: Vec<crate::iam::Statement>,
    #[serde(default = "default_max_session")]
    pub max_session_seconds: u32,
}

fn allow_all() -> Vec<String> {
    vec!["*".into()]
}
fn default_max_session() -> u32 {
    3600
}

impl Role {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account_id, self.role_name)
    }

    /// The role's identity policy: `deniedActions` and `allowedActions` as unconditioned
    /// statements on every resource (Sids `deniedActions`, `allowedActions`), then `statements`.
    pub fn policy(&self) -> Vec<crate::iam::Statement> {
        use crate::iam::{Effect, Statement};
        let mut out = vec![];
        if !self.denied_actions.is_empty() {
            out.push(Statement::on_everything("deniedActions", Effect::Deny, &self.denied_actions));
        }
        if !self.allowed_actions.is_empty() {
            out.push(Statement::on_everything("allowedActions", Effect::Allow, &self.allowed_actions));
        }
        out.extend(self.statements.iter().cloned());
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Server {
    pub hostname: String,
    #[serde(default)]
    pub fqdn: Option<String>,
    /// The DRS account and region that protect the server.
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub source_server_id: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub ec2: Option<Ec2Source>,
    #[serde(default)]
    pub replication: Replication,
    #[serde(default)]
    pub launch: LaunchBehaviour,
    /// Target accounts holding an extended source server of this one (in its region) from
    /// the start; each must be in its account's `stagingFor`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extended_into: Vec<String>,
}

/// The EC2 instance the server replicates from, in its origin account and region.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ec2Source {
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Defaults to the server's DRS account.
    #[serde(default)]
    pub account_id: Option<String>,
    pub region: String,
    #[serde(default)]
    pub availability_zone: Option<String>,
    #[serde(default = "default_instance_type")]
    pub instance_type: String,
    #[serde(default = "default_state")]
    pub state: String,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub private_ip: Option<String>,
}

fn default_instance_type() -> String {
    "m5.large".into()
}
fn default_state() -> String {
    "running".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replication {
    #[serde(default = "continuous")]
    pub state: String,
    #[serde(default)]
    pub lag_seconds: u64,
    /// How long before the simulator's start replication began: its recovery snapshots go no
    /// further back (a full week's retention and a day more by default).
    #[serde(default = "default_started_minutes_ago")]
    pub started_minutes_ago: u64,
}

fn continuous() -> String {
    "CONTINUOUS".into()
}

fn default_started_minutes_ago() -> u64 {
    8 * 24 * 60
}

impl Default for Replication {
    fn default() -> Self {
        Self { state: continuous(), lag_seconds: 0, started_minutes_ago: default_started_minutes_ago() }
    }
}

/// How a launch of this server goes: simulated seconds from StartRecovery to the end, and
/// the outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchBehaviour {
    #[serde(default = "default_launch_seconds")]
    pub seconds: u64,
    #[serde(default)]
    pub outcome: LaunchOutcome,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

fn default_launch_seconds() -> u64 {
    600
}

impl Default for LaunchBehaviour {
    fn default() -> Self {
        Self { seconds: default_launch_seconds(), outcome: LaunchOutcome::Launched, failure_reason: None }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchOutcome {
    #[default]
    Launched,
    Failed,
}

/// DRS quotas per account per region. Sources disagree, so each is a setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quotas {
    #[serde(default = "q_per_job")]
    pub servers_per_job: usize,
    #[serde(default = "q_active")]
    pub servers_in_active_jobs: usize,
    #[serde(default = "q_jobs")]
    pub concurrent_jobs: usize,
    #[serde(default = "q_source")]
    pub source_servers: usize,
}

fn q_per_job() -> usize {
    100
}
fn q_active() -> usize {
    500
}
fn q_jobs() -> usize {
    20
}
fn q_source() -> usize {
    4000
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            servers_per_job: q_per_job(),
            servers_in_active_jobs: q_active(),
            concurrent_jobs: q_jobs(),
            source_servers: q_source(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockSettings {
    /// Simulated seconds per real second.
    #[serde(default = "one")]
    pub speed: f64,
    /// Simulated start time; default: the real time at start.
    #[serde(default)]
    pub start: Option<chrono::DateTime<chrono::Utc>>,
}

fn one() -> f64 {
    1.0
}

impl Default for ClockSettings {
    fn default() -> Self {
        Self { speed: 1.0, start: None }
    }
}

/// A schema error with its value when the value is short (a scalar), else without it: the
/// error's own text writes the whole value, and a megabyte nested where a time belongs took
/// 120 ms to write into a message nobody could read.
fn describe(e: &jsonschema::ValidationError<'_>) -> String {
    let short = match e.instance().as_ref() {
        serde_json::Value::String(s) => s.len() <= 64,
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => true,
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => false,
    };
    if short {
        e.to_string()
    } else {
        e.masked().to_string()
    }
}

impl Fleet {
    /// Parses JSON or YAML text, checks it against the fleet schema, then checks references.
    pub fn parse(text: &str) -> anyhow::Result<Fleet> {
        // A list is no fleet, in JSON or YAML's flow style: said from its first character, not
        // built (a megabyte of list took 90 ms to build and drop only to be refused).
        if text.trim_start().starts_with('[') {
            bail!("the fleet is a list; a fleet is an object (accounts, servers, roles, ...)");
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            // A document that opens as JSON is JSON: its own error (line and column) says what
            // is wrong, and reading two megabytes of broken JSON again as YAML took 300 ms.
            Err(e) if text.trim_start().starts_with(['{', '[']) => bail!("the fleet is not valid JSON: {e}"),
            Err(_) => serde_yaml::from_str(text).context("the fleet is neither JSON nor YAML")?,
        };
        Self::from_value(value)
    }

    pub fn load(path: &Path) -> anyhow::Result<Fleet> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("fleet file {}", path.display()))
    }

    pub fn from_value(value: serde_json::Value) -> anyhow::Result<Fleet> {
        let errors: Vec<String> = validator()
            .iter_errors(&value)
            .take(10)
            .map(|e| format!("at {}: {}", display_pointer(&e.instance_path().to_string()), describe(&e)))
            .collect();
        if !errors.is_empty() {
            bail!("the fleet does not match its schema:\n  {}", errors.join("\n  "));
        }
        // The path names the field the schema let through but the types refuse.
        let fleet: Fleet = serde_path_to_error::deserialize(value).context("the fleet does not match its shape")?;
        fleet.check_references()?;
        fleet.faults.validate().context("faults")?;
        Ok(fleet)
    }

    pub fn demo() -> Fleet {
        Self::parse(DEMO_FLEET).expect("the embedded demo fleet is valid")
    }

    pub fn role(&self, account: &str, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.account_id == account && r.role_name == name)
    }
}

fn display_pointer(p: &str) -> String {
    if p.is_empty() {
        "/".into()
    } else {
        p.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fleet_is_valid_and_sized() {
        let f = Fleet::demo();
        assert!(f.accounts.len() >= 3);
        assert!(f.accounts.iter().all(|a| a.regions.len() >= 2));
        assert!(f.servers.len() >= 55, "{} servers", f.servers.len());
    }

    #[test]
    fn a_list_is_refused_as_no_fleet_unread() {
        for text in ["[1, 2]", "  [{\"accounts\": []}]", "[oops"] {
            let err = format!("{:#}", Fleet::parse(text).unwrap_err());
            assert!(err.contains("the fleet is a list"), "{text}: {err}");
        }
    }

    #[test]
    fn a_long_value_is_left_out_of_its_schema_error_and_a_short_one_is_named() {
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        let wide: Vec<serde_json::Value> = (0..20_000).map(|i| serde_json::json!({"deep": [i, {"deeper": "x"}]})).collect();
        v["clock"]["start"] = serde_json::json!({"zz": wide});
        let err = format!("{:#}", Fleet::from_value(v).unwrap_err());
        assert!(err.contains("/clock/start") && !err.contains("deep") && err.len() < 400, "{err}");
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        v["servers"][0]["replication"]["state"] = "SIDEWAYS".into();
        assert!(format!("{:#}", Fleet::from_value(v).unwrap_err()).contains("SIDEWAYS"), "a short value is named");
    }

    #[test]
    fn schema_errors_name_the_field() {
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        v["servers"][0]["replication"]["state"] = "SIDEWAYS".into();
        let err = format!("{:#}", Fleet::from_value(v).unwrap_err());
        assert!(err.contains("/servers/0/replication/state"), "{err}");
    }

    #[test]
    fn yaml_is_accepted() {
        let v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        let yaml = serde_yaml::to_string(&v).unwrap();
        assert_eq!(Fleet::parse(&yaml).unwrap().servers.len(), Fleet::demo().servers.len());
    }

    #[test]
    fn unknown_account_is_refused_by_name() {
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        v["servers"][3]["accountId"] = "999999999999".into();
        let err = format!("{:#}", Fleet::from_value(v).unwrap_err());
        assert!(err.contains("servers[3]") && err.contains("999999999999"), "{err}");
    }

    #[test]
    fn demo_fleet_holds_the_run_ledger() {
        let f = Fleet::demo();
        let ledger = f.tables.iter().find(|t| t.name == "drs-orch-runs").expect("the run ledger table");
        assert_eq!(
            (ledger.account_in(&f.hub), ledger.regions_in(&f.hub)),
            (f.hub.account_id.clone(), vec![f.hub.region.clone()])
        );
        assert_eq!(ledger.partition_key.name, "pk");
        assert_eq!(ledger.sort_key.as_ref().map(|k| k.name.as_str()), Some("sk"));
    }

    #[test]
    fn a_table_twice_in_a_region_is_refused() {
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        let table = serde_json::json!({"name": "ledger-1", "regions": ["us-east-1", "us-west-2"], "partitionKey": {"name": "pk", "type": "S"}});
        v["tables"] = serde_json::json!([table, {"name": "ledger-1", "partitionKey": {"name": "id", "type": "N"}}]);
        let err = format!("{:#}", Fleet::from_value(v.clone()).unwrap_err());
        assert!(err.contains("tables[1] (ledger-1)") && err.contains("us-east-1"), "{err}");
        v["tables"][1]["partitionKey"]["type"] = "X".into();
        let err = format!("{:#}", Fleet::from_value(v).unwrap_err());
        assert!(err.contains("/tables/1/partitionKey/type"), "{err}");
    }

    #[test]
    fn deny_wins_over_allow() {
        use crate::iam::{decide, AuthRequest, Decision};
        let r = Role {
            account_id: "1".into(),
            role_name: "r".into(),
            trusted_principals: vec![],
            external_id: None,
            allowed_actions: vec!["drs:*".into()],
            denied_actions: vec!["drs:StartRecovery".into()],
            statements: vec![],
            trust: vec![],
            max_session_seconds: 3600,
        };
        let policy = r.policy();
        let ask = |action: &str| decide(&policy, &AuthRequest::new(action, "*", Default::default()));
        assert_eq!(ask("drs:DescribeSourceServers"), Decision::Allowed("allowedActions".into()));
        assert_eq!(ask("drs:StartRecovery"), Decision::ExplicitDeny("deniedActions".into()));
        assert_eq!(ask("ec2:DescribeInstances"), Decision::ImplicitDeny);
    }

    #[test]
    fn a_roles_statements_load_from_the_fleet_file() {
        let mut v: serde_json::Value = serde_json::from_str(DEMO_FLEET).unwrap();
        v["roles"][0]["allowedActions"] = serde_json::json!([]);
        v["roles"][0]["statements"] = serde_json::json!([{"Sid": "Managed", "Effect": "Allow", "Action": "ec2:TerminateInstances",
            "Resource": "*", "Condition": {"Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"}}}]);
        let f = Fleet::from_value(v.clone()).unwrap();
        assert_eq!(f.roles[0].policy().len(), 1);
        assert_eq!(f.roles[0].policy()[0].conditions.len(), 1);
        v["roles"][0]["statements"][0]["Condition"] = serde_json::json!({"NumericLessThan": {"k": "1"}});
        let err = format!("{:#}", Fleet::from_value(v).unwrap_err());
        assert!(err.contains("roles[0].statements[0]") && err.contains("NumericLessThan is not supported"), "{err}");
    }
}
