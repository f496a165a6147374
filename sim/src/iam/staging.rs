//! A staging account's trust of target accounts: DRS reads a staging account's source servers
//! for a target account (ListExtensibleSourceServers, CreateExtendedSourceServer) by assuming
//! the staging account's `DRSStagingAccountRole`, whose trust policy (as DRS's Trusted
//! accounts page creates it) names the DRS service with the target account as
//! `aws:SourceAccount` and `sts:SourceIdentity`. A target account can extend the servers of a
//! staging account that trusts it, and no other's.

use super::context::{AuthRequest, Context};
use super::evaluate::{decide, Decision};
use super::policy::Statement;
use crate::fleet::{Fleet, Role};
use crate::world::World;

/// The role DRS assumes in a staging account.
pub const STAGING_ROLE: &str = "DRSStagingAccountRole";
const DRS_SERVICE: &str = "drs.amazonaws.com";

/// The trust statement of a staging role for one target account, as AWS writes it.
pub fn trust_of(target: &str) -> Statement {
    let doc = serde_json::json!({
        "Sid": format!("StagingFor{target}"),
        "Effect": "Allow",
        "Principal": {"Service": DRS_SERVICE},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
        "Condition": {
            "StringLike": {"sts:SourceIdentity": target, "aws:SourceAccount": target},
            "ArnLike": {"aws:SourceArn": "arn:aws:drs:*:*:source-server/*"}
        }
    });
    serde_json::from_value(doc).expect("the staging trust statement is a valid statement")
}

/// The staging roles a fleet declares by its accounts' `stagingFor`, for each account whose
/// role the fleet does not model itself.
pub fn roles_of(fleet: &Fleet) -> Vec<Role> {
    fleet
        .accounts
        .iter()
        .filter(|a| !a.staging_for.is_empty() && fleet.role(&a.account_id, STAGING_ROLE).is_none())
        .map(|a| Role {
            account_id: a.account_id.clone(),
            role_name: STAGING_ROLE.into(),
            trusted_principals: vec![],
            external_id: None,
            allowed_actions: vec![],
            denied_actions: vec![],
            statements: vec![],
            trust: a.staging_for.iter().map(|t| trust_of(t)).collect(),
            max_session_seconds: 3600,
        })
        .collect()
}

/// Whether DRS, acting for `target` in `region`, may assume the staging role of `staging`.
pub fn trusts(world: &World, staging: &str, target: &str, region: &str) -> bool {
    let Some(role) = world.role(staging, STAGING_ROLE) else { return false };
    if role.trust.is_empty() {
        return false;
    }
    let c = Context::default()
        .with("aws:PrincipalServiceName", DRS_SERVICE)
        .with("aws:SourceAccount", target)
        .with("sts:SourceIdentity", target)
        .with("aws:SourceArn", &format!("arn:aws:drs:{region}:{target}:source-server/*"));
    matches!(decide(&role.trust, &AuthRequest::new("sts:AssumeRole", role.arn(), c)), Decision::Allowed(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_names_its_target_alone() {
        let trust = vec![trust_of("200000000001")];
        let ask = |target: &str| {
            let c = Context::default()
                .with("aws:PrincipalServiceName", DRS_SERVICE)
                .with("aws:SourceAccount", target)
                .with("sts:SourceIdentity", target)
                .with("aws:SourceArn", "arn:aws:drs:us-east-1:200000000001:source-server/*");
            decide(&trust, &AuthRequest::new("sts:AssumeRole", "arn:aws:iam::3:role/DRSStagingAccountRole", c))
        };
        assert!(matches!(ask("200000000001"), Decision::Allowed(_)));
        assert_eq!(ask("200000000002"), Decision::ImplicitDeny);
    }
}
