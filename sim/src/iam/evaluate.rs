//! The decision for one request, as IAM makes it for a role's identity policies: an explicit
//! Deny whose action, resource and conditions all match wins; else an Allow that matches
//! allows; else the request is denied implicitly. A call is allowed only when each of its
//! requests is.

use super::context::AuthRequest;
use super::pattern;
use super::policy::{Effect, Principal, Statement};

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Allowed by the named statement (the first that matched).
    Allowed(String),
    /// Denied by the named Deny statement.
    ExplicitDeny(String),
    /// No statement allows it.
    ImplicitDeny,
}

/// Whether a statement applies to a request: action, resource, principal (a trust policy's)
/// and every condition.
pub fn applies(s: &Statement, req: &AuthRequest) -> bool {
    s.actions.covers(&req.action, pattern::action)
        && s.resources.covers(&req.resource, pattern::arn)
        && s.principals.as_ref().is_none_or(|p| p.iter().any(|p| names(p, req)))
        && s.conditions.iter().all(|c| c.holds(&req.context))
}

/// Whether a principal names the request's caller: an AWS principal by account id, the
/// account's `root` (any identity of it) or the role's ARN (any session of it); a service by
/// its name.
fn names(p: &Principal, req: &AuthRequest) -> bool {
    let c = &req.context;
    let is = |key: &str, v: &str| c.get(key).iter().any(|have| have == v);
    match p {
        Principal::Anyone => true,
        Principal::Aws(n) => match n.strip_prefix("arn:aws:iam::").and_then(|r| r.strip_suffix(":root")) {
            Some(account) => is("aws:PrincipalAccount", account),
            None if n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit()) => is("aws:PrincipalAccount", n),
            None => is("aws:PrincipalArn", n),
        },
        Principal::Service(n) => is("aws:PrincipalServiceName", n),
    }
}

pub fn decide<'a>(statements: impl IntoIterator<Item = &'a Statement> + Clone, req: &AuthRequest) -> Decision {
    let matching = |effect: Effect| statements.clone().into_iter().find(|s| s.effect == effect && applies(s, req));
    if let Some(deny) = matching(Effect::Deny) {
        return Decision::ExplicitDeny(deny.name());
    }
    match matching(Effect::Allow) {
        Some(allow) => Decision::Allowed(allow.name()),
        None => Decision::ImplicitDeny,
    }
}

/// A request a call needed and did not get, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Denial {
    pub request: AuthRequest,
    /// The Deny statement that refused it; None when nothing allowed it.
    pub denied_by: Option<String>,
    /// The call it was asked for on the caller's behalf (a DRS call's dependent action).
    pub on_behalf_of: Option<String>,
}

impl Denial {
    pub fn on_behalf_of(mut self, operation: &str) -> Denial {
        self.on_behalf_of = Some(operation.to_owned());
        self
    }

    /// AWS's wording: `... is not authorized to perform: <action> on resource: <arn> because
    /// no identity-based policy allows the <action> action` (or `with an explicit deny in an
    /// identity-based policy`).
    pub fn message(&self, caller: &str) -> String {
        let r = &self.request;
        let on = if r.resource == "*" { String::new() } else { format!(" on resource: {}", r.resource) };
        let why = match &self.denied_by {
            Some(_) => "with an explicit deny in an identity-based policy".to_owned(),
            None => format!("because no identity-based policy allows the {} action", r.action),
        };
        let behalf = match &self.on_behalf_of {
            Some(op) => format!(" (an action {op} takes with the caller's permissions)"),
            None => String::new(),
        };
        format!("User: {caller} is not authorized to perform: {}{on} {why}{behalf}", r.action)
    }
}

/// A statement that allowed an action: what the call log keeps, so that a test can show every
/// action of every statement was needed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Grant {
    pub sid: String,
    pub action: String,
}

