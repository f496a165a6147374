//! Recovery plans through the official SDK: plans and steps built, reordered and refused as
//! the model says; executions run one step at a time on the clock, one per plan at a time;
//! failures, retries, skips and cancels; client tokens; tags.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_drs::error::ProvideErrorMetadata;
use aws_sdk_drs::types::{
    RecoveryPlanExecutionMode as Mode, RecoveryPlanExecutionStatus as ExecStatus, RecoveryPlanExecutionStepConfiguration,
    RecoveryPlanExecutionStepStatus as StepStatus, RecoveryPlanServer, RecoveryPlanServerImpactLevel, RecoveryPlanStatus,
    RecoveryPlanStepConfiguration, ServerStepConfiguration, WaitStepConfiguration,
};
use common::*;
use serde_json::json;

/// The demo fleet's servers of one account x region by hostname: (hostname, id, arn).
async fn servers(drs: &aws_sdk_drs::Client) -> Vec<(String, String, String)> {
    let out = drs.describe_source_servers().send().await.unwrap();
    let mut v: Vec<(String, String, String)> = out
        .items()
        .iter()
        .map(|s| {
            let host = s.source_properties().unwrap().identification_hints().unwrap().hostname().unwrap().to_owned();
            (host, s.source_server_id().unwrap().to_owned(), s.arn().unwrap().to_owned())
        })
        .collect();
    v.sort();
    v
}

fn server_step(arns: &[&str], impact: Option<RecoveryPlanServerImpactLevel>) -> RecoveryPlanStepConfiguration {
    let list =
        arns.iter().map(|a| RecoveryPlanServer::builder().server_arn(*a).set_impact_level(impact.clone()).build().unwrap());
    RecoveryPlanStepConfiguration::ServerStepConfiguration(
        ServerStepConfiguration::builder().set_servers(Some(list.collect())).build().unwrap(),
    )
}

fn wait_step(minutes: i32) -> RecoveryPlanStepConfiguration {
    RecoveryPlanStepConfiguration::WaitStepConfiguration(
        WaitStepConfiguration::builder().wait_duration_minutes(minutes).build().unwrap(),
    )
}

fn code(e: &impl ProvideErrorMetadata) -> &str {
    e.code().unwrap_or("<none>")
}

fn secs(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
}

async fn plan_with(drs: &aws_sdk_drs::Client, name: &str, steps: Vec<(&str, RecoveryPlanStepConfiguration)>) -> String {
    let plan = drs.create_recovery_plan().name(name).tags("team", "dr").send().await.unwrap();
    let arn = plan.recovery_plan().unwrap().recovery_plan_arn().to_owned();
    for (n, c) in steps {
        drs.create_recovery_plan_step().recovery_plan_arn(&arn).step_name(n).configuration(c).send().await.unwrap();
    }
    arn
}

async fn execution_steps(drs: &aws_sdk_drs::Client, exec: &str) -> Vec<aws_sdk_drs::types::RecoveryPlanExecutionStepSummary> {
    drs.list_recovery_plan_execution_steps()
        .recovery_plan_execution_arn(exec)
        .send()
        .await
        .unwrap()
        .recovery_plan_execution_steps()
        .to_vec()
}

fn statuses(steps: &[aws_sdk_drs::types::RecoveryPlanExecutionStepSummary]) -> Vec<&str> {
    steps.iter().map(|s| s.status().as_str()).collect()
}

