"""Prints, as JSON, the deepest request of the JSON services the simulator serves with a fixed
depth (under "!depths": DRS, Step Functions, Secrets Manager; sim/src/protocol/depth.rs), and
the input members of DRS's UpdateLaunchConfiguration and UpdateReplicationConfiguration
and of the twenty recovery-plan operations (under "!plans") as botocore's model has them, in
the form the simulator's config_shape::describe writes: "boolean", "long min=0",
"integer min=1[ max=20]", "string min=0 max=128[ pattern=...]", "string:A|B" (enums),
structures as objects (their required members under "!required", a union marked
"!union": true), lists as [member, min, max], maps as {"map": value, "key": key}.
sim/tests/other_language.rs compares the two."""
import glob
import gzip
import json
import os

import botocore

MODELS = os.path.join(os.path.dirname(botocore.__file__), "data", "drs")
model = json.load(gzip.open(sorted(glob.glob(os.path.join(MODELS, "*", "service-2.json.gz")))[-1]))
shapes = model["shapes"]


def describe(name):
    s = shapes[name]
    kind = s["type"]
    if kind == "structure":
        out = {k: describe(v["shape"]) for k, v in s["members"].items()}
        if s.get("required"):
            out["!required"] = sorted(s["required"])
        if s.get("union"):
            out["!union"] = True
        return out
    if kind == "list":
        return [describe(s["member"]["shape"]), s.get("min"), s.get("max")]
    if kind == "map":
        return {"map": describe(s["value"]["shape"]), "key": describe(s["key"]["shape"])}
    if "enum" in s:
        return "string:" + "|".join(s["enum"])
    text = kind
    for limit in ("min", "max", "pattern"):
        if limit in s:
            text += f" {limit}={s[limit]}"
    return text


def deepest(service):
    """The most levels of JSON objects and arrays any request of `service` nests."""
    path = sorted(glob.glob(os.path.join(os.path.dirname(botocore.__file__), "data", service, "*", "service-2.json.gz")))[-1]
    m = json.load(gzip.open(path))

    def depth(name, seen=()):
        s = m["shapes"][name]
        if name in seen:
            raise ValueError(f"{service}: {name} is recursive")
        seen = seen + (name,)
        if s["type"] == "structure":
            return 1 + max([depth(v["shape"], seen) for v in s["members"].values()] + [0])
        if s["type"] == "list":
            return 1 + depth(s["member"]["shape"], seen)
        if s["type"] == "map":
            return 1 + depth(s["value"]["shape"], seen)
        return 0

    return max(depth(o["input"]["shape"]) for o in m["operations"].values() if "input" in o)


ops = ["UpdateLaunchConfiguration", "UpdateReplicationConfiguration"]
out = {op: describe(model["operations"][op]["input"]["shape"]) for op in ops}
out["!depths"] = {s: deepest(s) for s in ("drs", "stepfunctions", "secretsmanager")}
plans = sorted(o for o in model["operations"] if "RecoveryPlan" in o)
out["!plans"] = {op: describe(model["operations"][op]["input"]["shape"]) for op in plans}
print(json.dumps(out, indent=1, sort_keys=True))
