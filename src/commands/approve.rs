//! `drs-orch approve TOKEN`: answers a paused wave's approval. The wave's gate is an
//! execution of the hub's approval state machine whose task waits for this token (it reaches
//! approvers in the approval notification); SendTaskSuccess approves, `--reject` sends
//! SendTaskFailure and the waiting execution fails with `ApprovalRejected`. Against AWS this
//! is the same call as `aws stepfunctions send-task-success --task-token TOKEN --task-output '{}'`.

use aws_config::SdkConfig;
use drs_sim::client::Control;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The approval's task token.
    token: String,
    /// Reject the wave instead, with this reason.
    #[arg(long)]
    reject: Option<String>,
    /// A running local simulator (`drs-orch sim`, or the endpoint a drill prints) instead of AWS.
    #[arg(long)]
    endpoint: Option<String>,
    /// The hub region (AWS).
    #[arg(long, default_value = "us-east-1")]
    region: String,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let hub = match &args.endpoint {
        Some(url) => {
            let h = drs_module::aws::static_hub(&args.region, drs_sim::generate::HUB_ACCESS_KEY, drs_sim::generate::HUB_SECRET);
            h.to_builder().endpoint_url(url).build()
        }
        None => {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(args.region.clone()))
                .load()
                .await
        }
    };
    send(&hub, &args.token, args.reject.as_deref()).await?;
    let masked = drs_module::secret::Secret::new(args.token.clone()).masked();
    match args.reject {
        None => println!("approved ({masked})"),
        Some(r) => println!("rejected ({masked}): {r}"),
    }
    Ok(())
}

/// SendTaskSuccess (approve) or SendTaskFailure (reject) on the gate's token.
pub async fn send(hub: &SdkConfig, token: &str, reject: Option<&str>) -> anyhow::Result<()> {
    let sfn = aws_sdk_sfn::Client::new(hub);
    let who = std::env::var("USER").unwrap_or_else(|_| "drs-orch".into());
    let chain = |e: &(dyn std::error::Error + 'static)| anyhow::anyhow!("{}", drs_module::aws::errors::display_chain(e));
    match reject {
        None => sfn
            .send_task_success()
            .task_token(token)
            .output(json!({"approved": true, "by": who}).to_string())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| chain(&e)),
        Some(reason) => sfn
            .send_task_failure()
            .task_token(token)
            .error("Rejected")
            .cause(format!("{reason} (by {who})"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| chain(&e)),
    }
}

/// The task token an approval execution waits on, from a local simulator's control view.
pub async fn sim_token(control: &Control, execution_arn: &str) -> anyhow::Result<String> {
    let path = format!("executions/{}", percent_encoding::utf8_percent_encode(execution_arn, percent_encoding::NON_ALPHANUMERIC));
    let v = control.ok("GET", &path, None).await?;
    v["taskToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the simulator shows no task token for {execution_arn}"))
}
