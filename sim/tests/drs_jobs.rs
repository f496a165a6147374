//! Recovery jobs through the official SDK: a drill launched, moved by the clock and
//! terminated; conflicts, quotas, throttling, a real recovery reversed, configs and tags.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_drs::types::{JobStatus, LaunchStatus, StartRecoveryRequestSourceServer};
use common::*;
use serde_json::json;

async fn server_ids(drs: &aws_sdk_drs::Client, n: usize) -> Vec<String> {
    let out = drs.describe_source_servers().send().await.unwrap();
    out.items().iter().take(n).map(|s| s.source_server_id().unwrap().to_owned()).collect()
}

fn recovery_of(ids: &[String]) -> Vec<StartRecoveryRequestSourceServer> {
    ids.iter().map(|id| StartRecoveryRequestSourceServer::builder().source_server_id(id).build().unwrap()).collect()
}

#[tokio::test]
async fn drill_launches_progresses_on_the_clock_and_terminates() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs, 3).await;
    let started = drs
        .start_recovery()
        .set_source_servers(Some(recovery_of(&ids)))
        .is_drill(true)
        .tags("drs-orch:execution", "exec-1")
        .send()
        .await
        .unwrap();
    let job = started.job().unwrap();
    assert!(job.job_id().starts_with("drsjob-") && job.job_id().len() == 24);
    assert_eq!(job.status(), Some(&JobStatus::Pending));
    assert_eq!(job.initiated_by(), Some(&aws_sdk_drs::types::InitiatedBy::StartDrill));
    assert_eq!(job.participating_servers().len(), 3);
    assert!(job.participating_servers().iter().all(|p| p.launch_status() == Some(&LaunchStatus::Pending)));
    let job_id = job.job_id().to_owned();

    // Mid-way: the job has started and some server is launching.
    sim.control.advance(500.0).await.unwrap();
    let mid = drs.describe_jobs().send().await.unwrap();
    assert_eq!(mid.items()[0].status(), Some(&JobStatus::Started));

    sim.control.advance(2000.0).await.unwrap();
    let done = drs.describe_jobs().send().await.unwrap();
    let job = &done.items()[0];
    assert_eq!(job.job_id(), job_id);
    assert_eq!(job.status(), Some(&JobStatus::Completed));
    assert!(job.participating_servers().iter().all(|p| p.launch_status() == Some(&LaunchStatus::Launched)));
    assert_eq!(job.tags().unwrap().get("drs-orch:execution").map(String::as_str), Some("exec-1"));

    let log = drs.describe_job_log_items().job_id(&job_id).send().await.unwrap();
    let events: Vec<String> = log.items().iter().map(|i| i.event().unwrap().as_str().to_owned()).collect();
    assert_eq!(events.first().map(String::as_str), Some("JOB_START"));
    assert_eq!(events.last().map(String::as_str), Some("JOB_END"));
    assert_eq!(events.iter().filter(|e| *e == "LAUNCH_START").count(), 3);

    let instances = drs.describe_recovery_instances().send().await.unwrap();
    let drills: Vec<_> = instances.items().iter().filter(|r| r.is_drill() == Some(true)).collect();
    assert_eq!(drills.len(), 3);
    let servers = drs.describe_source_servers().send().await.unwrap();
    let launched = servers.items().iter().find(|s| s.source_server_id() == Some(ids[0].as_str())).unwrap();
    let last = launched.life_cycle().unwrap().last_launch().unwrap();
    assert_eq!(last.initiated().unwrap().r#type(), Some(&aws_sdk_drs::types::LastLaunchType::Drill));
    assert!(launched.recovery_instance_id().is_some());

    // The drill instances exist in EC2 in the recovery account and region.
    let ec2 = aws_sdk_ec2::Client::new(&target(&sim, A1, EAST).await);
    let rid = drills[0].recovery_instance_id().unwrap().to_owned();
    let found = ec2.describe_instances().instance_ids(&rid).send().await.unwrap();
    assert_eq!(found.reservations().len(), 1);

    let ids: Vec<String> = drills.iter().map(|r| r.recovery_instance_id().unwrap().to_owned()).collect();
    let term = drs.terminate_recovery_instances().set_recovery_instance_ids(Some(ids)).send().await.unwrap();
    assert_eq!(term.job().unwrap().r#type(), Some(&aws_sdk_drs::types::JobType::Terminate));
    sim.control.advance(120.0).await.unwrap();
    assert!(drs.describe_recovery_instances().send().await.unwrap().items().is_empty());
    let gone = ec2.describe_instances().instance_ids(&rid).send().await.unwrap_err();
    assert_eq!(gone.into_service_error().meta().code(), Some("InvalidInstanceID.NotFound"));
}

#[tokio::test]
async fn busy_server_conflicts_and_quotas_refuse_with_402() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs, 6).await;
    drs.start_recovery().set_source_servers(Some(recovery_of(&ids[..2]))).is_drill(true).send().await.unwrap();
    let again = drs.start_recovery().set_source_servers(Some(recovery_of(&ids[1..3]))).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&again), "ConflictException");
    assert!(format!("{again:?}").contains(&ids[1]), "the conflict names the busy server");

    sim.control
        .ok("PUT", "quotas", Some(&json!({"serversPerJob": 2, "concurrentJobs": 2, "serversInActiveJobs": 3})))
        .await
        .unwrap();
    let too_big = drs.start_recovery().set_source_servers(Some(recovery_of(&ids[2..5]))).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&too_big), "ServiceQuotaExceededException");
    let too_many_servers =
        drs.start_recovery().set_source_servers(Some(recovery_of(&ids[2..4]))).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&too_many_servers), "ServiceQuotaExceededException");
    drs.start_recovery().set_source_servers(Some(recovery_of(&ids[2..3]))).is_drill(true).send().await.unwrap();
    let third_job =
        drs.start_recovery().set_source_servers(Some(recovery_of(&ids[5..6]))).is_drill(true).send().await.unwrap_err();
    assert_eq!(code(&third_job), "ServiceQuotaExceededException");
    // Jobs that complete free the quota.
    sim.control.advance(3000.0).await.unwrap();
    drs.start_recovery().set_source_servers(Some(recovery_of(&ids[5..6]))).is_drill(true).send().await.unwrap();

    let statuses: Vec<u64> = sim
        .control
        .calls()
        .await
        .unwrap()
        .iter()
        .filter(|c| c["operation"] == "StartRecovery")
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![202, 409, 402, 402, 202, 402, 202]);
}

