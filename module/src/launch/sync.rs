//! Bringing a server's launch settings to the desired ones: drs:UpdateLaunchConfiguration for
//! the DRS fields that drift, and for template fields a new EC2 launch template version (from
//! the default one, only the drifting fields changed; its ClientToken derives from the
//! template, the wanted and the current values, so a retried sync makes no second version)
//! made the default with ec2:ModifyLaunchTemplate.

use super::current::Current;
use super::desired::Settings;
use super::drift::Drift;
use super::error::LaunchError;
use crate::aws::errors::AwsError;
use crate::aws::Clients;
use crate::config::Partition;
use aws_sdk_drs::types::{LaunchDisposition, Licensing, TargetInstanceTypeRightSizingMethod};
use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateInstanceNetworkInterfaceSpecificationRequest as NicRequest, RequestLaunchTemplateData,
};
use sha2::{Digest, Sha256};

const DRS_FIELDS: &[&str] = &["CopyPrivateIp", "CopyTags", "LaunchDisposition", "RightSizing", "OsByol"];
const TEMPLATE_FIELDS: &[&str] = &["InstanceType", "SubnetId", "SecurityGroupIds", "PrivateIpAddress"];

pub async fn fix(
    clients: &Clients,
    p: &Partition,
    source_server_id: &str,
    want: &Settings,
    have: &Current,
    drifts: &[Drift],
) -> Result<(), LaunchError> {
    let drifting = |f: &str| drifts.iter().any(|d| d.field == f);
    if DRS_FIELDS.iter().any(|f| drifting(f)) {
        let drs = clients.drs(p).await.map_err(LaunchError::client)?;
        let mut u = drs.update_launch_configuration().source_server_id(source_server_id);
        if drifting("CopyPrivateIp") {
            u = u.set_copy_private_ip(want.copy_private_ip);
        }
        if drifting("CopyTags") {
            u = u.set_copy_tags(want.copy_tags);
        }
        if drifting("LaunchDisposition") {
            u = u.set_launch_disposition(want.launch_disposition.as_deref().map(LaunchDisposition::from));
        }
        if drifting("RightSizing") {
            u = u.set_target_instance_type_right_sizing_method(
                want.right_sizing.as_deref().map(TargetInstanceTypeRightSizingMethod::from),
            );
        }
        if drifting("OsByol") {
            u = u.licensing(Licensing::builder().set_os_byol(want.os_byol).build());
        }
        u.send().await.map_err(|e| AwsError::from_sdk("drs:UpdateLaunchConfiguration", &e))?;
    }
    if TEMPLATE_FIELDS.iter().any(|f| drifting(f)) {
        new_default_version(clients, p, want, have, &drifting).await?;
    }
    Ok(())
}

async fn new_default_version(
    clients: &Clients,
    p: &Partition,
    want: &Settings,
    have: &Current,
    drifting: &dyn Fn(&str) -> bool,
) -> Result<(), LaunchError> {
    let template = have.template_id.as_deref().ok_or(LaunchError::NoTemplateToVersion)?;
    let mut data = RequestLaunchTemplateData::builder();
    if drifting("InstanceType") {
        data = data.set_instance_type(want.instance_type.as_deref().map(InstanceType::from));
    }
    if drifting("SubnetId") || drifting("SecurityGroupIds") || drifting("PrivateIpAddress") {
        data = data.network_interfaces(nic(have, want));
    }
    let ec2 = clients.ec2(p).await.map_err(LaunchError::client)?;
    let created = ec2
        .create_launch_template_version()
        .launch_template_id(template)
        .source_version("$Default")
        .version_description("drs-orch launch sync")
        .client_token(client_token(template, want, have))
        .launch_template_data(data.build())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:CreateLaunchTemplateVersion", &e))?;
    let version = created.launch_template_version().and_then(|v| v.version_number()).ok_or(LaunchError::NoVersionNumber)?;
    ec2.modify_launch_template()
        .launch_template_id(template)
        .default_version(version.to_string())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:ModifyLaunchTemplate", &e))?;
    Ok(())
}

/// The default version's first interface restated, with the wanted subnet, groups and
/// address (an address asked for replaces the interface's other private addresses: the
/// static one is its primary).
fn nic(have: &Current, want: &Settings) -> NicRequest {
    let n = have.nic0.as_ref();
    let groups = want.security_group_ids.clone().or_else(|| n.map(|n| n.groups().to_vec()));
    NicRequest::builder()
        .device_index(0)
        .set_subnet_id(want.subnet_id.clone().or_else(|| n.and_then(|n| n.subnet_id()).map(str::to_owned)))
        .set_groups(groups)
        .set_associate_public_ip_address(n.and_then(|n| n.associate_public_ip_address()))
        .set_delete_on_termination(n.and_then(|n| n.delete_on_termination()))
        .set_description(n.and_then(|n| n.description()).map(str::to_owned))
        .set_private_ip_address(
            want.private_ip_address.clone().or_else(|| n.and_then(|n| n.private_ip_address()).map(str::to_owned)),
        )
        .set_interface_type(n.and_then(|n| n.interface_type()).map(str::to_owned))
        .build()
}

/// The same for a retry of the same change (EC2 then makes no second version), different once
/// the template has drifted again.
fn client_token(template: &str, want: &Settings, have: &Current) -> String {
    let text = format!(
        "{template}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        want.instance_type,
        want.subnet_id,
        want.security_group_ids,
        have.settings.instance_type,
        have.settings.subnet_id,
        have.settings.security_group_ids,
        want.private_ip_address,
        have.settings.private_ip_address
    );
    let digest = Sha256::digest(text.as_bytes());
    format!("drs-orch-{}", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}
