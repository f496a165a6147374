//! Staging servers not yet extended into a target account (`discovery::PendingExtension`):
//! one the resource would select in its target account (in scope, named by a HostNames
//! entry, or with the Tags) is named as not ready, never added to the group, whatever the
//! policy: it cannot be launched there until an extended source server stands for it.

use super::matching::{host_matches, in_scope, tags_match};
use super::params::{Action, ResourceSelection};
use super::resolve::{NotReady, Resolution, ServerRef};
use crate::discovery::{DiscoveredServer, Discovery};

/// Adds each pending server the selection would take to `r.not_ready`, judged by the
/// resource's `onNotReady` (fail: an error; warn or skip: a warning); a staging account
/// whose servers could not be listed is a warning naming it.
pub fn name(sel: &ResourceSelection, r: &mut Resolution, found: &Discovery) {
    for e in &found.staging_errors {
        let target = DiscoveredServer { account: e.account.clone(), region: e.region.clone(), ..Default::default() };
        if in_scope(sel, &target) {
            r.report(Action::Warn, format!("servers not yet extended cannot be named: {e}"));
        }
    }
    for p in &found.pending_extension {
        // Seen as the target would see it once extended: in the target account, its tags.
        let seen = DiscoveredServer {
            account: p.account.clone(),
            region: p.region.clone(),
            hostname: p.hostname.clone(),
            tags: p.tags.clone(),
            ..Default::default()
        };
        let selected = in_scope(sel, &seen)
            && tags_match(&sel.tags, &seen)
            && (sel.host_names.is_empty() || sel.host_names.iter().any(|h| host_matches(h, &seen)));
        if !selected {
            continue;
        }
        let server = ServerRef {
            account: p.staging_account.clone(),
            region: p.region.clone(),
            hostname: p.hostname.clone(),
            source_server_id: p.source_server_arn.rsplit('/').next().unwrap_or_default().to_owned(),
        };
        let reason = format!(
            "not extended into account {}: it replicates in staging account {} and has no extended source server \
             here (CreateExtendedSourceServer {} in {}/{})",
            p.account, p.staging_account, p.source_server_arn, p.account, p.region
        );
        let action = match sel.policy.on_not_ready {
            Action::Fail => Action::Fail,
            Action::Warn | Action::Skip => Action::Warn,
        };
        r.report(action, format!("{server} is not ready: {reason}"));
        r.not_ready.push(NotReady { server, reason });
    }
}