/// The job of each server step, in step order.
fn jobs_of(steps: &[aws_sdk_drs::types::RecoveryPlanExecutionStepSummary]) -> Vec<Option<String>> {
    steps
        .iter()
        .filter_map(|s| match s.configuration() {
            Some(RecoveryPlanExecutionStepConfiguration::ExecutionServerStepConfiguration(c)) => {
                Some(c.servers().first().and_then(|x| x.job_id()).map(str::to_owned))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn an_execution_runs_one_step_at_a_time_on_the_clock() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let s = servers(&drs).await;
    let (db, app): (Vec<&str>, Vec<&str>) = (
        s.iter().filter(|x| x.0.starts_with("db-")).map(|x| x.2.as_str()).collect(),
        s.iter().filter(|x| x.0.starts_with("app-")).map(|x| x.2.as_str()).collect(),
    );
    let plan = plan_with(
        &drs,
        "shop plan",
        vec![("databases", server_step(&db, None)), ("pause", wait_step(5)), ("apps", server_step(&app, None))],
    )
    .await;
    let got = drs.get_recovery_plan().recovery_plan_arn(&plan).send().await.unwrap();
    let got = got.recovery_plan().unwrap();
    assert_eq!((got.name(), got.status()), ("shop plan", &RecoveryPlanStatus::Active));
    assert!(plan.contains(":recovery-plan/plan-"), "{plan}");

    let started = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send().await.unwrap();
    let exec = started.recovery_plan_execution().unwrap();
    assert_eq!(exec.status(), &ExecStatus::Created);
    let exec = exec.recovery_plan_execution_arn().to_owned();
    // One execution of a plan at a time; a plan with one running is not deleted.
    let again = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send().await.unwrap_err();
    assert_eq!(code(&again), "ConflictException");
    let busy = drs.delete_recovery_plan().recovery_plan_arn(&plan).send().await.unwrap_err();
    assert_eq!(code(&busy), "ConflictException");

    sim.control.advance(1.0).await.unwrap();
    let steps = execution_steps(&drs, &exec).await;
    assert_eq!(statuses(&steps), ["EXECUTING", "NOT_STARTED", "NOT_STARTED"]);
    let first_job = jobs_of(&steps)[0].clone().expect("the first step launched its job");
    assert_eq!(jobs_of(&steps)[1], None, "the second server step has not launched");
    let jobs = drs.describe_jobs().send().await.unwrap();
    assert_eq!(jobs.items().len(), 1, "one job: one server step runs at a time");
    let job = &jobs.items()[0];
    assert_eq!(job.job_id(), first_job);
    assert_eq!(job.initiated_by().map(|i| i.as_str()), Some("START_DRILL"));
    let mut ids: Vec<&str> = job.participating_servers().iter().filter_map(|p| p.source_server_id()).collect();
    ids.sort();
    let mut want: Vec<&str> = s.iter().filter(|x| x.0.starts_with("db-")).map(|x| x.1.as_str()).collect();
    want.sort();
    assert_eq!(ids, want);

    // The databases' job ends; the wait begins then, and the apps start 5 minutes later.
    sim.control.advance(3600.0).await.unwrap();
    let done = drs.get_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    let done = done.recovery_plan_execution().unwrap();
    assert_eq!(done.status(), &ExecStatus::Completed, "{done:?}");
    let steps = execution_steps(&drs, &exec).await;
    assert_eq!(statuses(&steps), ["COMPLETED", "COMPLETED", "COMPLETED"]);
    let jobs = drs.describe_jobs().send().await.unwrap();
    assert_eq!(jobs.items().len(), 2);
    let (apps_job, db_job) = (&jobs.items()[0], &jobs.items()[1]);
    let gap = secs(apps_job.creation_date_time().unwrap()) - secs(db_job.end_date_time().unwrap());
    assert_eq!(gap, 300, "the apps' job starts when the 5-minute wait after the databases' job ends");
    assert_eq!(secs(done.completed_at().unwrap()), secs(apps_job.end_date_time().unwrap()));
    let instances = drs.describe_recovery_instances().send().await.unwrap();
    assert_eq!(instances.items().iter().filter(|r| r.is_drill() == Some(true)).count(), db.len() + app.len());
    let step =
        drs.get_recovery_plan_execution_step().recovery_plan_execution_step_arn(steps[0].recovery_plan_execution_step_arn());
    assert_eq!(step.send().await.unwrap().recovery_plan_execution_step().unwrap().attempt(), 1);

    // Listed newest first, by plan and status; an ended execution is deleted, then the plan.
    let listed = drs.list_recovery_plan_executions().recovery_plan_arn(&plan).status(ExecStatus::Completed).send().await.unwrap();
    assert_eq!(listed.recovery_plan_executions().len(), 1);
    drs.delete_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    drs.delete_recovery_plan().recovery_plan_arn(&plan).send().await.unwrap();
    let gone = drs.get_recovery_plan().recovery_plan_arn(&plan).send().await.unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
}

#[tokio::test]
async fn a_critical_failure_fails_the_execution_and_a_retry_or_a_skip_resumes_it() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let s = servers(&drs).await;
    let failing = json!({"launchOutcome": "FAILED", "launchSeconds": 60, "failureReason": "InsufficientInstanceCapacity"});
    sim.control.ok("POST", "servers/db-01", Some(&failing)).await.unwrap();
    let db01 = s.iter().find(|x| x.0 == "db-01").unwrap().2.as_str();
    let app: Vec<&str> = s.iter().filter(|x| x.0.starts_with("app-")).map(|x| x.2.as_str()).collect();
    let plan = plan_with(&drs, "fails", vec![("db", server_step(&[db01], None)), ("apps", server_step(&app, None))]).await;
    let exec = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send().await.unwrap();
    let exec = exec.recovery_plan_execution().unwrap().recovery_plan_execution_arn().to_owned();
    sim.control.advance(600.0).await.unwrap();
    let e = drs.get_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    let e = e.recovery_plan_execution().unwrap();
    assert_eq!(e.status(), &ExecStatus::Failed);
    assert!(e.error_detail().is_some_and(|d| d.message().contains("s-")), "{e:?}");
    let steps = execution_steps(&drs, &exec).await;
    assert_eq!(statuses(&steps), ["FAILED", "NOT_STARTED"]);
    assert!(steps[0].error_detail().is_some());
    // Only a server step in FAILED can be retried; the apps have not started.
    let not_failed =
        drs.retry_recovery_plan_execution_step().recovery_plan_execution_step_arn(steps[1].recovery_plan_execution_step_arn());
    assert_eq!(code(&not_failed.send().await.unwrap_err()), "ConflictException");

    // A retry runs the step again (attempt 2); db-01 still fails.
    let retried =
        drs.retry_recovery_plan_execution_step().recovery_plan_execution_step_arn(steps[0].recovery_plan_execution_step_arn());
    let retried = retried.send().await.unwrap();
    let retried = retried.recovery_plan_execution_step().unwrap();
    assert_eq!((retried.attempt(), retried.status()), (2, &StepStatus::Executing));
    sim.control.advance(600.0).await.unwrap();
    let steps = execution_steps(&drs, &exec).await;
    assert_eq!(statuses(&steps), ["FAILED", "NOT_STARTED"]);

    // Skipping the failed step resumes the execution at the next one.
    let skip = drs
        .update_recovery_plan_execution_step()
        .recovery_plan_execution_step_arn(steps[0].recovery_plan_execution_step_arn())
        .status(StepStatus::Skipped)
        .send()
        .await
        .unwrap();
    assert_eq!(skip.recovery_plan_execution_step().unwrap().status(), &StepStatus::Skipped);
    sim.control.advance(3600.0).await.unwrap();
    let e = drs.get_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    assert_eq!(e.recovery_plan_execution().unwrap().status(), &ExecStatus::Completed);
    assert_eq!(statuses(&execution_steps(&drs, &exec).await), ["SKIPPED", "COMPLETED"]);

    // An OPTIONAL server that fails does not fail its step.
    let optional =
        plan_with(&drs, "optional", vec![("db", server_step(&[db01], Some(RecoveryPlanServerImpactLevel::Optional)))]).await;
    let exec = drs.start_recovery_plan_execution().recovery_plan_arn(&optional).mode(Mode::Recovery).send().await.unwrap();
    let exec = exec.recovery_plan_execution().unwrap().recovery_plan_execution_arn().to_owned();
    sim.control.advance(600.0).await.unwrap();
    let e = drs.get_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    assert_eq!(e.recovery_plan_execution().unwrap().status(), &ExecStatus::Completed);
    let jobs = drs.describe_jobs().max_results(1).send().await.unwrap();
    assert_eq!(jobs.items()[0].initiated_by().map(|i| i.as_str()), Some("START_RECOVERY"));
}

#[tokio::test]
async fn a_cancel_skips_what_is_left_once_the_running_step_ends() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let s = servers(&drs).await;
    let db: Vec<&str> = s.iter().filter(|x| x.0.starts_with("db-")).map(|x| x.2.as_str()).collect();
    let plan = plan_with(&drs, "cancelled", vec![("wait", wait_step(60)), ("db", server_step(&db, None))]).await;
    let start = || drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send();
    let exec = start().await.unwrap().recovery_plan_execution().unwrap().recovery_plan_execution_arn().to_owned();
    sim.control.advance(60.0).await.unwrap();
    // Waiting: cancelled at once.
    let c = drs.cancel_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    assert_eq!(c.recovery_plan_execution().unwrap().status(), &ExecStatus::Cancelled);
    assert_eq!(statuses(&execution_steps(&drs, &exec).await), ["SKIPPED", "SKIPPED"]);
    let again = drs.cancel_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap_err();
    assert_eq!(code(&again), "ConflictException");

    // While a server step runs: CANCELLING until its job ends. The wait not started yet can
    // still be shortened (or its servers changed, for a server step).
    let plan = plan_with(&drs, "cancelled later", vec![("db", server_step(&db, None)), ("wait", wait_step(60))]).await;
    let started = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send().await.unwrap();
    let exec = started.recovery_plan_execution().unwrap().recovery_plan_execution_arn().to_owned();
    let steps = execution_steps(&drs, &exec).await;
    assert_eq!(statuses(&steps), ["EXECUTING", "NOT_STARTED"]);
    let shorter = drs
        .update_recovery_plan_execution_step()
        .recovery_plan_execution_step_arn(steps[1].recovery_plan_execution_step_arn())
        .wait_duration_minutes(1)
        .send()
        .await
        .unwrap();
    let shorter = shorter.recovery_plan_execution_step().unwrap().configuration();
    assert!(
        matches!(shorter, Some(RecoveryPlanExecutionStepConfiguration::WaitStepConfiguration(w)) if w.wait_duration_minutes() == 1)
    );
    let running = drs
        .update_recovery_plan_execution_step()
        .recovery_plan_execution_step_arn(steps[0].recovery_plan_execution_step_arn())
        .status(StepStatus::Skipped)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&running), "ConflictException", "a step that runs is not skipped");
    let c = drs.cancel_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    assert_eq!(c.recovery_plan_execution().unwrap().status(), &ExecStatus::Cancelling);
    sim.control.advance(3600.0).await.unwrap();
    let e = drs.get_recovery_plan_execution().recovery_plan_execution_arn(&exec).send().await.unwrap();
    assert_eq!(e.recovery_plan_execution().unwrap().status(), &ExecStatus::Cancelled);
    assert_eq!(statuses(&execution_steps(&drs, &exec).await), ["COMPLETED", "SKIPPED"]);
}

