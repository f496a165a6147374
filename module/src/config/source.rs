//! Where the Lambda reads its module configuration: inline JSON (`DRS_ORCH_CONFIG`), a file
//! (`DRS_ORCH_CONFIG_FILE`), or, to keep ExternalIds out of the function's environment, an
//! SSM parameter (a SecureString, read with decryption) or a Secrets Manager secret named
//! by `DRS_ORCH_CONFIG_SOURCE`: `ssm:<name>`, an SSM parameter ARN, `secretsmanager:<name or
//! ARN>` or a Secrets Manager ARN. Exactly one of the three variables is set.

use super::ModuleConfig;
use crate::secret::Secret;
use aws_config::SdkConfig;
use aws_sdk_ssm::error::ProvideErrorMetadata;
use std::path::PathBuf;

pub const INLINE_VAR: &str = "DRS_ORCH_CONFIG";
pub const FILE_VAR: &str = "DRS_ORCH_CONFIG_FILE";
pub const SOURCE_VAR: &str = "DRS_ORCH_CONFIG_SOURCE";

/// One place the configuration comes from. The inline text is a `Secret`: it may hold
/// ExternalIds, and a `Debug` of the source must not print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Inline(Secret),
    File(PathBuf),
    /// A parameter name or ARN.
    Parameter(String),
    /// A secret name or ARN.
    Secret(String),
}

/// Why the configuration could not be read. No variant carries the configuration's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// None of the variables is set.
    #[error("set {INLINE_VAR} (JSON), {FILE_VAR} (a path) or {SOURCE_VAR} (ssm:<parameter> or a Secrets Manager ARN) to the module configuration")]
    Unset,
    /// More than one is set: which one wins would be a guess.
    #[error("set only one of {INLINE_VAR}, {FILE_VAR} and {SOURCE_VAR} (found {0})")]
    Ambiguous(String),
    /// `DRS_ORCH_CONFIG_SOURCE` names no source this module reads.
    #[error("{SOURCE_VAR}: '{0}' is neither ssm:<parameter name>, an SSM parameter ARN, secretsmanager:<name or ARN> nor a Secrets Manager ARN")]
    UnknownSource(String),
    /// The service refused or failed the read (its error code, never the value).
    #[error("{SOURCE_VAR}: reading {what} {id}: {code}: {message}")]
    Read { what: &'static str, id: String, code: String, message: String },
    /// The parameter or secret holds no text (a binary secret, say).
    #[error("{SOURCE_VAR}: {what} {id} has no text value")]
    Empty { what: &'static str, id: String },
    /// An SSM parameter of another type than SecureString: the configuration holds
    /// ExternalIds and the payload key, which a String parameter keeps unencrypted.
    #[error("{SOURCE_VAR}: SSM parameter {id} is a {kind}; the module configuration must be a SecureString")]
    NotSecure { id: String, kind: String },
    /// The file cannot be read.
    #[error("{FILE_VAR}: reading {path}: {source}")]
    File { path: String, source: std::io::Error },
    /// The text was read but is not a valid configuration (the error names the field).
    #[error("the module configuration from {from}: {reason}")]
    Invalid { from: String, reason: String },
}

impl ConfigSource {
    /// The source the variables name (`var` reads one: `std::env::var` in the Lambda).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<ConfigSource, SourceError> {
        let set: Vec<(&str, String)> =
            [INLINE_VAR, FILE_VAR, SOURCE_VAR].into_iter().filter_map(|k| var(k).map(|v| (k, v))).collect();
        match set.as_slice() {
            [] => Err(SourceError::Unset),
            [(k, v)] if *k == INLINE_VAR => Ok(ConfigSource::Inline(Secret::new(v.clone()))),
            [(k, v)] if *k == FILE_VAR => Ok(ConfigSource::File(PathBuf::from(v))),
            [(_, v)] => Self::parse_reference(v),
            many => Err(SourceError::Ambiguous(many.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "))),
        }
    }

    pub fn from_env() -> Result<ConfigSource, SourceError> {
        Self::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// `ssm:<name>`, `arn:<partition>:ssm:...:parameter/...`, `secretsmanager:<id>` or
    /// `arn:<partition>:secretsmanager:...:secret:...`.
    pub fn parse_reference(text: &str) -> Result<ConfigSource, SourceError> {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("ssm:").filter(|n| !n.is_empty()) {
            return Ok(ConfigSource::Parameter(name.to_owned()));
        }
        if let Some(id) = text.strip_prefix("secretsmanager:").filter(|n| !n.is_empty()) {
            return Ok(ConfigSource::Secret(id.to_owned()));
        }
        let service = text.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(1));
        match service {
            Some("ssm") if text.contains(":parameter/") => Ok(ConfigSource::Parameter(text.to_owned())),
            Some("secretsmanager") if text.contains(":secret:") => Ok(ConfigSource::Secret(text.to_owned())),
            _ => Err(SourceError::UnknownSource(text.to_owned())),
        }
    }

    /// Where it comes from, for messages (never the text itself).
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Inline(_) => INLINE_VAR.to_owned(),
            ConfigSource::File(p) => p.display().to_string(),
            ConfigSource::Parameter(n) => format!("SSM parameter {n}"),
            ConfigSource::Secret(id) => format!("secret {id}"),
        }
    }

    /// Reads and validates the configuration; `hub` is the SDK configuration of the
    /// function's own identity (used for SSM and Secrets Manager only).
    pub async fn load(&self, hub: &SdkConfig) -> Result<ModuleConfig, SourceError> {
        let text = match self {
            ConfigSource::Inline(s) => s.clone(),
            ConfigSource::File(p) => std::fs::read_to_string(p)
                .map(Secret::new)
                .map_err(|source| SourceError::File { path: p.display().to_string(), source })?,
            ConfigSource::Parameter(name) => read_parameter(hub, name).await?,
            ConfigSource::Secret(id) => read_secret(hub, id).await?,
        };
        ModuleConfig::parse(text.expose()).map_err(|e| SourceError::Invalid { from: self.describe(), reason: format!("{e:#}") })
    }
}

