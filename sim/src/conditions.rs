//! The IAM conditions the simulator can evaluate on a role's allowed actions: a resource tag
//! that must be present (`"Null": {"aws:ResourceTag/<key>": "false"}`), on the EC2
//! instances a call names. The target role's destructive EC2 actions carry one so that they
//! reach only what DRS manages (cloudformation/target-account.json).

use crate::protocol::form::Form;
use crate::world::World;
use serde::{Deserialize, Serialize};

/// These actions are allowed only on resources that carry `tag_key`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceTagCondition {
    pub actions: Vec<String>,
    pub tag_key: String,
}

/// The first resource an EC2 call names that a condition of the role rules out, if any.
/// An instance that does not exist is left to the operation, which answers NotFound.
pub fn denied_resource(
    world: &World,
    conditions: &[ResourceTagCondition],
    action: &str,
    account: &str,
    region: &str,
    form: &Form,
) -> Option<String> {
    let applies = |c: &&ResourceTagCondition| c.actions.iter().any(|a| a.eq_ignore_ascii_case(action));
    let required: Vec<&str> = conditions.iter().filter(applies).map(|c| c.tag_key.as_str()).collect();
    if required.is_empty() {
        return None;
    }
    let ids: Vec<String> =
        ["InstanceId", "ResourceId"].iter().flat_map(|k| form.list(k)).filter(|id| id.starts_with("i-")).collect();
    let part = world.partition(account, region);
    let p = part.lock();
    ids.into_iter().find(|id| p.ec2.instances.get(id).is_some_and(|i| required.iter().any(|key| !i.tags.contains_key(*key))))
}