#[tokio::test]
async fn throttled_calls_carry_retry_after_and_the_sdk_retries_them() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    sim.control
        .ok(
            "PUT",
            "faults",
            Some(&json!({"throttle": [{"account": A1, "operation": "DescribeSourceServers", "requestsPerSecond": 4.0, "burst": 1.0, "retryAfterSeconds": 1}]})),
        )
        .await
        .unwrap();
    for _ in 0..3 {
        drs.describe_source_servers().send().await.expect("the SDK's retry absorbs the 429s");
    }
    let calls: Vec<_> =
        sim.control.calls().await.unwrap().into_iter().filter(|c| c["operation"] == "DescribeSourceServers").collect();
    let throttled = calls.iter().filter(|c| c["status"] == 429).count();
    assert!(throttled >= 1, "some calls were throttled: {calls:?}");
    assert_eq!(calls.iter().filter(|c| c["status"] == 200).count(), 3);
    assert!(calls.iter().filter(|c| c["status"] == 429).all(|c| c["error"] == "ThrottlingException"));
}

#[tokio::test]
async fn a_real_recovery_is_reversed_toward_its_origin() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs, 1).await;
    drs.start_recovery().set_source_servers(Some(recovery_of(&ids))).is_drill(false).send().await.unwrap();
    sim.control.advance(2000.0).await.unwrap();
    let ri = drs.describe_recovery_instances().send().await.unwrap();
    let r = &ri.items()[0];
    assert_eq!(r.is_drill(), Some(false));
    let rid = r.recovery_instance_id().unwrap().to_owned();
    let rev = drs.reverse_replication().recovery_instance_id(&rid).send().await.unwrap();
    let arn = rev.reversed_direction_source_server_arn().unwrap().to_owned();
    assert!(arn.contains(&format!(":{WEST}:{A1}:source-server/s-")), "{arn}");
    let again = drs.reverse_replication().recovery_instance_id(&rid).send().await.unwrap_err();
    assert_eq!(code(&again), "ConflictException");

    // The failback source server lives in the origin region and becomes CONTINUOUS.
    let origin = aws_sdk_drs::Client::new(&target(&sim, A1, WEST).await);
    let find = || async {
        let all = origin.describe_source_servers().max_results(1000).send().await.unwrap();
        all.items().iter().find(|s| s.arn() == Some(arn.as_str())).cloned().unwrap()
    };
    let s = find().await;
    assert_eq!(s.replication_direction(), Some(&aws_sdk_drs::types::ReplicationDirection::Failback));
    assert_ne!(
        s.data_replication_info().unwrap().data_replication_state(),
        Some(&aws_sdk_drs::types::DataReplicationState::Continuous)
    );
    sim.control.advance(400.0).await.unwrap();
    assert_eq!(
        find().await.data_replication_info().unwrap().data_replication_state(),
        Some(&aws_sdk_drs::types::DataReplicationState::Continuous)
    );
    let src = drs.describe_source_servers().send().await.unwrap();
    let recovered = src.items().iter().find(|s| s.source_server_id() == Some(ids[0].as_str())).unwrap();
    assert_eq!(recovered.reversed_direction_source_server_arn(), Some(arn.as_str()));
    assert_eq!(
        recovered.life_cycle().unwrap().last_launch().unwrap().initiated().unwrap().r#type(),
        Some(&aws_sdk_drs::types::LastLaunchType::Recovery)
    );
    // A failback server cannot be recovered like a failover one.
    let sid = s.source_server_id().unwrap().to_owned();
    let err = origin.start_recovery().set_source_servers(Some(recovery_of(&[sid]))).send().await.unwrap_err();
    assert_eq!(code(&err), "ConflictException");
    // Disconnecting removes the recovery instance from DRS.
    drs.disconnect_recovery_instance().recovery_instance_id(&rid).send().await.unwrap();
    assert!(drs.describe_recovery_instances().send().await.unwrap().items().is_empty());
}

