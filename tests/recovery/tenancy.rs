//! Tenants kept to their own, as the platform drives the module: a resource naming a tenant
//! outside the tenant's accounts, or reaching a mandatory tenant's accounts without its hooks,
//! is refused at instantiate and at activate, naming the field, before anything runs.

use crate::common::{resource, rig_configured, shop_parameters};
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use serde_json::json;

#[tokio::test]
async fn resources_that_reach_past_their_tenant_or_leave_a_mandatory_one_out_are_refused() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| {
        let t = c.hooks.as_mut().unwrap().tenants.get_mut("shop-team").unwrap();
        t.accounts = vec!["200000000001".into()];
        t.mandatory = true;
    })
    .await;
    let mut past = shop_parameters();
    past["Tenant"] = json!("shop-team");
    let mut hooks_off = shop_parameters();
    hooks_off["AccountId"] = json!("200000000001");
    hooks_off["Tenant"] = json!("shop-team");
    hooks_off["Hooks"] = json!([]);
    let mut unnamed = shop_parameters();
    unnamed["AccountId"] = json!("200000000001");
    let cases = [
        (past, "parameters.Tenant: tenant shop-team may reach accounts 200000000001"),
        (hooks_off, "parameters.Hooks: tenant shop-team's hooks are mandatory; the resource leaves out skip-tagged"),
        (unnamed, "parameters.Tenant: the resource reaches 200000000001/us-east-1"),
    ];
    for (params, why) in cases {
        let shop = resource("ShopStack", params);
        for phase in ["instantiate", "activate"] {
            let token = r.token().await;
            let e = handle_detailed(&r.clients, &event(&shop, phase, Some(&token))).await.expect_err(why);
            assert_eq!(e.code.as_str(), "InvalidParameters", "{phase}: {}", e.message);
            assert!(e.message.contains(why), "{phase}: {why} not in {}", e.message);
            assert_eq!(r.token_state(&token).await["status"], "FAILED", "the parent is told");
        }
    }
    assert!(r.start_recoveries().await.is_empty(), "nothing started");
    assert!(r.ledger_items().await.is_empty(), "no run opened");
}
