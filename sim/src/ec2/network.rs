//! DescribeSubnets and DescribeSecurityGroups: by id (a missing one is refused, as EC2 does,
//! with InvalidSubnetID.NotFound / InvalidGroup.NotFound), by filter (what matches, none
//! refused), MaxResults/NextToken.

use super::model::{SecurityGroup, Subnet};
use super::partition::with_partition;
use super::wire::{invalid_param, max_results, next_token, reply, token_for};
use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::xml::push_el;
use crate::protocol::{ApiError, Reply};
use std::collections::BTreeMap;

/// `Filter.N.Name` and its values.
fn filters(form: &Form) -> Vec<(String, Vec<String>)> {
    form.indexed("Filter")
        .into_iter()
        .map(|n| {
            let name = form.get(&format!("Filter.{n}.Name")).unwrap_or_default().to_owned();
            (name, form.list(&format!("Filter.{n}.Value")))
        })
        .collect()
}

/// The items `ids` name (each must exist) or, without ids, every item; then those that pass
/// every filter, one page of them.
pub(super) fn select<'a, T>(
    form: &Form,
    all: &'a BTreeMap<String, T>,
    ids: &[String],
    not_found: (&str, &str),
    field: impl Fn(&T, &str) -> Result<Vec<String>, ApiError>,
) -> Result<(Vec<&'a T>, Option<String>), ApiError> {
    let page = max_results(form, 5, 1000)?;
    if page.is_some() && !ids.is_empty() {
        return Err(ApiError::new(400, "InvalidParameterCombination", "The parameter MaxResults cannot be used with ids"));
    }
    if let Some(missing) = ids.iter().find(|id| !all.contains_key(*id)) {
        return Err(ApiError::new(400, not_found.0, format!("The {} '{missing}' does not exist", not_found.1)));
    }
    let candidates: Vec<&T> = match ids.is_empty() {
        true => all.values().collect(),
        false => ids.iter().filter_map(|id| all.get(id)).collect(),
    };
    let mut out = vec![];
    'items: for item in candidates {
        for (name, values) in filters(form) {
            if !field(item, &name)?.iter().any(|have| values.contains(have)) {
                continue 'items;
            }
        }
        out.push(item);
    }
    let start = next_token(form, out.len())?;
    let end = page.map_or(out.len(), |n| (start + n).min(out.len()));
    let next = (end < out.len()).then(|| token_for(end));
    Ok((out[start..end].to_vec(), next))
}

pub fn describe_subnets(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("SubnetId");
    with_partition(ctx, |p| {
        let (items, next) = select(form, &p.ec2.subnets, &ids, ("InvalidSubnetID.NotFound", "subnet ID"), subnet_field)?;
        let mut body = String::from("<subnetSet>");
        for s in items {
            subnet(&mut body, ctx, s, p.ec2.available_addresses(s));
        }
        body.push_str("</subnetSet>");
        if let Some(t) = next {
            push_el(&mut body, "nextToken", &t);
        }
        Ok(reply(ctx, "DescribeSubnets", &body))
    })
}

pub fn describe_security_groups(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("GroupId");
    with_partition(ctx, |p| {
        let (mut items, next) =
            select(form, &p.ec2.security_groups, &ids, ("InvalidGroup.NotFound", "security group"), group_field)?;
        let names = form.list("GroupName");
        if let Some(missing) = names.iter().find(|n| !p.ec2.security_groups.values().any(|g| &g.name == *n)) {
            return Err(ApiError::new(400, "InvalidGroup.NotFound", format!("The security group '{missing}' does not exist")));
        }
        items.retain(|g| names.is_empty() || names.contains(&g.name));
        let mut body = String::from("<securityGroupInfo>");
        for g in items {
            group(&mut body, ctx, g);
        }
        body.push_str("</securityGroupInfo>");
        if let Some(t) = next {
            push_el(&mut body, "nextToken", &t);
        }
        Ok(reply(ctx, "DescribeSecurityGroups", &body))
    })
}

fn subnet_field(s: &Subnet, name: &str) -> Result<Vec<String>, ApiError> {
    Ok(vec![match name {
        "subnet-id" => s.id.clone(),
        "vpc-id" => s.vpc_id.clone(),
        "availability-zone" => s.az.clone(),
        "cidr-block" => s.cidr.clone(),
        "default-for-az" => s.default_for_az.to_string(),
        "state" => "available".into(),
        other => return Err(invalid_param(format!("The filter '{other}' is invalid"))),
    }])
}

fn group_field(g: &SecurityGroup, name: &str) -> Result<Vec<String>, ApiError> {
    Ok(vec![match name {
        "group-id" => g.id.clone(),
        "group-name" => g.name.clone(),
        "vpc-id" => g.vpc_id.clone(),
        "description" => g.description.clone(),
        other => return Err(invalid_param(format!("The filter '{other}' is invalid"))),
    }])
}

fn subnet(out: &mut String, ctx: &Ctx, s: &Subnet, available: u64) {
    out.push_str("<item>");
    push_el(out, "subnetId", &s.id);
    push_el(out, "subnetArn", &format!("arn:aws:ec2:{}:{}:subnet/{}", ctx.region, ctx.account(), s.id));
    push_el(out, "state", "available");
    push_el(out, "vpcId", &s.vpc_id);
    push_el(out, "ownerId", ctx.account());
    push_el(out, "cidrBlock", &s.cidr);
    push_el(out, "availableIpAddressCount", &available.to_string());
    push_el(out, "availabilityZone", &s.az);
    push_el(out, "defaultForAz", &s.default_for_az.to_string());
    push_el(out, "mapPublicIpOnLaunch", "false");
    out.push_str("<tagSet/></item>");
}

fn group(out: &mut String, ctx: &Ctx, g: &SecurityGroup) {
    out.push_str("<item>");
    push_el(out, "ownerId", ctx.account());
    push_el(out, "groupId", &g.id);
    push_el(out, "groupName", &g.name);
    push_el(out, "groupDescription", &g.description);
    push_el(out, "vpcId", &g.vpc_id);
    push_el(out, "securityGroupArn", &format!("arn:aws:ec2:{}:{}:security-group/{}", ctx.region, ctx.account(), g.id));
    out.push_str("<ipPermissions/><ipPermissionsEgress/><tagSet/></item>");
}
