//! The members UpdateLaunchConfiguration and UpdateReplicationConfiguration take, with their
//! types and limits as botocore's DRS model has them (the conformance test compares
//! `describe` with the model). An update is checked member by member before anything of it is
//! kept: a value of the wrong type is refused naming its path, as DRS refuses it, instead of
//! being stored in the server's configuration and answered back. The recovery-plan
//! operations' inputs are checked with the same shapes (`plans/shapes.rs`).

use super::config::Kind;
use super::input::invalid;
use crate::protocol::ApiError;
use serde_json::{json, Value};

/// A member's shape.
pub enum Shape {
    Bool,
    /// `long` and `integer`, with their minimum.
    Long(i64),
    Int(i64),
    /// An `integer` between its minimum and maximum.
    IntIn(i64, i64),
    /// A string between `min` and `max` characters, matching `pattern` when there is one.
    Str {
        min: usize,
        max: usize,
        pattern: Option<Pattern>,
    },
    Enum(&'static [&'static str]),
    /// Members, and the names of those that are required.
    Struct(&'static [(&'static str, Shape)], &'static [&'static str]),
    /// A union: exactly one of its members is set.
    Union(&'static [(&'static str, Shape)]),
    List {
        member: &'static Shape,
        min: usize,
        max: usize,
    },
    /// A map: its keys' shape, its values' shape.
    Map(&'static Shape, &'static Shape),
}

/// The model's patterns: an id prefix followed by at least 8 hex digits, a source server's
/// id, an ARN; and the recovery plans': their ARNs (`StrictDRSARN`), a source server's ARN, a
/// plan's or step's name, a recovery snapshot's id. Those are matched whole.
#[derive(Clone, Copy)]
pub enum Pattern {
    HexId(&'static str),
    SourceServer,
    Arn,
    StrictDrsArn,
    SourceServerArn,
    PlanName,
    SnapshotId,
}

impl Pattern {
    fn matches(self, s: &str) -> bool {
        match self {
            Pattern::HexId(prefix) => {
                s.strip_prefix(prefix).is_some_and(|rest| rest.len() >= 8 && rest.bytes().take(8).all(|b| b.is_ascii_hexdigit()))
            }
            Pattern::SourceServer => super::input::is_source_server_id(s),
            Pattern::Arn => s.strip_prefix("arn:").is_some_and(|rest| (16..=2044).contains(&rest.chars().count())),
            Pattern::StrictDrsArn => strict_drs_arn(s),
            Pattern::SourceServerArn => source_server_arn(s),
            Pattern::PlanName => plan_name(s),
            Pattern::SnapshotId => s.len() == 21 && s.starts_with("pit-") && s[4..].bytes().all(|b| b.is_ascii_alphanumeric()),
        }
    }

    /// As the model writes it.
    fn model(self) -> String {
        match self {
            Pattern::HexId(prefix) => format!("{prefix}[0-9a-fA-F]{{8,}}"),
            Pattern::SourceServer => "s-[0-9a-zA-Z]{17}".into(),
            Pattern::Arn => "arn:.{16,2044}".into(),
            Pattern::StrictDrsArn => "arn:aws(-[a-z0-9]+)*:drs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_/.-]+".into(),
            Pattern::SourceServerArn => "arn:(?:[0-9a-zA-Z_-]+:){3}([0-9]{12,}):source-server/(s-[0-9a-zA-Z]{17})".into(),
            Pattern::PlanName => "[a-zA-Z0-9][a-zA-Z0-9 _-]*".into(),
            Pattern::SnapshotId => "pit-[0-9a-zA-Z]{17}".into(),
        }
    }
}

/// `arn:aws(-[a-z0-9]+)*:drs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_/.-]+`, whole.
fn strict_drs_arn(s: &str) -> bool {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("drs"), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let lower_digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let partition_ok = partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.is_empty() || (rest.starts_with('-') && rest.split('-').skip(1).all(lower_digits)));
    partition_ok
        && !region.is_empty()
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !resource.is_empty()
        && resource.bytes().all(|b| b.is_ascii_alphanumeric() || b"_/.-".contains(&b))
}

