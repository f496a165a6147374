//! The HTTP front: one endpoint for every service. A request is told apart the way AWS
//! does (the SigV4 credential scope names the service; the operation comes from the path,
//! the form's `Action` or `X-Amz-Target`), authenticated, passed through the injected
//! faults, authorized against the caller's role, answered, and logged.

use crate::calls::{mask, CallRecord};
use crate::clock::iso;
use crate::ctx::{Ctx, Request};
use crate::faults::{CallKey, CrashPoint, Verdict};
use crate::identity::IdentityError;
use crate::protocol::{self, form::Form, outage, protocol_of, refused, throttled, ApiError, AuthFailure, Protocol, Reply};
use crate::sigv4;
use crate::world::World;
use crate::{control, drs, dynamodb, ec2, iam, s3, secrets, sfn, sts};
use bytes::Bytes;
use chrono::Utc;
use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running simulator.
pub struct SimServer {
    pub endpoint: String,
    pub addr: SocketAddr,
    pub world: Arc<World>,
    task: tokio::task::JoinHandle<()>,
}

impl SimServer {
    /// Binds 127.0.0.1:`port` (0 for any free port) and serves until dropped.
    pub async fn start(world: World, port: u16) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let world = Arc::new(world);
        let w = world.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let w = w.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let w = w.clone();
                        async move { serve(&w, req).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(SimServer { endpoint: format!("http://{addr}"), addr, world, task })
    }

    /// The hub identity as `drs-sim serve` prints it.
    pub fn identity_json(&self) -> Value {
        serde_json::json!({
            "endpoint": self.endpoint,
            "region": self.world.hub.region,
            "accountId": self.world.hub.account_id,
            "accessKeyId": self.world.hub.access_key_id,
            "secretAccessKey": self.world.hub.secret_access_key,
        })
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A reply that an injected crash loses. Handing hyper an error instead of a response makes
/// it close the connection without writing anything, so the client sees the request sent and
/// no answer: an I/O failure its SDK treats as transient.
#[derive(Debug, thiserror::Error)]
#[error("the reply was lost to an injected crash")]
struct ReplyLost;

async fn serve(world: &World, req: hyper::Request<Incoming>) -> Result<Reply, ReplyLost> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    };
    let arrived = tokio::time::Instant::now();
    let answer = answer(world, &request);
    // Injected latency is the call's whole time: the reply is computed on arrival and held
    // until the latency has passed, so the simulator's own work does not add to it.
    if let Some(latency) = answer.latency {
        tokio::time::sleep_until(arrived + latency).await;
    }
    match answer.lost {
        true => Err(ReplyLost),
        false => Ok(answer.reply),
    }
}

/// How the simulator answers one request, before any injected latency is waited out.
pub struct Answer {
    pub reply: Reply,
    /// An injected crash loses the reply: the client gets no answer at all.
    pub lost: bool,
    /// Injected latency: the reply is held until this long after the request arrived.
    pub latency: Option<std::time::Duration>,
}

/// Routes one request as it arrived over HTTP (the control endpoint's, or an AWS call told
/// apart, authenticated, authorized and answered) and answers it. What the server does for
/// every request, minus the wait for injected latency: callers in process (the fuzzer) drive
/// the whole routing with it.
pub fn answer(world: &World, request: &Request) -> Answer {
    if request.path.starts_with("/_sim/") {
        return Answer { reply: control::handle(world, request), lost: false, latency: None };
    }
    handle_aws(world, request)
}

/// The protocol a request speaks, judged from the request alone (for unsigned ones).
fn guess_protocol(req: &Request) -> Protocol {
    if req.headers.contains_key("x-amz-target") {
        Protocol::AwsJson10
    } else if req.headers.contains_key("x-amz-content-sha256") && req.path != "/" {
        // S3 alone requires the payload's hash header.
        Protocol::RestXml
    } else if req.method == Method::POST && req.path == "/" {
        Protocol::Ec2Query
    } else {
        Protocol::RestJson1
    }
}

