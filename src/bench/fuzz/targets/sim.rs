//! Targets in the simulator's handlers, called as functions (no HTTP, so that millions of
//! inputs run in minutes): the SigV4 header check, DRS and Step Functions JSON bodies
//! (`json-body`), DynamoDB's (`dynamodb`) and EC2 and STS query forms (`query-form`). A 5xx
//! answer is a server error, never an acceptance.

use super::{Runner, Verdict};
use bytes::Bytes;
use drs_sim::ctx::{Ctx, Request};
use drs_sim::generate::LEDGER_TABLE;
use drs_sim::identity::Principal;
use drs_sim::protocol::form::Form;
use drs_sim::protocol::{xml, ApiError};
use drs_sim::sigv4::{self, SigError};
use drs_sim::{Fleet, World};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;

const SECRET: &str = "fuzz-secret-key";

/// A request `{"method", "path", "query", "headers": {name: value}, "body"}`: the
/// Authorization header parsed, then the signature checked. `{now}` and `{today}` in a
/// header stand for the current time, so that checks past the clock skew run too. Headers
/// that HTTP cannot carry are left out: they never reach the simulator.
pub(super) fn sigv4_request(v: &Value) -> Verdict {
    let now = chrono::Utc::now();
    let text = |k: &str| v.get(k).map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).unwrap_or_default();
    let mut headers = HeaderMap::new();
    if let Some(Value::Object(h)) = v.get("headers") {
        for (k, x) in h {
            let x = x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string());
            let x = x
                .replace("{now}", &now.format("%Y%m%dT%H%M%SZ").to_string())
                .replace("{today}", &now.format("%Y%m%d").to_string());
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&x)) {
                headers.append(name, value);
            }
        }
    }
    super::super::engine::begin();
    let auth = match sigv4::parse_authorization(&headers) {
        Ok(a) => a,
        Err(e) => return sig_error(e),
    };
    let (method, path, query, body) = (text("method"), text("path"), text("query"), text("body"));
    let req =
        sigv4::SignedRequest { method: &method, raw_path: &path, raw_query: &query, headers: &headers, body: body.as_bytes() };
    match sigv4::verify(&auth, SECRET, &req) {
        Ok(()) => Verdict::Accepted,
        Err(e) => sig_error(e),
    }
}

/// Each refusal names its field (the header, X-Amz-Date, the Signature, the payload hash, the
/// signed headers, the Credential scope); Malformed carries its own text, which must name it.
fn sig_error(e: SigError) -> Verdict {
    Verdict::Rejected(match e {
        SigError::Missing => "Authorization: missing".into(),
        SigError::TooSkewed => "X-Amz-Date: too far from the server's clock".into(),
        SigError::Mismatch => "Signature: does not match".into(),
        SigError::Malformed(m) => m,
        SigError::PayloadHash => "x-amz-content-sha256: not the body's hash".into(),
        SigError::HostNotSigned => "SignedHeaders: host is not signed".into(),
        SigError::ScopeDate { scope, .. } => format!("Credential: scope date '{scope}' is not X-Amz-Date's day"),
        SigError::ScopeRegion { scope } => format!("Credential: scope region '{scope}' is not the request's"),
        SigError::ScopeService { scope, .. } => format!("Credential: scope service '{scope}' is not the request's"),
    })
}

/// A world over the demo fleet, and the context of a target-account caller in it.
fn world() -> World {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    World::new(fleet)
}

fn ctx(world: &World) -> Ctx<'_> {
    Ctx {
        world,
        principal: Principal {
            account: "200000000001".into(),
            role_name: "drs-orchestrator-target".into(),
            session: Some("fuzz".into()),
        },
        region: "us-east-1".into(),
        request_id: "fuzz".into(),
    }
}

/// A source server of the demo fleet in the caller's account and region: `{server}` in a
/// body stands for it, so that seeds reach past the lookup.
fn a_server() -> String {
    let fleet = Fleet::demo();
    let s = fleet.servers.iter().find(|s| s.account_id == "200000000001" && s.region == "us-east-1");
    s.map(|s| {
        s.source_server_id.clone().unwrap_or_else(|| drs_sim::ids::stable_source_server_id(&s.account_id, &s.region, &s.hostname))
    })
    .unwrap_or_default()
}

/// A DRS (`drs.<Operation>`) or Step Functions (`sfn.<Operation>`) request body, named by
/// its seed, through the service's handler. Refusals of the input are status 400; other
/// answers (not found, conflict, quota) are the service answering a well-formed request.
pub(super) fn json_body() -> Runner {
    let world = world();
    let server = a_server();
    // `{token}`: a task token registered as a platform would have (the demo fleet has none).
    let token = "fuzz-task-token-0001".to_string();
    world.tokens.register(token.clone(), None, None, world.clock.now());
    Box::new(move |seed, m| {
        let seed = seed.strip_prefix("regress-").unwrap_or(seed);
        let (service, op) = seed.split_once('.').unwrap_or(("drs", seed));
        let ctx = ctx(&world);
        let body = Bytes::from(m.text.replace("{server}", &server).replace("{token}", &token).into_bytes());
        super::super::engine::begin();
        let reply = if service == "sfn" {
            drs_sim::sfn::handle(&ctx, op, &body)
        } else {
            let req =
                Request { method: Method::POST, path: format!("/{op}"), query: String::new(), headers: HeaderMap::new(), body };
            drs_sim::drs::handle(&ctx, op, &req)
        };
        api_verdict(reply.map(|_| ()))
    })
}

