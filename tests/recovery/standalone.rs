//! The standalone state machine of cloudformation/hub.json, played against the simulator: a
//! small interpreter of the states it uses (Task invoking the Lambda, Wait, Choice, Succeed,
//! Fail, with Parameters, ResultSelector, ResultPath, Retry and Catch; `$$.Execution.Id` and
//! `$$.Execution.Name` from the context object) hands each Task's payload to the module's
//! Lambda handler, so the definition itself is what drives the run. Lambda's own errors
//! (throttling, its service failing before or after the function ran) are injected by state
//! and invocation, as the Lambda service would answer `lambda:invoke`.

use crate::common::{resource, rig, shop_parameters, Rig};
use serde_json::{json, Map, Value};

/// `$` or `$.a.b` of `doc`.
fn path<'a>(doc: &'a Value, p: &str) -> Option<&'a Value> {
    let rest = p.strip_prefix('$')?;
    rest.split('.').filter(|s| !s.is_empty()).try_fold(doc, |v, k| v.get(k))
}

fn set_path(doc: &mut Value, p: &str, value: Value) {
    let keys: Vec<&str> = p.trim_start_matches('$').split('.').filter(|s| !s.is_empty()).collect();
    let Some((last, parents)) = keys.split_last() else {
        *doc = value;
        return;
    };
    let mut at = doc;
    for k in parents {
        at = at.as_object_mut().unwrap().entry(*k).or_insert_with(|| json!({}));
    }
    at.as_object_mut().unwrap().insert((*last).to_owned(), value);
}

