//! The run ledger's DynamoDB calls. Every write that decides something once is conditional:
//! opening a run (its record and plan in one transaction, `attribute_not_exists`), recording
//! its end (only while none is recorded).
//! The loser of a race gets the winner's record back with the refusal
//! (`ReturnValuesOnConditionCheckFailure=ALL_OLD`) and follows it. A write whose reply was
//! lost and that the SDK sent again loses to itself the same way, and reads back its own
//! record: the caller cannot tell, and need not.

use super::plan::{self, PlanChunk};
use super::read;
use super::record::{
    resource_pk, wave_server_key, CleanupPass, Crossing, GateAnswer, GateAsked, GivenUp, Repointed, RunEnd, RunKey, RunListing,
    RunRecord, RECORD_VERSION, RUN_PREFIX,
};
use crate::aws::errors::AwsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// First writes (outages, busy and given-up servers) per UpdateItem: its expression stays
/// under DynamoDB's 4 KB.
const FIRST_WRITES_PER_CALL: usize = 20;

/// Tries of the transaction that opens a run, when a concurrent one cancels it.
const OPEN_ATTEMPTS: u32 = 3;

/// Why the ledger could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The call failed after the SDK's retries (see `error.kind`: a missing table, a missing
    /// permission, the region unreachable).
    #[error("run ledger {table}: {error}")]
    Call {
        table: String,
        #[source]
        error: AwsError,
    },
    /// An item that does not map to a record (written by hand, or by another tool): the
    /// attribute at fault (`gates.2.at`; `.` for the item itself) and why.
    #[error("run ledger {table}: the item {pk} / {sk} is not a run record: {attribute}: {source}")]
    Unreadable {
        table: String,
        pk: String,
        sk: String,
        attribute: String,
        /// Boxed: the error stays small on every ledger call's path.
        #[source]
        source: Box<serde_dynamo::Error>,
    },
    /// A record of a layout this module does not read.
    #[error("run ledger {table}: the item {pk} / {sk} is a version {found} record (its `v`); this module reads version {RECORD_VERSION}")]
    Version { table: String, pk: String, sk: String, found: u32 },
    /// The run has no record (a new table, or one restored without it).
    #[error("run ledger {table}: no record of execution '{execution}' of resource {identity}")]
    Missing { table: String, identity: String, execution: String },
    /// The opening transaction was cancelled for another reason than an existing record.
    #[error("run ledger {table}: the run could not be opened: the transaction was cancelled ({reasons})")]
    Cancelled { table: String, reasons: String },
    /// The run's plan chunks do not make one plan.
    #[error("run ledger {table}: the plan of execution '{execution}' cannot be read: {why}")]
    BadPlan { table: String, execution: String, why: String },
    /// A record that does not map to an item (a bug).
    #[error("run ledger {table}: a record cannot be written: {source}")]
    Unwritable {
        table: String,
        #[source]
        source: serde_dynamo::Error,
    },
}

impl LedgerError {
    /// A failure that may pass by itself (throttled, no answer): retried on a later call.
    pub fn is_transient(&self) -> bool {
        matches!(self, LedgerError::Call { error, .. } if error.is_transient())
    }
}

/// What opening a run found.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// This call wrote the record: the run is new.
    New,
    /// A record was there already (a re-delivered or concurrent activate, or an earlier run
    /// of the same execution id): the caller follows it.
    Existing(RunRecord),
}

/// The ledger table in the hub, reached with the hub's credentials.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub(super) db: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

