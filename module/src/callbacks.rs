//! Step Functions task-token callbacks: SendTaskHeartbeat while a phase runs,
//! SendTaskSuccess with a JSON summary at the end, SendTaskFailure with an error code and a
//! cause on any failure, so that the parent never waits forever. The token is the hub's:
//! the calls go through the hub's own identity and region.

use crate::secret::Secret;
use aws_config::SdkConfig;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::Value;

/// Step Functions' limits on SendTaskFailure and SendTaskSuccess.
const MAX_ERROR: usize = 256;
const MAX_CAUSE: usize = 32_768;
const MAX_OUTPUT: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The parent no longer waits (TaskTimedOut, TaskDoesNotExist, InvalidToken): stop.
    #[error("the parent task is gone: {0}")]
    ParentGone(String),
    #[error("the callback failed: {0}")]
    Failed(String),
}

pub struct Callbacks {
    sfn: aws_sdk_sfn::Client,
    token: Secret,
}

impl Callbacks {
    pub fn new(hub: &SdkConfig, token: Secret) -> Callbacks {
        Callbacks { sfn: aws_sdk_sfn::Client::new(hub), token }
    }

    pub async fn heartbeat(&self) -> Result<(), CallbackError> {
        self.sfn.send_task_heartbeat().task_token(self.token.expose()).send().await.map(|_| ()).map_err(classify)
    }

    /// Sends `output`; one larger than Step Functions takes is replaced by a note saying so
    /// with its size, rather than failing the parent.
    pub async fn success(&self, output: &Value) -> Result<(), CallbackError> {
        let mut text = output.to_string();
        if text.len() > MAX_OUTPUT {
            text = serde_json::json!({"truncated": true, "bytes": text.len(),
                "note": "the summary was larger than Step Functions' 256 KiB; see the run report"})
            .to_string();
        }
        self.sfn.send_task_success().task_token(self.token.expose()).output(text).send().await.map(|_| ()).map_err(classify)
    }

    pub async fn failure(&self, error: &str, cause: &str) -> Result<(), CallbackError> {
        self.sfn
            .send_task_failure()
            .task_token(self.token.expose())
            .error(cut(error, MAX_ERROR))
            .cause(cut(cause, MAX_CAUSE))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

/// At most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug + 'static>(
    e: aws_sdk_sfn::error::SdkError<E, R>,
) -> CallbackError {
    let code = e.code().unwrap_or_default().to_owned();
    let text = format!("{code}: {}", e.message().unwrap_or_default());
    match code.as_str() {
        "TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken" => CallbackError::ParentGone(text),
        _ => CallbackError::Failed(crate::aws::errors::display_chain(&e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cut_keeps_character_boundaries() {
        assert_eq!(super::cut("ééé", 3), "é");
        assert_eq!(super::cut("abc", 10), "abc");
    }
}
