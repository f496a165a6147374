//! The simulator's HTTP front, driven in process through `drs_sim::server::answer`: any
//! method, path, query, headers and body, told apart (the control endpoint, or the service
//! by the SigV4 scope and the operation by path, `Action` or `X-Amz-Target`), authenticated,
//! authorized and answered. A request is signed after its mutation, by the SDK's own signer
//! with the credentials the input names, so that mutations reach past the signature check.
//! A 5xx is a server error; a 4xx other than the answer to a routed, well-formed request is
//! a refusal and must name what it refuses.

use super::{Runner, Verdict};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use drs_sim::ctx::Request;
use drs_sim::identity::Principal;
use drs_sim::{Fleet, World};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;
use std::time::SystemTime;

/// The target role's long-term key in the fuzz world (the module gets temporary ones from
/// AssumeRole; the routing after the signature check is the same).
const TARGET_KEY: &str = "AKIAFUZZTARGETROLE01";
const TARGET_SECRET: &str = "fuzz-target-role-secret-not-a-secret";
/// hyper's default bound on a request's head (`max_buf_size`: 8,192 + 4,096 x 100 bytes).
const MAX_HEAD: usize = 8192 + 4096 * 100;
/// The host the requests are addressed to.
const HOST: &str = "127.0.0.1:4566";

/// What a path may not hold as it arrives over HTTP: left percent-encoded, as a client would.
const NOT_IN_PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}').add(b'|').add(b'\\').add(b'^');

/// What the route target's refusals may name besides the input's keys: the headers and form
/// parameters routing reads, and AWS's codes for a refused signature or credential, each of
/// which names the part it refuses (the Authorization header and what it signs) as the SDKs
/// read it.
pub(super) const FIELDS: &[&str] = &[
    "method",
    "path",
    "Authorization",
    "Credential",
    "SignedHeaders",
    "Signature",
    "X-Amz-Date",
    "X-Amz-Target",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "host",
    "Action",
    "Version",
    // DRS's tag operations take these from the path and the query.
    "resourceArn",
    "tagKeys",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "IncompleteSignature",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
];

/// A world over the demo fleet with the target role's key, its clock stopped.
fn world() -> World {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    let world = World::new(fleet);
    let target = Principal { account: "200000000001".into(), role_name: "drs-orchestrator-target".into(), session: None };
    world.identities.add_long_term(TARGET_KEY, TARGET_SECRET, target);
    world
}

/// `{"method", "path", "query", "headers": {name: value}, "body": <text or JSON>, "form":
/// {param: value}, "sign": {"as": "hub" | "target", "service", "region"}}`. A `form` is the
/// body, form-encoded; `sign` signs the request as it stands (no `sign`: sent as the input
/// has it). A control request that changes the world (not a GET) is followed by a fresh world:
/// an injected outage must not turn later inputs' answers into 5xx.
pub(super) fn route() -> Runner {
    let mut world = world();
    let server = drs_sim::ids::stable_source_server_id("200000000001", "us-east-1", "db-01");
    Box::new(move |_, m| {
        // `{server}`: a source server of the target account, so that seeds reach past the lookup.
        // (Most inputs have none: a copy of a 2 MB input costs more than routing it.)
        let value = match names_server(&m.value) {
            true => {
                let mut value = m.value.clone();
                with_server(&mut value, &server);
                std::borrow::Cow::Owned(value)
            }
            false => std::borrow::Cow::Borrowed(&m.value),
        };
        let request = match request(&value, &world) {
            Ok(request) => request,
            Err(refused) => return refused,
        };
        let control = request.path.starts_with("/_sim/") && request.method != Method::GET;
        super::super::engine::begin();
        let answer = drs_sim::server::answer(&world, &request);
        if control {
            world = self::world();
        }
        reply_verdict(answer.reply)
    })
}

fn names_server(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{server}"),
        Value::Array(items) => items.iter().any(names_server),
        Value::Object(map) => map.values().any(names_server),
        _ => false,
    }
}

/// `{server}` in any string of the input, replaced in place.
fn with_server(v: &mut Value, server: &str) {
    match v {
        Value::String(s) if s.contains("{server}") => *s = s.replace("{server}", server),
        Value::Array(items) => items.iter_mut().for_each(|x| with_server(x, server)),
        Value::Object(map) => map.values_mut().for_each(|x| with_server(x, server)),
        _ => {}
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
}

/// The request as HTTP would deliver it: a method HTTP can carry (else POST), a path that
/// parses (what cannot be in one percent-encoded), headers that are valid (others left out,
/// as in the `sigv4` target). A request line and headers longer than hyper reads never reach
/// the router: hyper refuses them (431), and so does this.
fn request(v: &Value, world: &World) -> Result<Request, Verdict> {
    let field = |k: &str| v.get(k).map(text).unwrap_or_default();
    let (path, query) = (field("path"), field("query"));
    let head = path.len() + query.len() + v.get("headers").map_or(0, |h| h.to_string().len());
    if head > MAX_HEAD {
        return Err(Verdict::Rejected(format!("path, query and headers: {head} bytes, more than the {MAX_HEAD} hyper reads")));
    }
    let method = Method::from_bytes(field("method").as_bytes()).unwrap_or(Method::POST);
    let (path, query) = path_and_query(&path, &query);
    let body = match (v.get("form"), v.get("body")) {
        (Some(Value::Object(form)), _) => {
            let mut s = form_urlencoded::Serializer::new(String::new());
            form.iter().for_each(|(k, x)| {
                s.append_pair(k, &text(x));
            });
            s.finish()
        }
        (_, Some(body)) => text(body),
        _ => String::new(),
    };
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(h)) = v.get("headers") {
        for (k, x) in h {
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&text(x))) {
                headers.append(name, value);
            }
        }
    }
    let mut req = Request { method, path, query, headers, body: Bytes::from(body) };
    if let Some(how) = v.get("sign") {
        signed(&mut req, how, world);
    }
    Ok(req)
}