/// The items every DynamoDB input starts from: `run#1` with sort keys `a#000` to `a#009`, each
/// OPEN with a number, a nested list, a string set and an attribute to remove (`stale`), so that seeds'
/// conditions hold, updates reach into maps and lists, and queries page.
fn ledger_items() -> Vec<Value> {
    (0..10)
        .map(|i| {
            serde_json::json!({"TableName": LEDGER_TABLE, "Item": {
                "pk": {"S": "run#1"}, "sk": {"S": format!("a#{i:03}")}, "phase": {"S": "OPEN"}, "n": {"N": i.to_string()},
                "m": {"M": {"x": {"L": [{"N": "1"}, {"S": "two"}]}}}, "tags": {"SS": ["a", "b"]}, "stale": {"S": "gone soon"}
            }})
        })
        .collect()
}

/// A DynamoDB request body (`<Operation>.<what>.json`) through DynamoDB's handler, as the hub
/// calls it, in a world of its own for each input (the demo's hub and its ledger table holding
/// `ledger_items`): an input's answer does not depend on the inputs before it, and what one
/// input stores is dropped with it. Answers to a well-formed request (a condition that does
/// not hold, a table that is not there) are accepted; refusals of the input are not.
pub(super) fn dynamodb_body() -> Runner {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    fleet.accounts.clear();
    fleet.servers.clear();
    fleet.roles.clear();
    let items: Vec<Bytes> = ledger_items().iter().map(|i| Bytes::from(i.to_string())).collect();
    Box::new(move |seed, m| {
        let seed = seed.strip_prefix("regress-").unwrap_or(seed);
        let op = seed.split_once('.').map_or(seed, |(op, _)| op);
        let world = World::new(fleet.clone());
        let ctx = Ctx {
            world: &world,
            principal: Principal {
                account: fleet.hub.account_id.clone(),
                role_name: fleet.hub.role_name.clone(),
                session: Some(fleet.hub.role_name.clone()),
            },
            region: fleet.hub.region.clone(),
            request_id: "fuzz".into(),
        };
        for item in &items {
            if let Err(e) = drs_sim::dynamodb::handle(&ctx, "PutItem", item) {
                return Verdict::Rejected(format!("the fuzz world's items: {}", e.message));
            }
        }
        super::super::engine::begin();
        dynamodb_verdict(drs_sim::dynamodb::handle(&ctx, op, m.text.as_bytes()).map(|_| ()))
    })
}

/// DynamoDB's answers to a request it read: a false condition (alone or as every reason a
/// transaction was cancelled), a table that is not there or already is, a client token used
/// for another request. Anything else it refuses is a refusal of the input.
pub(in crate::bench::fuzz) fn dynamodb_verdict(r: Result<(), ApiError>) -> Verdict {
    let Err(e) = r else { return Verdict::Accepted };
    if e.status >= 500 {
        return Verdict::ServerError(format!("{} {}: {}", e.status, e.code, e.message));
    }
    let answered = match e.code.as_str() {
        "ConditionalCheckFailedException"
        | "ResourceNotFoundException"
        | "ResourceInUseException"
        | "IdempotentParameterMismatchException" => true,
        "TransactionCanceledException" => e.fields["CancellationReasons"]
            .as_array()
            .is_some_and(|reasons| reasons.iter().all(|r| matches!(r["Code"].as_str(), Some("None" | "ConditionalCheckFailed")))),
        _ => false,
    };
    if answered {
        return Verdict::Accepted;
    }
    let reasons = e.fields.get("CancellationReasons").map(|r| format!(" {r}")).unwrap_or_default();
    Verdict::Rejected(format!("{}: {}{reasons}", e.code, e.message))
}

/// An EC2 or STS form (`{"Action": ..., "Param.1": ...}`), encoded as the SDK sends it, through
/// the service's handler; every value also goes through the XML escaping of the replies.
pub(super) fn query_form() -> Runner {
    let world = world();
    Box::new(move |_, m| {
        let Value::Object(params) = &m.value else { return Verdict::Rejected("Action: the form is not a map".into()) };
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            body.append_pair(k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()).as_str());
        }
        let body = body.finish();
        super::super::engine::begin();
        let form = Form::parse(body.as_bytes(), "");
        for (_, v) in form.iter() {
            let escaped = xml::escape(v);
            assert!(!escaped.contains('<') && !escaped.contains('>'), "xml::escape left markup in {escaped}");
        }
        let Some(action) = form.get("Action").map(str::to_owned) else {
            return Verdict::Rejected("Action: missing".into());
        };
        let ctx = ctx(&world);
        let reply = match action.as_str() {
            "AssumeRole" | "GetCallerIdentity" => drs_sim::sts::handle(&ctx, &action, &form),
            _ => drs_sim::ec2::handle(&ctx, &action, &form),
        };
        api_verdict(reply.map(|_| ()))
    })
}

/// A refusal of the input is a 400 other than the service's answers to a well-formed request
/// (something not found or already there, a timed-out task, throttling); a 5xx is the
/// service failing.
pub(in crate::bench::fuzz) fn api_verdict(r: Result<(), ApiError>) -> Verdict {
    match r {
        Err(e) if e.status >= 500 => Verdict::ServerError(format!("{} {}: {}", e.status, e.code, e.message)),
        Err(e) if e.status == 400 && !answer(&e.code) => {
            Verdict::Rejected(format!("{}: {} {}", e.code, e.message, Value::Object(e.fields)))
        }
        _ => Verdict::Accepted,
    }
}

fn answer(code: &str) -> bool {
    code.ends_with("NotFound")
        || code.ends_with("DoesNotExist")
        || code.ends_with("AlreadyExists")
        || code.ends_with("TimedOut")
        || code.starts_with("Throttling")
}
