//! The templates under the static checkers a security review runs: checkov over
//! `cloudformation/` with no failed check (a skip only inline, in the resource's Metadata,
//! with its reason), and every IAM policy through parliament with no finding above LOW.
//! CI requires both (`DRS_REQUIRE_CHECKOV=1`, `DRS_REQUIRE_PARLIAMENT=1`) and installs them in a
//! virtual environment of their own (`DRS_CHECKOV`, `DRS_PARLIAMENT` name the executables):
//! checkov pins a botocore older than the simulator's conformance test needs. Elsewhere a
//! missing tool is reported and the check skipped.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const TEMPLATES: [&str; 2] = ["hub.json", "target-account.json"];
const ACCOUNT: &str = "123456789012";

/// Findings above LOW that are the linter's, not the policy's: (issue, action, why).
const EXPLAINED: &[(&str, &str, &str)] = &[
    (
        "RESOURCE_MISMATCH",
        "states:DescribeExecution",
        "the statement names standard-workflow executions (arn:...:execution:<state machine>:*), which IAM's \
         reference lists for DescribeExecution; the linter's data knows only the express form",
    ),
    (
        "RESOURCE_MISMATCH",
        "ec2:RunInstances",
        "the statement names launch templates, a resource type IAM's reference lists for RunInstances (it \
         keeps launches to DRS-managed templates); the linter's data lacks it. The other resource types of \
         a launch are granted by the next statement",
    ),
    (
        "RESOURCE_MISMATCH",
        "ec2:CreateSnapshot",
        "CreateSnapshot names two resources with two conditions: the new snapshot (which must carry DRS's \
         tag as it is created) in one statement, the volume it copies (which must be DRS-managed) in \
         another; IAM authorizes each resource on its own, the linter reads one statement at a time",
    ),
];

/// Template parameters that hold an ARN or a path: shaped as a deployment passes them.
const PARAMETER_VALUES: &[(&str, &str)] = &[
    ("ModuleConfigKmsKeyArn", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("ModuleConfigSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:drs-orch-config-AbCdEf"),
    ("ModuleConfigParameterName", "/drs-orch/config"),
];
const REGION: &str = "us-east-1";

fn template(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("cloudformation/{name}")).unwrap()).unwrap()
}

/// Runs a checker (the executable `path_var` names, else `tool` from the PATH), or says why it
/// cannot (failing when CI requires it).
fn run(tool: &str, path_var: &str, required_by: &str, args: &[&str]) -> Option<Output> {
    let missing = |why: String| {
        if std::env::var(required_by).as_deref() == Ok("1") {
            panic!("{tool} is required ({required_by}=1) but cannot run: {why}");
        }
        let _ = writeln!(std::io::stderr(), "skipped: {tool} on the templates: {why} (pip install {tool})");
        None
    };
    let exe = std::env::var(path_var).unwrap_or_else(|_| tool.to_owned());
    match Command::new(&exe).args(args).stdin(Stdio::null()).output() {
        // 127: a shim (pyenv's) found no such tool in the active Python.
        Ok(out) if out.status.code() == Some(127) => {
            missing(format!("not installed ({})", String::from_utf8_lossy(&out.stderr).trim()))
        }
        Ok(out) => Some(out),
        Err(e) => missing(format!("not installed ({e})")),
    }
}

#[test]
fn checkov_finds_nothing_and_every_skip_says_why() {
    for name in TEMPLATES {
        for (id, r) in template(name)["Resources"].as_object().unwrap() {
            for skip in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
                let why = skip["comment"].as_str().unwrap_or_default();
                assert!(why.len() >= 40, "{name} {id}: skip {} needs its reason: {why:?}", skip["id"]);
            }
        }
    }
    let Some(out) = run(
        "checkov",
        "DRS_CHECKOV",
        "DRS_REQUIRE_CHECKOV",
        &["-d", "cloudformation", "--skip-download", "--quiet", "-o", "json"],
    ) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("checkov's JSON: {e}: {text}"));
    // One report per framework, or a single one.
    let reports = match report {
        Value::Array(list) => list,
        one => vec![one],
    };
    let mut failed = vec![];
    let mut passed = 0;
    for r in &reports {
        passed += r["summary"]["passed"].as_u64().unwrap_or(0);
        for f in r["results"]["failed_checks"].as_array().into_iter().flatten() {
            failed.push(format!("{} {} ({})", f["check_id"], f["check_name"], f["resource"]));
        }
    }
    assert!(failed.is_empty(), "checkov failed checks:\n{}", failed.join("\n"));
    assert!(passed >= 40, "checkov ran its checks: {passed} passed");
}

/// Placeholders for what CloudFormation resolves at deploy time, shaped as the real values are
/// (an ARN of the resource's type), so that the linter judges the policies as deployed.
struct Resolver<'a> {
    t: &'a Value,
}

