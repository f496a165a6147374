//! Cross-account tag sync: each DRS source server gets the tags of its source EC2 instance
//! (read in the instance's origin account and region by discovery), so that DRS-side tag
//! selections, the DRS console and cost reports see what the application teams tag in EC2.
//!
//! Sync adds and updates, never removes: a DRS tag missing from EC2 may have been set on
//! purpose. A tag whose DRS value differs from EC2's is a conflict, updated only with
//! `overwrite`. AWS-reserved keys (`aws:`) and the module's own (`drs-orch:`) are never copied,
//! and a server is never taken past DRS's 50 tags per resource: the keys that do not fit are
//! reported by name.

mod apply;
mod model;

pub use apply::apply;
pub use model::{Plan, Rules, ServerChange};

use crate::discovery::{DiscoveredServer, Tags};

/// DRS's limits on a resource's tags (TagResource).
pub const MAX_TAGS: usize = 50;
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;
const NEVER_COPIED: &[&str] = &["aws:", "drs-orch:"];

pub fn plan(servers: &[DiscoveredServer], rules: &Rules) -> Plan {
    let mut out = Plan::default();
    for s in servers {
        let Some(instance) = &s.instance else {
            out.without_instance.push(format!("{} ({}/{})", s.hostname, s.account, s.region));
            continue;
        };
        let c = server_change(s, &instance.tags, rules);
        if c.set.is_empty() && c.conflicts.is_empty() && c.skipped.is_empty() {
            out.in_sync += 1;
        } else {
            out.changes.push(c);
        }
    }
    out
}

fn server_change(s: &DiscoveredServer, ec2: &Tags, rules: &Rules) -> ServerChange {
    let mut c = ServerChange {
        account: s.account.clone(),
        region: s.region.clone(),
        hostname: s.hostname.clone(),
        source_server_id: s.source_server_id.clone(),
        arn: s.arn.clone(),
        ..Default::default()
    };
    let mut count = s.tags.len();
    for (k, v) in ec2.iter().filter(|(k, _)| rules.keys.is_empty() || rules.keys.contains(k)) {
        if let Some(prefix) = NEVER_COPIED.iter().find(|p| k.starts_with(**p)) {
            c.skipped.push(format!("{k}: the {prefix} prefix is never copied"));
            continue;
        }
        if k.chars().count() > MAX_KEY || v.chars().count() > MAX_VALUE {
            c.skipped.push(format!("{k}: longer than DRS allows (key {MAX_KEY}, value {MAX_VALUE} characters)"));
            continue;
        }
        match s.tags.get(k) {
            Some(have) if have == v => {}
            Some(_) if !rules.overwrite => c.conflicts.push(k.clone()),
            Some(_) => {
                c.set.insert(k.clone(), v.clone());
            }
            None if count >= MAX_TAGS => c.skipped.push(format!("{k}: the server has {MAX_TAGS} tags already")),
            None => {
                count += 1;
                c.set.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::SourceInstance;

    fn server(drs: &[(&str, &str)], ec2: &[(&str, &str)]) -> DiscoveredServer {
        let tags = |t: &[(&str, &str)]| t.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        DiscoveredServer {
            hostname: "web-01".into(),
            tags: tags(drs),
            instance: Some(SourceInstance { tags: tags(ec2), ..Default::default() }),
            source_unread: None,
            ..Default::default()
        }
    }

    #[test]
    fn adds_missing_keeps_conflicts_and_never_copies_reserved_keys() {
        let s = server(
            &[("Owner", "ops"), ("Tier", "web")],
            &[("Owner", "web-team"), ("Env", "prod"), ("aws:x", "1"), ("Tier", "web")],
        );
        let p = plan(std::slice::from_ref(&s), &Rules::default());
        let c = &p.changes[0];
        assert_eq!(c.set.keys().collect::<Vec<_>>(), ["Env"]);
        assert_eq!(c.conflicts, ["Owner"]);
        assert!(c.skipped[0].starts_with("aws:x: the aws: prefix"), "{:?}", c.skipped);
        let p = plan(&[s], &Rules { overwrite: true, ..Default::default() });
        assert_eq!(p.changes[0].set.get("Owner").map(String::as_str), Some("web-team"));
    }

    #[test]
    fn a_server_never_passes_fifty_tags() {
        let drs: Vec<(String, String)> = (0..49).map(|i| (format!("k{i:02}"), "v".to_string())).collect();
        let drs: Vec<(&str, &str)> = drs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let p = plan(&[server(&drs, &[("A", "1"), ("B", "2")])], &Rules::default());
        assert_eq!(p.changes[0].set.len(), 1);
        assert_eq!(p.changes[0].skipped, ["B: the server has 50 tags already"]);
    }

    #[test]
    fn only_the_chosen_keys_and_in_sync_servers_are_counted() {
        let p = plan(
            &[server(&[("Env", "prod")], &[("Env", "prod"), ("Name", "web-01")])],
            &Rules { keys: vec!["Env".into()], overwrite: false },
        );
        assert_eq!((p.changes.len(), p.in_sync), (0, 1));
        let mut none = server(&[], &[]);
        none.instance = None;
        assert_eq!(plan(&[none], &Rules::default()).without_instance.len(), 1);
    }
}
