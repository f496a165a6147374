//! STS (awsQuery): AssumeRole enforcing the target role's trust (its trust policy, or its
//! trusted principals and ExternalId) and GetCallerIdentity.

use crate::clock::iso;
use crate::ctx::Ctx;
use crate::iam::{decide, AuthRequest, Context, Decision};
use crate::identity::Principal;
use crate::protocol::form::Form;
use crate::protocol::xml::el;
use crate::protocol::{xml_reply, ApiError, Reply};
use chrono::Duration;

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub fn handle(ctx: &Ctx, op: &str, form: &Form) -> Result<Reply, ApiError> {
    match op {
        "GetCallerIdentity" => Ok(get_caller_identity(ctx)),
        "AssumeRole" => assume_role(ctx, form),
        other => Err(ApiError::new(400, "InvalidAction", format!("Could not find operation {other} for version 2011-06-15"))),
    }
}

fn get_caller_identity(ctx: &Ctx) -> Reply {
    let p = &ctx.principal;
    let user_id = match &p.session {
        Some(s) => format!("AROA{}:{s}", crate::ids::stable_alnum(&p.role_arn(), 17).to_uppercase()),
        None => format!("AROA{}", crate::ids::stable_alnum(&p.role_arn(), 17).to_uppercase()),
    };
    xml_reply(
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"{NS}\"><GetCallerIdentityResult>{}{}{}</GetCallerIdentityResult><ResponseMetadata>{}</ResponseMetadata></GetCallerIdentityResponse>",
            el("Arn", &p.caller_arn()),
            el("UserId", &user_id),
            el("Account", &p.account),
            el("RequestId", &ctx.request_id)
        ),
    )
}

fn denied(ctx: &Ctx, role_arn: &str) -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", ctx.principal.caller_arn()),
    )
}

fn assume_role(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let role_arn = form.get("RoleArn").ok_or_else(|| missing("RoleArn"))?;
    let session = form.get("RoleSessionName").ok_or_else(|| missing("RoleSessionName"))?;
    if session.len() < 2 || session.len() > 64 || !session.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c)) {
        return Err(ApiError::new(
            400,
            "ValidationError",
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*",
        ));
    }
    let duration: i64 = form.get("DurationSeconds").map(|d| d.parse().unwrap_or(-1)).unwrap_or(3600);
    if !(900..=43200).contains(&duration) {
        return Err(ApiError::new(
            400,
            "ValidationError",
            "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
        ));
    }
    // arn:aws:iam::<account>:role/<name>
    let (account, name) = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split_once(":role/")).ok_or_else(|| {
        ApiError::new(400, "ValidationError", format!("Value '{role_arn}' at 'roleArn' is not a valid role ARN"))
    })?;
    let name = name.rsplit('/').next().unwrap_or(name);
    // A missing role and a refused trust look the same to the caller, as in AWS.
    let role = ctx.world.role(account, name).ok_or_else(|| denied(ctx, role_arn))?;
    if !trusts(ctx, &role, form.get("ExternalId")) {
        return Err(denied(ctx, role_arn));
    }
    if duration > role.max_session_seconds as i64 {
        return Err(ApiError::new(
            400,
            "ValidationError",
            format!(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({}).",
                role.max_session_seconds
            ),
        ));
    }
    let expires = ctx.world.clock.lifetime_now() + Duration::seconds(duration);
    let principal =
        Principal { account: account.to_owned(), role_name: role.role_name.clone(), session: Some(session.to_owned()) };
    let (key, cred) = ctx.world.identities.issue(principal.clone(), expires);
    // Clients compare Expiration with their own (real) clock: report when the credentials
    // expire in real time at the current clock speed.
    let real_expiry =
        chrono::Utc::now() + Duration::milliseconds((ctx.world.clock.real_seconds(duration as f64) * 1000.0).min(1e13) as i64);
    Ok(xml_reply(
        200,
        format!(
            "<AssumeRoleResponse xmlns=\"{NS}\"><AssumeRoleResult><AssumedRoleUser>{}{}</AssumedRoleUser><Credentials>{}{}{}{}</Credentials></AssumeRoleResult><ResponseMetadata>{}</ResponseMetadata></AssumeRoleResponse>",
            el("AssumedRoleId", &format!("AROA{}:{session}", crate::ids::stable_alnum(role_arn, 17).to_uppercase())),
            el("Arn", &principal.caller_arn()),
            el("AccessKeyId", &key),
            el("SecretAccessKey", &cred.secret),
            el("SessionToken", cred.session_token.as_deref().unwrap_or_default()),
            el("Expiration", &iso(real_expiry)),
            el("RequestId", &ctx.request_id)
        ),
    ))
}

/// Whether the role's trust lets the caller assume it: its trust policy when it has one
/// (evaluated as IAM does, with `sts:ExternalId` and the caller's `aws:PrincipalArn`,
/// `aws:PrincipalAccount` and `aws:PrincipalOrgID`), else its trusted principals and ExternalId.
fn trusts(ctx: &Ctx, role: &crate::fleet::Role, external_id: Option<&str>) -> bool {
    let caller = ctx.principal.role_arn();
    if role.trust.is_empty() {
        let caller_root = format!("arn:aws:iam::{}:root", ctx.principal.account);
        let trusted = role.trusted_principals.iter().any(|p| *p == caller || *p == caller_root || p == "*");
        return trusted && role.external_id.as_deref().is_none_or(|required| external_id == Some(required));
    }
    let mut c = Context::default().with("aws:PrincipalArn", &caller).with("aws:PrincipalAccount", &ctx.principal.account);
    if let Some(org) = ctx.world.organizations.get(&ctx.principal.account) {
        c = c.with("aws:PrincipalOrgID", org);
    }
    if let Some(e) = external_id {
        c = c.with("sts:ExternalId", e);
    }
    let request = AuthRequest::new("sts:AssumeRole", role.arn(), c);
    matches!(decide(&role.trust, &request), Decision::Allowed(_))
}

fn missing(field: &str) -> ApiError {
    ApiError::new(400, "MissingParameter", format!("The request must contain the parameter {field}"))
}
