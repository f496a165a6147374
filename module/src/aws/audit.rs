//! An audit record per cross-account write: every call the module makes in an account x
//! region that changes something (not `Describe*`, `Get*`, `List*`) leaves one structured
//! event, target `drs_orch::audit`: when, which run (the execution, or the phase and resource
//! before one is known), the account and region, the operation, the resource ids it names,
//! the outcome (HTTP status and the service's error code) and the request id AWS gave it, so
//! that CloudTrail in a target account ties back to a run. It is read from the SDK's own
//! request and response (an interceptor on every partition client), so no write path can
//! forget it. Only ids are taken from the request: no body, no header, no secret.

use crate::config::Partition;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use serde::Serialize;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

tokio::task_local! {
    /// The run the calls of this task belong to.
    static RUN: RefCell<String>;
}

/// Runs `f` with its writes audited under `label` (renamed by `name_run` once the execution is
/// known).
pub async fn scope<F: std::future::Future>(label: String, f: F) -> F::Output {
    RUN.scope(RefCell::new(label), f).await
}

/// The execution the current task's writes belong to, from here on.
pub fn name_run(execution: &str) {
    let _ = RUN.try_with(|r| *r.borrow_mut() = execution.to_owned());
}

fn current_run() -> String {
    RUN.try_with(|r| r.borrow().clone()).unwrap_or_default()
}

/// Ids a record names at most.
const MAX_IDS: usize = 50;

/// One write, as recorded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub at: String,
    pub execution: String,
    pub account: String,
    pub region: String,
    pub service: String,
    pub operation: String,
    pub resources: Vec<String>,
    /// `ok`, or `http <status>` with the service's error code when it gave one.
    pub outcome: String,
    pub request_id: Option<String>,
}

/// The ids a write names, kept between the request and the answer.
#[derive(Debug, Clone)]
struct Ids(Vec<String>);

impl Storable for Ids {
    type Storer = StoreReplace<Ids>;
}

/// The SDK interceptor of one partition's clients.
pub struct Audit {
    partition: Partition,
    clock: std::sync::Arc<dyn crate::time::Clock>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Audit({})", self.partition)
    }
}

impl Audit {
    pub fn new(partition: Partition, clock: std::sync::Arc<dyn crate::time::Clock>) -> Audit {
        Audit { partition, clock }
    }
}

/// Whether an operation changes something.
pub fn is_write(operation: &str) -> bool {
    !["Describe", "Get", "List"].iter().any(|p| operation.starts_with(p))
}

impl Intercept for Audit {
    fn name(&self) -> &'static str {
        "drs-orch audit"
    }

    /// The ids are read from the request while it is there (it goes to the HTTP client).
    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<Metadata>().is_some_and(|m| is_write(m.name())) {
            let ids = resource_ids(ctx.request().body().bytes().unwrap_or_default());
            cfg.interceptor_state().store_put(Ids(ids));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else { return Ok(()) };
        if !is_write(meta.name()) {
            return Ok(());
        }
        let response = ctx.response();
        let header = |name: &str| response.and_then(|r| r.headers().get(name)).map(str::to_owned);
        let outcome = match response.map(|r| r.status().as_u16()) {
            Some(s) if (200..300).contains(&s) => "ok".to_owned(),
            Some(s) => match header("x-amzn-errortype") {
                Some(code) => format!("http {s} {}", code.split(':').next().unwrap_or_default()),
                None => format!("http {s}"),
            },
            None => "no response".to_owned(),
        };
        emit(Record {
            at: crate::time::secs(&self.clock.now()),
            execution: current_run(),
            account: self.partition.account.clone(),
            region: self.partition.region.clone(),
            service: meta.service().to_owned(),
            operation: meta.name().to_owned(),
            resources: cfg.load::<Ids>().map(|i| i.0.clone()).unwrap_or_default(),
            outcome,
            request_id: header("x-amzn-requestid").or_else(|| header("x-amz-request-id")),
        });
        Ok(())
    }
}

/// The resource ids a request names: JSON values under keys that name ids or ARNs (DRS), form
/// values under such keys (EC2's query protocol). Values are kept only when they look like an
/// id (no spaces, bounded), so a tag value or a token never lands here.
pub fn resource_ids(body: &[u8]) -> Vec<String> {
    let mut out = vec![];
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        json_ids(&v, None, &mut out);
    } else if let Ok(text) = std::str::from_utf8(body) {
        for (k, v) in text.split('&').filter_map(|kv| kv.split_once('=')) {
            let key = k.rsplit('.').find(|part| part.parse::<u32>().is_err()).unwrap_or(k);
            if names_an_id(key) {
                push_id(&percent_decode(v), &mut out);
            }
        }
    }
    out.sort();
    out.dedup();
    out.truncate(MAX_IDS);
    out
}

fn json_ids(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| json_ids(x, Some(k), out)),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_ids(x, key, out)),
        serde_json::Value::String(s) if key.is_some_and(names_an_id) => push_id(s, out),
        _ => {}
    }
}

fn names_an_id(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    (k.ends_with("id") || k.ends_with("ids") || k.ends_with("arn")) && !k.contains("token") && !k.contains("externalid")
}

fn push_id(s: &str, out: &mut Vec<String>) {
    if !s.is_empty() && s.len() <= 256 && !s.contains(char::is_whitespace) {
        out.push(s.to_owned());
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

static CAPTURING: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<Record>> = Mutex::new(Vec::new());

/// Keeps every record from here on in memory, for `captured` (tests and benchmarks).
pub fn capture() {
    CAPTURING.store(true, Ordering::SeqCst);
}

/// The records kept since `capture`.
pub fn captured() -> Vec<Record> {
    CAPTURED.lock().map(|c| c.clone()).unwrap_or_default()
}

fn emit(r: Record) {
    tracing::info!(
        target: "drs_orch::audit",
        at = %r.at,
        execution = %r.execution,
        account = %r.account,
        region = %r.region,
        service = %r.service,
        operation = %r.operation,
        resources = %r.resources.join(","),
        outcome = %r.outcome,
        request_id = r.request_id.as_deref().unwrap_or(""),
        "audit"
    );
    if CAPTURING.load(Ordering::SeqCst) {
        if let Ok(mut c) = CAPTURED.lock() {
            c.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_json_and_forms_and_nothing_else() {
        let drs = br#"{"sourceServers": [{"sourceServerID": "s-1"}, {"sourceServerID": "s-2"}], "isDrill": true,
                       "tags": {"drs-orch:execution": "x y"}, "recoveryInstanceIDs": ["i-9"]}"#;
        assert_eq!(resource_ids(drs), ["i-9", "s-1", "s-2"]);
        let ec2 = b"Action=CreateTags&ResourceId.1=lt-0abc&Tag.1.Key=Name&Tag.1.Value=secret+value&Version=2016-11-15";
        assert_eq!(resource_ids(ec2), ["lt-0abc"]);
        let sts = b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&ExternalId=Sup3rS3cret&SerialNumber=x";
        assert_eq!(resource_ids(sts), ["arn:aws:iam::1:role/r"], "never the ExternalId");
        assert!(
            is_write("StartRecovery") && is_write("CreateTags") && !is_write("DescribeJobs") && !is_write("ListTagsForResource")
        );
    }
}
