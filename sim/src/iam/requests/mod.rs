//! The authorization requests a call makes, read from the request as AWS reads it: the
//! action, the ARN of each resource it names (`*` for actions without resource-level
//! permissions), and the context keys its conditions may test. Each service has its reading
//! (`ec2.rs`, `drs.rs`, `s3.rs`, `other.rs`); every request then gets the global keys
//! (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:RequestedRegion`, and
//! `aws:ResourceAccount` of an ARN). A request the operation will refuse as malformed is read
//! only as far as it names something: the operation refuses it afterwards.

mod drs;
mod ec2;
mod other;
mod s3;

pub use ec2::resource_arn as ec2_arn;

use super::context::AuthRequest;
use crate::ctx::Request;
use crate::identity::Principal;
use crate::protocol::form::Form;
use crate::world::World;

/// What the reading needs of a call.
pub struct Call<'a> {
    pub world: &'a World,
    pub principal: &'a Principal,
    pub service: &'a str,
    pub operation: &'a str,
    pub region: &'a str,
    pub request: &'a Request,
    /// The parsed form of a query-protocol call (EC2, STS).
    pub form: Option<&'a Form>,
}

impl Call<'_> {
    /// The caller's account: the partition its call acts in.
    pub fn account(&self) -> &str {
        &self.principal.account
    }

    /// The JSON body of a JSON-protocol call (Null when it is none).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.request.body).unwrap_or(serde_json::Value::Null)
    }

    /// `<service>:<Operation>` on `*`, for the actions without resource-level permissions.
    pub fn on_everything(&self) -> Vec<AuthRequest> {
        vec![AuthRequest::new(format!("{}:{}", self.service, self.operation), "*", Default::default())]
    }
}

/// Every authorization request the call makes, in request order (repeats included).
pub fn of(call: &Call) -> Vec<AuthRequest> {
    let requests = match call.service {
        "ec2" => ec2::requests(call),
        "drs" => drs::requests(call),
        "s3" => s3::requests(call),
        _ => other::requests(call),
    };
    requests.into_iter().map(|r| with_global_keys(call, r)).collect()
}

/// The keys every request carries: who asks (and its organization), where, and whose
/// resource it is.
fn with_global_keys(call: &Call, mut r: AuthRequest) -> AuthRequest {
    let resource_account = arn_account(&r.resource).map(str::to_owned);
    let mut c = std::mem::take(&mut r.context)
        .with("aws:PrincipalArn", &call.principal.role_arn())
        .with("aws:PrincipalAccount", call.account())
        .with("aws:RequestedRegion", call.region);
    if let Some(org) = call.world.organizations.get(call.account()) {
        c = c.with("aws:PrincipalOrgID", org);
    }
    if c.get("aws:ResourceAccount").is_empty() {
        if let Some(account) = resource_account.filter(|a| !a.is_empty()) {
            c = c.with("aws:ResourceAccount", &account);
        }
    }
    r.context = c;
    r
}

/// The account segment of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    parts.nth(3)
}
