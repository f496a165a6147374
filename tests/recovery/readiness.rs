//! Readiness through the Lambda's `readiness` entry, against the simulator: a resource never
//! drilled needs verification; freshly drilled and clean it is READY; a stalled server, lag
//! over the RPO target, launch-settings drift, a template's subnet that does not exist, a
//! changed resource and a stale drill (the clock moved) are each flagged with their check;
//! a missing permission makes its partition's servers NOT READY and leaves the others READY;
//! selection tags on EC2 only are flagged until the `tags-sync` entry copies them.

use crate::common::{emf_fields, resource, rig, Rig};
use aws_sdk_ec2::types::{LaunchTemplateInstanceNetworkInterfaceSpecificationRequest as Nic, RequestLaunchTemplateData};
use drs_module::config::Partition;
use drs_module::lifecycle::handle_detailed;
use serde_json::{json, Value};

fn billing(extra: Value) -> Value {
    let mut p = json!({"Tags": {"Application": "billing"}, "TargetRpoMinutes": 15});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// The Lambda's readiness answer for one resource, and its EMF documents.
async fn readiness(r: &Rig, parameters: Value) -> (Value, Vec<Value>) {
    let manifest = json!([{"layer": 1, "resources": [resource("Billing", parameters)]}]);
    let h = handle_detailed(&r.clients, &json!({"Entry": "readiness", "Manifest": manifest})).await.unwrap();
    (h.answer["resources"][0].clone(), h.metrics)
}

/// The checks of the reasons given, on the resource and on the server `host` ("" for the
/// resource's own).
fn checks(res: &Value, host: &str) -> Vec<String> {
    let reasons = match host {
        "" => res["reasons"].clone(),
        h => server(res, h)["reasons"].clone(),
    };
    reasons.as_array().unwrap().iter().map(|r| r["check"].as_str().unwrap().to_owned()).collect()
}

fn server<'a>(res: &'a Value, host: &str) -> &'a Value {
    res["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server"]["hostname"] == host)
        .unwrap_or_else(|| panic!("{host} in {res}"))
}

fn verdicts(res: &Value) -> Vec<(String, String)> {
    let servers = res["servers"].as_array().unwrap();
    servers.iter().map(|s| (s["server"]["hostname"].as_str().unwrap().into(), s["verdict"].as_str().unwrap().into())).collect()
}

async fn set_server(r: &Rig, host: &str, change: Value) {
    r.control.ok("POST", &format!("servers/{host}"), Some(&change)).await.unwrap();
}

