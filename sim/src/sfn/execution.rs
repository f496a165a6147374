//! A Step Functions execution as the simulator keeps it, and how it is shown: the
//! DescribeExecution shape and the control endpoint's view.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Execution {
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// `stateMachineVersionArn` or `stateMachineAliasArn` when started through a qualified ARN.
    pub qualified: Option<(&'static str, String)>,
    pub name: String,
    pub account: String,
    pub region: String,
    /// The input as StartExecution sent it (`{}` when it sent none).
    pub input: String,
    /// RUNNING, SUCCEEDED, FAILED or ABORTED.
    pub status: &'static str,
    pub start: DateTime<Utc>,
    pub stop: Option<DateTime<Utc>>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The task token of the execution's waitForTaskToken state.
    pub token: String,
}

/// awsJson1_0 timestamps are epoch seconds, as a number (fractional: milliseconds).
pub fn epoch(t: DateTime<Utc>) -> Value {
    json!(t.timestamp_millis() as f64 / 1000.0)
}

impl Execution {
    pub fn input_json(&self) -> Value {
        serde_json::from_str(&self.input).unwrap_or_else(|_| self.input.clone().into())
    }

    /// The DescribeExecution shape; `data` false for `includedData: METADATA_ONLY`.
    pub fn describe(&self, data: bool) -> Value {
        let mut v = json!({
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": epoch(self.start),
            "inputDetails": {"included": data},
        });
        if let Some((field, arn)) = &self.qualified {
            v[*field] = arn.clone().into();
        }
        if let Some(t) = self.stop {
            v["stopDate"] = epoch(t);
        }
        if data {
            v["input"] = self.input.clone().into();
        }
        if let Some(o) = &self.output {
            v["outputDetails"] = json!({"included": data});
            if data {
                v["output"] = o.clone().into();
            }
        }
        if let Some(e) = &self.error {
            v["error"] = e.clone().into();
        }
        if let Some(c) = &self.cause {
            v["cause"] = c.clone().into();
        }
        v
    }

    /// What `/_sim/executions` shows: ISO dates, input and output as JSON, the full token.
    pub fn control_view(&self, task_status: Option<&'static str>) -> Value {
        let iso = crate::clock::iso;
        let mut v = json!({
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "accountId": self.account,
            "region": self.region,
            "status": self.status,
            "startDate": iso(self.start),
            "input": self.input_json(),
            "taskToken": self.token,
            "taskStatus": task_status.unwrap_or("UNKNOWN"),
        });
        if let Some(t) = self.stop {
            v["stopDate"] = iso(t).into();
        }
        if let Some(o) = &self.output {
            v["output"] = serde_json::from_str(o).unwrap_or_else(|_| o.clone().into());
        }
        if let Some(e) = &self.error {
            v["error"] = e.clone().into();
        }
        if let Some(c) = &self.cause {
            v["cause"] = c.clone().into();
        }
        v
    }
}
