//! The fuzz targets: each runs an input through the real entry point of one parser, called
//! as a function (the simulator's handlers and router without HTTP, so that millions of
//! inputs run in minutes), and says whether the input was accepted, rejected with which
//! error, or failed a server (a 5xx). One-line runners are here; the others in `targets/`:
//! the simulator's handlers (`sim.rs`: SigV4, DRS and Step Functions bodies as `json-body`,
//! DynamoDB's as `dynamodb`, query forms), its router (`route.rs`), stored records (the run
//! ledger's items and the hook cache's artifact record, `records.rs`) and what a hook returns
//! (`hook.rs`).

use super::mutate::Mutant;
use crate::commands::hooks::Sample;
use drs_module::config::source::ConfigSource;
use drs_module::config::ModuleConfig;
use drs_module::event::ModuleEvent;
use drs_module::recovery::payload::Payload;
use drs_module::recovery::reference::RunReference;
use drs_module::resource::DrsResource;
use drs_module::secret::Secret;
use drs_sim::Fleet;
use serde_json::Value;

mod hook;
mod records;
mod route;
mod sim;

#[cfg(test)]
pub(super) use sim::{api_verdict, dynamodb_verdict};

/// The key the `reference` corpus's seeds are signed with (a fuzzing key, no secret).
pub const REFERENCE_KEY: &str = "drsorch-fuzz-payload-key-not-a-secret-001";

pub enum Verdict {
    Accepted,
    /// The input was refused; the text is the error as its caller sees it.
    Rejected(String),
    /// A server answered 5xx, or the hook host failed otherwise than by refusing a return: it
    /// failed on the input instead of refusing it (a finding).
    ServerError(String),
}

/// Runs one input (with the name of the seed it came from); built once per worker.
pub type Runner = Box<dyn FnMut(&str, &Mutant) -> Verdict>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Object,
    /// A manifest: a list of layers.
    Array,
}

#[derive(Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    /// The entry point takes text (raw byte mutations apply), not a parsed value.
    pub text: bool,
    /// How the errors call the whole document.
    pub document: &'static str,
    /// What the document's root must be; an error about a root of another kind names the
    /// document.
    pub root: Root,
    /// Field names the target's errors may cite that are not keys of its seeds.
    pub fields: &'static [&'static str],
    pub runner: fn() -> Runner,
}

pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "event",
            text: false,
            document: "the module event",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| event(&m.value)),
        },
        Target {
            name: "entry",
            text: false,
            document: "the entry event",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(drs_module::event::entry::Entry::parse(&m.value).map_err(|e| e.to_string()))),
        },
        Target {
            name: "resource",
            text: false,
            document: "resource",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(DrsResource::from_value(&m.value))),
        },
        Target {
            name: "config",
            text: true,
            document: "the module configuration",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(ModuleConfig::parse(&m.text).map_err(|e| format!("{e:#}")))),
        },
        Target {
            name: "config-reference",
            text: false,
            document: "DRS_ORCH_CONFIG",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| config_reference(&m.value)),
        },
        Target {
            name: "manifest",
            text: false,
            document: "the manifest",
            root: Root::Array,
            fields: &[],
            runner: || Box::new(|_, m| verdict(drs_module::manifest::layers(&m.value).map_err(|e| format!("{e:#}")))),
        },
        Target {
            name: "ledger-record",
            text: false,
            document: "the item",
            root: Root::Object,
            fields: &[],
            runner: records::ledger_item,
        },
        Target {
            name: "cache-record",
            text: false,
            document: "record",
            root: Root::Object,
            fields: &["record", "component", "engine", "sha256"],
            runner: records::cache_record,
        },
        Target {
            name: "fleet",
            text: true,
            document: "the fleet",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(Fleet::parse(&m.text).map_err(|e| format!("{e:#}")))),
        },
        Target {
            name: "plan",
            text: false,
            document: "plan",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(Payload::parse(&m.value).map_err(|e| format!("{e:#}")))),
        },
        Target {
            name: "reference",
            text: false,
            document: "lifecycle_output.Payload",
            root: Root::Object,
            fields: &[],
            runner: || {
                let key = Secret::new(REFERENCE_KEY);
                Box::new(move |_, m| verdict(RunReference::parse(&m.value, Some(&key)).map(|_| ()).map_err(|e| e.to_string())))
            },
        },
        Target {
            name: "hook-sample",
            text: true,
            document: "not JSON",
            root: Root::Object,
            fields: &[],
            runner: || Box::new(|_, m| verdict(Sample::parse(&m.text, m.value.get("outcomes").is_some()))),
        },
        Target {
            name: "hook-result",
            text: false,
            document: "decision",
            root: Root::Object,
            // Every refusal is the host's "invalid decision": the contract here is that a
            // hostile return is refused as one, never fails the host otherwise.
            fields: &["decision"],
            runner: hook::hook_result,
        },
        Target {
            name: "sigv4",
            text: false,
            document: "Authorization",
            root: Root::Object,
            fields: &["Authorization", "Credential", "SignedHeaders", "Signature", "X-Amz-Date"],
            runner: || Box::new(|_, m| sim::sigv4_request(&m.value)),
        },
        Target {
            name: "json-body",
            text: true,
            document: "request body",
            root: Root::Object,
            fields: &[],
            runner: sim::json_body,
        },
        Target {
            name: "dynamodb",
            text: true,
            document: "request body",
            root: Root::Object,
            fields: &[],
            runner: sim::dynamodb_body,
        },
        Target {
            name: "http-route",
            text: false,
            document: "the request",
            root: Root::Object,
            fields: route::FIELDS,
            runner: route::route,
        },
        Target {
            name: "query-form",
            text: false,
            document: "Action",
            root: Root::Object,
            // EC2's own names of the ResourceId.N and Tag.N lists, used in its messages.
            fields: &["Action", "resourceIdSet", "tagSet"],
            runner: sim::query_form,
        },
    ]
}

fn verdict<T, E: std::fmt::Display>(r: Result<T, E>) -> Verdict {
    match r {
        Ok(_) => Verdict::Accepted,
        Err(e) => Verdict::Rejected(e.to_string()),
    }
}

/// The event, then its resource as the lifecycle reads it.
fn event(v: &Value) -> Verdict {
    match ModuleEvent::parse(v) {
        Err(e) => Verdict::Rejected(format!("{e:#}")),
        Ok(ev) => verdict(DrsResource::from_event(&ev.resource_name, ev.account_id.as_deref(), &ev.parameters)),
    }
}

/// The Lambda's configuration variables (`{"DRS_ORCH_CONFIG_SOURCE": "ssm:/x"}`), read as
/// `ConfigSource::from_env` reads the environment: an empty variable is not set.
fn config_reference(v: &Value) -> Verdict {
    let var = |k: &str| {
        let value = v.get(k)?;
        Some(value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string())).filter(|s| !s.is_empty())
    };
    verdict(ConfigSource::from_vars(var))
}