/// Parameters or ResultSelector: keys ending in `.$` take the path's value from `input`, or
/// from the context object `ctx` for a `$$.` path.
fn resolve(template: &Value, input: &Value, ctx: &Value) -> Value {
    match template {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let p = v.as_str().unwrap_or_default();
                let found = match p.strip_prefix('$') {
                    Some(rest) if rest.starts_with('$') => path(ctx, rest),
                    _ => path(input, p),
                };
                match k.strip_suffix(".$") {
                    Some(name) => out.insert(name.to_owned(), found.cloned().unwrap_or(Value::Null)),
                    None => out.insert(k.clone(), resolve(v, input, ctx)),
                };
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// A fresh execution's context object, as Step Functions gives it (`$$.Execution`).
pub fn context(name: &str) -> Value {
    let arn = format!("arn:aws:states:us-east-1:100000000000:execution:drs-orch-standalone:{name}");
    json!({"Execution": {"Id": arn, "Name": name}})
}

fn rule_holds(rule: &Value, input: &Value) -> bool {
    if let Some(all) = rule["And"].as_array() {
        return all.iter().all(|r| rule_holds(r, input));
    }
    let v = path(input, rule["Variable"].as_str().unwrap());
    if let Some(present) = rule["IsPresent"].as_bool() {
        return v.is_some() == present;
    }
    let want = rule["BooleanEquals"].as_bool().expect("the rules this machine uses");
    v.and_then(Value::as_bool).expect("a Choice on a missing or non-boolean variable fails in Step Functions") == want
}

/// Runs the machine to its end: `Ok(output)` from Succeed, `Err((error, cause))` from Fail.
/// Each call is a new execution (its own `$$.Execution`).
pub async fn play(r: &Rig, definition: &Value, input: Value) -> Result<Value, (String, String)> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    play_as(r, definition, input, &context(&format!("run-{n}"))).await
}

/// `play` with the context object given: `ctx` the same twice is one execution re-driven.
pub async fn play_as(r: &Rig, definition: &Value, input: Value, ctx: &Value) -> Result<Value, (String, String)> {
    play_injecting(r, definition, input, ctx, &|_, _| None).await
}

/// A Lambda service error for the `n`th invocation (from 1) of a state: its error name, and
/// whether the function ran before the error came back (its reply lost).
pub type Inject<'a> = &'a (dyn Fn(&str, u32) -> Option<(&'static str, bool)> + Sync);

/// The state's Retry rule for `error` after `tries` retries: the pause before the next try.
fn retry_after(state: &Value, error: &str, tries: u32) -> Option<f64> {
    let rules = state["Retry"].as_array()?;
    let rule = rules.iter().find(|r| r["ErrorEquals"].as_array().unwrap().iter().any(|e| e == error || e == "States.ALL"))?;
    let max = rule["MaxAttempts"].as_u64().unwrap_or(3) as u32;
    (tries < max).then(|| {
        let pause =
            rule["IntervalSeconds"].as_f64().unwrap_or(1.0) * rule["BackoffRate"].as_f64().unwrap_or(2.0).powi(tries as i32);
        pause.min(rule["MaxDelaySeconds"].as_f64().unwrap_or(f64::MAX))
    })
}

/// `play_as` with Lambda's errors injected.
pub async fn play_injecting(
    r: &Rig,
    definition: &Value,
    mut input: Value,
    ctx: &Value,
    inject: Inject<'_>,
) -> Result<Value, (String, String)> {
    let mut at = definition["StartAt"].as_str().unwrap().to_owned();
    let mut invocations: std::collections::HashMap<String, u32> = Default::default();
    for _ in 0..1000 {
        let state = &definition["States"][&at];
        match state["Type"].as_str().unwrap() {
            "Task" => {
                assert_eq!(state["Resource"], "arn:aws:states:::lambda:invoke");
                let params = resolve(&state["Parameters"], &input, ctx);
                assert_eq!(params["FunctionName"], "${FunctionArn}");
                let mut tries = 0;
                let outcome = loop {
                    let n = invocations.entry(at.clone()).or_default();
                    *n += 1;
                    let answer = match inject(&at, *n) {
                        Some((error, ran)) => {
                            if ran {
                                let _ = drs_module::lifecycle::handle(&r.clients, &params["Payload"]).await;
                            }
                            Err((error.to_owned(), "injected".to_owned()))
                        }
                        None => drs_module::lifecycle::handle(&r.clients, &params["Payload"])
                            .await
                            .map_err(|e| (e.code.as_str().to_owned(), e.message)),
                    };
                    match answer {
                        Err((error, _)) if retry_after(state, &error, tries).is_some() => {
                            let pause = retry_after(state, &error, tries).unwrap_or_default();
                            r.control.advance(pause).await.unwrap();
                            tries += 1;
                        }
                        other => break other,
                    }
                };
                match outcome {
                    Ok(answer) => {
                        let result =
                            resolve(&state["ResultSelector"], &json!({"Payload": answer, "StatusCode": 200}), &Value::Null);
                        set_path(&mut input, state["ResultPath"].as_str().unwrap(), result);
                        at = state["Next"].as_str().unwrap().to_owned();
                    }
                    Err((code, message)) => {
                        let c = &state["Catch"][0];
                        assert_eq!(c["ErrorEquals"], json!(["States.ALL"]));
                        let error = json!({"Error": code, "Cause": json!({"errorMessage": message}).to_string()});
                        set_path(&mut input, c["ResultPath"].as_str().unwrap(), error);
                        at = c["Next"].as_str().unwrap().to_owned();
                    }
                }
            }
            "Wait" => {
                r.control.advance(state["Seconds"].as_f64().unwrap()).await.unwrap();
                at = state["Next"].as_str().unwrap().to_owned();
            }
            "Choice" => {
                let hit = state["Choices"].as_array().unwrap().iter().find(|c| rule_holds(c, &input));
                at = hit.map_or(&state["Default"], |c| &c["Next"]).as_str().unwrap().to_owned();
            }
            "Succeed" => return Ok(input),
            "Fail" => {
                let get =
                    |k: &str| path(&input, state[k].as_str().unwrap()).and_then(Value::as_str).unwrap_or_default().to_owned();
                return Err((get("ErrorPath"), get("CausePath")));
            }
            other => panic!("state {at}: type {other} is not used by this machine"),
        }
    }
    panic!("the machine did not end");
}

pub fn definition() -> Value {
    let hub: Value = serde_json::from_str(&std::fs::read_to_string("cloudformation/hub.json").unwrap()).unwrap();
    hub["Resources"]["StandaloneStateMachine"]["Properties"]["Definition"].clone()
}

#[tokio::test]
async fn the_standalone_machine_runs_a_drill_and_its_cleanup() {
    let r = rig().await;
    let out = play(&r, &definition(), json!({"resource": resource("ShopStack", shop_parameters()), "cleanup": true}))
        .await
        .expect("the machine succeeds");
    let run = drs_module::recovery::run::of_payload(&r.clients, &out["activate"]["Payload"]).await.unwrap();
    assert_eq!(run.record.mode, drs_module::resource::Mode::Drill);
    assert_eq!(out["cleanupStarted"]["Payload"]["phase"], "cleanup");
    assert_eq!(
        r.start_recoveries().await.iter().map(|c| c["request"]["sourceServers"].as_array().unwrap().len()).sum::<usize>(),
        60
    );
    assert_eq!(r.recovery_instances().await.iter().filter(|i| i["isDrill"] == true).count(), 0, "cleanup left no drill instance");
}

#[tokio::test]
async fn without_cleanup_the_instances_stay_and_a_failure_ends_in_fail() {
    let r = rig().await;
    play(&r, &definition(), json!({"resource": resource("ShopStack", shop_parameters())})).await.expect("succeeds");
    assert_eq!(r.recovery_instances().await.len(), 60, "no cleanup was asked");

    let mut bad = shop_parameters();
    bad["FailurePolicy"] = json!("sometimes");
    let (error, cause) =
        play(&r, &definition(), json!({"resource": resource("ShopStack", bad), "cleanup": true})).await.unwrap_err();
    assert_eq!(error, "InvalidParameters");
    assert!(cause.contains("FailurePolicy"), "{cause}");
}

#[tokio::test]
async fn the_lambdas_transient_errors_are_retried_and_the_run_is_one_run() {
    let r = rig().await;
    // Throttled twice at the first check; the service fails once after activate ran (its
    // reply lost) and once before a cleanup check ran.
    let inject = |state: &str, n: u32| match (state, n) {
        ("Activate", 1) => Some(("Lambda.ServiceException", true)),
        ("CheckRun", 1 | 2) => Some(("Lambda.TooManyRequestsException", false)),
        ("CheckCleanup", 1) => Some(("Lambda.AWSLambdaException", false)),
        _ => None,
    };
    let input = json!({"resource": resource("ShopStack", shop_parameters()), "cleanup": true});
    play_injecting(&r, &definition(), input, &context("retried"), &inject).await.expect("the machine succeeds");
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "one run, each server once: {launches:?}");
    assert_eq!(r.recovery_instances().await.iter().filter(|i| i["isDrill"] == true).count(), 0);
}

#[tokio::test]
async fn a_failed_drill_is_cleaned_up_when_asked_and_the_machine_fails_with_its_error() {
    let r = rig().await;
    r.control
        .ok(
            "POST",
            "servers/db-01",
            Some(&json!({"launchOutcome": "FAILED", "launchSeconds": 60, "failureReason": "no capacity"})),
        )
        .await
        .unwrap();
    let mut params = shop_parameters();
    params["FailurePolicy"] = json!("fail-fast");
    let (error, cause) =
        play(&r, &definition(), json!({"resource": resource("ShopStack", params), "cleanup": true})).await.unwrap_err();
    assert_eq!(error, "WaveFailed", "{cause}");
    assert!(cause.contains("db-01"), "{cause}");
    assert!(!r.start_recoveries().await.is_empty(), "the drill launched servers");
    assert_eq!(r.recovery_instances().await.iter().filter(|i| i["isDrill"] == true).count(), 0, "cleanup left none");
}
