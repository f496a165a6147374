//! Whether one discovered server is in a resource's scope, is named by a HostNames entry, and
//! has its Tags.

use super::params::{HostName, ResourceSelection};
use crate::discovery::DiscoveredServer;
use std::collections::BTreeMap;

pub fn in_scope(sel: &ResourceSelection, s: &DiscoveredServer) -> bool {
    sel.reaches(&s.account, &s.region)
}

/// A short name matches the hostname or the first label of the FQDN (of the hostname too, as
/// DRS sometimes reports an FQDN there); a dotted name matches the FQDN or the hostname.
pub fn host_matches(h: &HostName, s: &DiscoveredServer) -> bool {
    if h.account.as_ref().is_some_and(|a| a != &s.account) || h.region.as_ref().is_some_and(|r| r != &s.region) {
        return false;
    }
    let names = [Some(s.hostname.as_str()), s.fqdn.as_deref()];
    let names = names.iter().flatten().map(|n| n.trim_end_matches('.').to_ascii_lowercase()).filter(|n| !n.is_empty());
    if h.name.contains('.') {
        names.into_iter().any(|n| n == h.name)
    } else {
        names.into_iter().any(|n| n.split('.').next() == Some(h.name.as_str()))
    }
}

/// Every key must match, on the DRS source server's tags or the source instance's EC2 tags.
pub fn tags_match(tags: &BTreeMap<String, Vec<String>>, s: &DiscoveredServer) -> bool {
    let ec2 = s.instance.as_ref().map(|i| &i.tags);
    tags.iter().all(|(k, values)| {
        let has = |t: Option<&String>| t.is_some_and(|v| values.contains(v));
        has(s.tags.get(k)) || has(ec2.and_then(|t| t.get(k)))
    })
}