#[tokio::test]
async fn steps_are_ordered_and_refused_as_the_model_and_documentation_say() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let s = servers(&drs).await;
    let arn = |host: &str| s.iter().find(|x| x.0 == host).unwrap().2.clone();

    // A client token makes a retried create answer the same plan, and refuses another request.
    let create = |name: &str| drs.create_recovery_plan().name(name).client_token("token-1").description("d").send();
    let first = create("tokens").await.unwrap().recovery_plan().unwrap().recovery_plan_arn().to_owned();
    let second = create("tokens").await.unwrap().recovery_plan().unwrap().recovery_plan_arn().to_owned();
    assert_eq!(first, second);
    assert_eq!(code(&create("other").await.unwrap_err()), "ConflictException");
    let plan = first;
    let listed = drs.list_recovery_plans().send().await.unwrap();
    assert_eq!(listed.recovery_plans().len(), 1);
    assert_eq!(listed.recovery_plans()[0].status(), &RecoveryPlanStatus::Invalid, "no server step yet");
    let refused = drs.start_recovery_plan_execution().recovery_plan_arn(&plan).mode(Mode::Drill).send().await.unwrap_err();
    assert_eq!(code(&refused), "ValidationException");

    let step = |name: &str, c: RecoveryPlanStepConfiguration| {
        drs.create_recovery_plan_step().recovery_plan_arn(&plan).step_name(name).configuration(c)
    };
    let a = step("a", server_step(&[&arn("db-01")], None)).send().await.unwrap();
    let c = step("c", wait_step(2)).send().await.unwrap();
    let b = step("b", wait_step(1)).step_order(2).send().await.unwrap();
    let names = |steps: &[aws_sdk_drs::types::RecoveryPlanStep]| -> Vec<(i32, String)> {
        steps.iter().map(|s| (s.step_order(), s.step_name().to_owned())).collect()
    };
    let pages: Vec<_> = drs
        .list_recovery_plan_steps()
        .recovery_plan_arn(&plan)
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(names(&pages), [(1, "a".into()), (2, "b".into()), (3, "c".into())]);
    let arn_of = |x: &Option<aws_sdk_drs::types::RecoveryPlanStep>| x.as_ref().unwrap().recovery_plan_step_arn().to_owned();
    let (a, b, c) = (arn_of(&a.recovery_plan_step), arn_of(&b.recovery_plan_step), arn_of(&c.recovery_plan_step));
    let reordered = drs
        .reorder_recovery_plan_steps()
        .recovery_plan_arn(&plan)
        .ordered_step_arns(&c)
        .ordered_step_arns(&a)
        .ordered_step_arns(&b);
    let reordered = reordered.send().await.unwrap();
    assert_eq!(names(reordered.recovery_plan_steps()), [(1, "c".into()), (2, "a".into()), (3, "b".into())]);
    let partial = drs.reorder_recovery_plan_steps().recovery_plan_arn(&plan).ordered_step_arns(&c).send().await.unwrap_err();
    assert_eq!(code(&partial), "ValidationException");

    // A step's type is immutable; its servers change; a name is unique in its plan.
    let to_wait =
        drs.update_recovery_plan_step().recovery_plan_step_arn(&a).configuration(wait_step(3)).send().await.unwrap_err();
    assert_eq!(code(&to_wait), "ValidationException");
    let changed = drs.update_recovery_plan_step().recovery_plan_step_arn(&a).configuration(server_step(&[&arn("db-07")], None));
    let changed = changed.step_name("a2").send().await.unwrap();
    assert_eq!(changed.recovery_plan_step().unwrap().step_name(), "a2");
    assert_eq!(code(&step("b", wait_step(1)).send().await.unwrap_err()), "ConflictException");
    drs.delete_recovery_plan_step().recovery_plan_step_arn(&b).send().await.unwrap();
    let missing = drs.get_recovery_plan_step().recovery_plan_step_arn(&b).send().await.unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");

    // Servers of another account are not this plan's; twenty steps at most.
    let other = arn("db-01").replace(A1, A2);
    assert_eq!(code(&step("x", server_step(&[&other], None)).send().await.unwrap_err()), "ValidationException");
    for i in 0..18 {
        step(&format!("w{i}"), wait_step(1)).send().await.unwrap();
    }
    assert_eq!(code(&step("w-over", wait_step(1)).send().await.unwrap_err()), "ServiceQuotaExceededException");

    // Tags of a plan read and changed through the tag operations; the plan's own answer agrees.
    drs.tag_resource().resource_arn(&plan).tags("owner", "ops").send().await.unwrap();
    let tags = drs.list_tags_for_resource().resource_arn(&plan).send().await.unwrap();
    assert_eq!(tags.tags().and_then(|t| t.get("owner")).map(String::as_str), Some("ops"));
    let got = drs.get_recovery_plan().recovery_plan_arn(&plan).send().await.unwrap();
    assert_eq!(got.recovery_plan().unwrap().tags().and_then(|t| t.get("owner")).map(String::as_str), Some("ops"));
    let renamed = drs.update_recovery_plan().recovery_plan_arn(&plan).name("renamed").send().await.unwrap();
    assert_eq!(renamed.recovery_plan().unwrap().description(), Some("d"));
}
