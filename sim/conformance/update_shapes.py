"""Prints, as JSON, the input members of DRS's UpdateLaunchConfiguration and
UpdateReplicationConfiguration as botocore's model has them, in the form the simulator's
config_shape::describe writes: "boolean", "long min=0", "integer min=1",
"string min=0 max=128[ pattern=...]", "string:A|B" (enums), structures as objects (their
required members under "!required"), lists as [member, min, max], maps as
{"map": value, "key": key}. sim/tests/other_language.rs compares the two."""
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


ops = ["UpdateLaunchConfiguration", "UpdateReplicationConfiguration"]
print(json.dumps({op: describe(model["operations"][op]["input"]["shape"]) for op in ops}, indent=1, sort_keys=True))
