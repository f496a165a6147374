#!/usr/bin/env python3
"""Drives `drs-sim serve` with boto3 (Python's official AWS SDK) and checks its answers.

Usage: boto3_check.py '<identity JSON>'   (or the JSON on stdin), the identity being the
first line `drs-sim serve` prints. Prints one JSON summary on stdout; exits 1 on a mismatch
and 2 when boto3 is missing.
"""
import ipaddress
import json
import sys
import urllib.request
import xml.etree.ElementTree as ET

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    print(f"boto3 is not importable ({e}): pip install boto3", file=sys.stderr)
    sys.exit(2)

ACCOUNT = "200000000001"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/drs-orchestrator-target"
EXTERNAL_ID = f"drsorch-demo-{ACCOUNT}"
DRS_REGION, ORIGIN_REGION = "us-east-1", "us-west-2"
STAGING, UNTRUSTING = "200000000002", "200000000003"
LEDGER = "drs-orch-runs"
REPORTS = "drs-orch-reports"
# The namespace of errors no operation models (DynamoDB's ValidationException).
COMMON_ERRORS_NAMESPACE = "com.amazon.coral.validate#"


class Mismatch(Exception):
    pass


def conform(shape, value, path, problems):
    """Checks a raw JSON answer against the service model: names, types and enum values."""
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return problems.append(f"{path}: expected an object")
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for k, v in value.items():
            if k not in names:
                problems.append(f"{path}.{k}: not in the service model")
            elif v is not None:
                conform(names[k], v, f"{path}.{k}", problems)
    elif t == "list":
        if not isinstance(value, list):
            return problems.append(f"{path}: expected a list")
        for i, v in enumerate(value):
            conform(shape.member, v, f"{path}[{i}]", problems)
    elif t == "map":
        if not isinstance(value, dict):
            return problems.append(f"{path}: expected a map")
        for k, v in value.items():
            conform(shape.value, v, f"{path}[{k}]", problems)
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer, got {value!r}")
    elif t == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: expected a boolean, got {value!r}")
    elif t in ("double", "float") and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        problems.append(f"{path}: expected a number, got {value!r}")
    elif t == "timestamp" and not isinstance(value, (str, int, float)):
        problems.append(f"{path}: expected a timestamp, got {value!r}")


def conform_xml(shape, el, path, problems):
    """The same for an XML answer (awsQuery, ec2Query): element names, list members, scalars."""
    t, text = shape.type_name, el.text or ""
    if t == "structure":
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for child in el:
            tag = child.tag.split("}")[-1]
            if tag in names:
                conform_xml(names[tag], child, f"{path}.{tag}", problems)
            elif tag != "requestId":  # EC2 puts it in every answer; botocore reads it as metadata
                problems.append(f"{path}.{tag}: not in the service model")
    elif t == "list":
        member = shape.member.serialization.get("name", "member")
        for child in el:
            if child.tag.split("}")[-1] != member:
                problems.append(f"{path}: list member <{child.tag.split('}')[-1]}>, the model says <{member}>")
            conform_xml(shape.member, child, f"{path}[]", problems)
    elif t == "string" and shape.enum and text not in shape.enum:
        problems.append(f"{path}: {text!r} is not one of {shape.enum}")
    elif t in ("integer", "long") and not text.lstrip("-").isdigit():
        problems.append(f"{path}: expected an integer, got {text!r}")
    elif t == "boolean" and text not in ("true", "false"):
        problems.append(f"{path}: expected a boolean, got {text!r}")


def conform_restxml(shape, el, path, problems):
    """A restXml (S3) answer: structure members by their XML names, lists flattened (the
    member repeated in place) or wrapped, scalars by type."""
    t, text = shape.type_name, el.text or ""
    if t == "structure":
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        for child in el:
            tag = child.tag.split("}")[-1]
            member = names.get(tag)
            if member is None:
                problems.append(f"{path}.{tag}: not in the service model")
            elif member.type_name == "list" and member.serialization.get("flattened"):
                conform_restxml(member.member, child, f"{path}.{tag}[]", problems)
            else:
                conform_restxml(member, child, f"{path}.{tag}", problems)
    elif t == "list":
        conform_xml(shape, el, path, problems)
    elif t == "string" and shape.enum and text not in shape.enum:
        problems.append(f"{path}: {text!r} is not one of {shape.enum}")
    elif t in ("integer", "long") and not text.lstrip("-").isdigit():
        problems.append(f"{path}: expected an integer, got {text!r}")
    elif t == "boolean" and text not in ("true", "false"):
        problems.append(f"{path}: expected a boolean, got {text!r}")


def conform_headers(shape, headers, name, problems):
    """The header members of a restXml answer: each x-amz-* header the model names, typed."""
    located = {m.serialization.get("name", n).lower(): m for n, m in shape.members.items() if m.serialization.get("location") == "header"}
    prefixed = [m.serialization.get("name", n).lower() for n, m in shape.members.items() if m.serialization.get("location") == "headers"]
    for h, value in headers.items():
        h = h.lower()
        if h in ("x-amz-request-id", "x-amz-id-2") or any(h.startswith(p) for p in prefixed):
            continue
        m = located.get(h)
        if m is None:
            if h.startswith("x-amz-"):
                problems.append(f"{name}: header {h} is not in the service model")
        elif m.type_name in ("integer", "long") and not value.isdigit():
            problems.append(f"{name}: header {h} is not an integer: {value!r}")
        elif m.type_name == "string" and m.enum and value not in m.enum:
            problems.append(f"{name}: header {h} {value!r} is not one of {m.enum}")


