//! Network interfaces: DescribeNetworkInterfaces (by id, by filter, MaxResults/NextToken),
//! CreateNetworkInterface (an address of a subnet, checked as `addresses.rs` says) and
//! DeleteNetworkInterface (an interface attached to an instance goes with the instance).

use super::addresses::Ask;
use super::model::NetworkInterface;
use super::network::select;
use super::partition::with_partition;
use super::wire::{invalid_param, reply};
use crate::clock::iso;
use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::xml::push_el;
use crate::protocol::{ApiError, Reply};

fn field(n: &NetworkInterface, name: &str) -> Result<Vec<String>, ApiError> {
    let attached = n.instance_id.is_some();
    Ok(match name {
        "network-interface-id" => vec![n.id.clone()],
        "subnet-id" => vec![n.subnet_id.clone()],
        "vpc-id" => vec![n.vpc_id.clone()],
        "availability-zone" => vec![n.az.clone()],
        "private-ip-address" | "addresses.private-ip-address" => vec![n.private_ip.clone()],
        "description" => vec![n.description.clone()],
        "status" => vec![if attached { "in-use" } else { "available" }.into()],
        "attachment.instance-id" => n.instance_id.iter().cloned().collect(),
        "attachment.status" => vec![if attached { "attached" } else { "detached" }.into()],
        "group-id" => n.groups.clone(),
        "interface-type" => vec!["interface".into()],
        other => return Err(invalid_param(format!("The filter '{other}' is invalid"))),
    })
}

fn interface(out: &mut String, ctx: &Ctx, n: &NetworkInterface) {
    let dns = format!("ip-{}.ec2.internal", n.private_ip.replace('.', "-"));
    let hex = crate::ids::stable_hex(&n.id, 10);
    let mac = format!("02:{}:{}:{}:{}:{}", &hex[0..2], &hex[2..4], &hex[4..6], &hex[6..8], &hex[8..10]);
    push_el(out, "networkInterfaceId", &n.id);
    push_el(out, "subnetId", &n.subnet_id);
    push_el(out, "vpcId", &n.vpc_id);
    push_el(out, "availabilityZone", &n.az);
    push_el(out, "description", &n.description);
    push_el(out, "ownerId", ctx.account());
    push_el(out, "requesterManaged", "false");
    push_el(out, "status", if n.instance_id.is_some() { "in-use" } else { "available" });
    push_el(out, "macAddress", &mac);
    push_el(out, "privateIpAddress", &n.private_ip);
    push_el(out, "privateDnsName", &dns);
    push_el(out, "sourceDestCheck", "true");
    out.push_str("<groupSet>");
    for g in &n.groups {
        out.push_str("<item>");
        push_el(out, "groupId", g);
        out.push_str("</item>");
    }
    out.push_str("</groupSet>");
    if let Some(i) = &n.instance_id {
        out.push_str("<attachment>");
        push_el(out, "attachmentId", &format!("eni-attach-{}", crate::ids::stable_hex(&n.id, 17)));
        push_el(out, "instanceId", i);
        push_el(out, "instanceOwnerId", ctx.account());
        push_el(out, "deviceIndex", "0");
        push_el(out, "status", "attached");
        push_el(out, "attachTime", &iso(n.created));
        push_el(out, "deleteOnTermination", "true");
        out.push_str("</attachment>");
    }
    out.push_str("<tagSet/><privateIpAddressesSet><item>");
    push_el(out, "privateIpAddress", &n.private_ip);
    push_el(out, "privateDnsName", &dns);
    push_el(out, "primary", "true");
    out.push_str("</item></privateIpAddressesSet><ipv6AddressesSet/>");
    push_el(out, "interfaceType", "interface");
}

pub fn describe(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("NetworkInterfaceId");
    with_partition(ctx, |p| {
        let not_found = ("InvalidNetworkInterfaceID.NotFound", "network interface");
        let (items, next) = select(form, &p.ec2.network_interfaces, &ids, not_found, field)?;
        let mut body = String::from("<networkInterfaceSet>");
        for n in items {
            body.push_str("<item>");
            interface(&mut body, ctx, n);
            body.push_str("</item>");
        }
        body.push_str("</networkInterfaceSet>");
        if let Some(t) = next {
            push_el(&mut body, "nextToken", &t);
        }
        Ok(reply(ctx, "DescribeNetworkInterfaces", &body))
    })
}

pub fn create(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let subnet = form
        .get("SubnetId")
        .ok_or_else(|| ApiError::new(400, "MissingParameter", "The request must contain the parameter SubnetId"))?;
    let now = ctx.now();
    with_partition(ctx, |p| {
        let groups = form.list("SecurityGroupId");
        if let Some(g) = groups.iter().find(|g| !p.ec2.security_groups.contains_key(*g)) {
            return Err(ApiError::new(400, "InvalidGroup.NotFound", format!("The security group '{g}' does not exist")));
        }
        let ask = Ask {
            subnet_id: subnet,
            private_ip: form.get("PrivateIpAddress"),
            description: form.get("Description").unwrap_or_default().to_owned(),
            groups,
            instance_id: None,
        };
        let id = format!("eni-{}", crate::ids::hex_id(17));
        let n = p.ec2.create_interface(ask, id, now)?;
        let mut body = String::from("<networkInterface>");
        interface(&mut body, ctx, &n);
        body.push_str("</networkInterface>");
        Ok(reply(ctx, "CreateNetworkInterface", &body))
    })
}

pub fn delete(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let id = form
        .get("NetworkInterfaceId")
        .ok_or_else(|| ApiError::new(400, "MissingParameter", "The request must contain the parameter NetworkInterfaceId"))?
        .to_owned();
    with_partition(ctx, |p| {
        let n = p.ec2.network_interfaces.get(&id).ok_or_else(|| {
            ApiError::new(400, "InvalidNetworkInterfaceID.NotFound", format!("The networkInterface ID '{id}' does not exist"))
        })?;
        if n.instance_id.is_some() {
            return Err(ApiError::new(
                400,
                "InvalidNetworkInterface.InUse",
                format!("Network interface '{id}' is currently in use."),
            ));
        }
        p.ec2.network_interfaces.remove(&id);
        Ok(reply(ctx, "DeleteNetworkInterface", "<return>true</return>"))
    })
}
