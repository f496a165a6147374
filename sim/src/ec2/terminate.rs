//! TerminateInstances: the instances named go to `terminated` (the destructive call the
//! target role may make only on what DRS manages; `iam/requests/ec2.rs` names each instance).

use super::partition::with_partition;
use super::wire::reply;
use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::{ApiError, Reply};
use std::fmt::Write;

pub fn terminate(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("InstanceId");
    if ids.is_empty() {
        return Err(ApiError::new(400, "MissingParameter", "The request must contain the parameter InstanceId"));
    }
    with_partition(ctx, |p| {
        if let Some(id) = ids.iter().find(|id| !p.ec2.instances.contains_key(*id)) {
            return Err(ApiError::new(400, "InvalidInstanceID.NotFound", format!("The instance ID '{id}' does not exist")));
        }
        let mut items = String::new();
        for id in &ids {
            let Some(i) = p.ec2.instances.get_mut(id) else { continue };
            let (before, before_code) = (i.state.clone(), i.state_code());
            i.state = "terminated".into();
            // Its primary interface is deleted with it, and its address freed.
            p.ec2.network_interfaces.retain(|_, n| n.instance_id.as_deref() != Some(id.as_str()));
            let _ = write!(
                items,
                "<item><instanceId>{id}</instanceId><currentState><code>{}</code><name>terminated</name></currentState><previousState><code>{before_code}</code><name>{before}</name></previousState></item>",
                i.state_code()
            );
        }
        Ok(reply(ctx, "TerminateInstances", &format!("<instancesSet>{items}</instancesSet>")))
    })
}