#[tokio::test]
async fn failed_launches_and_unready_servers_report_why() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs, 2).await;
    sim.control
        .ok(
            "POST",
            &format!("servers/{}", ids[0]),
            Some(&json!({"launchOutcome": "FAILED", "failureReason": "Insufficient capacity"})),
        )
        .await
        .unwrap();
    sim.control.ok("POST", &format!("servers/{}", ids[1]), Some(&json!({"replicationState": "INITIAL_SYNC"}))).await.unwrap();
    let job = drs.start_recovery().set_source_servers(Some(recovery_of(&ids))).is_drill(true).send().await.unwrap();
    let job_id = job.job().unwrap().job_id().to_owned();
    sim.control.advance(3000.0).await.unwrap();
    let j = drs.describe_jobs().send().await.unwrap();
    assert!(j.items()[0].participating_servers().iter().all(|p| p.launch_status() == Some(&LaunchStatus::Failed)));
    let log = drs.describe_job_log_items().job_id(&job_id).send().await.unwrap();
    let errors: Vec<String> = log
        .items()
        .iter()
        .filter(|i| i.event().map(|e| e.as_str()) == Some("LAUNCH_FAILED"))
        .map(|i| i.event_data().unwrap().raw_error().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().any(|e| e.contains("Insufficient capacity")));
    assert!(errors.iter().any(|e| e.contains("INITIAL_SYNC")));
}

#[tokio::test]
async fn launch_and_replication_configuration_round_trip() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let id = server_ids(&drs, 1).await.remove(0);
    let lc = drs.get_launch_configuration().source_server_id(&id).send().await.unwrap();
    assert!(lc.ec2_launch_template_id().unwrap().starts_with("lt-"));
    assert_eq!(lc.copy_private_ip(), Some(false));
    let up = drs
        .update_launch_configuration()
        .source_server_id(&id)
        .copy_private_ip(true)
        .launch_disposition(aws_sdk_drs::types::LaunchDisposition::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(up.copy_private_ip(), Some(true));
    assert_eq!(up.ec2_launch_template_id(), lc.ec2_launch_template_id(), "the template id is read-only");
    let again = drs.get_launch_configuration().source_server_id(&id).send().await.unwrap();
    assert_eq!(again.launch_disposition(), Some(&aws_sdk_drs::types::LaunchDisposition::Stopped));

    let rc = drs.get_replication_configuration().source_server_id(&id).send().await.unwrap();
    assert_eq!(rc.pit_policy().len(), 3);
    let up = drs.update_replication_configuration().source_server_id(&id).bandwidth_throttling(100).send().await.unwrap();
    assert_eq!(up.bandwidth_throttling(), 100);

    let missing = drs.get_launch_configuration().source_server_id("s-00000000000000000").send().await.unwrap_err();
    assert_eq!(code(&missing), "ResourceNotFoundException");
}

