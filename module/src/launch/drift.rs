//! Drift: each field of the desired launch settings that the server's current ones differ from.

use super::current::Current;
use super::desired::Settings;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    /// The `LaunchSettings` field.
    pub field: &'static str,
    pub want: String,
    pub have: String,
    /// Why this value is wanted when the settings do not say it themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {} (want {}", self.field, self.have, self.want)?;
        if let Some(b) = &self.because {
            write!(f, ": {b}")?;
        }
        f.write_str(")")
    }
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "unset".into(), |v| v.to_string())
}

pub fn drift(want: &Settings, have: &Current) -> Vec<Drift> {
    let have = &have.settings;
    let mut out = vec![];
    let mut field = |name: &'static str, want: Option<String>, have: String| {
        if let Some(w) = want {
            if w != have {
                out.push(Drift { field: name, want: w, have, because: None });
            }
        }
    };
    field("CopyPrivateIp", want.copy_private_ip.map(|b| b.to_string()), show(&have.copy_private_ip));
    field("CopyTags", want.copy_tags.map(|b| b.to_string()), show(&have.copy_tags));
    field("LaunchDisposition", want.launch_disposition.clone(), show(&have.launch_disposition));
    field("RightSizing", want.right_sizing.clone(), show(&have.right_sizing));
    field("OsByol", want.os_byol.map(|b| b.to_string()), show(&have.os_byol));
    field("InstanceType", want.instance_type.clone(), show(&have.instance_type));
    field("SubnetId", want.subnet_id.clone(), show(&have.subnet_id));
    // Security groups compare as sets.
    let as_set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(",");
    let have_groups = have.security_group_ids.as_deref().map_or_else(|| "none".into(), as_set);
    field("SecurityGroupIds", want.security_group_ids.as_deref().map(as_set), have_groups);
    field("PrivateIpAddress", want.private_ip_address.clone(), show(&have.private_ip_address));
    // copyPrivateIp true would launch the server at its source's address over the static one.
    if let (Some(d), Some(ip)) = (out.iter_mut().find(|d| d.field == "CopyPrivateIp"), &want.private_ip_address) {
        d.because = Some(format!("PrivateIpAddress {ip} is static, and DRS would copy the source's address over it"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_fields_that_differ_drift() {
        let want = Settings {
            copy_tags: Some(true),
            launch_disposition: Some("STARTED".into()),
            security_group_ids: Some(vec!["sg-2".into(), "sg-1".into()]),
            ..Default::default()
        };
        let have = Current {
            settings: Settings {
                copy_tags: Some(true),
                launch_disposition: Some("STOPPED".into()),
                security_group_ids: Some(vec!["sg-1".into(), "sg-2".into()]),
                copy_private_ip: Some(false),
                ..Default::default()
            },
            ..Default::default()
        };
        let d = drift(&want, &have);
        assert_eq!(d, [Drift { field: "LaunchDisposition", want: "STARTED".into(), have: "STOPPED".into(), because: None }]);
        assert_eq!(d[0].to_string(), "LaunchDisposition is STOPPED (want STARTED)");
        let unset = drift(&Settings { os_byol: Some(true), ..Default::default() }, &Current::default());
        assert_eq!(unset[0].have, "unset");
        let fixed =
            Settings { copy_private_ip: Some(false), private_ip_address: Some("10.10.0.50".into()), ..Default::default() };
        let copying = Current { settings: Settings { copy_private_ip: Some(true), ..Default::default() }, ..Default::default() };
        let shown: Vec<String> = drift(&fixed, &copying).iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "CopyPrivateIp is true (want false: PrivateIpAddress 10.10.0.50 is static, and DRS would copy the source's address over it)",
                "PrivateIpAddress is unset (want 10.10.0.50)"
            ]
        );
    }
}
