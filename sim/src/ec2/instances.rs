//! DescribeInstances: instance IDs, filters (incl. `tag:<key>`), MaxResults/NextToken.

use super::model::Instance;
use super::partition::with_partition;
use super::wire::{invalid_param, max_results, next_token, reply, token_for};
use crate::clock::iso;
use crate::ctx::Ctx;
use crate::protocol::form::Form;
use crate::protocol::xml::{escape, push_el, push_tag_set};
use crate::protocol::{ApiError, Reply};
use std::collections::BTreeSet;
use std::fmt::Write;

struct Filter {
    name: String,
    values: Vec<String>,
}

impl Filter {
    fn matches(&self, i: &Instance) -> Result<bool, ApiError> {
        let any = |have: &str| self.values.iter().any(|v| wildcard(v, have));
        Ok(match self.name.as_str() {
            "instance-id" => any(&i.id),
            "instance-state-name" => any(&i.state),
            "instance-state-code" => any(&i.state_code().to_string()),
            "image-id" => any(&i.image_id),
            "tag-value" => i.tags.values().any(|v| any(v)),
            "instance-type" => any(&i.instance_type),
            "availability-zone" => any(&i.az),
            "private-ip-address" => i.private_ip.as_deref().is_some_and(any),
            "subnet-id" => i.subnet_id.as_deref().is_some_and(any),
            "vpc-id" => i.vpc_id.as_deref().is_some_and(any),
            "tag-key" => i.tags.keys().any(|k| any(k)),
            n if n.starts_with("tag:") => i.tags.get(&n[4..]).is_some_and(|v| any(v)),
            other => return Err(invalid_param(format!("The filter '{other}' is invalid"))),
        })
    }
}

/// EC2 filter values take `*` and `?` wildcards.
fn wildcard(pattern: &str, s: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == s;
    }
    fn go(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(&pattern.chars().collect::<Vec<_>>(), &s.chars().collect::<Vec<_>>())
}

pub fn describe(ctx: &Ctx, form: &Form) -> Result<Reply, ApiError> {
    let ids = form.list("InstanceId");
    let filters: Vec<Filter> = form
        .indexed("Filter")
        .into_iter()
        .map(|n| Filter {
            name: form.get(&format!("Filter.{n}.Name")).unwrap_or_default().to_owned(),
            values: form.list(&format!("Filter.{n}.Value")),
        })
        .collect();
    let page = max_results(form, 5, 1000)?;
    if page.is_some() && !ids.is_empty() {
        return Err(ApiError::new(
            400,
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        ));
    }
    for id in &ids {
        if !crate::drs::input::is_instance_id(id) {
            return Err(ApiError::new(400, "InvalidInstanceID.Malformed", format!("Invalid id in InstanceId: \"{id}\"")));
        }
    }
    with_partition(ctx, |p| {
        let missing: Vec<&String> = ids.iter().filter(|id| !p.ec2.instances.contains_key(*id)).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
            return Err(ApiError::new(400, "InvalidInstanceID.NotFound", format!("The instance IDs {list} do not exist")));
        }
        // An `instance-id` filter without wildcards names its instances: look them up
        // rather than testing every instance of the partition against every value.
        let named = filters.iter().find(|f| f.name == "instance-id" && !f.values.iter().any(|v| v.contains(['*', '?'])));
        let candidates: Box<dyn Iterator<Item = &Instance>> = match (ids.is_empty(), named) {
            (false, _) => Box::new(ids.iter().filter_map(|id| p.ec2.instances.get(id))),
            (true, Some(f)) => {
                let wanted: BTreeSet<&str> = f.values.iter().map(String::as_str).collect();
                Box::new(wanted.into_iter().filter_map(|id| p.ec2.instances.get(id)))
            }
            (true, None) => Box::new(p.ec2.instances.values()),
        };
        let mut matching = Vec::new();
        for i in candidates {
            let mut keep = true;
            for f in filters.iter().filter(|f| !named.is_some_and(|n| std::ptr::eq(*f, n))) {
                keep &= f.matches(i)?;
            }
            if keep {
                matching.push(i);
            }
        }
        matching.sort_by(|a, b| a.id.cmp(&b.id));
        matching.dedup_by(|a, b| a.id == b.id);
        let start = next_token(form, matching.len())?;
        let end = page.map_or(matching.len(), |n| (start + n).min(matching.len()));
        let mut body = String::with_capacity(64 + (end - start) * 1024);
        body.push_str("<reservationSet>");
        for i in &matching[start..end] {
            reservation(&mut body, ctx, i);
        }
        body.push_str("</reservationSet>");
        if end < matching.len() {
            push_el(&mut body, "nextToken", &token_for(end));
        }
        Ok(reply(ctx, "DescribeInstances", &body))
    })
}

fn reservation(out: &mut String, ctx: &Ctx, i: &Instance) {
    out.push_str("<item>");
    push_el(out, "reservationId", &format!("r-{}", crate::ids::stable_hex(&i.id, 17)));
    push_el(out, "ownerId", ctx.account());
    out.push_str("<groupSet/><instancesSet><item>");
    push_el(out, "instanceId", &i.id);
    push_el(out, "imageId", &i.image_id);
    let _ = write!(out, "<instanceState><code>{}</code><name>{}</name></instanceState>", i.state_code(), escape(&i.state));
    let dns = i.private_ip.as_ref().map(|ip| format!("ip-{}.ec2.internal", ip.replace('.', "-"))).unwrap_or_default();
    push_el(out, "privateDnsName", &dns);
    push_el(out, "instanceType", &i.instance_type);
    push_el(out, "launchTime", &iso(i.launch_time));
    out.push_str("<placement>");
    push_el(out, "availabilityZone", &i.az);
    out.push_str("<tenancy>default</tenancy></placement>");
    if let Some(ip) = &i.private_ip {
        push_el(out, "privateIpAddress", ip);
    }
    if let (Some(subnet), Some(vpc)) = (&i.subnet_id, &i.vpc_id) {
        push_el(out, "subnetId", subnet);
        push_el(out, "vpcId", vpc);
    }
    out.push_str("<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><virtualizationType>hvm</virtualizationType>");
    push_tag_set(out, "tagSet", &i.tags);
    out.push_str("</item></instancesSet></item>");
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_match_like_ec2() {
        assert!(super::wildcard("web-*", "web-01"));
        assert!(super::wildcard("w?b", "web"));
        assert!(!super::wildcard("app-*", "web-01"));
    }
}
