//! The module configuration: the hub, target accounts (regions, role, ExternalId or the rule
//! that derives it), the DRS regions in one place, concurrency, retry and quota settings.
//! Validated by `schemas/module-config.schema.json`; errors name the field.

pub mod readiness;
pub mod source;
pub mod staging;

use crate::secret::Secret;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub static SCHEMA: crate::schema::Schema = crate::schema::Schema::new(include_str!("../../../schemas/module-config.schema.json"));
/// The configuration that matches the simulator's demo fleet (its endpoint is set at run time).
pub const DEMO: &str = include_str!("../../config/demo.json");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModuleConfig {
    /// Used in session names and the ExternalId rule.
    pub project: String,
    pub environment: String,
    pub hub: Hub,
    /// The role assumed in every target account unless the account names another.
    pub role_name: String,
    pub external_id: ExternalId,
    /// DRS regions: the one place they are listed; an account may narrow them.
    pub regions: Vec<String>,
    pub accounts: Vec<TargetAccount>,
    #[serde(default)]
    pub concurrency: Concurrency,
    #[serde(default)]
    pub retry: Retry,
    #[serde(default = "default_session")]
    pub session_seconds: u64,
    #[serde(default)]
    pub quotas: Quotas,
    /// Pause gates: the hub's approval state machine (see `recovery::gate`).
    #[serde(default)]
    pub approvals: Option<Approvals>,
    /// The run ledger (`ledger/`): where each run's record lives.
    #[serde(default)]
    pub ledger: LedgerConfig,
    /// Where each run's report is written (`report/publish.rs`); none: no report is written.
    #[serde(default)]
    pub reports: Option<ReportsConfig>,
    /// Tenants' wave hooks (WebAssembly components) and what a failing hook does.
    #[serde(default)]
    pub hooks: Option<HooksConfig>,
    /// How far back a re-delivered activation looks for jobs it already started.
    #[serde(default = "default_lookback")]
    pub idempotency_lookback_minutes: u64,
    /// How long a wave's server busy in another run's active job waits (from when a check
    /// first found it busy) before it counts as failed under the wave's FailurePolicy.
    #[serde(default = "default_busy_wait")]
    pub busy_wait_minutes: u64,
    /// What a resource parameter the schema does not know does: refused (the default), or
    /// let through with a warning (preflight lists it; each call logs it).
    #[serde(default)]
    pub unknown_parameters: UnknownParameters,
    /// What the readiness check holds a resource to (`readiness/`): how old its last
    /// successful drill may be.
    #[serde(default)]
    pub readiness: readiness::ReadinessConfig,
    /// How `plan` and instantiate forecast a run's duration (`forecast/`).
    #[serde(default)]
    pub forecast: ForecastConfig,
}

/// `forecast`: what the module cannot see and must assume to say how long a run will take.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForecastConfig {
    /// The platform's Wait between status checks: a wave is seen done, and the next one
    /// started, at the first check after its last job ends.
    #[serde(default = "f_poll")]
    pub poll_seconds: u64,
    /// A launch job's duration for a server no past job launched (DRS typically takes 10 to
    /// 20 minutes from StartRecovery to a running instance).
    #[serde(default = "f_job")]
    pub default_job_minutes: u64,
    /// How far back the DRS job history is read for past launch durations.
    #[serde(default = "f_history")]
    pub history_days: u64,
}

fn f_poll() -> u64 {
    30
}
fn f_job() -> u64 {
    20
}
fn f_history() -> u64 {
    30
}

impl Default for ForecastConfig {
    fn default() -> Self {
        Self { poll_seconds: f_poll(), default_job_minutes: f_job(), history_days: f_history() }
    }
}

/// `unknownParameters`: a misspelt `PauseBefore` that passes in silence is an approval lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownParameters {
    #[default]
    Refuse,
    Warn,
}

fn default_lookback() -> u64 {
    120
}