async fn read_parameter(hub: &SdkConfig, name: &str) -> Result<Secret, SourceError> {
    let what = "SSM parameter";
    let out = aws_sdk_ssm::Client::new(hub)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| read_error(what, name, &e.into_service_error()))?;
    let parameter = out.parameter.ok_or_else(|| SourceError::Empty { what, id: name.to_owned() })?;
    match parameter.r#type {
        Some(aws_sdk_ssm::types::ParameterType::SecureString) => {}
        other => {
            let kind = other.map_or_else(|| "parameter of no stated type".to_owned(), |t| t.as_str().to_owned());
            return Err(SourceError::NotSecure { id: name.to_owned(), kind });
        }
    }
    let value = parameter.value.ok_or_else(|| SourceError::Empty { what, id: name.to_owned() })?;
    Ok(Secret::new(value))
}

async fn read_secret(hub: &SdkConfig, id: &str) -> Result<Secret, SourceError> {
    let what = "secret";
    let out = aws_sdk_secretsmanager::Client::new(hub)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| read_error(what, id, &e.into_service_error()))?;
    let value = out.secret_string.ok_or_else(|| SourceError::Empty { what, id: id.to_owned() })?;
    Ok(Secret::new(value))
}

fn read_error(what: &'static str, id: &str, e: &(impl ProvideErrorMetadata + std::fmt::Display)) -> SourceError {
    SourceError::Read {
        what,
        id: id.to_owned(),
        code: e.code().unwrap_or("unknown").to_owned(),
        message: e.message().map_or_else(|| e.to_string(), str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(set: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| set.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_variables_name_one_source() {
        let ssm = ConfigSource::from_vars(vars(&[(SOURCE_VAR, "ssm:/drs-orch/config")])).unwrap();
        assert_eq!(ssm, ConfigSource::Parameter("/drs-orch/config".into()));
        let arn = "arn:aws:secretsmanager:us-east-1:100000000000:secret:drs-orch/config-AbCdEf";
        assert_eq!(ConfigSource::from_vars(vars(&[(SOURCE_VAR, arn)])).unwrap(), ConfigSource::Secret(arn.into()));
        let p = "arn:aws:ssm:us-east-1:100000000000:parameter/drs-orch/config";
        assert_eq!(ConfigSource::parse_reference(p).unwrap(), ConfigSource::Parameter(p.into()));
        assert_eq!(ConfigSource::parse_reference("secretsmanager:cfg").unwrap(), ConfigSource::Secret("cfg".into()));
        assert!(matches!(ConfigSource::from_vars(vars(&[])), Err(SourceError::Unset)));
        let both = ConfigSource::from_vars(vars(&[(INLINE_VAR, "{}"), (SOURCE_VAR, "ssm:/x")])).unwrap_err();
        assert!(matches!(both, SourceError::Ambiguous(_)), "{both}");
        for bad in ["s3://bucket/key", "ssm:", "arn:aws:s3:::bucket", "arn:aws:ssm:us-east-1:1:document/x"] {
            let e = ConfigSource::parse_reference(bad).unwrap_err();
            assert!(e.to_string().contains(SOURCE_VAR), "{e}");
        }
    }

    #[tokio::test]
    async fn an_inline_configuration_with_a_bad_secret_never_prints_it() {
        let text = r#"{"project": "p", "environment": "e", "hub": {"region": "us-east-1"}, "roleName": "r",
            "externalId": {"value": "Hidden Secret Value!"}, "regions": ["us-east-1"], "accounts": [{"accountId": "200000000001"}]}"#;
        let source = ConfigSource::from_vars(vars(&[(INLINE_VAR, text)])).unwrap();
        assert!(!format!("{source:?}").contains("Hidden Secret"));
        let hub = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let e = source.load(&hub).await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("/externalId/value"), "{shown}");
        assert!(!shown.contains("Hidden Secret"), "{shown}");
    }
}