impl Resolver<'_> {
    fn kind(&self, resource: &str) -> Option<&str> {
        self.t["Resources"][resource]["Type"].as_str()
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::Partition" => return "aws".into(),
            "AWS::Region" => return REGION.into(),
            "AWS::AccountId" => return ACCOUNT.into(),
            "AWS::StackName" => return "drs-orch".into(),
            _ => {}
        }
        if let Some((_, v)) = PARAMETER_VALUES.iter().find(|(p, _)| *p == name) {
            return (*v).to_owned();
        }
        if let Some(p) = self.t["Parameters"].get(name) {
            return match &p["Default"] {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => format!("p-{}", name.to_lowercase()),
            };
        }
        let n = name.to_lowercase();
        match self.kind(name) {
            Some("AWS::SNS::Topic") => format!("arn:aws:sns:{REGION}:{ACCOUNT}:{n}"),
            Some("AWS::StepFunctions::StateMachine") => format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{n}"),
            _ => n,
        }
    }

    fn attribute(&self, resource: &str, attr: &str) -> String {
        let n = resource.to_lowercase();
        match (self.kind(resource), attr) {
            (_, "Name") => n,
            (Some("AWS::IAM::Role"), _) => format!("arn:aws:iam::{ACCOUNT}:role/{n}"),
            (Some("AWS::Lambda::Function"), _) => format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{n}"),
            (Some("AWS::Logs::LogGroup"), _) => format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{n}:*"),
            (Some("AWS::KMS::Key"), _) => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{n}"),
            (Some("AWS::DynamoDB::GlobalTable" | "AWS::DynamoDB::Table"), _) => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{n}")
            }
            _ => self.reference(resource),
        }
    }

    fn sub(&self, text: &str, vars: Option<&Value>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').map(|e| start + e).unwrap();
            let name = &rest[start + 2..end];
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.resolve(v).as_str().unwrap_or_default().to_owned(),
                None => match name.split_once('.') {
                    Some((r, a)) => self.attribute(r, a),
                    None => self.reference(name),
                },
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out + rest
    }

    fn resolve(&self, v: &Value) -> Value {
        match v {
            Value::Object(m) if m.len() == 1 => {
                let (k, a) = m.iter().next().unwrap();
                match k.as_str() {
                    "Ref" => json!(self.reference(a.as_str().unwrap())),
                    "Fn::GetAtt" => json!(self.attribute(a[0].as_str().unwrap(), a[1].as_str().unwrap())),
                    "Fn::Sub" => match a {
                        Value::String(s) => json!(self.sub(s, None)),
                        _ => json!(self.sub(a[0].as_str().unwrap(), Some(&a[1]))),
                    },
                    // The branch a deployment with every option set takes.
                    "Fn::If" => self.resolve(&a[1]),
                    "Fn::Join" => {
                        let parts: Vec<String> =
                            self.resolve(&a[1]).as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
                        json!(parts.join(a[0].as_str().unwrap()))
                    }
                    _ => Value::Object(m.iter().map(|(k, v)| (k.clone(), self.resolve(v))).collect()),
                }
            }
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), self.resolve(v))).collect()),
            Value::Array(list) => Value::Array(list.iter().map(|x| self.resolve(x)).collect()),
            other => other.clone(),
        }
    }
}

/// Every IAM policy of the templates, resolved: (where, document).
fn policies() -> Vec<(String, Value)> {
    let mut out = vec![];
    for name in TEMPLATES {
        let t = template(name);
        let r = Resolver { t: &t };
        for (id, res) in t["Resources"].as_object().unwrap() {
            let props = &res["Properties"];
            match res["Type"].as_str().unwrap() {
                "AWS::IAM::Role" => {
                    for p in props["Policies"].as_array().into_iter().flatten() {
                        out.push((format!("{name} {id} {}", p["PolicyName"]), r.resolve(&p["PolicyDocument"])));
                    }
                }
                "AWS::IAM::RolePolicy" | "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                    out.push((format!("{name} {id}"), r.resolve(&props["PolicyDocument"])));
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn parliament_finds_nothing_above_low_in_any_policy() {
    let all = policies();
    assert!(all.len() >= 5, "the templates' policies: {}", all.len());
    let mut findings = vec![];
    for (at, doc) in &all {
        let text = doc.to_string();
        let Some(out) = run("parliament", "DRS_PARLIAMENT", "DRS_REQUIRE_PARLIAMENT", &["--string", &text, "--json"]) else {
            return;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()) {
            let f: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("parliament's line {line:?}: {e}"));
            let explained = EXPLAINED.iter().any(|(issue, action, _)| {
                f["issue"] == *issue && f["detail"].as_array().is_some_and(|d| d.iter().all(|x| x["action"] == *action))
            });
            if !matches!(f["severity"].as_str(), Some("LOW" | "INFO")) && !explained {
                findings.push(format!("{at}: {} {} {}", f["severity"], f["issue"], f["detail"]));
            }
        }
    }
    assert!(findings.is_empty(), "parliament findings above LOW:\n{}", findings.join("\n"));
}