fn default_busy_wait() -> u64 {
    30
}

/// Wave hooks: where compiled components are cached, and each tenant's components.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HooksConfig {
    /// Compiled components, keyed by hash and engine settings (default: a folder in the temp dir).
    #[serde(default)]
    pub cache_dir: Option<String>,
    /// A component file larger than this is refused (as a hook that cannot load) before it
    /// is read whole or compiled (default: the host's, 32 MiB).
    #[serde(default)]
    pub max_component_bytes: Option<usize>,
    /// How long reading and compiling one component may take, off the async workers (default:
    /// the host's, 120 s); past it the hook cannot load at this check.
    #[serde(default)]
    pub compile_timeout_seconds: Option<u64>,
    /// How long one hook call may run (default: the host's, 50 ms); past it the call fails
    /// and the tenant's onFailure decides.
    #[serde(default)]
    pub call_timeout_millis: Option<u64>,
    pub tenants: std::collections::BTreeMap<String, Tenant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    /// The accounts the tenant's resources may reach (configured accounts).
    pub accounts: Vec<String>,
    /// The regions, when fewer than the configured ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<String>>,
    /// Every resource reaching the tenant's accounts (and regions) must name it and run all
    /// its hooks: a resource cannot leave a tenant's rules out by leaving its name out.
    #[serde(default)]
    pub mandatory: bool,
    /// What a hook that traps, times out, is refused a host call, returns what cannot be
    /// applied, or cannot load (its file unreadable or over the size cap, its pin not matched,
    /// its imports refused, its compile past the limit) does to the wave.
    #[serde(default)]
    pub on_failure: HookFailure,
    /// The tenant's hooks by name, called in this (name) order.
    pub components: std::collections::BTreeMap<String, HookComponent>,
}

impl Tenant {
    /// Whether the tenant's scope holds `p`.
    pub fn reaches(&self, p: &Partition) -> bool {
        self.accounts.contains(&p.account) && self.regions.as_ref().is_none_or(|r| r.contains(&p.region))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookFailure {
    /// The wave is aborted: nothing starts without the tenant's rule.
    #[default]
    FailClosed,
    /// The wave proceeds; the failure is recorded.
    FailOpen,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HookComponent {
    /// The component file (relative paths from the working directory).
    pub path: String,
    /// Its SHA-256 (hex): the component is refused when the file does not match.
    pub sha256: String,
}

/// A paused wave starts an execution of this state machine (whose task waits for a task
/// token that an approver answers) and proceeds when the execution succeeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Approvals {
    pub state_machine_arn: String,
}

/// The run ledger's table in the hub account and region.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LedgerConfig {
    #[serde(default = "default_ledger_table")]
    pub table_name: String,
    /// Signs the lifecycle payload (`recovery/reference.rs`): activate and status checks
    /// need it.
    #[serde(default)]
    pub payload_key: Option<Secret>,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig { table_name: default_ledger_table(), payload_key: None }
    }
}

/// The S3 bucket (in the hub account and region) that holds the run reports, and the prefix
/// of their keys: `<prefix><resource>/<execution>/report.{json,html,md}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportsConfig {
    pub bucket: String,
    #[serde(default = "default_reports_prefix")]
    pub prefix: String,
}

fn default_reports_prefix() -> String {
    "runs/".to_owned()
}

fn default_ledger_table() -> String {
    "drs-orch-runs".to_owned()
}