fn handle_aws(world: &World, req: &Request) -> Answer {
    let request_id = crate::ids::request_id();
    let now = world.clock.now();
    let mut record = CallRecord {
        seq: 0,
        real_time: iso(Utc::now()),
        sim_time: iso(now),
        service: String::new(),
        operation: String::new(),
        account: String::new(),
        region: String::new(),
        role: String::new(),
        request: Value::Null,
        status: 0,
        error: None,
        fault: None,
        actions: vec![],
        allowed_by: vec![],
    };
    let mut latency = None;
    let reply = match handle_signed(world, req, &request_id, &mut record, &mut latency) {
        Ok(r) => r,
        Err((protocol, e)) => {
            record.error = Some(e.code.clone());
            e.render(protocol, &request_id)
        }
    };
    record.status = reply.status().as_u16();
    let lost = record.fault == Some(CrashPoint::Lost);
    let s3 = record.service == "s3";
    world.calls.push(record);
    let mut reply = reply;
    if s3 {
        reply.headers_mut().insert("x-amz-request-id", protocol::hv(&request_id));
        // A HEAD answer has no body, its errors included.
        if req.method == Method::HEAD {
            *reply.body_mut() = http_body_util::Full::new(Bytes::new());
        }
    }
    reply.headers_mut().insert("x-amzn-requestid", protocol::hv(&request_id));
    Answer { reply, lost, latency }
}

fn handle_signed(
    world: &World,
    req: &Request,
    request_id: &str,
    record: &mut CallRecord,
    latency: &mut Option<std::time::Duration>,
) -> Result<Reply, (Protocol, ApiError)> {
    let auth = sigv4::parse_authorization(&req.headers).map_err(|e| {
        let protocol = guess_protocol(req);
        (protocol, protocol::signature_refused(protocol, e))
    })?;
    let protocol = protocol_of(&auth.service).ok_or_else(|| {
        (
            guess_protocol(req),
            ApiError::new(400, "UnknownService", format!("Credential: the scope's service '{}' is not simulated", auth.service)),
        )
    })?;
    let fail = |e: ApiError| (protocol, e);
    let form = matches!(protocol, Protocol::AwsQuery | Protocol::Ec2Query).then(|| Form::parse(&req.body, &req.query));
    // A scope naming another service is answered in the protocol of the one the request speaks.
    let host = req.headers.get(http::header::HOST).and_then(|v| v.to_str().ok());
    let requested = requested_service(protocol, req, form.as_ref());
    sigv4::check_scope(&auth, requested, host).map_err(|e| {
        let spoken = requested.and_then(protocol_of).unwrap_or(protocol);
        (spoken, protocol::signature_refused(spoken, e))
    })?;
    let operation = operation_of(protocol, &auth.service, req, form.as_ref()).map_err(fail)?;
    record.service = auth.service.clone();
    record.operation = operation.clone();
    record.region = auth.region.clone();
    record.request = summarize(protocol, req, form.as_ref());

    let session_token = req.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    let cred = world.identities.resolve(&auth.access_key, session_token, world.clock.lifetime_now()).map_err(|e| {
        fail(match e {
            IdentityError::UnknownKey | IdentityError::BadSessionToken => AuthFailure::UnknownKey.error(protocol),
            IdentityError::Expired => AuthFailure::Expired.error(protocol),
        })
    })?;
    record.account = cred.principal.account.clone();
    record.role = cred.principal.role_arn();
    let signed = sigv4::SignedRequest {
        method: req.method.as_str(),
        raw_path: &req.path,
        raw_query: &req.query,
        headers: &req.headers,
        body: &req.body,
    };
    sigv4::verify(&auth, &cred.secret, &signed).map_err(|e| fail(protocol::signature_refused(protocol, e)))?;

    // What the call is authorized as, recorded whether or not a fault or the role stops it.
    let call = iam::requests::Call {
        world,
        principal: &cred.principal,
        service: &auth.service,
        operation: &operation,
        region: &auth.region,
        request: req,
        form: form.as_ref(),
    };
    let requests = iam::requests::of(&call);
    let dependent = iam::dependent::requests(&call);
    record.actions = requests.iter().map(|n| n.action.clone()).collect::<BTreeSet<_>>().into_iter().collect();

    let key = CallKey {
        account: cred.principal.account.clone(),
        region: auth.region.clone(),
        service: auth.service.clone(),
        operation: operation.clone(),
    };
    *latency = world.faults.latency(&key);
    match world.faults.check(&key) {
        Verdict::Pass => {}
        Verdict::Throttled { retry_after_seconds } => return Err(fail(throttled(protocol, retry_after_seconds))),
        Verdict::Outage { status } => return Err(fail(outage(protocol, status))),
    }
    // The caller's identity policy decides each request, then those DRS makes with the
    // caller's permissions: a role without a dependent action cannot launch through DRS.
    let caller = cred.principal.caller_arn();
    let allowed = world.authorize(&cred.principal, &requests).and_then(|mut by| {
        let on_behalf = world.authorize(&cred.principal, &dependent).map_err(|d| d.on_behalf_of(&operation))?;
        by.extend(on_behalf);
        Ok(by)
    });
    match allowed {
        Ok(by) => record.allowed_by = by.into_iter().collect::<BTreeSet<_>>().into_iter().collect(),
        Err(denial) => {
            let message = denial.message(&caller);
            return Err(fail(match auth.service.as_str() {
                "dynamodb" => dynamodb::iam::access_denied(message),
                _ => protocol::access_denied(protocol, message),
            }));
        }
    }
    // Crashes count only calls that would otherwise be served, so the Nth is the Nth attempt
    // at the operation itself.
    record.fault = world.faults.crash(&key);
    if record.fault == Some(CrashPoint::Before) {
        return Err(fail(refused(protocol)));
    }
    let ctx = Ctx { world, principal: cred.principal, region: auth.region.clone(), request_id: request_id.to_owned() };
    let form = form.unwrap_or_else(|| Form::parse(b"", ""));
    match protocol {
        Protocol::RestJson1 => drs::handle(&ctx, &operation, req),
        Protocol::AwsJson10 if auth.service == "dynamodb" => dynamodb::handle(&ctx, &operation, &req.body),
        Protocol::AwsJson10 => sfn::handle(&ctx, &operation, &req.body),
        Protocol::AwsJson11 => secrets::handle(&ctx, &auth.service, &operation, &req.body),
        Protocol::AwsQuery => sts::handle(&ctx, &operation, &form),
        Protocol::Ec2Query => ec2::handle(&ctx, &operation, &form),
        Protocol::RestXml => s3::handle(&ctx, &operation, req),
    }
    .map_err(fail)
}

