//! Tenants kept to their own. The module configuration gives each tenant the accounts (and
//! regions) its resources may reach, and may make its hooks mandatory there. A resource that
//! names a tenant outside that scope, that reaches a mandatory tenant's scope without naming
//! it, or that names it and leaves some of its hooks out, is refused before anything runs
//! (instantiate and activate), naming the field.

use crate::config::{ModuleConfig, Partition, Tenant};
use crate::resource::DrsResource;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TenancyError {
    #[error("parameters.Tenant: tenant {tenant} may reach {scope}; the resource reaches {outside}")]
    Outside { tenant: String, scope: String, outside: String },
    #[error("parameters.Tenant: the resource reaches {reached}, where tenant {tenant}'s hooks are mandatory: name it in parameters.Tenant")]
    MandatoryUnnamed { tenant: String, reached: String },
    #[error("parameters.Hooks: tenant {tenant}'s hooks are mandatory; the resource leaves out {left_out}")]
    MandatoryLeftOut { tenant: String, left_out: String },
    #[error("parameters.Tenant: the resource reaches the scopes of tenants {first} and {second}, whose hooks are both mandatory: split it into one resource per tenant")]
    TwoMandatory { first: String, second: String },
}

/// The partitions shown in a message at most.
const SHOWN: usize = 5;

pub fn check(cfg: &ModuleConfig, resource: &DrsResource) -> Result<(), TenancyError> {
    let tenants = cfg.hooks.as_ref().map(|h| &h.tenants);
    let reached: Vec<Partition> = crate::preflight::configured_partitions(cfg, &resource.selection);
    let named = resource.recovery.tenant.as_deref();
    // A mandatory tenant whose scope the resource reaches must be the one it names.
    let mandatory: Vec<(&String, &Tenant)> =
        tenants.into_iter().flatten().filter(|(_, t)| t.mandatory && reached.iter().any(|p| t.reaches(p))).collect();
    if let [(a, _), (b, _), ..] = mandatory.as_slice() {
        return Err(TenancyError::TwoMandatory { first: (*a).clone(), second: (*b).clone() });
    }
    if let Some((name, t)) = mandatory.first() {
        if named != Some(name.as_str()) {
            let inside: Vec<&Partition> = reached.iter().filter(|p| t.reaches(p)).collect();
            return Err(TenancyError::MandatoryUnnamed { tenant: (*name).clone(), reached: list(&inside) });
        }
    }
    let Some(name) = named else { return Ok(()) };
    // An unknown tenant is named by `hooks::names` with the tenants there are.
    let Some(t) = tenants.and_then(|ts| ts.get(name)) else { return Ok(()) };
    let outside: Vec<&Partition> = reached.iter().filter(|p| !t.reaches(p)).collect();
    if !outside.is_empty() {
        let regions = t.regions.as_ref().map(|r| format!(" in {}", r.join(", "))).unwrap_or_default();
        let scope = format!("accounts {}{regions}", t.accounts.join(", "));
        return Err(TenancyError::Outside { tenant: name.to_owned(), scope, outside: list(&outside) });
    }
    if t.mandatory {
        if let Some(chosen) = &resource.recovery.hooks {
            let left: Vec<&str> = t.components.keys().filter(|k| !chosen.contains(k)).map(String::as_str).collect();
            if !left.is_empty() {
                return Err(TenancyError::MandatoryLeftOut { tenant: name.to_owned(), left_out: left.join(", ") });
            }
        }
    }
    Ok(())
}

fn list(ps: &[&Partition]) -> String {
    let mut shown: Vec<String> = ps.iter().take(SHOWN).map(ToString::to_string).collect();
    if ps.len() > SHOWN {
        shown.push(format!("and {} more", ps.len() - SHOWN));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(mandatory: bool) -> ModuleConfig {
        let mut v: serde_json::Value = serde_json::from_str(crate::config::DEMO).unwrap();
        v["hooks"]["tenants"]["shop-team"]["accounts"] = json!(["200000000001"]);
        v["hooks"]["tenants"]["shop-team"]["mandatory"] = json!(mandatory);
        v["hooks"]["tenants"]["billing-team"] = json!({"accounts": ["200000000002"], "regions": ["us-west-2"],
            "components": {"audit": {"path": "hooks/dist/skip-tagged.wasm", "sha256": "0".repeat(64)}}});
        ModuleConfig::from_value(v).unwrap()
    }

    fn resource(p: serde_json::Value) -> DrsResource {
        DrsResource::new("Web", &p).unwrap()
    }

    #[test]
    fn a_tenant_is_kept_to_its_accounts_and_regions() {
        let cfg = config(false);
        let inside = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000001", "Tenant": "shop-team"}));
        assert_eq!(check(&cfg, &inside), Ok(()));
        let everywhere = resource(json!({"Tags": {"T": "x"}, "Tenant": "shop-team"}));
        let e = check(&cfg, &everywhere).unwrap_err();
        assert!(matches!(e, TenancyError::Outside { .. }), "{e}");
        assert!(e.to_string().starts_with("parameters.Tenant: tenant shop-team may reach accounts 200000000001;"), "{e}");
        assert!(e.to_string().contains("200000000002/us-west-2"), "{e}");
        let both_regions = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000002", "Tenant": "billing-team"}));
        let e = check(&cfg, &both_regions).unwrap_err().to_string();
        assert!(e.contains("accounts 200000000002 in us-west-2") && e.ends_with("reaches 200000000002/us-east-1"), "{e}");
        let one_region = resource(
            json!({"Tags": {"T": "x"}, "AccountId": "200000000002", "Regions": ["us-west-2"], "Tenant": "billing-team"}),
        );
        assert_eq!(check(&cfg, &one_region), Ok(()));
        let no_tenant = resource(json!({"Tags": {"T": "x"}}));
        assert_eq!(check(&cfg, &no_tenant), Ok(()), "no tenant is mandatory");
    }

    #[test]
    fn a_mandatory_tenant_cannot_be_left_out_by_name_or_by_hooks() {
        let cfg = config(true);
        let unnamed = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000001"}));
        let e = check(&cfg, &unnamed).unwrap_err();
        assert!(matches!(e, TenancyError::MandatoryUnnamed { .. }) && e.to_string().contains("200000000001/us-east-1"), "{e}");
        let other = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000001", "Tenant": "billing-team"}));
        assert!(matches!(check(&cfg, &other), Err(TenancyError::MandatoryUnnamed { .. })));
        let none = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000001", "Tenant": "shop-team", "Hooks": []}));
        let e = check(&cfg, &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parameters.Hooks: tenant shop-team's hooks are mandatory; the resource leaves out skip-tagged"
        );
        let all = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000001", "Tenant": "shop-team"}));
        assert_eq!(check(&cfg, &all), Ok(()));
        let elsewhere = resource(json!({"Tags": {"T": "x"}, "AccountId": "200000000003"}));
        assert_eq!(check(&cfg, &elsewhere), Ok(()), "outside the mandatory tenant's scope");
    }

    #[test]
    fn a_tenant_scope_names_configured_accounts_only() {
        let mut v: serde_json::Value = serde_json::from_str(crate::config::DEMO).unwrap();
        v["hooks"]["tenants"]["shop-team"]["accounts"] = json!(["999999999999"]);
        let e = format!("{:#}", ModuleConfig::from_value(v).unwrap_err());
        assert!(e.contains("hooks.tenants.shop-team.accounts: 999999999999"), "{e}");
    }
}
