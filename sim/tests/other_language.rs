//! The real `drs-sim serve` binary answers boto3 (Python) and the AWS CLI as it answers the
//! Rust SDK: sim/conformance/boto3_check.py drives one server, then the Rust SDK repeats the
//! same operations against it and the answers are compared (DynamoDB's under another
//! partition key, in `dynamodb_repeats`; S3's objects under their own keys, in `s3_repeats`).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_drs::error::ProvideErrorMetadata;
use aws_sdk_drs::types::{
    DescribeJobsRequestFilters, DescribeRecoverySnapshotsRequestFilters, DescribeSourceServersRequestFilters, LaunchDisposition,
    RecoverySnapshotsOrder, StartRecoveryRequestSourceServer,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, ConditionCheck, KeySchemaElement, KeyType, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TransactWriteItem,
};
use aws_sdk_ec2::types::Filter;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const ACCOUNT: &str = "200000000001";
const DRS_REGION: &str = "us-east-1";
const ORIGIN_REGION: &str = "us-west-2";
const LEDGER: &str = "drs-orch-runs";
const REPORTS: &str = "drs-orch-reports";

/// `drs-sim serve`, killed when dropped (also when the test panics).
struct Serve {
    child: Child,
    identity: Value,
}

impl Serve {
    fn start() -> Serve {
        // A frozen clock: the drill boto3 starts is still active when the Rust SDK looks.
        let mut child = Command::new(env!("CARGO_BIN_EXE_drs-sim"))
            .args(["serve", "--port", "0", "--speed", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn drs-sim serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut serve = Serve { child, identity: Value::Null };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the identity line");
        serve.identity = serde_json::from_str(&line).expect("the first line of drs-sim serve is the identity JSON");
        serve
    }

    fn get(&self, key: &str) -> &str {
        self.identity[key].as_str().unwrap_or_else(|| panic!("identity has no {key}"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command that sees no AWS settings of the machine it runs on, only the ones given.
fn isolated(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
        "AWS_DATA_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    cmd
}

/// The oldest botocore whose service models know every field the simulator answers with
/// (such as the launch configuration's `recoveryMode`); an older one fails the model check.
/// `.ci/run` upgrades to at least this.
const MIN_BOTOCORE: (u32, u32, u32) = (1, 44, 8);

/// Why this machine cannot run the comparison, which needs python3 with boto3 and a recent
/// enough botocore, and the AWS CLI. None when it can.
fn missing_tools() -> Option<String> {
    let probe = "import boto3, botocore; print(botocore.__version__)";
    let version = match isolated("python3").args(["-c", probe]).output() {
        Err(e) => return Some(format!("python3 cannot run ({e}); install python3 and `pip install boto3 awscli`")),
        Ok(out) if !out.status.success() => {
            let why = String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default().to_owned();
            return Some(format!("python3 cannot import boto3 ({why}); `pip install boto3 awscli`"));
        }
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    };
    let parsed: Vec<u32> = version.split('.').take(3).map_while(|p| p.parse().ok()).collect();
    let (a, b, c) = MIN_BOTOCORE;
    if parsed.len() < 3 || (parsed[0], parsed[1], parsed[2]) < MIN_BOTOCORE {
        return Some(format!(
            "botocore {version} is older than {a}.{b}.{c}, whose service models the simulator follows; \
             `pip install --upgrade boto3 awscli`"
        ));
    }
    match isolated("aws").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("`aws --version` failed ({}); `pip install awscli`", out.status)),
        Err(e) => Some(format!("the AWS CLI cannot run ({e}); `pip install awscli`")),
    }
}

/// Skip (saying why) when the tools are missing or too old, unless DRS_REQUIRE_BOTO3=1 (CI
/// sets it, after installing them), which makes that a failure.
fn tools_or_skip() -> bool {
    let Some(why) = missing_tools() else { return true };
    if std::env::var("DRS_REQUIRE_BOTO3").as_deref() == Ok("1") {
        panic!("DRS_REQUIRE_BOTO3=1 but this test cannot run: {why}");
    }
    // Past libtest's capture, so that a passing run still says what it left out.
    let _ = writeln!(std::io::stderr(), "skipped: boto3 and the AWS CLI against drs-sim: {why}");
    false
}

fn run_boto3(serve: &Serve) -> Value {
    let script = std::env::current_dir().expect("a working directory").join("conformance/boto3_check.py");
    let mut child = isolated("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    // The identity goes in on stdin, so the secret is in no process list.
    child.stdin.take().unwrap().write_all(format!("{}\n", serve.identity).as_bytes()).unwrap();
    let out = child.wait_with_output().expect("boto3_check.py runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "boto3_check.py failed ({}):\n{stderr}", out.status);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("boto3_check.py printed no JSON summary ({e}); stderr:\n{stderr}"))
}

/// The members the simulator's configuration updates and recovery-plan operations check
/// (types, limits, patterns, required members, unions) are botocore's:
/// sim/conformance/update_shapes.py prints the model's, the simulator's tables are described
/// the same way; and so are the depths past which a body is refused unread.
#[test]
fn configuration_updates_and_body_depths_follow_botocores_models() {
    if !tools_or_skip() {
        return;
    }
    let script = std::env::current_dir().expect("a working directory").join("conformance/update_shapes.py");
    let out = isolated("python3").arg(&script).output().expect("run python3");
    assert!(out.status.success(), "update_shapes.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let model: Value = serde_json::from_slice(&out.stdout).expect("update_shapes.py prints JSON");
    use drs_sim::drs::config::Kind;
    use drs_sim::drs::config_shape::describe_input;
    assert_eq!(describe_input(Kind::Launch), model["UpdateLaunchConfiguration"]);
    assert_eq!(describe_input(Kind::Replication), model["UpdateReplicationConfiguration"]);
    let plans = drs_sim::drs::plans::shapes::describe_inputs();
    let ops: BTreeSet<&String> = plans.as_object().unwrap().keys().collect();
    let modelled: BTreeSet<&String> = model["!plans"].as_object().unwrap().keys().collect();
    assert_eq!(ops, modelled, "the simulator checks every recovery-plan operation of the model");
    for op in ops {
        assert_eq!(plans[op], model["!plans"][op], "{op}'s input");
    }
    use drs_sim::protocol::depth;
    assert_eq!(
        serde_json::json!({"drs": depth::DRS, "stepfunctions": depth::STATES, "secretsmanager": depth::SECRETS}),
        model["!depths"],
        "the deepest requests the simulator lets through are the models' deepest"
    );
}

fn config(serve: &Serve, creds: Credentials, region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(serve.get("endpoint"))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

fn code(e: &impl ProvideErrorMetadata) -> Value {
    e.code().unwrap_or("<no code>").into()
}

fn strings<'a>(v: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    v.into_iter().map(str::to_owned).collect()
}

fn set_of(v: &Value) -> BTreeSet<String> {
    v.as_array().expect("a list").iter().map(|x| x.as_str().expect("a string").to_owned()).collect()
}

#[tokio::test]
async fn boto3_and_the_aws_cli_see_what_the_rust_sdk_sees() {
    if !tools_or_skip() {
        return;
    }
    let serve = Serve::start();
    let py = run_boto3(&serve);

    // STS: the hub, and the target role with a wrong and the right ExternalId.
    let hub = Credentials::new(serve.get("accessKeyId"), serve.get("secretAccessKey"), None, None, "hub");
    let sts = aws_sdk_sts::Client::new(&config(&serve, hub, serve.get("region")));
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!((me.account(), me.arn()), (py["callerAccount"].as_str(), py["callerArn"].as_str()));
    let role = format!("arn:aws:iam::{ACCOUNT}:role/drs-orchestrator-target");
    let assume = || sts.assume_role().role_arn(&role).role_session_name("boto3-check");
    let refused = assume().external_id("wrong").send().await.unwrap_err();
    assert_eq!(code(&refused), py["assumeRoleWrongExternalId"]);
    let assumed = assume().external_id(format!("drsorch-demo-{ACCOUNT}")).send().await.unwrap();
    assert_eq!(assumed.assumed_role_user().map(|u| u.arn()), py["assumedRoleArn"].as_str());
    let c = assumed.credentials().unwrap();
    let target = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "target");

    // DRS: the same servers through the paginator, the same filter result and refusals.
    let drs = aws_sdk_drs::Client::new(&config(&serve, target.clone(), DRS_REGION));
    let servers: Vec<_> =
        drs.describe_source_servers().max_results(2).into_paginator().items().send().collect::<Result<_, _>>().await.unwrap();
    let ids: Vec<String> = servers.iter().map(|s| s.source_server_id().unwrap().to_owned()).collect();
    assert_eq!(ids.len() as u64, py["serverCount"].as_u64().unwrap());
    assert_eq!(strings(ids.iter().map(String::as_str)), set_of(&py["serverIds"]));
    let hostnames = servers.iter().filter_map(|s| s.source_properties()?.identification_hints()?.hostname());
    assert_eq!(strings(hostnames), set_of(&py["hostnames"]));
    let sorted: Vec<String> = set_of(&py["serverIds"]).into_iter().collect();
    let filter = DescribeSourceServersRequestFilters::builder().set_source_server_ids(Some(sorted[..2].to_vec())).build();
    let filtered = drs.describe_source_servers().filters(filter).send().await.unwrap();
    assert_eq!(strings(filtered.items().iter().filter_map(|s| s.source_server_id())), set_of(&py["filteredIds"]));
    let err = drs.describe_source_servers().max_results(5000).send().await.unwrap_err();
    assert_eq!(code(&err), py["badMaxResults"]);

    // Launch configuration: the same fields; an update reads back.
    let lc = drs.get_launch_configuration().source_server_id(&sorted[0]).send().await.unwrap();
    let rust_lc = json!({
        "sourceServerID": lc.source_server_id(),
        "name": lc.name(),
        "ec2LaunchTemplateID": lc.ec2_launch_template_id(),
        "launchDisposition": lc.launch_disposition().map(|d| d.as_str()),
        "targetInstanceTypeRightSizingMethod": lc.target_instance_type_right_sizing_method().map(|m| m.as_str()),
        "copyPrivateIp": lc.copy_private_ip(),
        "copyTags": lc.copy_tags(),
        "licensing": {"osByol": lc.licensing().and_then(|l| l.os_byol())},
        "postLaunchEnabled": lc.post_launch_enabled(),
    });
    for (field, value) in rust_lc.as_object().unwrap() {
        assert_eq!(value, &py["launchConfiguration"][field], "launch configuration field {field}");
    }
    let err = drs
        .update_launch_configuration()
        .source_server_id(&sorted[0])
        .launch_disposition(LaunchDisposition::from("NOPE"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), py["badLaunchDisposition"]);
    // sorted[0] and [1] are in boto3's drill; this one is free to change.
    let free = &sorted[2];
    let updated = drs.update_launch_configuration().source_server_id(free).copy_private_ip(true).send().await.unwrap();
    assert_eq!(updated.copy_private_ip(), Some(true));
    drs.update_launch_configuration().source_server_id(free).copy_private_ip(false).send().await.unwrap();

    // Tags on the ARN boto3 tagged (':' and '/' in the path).
    let arn = servers.iter().find(|s| s.source_server_id() == Some(&sorted[0])).and_then(|s| s.arn()).unwrap().to_owned();
    drs.tag_resource().resource_arn(&arn).tags("conformance", "rust").tags("with space/slash", "a:b").send().await.unwrap();
    let tags = drs.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().and_then(|t| t.get("with space/slash")).map(String::as_str), Some("a:b"));
    drs.untag_resource().resource_arn(&arn).tag_keys("conformance").tag_keys("with space/slash").send().await.unwrap();
    let tags = drs.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(serde_json::to_value(tags.tags().unwrap()).unwrap(), py["tagsAfterUntag"]);
    let unknown = arn.replace(&sorted[0], "s-00000000000000000");
    let err = drs.list_tags_for_resource().resource_arn(unknown).send().await.unwrap_err();
    assert_eq!(code(&err), py["tagsUnknownArn"]);

    // Jobs: boto3's drill as the Rust SDK reads it, the same conflict, and a drill of its own.
    let job_id = py["jobId"].as_str().unwrap();
    let jobs = drs.describe_jobs().filters(DescribeJobsRequestFilters::builder().job_ids(job_id).build()).send().await.unwrap();
    let job = &jobs.items()[0];
    assert_eq!(job.status().map(|s| s.as_str()), py["jobStatus"].as_str());
    assert_eq!(strings(job.participating_servers().iter().filter_map(|s| s.source_server_id())), set_of(&py["jobServers"]));
    let log = drs.describe_job_log_items().job_id(job_id).send().await.unwrap();
    assert_eq!(log.items().len() as u64, py["jobLogItems"].as_u64().unwrap());
    assert_eq!(strings(log.items().iter().filter_map(|i| i.event()).map(|e| e.as_str())), set_of(&py["jobLogEvents"]));
    let drilled = drs
        .describe_source_servers()
        .filters(DescribeSourceServersRequestFilters::builder().source_server_ids(&sorted[0]).build())
        .send()
        .await
        .unwrap();
    let initiated = drilled.items()[0].life_cycle().and_then(|l| l.last_launch()).and_then(|l| l.initiated());
    assert_eq!(initiated.and_then(|i| i.r#type()).map(|t| t.as_str()), py["lastLaunchType"].as_str());
    let drill = |ids: &[String]| {
        let list = ids.iter().map(|i| StartRecoveryRequestSourceServer::builder().source_server_id(i).build().unwrap());
        drs.start_recovery().set_source_servers(Some(list.collect())).is_drill(true).send()
    };
    let err = drill(&sorted[..1]).await.unwrap_err();
    assert_eq!(code(&err), py["startRecoveryBusy"]);
    let own = drill(&sorted[2..4]).await.unwrap();
    assert!(own.job().is_some_and(|j| j.job_id().starts_with("drsjob-")));

    // Recovery snapshots: the same ones, newest first, through the paginator; the same ones
    // up to a time; the same refusal of a server that does not exist.
    let pit_server = sorted.last().unwrap();
    let snaps: Vec<_> = drs
        .describe_recovery_snapshots()
        .source_server_id(pit_server)
        .order(RecoverySnapshotsOrder::Desc)
        .max_results(5)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let snap_ids: Vec<Value> = snaps.iter().map(|s| s.snapshot_id().into()).collect();
    assert_eq!(Value::from(snap_ids), py["snapshotIds"]);
    let to = DescribeRecoverySnapshotsRequestFilters::builder().to_date_time(py["snapshotsBefore"].as_str().unwrap()).build();
    let upto = drs.describe_recovery_snapshots().source_server_id(pit_server).filters(to).order(RecoverySnapshotsOrder::Desc);
    let upto = upto.send().await.unwrap();
    let upto_ids: Vec<Value> = upto.items().iter().map(|s| s.snapshot_id().into()).collect();
    assert_eq!(Value::from(upto_ids), py["snapshotsUpTo"]);
    let err = drs.describe_recovery_snapshots().source_server_id("s-00000000000000000").send().await.unwrap_err();
    assert_eq!(code(&err), py["snapshotsUnknownServer"]);

    staging_repeats(&config(&serve, target.clone(), ORIGIN_REGION), &py).await;
    plan_repeats(&drs, &py).await;

    // EC2 in the origin region: the same instances by name, by paginator, and the same refusal.
    let ec2 = aws_sdk_ec2::Client::new(&config(&serve, target.clone(), ORIGIN_REGION));
    let name = py["instanceName"].as_str().unwrap();
    let named = ec2.describe_instances().filters(Filter::builder().name("tag:Name").values(name).build()).send().await.unwrap();
    let named: Vec<_> = named.reservations().iter().flat_map(|r| r.instances()).filter_map(|i| i.instance_id()).collect();
    assert_eq!(named, [py["instanceByName"].as_str().unwrap()]);
    let pages: Vec<_> = ec2.describe_instances().max_results(5).into_paginator().send().collect::<Result<_, _>>().await.unwrap();
    let all = pages.iter().flat_map(|p| p.reservations()).flat_map(|r| r.instances()).filter_map(|i| i.instance_id());
    assert_eq!(strings(all), set_of(&py["instanceIds"]));
    let err = ec2.describe_instances().instance_ids("i-0000000000000dead").send().await.unwrap_err();
    assert_eq!(code(&err), py["badInstanceId"]);

    // The launch template of the launch configuration, in the recovery region.
    let ec2_drs = aws_sdk_ec2::Client::new(&config(&serve, target.clone(), DRS_REGION));
    let versions = ec2_drs
        .describe_launch_template_versions()
        .launch_template_id(lc.ec2_launch_template_id().unwrap())
        .send()
        .await
        .unwrap();
    let numbers: Vec<Value> = versions.launch_template_versions().iter().map(|v| v.version_number().into()).collect();
    assert_eq!(Value::from(numbers), py["launchTemplateVersions"]);
    let itype = versions.launch_template_versions()[0].launch_template_data().and_then(|d| d.instance_type()).map(|t| t.as_str());
    assert_eq!(itype, py["launchTemplateInstanceType"].as_str());

    // The default VPC's subnets and group: the same ids, the same refusals.
    let default_for_az = Filter::builder().name("default-for-az").values("true").build();
    let subnets = ec2_drs.describe_subnets().filters(default_for_az).send().await.unwrap();
    assert_eq!(strings(subnets.subnets().iter().filter_map(|s| s.subnet_id())), set_of(&py["subnetIds"]));
    let err = ec2_drs.describe_subnets().subnet_ids("subnet-00000000000000dead").send().await.unwrap_err();
    assert_eq!(code(&err), py["badSubnetId"]);
    let named = Filter::builder().name("group-name").values("default").build();
    let groups = ec2_drs.describe_security_groups().filters(named).send().await.unwrap();
    assert_eq!(strings(groups.security_groups().iter().filter_map(|g| g.group_id())), set_of(&py["securityGroupIds"]));
    let err = ec2_drs.describe_security_groups().group_ids("sg-00000000000000dead").send().await.unwrap_err();
    assert_eq!(code(&err), py["badGroupId"]);

    // The interface boto3 made holds its address: found by it, and refused again.
    let address = py["interfaceAddress"].as_str().unwrap();
    let by_address = Filter::builder().name("addresses.private-ip-address").values(address).build();
    let held = ec2_drs.describe_network_interfaces().filters(by_address).send().await.unwrap();
    let holding: Vec<Value> = held.network_interfaces().iter().map(|n| n.network_interface_id().into()).collect();
    assert_eq!(Value::from(holding), json!([py["interfaceId"]]));
    let subnet = held.network_interfaces()[0].subnet_id().unwrap();
    let err = ec2_drs.create_network_interface().subnet_id(subnet).private_ip_address(address).send().await.unwrap_err();
    assert_eq!((code(&err), py["interfaceInUse"].clone()), (json!("InvalidIPAddress.InUse"), json!("InvalidIPAddress.InUse")));

    // The configuration sources boto3 seeded and read: the Rust SDK reads the same.
    let hub = Credentials::new(serve.get("accessKeyId"), serve.get("secretAccessKey"), None, None, "hub");
    let hub_config = config(&serve, hub, serve.get("region"));
    let ssm = aws_sdk_ssm::Client::new(&hub_config);
    let param = ssm.get_parameter().name("/drs-orch/conformance").with_decryption(true).send().await.unwrap();
    let param = param.parameter().unwrap();
    assert_eq!(param.value(), py["parameterValue"].as_str());
    assert_eq!(param.r#type().map(|t| t.as_str()), py["parameterType"].as_str());
    let err = ssm.get_parameter().name("/drs-orch/none").send().await.unwrap_err().into_service_error();
    assert!(err.is_parameter_not_found(), "{err:?}");
    assert_eq!(code(&err), py["parameterMissing"]);
    let sm = aws_sdk_secretsmanager::Client::new(&hub_config);
    let secret = sm.get_secret_value().secret_id(py["secretArn"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(secret.secret_string(), py["secretValue"].as_str());
    assert_eq!(secret.version_stages(), ["AWSCURRENT"]);
    let err = sm.get_secret_value().secret_id("drs-orch/none").send().await.unwrap_err().into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(code(&err), py["secretMissing"]);

    dynamodb_repeats(&hub_config, &py).await;
    s3_repeats(&hub_config, &config(&serve, target.clone(), DRS_REGION), &py).await;
    aws_cli(&serve, &me, &target, &ids);
}

/// Staging accounts as boto3 left them: the servers it did not extend are still extensible,
/// its extension is the one listed, and the refusals are the same.
async fn staging_repeats(target: &SdkConfig, py: &Value) {
    const STAGING: &str = "200000000002";
    let drs = aws_sdk_drs::Client::new(target);
    let pages = drs.list_extensible_source_servers().staging_account_id(STAGING).max_results(3).into_paginator().items();
    let left: Vec<_> = pages.send().collect::<Result<_, _>>().await.unwrap();
    let mut expected = set_of(&py["extensibleArns"]);
    let arn = expected.pop_first().unwrap();
    assert_eq!(strings(left.iter().filter_map(|s| s.arn())), expected);
    let accounts: Vec<_> = drs.list_staging_accounts().into_paginator().items().send().collect::<Result<_, _>>().await.unwrap();
    assert_eq!(Value::from(accounts.iter().filter_map(|a| a.account_id()).collect::<Vec<_>>()), py["stagingAccounts"]);
    let filter = DescribeSourceServersRequestFilters::builder().staging_account_ids(STAGING).build();
    let extended = drs.describe_source_servers().filters(filter).send().await.unwrap();
    let ids: Vec<&str> = extended.items().iter().filter_map(|s| s.source_server_id()).collect();
    assert_eq!(Value::from(ids), py["extendedIds"]);
    let err = drs.create_extended_source_server().source_server_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), py["extendedTwice"]);
    let err = drs.list_extensible_source_servers().staging_account_id("200000000003").send().await.unwrap_err();
    assert_eq!(code(&err), py["untrustedStaging"]);
}

/// The recovery plan boto3 built, read by the Rust SDK: the same plan, steps, execution and
/// job; boto3's create repeated with its client token answers the same plan; the same refusals.
async fn plan_repeats(drs: &aws_sdk_drs::Client, py: &Value) {
    use aws_sdk_drs::types::{
        RecoveryPlanExecutionMode, RecoveryPlanExecutionStepConfiguration as Exec, RecoveryPlanStepConfiguration,
    };
    let arn = py["planArn"].as_str().unwrap();
    let plan = drs.get_recovery_plan().recovery_plan_arn(arn).send().await.unwrap();
    let plan = plan.recovery_plan().unwrap();
    let request = &py["planRequest"];
    assert_eq!((plan.name(), plan.description()), (request["name"].as_str().unwrap(), request["description"].as_str()));
    assert_eq!(plan.status().as_str(), "ACTIVE");
    let mut repeat = drs
        .create_recovery_plan()
        .name(request["name"].as_str().unwrap())
        .description(request["description"].as_str().unwrap())
        .client_token(request["clientToken"].as_str().unwrap());
    for (k, v) in request["tags"].as_object().unwrap() {
        repeat = repeat.tags(k, v.as_str().unwrap());
    }
    let repeated = repeat.send().await.unwrap();
    assert_eq!(repeated.recovery_plan().unwrap().recovery_plan_arn(), arn, "boto3's request and token answer boto3's plan");
    let reused = drs.create_recovery_plan().name("another").client_token(request["clientToken"].as_str().unwrap()).send().await;
    assert_eq!(code(&reused.unwrap_err()), "ConflictException");

    let steps: Vec<_> = drs
        .list_recovery_plan_steps()
        .recovery_plan_arn(arn)
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let listed: Vec<Value> = steps.iter().map(|s| json!([s.step_order(), s.step_name()])).collect();
    assert_eq!(Value::from(listed), py["planSteps"]);
    let Some(RecoveryPlanStepConfiguration::ServerStepConfiguration(first)) = steps[0].configuration() else {
        panic!("the first step is a server step: {:?}", steps[0])
    };
    let ids: Vec<Value> = first.servers().iter().map(|s| s.server_arn().rsplit('/').next().unwrap().into()).collect();
    assert_eq!(Value::from(ids), py["planServerIds"]);

    let exec = py["executionArn"].as_str().unwrap();
    let got = drs.get_recovery_plan_execution().recovery_plan_execution_arn(exec).send().await.unwrap();
    let got = got.recovery_plan_execution().unwrap();
    assert_eq!((got.status().as_str(), got.mode()), (py["executionStatus"].as_str().unwrap(), &RecoveryPlanExecutionMode::Drill));
    assert_eq!(got.tags().and_then(|t| t.get("run")).map(String::as_str), Some("boto3"));
    let esteps = drs.list_recovery_plan_execution_steps().recovery_plan_execution_arn(exec).send().await.unwrap();
    let statuses: Vec<Value> = esteps.recovery_plan_execution_steps().iter().map(|s| s.status().as_str().into()).collect();
    assert_eq!(Value::from(statuses), py["executionSteps"]);
    let Some(Exec::ExecutionServerStepConfiguration(launched)) = esteps.recovery_plan_execution_steps()[0].configuration() else {
        panic!("the first execution step is a server step")
    };
    let jobs: BTreeSet<String> = launched.servers().iter().filter_map(|s| s.job_id()).map(str::to_owned).collect();
    assert_eq!(Value::from(jobs.into_iter().collect::<Vec<_>>()), py["executionJobs"]);

    let second = drs.start_recovery_plan_execution().recovery_plan_arn(arn).mode(RecoveryPlanExecutionMode::Drill).send().await;
    assert_eq!(code(&second.unwrap_err()), py["secondExecution"]);
    let unknown = format!("{}/plan-00000000000000000", arn.rsplit_once('/').unwrap().0);
    assert_eq!(code(&drs.get_recovery_plan().recovery_plan_arn(unknown).send().await.unwrap_err()), py["unknownPlan"]);
    let wait = RecoveryPlanStepConfiguration::WaitStepConfiguration(
        aws_sdk_drs::types::WaitStepConfiguration::builder().wait_duration_minutes(1).build().unwrap(),
    );
    let bad = drs.create_recovery_plan_step().recovery_plan_arn(arn).step_name("-bad").configuration(wait).send().await;
    assert_eq!(code(&bad.unwrap_err()), py["badStepName"]);
    assert_eq!(code(&drs.delete_recovery_plan().recovery_plan_arn(arn).send().await.unwrap_err()), py["deleteRunningPlan"]);
}

/// An AttributeValue from its wire JSON (`{"S": "x"}`), as boto3 sent and printed it.
fn av_of(v: &Value) -> Av {
    let (kind, inner) = v.as_object().and_then(|o| o.iter().next()).expect("an AttributeValue has one type");
    let texts = || inner.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect();
    match kind.as_str() {
        "S" => Av::S(inner.as_str().unwrap().to_owned()),
        "N" => Av::N(inner.as_str().unwrap().to_owned()),
        "BOOL" => Av::Bool(inner.as_bool().unwrap()),
        "NULL" => Av::Null(true),
        "SS" => Av::Ss(texts()),
        "NS" => Av::Ns(texts()),
        "L" => Av::L(inner.as_array().unwrap().iter().map(av_of).collect()),
        "M" => Av::M(item_of(inner)),
        other => panic!("no {other} values in the conformance run"),
    }
}

fn item_of(v: &Value) -> HashMap<String, Av> {
    v.as_object().expect("an item").iter().map(|(k, v)| (k.clone(), av_of(v))).collect()
}

/// An AttributeValue as the wire writes it, to compare with what boto3 printed.
fn json_of(v: &Av) -> Value {
    match v {
        Av::S(s) => json!({"S": s}),
        Av::N(n) => json!({"N": n}),
        Av::Bool(b) => json!({"BOOL": b}),
        Av::Null(_) => json!({"NULL": true}),
        Av::Ss(s) => json!({"SS": s}),
        Av::Ns(s) => json!({"NS": s}),
        Av::L(l) => json!({"L": l.iter().map(json_of).collect::<Vec<_>>()}),
        Av::M(m) => json!({"M": json_item(m)}),
        other => panic!("no {other:?} in the conformance run"),
    }
}

fn json_item(item: &HashMap<String, Av>) -> Value {
    item.iter().map(|(k, v)| (k.clone(), json_of(v))).collect::<serde_json::Map<_, _>>().into()
}

/// boto3's items and answers under the Rust side's own partition key.
fn ours(v: &Value) -> Value {
    serde_json::from_str(&v.to_string().replace("resource#boto3", "resource#rust")).unwrap()
}

/// DynamoDB: the Rust SDK repeats boto3's operations on the same items under its own
/// partition key and gets the same answers: items, pages, cancellation reasons, refusals.
async fn dynamodb_repeats(hub: &SdkConfig, py: &Value) {
    let db = aws_sdk_dynamodb::Client::new(hub);
    let table = db.describe_table().table_name(LEDGER).send().await.unwrap().table.unwrap();
    let schema: Vec<Value> = table
        .key_schema()
        .iter()
        .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
        .collect();
    assert_eq!(Value::from(schema), py["ddbKeySchema"]);
    assert_eq!(table.table_arn(), py["ddbTableArn"].as_str());
    let definition =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let element = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let err = db
        .create_table()
        .table_name(LEDGER)
        .attribute_definitions(definition("pk").unwrap())
        .attribute_definitions(definition("sk").unwrap())
        .key_schema(element("pk", KeyType::Hash).unwrap())
        .key_schema(element("sk", KeyType::Range).unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), py["ddbCreateExisting"]);
    let err = db.describe_table().table_name("conformance-scratch").send().await.unwrap_err();
    assert_eq!(code(&err), py["ddbDeletedTable"]);

    let run = item_of(&ours(&py["ddbRun"]));
    let key: HashMap<String, Av> =
        run.iter().filter(|(k, _)| *k == "pk" || *k == "sk").map(|(k, v)| (k.clone(), v.clone())).collect();
    let put = || db.put_item().table_name(LEDGER).set_item(Some(run.clone())).condition_expression("attribute_not_exists(pk)");
    put().send().await.unwrap();
    let lost =
        put().return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld).send().await.unwrap_err();
    assert_eq!(code(&lost), py["ddbLostPut"]["code"]);
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(ccf) = lost.into_service_error()
    else {
        panic!("a typed ConditionalCheckFailedException")
    };
    assert_eq!(json_item(ccf.item().unwrap()), ours(&py["ddbLostPut"]["item"]));

    let update = &py["ddbUpdate"];
    let mut request = db
        .update_item()
        .table_name(LEDGER)
        .set_key(Some(key.clone()))
        .update_expression(update["UpdateExpression"].as_str().unwrap())
        .return_values(ReturnValue::UpdatedNew);
    for (k, v) in update["ExpressionAttributeNames"].as_object().unwrap() {
        request = request.expression_attribute_names(k, v.as_str().unwrap());
    }
    for (k, v) in update["ExpressionAttributeValues"].as_object().unwrap() {
        request = request.expression_attribute_values(k, av_of(v));
    }
    assert_eq!(json_item(&request.send().await.unwrap().attributes.unwrap()), ours(&py["ddbUpdatedNew"]));
    let projected = db
        .get_item()
        .table_name(LEDGER)
        .set_key(Some(key.clone()))
        .projection_expression("waves.w1, tags, #l[1]")
        .expression_attribute_names("#l", "log")
        .send()
        .await
        .unwrap();
    assert_eq!(json_item(&projected.item.unwrap()), ours(&py["ddbProjected"]));

    let pk = run["pk"].clone();
    for i in 2..6 {
        let item = HashMap::from([
            ("pk".into(), pk.clone()),
            ("sk".into(), Av::S(format!("run#{i}"))),
            ("seq".into(), Av::N(i.to_string())),
        ]);
        db.put_item().table_name(LEDGER).set_item(Some(item)).send().await.unwrap();
    }
    let pages: Vec<_> = db
        .query()
        .table_name(LEDGER)
        .key_condition_expression("pk = :pk AND begins_with(sk, :run)")
        .filter_expression("seq >= :three")
        .expression_attribute_values(":pk", pk.clone())
        .expression_attribute_values(":run", Av::S("run#".into()))
        .expression_attribute_values(":three", Av::N("3".into()))
        .limit(2)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let sks: Vec<Value> = pages.iter().map(|p| p.items().iter().map(|i| json_of(&i["sk"])["S"].clone()).collect()).collect();
    assert_eq!(Value::from(sks), py["ddbQueryPages"]);

    let nine = HashMap::from([("pk".to_owned(), pk.clone()), ("sk".to_owned(), Av::S("run#9".into()))]);
    let transaction = |limit: &str| {
        let put = Put::builder().table_name(LEDGER).set_item(Some(nine.clone())).condition_expression("attribute_not_exists(pk)");
        let check = ConditionCheck::builder()
            .table_name(LEDGER)
            .set_key(Some(key.clone()))
            .condition_expression("attempts > :limit")
            .expression_attribute_values(":limit", Av::N(limit.into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        db.transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put.build().unwrap()).build())
            .transact_items(TransactWriteItem::builder().condition_check(check.build().unwrap()).build())
            .send()
    };
    let err = transaction("10").await.unwrap_err();
    assert_eq!(code(&err), py["ddbCanceled"]["code"]);
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(canceled) =
        err.into_service_error()
    else {
        panic!("a typed TransactionCanceledException")
    };
    let reasons: Vec<Value> = canceled.cancellation_reasons().iter().map(|r| r.code().into()).collect();
    assert_eq!(Value::from(reasons), py["ddbCanceled"]["reasons"]);
    transaction("1").await.unwrap();

    let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
        .keys(key.clone())
        .keys(nine.clone())
        .keys(HashMap::from([("pk".to_owned(), pk.clone()), ("sk".to_owned(), Av::S("run#404".into()))]))
        .projection_expression("sk")
        .build()
        .unwrap();
    let batch = db.batch_get_item().request_items(LEDGER, keys).send().await.unwrap();
    let mut got: Vec<Value> = batch.responses().unwrap()[LEDGER].iter().map(|i| json_of(&i["sk"])["S"].clone()).collect();
    got.sort_by_key(|v| v.to_string());
    assert_eq!(Value::from(got), py["ddbBatch"]);
    let deleted =
        db.delete_item().table_name(LEDGER).set_key(Some(nine)).return_values(ReturnValue::AllOld).send().await.unwrap();
    assert_eq!(json_item(&deleted.attributes.unwrap()), ours(&py["ddbDeletedOld"]));

    let err = put().expression_attribute_values(":unused", Av::S("u".into())).send().await.unwrap_err();
    assert_eq!(
        (code(&err), err.message().map(Value::from)),
        (py["ddbUnused"]["Code"].clone(), Some(py["ddbUnused"]["Message"].clone()))
    );
    let err = db.get_item().table_name("no-such-table").set_key(Some(key)).send().await.unwrap_err();
    assert_eq!(code(&err), py["ddbUnknownTable"]);
}

/// S3 as the run reports use it: the object boto3 wrote read back, an object of the Rust SDK's
/// own written, read and listed a page at a time, and the same refusals.
async fn s3_repeats(hub: &SdkConfig, target: &SdkConfig, py: &Value) {
    use aws_sdk_s3::primitives::ByteStream;
    let s3 = aws_sdk_s3::Client::new(hub);
    let got = s3.get_object().bucket(REPORTS).key("conformance/run 1/report.json").send().await.unwrap();
    assert_eq!(got.metadata().and_then(|m| m.get("run")).map(String::as_str), Some("boto3"));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(Value::from(String::from_utf8_lossy(&body).into_owned()), py["s3Body"]);
    let key = "conformance/rust/report.md";
    let put = s3
        .put_object()
        .bucket(REPORTS)
        .key(key)
        .body(ByteStream::from_static(b"# rust"))
        .content_type("text/markdown")
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket(REPORTS).key(key).send().await.unwrap();
    assert_eq!((head.content_length(), head.e_tag(), head.content_type()), (Some(6), put.e_tag(), Some("text/markdown")));
    assert!(head.version_id().is_some() && head.version_id() == put.version_id(), "a versioned bucket names the version");
    let pages: Vec<_> = s3
        .list_objects_v2()
        .bucket(REPORTS)
        .prefix("conformance/")
        .max_keys(2)
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    let keys: Vec<&str> = pages.iter().flat_map(|p| p.contents()).filter_map(|o| o.key()).collect();
    let boto3_keys: Vec<&str> =
        py["s3Pages"].as_array().unwrap().iter().flat_map(|p| p.as_array().unwrap()).filter_map(Value::as_str).collect();
    let mut expected = boto3_keys.clone();
    expected.push(key);
    expected.sort();
    assert_eq!(keys, expected, "the pages hold every key once, in order");
    assert_eq!(pages.len(), 3);
    let folders = s3.list_objects_v2().bucket(REPORTS).prefix("conformance/").delimiter("/").send().await.unwrap();
    let prefixes: Vec<&str> = folders.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["conformance/page/", "conformance/run 1/", "conformance/rust/"]);

    let missing = s3.get_object().bucket(REPORTS).key("conformance/none").send().await.unwrap_err();
    assert_eq!(code(&missing), py["s3MissingKey"]);
    assert!(missing.into_service_error().is_no_such_key(), "a typed NoSuchKey");
    let head = s3.head_object().bucket(REPORTS).key("conformance/none").send().await.unwrap_err();
    assert!(head.into_service_error().is_not_found(), "HeadObject of a missing key is a typed NotFound");
    let bucket = s3.get_object().bucket("drs-orch-no-such-bucket").key("k").send().await.unwrap_err();
    assert_eq!(code(&bucket), py["s3MissingBucket"]);
    let other = aws_sdk_s3::Client::new(target).get_object().bucket(REPORTS).key(key).send().await.unwrap_err();
    assert_eq!(code(&other), py["s3OtherAccount"]);
}

/// Three AWS CLI calls: who the hub is, a refused AssumeRole, and the servers (paginated).
fn aws_cli(
    serve: &Serve,
    me: &aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput,
    target: &Credentials,
    ids: &[String],
) {
    let run = |creds: &Credentials, region: &str, args: &[&str]| {
        let mut cmd = isolated("aws");
        cmd.args(args)
            .args(["--endpoint-url", serve.get("endpoint"), "--region", region, "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key());
        if let Some(token) = creds.session_token() {
            cmd.env("AWS_SESSION_TOKEN", token);
        }
        cmd.output().expect("run aws")
    };
    let hub = Credentials::new(serve.get("accessKeyId"), serve.get("secretAccessKey"), None, None, "hub");
    let ok = |out: std::process::Output| -> Value {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "aws failed ({}):\n{stderr}", out.status);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("aws printed no JSON ({e}); stderr:\n{stderr}"))
    };

    let who = ok(run(&hub, DRS_REGION, &["sts", "get-caller-identity"]));
    assert_eq!((who["Account"].as_str(), who["Arn"].as_str()), (me.account(), me.arn()));
    let role = format!("arn:aws:iam::{ACCOUNT}:role/drs-orchestrator-target");
    let refused = run(
        &hub,
        DRS_REGION,
        &["sts", "assume-role", "--role-arn", &role, "--role-session-name", "cli", "--external-id", "wrong"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("(AccessDenied)"),
        "aws sts assume-role with a wrong ExternalId: {stderr}"
    );
    // --page-size 3: the CLI follows nextToken itself.
    let listed = ok(run(target, DRS_REGION, &["drs", "describe-source-servers", "--page-size", "3"]));
    let cli_ids = listed["items"].as_array().unwrap().iter().filter_map(|s| s["sourceServerID"].as_str());
    assert_eq!(strings(cli_ids), strings(ids.iter().map(String::as_str)));
    // The recovery plan boto3 made, the CLI following nextToken (one plan a page). AWS CLI v1
    // carries its own botocore (1.43 in awscli 1.46), older than the recovery plans: it is
    // given the service models of the botocore the check runs with (`AWS_DATA_PATH`, which
    // botocore's loader searches before its own data).
    let data = isolated("python3")
        .args(["-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"])
        .output()
        .expect("python3 runs");
    let data = String::from_utf8_lossy(&data.stdout).trim().to_owned();
    let mut cmd = isolated("aws");
    cmd.args(["drs", "list-recovery-plans", "--page-size", "1"])
        .args(["--endpoint-url", serve.get("endpoint"), "--region", DRS_REGION, "--output", "json"])
        .env("AWS_DATA_PATH", &data)
        .env("AWS_ACCESS_KEY_ID", target.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", target.secret_access_key())
        .env("AWS_SESSION_TOKEN", target.session_token().unwrap_or_default());
    let plans = ok(cmd.output().expect("run aws"));
    let names: Vec<&str> = plans["recoveryPlans"].as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(names, ["conformance plan"]);
    // The hub's run ledger table, and its items boto3 and the Rust SDK left under their keys.
    let table = ok(run(&hub, DRS_REGION, &["dynamodb", "describe-table", "--table-name", "drs-orch-runs"]));
    assert_eq!(table["Table"]["TableArn"], "arn:aws:dynamodb:us-east-1:100000000000:table/drs-orch-runs");
    let values = r#"{":pk": {"S": "resource#rust"}}"#;
    let args = ["dynamodb", "query", "--table-name", "drs-orch-runs", "--key-condition-expression", "pk = :pk"];
    let queried =
        ok(run(&hub, DRS_REGION, &[&args[..], &["--expression-attribute-values", values, "--page-size", "2"]].concat()));
    let sks: Vec<&str> = queried["Items"].as_array().unwrap().iter().filter_map(|i| i["sk"]["S"].as_str()).collect();
    assert_eq!(sks, ["run#1", "run#2", "run#3", "run#4", "run#5"], "the CLI follows LastEvaluatedKey itself");
    // The reports bucket: the CLI lists what boto3 and the Rust SDK wrote, following its pages.
    let args = ["s3api", "list-objects-v2", "--bucket", "drs-orch-reports", "--prefix", "conformance/", "--page-size", "2"];
    let listed = ok(run(&hub, DRS_REGION, &args));
    let keys: Vec<&str> = listed["Contents"].as_array().unwrap().iter().filter_map(|o| o["Key"].as_str()).collect();
    assert_eq!(keys.len(), 5, "{keys:?}");
}