def model_checker(problems):
    """A before-parse hook: the raw body of every answer must fit the service model."""

    def hook(operation_model, response_dict, **_):
        body, status = response_dict["body"], response_dict["status_code"]
        shape, name = operation_model.output_shape, operation_model.name
        if operation_model.metadata["protocol"] == "rest-xml":
            if status < 300 and shape is not None:
                conform_headers(shape, response_dict["headers"], name, problems)
                if body and not shape.serialization.get("payload"):
                    conform_restxml(shape, ET.fromstring(body), name, problems)
            elif status >= 300 and body:
                code = ET.fromstring(body).find("Code")
                if code is None:
                    problems.append(f"{name}: an error without <Code>")
            return
        if not body:
            return
        if operation_model.metadata["protocol"] in ("query", "ec2"):
            if status >= 300 or shape is None:
                return  # error codes are compared by the callers
            root = ET.fromstring(body)
            wrapper = shape.serialization.get("resultWrapper")
            if wrapper:  # awsQuery: <XResponse><XResult>...</XResult><ResponseMetadata/></XResponse>
                root = next((c for c in root if c.tag.split("}")[-1] == wrapper), None)
                if root is None:
                    return problems.append(f"{name}: no <{wrapper}> in the answer")
            return conform_xml(shape, root, name, problems)
        value = json.loads(body)
        if status >= 300:
            # An error body must fit the error shape its code names (minus the type marker).
            # DynamoDB qualifies the code with its namespace (`com.amazonaws.dynamodb.v20120810#X`).
            qualified = response_dict["headers"].get("x-amzn-errortype", value.get("__type", "")).split(":")[0]
            code = qualified.split("#")[-1]
            value = {k: v for k, v in value.items() if k != "__type"}
            if qualified.startswith(COMMON_ERRORS_NAMESPACE):
                # A request the front end refuses (DynamoDB's ValidationException): in no
                # operation's model, always just a message.
                if set(value) != {"message"}:
                    problems.append(f"{name}: {qualified} carries {sorted(value)}, not just a message")
                return
            shape = next((e for e in operation_model.error_shapes if e.name == code), None)
            if shape is None:
                return problems.append(f"{name}: error {code!r} is not one it can answer")
        if shape is not None:
            conform(shape, value, name, problems)

    return hook


def check(cond, what):
    if not cond:
        raise Mismatch(what)


def error_code(call, *args, **kwargs):
    """Runs a call that must fail; returns the error code boto3 parsed."""
    return error_of(call, *args, **kwargs)["Error"]["Code"]


def error_of(call, *args, **kwargs):
    """Runs a call that must fail; returns the error response boto3 parsed."""
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response
    raise Mismatch(f"{call.__name__} succeeded but should have failed")


