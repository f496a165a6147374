//! The probes of one account x region: every DRS and EC2 call the module makes, each sent as
//! the least harmful request that still proves the permission or its absence. Reads ask for
//! one page of a few items; writes are sent so that they cannot change anything.

use super::reason::{self, code, finding};
use super::report::{Finding, Outcome, PartitionCheck, Probe};
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_drs::types::StartRecoveryRequestSourceServer;
use aws_sdk_ec2::types::{RequestLaunchTemplateData, Tag};

/// Well-formed ids that name nothing.
const NO_SERVER: &str = "s-00000000000000000";
const NO_INSTANCE: &str = "i-00000000000000000";
const NO_JOB: &str = "drsjob-00000000000000000";
const PROBE_TAG: &str = "drs-orch:accounts-check";

/// Answers that AWS gives only after the caller's permission was granted: the request got
/// as far as input validation, the resource lookup, or EC2's DryRun check.
const PAST_AUTHORIZATION: &[&str] = &["ValidationException", "ResourceNotFoundException", "ConflictException", "DryRunOperation"];

/// Runs every probe in order (later ones use what earlier ones found) and records the
/// outcomes, reasons and warnings on `row`.
pub async fn run(drs: &aws_sdk_drs::Client, ec2: &aws_sdk_ec2::Client, row: &mut PartitionCheck) {
    let mut rec = Recorder { row };

    // drs:DescribeSourceServers: one server, whose id and launch template the probes below use.
    let r = drs.describe_source_servers().max_results(1).send().await;
    let server = match rec.read("drs:DescribeSourceServers", "DescribeSourceServers maxResults=1", r) {
        Some(o) => o.items().first().cloned().ok_or(Missing::Nothing("no source server in this region")),
        None => Err(Missing::Failed("DescribeSourceServers failed")),
    };

    // drs:DescribeJobs, drs:DescribeRecoveryInstances: one item each.
    let r = drs.describe_jobs().max_results(1).send().await;
    rec.read("drs:DescribeJobs", "DescribeJobs maxResults=1", r);
    let r = drs.describe_recovery_instances().max_results(1).send().await;
    rec.read("drs:DescribeRecoveryInstances", "DescribeRecoveryInstances maxResults=1", r);

    // drs:DescribeJobLogItems of a job that does not exist: an empty log or a not-found,
    // either only after authorization.
    let r = drs.describe_job_log_items().job_id(NO_JOB).max_results(1).send().await;
    rec.write("drs:DescribeJobLogItems", "DescribeJobLogItems of a job that does not exist", r);

    // drs:GetLaunchConfiguration of that server: it names the server's EC2 launch template.
    const GLC: &str = "GetLaunchConfiguration of the first source server";
    let template = match server.as_ref().map(|s| s.source_server_id().unwrap_or_default()).map_err(|m| *m) {
        Ok(id) => {
            let r = drs.get_launch_configuration().source_server_id(id).send().await;
            match rec.read("drs:GetLaunchConfiguration", GLC, r) {
                Some(o) => {
                    o.ec2_launch_template_id().map(str::to_owned).ok_or(Missing::Nothing("the server has no launch template"))
                }
                None => Err(Missing::Failed("GetLaunchConfiguration failed")),
            }
        }
        Err(m) => {
            rec.skip("drs:GetLaunchConfiguration", GLC, m);
            Err(m)
        }
    };

    // drs:DescribeRecoverySnapshots of that server (point-in-time recovery reads them).
    const DRS_SNAPSHOTS: &str = "DescribeRecoverySnapshots of the first source server maxResults=1";
    match server.as_ref().map(|s| s.source_server_id().unwrap_or_default()).map_err(|m| *m) {
        Ok(id) => {
            let r = drs.describe_recovery_snapshots().source_server_id(id).max_results(1).send().await;
            rec.read("drs:DescribeRecoverySnapshots", DRS_SNAPSHOTS, r);
        }
        Err(m) => rec.skip("drs:DescribeRecoverySnapshots", DRS_SNAPSHOTS, m),
    }

    // ec2:DescribeInstances: five at most.
    let r = ec2.describe_instances().max_results(5).send().await;
    rec.read("ec2:DescribeInstances", "DescribeInstances MaxResults=5", r);

    // ec2:DescribeSubnets, ec2:DescribeSecurityGroups: five at most (readiness looks up the
    // network each server would launch into).
    let r = ec2.describe_subnets().max_results(5).send().await;
    rec.read("ec2:DescribeSubnets", "DescribeSubnets MaxResults=5", r);
    let r = ec2.describe_security_groups().max_results(5).send().await;
    rec.read("ec2:DescribeSecurityGroups", "DescribeSecurityGroups MaxResults=5", r);

    // ec2:DescribeLaunchTemplateVersions: the default version of that server's template.
    const DLTV: &str = "DescribeLaunchTemplateVersions $Default of the server's template";
    let default_version = match &template {
        Ok(t) => {
            let r = ec2.describe_launch_template_versions().launch_template_id(t).versions("$Default").send().await;
            rec.read("ec2:DescribeLaunchTemplateVersions", DLTV, r)
                .and_then(|o| o.launch_template_versions().first().and_then(|v| v.version_number()))
        }
        Err(m) => {
            rec.skip("ec2:DescribeLaunchTemplateVersions", DLTV, *m);
            None
        }
    };

    // The DRS writes name a source server or recovery instance that does not exist, in a
    // well-formed request: input validation cannot answer before authorization, so a denied
    // caller gets AccessDeniedException, and a permitted one a not-found or validation error
    // about the missing resource. Nothing exists to launch, terminate or tag.
    let r = drs
        .start_recovery()
        .source_servers(StartRecoveryRequestSourceServer::builder().source_server_id(NO_SERVER).build().expect("the id is set"))
        .is_drill(true)
        .send()
        .await;
    rec.write("drs:StartRecovery", "StartRecovery (drill) of a source server that does not exist", r);

    let r = drs.terminate_recovery_instances().recovery_instance_ids(NO_INSTANCE).send().await;
    rec.write("drs:TerminateRecoveryInstances", "TerminateRecoveryInstances of an instance that does not exist", r);

    let r = drs.update_launch_configuration().source_server_id(NO_SERVER).copy_tags(true).send().await;
    rec.write("drs:UpdateLaunchConfiguration", "UpdateLaunchConfiguration of a source server that does not exist", r);

    let r = drs.reverse_replication().recovery_instance_id(NO_INSTANCE).send().await;
    rec.write("drs:ReverseReplication", "ReverseReplication of an instance that does not exist", r);

    // The ARN of the first server with the id swapped for NO_SERVER keeps the ARN partition right.
    let arn = match server.as_ref().ok().and_then(|s| s.arn()).and_then(|a| a.rsplit_once('/')) {
        Some((prefix, _)) => format!("{prefix}/{NO_SERVER}"),
        None => format!("arn:aws:drs:{}:{}:source-server/{NO_SERVER}", rec.row.region, rec.row.account),
    };
    let r = drs.tag_resource().resource_arn(arn).tags(PROBE_TAG, "probe").send().await;
    rec.write("drs:TagResource", "TagResource of a source server that does not exist", r);

    // ec2:CreateTags, DryRun: EC2 checks the permission and answers DryRunOperation (allowed)
    // or UnauthorizedOperation (denied), and changes nothing. On the server's launch template:
    // the target role may tag only what DRS manages (cloudformation/target-account.json).
    const CT: &str = "CreateTags DryRun on the server's launch template";
    match &template {
        Ok(t) => {
            let tag = Tag::builder().key(PROBE_TAG).value("dry-run").build();
            let r = ec2.create_tags().dry_run(true).resources(t).tags(tag).send().await;
            rec.write("ec2:CreateTags", CT, r);
        }
        Err(m) => rec.skip("ec2:CreateTags", CT, *m),
    }

    // ec2:CreateLaunchTemplateVersion, DryRun, as a copy of the default version: nothing is
    // created, and the request would change nothing even without DryRun.
    const CLTV: &str = "CreateLaunchTemplateVersion DryRun copying $Default of the server's template";
    match &template {
        Ok(t) => {
            let r = ec2
                .create_launch_template_version()
                .dry_run(true)
                .launch_template_id(t)
                .source_version("$Default")
                .launch_template_data(RequestLaunchTemplateData::builder().build())
                .send()
                .await;
            rec.write("ec2:CreateLaunchTemplateVersion", CLTV, r);
        }
        Err(m) => rec.skip("ec2:CreateLaunchTemplateVersion", CLTV, *m),
    }

    // ec2:ModifyLaunchTemplate, DryRun, setting the default version it has already.
    const MLT: &str = "ModifyLaunchTemplate DryRun keeping the server's template's default version";
    match &template {
        Ok(t) => {
            let version = default_version.unwrap_or(1).to_string();
            let r = ec2.modify_launch_template().dry_run(true).launch_template_id(t).default_version(version).send().await;
            rec.write("ec2:ModifyLaunchTemplate", MLT, r);
        }
        Err(m) => rec.skip("ec2:ModifyLaunchTemplate", MLT, *m),
    }
}