fn default_session() -> u64 {
    900
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hub {
    pub region: String,
    /// Another endpoint for every AWS call (a local simulator, a proxy); default: AWS.
    #[serde(default)]
    pub endpoint_url: Option<String>,
}

/// An ExternalId given as is, or the rule that derives it from `{project}`,
/// `{environment}` and `{accountId}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalId {
    #[serde(default)]
    pub value: Option<Secret>,
    /// A rule is as good as the values it derives: whoever reads it knows every account's
    /// ExternalId, so it is kept and shown as a secret.
    #[serde(default)]
    pub rule: Option<Secret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetAccount {
    pub account_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub external_id: Option<ExternalId>,
    /// Staging accounts whose source servers this account recovers through extended source
    /// servers (`staging.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub staging_accounts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Concurrency {
    /// AWS calls in flight over all accounts and regions.
    #[serde(default = "c_overall")]
    pub overall: usize,
    /// AWS calls in flight in one account x region.
    #[serde(default = "c_partition")]
    pub per_partition: usize,
}

fn c_overall() -> usize {
    64
}
fn c_partition() -> usize {
    4
}

impl Default for Concurrency {
    fn default() -> Self {
        Self { overall: c_overall(), per_partition: c_partition() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryMode {
    Standard,
    Adaptive,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retry {
    #[serde(default = "r_mode")]
    pub mode: RetryMode,
    #[serde(default = "r_attempts")]
    pub max_attempts: u32,
    /// Each attempt of an AWS call ends within this (a hung connection is retried).
    #[serde(default = "r_attempt_seconds")]
    pub attempt_timeout_seconds: u64,
    /// A call with all its retries ends within this: a partition that does not answer is
    /// recorded as unreachable rather than holding the whole status check.
    #[serde(default = "r_operation_seconds")]
    pub operation_timeout_seconds: u64,
    /// The first retry's backoff ceiling (the SDK's default is 1,000 ms); each retry doubles it.
    #[serde(default = "r_initial_backoff")]
    pub initial_backoff_millis: u64,
}

fn r_initial_backoff() -> u64 {
    1000
}

fn r_attempt_seconds() -> u64 {
    20
}
fn r_operation_seconds() -> u64 {
    60
}

fn r_mode() -> RetryMode {
    RetryMode::Standard
}
fn r_attempts() -> u32 {
    8
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            mode: r_mode(),
            max_attempts: r_attempts(),
            attempt_timeout_seconds: r_attempt_seconds(),
            operation_timeout_seconds: r_operation_seconds(),
            initial_backoff_millis: r_initial_backoff(),
        }
    }
}

/// DRS quotas per account per region (sources disagree, so each is a setting).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quotas {
    #[serde(default = "q_per_job")]
    pub servers_per_job: usize,
    #[serde(default = "q_active")]
    pub servers_in_active_jobs: usize,
    #[serde(default = "q_jobs")]
    pub concurrent_jobs: usize,
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

impl Default for Quotas {
    fn default() -> Self {
        Self { servers_per_job: q_per_job(), servers_in_active_jobs: q_active(), concurrent_jobs: q_jobs() }
    }
}

/// One account x region the module works in, with the role and ExternalId to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Partition {
    pub account: String,
    pub region: String,
}

/// A partition written `account/region` that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an account x region (written <12-digit account>/<region>)")]
pub struct BadPartition(pub String);

/// `account/region`, parsed once where it is read (a plan, a record).
impl std::str::FromStr for Partition {
    type Err = BadPartition;
    fn from_str(s: &str) -> Result<Partition, BadPartition> {
        let bad = || BadPartition(s.chars().take(64).collect());
        let (account, region) = s.split_once('/').ok_or_else(bad)?;
        if !crate::resource::values::is_account(account) || !crate::resource::values::is_region(region) {
            return Err(bad());
        }
        Ok(Partition { account: account.into(), region: region.into() })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

impl ModuleConfig {
    pub fn parse(text: &str) -> anyhow::Result<ModuleConfig> {
        let value: serde_json::Value = serde_json::from_str(text).context("the module configuration is not JSON")?;
        Self::from_value(value)
    }

    pub fn load(path: &Path) -> anyhow::Result<ModuleConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("module configuration {}", path.display()))
    }

    pub fn from_value(value: serde_json::Value) -> anyhow::Result<ModuleConfig> {
        SCHEMA.validate(&value, "the module configuration")?;
        // The path names the field the schema let through but the types refuse.
        let cfg: ModuleConfig =
            serde_path_to_error::deserialize(&value).context("the module configuration does not match its shape")?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            if !seen.insert(&a.account_id) {
                bail!("accounts[{i}].accountId: {} is listed twice", a.account_id);
            }
            if let Some(rs) = &a.regions {
                if let Some(r) = rs.iter().find(|r| !self.regions.contains(r)) {
                    bail!("accounts[{i}].regions: {r} is not one of the DRS regions listed in `regions`");
                }
            }
            self.external_id_for(&a.account_id).with_context(|| format!("accounts[{i}].externalId"))?;
            staging::check(i, a)?;
        }
        for (name, t) in self.hooks.iter().flat_map(|h| &h.tenants) {
            if let Some(a) = t.accounts.iter().find(|a| !seen.contains(a)) {
                bail!("hooks.tenants.{name}.accounts: {a} is not one of the configured accounts");
            }
            if let Some(r) = t.regions.iter().flatten().find(|r| !self.regions.contains(r)) {
                bail!("hooks.tenants.{name}.regions: {r} is not one of the DRS regions listed in `regions`");
            }
        }
        Ok(())
    }

    pub fn account(&self, id: &str) -> Option<&TargetAccount> {
        self.accounts.iter().find(|a| a.account_id == id)
    }

    pub fn role_name_for(&self, account: &str) -> &str {
        self.account(account).and_then(|a| a.role_name.as_deref()).unwrap_or(&self.role_name)
    }

    /// The ExternalId for an account: its own setting, else the module's; a value wins over
    /// a rule.
    pub fn external_id_for(&self, account: &str) -> anyhow::Result<Secret> {
        let setting = self.account(account).and_then(|a| a.external_id.as_ref()).unwrap_or(&self.external_id);
        if let Some(v) = &setting.value {
            return Ok(v.clone());
        }
        match &setting.rule {
            Some(rule) => {
                let id = rule
                    .expose()
                    .replace("{project}", &self.project)
                    .replace("{environment}", &self.environment)
                    .replace("{accountId}", account);
                if let Some(start) = id.find('{') {
                    // Only the unknown placeholder is named: the rest of a rule may be secret.
                    let placeholder: String = id[start..].chars().take_while(|c| *c != '}').chain(Some('}')).collect();
                    bail!(
                        "the ExternalId rule has a placeholder {placeholder} other than {{project}}, {{environment}}, {{accountId}}"
                    );
                }
                Ok(Secret::new(id))
            }
            None => bail!("externalId needs a value or a rule"),
        }
    }

    /// Every account x region, in a stable order.
    pub fn partitions(&self) -> Vec<Partition> {
        let mut out: Vec<Partition> = self
            .accounts
            .iter()
            .flat_map(|a| {
                a.regions
                    .as_ref()
                    .unwrap_or(&self.regions)
                    .iter()
                    .map(|r| Partition { account: a.account_id.clone(), region: r.clone() })
            })
            .collect();
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "project": "drsorch", "environment": "demo",
            "hub": {"region": "us-east-1"},
            "roleName": "drs-orchestrator-target",
            "externalId": {"rule": "{project}-{environment}-{accountId}"},
            "regions": ["us-east-1", "us-west-2"],
            "accounts": [{"accountId": "200000000001"}, {"accountId": "200000000002", "regions": ["us-west-2"],
                          "externalId": {"value": "special-id"}}]
        })
    }

    #[test]
    fn rule_and_value_derive_external_ids() {
        let c = ModuleConfig::from_value(base()).unwrap();
        assert_eq!(c.external_id_for("200000000001").unwrap().expose(), "drsorch-demo-200000000001");
        assert_eq!(c.external_id_for("200000000002").unwrap().expose(), "special-id");
        assert_eq!(c.partitions().len(), 3);
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = base();
        v["accounts"][0]["accountId"] = "12345".into();
        let e = format!("{:#}", ModuleConfig::from_value(v).unwrap_err());
        assert!(e.contains("/accounts/0/accountId"), "{e}");

        let mut v = base();
        v["accounts"][1]["regions"] = json!(["eu-west-1"]);
        let e = format!("{:#}", ModuleConfig::from_value(v).unwrap_err());
        assert!(e.contains("accounts[1].regions") && e.contains("eu-west-1"), "{e}");

        let mut v = base();
        v["externalId"] = json!({"rule": "{project}-{stage}"});
        let e = format!("{:#}", ModuleConfig::from_value(v).unwrap_err());
        assert!(e.contains("accounts[0].externalId") && e.contains("{stage}"), "{e}");
    }

    /// A secret in a bad configuration is never printed: each error names the field and
    /// masks the value, whatever rule it breaks.
    #[test]
    fn errors_never_print_a_secret_value() {
        const SECRET: &str = "Sup3rSecr3tExternalIdValue";
        type Breaker = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(&str, Breaker)> = vec![
            ("/externalId/value", Box::new(|v| v["externalId"] = json!({"value": format!("{SECRET} with spaces!")}))),
            ("/externalId/value", Box::new(|v| v["externalId"] = json!({"value": SECRET.repeat(60)}))),
            ("/accounts/1/externalId", Box::new(|v| v["accounts"][1]["externalId"] = json!({"value": format!("{SECRET}#")}))),
            ("/externalId", Box::new(|v| v["externalId"] = json!({"value": SECRET, "token": SECRET}))),
            ("/externalId", Box::new(|v| v["externalId"] = json!(SECRET))),
            ("/hub", Box::new(|v| v["hub"]["secretAccessKey"] = json!(SECRET))),
            ("/project", Box::new(|v| v["project"] = json!(format!("{SECRET}!")))),
            ("accounts[0].externalId", Box::new(|v| v["externalId"] = json!({"rule": format!("{SECRET}-{{stage}}")}))),
        ];
        for (field, break_it) in cases {
            let mut v = base();
            break_it(&mut v);
            let err = ModuleConfig::from_value(v.clone()).unwrap_err();
            for text in [format!("{err}"), format!("{err:#}"), format!("{err:?}")] {
                assert!(text.contains(field), "names {field}: {text}");
                assert!(!text.contains(SECRET), "the secret leaked through {field}: {text}");
            }
            let parsed = ModuleConfig::parse(&v.to_string()).unwrap_err();
            assert!(!format!("{parsed:#}").contains(SECRET), "{parsed:#}");
        }
        // A rule derives every account's ExternalId: a configuration printed or serialized
        // for a log shows it masked.
        let mut v = base();
        v["externalId"] = json!({"rule": format!("{SECRET}-{{accountId}}")});
        let c = ModuleConfig::from_value(v).unwrap();
        for text in [format!("{c:?}"), serde_json::to_string(&c).unwrap()] {
            assert!(!text.contains(SECRET), "the rule leaked: {text}");
        }
        assert_eq!(c.external_id_for("200000000001").unwrap().expose(), format!("{SECRET}-200000000001"));
        // Not JSON at all: the parser's error points at a place, not at the text.
        let e = ModuleConfig::parse(&format!("{{\"externalId\": {{\"value\": \"{SECRET}\"")).unwrap_err();
        assert!(!format!("{e:#}").contains(SECRET), "{e:#}");
    }

    #[test]
    fn a_configuration_serializes_its_external_id_masked() {
        let mut v = base();
        v["externalId"] = json!({"value": "Sup3rSecr3tExternalIdValue"});
        let c = ModuleConfig::from_value(v).unwrap();
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("Sup3rSecr3tExternalIdValue"), "{text}");
        assert!(!format!("{c:?}").contains("Sup3rSecr3tExternalIdValue"));
    }
}