def main():
    raw = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.readline()
    ident = json.loads(raw)
    endpoint = ident["endpoint"]
    # No retries: the simulator's answers are checked as they come.
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})

    problems = []

    def client(service, region, creds):
        c = boto3.client(service, region_name=region, endpoint_url=endpoint, config=cfg, **creds)
        c.meta.events.register(f"before-parse.{c.meta.service_model.service_id.hyphenize()}.*", model_checker(problems))
        return c

    hub = {"aws_access_key_id": ident["accessKeyId"], "aws_secret_access_key": ident["secretAccessKey"]}
    out = {}

    # STS: who the hub is, assume into a target with the right and a wrong ExternalId.
    sts = client("sts", ident["region"], hub)
    me = sts.get_caller_identity()
    check(me["Account"] == ident["accountId"], f"GetCallerIdentity account {me['Account']}")
    out["callerAccount"] = me["Account"]
    out["callerArn"] = me["Arn"]
    assumed = sts.assume_role(RoleArn=ROLE, RoleSessionName="boto3-check", ExternalId=EXTERNAL_ID)
    c = assumed["Credentials"]
    check(c["AccessKeyId"].startswith("ASIA"), "assumed key should start with ASIA")
    out["assumedRoleArn"] = assumed["AssumedRoleUser"]["Arn"]
    out["assumeRoleWrongExternalId"] = error_code(
        sts.assume_role, RoleArn=ROLE, RoleSessionName="boto3-check", ExternalId="wrong"
    )
    check(out["assumeRoleWrongExternalId"] == "AccessDenied", f"wrong ExternalId: {out['assumeRoleWrongExternalId']}")
    target = {
        "aws_access_key_id": c["AccessKeyId"],
        "aws_secret_access_key": c["SecretAccessKey"],
        "aws_session_token": c["SessionToken"],
    }
    target_sts = client("sts", DRS_REGION, target)
    out["targetCallerAccount"] = target_sts.get_caller_identity()["Account"]
    check(out["targetCallerAccount"] == ACCOUNT, "assumed identity is in the target account")

    # DRS: the servers of the account in the recovery region, read through the paginator.
    drs = client("drs", DRS_REGION, target)
    pages = drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 2})
    servers = [s for p in pages for s in p["items"]]
    ids = sorted(s["sourceServerID"] for s in servers)
    # The Rust side of the comparison uses four of them: two drilled here, two it drills itself.
    check(len(ids) >= 4 and len(set(ids)) == len(ids), f"paginated ids not unique or too few: {ids}")
    out["serverCount"] = len(ids)
    out["serverIds"] = ids
    first = next(s for s in servers if s["sourceServerID"] == ids[0])
    check(first["sourceCloudProperties"]["originRegion"] == ORIGIN_REGION, "servers replicate from the paired region")
    check(first["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS", "demo servers replicate")
    out["hostnames"] = sorted(s["sourceProperties"]["identificationHints"]["hostname"] for s in servers)

    filtered = drs.describe_source_servers(filters={"sourceServerIDs": ids[:2]})["items"]
    out["filteredIds"] = sorted(s["sourceServerID"] for s in filtered)
    check(out["filteredIds"] == ids[:2], f"filter by id: {out['filteredIds']}")
    out["badMaxResults"] = error_code(drs.describe_source_servers, maxResults=5000)

    sid = ids[0]
    lc = drs.get_launch_configuration(sourceServerID=sid)
    lc.pop("ResponseMetadata")
    out["launchConfiguration"] = lc
    check(lc["sourceServerID"] == sid and lc["ec2LaunchTemplateID"].startswith("lt-"), f"launch configuration {lc}")
    updated = drs.update_launch_configuration(sourceServerID=sid, copyPrivateIp=True)
    check(updated["copyPrivateIp"] is True, "UpdateLaunchConfiguration sets copyPrivateIp")
    again = drs.get_launch_configuration(sourceServerID=sid)
    check(again["copyPrivateIp"] is True, "GetLaunchConfiguration reads the update back")
    drs.update_launch_configuration(sourceServerID=sid, copyPrivateIp=False)
    out["badLaunchDisposition"] = error_code(drs.update_launch_configuration, sourceServerID=sid, launchDisposition="NOPE")

    # Tags on an ARN: ':' and '/' in a path label test the encoding and SigV4 double-encoding.
    arn = first["arn"]
    check(":" in arn and "/" in arn, f"source server ARN {arn}")
    drs.tag_resource(resourceArn=arn, tags={"conformance": "boto3", "with space/slash": "a:b"})
    tags = drs.list_tags_for_resource(resourceArn=arn)["tags"]
    check(tags.get("conformance") == "boto3" and tags.get("with space/slash") == "a:b", f"tags after TagResource {tags}")
    drs.untag_resource(resourceArn=arn, tagKeys=["conformance", "with space/slash"])
    tags = drs.list_tags_for_resource(resourceArn=arn)["tags"]
    check("conformance" not in tags and "with space/slash" not in tags, f"tags after UntagResource {tags}")
    out["tagsAfterUntag"] = tags
    out["tagsUnknownArn"] = error_code(drs.list_tags_for_resource, resourceArn=arn.replace(sid, "s-00000000000000000"))

    # A drill of two servers: 202 with the job, then the job and its log; a busy server conflicts.
    started = drs.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[:2]], isDrill=True)
    check(started["ResponseMetadata"]["HTTPStatusCode"] == 202, "StartRecovery answers 202")
    job = started["job"]
    check(job["jobID"].startswith("drsjob-") and job["type"] == "LAUNCH", f"job {job['jobID']}")
    check(job["initiatedBy"] == "START_DRILL", f"initiatedBy {job['initiatedBy']}")
    out["jobId"] = job["jobID"]
    out["jobServers"] = sorted(s["sourceServerID"] for s in job["participatingServers"])
    # Half a minute of simulated time (the simulator's unsigned control endpoint) starts the job.
    advance = urllib.request.Request(f"{endpoint}/_sim/clock", json.dumps({"advanceSeconds": 30}).encode(), method="POST")
    urllib.request.urlopen(advance).read()
    described = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    check(len(described) == 1 and described[0]["jobID"] == job["jobID"], "DescribeJobs finds the job")
    out["jobStatus"] = described[0]["status"]
    check(out["jobStatus"] == "STARTED", f"job status after 30 s: {out['jobStatus']}")
    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    out["jobLogItems"] = len(log)
    out["jobLogEvents"] = sorted({i["event"] for i in log})
    check("JOB_START" in out["jobLogEvents"], f"job log {out['jobLogEvents']}")
    drilled = drs.describe_source_servers(filters={"sourceServerIDs": [ids[0]]})["items"][0]
    out["lastLaunchType"] = drilled["lifeCycle"]["lastLaunch"]["initiated"]["type"]
    check(out["lastLaunchType"] == "DRILL", f"last launch of {ids[0]}: {out['lastLaunchType']}")
    out["startRecoveryBusy"] = error_code(drs.start_recovery, sourceServers=[{"sourceServerID": ids[0]}], isDrill=True)
    check(out["startRecoveryBusy"] == "ConflictException", f"busy server: {out['startRecoveryBusy']}")

    # Recovery snapshots of the last server (none of the drills'): newest first through the
    # paginator, those taken by a time, and a drill from the newest of those.
    pit_server = ids[-1]
    check(len(ids) >= 5, "a fifth server for the recovery snapshots")
    pages = drs.get_paginator("describe_recovery_snapshots").paginate(
        sourceServerID=pit_server, order="DESC", PaginationConfig={"PageSize": 5}
    )
    snaps = [s for p in pages for s in p["items"]]
    check(len(snaps) > 5, f"more than a page of snapshots: {len(snaps)}")
    check([s["timestamp"] for s in snaps] == sorted((s["timestamp"] for s in snaps), reverse=True), "DESC is newest first")
    check(all(s["sourceServerID"] == pit_server and s["snapshotID"].startswith("pit-") for s in snaps), "snapshots of the server")
    out["snapshotIds"] = [s["snapshotID"] for s in snaps]
    before = snaps[len(snaps) // 2]["timestamp"]
    out["snapshotsBefore"] = before
    upto = drs.describe_recovery_snapshots(sourceServerID=pit_server, filters={"toDateTime": before}, order="DESC")["items"]
    out["snapshotsUpTo"] = [s["snapshotID"] for s in upto]
    check(upto and upto[0]["timestamp"] == before, f"toDateTime keeps the snapshot taken then: {upto[:1]}")
    out["snapshotsUnknownServer"] = error_code(drs.describe_recovery_snapshots, sourceServerID="s-00000000000000000")
    check(out["snapshotsUnknownServer"] == "ValidationException", f"unknown server: {out['snapshotsUnknownServer']}")
    pit = drs.start_recovery(sourceServers=[{"sourceServerID": pit_server, "recoverySnapshotID": upto[0]["snapshotID"]}], isDrill=True)
    check(pit["ResponseMetadata"]["HTTPStatusCode"] == 202, "StartRecovery from a recovery snapshot answers 202")

    out.update(staging(client("drs", ORIGIN_REGION, target)))
    out.update(recovery_plans(drs, servers, ids))

    # EC2 in the origin region: the instance behind the first server, by tag and by paginator.
    ec2 = client("ec2", ORIGIN_REGION, target)
    host = first["sourceProperties"]["identificationHints"]["hostname"]
    res = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [host]}])["Reservations"]
    named = [i["InstanceId"] for r in res for i in r["Instances"]]
    check(named == [first["sourceProperties"]["identificationHints"]["awsInstanceID"]], f"tag:Name={host}: {named}")
    out["instanceName"] = host
    out["instanceByName"] = named[0]
    pages = ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5})
    instances = sorted(i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"])
    check(len(set(instances)) == len(instances), "paginated instances are unique")
    out["instanceIds"] = instances
    ec2.create_tags(Resources=[named[0]], Tags=[{"Key": "conformance", "Value": "boto3"}])
    tagged = ec2.describe_instances(Filters=[{"Name": "tag:conformance", "Values": ["boto3"]}])["Reservations"]
    check([i["InstanceId"] for r in tagged for i in r["Instances"]] == named, "CreateTags then tag filter")
    ec2.delete_tags(Resources=[named[0]], Tags=[{"Key": "conformance"}])
    tagged = ec2.describe_instances(Filters=[{"Name": "tag:conformance", "Values": ["boto3"]}])["Reservations"]
    check(tagged == [], "DeleteTags removes the tag")
    out["badInstanceId"] = error_code(ec2.describe_instances, InstanceIds=["i-0000000000000dead"])

    # TerminateInstances (the destructive call the target role may make on what DRS manages):
    # the last instance, which no check below or on the Rust side reads.
    gone = instances[-1]
    term = ec2.terminate_instances(InstanceIds=[gone])["TerminatingInstances"]
    check([t["InstanceId"] for t in term] == [gone], f"TerminateInstances {term}")
    check(term[0]["CurrentState"]["Name"] == "terminated", f"TerminateInstances state {term[0]['CurrentState']}")
    out["terminatedState"] = term[0]["CurrentState"]["Code"]

    # The launch template DRS keeps per server lives in the recovery region.
    ec2_drs = client("ec2", DRS_REGION, target)
    versions = ec2_drs.describe_launch_template_versions(LaunchTemplateId=lc["ec2LaunchTemplateID"])
    versions = versions["LaunchTemplateVersions"]
    check(versions and versions[0]["LaunchTemplateId"] == lc["ec2LaunchTemplateID"], "launch template versions")
    out["launchTemplateVersions"] = [v["VersionNumber"] for v in versions]
    out["launchTemplateInstanceType"] = versions[0]["LaunchTemplateData"].get("InstanceType")

    # The network a launch lands in: the default VPC's subnets and group, by filter and by
    # id, and the refusals of an id that names nothing.
    subnets = ec2_drs.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    out["subnetIds"] = sorted(s["SubnetId"] for s in subnets)
    check(len(subnets) == 2 and all(s["State"] == "available" for s in subnets), f"DescribeSubnets {subnets}")
    one = ec2_drs.describe_subnets(SubnetIds=[out["subnetIds"][0]])["Subnets"]
    check([s["SubnetId"] for s in one] == out["subnetIds"][:1], f"DescribeSubnets by id {one}")
    out["badSubnetId"] = error_code(ec2_drs.describe_subnets, SubnetIds=["subnet-00000000000000dead"])
    groups = ec2_drs.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    out["securityGroupIds"] = sorted(g["GroupId"] for g in groups)
    check(len(groups) == 1 and groups[0]["VpcId"] == subnets[0]["VpcId"], f"DescribeSecurityGroups {groups}")
    out["badGroupId"] = error_code(ec2_drs.describe_security_groups, GroupIds=["sg-00000000000000dead"])

    # A network interface holds an address of the fleet's recovery subnet: found by it, and
    # the same address refused to a second interface; deleted, the address is free.
    recovery = [s for s in ec2_drs.describe_subnets()["Subnets"] if not s["DefaultForAz"]][0]
    address = str(ipaddress.ip_network(recovery["CidrBlock"]).network_address + 77)
    made = ec2_drs.create_network_interface(SubnetId=recovery["SubnetId"], PrivateIpAddress=address)["NetworkInterface"]
    check(made["PrivateIpAddress"] == address and made["Status"] == "available", f"CreateNetworkInterface {made}")
    out["interfaceAddress"], out["interfaceId"] = address, made["NetworkInterfaceId"]
    out["interfaceInUse"] = error_code(ec2_drs.create_network_interface, SubnetId=recovery["SubnetId"], PrivateIpAddress=address)
    held = ec2_drs.describe_network_interfaces(Filters=[{"Name": "addresses.private-ip-address", "Values": [address]}])
    check([n["NetworkInterfaceId"] for n in held["NetworkInterfaces"]] == [made["NetworkInterfaceId"]], f"DescribeNetworkInterfaces {held}")

    # The hub's configuration sources: an SSM SecureString and a Secrets Manager secret,
    # seeded through the control endpoint in the hub's account and region.
    def seed(route, body):
        req = urllib.request.Request(f"{endpoint}/_sim/{route}", json.dumps(body).encode(), method="POST")
        return json.loads(urllib.request.urlopen(req).read())

    seed("parameters", {"name": "/drs-orch/conformance", "value": '{"check": "ssm"}', "type": "SecureString"})
    stored = seed("secrets", {"name": "drs-orch/conformance", "value": '{"check": "secretsmanager"}'})
    ssm = client("ssm", ident["region"], hub)
    param = ssm.get_parameter(Name="/drs-orch/conformance", WithDecryption=True)["Parameter"]
    out["parameterValue"], out["parameterType"] = param["Value"], param["Type"]
    check(param["Value"] == '{"check": "ssm"}' and param["Type"] == "SecureString", f"GetParameter {param['Type']}")
    sealed = ssm.get_parameter(Name="/drs-orch/conformance")["Parameter"]["Value"]
    check(sealed != param["Value"], "a SecureString read without decryption is not its value")
    out["parameterMissing"] = error_code(ssm.get_parameter, Name="/drs-orch/none", WithDecryption=True)
    check(out["parameterMissing"] == "ParameterNotFound", f"missing parameter: {out['parameterMissing']}")
    sm = client("secretsmanager", ident["region"], hub)
    secret = sm.get_secret_value(SecretId=stored["arn"])
    check(secret["ARN"] == stored["arn"] and secret["Name"] == "drs-orch/conformance", f"GetSecretValue {secret['Name']}")
    out["secretValue"] = sm.get_secret_value(SecretId="drs-orch/conformance")["SecretString"]
    out["secretArn"] = stored["arn"]
    out["secretMissing"] = error_code(sm.get_secret_value, SecretId="drs-orch/none")
    check(out["secretMissing"] == "ResourceNotFoundException", f"missing secret: {out['secretMissing']}")

    out.update(dynamodb(client("dynamodb", ident["region"], hub)))
    out.update(s3(client("s3", ident["region"], hub), client("s3", DRS_REGION, target)))

    check(not problems, "answers outside the service model:\n  " + "\n  ".join(problems))
    print(json.dumps(out, sort_keys=True, default=str))


def staging(drs):
    """Staging accounts, in the second region: the demo's 200000000002 trusts this account
    (stagingFor), 200000000003 does not."""
    out = {}
    pages = drs.get_paginator("list_extensible_source_servers").paginate(
        stagingAccountID=STAGING, PaginationConfig={"PageSize": 3}
    )
    extensible = [s for p in pages for s in p["items"]]
    check(len(extensible) > 3 and all(f":{STAGING}:source-server/" in s["arn"] for s in extensible), "extensible servers")
    out["extensibleArns"] = sorted(s["arn"] for s in extensible)
    arn = out["extensibleArns"][0]
    made = drs.create_extended_source_server(sourceServerArn=arn, tags={"conformance": "boto3"})
    check(made["ResponseMetadata"]["HTTPStatusCode"] == 201, "CreateExtendedSourceServer answers 201")
    area = made["sourceServer"]["stagingArea"]
    check(area == {"status": "EXTENDED", "stagingAccountID": STAGING, "stagingSourceServerArn": arn}, f"stagingArea {area}")
    out["extendedId"] = made["sourceServer"]["sourceServerID"]
    out["extendedTwice"] = error_code(drs.create_extended_source_server, sourceServerArn=arn)
    check(out["extendedTwice"] == "ValidationException", f"extended twice: {out['extendedTwice']}")
    pages = drs.get_paginator("list_staging_accounts").paginate(PaginationConfig={"PageSize": 1})
    out["stagingAccounts"] = [a["accountID"] for p in pages for a in p["accounts"]]
    check(out["stagingAccounts"] == [STAGING], f"ListStagingAccounts {out['stagingAccounts']}")
    extended = drs.describe_source_servers(filters={"stagingAccountIDs": [STAGING]})["items"]
    out["extendedIds"] = [s["sourceServerID"] for s in extended]
    check(out["extendedIds"] == [out["extendedId"]], f"stagingAccountIDs filter {out['extendedIds']}")
    out["untrustedStaging"] = error_code(drs.list_extensible_source_servers, stagingAccountID=UNTRUSTING)
    check(out["untrustedStaging"] == "AccessDeniedException", f"untrusting staging account: {out['untrustedStaging']}")
    return out


def recovery_plans(drs, servers, ids):
    """A recovery plan of two servers no other check uses: built with client tokens, its
    steps listed a page at a time, a drill execution started and moved by the clock, and the
    refusals the model lists (unknown plan, a name off the pattern, a second execution, a
    plan with a running execution deleted). The Rust SDK reads the same and repeats them."""
    out = {}
    arn_of = {s["sourceServerID"]: s["arn"] for s in servers}
    chosen = ids[4:6]
    plan_request = {"name": "conformance plan", "description": "boto3", "clientToken": "boto3-plan", "tags": {"made-by": "boto3"}}
    created = drs.create_recovery_plan(**plan_request)
    check(created["ResponseMetadata"]["HTTPStatusCode"] == 201, "CreateRecoveryPlan answers 201")
    plan = created["recoveryPlan"]
    check(plan["status"] == "INVALID" and plan["tags"] == {"made-by": "boto3"}, f"a new plan: {plan}")
    again = drs.create_recovery_plan(**plan_request)["recoveryPlan"]
    check(again["recoveryPlanArn"] == plan["recoveryPlanArn"], "a retried create answers the same plan")
    arn = plan["recoveryPlanArn"]
    out["planArn"], out["planRequest"], out["planServerIds"] = arn, plan_request, chosen
    servers_step = {"serverStepConfiguration": {"servers": [
        {"serverArn": arn_of[chosen[0]], "impactLevel": "CRITICAL"}, {"serverArn": arn_of[chosen[1]]}]}}
    drs.create_recovery_plan_step(recoveryPlanArn=arn, stepName="servers", configuration=servers_step, clientToken="boto3-step")
    drs.create_recovery_plan_step(recoveryPlanArn=arn, stepName="pause", configuration={"waitStepConfiguration": {"waitDurationMinutes": 1}})
    pages = drs.get_paginator("list_recovery_plan_steps").paginate(recoveryPlanArn=arn, PaginationConfig={"PageSize": 1})
    steps = [s for p in pages for s in p["recoveryPlanSteps"]]
    out["planSteps"] = [[s["stepOrder"], s["stepName"]] for s in steps]
    check(out["planSteps"] == [[1, "servers"], [2, "pause"]], f"steps in order: {out['planSteps']}")
    check(drs.get_recovery_plan(recoveryPlanArn=arn)["recoveryPlan"]["status"] == "ACTIVE", "a plan with a server step is ACTIVE")
    plans = drs.get_paginator("list_recovery_plans").paginate(PaginationConfig={"PageSize": 1})
    check(arn in [p["recoveryPlanArn"] for page in plans for p in page["recoveryPlans"]], "ListRecoveryPlans lists it")

    started = drs.start_recovery_plan_execution(recoveryPlanArn=arn, mode="DRILL", clientToken="boto3-exec", tags={"run": "boto3"})
    check(started["ResponseMetadata"]["HTTPStatusCode"] == 201, "StartRecoveryPlanExecution answers 201")
    execution = started["recoveryPlanExecution"]
    check(execution["status"] == "CREATED" and execution["mode"] == "DRILL", f"a new execution: {execution}")
    out["executionArn"] = execution["recoveryPlanExecutionArn"]
    out["secondExecution"] = error_code(drs.start_recovery_plan_execution, recoveryPlanArn=arn, mode="DRILL")
    check(out["secondExecution"] == "ConflictException", f"a second execution: {out['secondExecution']}")
    out["deleteRunningPlan"] = error_code(drs.delete_recovery_plan, recoveryPlanArn=arn)
    # The clock stays where it is (the drills above are read again by the Rust SDK): the
    # execution's first step begins at its start, so any later call sees it running.
    running = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=out["executionArn"])["recoveryPlanExecution"]
    out["executionStatus"] = running["status"]
    check(running["status"] == "IN_PROGRESS", f"once started: {running['status']}")
    esteps = drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=out["executionArn"])["recoveryPlanExecutionSteps"]
    out["executionSteps"] = [s["status"] for s in esteps]
    check(out["executionSteps"] == ["EXECUTING", "NOT_STARTED"], f"one step at a time: {out['executionSteps']}")
    first = drs.get_recovery_plan_execution_step(recoveryPlanExecutionStepArn=esteps[0]["recoveryPlanExecutionStepArn"])
    launched = first["recoveryPlanExecutionStep"]["configuration"]["executionServerStepConfiguration"]["servers"]
    out["executionJobs"] = sorted({s["jobID"] for s in launched})
    check(len(out["executionJobs"]) == 1, f"a server step launches one job: {out['executionJobs']}")
    executing = drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=out["executionArn"], filter={"status": "EXECUTING"})
    check(len(executing["recoveryPlanExecutionSteps"]) == 1, "the status filter")

    unknown = arn.rsplit("/", 1)[0] + "/plan-00000000000000000"
    out["unknownPlan"] = error_code(drs.get_recovery_plan, recoveryPlanArn=unknown)
    out["badStepName"] = error_code(
        drs.create_recovery_plan_step, recoveryPlanArn=arn, stepName="-bad", configuration={"waitStepConfiguration": {"waitDurationMinutes": 1}}
    )
    check(
        (out["unknownPlan"], out["badStepName"], out["deleteRunningPlan"])
        == ("ResourceNotFoundException", "ValidationException", "ConflictException"),
        f"plan refusals {out['unknownPlan']} {out['badStepName']} {out['deleteRunningPlan']}",
    )
    return out