/// Every request of a call decided in order: each Allow statement that would allow it (all of
/// them, not the first alone: a statement is needed when it allows some request), or the first
/// request refused.
pub fn authorize<'a>(
    statements: impl IntoIterator<Item = &'a Statement> + Clone,
    requests: &[AuthRequest],
) -> Result<Vec<Grant>, Denial> {
    let mut grants = vec![];
    for req in requests {
        match decide(statements.clone(), req) {
            Decision::Allowed(_) => grants.extend(
                statements
                    .clone()
                    .into_iter()
                    .filter(|s| s.effect == Effect::Allow && applies(s, req))
                    .map(|s| Grant { sid: s.name(), action: req.action.clone() }),
            ),
            Decision::ExplicitDeny(sid) => return Err(Denial { request: req.clone(), denied_by: Some(sid), on_behalf_of: None }),
            Decision::ImplicitDeny => return Err(Denial { request: req.clone(), denied_by: None, on_behalf_of: None }),
        }
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::context::Context;
    use serde_json::json;

    fn policy(v: serde_json::Value) -> Vec<Statement> {
        crate::iam::policy::statements_of(&json!({ "Statement": v })).unwrap()
    }

    const PROD: &str = "arn:aws:ec2:us-east-1:2:instance/i-prod";
    const RECOVERY: &str = "arn:aws:ec2:us-east-1:2:instance/i-recovery";

    fn terminate(arn: &str, managed: bool) -> AuthRequest {
        let mut c = Context::default();
        if managed {
            c = c.with("aws:ResourceTag/AWSElasticDisasterRecoveryManaged", "drs.amazonaws.com");
        }
        AuthRequest::new("ec2:TerminateInstances", arn, c)
    }

    #[test]
    fn allow_needs_action_resource_and_conditions_and_deny_wins() {
        let p = policy(json!([
            {"Sid": "Managed", "Effect": "Allow", "Action": "ec2:Terminate*", "Resource": "arn:aws:ec2:*:2:instance/*",
             "Condition": {"Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"}}},
            {"Sid": "NotThatOne", "Effect": "Deny", "Action": "ec2:*", "Resource": RECOVERY.replace("recovery", "pinned")}
        ]));
        assert_eq!(decide(&p, &terminate(RECOVERY, true)), Decision::Allowed("Managed".into()));
        assert_eq!(decide(&p, &terminate(PROD, false)), Decision::ImplicitDeny);
        assert_eq!(decide(&p, &terminate("arn:aws:ec2:us-east-1:3:instance/i-x", true)), Decision::ImplicitDeny);
        let pinned = terminate(&RECOVERY.replace("recovery", "pinned"), true);
        assert_eq!(decide(&p, &pinned), Decision::ExplicitDeny("NotThatOne".into()));
        assert_eq!(decide(&p, &AuthRequest::new("ec2:StopInstances", RECOVERY, Context::default())), Decision::ImplicitDeny);
    }

    #[test]
    fn not_action_and_not_resource_grant_everything_else() {
        let p = policy(json!([{"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "NotResource": PROD}]));
        assert!(matches!(decide(&p, &terminate(RECOVERY, false)), Decision::Allowed(_)));
        assert_eq!(decide(&p, &terminate(PROD, false)), Decision::ImplicitDeny);
        assert_eq!(decide(&p, &AuthRequest::new("iam:PassRole", "*", Context::default())), Decision::ImplicitDeny);
    }

    #[test]
    fn a_trust_statement_names_its_principals() {
        let trust = policy(json!([{"Sid": "Hub", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": ["arn:aws:iam::100000000000:role/hub", "300000000000", "arn:aws:iam::400000000000:root"],
                          "Service": "lambda.amazonaws.com"},
            "Condition": {"StringEquals": {"sts:ExternalId": "x", "aws:PrincipalOrgID": "o-abcdefghij"}}}]));
        let ask = |arn: &str, account: &str, org: &str| {
            let c = Context::default()
                .with("aws:PrincipalArn", arn)
                .with("aws:PrincipalAccount", account)
                .with("aws:PrincipalOrgID", org)
                .with("sts:ExternalId", "x");
            matches!(decide(&trust, &AuthRequest::new("sts:AssumeRole", "arn:aws:iam::2:role/t", c)), Decision::Allowed(_))
        };
        assert!(ask("arn:aws:iam::100000000000:role/hub", "100000000000", "o-abcdefghij"));
        assert!(!ask("arn:aws:iam::100000000000:role/other", "100000000000", "o-abcdefghij"), "another role of the account");
        assert!(ask("arn:aws:iam::300000000000:role/any", "300000000000", "o-abcdefghij"), "an account id names its identities");
        assert!(ask("arn:aws:iam::400000000000:role/any", "400000000000", "o-abcdefghij"), "so does its root");
        assert!(!ask("arn:aws:iam::100000000000:role/hub", "100000000000", "o-zzzzzzzzzz"), "another organization");
        let lambda = Context::default().with("aws:PrincipalServiceName", "lambda.amazonaws.com").with("sts:ExternalId", "x");
        let by_service =
            AuthRequest::new("sts:AssumeRole", "arn:aws:iam::2:role/t", lambda.with("aws:PrincipalOrgID", "o-abcdefghij"));
        assert!(matches!(decide(&trust, &by_service), Decision::Allowed(_)));
    }

    #[test]
    fn a_call_is_allowed_only_when_every_request_is() {
        let p = policy(json!([{"Sid": "Managed", "Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "*",
            "Condition": {"Null": {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"}}}]));
        let grant = Grant { sid: "Managed".into(), action: "ec2:TerminateInstances".into() };
        assert_eq!(authorize(&p, &[terminate(RECOVERY, true)]), Ok(vec![grant]));
        let denied = authorize(&p, &[terminate(RECOVERY, true), terminate(PROD, false)]).unwrap_err();
        assert_eq!((denied.request.resource.as_str(), denied.denied_by.clone()), (PROD, None));
        let m = denied.message("arn:aws:sts::2:assumed-role/r/s");
        assert!(m.ends_with(&format!("ec2:TerminateInstances on resource: {PROD} because no identity-based policy allows the ec2:TerminateInstances action")), "{m}");
    }
}
