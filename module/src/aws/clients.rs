//! The cross-account client factory: AssumeRole (with the ExternalId and a session name that
//! names the execution) through the hub region's STS endpoint; credentials cached per
//! (account, role) and refreshed before they expire by the SDK's own cache; one SDK
//! configuration per (account, region) with the SDK's retry absorbing throttling.

use crate::config::{ModuleConfig, Partition, RetryMode};
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::tls;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// (account, role, session name): one assumed-role session.
type SessionKey = (String, String, String);

/// Assumed-role sessions kept at most (account x role x run).
const MAX_CACHED_SESSIONS: usize = 1024;

/// Cheap to clone: clones share the caches, so tasks spawned per partition reuse them.
#[derive(Clone)]
pub struct Clients {
    cfg: Arc<ModuleConfig>,
    /// The hub's own configuration (its credentials call STS).
    hub: SdkConfig,
    session_name: String,
    /// By (account, role, session name): each run's sessions carry its execution id.
    credentials: Arc<Mutex<HashMap<SessionKey, SharedCredentialsProvider>>>,
    configs: Arc<parking_lot::Mutex<HashMap<(Partition, String), SdkConfig>>>,
    /// The module's time (`time::Clock`): the system's unless `with_clock` says otherwise.
    clock: Arc<dyn crate::time::Clock>,
}