/// The service a request speaks by its own content: its X-Amz-Target's prefix, its query API
/// version, or (restJson1) DRS, the one such service simulated. None when it names none
/// known: finding the operation refuses it then.
fn requested_service(protocol: Protocol, req: &Request, form: Option<&Form>) -> Option<&'static str> {
    const TARGETS: [(&str, &str); 4] = [
        (dynamodb::TARGET_PREFIX, "dynamodb"),
        ("AWSStepFunctions.", "states"),
        (secrets::SSM_TARGET, "ssm"),
        (secrets::SECRETS_MANAGER_TARGET, "secretsmanager"),
    ];
    match protocol {
        Protocol::AwsJson10 | Protocol::AwsJson11 => {
            let target = req.headers.get("x-amz-target").and_then(|v| v.to_str().ok())?;
            TARGETS.iter().find(|(prefix, _)| target.starts_with(prefix)).map(|(_, service)| *service)
        }
        Protocol::Ec2Query | Protocol::AwsQuery => match form?.get("Version")? {
            "2016-11-15" => Some("ec2"),
            "2011-06-15" => Some("sts"),
            _ => None,
        },
        Protocol::RestJson1 => Some("drs"),
        Protocol::RestXml => Some("s3"),
    }
}

fn operation_of(protocol: Protocol, service: &str, req: &Request, form: Option<&Form>) -> Result<String, ApiError> {
    match protocol {
        Protocol::RestJson1 => {
            if req.path.starts_with("/tags/") {
                return Ok(match req.method {
                    Method::GET => "ListTagsForResource",
                    Method::POST => "TagResource",
                    Method::DELETE => "UntagResource",
                    _ => return Err(ApiError::new(405, "UnknownOperationException", "method not allowed on /tags")),
                }
                .into());
            }
            let op = req.path.trim_start_matches('/');
            if op.is_empty() || op.contains('/') {
                return Err(ApiError::new(404, "UnknownOperationException", format!("no operation at path {}", req.path)));
            }
            Ok(op.to_owned())
        }
        Protocol::AwsJson10 => {
            let prefix = if service == "dynamodb" { dynamodb::TARGET_PREFIX } else { "AWSStepFunctions." };
            req.headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.strip_prefix(prefix))
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::new(400, "UnknownOperationException", format!("X-Amz-Target must be {prefix}<Operation>"))
                })
        }
        Protocol::AwsJson11 => req
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(secrets::SSM_TARGET).or_else(|| t.strip_prefix(secrets::SECRETS_MANAGER_TARGET)))
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "UnknownOperationException",
                    "X-Amz-Target must be AmazonSSM.<Operation> or secretsmanager.<Operation>",
                )
            }),
        Protocol::RestXml => s3::route::operation(req),
        Protocol::AwsQuery | Protocol::Ec2Query => form
            .and_then(|f| f.get("Action"))
            .map(str::to_owned)
            .ok_or_else(|| ApiError::new(400, "MissingAction", "the request has no Action parameter")),
    }
}