/// `arn:(?:[0-9a-zA-Z_-]+:){3}([0-9]{12,}):source-server/(s-[0-9a-zA-Z]{17})`, whole.
fn source_server_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, a, b, c, account, resource] = parts.as_slice() else { return false };
    let word = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    *arn == "arn"
        && [a, b, c].iter().all(|x| word(x))
        && account.len() >= 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("source-server/").is_some_and(super::input::is_source_server_id)
}

/// `[a-zA-Z0-9][a-zA-Z0-9 _-]*`, whole.
fn plan_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric()) && bytes.all(|b| b.is_ascii_alphanumeric() || b" _-".contains(&b))
}

const NAME: Shape = Shape::Str { min: 0, max: 128, pattern: None };
const SERVER_ID: Shape = Shape::Str { min: 19, max: 19, pattern: Some(Pattern::SourceServer) };
const TAG_TEXT: Shape = Shape::Str { min: 0, max: 256, pattern: None };
const DISK_TYPES: &[&str] = &["AUTO", "GP2", "GP3", "IO1", "IO2", "SC1", "ST1", "STANDARD"];

const LAUNCH: &[(&str, Shape)] = &[
    ("sourceServerID", SERVER_ID),
    ("name", NAME),
    ("launchDisposition", Shape::Enum(&["STOPPED", "STARTED"])),
    ("targetInstanceTypeRightSizingMethod", Shape::Enum(&["NONE", "BASIC", "IN_AWS"])),
    ("copyPrivateIp", Shape::Bool),
    ("copyTags", Shape::Bool),
    ("licensing", Shape::Struct(&[("osByol", Shape::Bool)], &[])),
    ("postLaunchEnabled", Shape::Bool),
    (
        "launchIntoInstanceProperties",
        Shape::Struct(&[("launchIntoEC2InstanceID", Shape::Str { min: 0, max: 255, pattern: Some(Pattern::HexId("i-")) })], &[]),
    ),
    ("recoveryMode", Shape::Enum(&["FAST", "OPTIMAL"])),
];

const REPLICATED_DISK: Shape = Shape::Struct(
    &[
        ("deviceName", Shape::Str { min: 0, max: 256, pattern: None }),
        ("isBootDisk", Shape::Bool),
        ("stagingDiskType", Shape::Enum(DISK_TYPES)),
        ("iops", Shape::Long(0)),
        ("throughput", Shape::Long(0)),
        ("optimizedStagingDiskType", Shape::Enum(DISK_TYPES)),
    ],
    &[],
);

const PIT_RULE: Shape = Shape::Struct(
    &[
        ("ruleID", Shape::Long(0)),
        ("units", Shape::Enum(&["MINUTE", "HOUR", "DAY"])),
        ("interval", Shape::Int(1)),
        ("retentionDuration", Shape::Int(1)),
        ("enabled", Shape::Bool),
    ],
    &["interval", "retentionDuration", "units"],
);

const REPLICATION: &[(&str, Shape)] = &[
    ("sourceServerID", SERVER_ID),
    ("name", NAME),
    ("stagingAreaSubnetId", Shape::Str { min: 0, max: 255, pattern: Some(Pattern::HexId("subnet-")) }),
    ("associateDefaultSecurityGroup", Shape::Bool),
    (
        "replicationServersSecurityGroupsIDs",
        Shape::List { member: &Shape::Str { min: 0, max: 255, pattern: Some(Pattern::HexId("sg-")) }, min: 0, max: 32 },
    ),
    ("replicationServerInstanceType", Shape::Str { min: 0, max: 255, pattern: None }),
    ("useDedicatedReplicationServer", Shape::Bool),
    ("defaultLargeStagingDiskType", Shape::Enum(&["GP2", "GP3", "ST1", "AUTO"])),
    ("replicatedDisks", Shape::List { member: &REPLICATED_DISK, min: 0, max: 60 }),
    ("ebsEncryption", Shape::Enum(&["DEFAULT", "CUSTOM", "NONE"])),
    ("ebsEncryptionKeyArn", Shape::Str { min: 20, max: 2048, pattern: Some(Pattern::Arn) }),
    ("bandwidthThrottling", Shape::Long(0)),
    ("dataPlaneRouting", Shape::Enum(&["PRIVATE_IP", "PUBLIC_IP"])),
    ("createPublicIP", Shape::Bool),
    ("stagingAreaTags", Shape::Map(&TAG_TEXT, &TAG_TEXT)),
    ("pitPolicy", Shape::List { member: &PIT_RULE, min: 3, max: 3 }),
    ("autoReplicateNewDisks", Shape::Bool),
    ("internetProtocol", Shape::Enum(&["IPV4", "IPV6"])),
];

