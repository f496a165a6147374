//! A resource's `LaunchSettings`: what its recovery instances should launch with, in DRS's
//! launch configuration and in the EC2 launch template DRS launches from.

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Desired {
    // DRS launch configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_private_ip: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_tags: Option<bool>,
    /// STARTED or STOPPED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_disposition: Option<String>,
    /// NONE, BASIC or IN_AWS (targetInstanceTypeRightSizingMethod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_sizing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_byol: Option<bool>,
    // EC2 launch template (its default version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group_ids: Option<Vec<String>>,
}

impl Desired {
    /// `parameters.LaunchSettings` of a DRS resource, if it has one.
    pub fn from_parameters(parameters: &Value) -> anyhow::Result<Option<Desired>> {
        let Some(v) = parameters.get("LaunchSettings") else { return Ok(None) };
        let d: Desired = serde_json::from_value(v.clone()).map_err(|e| anyhow!("parameters.LaunchSettings: {e}"))?;
        d.check().context("parameters.LaunchSettings")?;
        Ok(Some(d))
    }

    pub fn is_empty(&self) -> bool {
        *self == Desired::default()
    }

    pub fn wants_template(&self) -> bool {
        self.instance_type.is_some() || self.subnet_id.is_some() || self.security_group_ids.is_some()
    }

    fn check(&self) -> anyhow::Result<()> {
        if let Some(d) = &self.launch_disposition {
            if !["STARTED", "STOPPED"].contains(&d.as_str()) {
                bail!("LaunchDisposition: '{d}' is not STARTED or STOPPED");
            }
        }
        if let Some(r) = &self.right_sizing {
            if !["NONE", "BASIC", "IN_AWS"].contains(&r.as_str()) {
                bail!("RightSizing: '{r}' is not NONE, BASIC or IN_AWS");
            }
        }
        if self.instance_type.is_some() && self.right_sizing.as_deref() != Some("NONE") {
            bail!("InstanceType: set RightSizing to NONE as well; with BASIC or IN_AWS, DRS chooses the instance type itself");
        }
        if let Some(s) = &self.subnet_id {
            if !s.starts_with("subnet-") {
                bail!("SubnetId: '{s}' is not a subnet id (subnet-...)");
            }
        }
        for g in self.security_group_ids.iter().flatten() {
            if !g.starts_with("sg-") {
                bail!("SecurityGroupIds: '{g}' is not a security group id (sg-...)");
            }
        }
        if self.security_group_ids.as_ref().is_some_and(Vec::is_empty) {
            bail!("SecurityGroupIds: give at least one, or leave it out");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Desired;
    use serde_json::json;

    #[test]
    fn errors_name_the_field() {
        let e = |v| Desired::from_parameters(&json!({"LaunchSettings": v})).unwrap_err().to_string();
        let chain = |v| format!("{:#}", Desired::from_parameters(&json!({"LaunchSettings": v})).unwrap_err());
        assert!(e(json!({"Colour": "blue"})).contains("unknown field `Colour`"));
        assert!(chain(json!({"LaunchDisposition": "PAUSED"})).contains("LaunchDisposition: 'PAUSED'"));
        assert!(chain(json!({"InstanceType": "m5.large"})).contains("InstanceType: set RightSizing to NONE"));
        assert!(chain(json!({"SubnetId": "vpc-1"})).contains("SubnetId: 'vpc-1'"));
        let ok =
            Desired::from_parameters(&json!({"LaunchSettings": {"InstanceType": "m5.large", "RightSizing": "NONE"}})).unwrap();
        assert!(ok.unwrap().wants_template());
        assert!(Desired::from_parameters(&json!({})).unwrap().is_none());
    }
}
