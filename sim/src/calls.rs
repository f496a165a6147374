//! The call log: every request the simulator answered, for tests to assert on
//! (for example: no server was recovered twice).

use crate::faults::CrashPoint;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    pub seq: u64,
    pub real_time: String,
    pub sim_time: String,
    pub service: String,
    pub operation: String,
    pub account: String,
    pub region: String,
    /// The role the caller acted as (`arn:aws:iam::<acct>:role/<name>`), empty when unsigned.
    pub role: String,
    /// The IAM actions the call is authorized as, sorted, without repeats: `["<service>:<Operation>"]`
    /// for most calls, none for GetCallerIdentity, and for DynamoDB's TransactWriteItems the
    /// actions of its items (`dynamodb:PutItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem`,
    /// `dynamodb:ConditionCheckItem`). Empty for a call refused before its caller was known.
    pub actions: Vec<String>,
    /// Each policy statement that allowed an action of the call, or of what DRS did with the
    /// caller's permissions (`iam/dependent.rs`): `{"sid", "action"}`, sorted, without
    /// repeats; empty when the call was refused or needed no permission.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_by: Vec<crate::iam::Grant>,
    /// A summary of the request: its parameters with secrets (ExternalId, tokens) masked.
    pub request: Value,
    /// The status answered; for a lost reply, the one computed and never sent.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// An injected crash: `before` (refused, nothing applied) or `lost` (served with the
    /// status above, the reply never sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<CrashPoint>,
}

#[derive(Default)]
pub struct CallLog {
    records: Mutex<Vec<CallRecord>>,
}

impl CallLog {
    pub fn push(&self, mut record: CallRecord) {
        let mut r = self.records.lock();
        record.seq = r.len() as u64 + 1;
        r.push(record);
    }

    /// Records after `since` (a sequence number; 0 for all).
    pub fn since(&self, since: u64) -> Vec<CallRecord> {
        let r = self.records.lock();
        r.iter().skip(since as usize).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.records.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shows a secret as its first two characters and its length, never in full.
pub fn mask(secret: &str) -> String {
    let head: String = secret.chars().take(2).collect();
    format!("{head}…({} chars)", secret.chars().count())
}