/// The path and query as a server parses them from the request line.
fn path_and_query(path: &str, query: &str) -> (String, String) {
    let line = match query.is_empty() {
        true => path.to_owned(),
        false => format!("{path}?{query}"),
    };
    let parsed = http::uri::PathAndQuery::try_from(line.as_str())
        .or_else(|_| http::uri::PathAndQuery::try_from(utf8_percent_encode(&line, NOT_IN_PATH).to_string().as_str()));
    match parsed {
        Ok(pq) if pq.path().starts_with('/') => (pq.path().to_owned(), pq.query().unwrap_or_default().to_owned()),
        _ => ("/".to_owned(), String::new()),
    }
}

/// Signs `req` as the SDK would, as the hub or the target role, for the service and region
/// asked. A request the signer cannot sign (a header value it will not take) goes unsigned.
fn signed(req: &mut Request, how: &Value, world: &World) {
    let field = |k: &str| how.get(k).map(text).unwrap_or_default();
    let (key, secret) = match field("as").as_str() {
        "hub" => (world.hub.access_key_id.clone(), world.hub.secret_access_key.clone()),
        _ => (TARGET_KEY.to_owned(), TARGET_SECRET.to_owned()),
    };
    let (service, region) = (field("service"), field("region"));
    if !req.headers.contains_key(http::header::HOST) {
        req.headers.insert(http::header::HOST, HeaderValue::from_static(HOST));
    }
    let host = req.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or(HOST).to_owned();
    let uri = match req.query.is_empty() {
        true => format!("http://{host}{}", req.path),
        false => format!("http://{host}{}?{}", req.path, req.query),
    };
    let identity: Identity = Credentials::new(key, secret, None, None, "fuzz").into();
    let Ok(params) = SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name(&service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
    else {
        return;
    };
    let headers: Vec<(String, String)> =
        req.headers.iter().filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect();
    let Ok(signable) = SignableRequest::new(
        req.method.as_str(),
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&req.body),
    ) else {
        return;
    };
    let Ok(signing) = sign(signable, &params.into()) else { return };
    let (instructions, _) = signing.into_parts();
    for (name, value) in instructions.headers() {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            req.headers.insert(name, value);
        }
    }
}

/// 5xx: a server error. 2xx and 3xx: accepted. A 4xx that answers a request routed to its
/// operation (access denied, something not found or not in that state, a condition that does
/// not hold, throttling) is accepted too: the routing did its work. Any other 4xx is a
/// refusal, shown as `<code>: <message>`.
pub(in crate::bench::fuzz) fn reply_verdict(reply: drs_sim::protocol::Reply) -> Verdict {
    let status = reply.status().as_u16();
    let errortype = reply.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = futures::executor::block_on(reply.into_body().collect()).map(|c| c.to_bytes()).unwrap_or_default();
    let (code, message) = error_of(&body, errortype);
    if status >= 500 {
        return Verdict::ServerError(format!("{status} {code}: {message}"));
    }
    if status < 400 || answered(&code) {
        return Verdict::Accepted;
    }
    Verdict::Rejected(format!("{code}: {message}"))
}

/// The error's code and message, from any of the simulator's reply shapes: restJson1 (code in
/// `x-amzn-errortype`), awsJson (`__type`), the query protocols' XML, the control endpoint's
/// `{"error"}`.
fn error_of(body: &[u8], errortype: Option<String>) -> (String, String) {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let message = ["message", "Message", "error"].iter().find_map(|k| v.get(*k).and_then(Value::as_str)).unwrap_or_default();
        let code = errortype
            .or_else(|| v.get("__type").and_then(Value::as_str).map(|t| t.rsplit('#').next().unwrap_or(t).to_owned()))
            .unwrap_or_else(|| "control".to_owned());
        return (code, message.to_owned());
    }
    let xml = String::from_utf8_lossy(body);
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&format!("</{name}>"))? + start;
        let text = &xml[start..end];
        Some(text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&"))
    };
    (element("Code").unwrap_or_default(), element("Message").unwrap_or_else(|| xml.chars().take(200).collect()))
}

fn answered(code: &str) -> bool {
    code.starts_with("AccessDenied")
        || code == "UnauthorizedOperation"
        || code.contains("NotFound")
        || code.ends_with("DoesNotExist")
        || code.ends_with("AlreadyExists")
        || code.starts_with("Conflict")
        || code.starts_with("Throttling")
        || code == "ConditionalCheckFailedException"
        || code == "ResourceInUseException"
        || code == "TaskTimedOut"
        || code == "ParameterNotFound"
        || code == "UninitializedAccountException"
}