def dynamodb(ddb):
    """The hub's run ledger table and a scratch table, through every DynamoDB operation the
    simulator serves; the Rust SDK repeats these under another partition key and compares."""
    out = {}
    ledger = ddb.describe_table(TableName=LEDGER)["Table"]
    check(ledger["TableStatus"] == "ACTIVE", f"ledger table {ledger['TableStatus']}")
    out["ddbKeySchema"], out["ddbTableArn"] = ledger["KeySchema"], ledger["TableArn"]
    key_schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    definitions = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    out["ddbCreateExisting"] = error_code(
        ddb.create_table, TableName=LEDGER, KeySchema=key_schema, AttributeDefinitions=definitions, BillingMode="PAY_PER_REQUEST"
    )
    check(out["ddbCreateExisting"] == "ResourceInUseException", f"CreateTable of the ledger: {out['ddbCreateExisting']}")

    # A scratch table's life: CREATING (usable at once), numbers as numbers, DELETING, gone.
    scratch = "conformance-scratch"
    created = ddb.create_table(
        TableName=scratch,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    check(created["TableStatus"] == "CREATING", f"CreateTable answers {created['TableStatus']}")
    ddb.put_item(TableName=scratch, Item={"id": {"N": "007"}})
    check(ddb.get_item(TableName=scratch, Key={"id": {"N": "7"}})["Item"] == {"id": {"N": "7"}}, "007 is 7")
    check(ddb.delete_table(TableName=scratch)["TableDescription"]["TableStatus"] == "DELETING", "DeleteTable answers DELETING")
    out["ddbDeletedTable"] = error_code(ddb.describe_table, TableName=scratch)

    pk = {"S": "resource#boto3"}
    run = {
        "pk": pk,
        "sk": {"S": "run#1"},
        "mode": {"S": "DRILL"},
        "waves": {"M": {"w1": {"M": {"state": {"S": "PENDING"}}}}},
        "attempts": {"N": "1"},
        "tags": {"SS": ["a"]},
        "done": {"BOOL": False},
        "note": {"NULL": True},
        "log": {"L": [{"S": "opened"}, {"N": "1.50"}]},
    }
    out["ddbRun"] = run
    key = {"pk": pk, "sk": run["sk"]}
    ddb.put_item(TableName=LEDGER, Item=run, ConditionExpression="attribute_not_exists(pk)")
    lost = error_of(
        ddb.put_item,
        TableName=LEDGER,
        Item=run,
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    out["ddbLostPut"] = {"code": lost["Error"]["Code"], "item": lost.get("Item")}
    check(out["ddbLostPut"]["code"] == "ConditionalCheckFailedException", f"a second put: {out['ddbLostPut']['code']}")
    check(lost.get("Item", {}).get("log") == {"L": [{"S": "opened"}, {"N": "1.5"}]}, f"the winner's item back: {lost.get('Item')}")

    update = {
        "UpdateExpression": "SET waves.#w.#st = :done ADD attempts :one, tags :t REMOVE #m",
        "ExpressionAttributeNames": {"#w": "w1", "#st": "state", "#m": "mode"},
        "ExpressionAttributeValues": {":done": {"S": "DONE"}, ":one": {"N": "1"}, ":t": {"SS": ["b"]}},
    }
    out["ddbUpdate"] = update
    out["ddbUpdatedNew"] = ddb.update_item(TableName=LEDGER, Key=key, ReturnValues="UPDATED_NEW", **update)["Attributes"]
    check(out["ddbUpdatedNew"]["attempts"] == {"N": "2"}, f"UPDATED_NEW {out['ddbUpdatedNew']}")
    out["ddbProjected"] = ddb.get_item(
        TableName=LEDGER, Key=key, ProjectionExpression="waves.w1, tags, #l[1]", ExpressionAttributeNames={"#l": "log"}
    )["Item"]

    for i in range(2, 6):
        ddb.put_item(TableName=LEDGER, Item={"pk": pk, "sk": {"S": f"run#{i}"}, "seq": {"N": str(i)}})
    pages = list(
        ddb.get_paginator("query").paginate(
            TableName=LEDGER,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :run)",
            FilterExpression="seq >= :three",
            ExpressionAttributeValues={":pk": pk, ":run": {"S": "run#"}, ":three": {"N": "3"}},
            PaginationConfig={"PageSize": 2},
        )
    )
    out["ddbQueryPages"] = [[i["sk"]["S"] for i in p["Items"]] for p in pages]
    check(out["ddbQueryPages"] == [[], ["run#3", "run#4"], ["run#5"]], f"query pages {out['ddbQueryPages']}")

    nine = {"pk": pk, "sk": {"S": "run#9"}}
    transaction = [
        {"Put": {"TableName": LEDGER, "Item": nine, "ConditionExpression": "attribute_not_exists(pk)"}},
        {
            "ConditionCheck": {
                "TableName": LEDGER,
                "Key": key,
                "ConditionExpression": "attempts > :limit",
                "ExpressionAttributeValues": {":limit": {"N": "10"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
    canceled = error_of(ddb.transact_write_items, TransactItems=transaction)
    out["ddbCanceled"] = {"code": canceled["Error"]["Code"], "reasons": [r["Code"] for r in canceled["CancellationReasons"]]}
    check(out["ddbCanceled"]["reasons"] == ["None", "ConditionalCheckFailed"], f"cancellation {out['ddbCanceled']}")
    check("Item" in canceled["CancellationReasons"][1], "the failed check carries its item")
    check("Item" not in ddb.get_item(TableName=LEDGER, Key=nine), "a cancelled transaction applies nothing")
    transaction[1]["ConditionCheck"]["ExpressionAttributeValues"][":limit"] = {"N": "1"}
    ddb.transact_write_items(TransactItems=transaction, ClientRequestToken="boto3-conformance")
    check("Item" in ddb.get_item(TableName=LEDGER, Key=nine), "the transaction applied")

    batch = ddb.batch_get_item(
        RequestItems={LEDGER: {"Keys": [key, nine, {"pk": pk, "sk": {"S": "run#404"}}], "ProjectionExpression": "sk"}}
    )
    check(batch["UnprocessedKeys"] == {}, "BatchGetItem serves every key")
    out["ddbBatch"] = sorted(i["sk"]["S"] for i in batch["Responses"][LEDGER])
    out["ddbDeletedOld"] = ddb.delete_item(TableName=LEDGER, Key=nine, ReturnValues="ALL_OLD")["Attributes"]

    unused = error_of(
        ddb.put_item,
        TableName=LEDGER,
        Item=run,
        ConditionExpression="attribute_not_exists(pk)",
        ExpressionAttributeValues={":unused": {"S": "u"}},
    )
    out["ddbUnused"] = unused["Error"]
    check(unused["Error"]["Code"] == "ValidationException", f"an unused value: {unused['Error']}")
    out["ddbUnknownTable"] = error_code(ddb.get_item, TableName="no-such-table", Key=key)
    return out


def s3(hub_s3, target_s3):
    """The run reports' bucket: objects written, read back whole and by their headers, listed
    a page at a time; a missing key, a missing bucket and another account's bucket refused."""
    out = {}
    bucket, key = REPORTS, "conformance/run 1/report.json"
    put = hub_s3.put_object(Bucket=bucket, Key=key, Body=b'{"check": "s3"}', ContentType="application/json", Metadata={"run": "boto3"})
    check(put["ETag"].startswith('"') and put.get("VersionId"), f"PutObject {put}")
    got = hub_s3.get_object(Bucket=bucket, Key=key)
    out["s3Body"] = got["Body"].read().decode()
    check(out["s3Body"] == '{"check": "s3"}', f"GetObject body {out['s3Body']}")
    check(got["ContentType"] == "application/json" and got["Metadata"] == {"run": "boto3"}, f"GetObject headers {got['Metadata']}")
    check(got["ETag"] == put["ETag"] and got["VersionId"] == put["VersionId"], "GetObject names the version written")
    head = hub_s3.head_object(Bucket=bucket, Key=key)
    out["s3HeadLength"] = head["ContentLength"]
    check(head["ContentLength"] == len(out["s3Body"]), f"HeadObject length {head['ContentLength']}")
    for i in range(3):
        hub_s3.put_object(Bucket=bucket, Key=f"conformance/page/{i}.md", Body=b"# page")
    pages = hub_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="conformance/", PaginationConfig={"PageSize": 2})
    out["s3Pages"] = [[o["Key"] for o in p.get("Contents", [])] for p in pages]
    check(sum(len(p) for p in out["s3Pages"]) == 4 and len(out["s3Pages"]) == 2, f"ListObjectsV2 pages {out['s3Pages']}")
    folders = hub_s3.list_objects_v2(Bucket=bucket, Prefix="conformance/", Delimiter="/")
    out["s3CommonPrefixes"] = sorted(p["Prefix"] for p in folders["CommonPrefixes"])
    check(out["s3CommonPrefixes"] == ["conformance/page/", "conformance/run 1/"], f"CommonPrefixes {out['s3CommonPrefixes']}")
    out["s3MissingKey"] = error_code(hub_s3.get_object, Bucket=bucket, Key="conformance/none")
    out["s3MissingHead"] = error_code(hub_s3.head_object, Bucket=bucket, Key="conformance/none")
    out["s3MissingBucket"] = error_code(hub_s3.get_object, Bucket="drs-orch-no-such-bucket", Key=key)
    out["s3OtherAccount"] = error_code(target_s3.get_object, Bucket=bucket, Key=key)
    check(
        (out["s3MissingKey"], out["s3MissingHead"], out["s3MissingBucket"], out["s3OtherAccount"])
        == ("NoSuchKey", "404", "NoSuchBucket", "AccessDenied"),
        f"S3 refusals {out['s3MissingKey']} {out['s3MissingHead']} {out['s3MissingBucket']} {out['s3OtherAccount']}",
    )
    return out


if __name__ == "__main__":
    try:
        main()
    except Mismatch as e:
        print(f"boto3 conformance mismatch: {e}", file=sys.stderr)
        sys.exit(1)
    except ClientError as e:
        print(f"boto3 conformance: unexpected error {e.response.get('Error')}: {e}", file=sys.stderr)
        sys.exit(1)