#[tokio::test]
async fn readiness_is_ready_after_a_fresh_drill_and_names_what_is_not() {
    let r = rig().await;
    let (res, _) = readiness(&r, billing(json!({}))).await;
    assert_eq!(res["verdict"], "NEEDS_VERIFICATION", "{res}");
    assert_eq!(checks(&res, ""), ["drill"], "never drilled: {res}");
    assert!(res["servers"].as_array().unwrap().iter().all(|s| s["verdict"] == "READY"), "{res}");

    // A drill of the resource, cleaned up: READY, with the drill named.
    let drill = resource("Billing", billing(json!({"Mode": "drill"})));
    r.run(&drill, "activate", Some(&r.token().await)).await.expect("the drill succeeds");
    r.run(&drill, "cleanup", Some(&r.token().await)).await.expect("the cleanup succeeds");
    let (res, metrics) = readiness(&r, billing(json!({}))).await;
    assert_eq!(res["verdict"], "READY", "{res}");
    assert_eq!(res["servers"].as_array().unwrap().len(), 12);
    assert!(res["lastDrill"]["execution"].is_string() && res["lastDrill"]["changedSince"] == false, "{res}");
    let doc = emf_fields(&metrics[0]);
    assert_eq!((doc["Resource"].as_str(), doc["ResourceNotReady"].as_f64()), (Some("Billing"), Some(0.0)));
    assert_eq!(doc["ServersReady"].as_f64(), Some(12.0));

    // A stalled server and another lagging past the RPO target: NOT READY, each named.
    set_server(&r, "db-01", json!({"replicationState": "STALLED"})).await;
    set_server(&r, "db-07", json!({"lagSeconds": 1200})).await;
    let (res, metrics) = readiness(&r, billing(json!({}))).await;
    assert_eq!(res["verdict"], "NOT_READY", "{res}");
    assert_eq!(checks(&res, "db-01"), ["replication"], "{res}");
    assert_eq!(checks(&res, "db-07"), ["lag"], "{res}");
    let not_ready: Vec<String> = verdicts(&res).into_iter().filter(|(_, v)| v == "NOT_READY").map(|(h, _)| h).collect();
    assert_eq!(not_ready, ["db-01", "db-07"]);
    assert_eq!(emf_fields(&metrics[0])["ResourceNotReady"].as_f64(), Some(1.0));
    set_server(&r, "db-01", json!({"replicationState": "CONTINUOUS"})).await;
    set_server(&r, "db-07", json!({"lagSeconds": 0})).await;

    // Changed since the drill (another RPO target): unverified, nothing else.
    let (res, _) = readiness(&r, billing(json!({"TargetRpoMinutes": 20}))).await;
    assert_eq!((res["verdict"].as_str(), checks(&res, "")), (Some("NEEDS_VERIFICATION"), vec!["changed".to_owned()]), "{res}");

    // LaunchSettings the servers do not have: drift on every server (and a change).
    let (res, _) = readiness(&r, billing(json!({"LaunchSettings": {"CopyPrivateIp": true}}))).await;
    assert_eq!(res["verdict"], "NOT_READY", "{res}");
    assert!(res["servers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| checks(&res, s["server"]["hostname"].as_str().unwrap()) == ["launchDrift"]));

    // A launch template whose subnet does not exist (its security group does).
    let db03 = Partition { account: "200000000002".into(), region: "us-west-2".into() };
    let drs = r.clients.drs(&db03).await.unwrap();
    let id = server(&res, "db-03")["server"]["sourceServerId"].as_str().unwrap().to_owned();
    let template =
        drs.get_launch_configuration().source_server_id(&id).send().await.unwrap().ec2_launch_template_id().unwrap().to_owned();
    let ec2 = r.clients.ec2(&db03).await.unwrap();
    let group = ec2.describe_security_groups().send().await.unwrap().security_groups()[0].group_id().unwrap().to_owned();
    let nic = Nic::builder().device_index(0).subnet_id("subnet-00000000000000dead").groups(&group).build();
    let data = RequestLaunchTemplateData::builder().network_interfaces(nic).build();
    let v = ec2
        .create_launch_template_version()
        .launch_template_id(&template)
        .source_version("$Default")
        .launch_template_data(data)
        .send()
        .await
        .unwrap();
    let number = v.launch_template_version().unwrap().version_number().unwrap();
    ec2.modify_launch_template().launch_template_id(&template).default_version(number.to_string()).send().await.unwrap();
    let (res, _) = readiness(&r, billing(json!({}))).await;
    assert_eq!(checks(&res, "db-03"), ["network"], "{res}");
    let why = server(&res, "db-03")["reasons"][0]["message"].as_str().unwrap();
    assert!(
        why.contains("subnet subnet-00000000000000dead (its launch template) does not exist") && !why.contains(&group),
        "{why}"
    );
    assert_eq!(verdicts(&res).iter().filter(|(_, v)| v == "NOT_READY").count(), 1, "{res}");

    // A month later, the drill is stale.
    r.control.advance(31.0 * 86_400.0).await.unwrap();
    let (res, _) = readiness(&r, billing(json!({}))).await;
    let drill_reason = res["reasons"].as_array().unwrap().iter().find(|x| x["check"] == "drill").expect("the drill is stale");
    assert!(drill_reason["message"].as_str().unwrap().contains("ended 31 days ago, over readiness.staleDrillDays (30)"), "{res}");
    assert!(res["lastDrill"]["ageDays"].as_f64().unwrap() > 30.0);
}

#[tokio::test]
async fn a_missing_permission_fails_its_partition_only_and_ec2_only_tags_are_flagged_until_tags_sync() {
    let r = rig().await;
    // The target role of one account loses a permission a recovery needs late.
    for role in r.sim.world.roles.write().iter_mut().filter(|x| x.account_id == "200000000002" && x.role_name.contains("target"))
    {
        role.denied_actions = vec!["drs:StartRecovery".into()];
    }
    // Owner is on the source instances' EC2 tags only.
    let params = json!({"Tags": {"Application": "billing", "Owner": "team-billing"}});
    let (res, _) = readiness(&r, params.clone()).await;
    assert_eq!(res["verdict"], "NOT_READY", "{res}");
    for (host, verdict) in verdicts(&res) {
        let s = server(&res, &host);
        let in_denied = s["server"]["account"] == "200000000002";
        let mut want = if in_denied { vec!["permissions".to_owned()] } else { vec![] };
        want.insert(0, "tags".into());
        assert_eq!(checks(&res, &host), want, "{host}: {res}");
        assert_eq!(verdict, "NOT_READY");
        if in_denied {
            assert!(s["reasons"][1]["message"].as_str().unwrap().contains("drs:StartRecovery"), "{s}");
        }
    }

    // tags-sync through the Lambda: first one instance (a tag-change event), then all.
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let db05 = found.servers.iter().find(|s| s.hostname == "db-05").unwrap();
    let arn = format!("arn:aws:ec2:us-west-2:200000000003:instance/{}", db05.instance_id.clone().unwrap());
    let event = json!({"Entry": "tags-sync", "Trigger": "tag-change", "Keys": ["Owner"], "Instances": [arn]});
    let one = handle_detailed(&r.clients, &event).await.unwrap();
    assert_eq!((one.answer["serversTagged"].as_u64(), one.answer["tagsSet"].as_u64()), (Some(1), Some(1)), "{}", one.answer);
    assert_eq!(emf_fields(&one.metrics[0])["TagSyncServersTagged"].as_f64(), Some(1.0));
    let (res, _) = readiness(&r, params.clone()).await;
    assert!(!checks(&res, "db-05").contains(&"tags".to_owned()), "{res}");
    assert!(checks(&res, "db-11").contains(&"tags".to_owned()), "{res}");
    let all = handle_detailed(&r.clients, &json!({"Entry": "tags-sync", "Keys": ["Owner"]})).await.unwrap();
    // Every server of the fleet has an Owner on EC2: all but db-05, tagged already.
    assert_eq!((all.answer["serversTagged"].as_u64(), all.answer["inSync"].as_u64()), (Some(59), Some(1)), "{}", all.answer);
    let (res, _) = readiness(&r, params).await;
    for (host, verdict) in verdicts(&res) {
        let denied = server(&res, &host)["server"]["account"] == "200000000002";
        assert_eq!(verdict, if denied { "NOT_READY" } else { "READY" }, "{host}: {res}");
    }

    // A bad entry event is refused naming the field.
    let e = handle_detailed(&r.clients, &json!({"Entry": "tags-sync", "Overwrite": "yes"})).await.unwrap_err();
    assert_eq!(e.code.as_str(), "InvalidEvent");
    assert!(e.message.contains("/Overwrite"), "{}", e.message);
}

/// One account x region down: its servers cannot be judged, which the resource's reasons name
/// (NOT READY); the servers of every other partition are judged as usual.
#[tokio::test]
async fn a_partition_down_is_named_and_hides_no_other_partitions_readiness() {
    let r = crate::common::quick_rig().await;
    r.outage("200000000002", "us-west-2", true).await;
    let (res, _) = readiness(&r, billing(json!({}))).await;
    assert_eq!(res["verdict"], "NOT_READY", "{res}");
    let down: Vec<&Value> = res["reasons"].as_array().unwrap().iter().filter(|x| x["at"] == "200000000002/us-west-2").collect();
    assert!(down.iter().any(|x| x["check"] == "discovery" && x["verdict"] == "NOT_READY"), "{res}");
    let judged = verdicts(&res);
    assert_eq!(judged.len(), 10, "db-03 and db-09 are in the dark partition: {res}");
    assert!(judged.iter().all(|(_, v)| v == "READY"), "{res}");
}