/// Why a probe had nothing to run against.
#[derive(Debug, Clone, Copy)]
enum Missing {
    /// The partition has none: the permission stays unproven (a warning).
    Nothing(&'static str),
    /// The call that would have found one failed, and is reported already.
    Failed(&'static str),
}

struct Recorder<'a> {
    row: &'a mut PartitionCheck,
}

impl Recorder<'_> {
    /// A read passes only when it succeeds.
    fn read<O, E>(&mut self, action: &'static str, request: &'static str, r: Result<O, SdkError<E, HttpResponse>>) -> Option<O>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match r {
            Ok(o) => {
                self.push(action, request, Outcome::Allowed, "ok".into());
                Some(o)
            }
            Err(e) => {
                self.failed(action, request, finding(action, &e));
                None
            }
        }
    }

    /// A write passes when it succeeds or is refused only after authorization.
    fn write<O, E>(&mut self, action: &'static str, request: &'static str, r: Result<O, SdkError<E, HttpResponse>>)
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match r {
            Ok(_) => self.push(action, request, Outcome::Allowed, "ok".into()),
            Err(e) => match code(&e).filter(|c| PAST_AUTHORIZATION.contains(c)) {
                Some(c) => self.push(action, request, Outcome::Allowed, format!("{c}: the permission was granted")),
                None => self.failed(action, request, finding(action, &e)),
            },
        }
    }

    fn skip(&mut self, action: &'static str, request: &'static str, why: Missing) {
        match why {
            Missing::Nothing(why) => {
                self.push(action, request, Outcome::Skipped, why.into());
                self.row.warn(Finding::named(reason::not_probed(action), format!("{action}: {why}")));
            }
            Missing::Failed(why) => self.push(action, request, Outcome::Skipped, why.into()),
        }
    }

    fn failed(&mut self, action: &'static str, request: &'static str, f: Finding) {
        self.push(action, request, Outcome::Failed, f.message.clone());
        self.row.fail(f);
    }

    fn push(&mut self, action: &'static str, request: &'static str, outcome: Outcome, detail: String) {
        self.row.probes.push(Probe { action, request, outcome, detail });
    }
}
