//! The Lambda `bootstrap`: the DRS module behind the platform's lifecycle events, and the
//! hub's own entries (`{"Entry": "readiness" | "tags-sync"}`, from its schedules and its
//! tag-change rule; `drs_module::entries`), whose EMF lines go to the log the same way, and ARC
//! Region switch's custom-action Lambda calls (`drs_module::arc`: `InProgress` until the run
//! ends, so that ARC calls again). The module
//! configuration comes from `DRS_ORCH_CONFIG` (JSON), `DRS_ORCH_CONFIG_FILE` (a path) or
//! `DRS_ORCH_CONFIG_SOURCE` (an SSM SecureString parameter or a Secrets Manager secret, read
//! once at cold start: see `drs_module::config::source`); the hub identity is the function's
//! role (the default credential chain).

use aws_config::BehaviorVersion;
use drs_module::aws::Clients;
use drs_module::config::source::{ConfigSource, SourceError};
use drs_module::config::ModuleConfig;
use drs_module::lifecycle::{handle_detailed, LifecycleError};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

/// The Lambda error type is the lifecycle's code (`InvalidEvent`, `PreflightBlocked`, ...).
#[derive(Debug)]
struct Failure(LifecycleError);

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        Diagnostic { error_type: f.0.code.as_str().to_owned(), error_message: f.0.message }
    }
}

/// The configuration from the source the environment names. The function's own identity
/// (region and endpoint from the Lambda environment) reads SSM or Secrets Manager.
async fn config() -> Result<ModuleConfig, SourceError> {
    let source = ConfigSource::from_env()?;
    let own = aws_config::defaults(BehaviorVersion::latest()).load().await;
    source.load(&own).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into())
                .add_directive(drs_module::secret::SDK_LOG_CAP.parse().expect("the SDK log cap is a valid directive")),
        )
        .without_time()
        .init();
    let cfg = Arc::new(config().await?);
    let clients = Arc::new(Clients::from_environment(cfg, "lambda").await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let clients = clients.clone();
        async move {
            // EMF metric documents go to the log as lines of their own (CloudWatch turns them
            // into metrics), not inside a tracing event.
            // On the heap: the lifecycle's future is large, and the runtime's loop holds it.
            let result = Box::pin(handle_detailed(&clients, &event.payload)).await;
            let metrics = match &result {
                Ok(h) => &h.metrics,
                Err(e) => &e.metrics,
            };
            for m in metrics {
                println!("{m}");
            }
            result.map(|h| h.answer).map_err(Failure)
        }
    }))
    .await
}