const SECRET_KEYS: &[&str] = &["ExternalId", "externalId", "taskToken", "TaskToken", "SessionToken", "SecretAccessKey"];
const SUMMARY_LIMIT: usize = 16 * 1024;
/// The largest body the call log parses (a ledger plan chunk, 350 kB, is read).
const READ_LIMIT: usize = 512 * 1024;

/// Masks every string under a secret's key at any depth: a DynamoDB item's
/// `"taskToken": {"S": "AQ…"}` as much as a top-level `"taskToken": "AQ…"`.
fn mask_secrets(value: &mut Value, secret: bool) {
    match value {
        Value::String(s) if secret => *s = mask(s),
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                mask_secrets(v, secret || SECRET_KEYS.contains(&key.as_str()));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask_secrets(v, secret)),
        _ => {}
    }
}

/// The request's parameters for the call log, with secrets masked.
fn summarize(protocol: Protocol, req: &Request, form: Option<&Form>) -> Value {
    let mut map = Map::new();
    match (protocol, form) {
        (Protocol::AwsQuery | Protocol::Ec2Query, Some(f)) => {
            for (k, v) in f.iter().filter(|(k, _)| *k != "Action" && *k != "Version") {
                map.insert(k.clone(), v.clone().into());
            }
        }
        (Protocol::RestXml, _) => {
            // The object's bytes are a report, not parameters: its path and size alone.
            map.insert("path".into(), req.path.clone().into());
            if !req.query.is_empty() {
                map.insert("query".into(), req.query.clone().into());
            }
            if !req.body.is_empty() {
                map.insert("bytes".into(), req.body.len().into());
            }
        }
        // A body far past what the log keeps is not read for it: parsing, masking and
        // serializing a megabyte to keep 16 KiB of it cost more than the call itself.
        _ if req.body.len() > READ_LIMIT => {
            let why = format!("a body of {} bytes, over the {} KiB the call log reads", req.body.len(), READ_LIMIT / 1024);
            map.insert("omitted".into(), why.into());
        }
        _ => {
            if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&req.body) {
                map = m;
            }
            if req.path.starts_with("/tags/") {
                map.insert("resourceArn".into(), percent_encoding::percent_decode_str(&req.path[6..]).decode_utf8_lossy().into());
                if !req.query.is_empty() {
                    map.insert("query".into(), req.query.clone().into());
                }
            }
        }
    }
    let mut value = Value::Object(map);
    mask_secrets(&mut value, false);
    let text = value.to_string();
    if text.len() > SUMMARY_LIMIT {
        return Value::String(text.chars().take(SUMMARY_LIMIT).collect());
    }
    value
}
