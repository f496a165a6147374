//! What a source server launches with now: its DRS launch configuration
//! (drs:GetLaunchConfiguration) and, when the settings name template fields, the default
//! version of its EC2 launch template (ec2:DescribeLaunchTemplateVersions), read in the
//! server's own account and region.

use super::desired::Settings;
use super::error::LaunchError;
use crate::aws::errors::AwsError;
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_ec2::types::LaunchTemplateInstanceNetworkInterfaceSpecification as Nic;

#[derive(Debug, Clone, Default)]
pub struct Current {
    pub template_id: Option<String>,
    pub settings: Settings,
    /// The default version's first network interface, kept whole: a new version restates it
    /// with only the subnet or groups changed.
    pub nic0: Option<Nic>,
}

pub async fn read(clients: &Clients, p: &Partition, source_server_id: &str, with_template: bool) -> Result<Current, LaunchError> {
    let drs = clients.drs(p).await.map_err(LaunchError::client)?;
    let lc = drs
        .get_launch_configuration()
        .source_server_id(source_server_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("drs:GetLaunchConfiguration", &e))?;
    let mut c = Current {
        template_id: lc.ec2_launch_template_id().filter(|t| !t.is_empty()).map(str::to_owned),
        settings: Settings {
            copy_private_ip: lc.copy_private_ip(),
            copy_tags: lc.copy_tags(),
            launch_disposition: lc.launch_disposition().map(|d| d.as_str().to_owned()),
            right_sizing: lc.target_instance_type_right_sizing_method().map(|m| m.as_str().to_owned()),
            os_byol: lc.licensing().and_then(|l| l.os_byol()),
            ..Default::default()
        },
        nic0: None,
    };
    if !with_template {
        return Ok(c);
    }
    let template = c.template_id.clone().ok_or(LaunchError::NoTemplate)?;
    let ec2 = clients.ec2(p).await.map_err(LaunchError::client)?;
    let out = ec2
        .describe_launch_template_versions()
        .launch_template_id(&template)
        .versions("$Default")
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeLaunchTemplateVersions", &e))?;
    let data = out.launch_template_versions().first().and_then(|v| v.launch_template_data());
    c.settings.instance_type = data.and_then(|d| d.instance_type()).map(|t| t.as_str().to_owned());
    c.nic0 = data.and_then(|d| d.network_interfaces().iter().find(|n| n.device_index().unwrap_or(0) == 0)).cloned();
    c.settings.subnet_id = c.nic0.as_ref().and_then(|n| n.subnet_id()).map(str::to_owned);
    let groups = match &c.nic0 {
        Some(n) if !n.groups().is_empty() => n.groups().to_vec(),
        _ => data.map(|d| d.security_group_ids().to_vec()).unwrap_or_default(),
    };
    c.settings.security_group_ids = Some(groups).filter(|g| !g.is_empty());
    c.settings.private_ip_address = c.nic0.as_ref().and_then(primary_address);
    Ok(c)
}

/// The interface's primary private address: `PrivateIpAddress`, or the one of its
/// `PrivateIpAddresses` marked primary.
fn primary_address(n: &Nic) -> Option<String> {
    n.private_ip_address().map(str::to_owned).or_else(|| {
        n.private_ip_addresses()
            .iter()
            .find(|a| a.primary() == Some(true))
            .and_then(|a| a.private_ip_address())
            .map(str::to_owned)
    })
}
