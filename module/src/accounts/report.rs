//! The result of `accounts check`: one row per account x region, as a plain-text table or JSON.

use crate::config::Partition;
use serde::Serialize;

/// One cause, named exactly (`reason`), with what AWS answered (`message`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub reason: String,
    pub message: String,
    /// The failed call's kind, when a call failed: decisions read it, not the reason's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::aws::errors::Kind>,
}

impl Finding {
    /// A finding that is not a failed call's (trust, a probe skipped, the configuration).
    pub fn named(reason: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding { reason: reason.into(), message: message.into(), kind: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Unhealthy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The answer proves the permission (success, or a refusal that comes after authorization).
    Allowed,
    Failed,
    /// Nothing harmless to run it against in this partition.
    Skipped,
}

/// One probe: the IAM action it proves, the request sent, and what came back.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub action: &'static str,
    pub request: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionCheck {
    pub account: String,
    pub region: String,
    /// What GetCallerIdentity reported with the assumed credentials.
    pub caller_arn: Option<String>,
    pub status: Status,
    /// Each makes the partition unhealthy; one per distinct reason.
    pub reasons: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub probes: Vec<Probe>,
}

impl PartitionCheck {
    pub fn new(p: &Partition) -> Self {
        Self {
            account: p.account.clone(),
            region: p.region.clone(),
            caller_arn: None,
            status: Status::Ok,
            reasons: vec![],
            warnings: vec![],
            probes: vec![],
        }
    }

    /// Adds a reason unless one of that name is there already (an outage fails every probe).
    pub fn fail(&mut self, f: Finding) {
        if !self.reasons.iter().any(|r| r.reason == f.reason) {
            self.reasons.push(f);
        }
        self.status = Status::Unhealthy;
    }

    pub fn warn(&mut self, f: Finding) {
        if !self.warnings.iter().any(|r| r.reason == f.reason) {
            self.warnings.push(f);
        }
    }

    pub fn reason_names(&self) -> Vec<&str> {
        self.reasons.iter().map(|r| r.reason.as_str()).collect()
    }

    pub fn warning_names(&self) -> Vec<&str> {
        self.warnings.iter().map(|r| r.reason.as_str()).collect()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountsReport {
    pub partitions: Vec<PartitionCheck>,
}

impl AccountsReport {
    pub fn healthy(&self) -> bool {
        self.partitions.iter().all(|p| p.status == Status::Ok)
    }

    pub fn get(&self, account: &str, region: &str) -> Option<&PartitionCheck> {
        self.partitions.iter().find(|p| p.account == account && p.region == region)
    }

    /// Aligned columns, then one line per reason or warning with what AWS answered.
    pub fn table(&self) -> String {
        let mut rows = vec![["ACCOUNT", "REGION", "CALLER", "STATUS", "REASONS"].map(String::from).to_vec()];
        for p in &self.partitions {
            let mut names: Vec<String> = p.reasons.iter().map(|r| r.reason.clone()).collect();
            names.extend(p.warnings.iter().map(|w| format!("warning: {}", w.reason)));
            rows.push(vec![
                p.account.clone(),
                p.region.clone(),
                p.caller_arn.clone().unwrap_or_else(|| "-".into()),
                match p.status {
                    Status::Ok => "ok".into(),
                    Status::Unhealthy => "unhealthy".into(),
                },
                if names.is_empty() { "-".into() } else { names.join(", ") },
            ]);
        }
        let widths: Vec<usize> =
            (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        for r in &rows {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        let unhealthy = self.partitions.iter().filter(|p| p.status == Status::Unhealthy).count();
        out.push_str(&format!("\n{unhealthy} of {} account x region unhealthy\n", self.partitions.len()));
        for p in &self.partitions {
            for (kind, f) in p.reasons.iter().map(|f| ("", f)).chain(p.warnings.iter().map(|f| ("warning: ", f))) {
                out.push_str(&format!("{}/{} {kind}{}\n    {}\n", p.account, p.region, f.reason, f.message));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_and_names_every_reason() {
        let p = |a: &str, r: &str| Partition { account: a.into(), region: r.into() };
        let mut ok = PartitionCheck::new(&p("200000000003", "us-east-1"));
        ok.caller_arn = Some("arn:aws:sts::200000000003:assumed-role/r/s".into());
        ok.warn(Finding::named("external-id-not-required", "m"));
        let mut bad = PartitionCheck::new(&p("200000000002", "us-west-2"));
        for a in ["drs:StartRecovery", "drs:StartRecovery", "ec2:CreateTags"] {
            bad.fail(Finding::named(format!("permission-missing: {a}"), "denied"));
        }
        let report = AccountsReport { partitions: vec![bad, ok] };
        assert!(!report.healthy());
        let t = report.table();
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("ACCOUNT       REGION     CALLER"), "{t}");
        assert_eq!(lines[0].find("STATUS"), lines[1].find("unhealthy"), "{t}");
        assert_eq!(lines[0].find("STATUS"), lines[2].find("ok "), "{t}");
        assert!(lines[1].ends_with("permission-missing: drs:StartRecovery, permission-missing: ec2:CreateTags"), "{t}");
        assert!(lines[2].ends_with("warning: external-id-not-required"), "{t}");
        assert!(t.contains("1 of 2 account x region unhealthy"), "{t}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["partitions"][0]["status"], "unhealthy");
        assert_eq!(json["partitions"][1]["callerArn"], "arn:aws:sts::200000000003:assumed-role/r/s");
    }
}
