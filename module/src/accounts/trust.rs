//! Whether the hub may assume an account's role, and whether the role insists on the
//! ExternalId. AWS answers AccessDenied alike for a missing role, a trust policy that does
//! not name the caller and a wrong ExternalId; a second AssumeRole without the ExternalId
//! tells apart what can be told apart.

use super::reason::{self, code, finding};
use super::report::Finding;
use crate::aws::Clients;

/// An account's trust, shared by its regions.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Set when the role cannot be assumed: nothing else in the account can be checked.
    pub failed: Option<Finding>,
    pub warning: Option<Finding>,
}

pub async fn check(clients: &Clients, account: &str) -> Trust {
    let cfg = clients.config();
    let role_arn = format!("arn:aws:iam::{account}:role/{}", cfg.role_name_for(account));
    let external_id = match cfg.external_id_for(account) {
        Ok(id) => id,
        Err(e) => return refused(reason::CONFIG, format!("{e:#}")),
    };
    let with_id = assume(clients, &role_arn, Some(external_id.expose())).await;
    let without_id = assume(clients, &role_arn, None).await;
    match (with_id, without_id) {
        (Ok(()), Ok(())) => Trust {
            failed: None,
            warning: Some(Finding::named(
                reason::EXTERNAL_ID_NOT_REQUIRED,
                format!("{role_arn} can be assumed without an ExternalId: its trust policy lacks an sts:ExternalId condition"),
            )),
        },
        (Ok(()), Err(_)) => Trust::default(),
        (Err(Refusal::Denied(denied)), Ok(())) => refused(
            reason::EXTERNAL_ID_MISMATCH,
            format!(
                "{role_arn} refused the configured ExternalId ({}) but can be assumed without one: its trust policy rejects that value. {denied}",
                external_id.masked()
            ),
        ),
        (Err(Refusal::Denied(denied)), Err(_)) => refused(
            reason::TRUST_REFUSED,
            format!(
                "AssumeRole of {role_arn} was refused with the configured ExternalId ({}) and without one. AWS does not say \
                 whether the role is missing, its trust policy does not name the hub role, or it requires another \
                 ExternalId. {denied}",
                external_id.masked()
            ),
        ),
        (Err(Refusal::Other(f)), _) => Trust { failed: Some(f), warning: None },
    }
}

fn refused(reason: &str, message: String) -> Trust {
    Trust { failed: Some(Finding::named(reason, message)), warning: None }
}

enum Refusal {
    /// AccessDenied, with what AWS said.
    Denied(String),
    /// Throttling, an unreachable STS, ...
    Other(Finding),
}

async fn assume(clients: &Clients, role_arn: &str, external_id: Option<&str>) -> Result<(), Refusal> {
    let sts = aws_sdk_sts::Client::new(clients.hub());
    let r = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(clients.session_name())
        .set_external_id(external_id.map(str::to_owned))
        .duration_seconds(900)
        .send()
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if code(&e) == Some("AccessDenied") => Err(Refusal::Denied(finding("sts:AssumeRole", &e).message)),
        Err(e) => Err(Refusal::Other(finding("sts:AssumeRole", &e))),
    }
}