impl Clients {
    /// `hub` carries the hub's credentials; the endpoint and retry come from `cfg`.
    pub fn new(cfg: Arc<ModuleConfig>, hub: SdkConfig, execution: &str) -> Clients {
        let mut b = hub.to_builder();
        b.set_region(Some(Region::new(cfg.hub.region.clone())));
        if let Some(url) = &cfg.hub.endpoint_url {
            b.set_endpoint_url(Some(url.clone()));
        }
        b.set_retry_config(Some(retry_config(&cfg)));
        b.set_timeout_config(Some(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(cfg.retry.attempt_timeout_seconds))
                .operation_timeout(Duration::from_secs(cfg.retry.operation_timeout_seconds))
                .connect_timeout(Duration::from_secs(cfg.retry.attempt_timeout_seconds.min(10)))
                .build(),
        ));
        // A configuration built by hand may lack these; AssumeRole's cache needs both.
        if hub.time_source().is_none() {
            b.set_time_source(Some(SharedTimeSource::default()));
        }
        if hub.sleep_impl().is_none() {
            b.set_sleep_impl(default_async_sleep());
        }
        // One HTTP client (the SDK's default, rustls with aws-lc) for every service client:
        // each would otherwise build its own connector and load the TLS roots again.
        if hub.http_client().is_none() {
            b.set_http_client(Some(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
                    .build_https(),
            ));
        }
        // One identity cache for every client: each role's credentials are fetched once and
        // refreshed before they expire, whichever region or service asks.
        if hub.identity_cache().is_none() {
            b.set_identity_cache(Some(IdentityCache::lazy().build()));
        }
        Clients {
            session_name: session_name(&cfg.project, execution),
            cfg,
            hub: b.build(),
            credentials: Arc::default(),
            configs: Arc::default(),
            clock: Arc::new(crate::time::SystemClock),
        }
    }

    /// The same clients on another clock (a simulator's).
    pub fn with_clock(mut self, clock: Arc<dyn crate::time::Clock>) -> Clients {
        self.clock = clock;
        self
    }

    /// The same clients acting for one run: their role sessions are named after its
    /// execution, so that CloudTrail in a target account ties each call to the run. The
    /// caches are shared (a warm Lambda keeps each run's sessions until they expire).
    pub fn for_run(&self, execution: &str) -> Clients {
        let mut c = self.clone();
        c.session_name = session_name(&self.cfg.project, execution);
        c
    }

    /// The time by the module's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Which clock `now` reads, as reports state it.
    pub fn clock_name(&self) -> &'static str {
        self.clock.name()
    }

    /// The hub configuration for the default credential chain (the Lambda's role, a profile).
    pub async fn from_environment(cfg: Arc<ModuleConfig>, execution: &str) -> Clients {
        let hub = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(cfg.hub.region.clone())).load().await;
        Self::new(cfg, hub, execution)
    }

    pub fn config(&self) -> &ModuleConfig {
        &self.cfg
    }

    pub fn session_name(&self) -> &str {
        &self.session_name
    }

    pub fn hub(&self) -> &SdkConfig {
        &self.hub
    }

    /// The assumed-role credentials of an account (one provider, so one cache, per role).
    async fn credentials(&self, account: &str) -> anyhow::Result<SharedCredentialsProvider> {
        let role = self.cfg.role_name_for(account).to_owned();
        let mut cache = self.credentials.lock().await;
        let key = (account.to_owned(), role.clone(), self.session_name.clone());
        if let Some(p) = cache.get(&key) {
            return Ok(p.clone());
        }
        // A warm Lambda serves many runs: past the bound, other runs' sessions are dropped
        // (they are assumed again if their run comes back).
        if cache.len() >= MAX_CACHED_SESSIONS {
            cache.retain(|(_, _, s), _| *s == self.session_name);
            self.configs.lock().retain(|(_, s), _| *s == self.session_name);
        }
        let external_id = self.cfg.external_id_for(account)?;
        let provider = AssumeRoleProvider::builder(format!("arn:aws:iam::{account}:role/{role}"))
            .external_id(external_id.expose())
            .session_name(&self.session_name)
            .session_length(Duration::from_secs(self.cfg.session_seconds))
            .region(Region::new(self.cfg.hub.region.clone()))
            .configure(&self.hub)
            .build()
            .await;
        let shared = SharedCredentialsProvider::new(provider);
        cache.insert(key, shared.clone());
        Ok(shared)
    }

    /// Drops an account's assumed-role credentials and configurations, so that the next call
    /// assumes the role again: for a session that ended before the SDK's cache expected
    /// (revoked, or a clock skew), which the SDK's own refresh would not notice.
    pub async fn forget(&self, account: &str) {
        self.credentials.lock().await.retain(|(a, _, _), _| a != account);
        self.configs.lock().retain(|(p, _), _| p.account != account);
    }

    /// Whether an error is a refused session (the caller then `forget`s the account).
    pub fn is_session_refused(e: &anyhow::Error) -> bool {
        e.downcast_ref::<crate::aws::CallFailed>().is_some_and(|c| c.error.kind == crate::aws::errors::Kind::Credentials)
    }

    /// The SDK configuration acting in one account x region.
    pub async fn partition(&self, p: &Partition) -> anyhow::Result<SdkConfig> {
        let key = (p.clone(), self.session_name.clone());
        if let Some(c) = self.configs.lock().get(&key) {
            return Ok(c.clone());
        }
        let creds = self.credentials(&p.account).await?;
        let mut b = self.hub.to_builder();
        b.set_region(Some(Region::new(p.region.clone())));
        b.set_credentials_provider(Some(creds));
        let c = b.build();
        self.configs.lock().insert(key, c.clone());
        Ok(c)
    }

    /// DRS in one account x region; its writes are audited (`audit.rs`).
    pub async fn drs(&self, p: &Partition) -> anyhow::Result<aws_sdk_drs::Client> {
        let conf = aws_sdk_drs::config::Builder::from(&self.partition(p).await?).interceptor(self.audit(p)).build();
        Ok(aws_sdk_drs::Client::from_conf(conf))
    }

    /// EC2 in one account x region; its writes are audited (`audit.rs`).
    pub async fn ec2(&self, p: &Partition) -> anyhow::Result<aws_sdk_ec2::Client> {
        let conf = aws_sdk_ec2::config::Builder::from(&self.partition(p).await?).interceptor(self.audit(p)).build();
        Ok(aws_sdk_ec2::Client::from_conf(conf))
    }

    fn audit(&self, p: &Partition) -> super::audit::Audit {
        super::audit::Audit::new(p.clone(), self.clock.clone())
    }

    pub async fn sts(&self, p: &Partition) -> anyhow::Result<aws_sdk_sts::Client> {
        Ok(aws_sdk_sts::Client::new(&self.partition(p).await?))
    }
}

/// A hub configuration from static keys (the simulator's hub identity, say); `Clients::new`
/// adds the endpoint, retry, HTTP client and caches.
pub fn static_hub(region: &str, access_key_id: &str, secret_access_key: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "static hub keys",
        )))
        .build()
}

fn retry_config(cfg: &ModuleConfig) -> RetryConfig {
    let base = match cfg.retry.mode {
        RetryMode::Standard => RetryConfig::standard(),
        RetryMode::Adaptive => RetryConfig::adaptive(),
    };
    base.with_max_attempts(cfg.retry.max_attempts).with_initial_backoff(Duration::from_millis(cfg.retry.initial_backoff_millis))
}

/// `<project>-<execution>`, cut to STS's 64 characters of `[\w+=,.@-]`.
fn session_name(project: &str, execution: &str) -> String {
    let clean: String = format!("{project}-{execution}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) { c } else { '-' })
        .collect();
    clean.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_names_fit_sts() {
        let s = super::session_name("drsorch", "exec/with spaces:and-a-very-long-identifier-that-keeps-going-and-going");
        assert!(s.len() <= 64 && s.starts_with("drsorch-exec-with-spaces-and"));
    }
}