#[tokio::test]
async fn tags_on_source_servers_and_jobs() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let all = drs.describe_source_servers().send().await.unwrap();
    let arn = all.items()[0].arn().unwrap().to_owned();
    drs.tag_resource().resource_arn(&arn).tags("dr:wave", "2").tags("owner", "ops").send().await.unwrap();
    let tags = drs.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().get("dr:wave").map(String::as_str), Some("2"));
    drs.untag_resource().resource_arn(&arn).tag_keys("owner").send().await.unwrap();
    let tags = drs.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert!(!tags.tags().unwrap().contains_key("owner"));
    assert!(tags.tags().unwrap().contains_key("dr:wave"));
    // A resource holds at most 50 tags; re-setting a key it has does not count twice.
    let have = tags.tags().unwrap().len();
    let mut fill = drs.tag_resource().resource_arn(&arn);
    for i in have..50 {
        fill = fill.tags(format!("k{i}"), "v");
    }
    fill.send().await.unwrap();
    drs.tag_resource().resource_arn(&arn).tags("dr:wave", "3").send().await.expect("an existing key may change");
    let err = drs.tag_resource().resource_arn(&arn).tags("one-more", "v").send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert!(format!("{err:?}").contains("at most 50 tags"), "{err:?}");
    // Another account's resource is not visible.
    let other = aws_sdk_drs::Client::new(&target(&sim, A2, EAST).await);
    let err = other.list_tags_for_resource().resource_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "ResourceNotFoundException");
}

#[tokio::test]
async fn jobs_carry_an_end_time_only_once_completed() {
    let sim = demo().await;
    let drs = drs(&sim, A1, EAST).await;
    let ids = server_ids(&drs, 2).await;
    let started = drs.start_recovery().set_source_servers(Some(recovery_of(&ids))).is_drill(true).send().await.unwrap();
    let job_id = started.job().unwrap().job_id().to_owned();
    assert!(started.job().unwrap().end_date_time().is_none(), "a PENDING job has no end");

    sim.control.advance(30.0).await.unwrap();
    let mid = drs.describe_jobs().send().await.unwrap();
    assert_eq!(mid.items()[0].status(), Some(&JobStatus::Started));
    assert!(mid.items()[0].end_date_time().is_none(), "a STARTED job has no end");

    sim.control.advance(3000.0).await.unwrap();
    let done = drs.describe_jobs().send().await.unwrap();
    let job = &done.items()[0];
    assert_eq!(job.status(), Some(&JobStatus::Completed));
    let ended = job.end_date_time().expect("a COMPLETED job has an endDateTime").to_owned();
    assert!(ended.ends_with('Z') && ended.len() == 24, "ISO 8601 with milliseconds: {ended}");
    assert!(ended.as_str() > job.creation_date_time().unwrap(), "it ends after it was created");

    // The end is the JOB_END item's time; a conversion names its conversion server.
    let log = drs.describe_job_log_items().job_id(&job_id).send().await.unwrap();
    let end = log.items().iter().find(|i| i.event() == Some(&aws_sdk_drs::types::JobLogEvent::JobEnd)).unwrap();
    assert_eq!(end.log_date_time(), Some(ended.as_str()));
    let conversions: Vec<_> =
        log.items().iter().filter(|i| i.event().is_some_and(|e| e.as_str().starts_with("CONVERSION_"))).collect();
    assert_eq!(conversions.len(), 4);
    for c in &conversions {
        let d = c.event_data().unwrap();
        let server = d.conversion_server_id().expect("conversionServerID");
        assert!(server.starts_with("i-") && server.len() == 19);
        let pair = conversions.iter().filter(|o| o.event_data().unwrap().source_server_id() == d.source_server_id());
        assert!(pair.clone().all(|o| o.event_data().unwrap().conversion_server_id() == Some(server)));
    }
}