/// The members an update of this configuration takes.
pub fn members(kind: Kind) -> &'static [(&'static str, Shape)] {
    match kind {
        Kind::Launch => LAUNCH,
        Kind::Replication => REPLICATION,
    }
}

/// Checks `value` against `shape`; a refusal names the member's path (`replicatedDisks[2].iops`).
pub fn check(value: &Value, shape: &Shape, path: &str) -> Result<(), ApiError> {
    let refuse = |message: &str| Err(invalid(path, message));
    match (shape, value) {
        (Shape::Bool, Value::Bool(_)) => Ok(()),
        (Shape::Long(min) | Shape::Int(min) | Shape::IntIn(min, _), Value::Number(n)) => {
            let limit = match shape {
                Shape::IntIn(_, max) => *max,
                Shape::Int(_) => i64::from(i32::MAX),
                _ => i64::MAX,
            };
            match n.as_i64() {
                Some(v) if v >= *min && v <= limit => Ok(()),
                _ => refuse(&format!("must be a whole number from {min} to {limit}")),
            }
        }
        (Shape::Str { min, max, pattern }, Value::String(s)) => {
            let chars = s.chars().count();
            if chars < *min || chars > *max {
                return refuse(&format!("must be {min} to {max} characters long"));
            }
            match pattern {
                Some(p) if !p.matches(s) => refuse(&format!("must match {}", p.model())),
                _ => Ok(()),
            }
        }
        (Shape::Enum(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        (Shape::Enum(allowed), _) => refuse(&format!("must be one of {}", allowed.join(", "))),
        (Shape::Struct(members, required), Value::Object(fields)) => {
            if let Some(missing) = required.iter().find(|r| fields.get(**r).is_none_or(Value::is_null)) {
                return Err(invalid(&format!("{path}.{missing}"), "is required"));
            }
            for (name, v) in fields {
                let Some((_, member)) = members.iter().find(|(m, _)| m == name) else {
                    return Err(invalid(&format!("{path}.{name}"), "is not a member of this structure"));
                };
                check(v, member, &format!("{path}.{name}"))?;
            }
            Ok(())
        }
        (Shape::Union(members), Value::Object(fields)) => {
            let set: Vec<&String> = fields.iter().filter(|(_, v)| !v.is_null()).map(|(k, _)| k).collect();
            if set.len() != 1 {
                let names: Vec<&str> = members.iter().map(|(m, _)| *m).collect();
                return refuse(&format!("must set exactly one of {}", names.join(", ")));
            }
            check(&Value::Object(fields.clone()), &Shape::Struct(members, &[]), path)
        }
        (Shape::List { member, min, max }, Value::Array(items)) => {
            if items.len() < *min || items.len() > *max {
                return refuse(&format!("must hold {min} to {max} items"));
            }
            items.iter().enumerate().try_for_each(|(i, v)| check(v, member, &format!("{path}[{i}]")))
        }
        (Shape::Map(key_shape, value_shape), Value::Object(entries)) => entries.iter().try_for_each(|(k, v)| {
            let at = format!("{path}.{k}");
            check(&Value::String(k.clone()), key_shape, &at)?;
            check(v, value_shape, &at)
        }),
        (shape, _) => refuse(&format!("must be {}", shape.noun())),
    }
}

impl Shape {
    fn noun(&self) -> &'static str {
        match self {
            Shape::Bool => "a boolean",
            Shape::Long(_) | Shape::Int(_) | Shape::IntIn(..) => "a number",
            Shape::Str { .. } | Shape::Enum(_) => "a string",
            Shape::Struct(..) | Shape::Union(_) | Shape::Map(..) => "an object",
            Shape::List { .. } => "a list",
        }
    }

    /// As the conformance test writes botocore's shapes: `"boolean"`, `"long min=0"`,
    /// `"string min=0 max=128"`, `"string:A|B"`, structures as objects (required members under
    /// `"!required"`, a union marked `"!union": true`), lists as `[member, min, max]`, maps as
    /// `{"map": value, "key": key}`.
    pub fn describe(&self) -> Value {
        match self {
            Shape::Bool => json!("boolean"),
            Shape::Long(min) => json!(format!("long min={min}")),
            Shape::Int(min) => json!(format!("integer min={min}")),
            Shape::IntIn(min, max) => json!(format!("integer min={min} max={max}")),
            Shape::Str { min, max, pattern } => {
                let pattern = pattern.map(|p| format!(" pattern={}", p.model())).unwrap_or_default();
                json!(format!("string min={min} max={max}{pattern}"))
            }
            Shape::Enum(values) => json!(format!("string:{}", values.join("|"))),
            Shape::Struct(members, required) => describe(members, required),
            Shape::Union(members) => {
                let mut out = describe(members, &[]);
                if let Some(map) = out.as_object_mut() {
                    map.insert("!union".into(), json!(true));
                }
                out
            }
            Shape::List { member, min, max } => json!([member.describe(), min, max]),
            Shape::Map(key, value) => json!({"map": value.describe(), "key": key.describe()}),
        }
    }
}

/// A structure's members as `Shape::describe` writes them.
pub fn describe(members: &[(&str, Shape)], required: &[&str]) -> Value {
    let mut out: serde_json::Map<String, Value> =
        members.iter().map(|(name, shape)| ((*name).to_owned(), shape.describe())).collect();
    if !required.is_empty() {
        let mut names: Vec<&str> = required.to_vec();
        names.sort_unstable();
        out.insert("!required".into(), json!(names));
    }
    Value::Object(out)
}

/// An update's input as botocore's model names it, described (`Shape::describe`).
pub fn describe_input(kind: Kind) -> Value {
    describe(members(kind), &["sourceServerID"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(kind: Kind, field: &str, value: Value) -> Option<String> {
        let (_, shape) = members(kind).iter().find(|(m, _)| *m == field).unwrap_or_else(|| panic!("no member {field}"));
        check(&value, shape, field).err().map(|e| e.message)
    }

    #[test]
    fn a_member_of_the_wrong_shape_is_refused_naming_its_path() {
        assert_eq!(refusal(Kind::Launch, "copyTags", json!(true)), None);
        assert!(refusal(Kind::Launch, "copyTags", json!({"M": {}})).unwrap().contains("copyTags: must be a boolean"));
        assert!(refusal(Kind::Launch, "launchDisposition", json!("LATER")).unwrap().contains("must be one of STOPPED, STARTED"));
        let into = refusal(Kind::Launch, "launchIntoInstanceProperties", json!({"launchIntoEC2InstanceID": "i-xyz"}));
        assert!(into.unwrap().contains("launchIntoInstanceProperties.launchIntoEC2InstanceID: must match i-[0-9a-fA-F]{8,}"));
        let disks = json!([{"deviceName": "/dev/xvda"}, {"deviceName": "/dev/xvdb", "iops": -1}]);
        assert!(refusal(Kind::Replication, "replicatedDisks", disks).unwrap().contains("replicatedDisks[1].iops"));
        let pit = json!([{"units": "DAY", "interval": 1, "retentionDuration": 7}]);
        assert!(refusal(Kind::Replication, "pitPolicy", pit).unwrap().contains("must hold 3 to 3 items"));
        let rule = json!({"units": "DAY", "interval": 1});
        let three = json!([rule, rule, rule]);
        assert!(refusal(Kind::Replication, "pitPolicy", three).unwrap().contains("pitPolicy[0].retentionDuration: is required"));
        let tags = json!({"k": "v".repeat(257)});
        assert!(refusal(Kind::Replication, "stagingAreaTags", tags).unwrap().contains("stagingAreaTags.k: must be 0 to 256"));
        assert!(refusal(Kind::Replication, "bandwidthThrottling", json!(1.5)).unwrap().contains("whole number"));
    }

    #[test]
    fn deep_nesting_is_refused_at_its_first_level() {
        let mut deep = json!(true);
        for _ in 0..100 {
            deep = json!({"osByol": deep});
        }
        assert!(refusal(Kind::Launch, "licensing", deep).unwrap().contains("licensing.osByol: must be a boolean"));
    }
}