impl Ledger {
    pub fn new(hub: &aws_config::SdkConfig, table: &str) -> Ledger {
        Ledger { db: aws_sdk_dynamodb::Client::new(hub), table: table.to_owned() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes the run's record and its plan, all or nothing, unless a record exists; returns
    /// the one that exists. A concurrent write of the same items cancels one transaction:
    /// it is tried again (up to `OPEN_ATTEMPTS`), and then finds the record the other wrote.
    pub async fn open(&self, record: &RunRecord, plan_text: &str) -> Result<Opened, LedgerError> {
        let key = record.key();
        let mut writes = vec![self.put_new(self.item(record)?)?];
        for chunk in plan::chunks(&key, plan_text) {
            let item =
                serde_dynamo::to_item(&chunk).map_err(|source| LedgerError::Unwritable { table: self.table.clone(), source })?;
            writes.push(self.put_new(item)?);
        }
        for attempt in 1..=OPEN_ATTEMPTS {
            let sent = self.db.transact_write_items().set_transact_items(Some(writes.clone())).send().await;
            let e = match sent {
                Ok(_) => return Ok(Opened::New),
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() else {
                return Err(self.call("dynamodb:TransactWriteItems", &e));
            };
            // The record's own condition: it exists (the first Put's reason carries it).
            let first = c.cancellation_reasons().first();
            if let Some(item) = first.filter(|r| r.code() == Some("ConditionalCheckFailed")).and_then(|r| r.item()) {
                return Ok(Opened::Existing(self.record(item.clone())?));
            }
            if let Some(existing) = self.get(&key).await? {
                return Ok(Opened::Existing(existing));
            }
            if attempt == OPEN_ATTEMPTS {
                let codes: Vec<&str> = c.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
                return Err(LedgerError::Cancelled { table: self.table.clone(), reasons: codes.join(", ") });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        Err(self.missing(&key))
    }

    /// A run's plan as activate wrote it.
    pub async fn plan(&self, key: &RunKey) -> Result<String, LedgerError> {
        let mut pages = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :plan)")
            .expression_attribute_values(":pk", AttributeValue::S(key.pk()))
            .expression_attribute_values(":plan", AttributeValue::S(plan::prefix(key)))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut chunks = vec![];
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.call("dynamodb:Query", &e))?;
            for item in page.items.unwrap_or_default() {
                let sk = match item.get("sk") {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                };
                let chunk: PlanChunk = read::typed(&self.table, item, key.pk(), sk)?;
                chunks.push(chunk);
            }
        }
        plan::join(chunks).map_err(|why| LedgerError::BadPlan {
            table: self.table.clone(),
            execution: key.execution.clone(),
            why,
        })
    }

    /// A Put of a new item: refused if its key exists, with the item there sent back.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem, LedgerError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| LedgerError::Call {
                table: self.table.clone(),
                error: AwsError {
                    action: "dynamodb:TransactWriteItems".into(),
                    kind: crate::aws::errors::Kind::Other,
                    code: None,
                    detail: e.to_string(),
                },
            })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The run's record, read consistently (a write just made is seen).
    pub async fn get(&self, key: &RunKey) -> Result<Option<RunRecord>, LedgerError> {
        let got = self
            .db
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk()))
            .key("sk", AttributeValue::S(key.sk()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.call("dynamodb:GetItem", &e))?;
        got.item.map(|item| self.record(item)).transpose()
    }

    /// Records the run's end unless one is recorded; returns the end that holds (this one,
    /// or the one a concurrent or earlier call recorded first).
    pub async fn end(&self, key: &RunKey, end: &RunEnd) -> Result<RunEnd, LedgerError> {
        self.set_once(key, &["end"], end, |r| r.end.clone()).await
    }

    /// Records that wave `w` asked for an approval, unless it did already; returns the gate
    /// that holds (this one, or the one a concurrent or earlier check asked for).
    pub async fn ask_gate(&self, key: &RunKey, w: usize, gate: &GateAsked) -> Result<GateAsked, LedgerError> {
        self.set_once(key, &["gates", &w.to_string()], gate, |r| r.gate(w).cloned()).await
    }

    /// Records how wave `w`'s gate was answered, unless a check did already; returns the
    /// answer that holds.
    pub async fn answer_gate(&self, key: &RunKey, w: usize, answer: &GateAnswer) -> Result<GateAnswer, LedgerError> {
        self.set_once(key, &["answers", &w.to_string()], answer, |r| r.answer(w).cloned()).await
    }

    /// Records how wave `w` crossed its hooks, unless a check did already; returns the
    /// crossing that holds.
    pub async fn cross(&self, key: &RunKey, w: usize, crossing: &Crossing) -> Result<Crossing, LedgerError> {
        self.set_once(key, &["crossings", &w.to_string()], crossing, |r| r.crossing(w).cloned()).await
    }

    /// Records wave `w` completed, with its progress as JSON, unless it is recorded already.
    pub async fn complete(&self, key: &RunKey, w: usize, progress: &str) -> Result<String, LedgerError> {
        self.set_once(key, &["completed", &w.to_string()], &progress.to_owned(), |r| r.completed(w).map(str::to_owned)).await
    }

    /// Records a hook's delay of wave `w` until `until`, unless one is recorded; returns the
    /// one that holds.
    pub async fn hold(&self, key: &RunKey, w: usize, until: DateTime<Utc>) -> Result<DateTime<Utc>, LedgerError> {
        self.set_once(key, &["holds", &w.to_string()], &until, |r| r.hold(w)).await
    }

    /// Records what replaced server `id`'s recovery snapshot, unless a check did already;
    /// returns the record that holds.
    pub async fn repoint(&self, key: &RunKey, id: &str, repointed: &Repointed) -> Result<Repointed, LedgerError> {
        self.set_once(key, &["repointed", id], repointed, |r| r.repointed.get(id).cloned()).await
    }

    /// Records what replaces server `id`'s replacement `current` (itself no longer kept when
    /// the server could start), unless a check did already: the write holds only while the
    /// record's replacement is still `current`; returns the record that holds.
    pub async fn repoint_again(
        &self,
        key: &RunKey,
        id: &str,
        current: &str,
        repointed: &Repointed,
    ) -> Result<Repointed, LedgerError> {
        let holds = Holds { path: &["now", "s"], value: current };
        self.set_where(key, &["repointed", id], repointed, Some(holds), |r| r.repointed.get(id).cloned()).await
    }

    /// The attribute at `path` (names from the record's top: `["end"]`, `["gates", "2"]`) set
    /// to `value` unless it is set: the first write wins, and the loser gets the winner's value
    /// back (`pick` reads it from the record the refusal carries).
    async fn set_once<T: serde::Serialize + Clone>(
        &self,
        key: &RunKey,
        path: &[&str],
        value: &T,
        pick: impl Fn(&RunRecord) -> Option<T>,
    ) -> Result<T, LedgerError> {
        self.set_where(key, path, value, None, pick).await
    }

    /// `set_once`, or with `holds`: set over the value there while its string at `holds.path`
    /// (below `path`) is `holds.value`.
    async fn set_where<T: serde::Serialize + Clone>(
        &self,
        key: &RunKey,
        path: &[&str],
        value: &T,
        holds: Option<Holds<'_>>,
        pick: impl Fn(&RunRecord) -> Option<T>,
    ) -> Result<T, LedgerError> {
        let placeholders: Vec<String> = (0..path.len()).map(|i| format!("#p{i}")).collect();
        let at = placeholders.join(".");
        let condition = match &holds {
            None => format!("attribute_exists(pk) AND attribute_not_exists({at})"),
            Some(h) => {
                let below: Vec<String> = (0..h.path.len()).map(|i| format!("#h{i}")).collect();
                format!("attribute_exists(pk) AND {at}.{} = :holds", below.join("."))
            }
        };
        let mut update = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk()))
            .key("sk", AttributeValue::S(key.sk()))
            .update_expression(format!("SET {at} = :value"))
            .condition_expression(condition)
            .expression_attribute_values(":value", self.value(value)?)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (placeholder, name) in placeholders.iter().zip(path) {
            update = update.expression_attribute_names(placeholder, *name);
        }
        if let Some(h) = holds {
            for (i, name) in h.path.iter().enumerate() {
                update = update.expression_attribute_names(format!("#h{i}"), *name);
            }
            update = update.expression_attribute_values(":holds", AttributeValue::S(h.value.to_owned()));
        }
        match update.send().await {
            Ok(_) => Ok(value.clone()),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_conditional_check_failed_exception() => {
                    let record = match conditional_item(s) {
                        Some(item) => Some(self.record(item)?),
                        None => self.get(key).await?,
                    };
                    // Refused, and nothing there: the record itself is missing.
                    record.as_ref().and_then(pick).ok_or_else(|| self.missing(key))
                }
                _ => Err(self.call("dynamodb:UpdateItem", &e)),
            },
        }
    }

    /// Records servers given up in wave `w` (source server id, what the check saw); one
    /// recorded already keeps its first record.
    pub async fn give_up(&self, key: &RunKey, w: usize, servers: &[(String, GivenUp)]) -> Result<(), LedgerError> {
        let mut entries = vec![];
        for (id, given) in servers {
            entries.push(("givenUp", wave_server_key(w, id), self.value(given)?));
        }
        self.first_writes(key, &entries).await
    }

    /// Records partitions newly found down (since `at`) and (wave, partition) newly counted
    /// lost; one recorded already keeps its first time.
    pub async fn mark_outages(
        &self,
        key: &RunKey,
        down: &[usize],
        lost: &[(usize, usize)],
        at: DateTime<Utc>,
    ) -> Result<(), LedgerError> {
        let at = self.value(&at)?;
        let entries: Vec<(&str, String, AttributeValue)> = down
            .iter()
            .map(|p| ("down", p.to_string(), at.clone()))
            .chain(lost.iter().map(|(w, p)| ("lost", format!("{w}/{p}"), at.clone())))
            .collect();
        self.first_writes(key, &entries).await
    }

    /// Records servers of wave `w` found busy in another run's job (since `at`); one
    /// recorded already keeps its first time.
    pub async fn mark_busy(&self, key: &RunKey, w: usize, ids: &[String], at: DateTime<Utc>) -> Result<(), LedgerError> {
        let at = self.value(&at)?;
        let entries: Vec<(&str, String, AttributeValue)> =
            ids.iter().map(|id| ("busy", wave_server_key(w, id), at.clone())).collect();
        self.first_writes(key, &entries).await
    }

    /// `<map>.<key> = value` for each entry, unless set (the first write wins), a few entries
    /// per UpdateItem: an update expression is at most 4 KB.
    async fn first_writes(&self, key: &RunKey, entries: &[(&str, String, AttributeValue)]) -> Result<(), LedgerError> {
        for chunk in entries.chunks(FIRST_WRITES_PER_CALL) {
            let mut update = self
                .db
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(key.pk()))
                .key("sk", AttributeValue::S(key.sk()))
                .condition_expression("attribute_exists(pk)");
            let mut sets = vec![];
            for (i, (map, k, value)) in chunk.iter().enumerate() {
                sets.push(format!("#m{i}.#k{i} = if_not_exists(#m{i}.#k{i}, :v{i})"));
                update = update
                    .expression_attribute_names(format!("#m{i}"), *map)
                    .expression_attribute_names(format!("#k{i}"), k.clone())
                    .expression_attribute_values(format!(":v{i}"), value.clone());
            }
            update
                .update_expression(format!("SET {}", sets.join(", ")))
                .send()
                .await
                .map_err(|e| self.call("dynamodb:UpdateItem", &e))?;
        }
        Ok(())
    }

    /// A partition answers again: its down record goes, unless another check changed it.
    pub async fn clear_down(&self, key: &RunKey, p: usize, since: DateTime<Utc>) -> Result<(), LedgerError> {
        let since = self.value(&since)?;
        let removed = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk()))
            .key("sk", AttributeValue::S(key.sk()))
            .update_expression("REMOVE #down.#p")
            .condition_expression("#down.#p = :since")
            .expression_attribute_names("#down", "down")
            .expression_attribute_names("#p", p.to_string())
            .expression_attribute_values(":since", since)
            .send()
            .await;
        match removed {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(self.call("dynamodb:UpdateItem", &e)),
        }
    }

    /// Every run of a resource (its identity), by execution id: what cleanup needs of each
    /// (a projection, so a resource's many runs are not read whole).
    pub async fn runs_of(&self, identity: &str) -> Result<Vec<RunListing>, LedgerError> {
        let mut query = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :run)")
            .expression_attribute_values(":pk", AttributeValue::S(resource_pk(identity)))
            .expression_attribute_values(":run", AttributeValue::S(RUN_PREFIX.to_owned()))
            .consistent_read(true);
        let mut names = vec![];
        for (i, name) in RunListing::ATTRIBUTES.iter().enumerate() {
            names.push(format!("#a{i}"));
            query = query.expression_attribute_names(format!("#a{i}"), *name);
        }
        let mut pages = query.projection_expression(names.join(", ")).into_paginator().send();
        let mut out = vec![];
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.call("dynamodb:Query", &e))?;
            for item in page.items.unwrap_or_default() {
                out.push(self.listing(identity, item)?);
            }
        }
        Ok(out)
    }

    /// One cleanup pass's view of a run: its times (the first start and the first time it
    /// found nothing left kept), what remains, the terminate jobs it started, what kept it
    /// from being sure.
    pub async fn record_cleanup(&self, key: &RunKey, pass: &CleanupPass) -> Result<(), LedgerError> {
        let mut update = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk()))
            .key("sk", AttributeValue::S(key.sk()))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", self.value(&pass.at)?)
            .expression_attribute_values(":remaining", self.value(&pass.remaining)?);
        let mut sets = vec![
            "cleanupStarted = if_not_exists(cleanupStarted, :at)".to_owned(),
            "cleanupChecked = :at".to_owned(),
            "cleanupRemaining = :remaining".to_owned(),
        ];
        let mut removes = vec![];
        if !pass.jobs.is_empty() {
            sets.push("cleanupJobs = list_append(if_not_exists(cleanupJobs, :none), :jobs)".to_owned());
            update = update
                .expression_attribute_values(":none", AttributeValue::L(vec![]))
                .expression_attribute_values(":jobs", self.value(&pass.jobs)?);
        }
        if pass.open.is_empty() {
            removes.push("cleanupOpen");
        } else {
            sets.push("cleanupOpen = :open".to_owned());
            update = update.expression_attribute_values(":open", self.value(&pass.open)?);
        }
        if pass.done() {
            sets.push("cleanupDone = if_not_exists(cleanupDone, :at)".to_owned());
        } else {
            removes.push("cleanupDone");
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        update.update_expression(expression).send().await.map_err(|e| self.call("dynamodb:UpdateItem", &e))?;
        Ok(())
    }

    /// A value as DynamoDB takes it.
    fn value<T: serde::Serialize>(&self, value: &T) -> Result<AttributeValue, LedgerError> {
        serde_dynamo::to_attribute_value(value).map_err(|source| LedgerError::Unwritable { table: self.table.clone(), source })
    }

    fn listing(&self, identity: &str, item: Item) -> Result<RunListing, LedgerError> {
        read::listing(&self.table, identity, item)
    }

    fn item(&self, record: &RunRecord) -> Result<Item, LedgerError> {
        serde_dynamo::to_item(record).map_err(|source| LedgerError::Unwritable { table: self.table.clone(), source })
    }

    /// An item read back as a record (`read.rs`).
    fn record(&self, item: Item) -> Result<RunRecord, LedgerError> {
        read::record(&self.table, item)
    }

    fn missing(&self, key: &RunKey) -> LedgerError {
        LedgerError::Missing { table: self.table.clone(), identity: key.identity.clone(), execution: key.execution.clone() }
    }

    pub(super) fn call<E>(
        &self,
        action: &str,
        e: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> LedgerError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        LedgerError::Call { table: self.table.clone(), error: AwsError::from_sdk(action, e) }
    }
}

/// The item a conditional update was refused against, when the service sent it back.
fn conditional_item(e: &aws_sdk_dynamodb::operation::update_item::UpdateItemError) -> Option<Item> {
    match e {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
        _ => None,
    }
}

/// What a conditional write over a set value wants still there: the string at `path` below it.
struct Holds<'a> {
    path: &'a [&'a str],
    value: &'a str,
}
