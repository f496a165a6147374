#!/usr/bin/env python3
"""Discovery as a Python user would write it with boto3, for `drs-orch bench discovery`.

One thread per account x region: AssumeRole into the account (with its ExternalId), every
page of DescribeSourceServers, then DescribeInstances for the servers' source instances
(200 ids a call) in their origin account and region, as the module's discovery does. Prints
one JSON line: the seconds from the first call to the last, and what was found.

Clients come from one session, created under a lock (boto3's advice: sessions are not
thread-safe, clients are), so each service's model is loaded once, not once a thread.
"""

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

IDS_PER_CALL = 200
# The SDK's standard retry mode, as the module uses: throttled calls are retried.
CONFIG = Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=10)
# The hub's credentials come from the environment (AWS_ACCESS_KEY_ID, ...), as a user's would.
SESSION = boto3.session.Session()
LOCK = threading.Lock()


def client(args, service, region, creds=None):
    keys = {}
    if creds:
        keys = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    with LOCK:
        return SESSION.client(service, region_name=region, endpoint_url=args.endpoint, config=CONFIG, **keys)


def assume(args, account, region):
    return client(args, "sts", region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{args.role}",
        RoleSessionName="boto3-discovery",
        ExternalId=args.external_id_rule.format(accountId=account),
    )["Credentials"]


def partition(args, account, region):
    creds = assume(args, account, region)
    drs = client(args, "drs", region, creds)
    servers = []
    for page in drs.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 1000}):
        servers.extend(page["items"])
    by_origin = {}
    for s in servers:
        origin = s.get("sourceCloudProperties", {})
        instance = s.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")
        if instance and origin.get("originRegion"):
            key = (origin.get("originAccountID", account), origin["originRegion"])
            by_origin.setdefault(key, []).append(instance)
    instances = {}
    for (origin_account, origin_region), ids in by_origin.items():
        origin_creds = creds if origin_account == account else assume(args, origin_account, region)
        ec2 = client(args, "ec2", origin_region, origin_creds)
        for i in range(0, len(ids), IDS_PER_CALL):
            chunk = ids[i : i + IDS_PER_CALL]
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-id", "Values": chunk}], PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for reservation in page["Reservations"]:
                    for inst in reservation["Instances"]:
                        instances[inst["InstanceId"]] = inst
    return len(servers), len(instances)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--accounts", required=True, help="comma-separated account ids")
    p.add_argument("--regions", required=True, help="comma-separated regions")
    p.add_argument("--role", required=True)
    p.add_argument("--external-id-rule", required=True, help="e.g. drsorch-demo-{accountId}")
    args = p.parse_args()
    partitions = [(a, r) for a in args.accounts.split(",") for r in args.regions.split(",")]
    started = time.perf_counter()
    cpu = time.process_time()
    with ThreadPoolExecutor(max_workers=len(partitions)) as pool:
        results = list(pool.map(lambda ar: partition(args, *ar), partitions))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": time.process_time() - cpu,
                "servers": sum(s for s, _ in results),
                "instances": sum(i for _, i in results),
                "threads": len(partitions),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
