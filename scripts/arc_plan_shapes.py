"""Checks the ARC Region switch plans of a CloudFormation template against botocore's
arc-region-switch model (cfn-lint has no resource schema for AWS::ARCRegionSwitch::Plan):
each property, PascalCase in CloudFormation, must be a member of the model's shape in
camelCase, and each shape's required members present. Prints one line per problem; exit 1
when there is any, 2 when botocore is missing."""

import glob
import gzip
import json
import os
import sys

try:
    import botocore
except ImportError:
    print("botocore is not installed")
    sys.exit(2)

model_path = sorted(glob.glob(os.path.join(os.path.dirname(botocore.__file__), "data/arc-region-switch/*/service-2.json.gz")))[-1]
shapes = json.load(gzip.open(model_path))["shapes"]
problems = []


def camel(name):
    return name[:1].lower() + name[1:]


def walk(value, shape_name, where):
    shape = shapes[shape_name]
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If"):
        return  # an intrinsic function: resolved at deploy time
    kind = shape["type"]
    if kind == "structure":
        members = shape["members"]
        for key, sub in value.items():
            member = camel(key)
            if member not in members:
                problems.append(f"{where}.{key}: not a member of {shape_name} ({', '.join(sorted(members))})")
                continue
            walk(sub, members[member]["shape"], f"{where}.{key}")
        for req in shape.get("required", []):
            if req not in {camel(k) for k in value}:
                problems.append(f"{where}: {shape_name} requires {req}")
    elif kind == "list":
        for i, item in enumerate(value):
            walk(item, shape["member"]["shape"], f"{where}[{i}]")
    elif kind == "string" and "enum" in shape and isinstance(value, str) and value not in shape["enum"]:
        problems.append(f"{where}: '{value}' is not one of {shape['enum']}")


template = json.load(open(sys.argv[1]))
for name, resource in template["Resources"].items():
    if resource["Type"] == "AWS::ARCRegionSwitch::Plan":
        props = dict(resource["Properties"])
        props.pop("Tags", None)
        walk(props, "CreatePlanRequest", name)
print("\n".join(problems))
sys.exit(1 if problems else 0)
