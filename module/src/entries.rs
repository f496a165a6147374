//! The Lambda's entries besides the lifecycle, as the hub's schedules and EventBridge rules
//! call them (`event::entry`): `readiness` answers the readiness report and logs its EMF
//! metrics (the hub's alarm on NOT READY reads them); `tags-sync` copies source instances'
//! EC2 tags onto their DRS source servers, every partition apart: one that cannot be read or
//! tagged is named in the answer and the metrics, never fails the others.

use crate::aws::Clients;
use crate::discovery::discover_retrying;
use crate::error::ErrorCode;
use crate::event::entry::Entry;
use crate::lifecycle::{Handled, LifecycleError};
use crate::metrics::emf;
use crate::readiness::{assess, render};
use crate::tagsync::{apply, plan, Rules};
use serde_json::{json, Value};

pub async fn handle(clients: &Clients, raw: &Value) -> Result<Handled, LifecycleError> {
    let entry = Entry::parse(raw).map_err(|e| LifecycleError {
        code: ErrorCode::InvalidEvent,
        message: e.to_string(),
        metrics: vec![],
    })?;
    crate::aws::audit::scope(entry.label().to_owned(), run(clients, entry)).await
}

async fn run(clients: &Clients, entry: Entry) -> Result<Handled, LifecycleError> {
    match entry {
        Entry::Readiness { layers } => {
            let resources: Vec<_> = layers.into_iter().flat_map(|l| l.resources).collect();
            let report = assess(clients, &resources).await;
            let metrics = render::metrics(&report);
            let answer = serde_json::to_value(&report).map_err(|e| LifecycleError {
                code: ErrorCode::InternalError,
                message: e.to_string(),
                metrics: vec![],
            })?;
            Ok(Handled { answer, detail: None, metrics })
        }
        Entry::TagsSync { rules, instances, trigger } => tags_sync(clients, &rules, &instances, trigger.as_deref()).await,
    }
}

async fn tags_sync(
    clients: &Clients,
    rules: &Rules,
    instances: &[String],
    trigger: Option<&str>,
) -> Result<Handled, LifecycleError> {
    // A throttled partition is read again (as activate does) before it is named unread.
    let found = discover_retrying(clients, &clients.config().partitions(), 3).await;
    let unread: Vec<String> = found
        .failed()
        .map(|p| format!("{}: {}", p.partition, p.error.as_ref().map(ToString::to_string).unwrap_or_default()))
        .collect();
    // A tag-change event names its instances: only their servers are planned (discovery still
    // reads every partition, as a server's DRS partition is not the instance's).
    let servers: Vec<_> = found
        .servers
        .into_iter()
        .filter(|s| instances.is_empty() || s.instance_id.as_ref().is_some_and(|i| instances.contains(i)))
        .collect();
    let plan = plan(&servers, rules);
    let applied = apply(clients, &plan).await;
    tracing::info!(
        trigger = trigger.unwrap_or("unnamed"),
        tagged = applied.servers_tagged,
        failed = applied.failures.len(),
        unread = unread.len(),
        "tags-sync"
    );
    let conflicts: usize = plan.changes.iter().map(|c| c.conflicts.len()).sum();
    let metrics = vec![emf::document(
        clients.now().timestamp_millis(),
        &[],
        &[],
        &[
            ("TagSyncServersTagged", "Count", applied.servers_tagged as f64),
            ("TagSyncTagsSet", "Count", applied.tags_set as f64),
            ("TagSyncConflicts", "Count", conflicts as f64),
            ("TagSyncFailures", "Count", (applied.failures.len() + unread.len()) as f64),
        ],
        &[("trigger", json!(trigger))],
    )];
    let answer = json!({
        "entry": "tags-sync",
        "serversTagged": applied.servers_tagged,
        "tagsSet": applied.tags_set,
        "inSync": plan.in_sync,
        "conflicts": plan.changes.iter().filter(|c| !c.conflicts.is_empty())
            .map(|c| json!({"server": c.hostname, "account": c.account, "region": c.region, "keys": c.conflicts}))
            .collect::<Vec<_>>(),
        "withoutInstance": plan.without_instance,
        "failures": applied.failures,
        "unreadPartitions": unread,
    });
    Ok(Handled { answer, detail: None, metrics })
}
