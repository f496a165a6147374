//! The simulated cloud: partitions (one per account x region) holding DRS and EC2 state,
//! DynamoDB tables, the identities, roles, quotas, faults, clock, task tokens and call log.

use crate::calls::CallLog;
use crate::clock::SimClock;
use crate::drs::model::{DrsState, SourceServer};
use crate::dynamodb::key::KeySchema;
use crate::dynamodb::table::Table;
use crate::ec2::addresses::Ask;
use crate::ec2::model::{Ec2State, Instance, LaunchTemplate, LaunchTemplateVersion};
use crate::faults::Faults;
use crate::fleet::{Fleet, Quotas, Role};
use crate::iam::{AuthRequest, Denial, Grant};
use crate::identity::{Identities, Principal};
use crate::ids;
use crate::sfn::registry::TaskTokens;
use chrono::Utc;
use parking_lot::{Mutex, RwLock};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub struct Partition {
    pub account: String,
    pub region: String,
    /// False where DRS was never initialized (UninitializedAccountException).
    pub drs_initialized: bool,
    pub drs: DrsState,
    pub ec2: Ec2State,
}

pub type PartitionRef = Arc<Mutex<Partition>>;

pub struct World {
    pub hub: crate::fleet::Hub,
    pub roles: RwLock<Vec<Role>>,
    pub quotas: RwLock<Quotas>,
    pub clock: SimClock,
    pub identities: Identities,
    pub faults: Faults,
    pub calls: CallLog,
    pub tokens: TaskTokens,
    /// SSM parameters and Secrets Manager secrets (the hub's configuration sources).
    pub secrets: crate::secrets::store::SecretStore,
    /// DynamoDB tables of every account and region (global tables shared by their regions).
    pub tables: crate::dynamodb::tables::Tables,
    /// S3 buckets of every account (names are global), with their objects.
    pub buckets: crate::s3::store::Buckets,
    /// Each account's AWS Organizations id, for those in one (`aws:PrincipalOrgID`).
    pub organizations: HashMap<String, String>,
    partitions: RwLock<HashMap<(String, String), PartitionRef>>,
}

impl World {
    pub fn new(fleet: Fleet) -> World {
        let start = fleet.clock.start.unwrap_or_else(Utc::now);
        let world = World {
            hub: fleet.hub.clone(),
            roles: RwLock::new([with_hub_role(&fleet), crate::iam::staging::roles_of(&fleet)].concat()),
            quotas: RwLock::new(fleet.quotas.clone()),
            clock: SimClock::new(start, fleet.clock.speed),
            identities: Identities::default(),
            faults: Faults::new(fleet.faults.clone()),
            calls: CallLog::default(),
            tokens: TaskTokens::default(),
            secrets: Default::default(),
            tables: Default::default(),
            buckets: Default::default(),
            organizations: organizations(&fleet),
            partitions: RwLock::new(HashMap::new()),
        };
        world.identities.add_long_term(
            &fleet.hub.access_key_id,
            &fleet.hub.secret_access_key,
            // The hub is a role session (a Lambda's role, say): it reports an assumed-role ARN.
            Principal {
                account: fleet.hub.account_id.clone(),
                role_name: fleet.hub.role_name.clone(),
                session: Some(fleet.hub.role_name.clone()),
            },
        );
        for t in &fleet.task_tokens {
            world.tokens.register(t.clone(), None, None, world.clock.now());
        }
        for a in &fleet.accounts {
            for r in &a.regions {
                world.partition_or_new(&a.account_id, r, true);
            }
            for r in &a.uninitialized_regions {
                world.partition_or_new(&a.account_id, r, false);
            }
            world.add_network(a);
        }
        for s in &fleet.servers {
            let id = world.add_server(s, start);
            for target in &s.extended_into {
                // Fleet::from_value checked that the target is initialized in the region.
                crate::drs::staging::extend_at_start(&world, &s.account_id, &s.region, &id, target, start);
            }
        }
        for spec in &fleet.tables {
            let schema = KeySchema { partition: spec.partition_key.clone(), sort: spec.sort_key.clone() };
            let table = Table::new(&spec.name, &spec.account_in(&fleet.hub), schema, spec.regions_in(&fleet.hub), start);
            // Fleet::from_value refuses two tables of one name in a region, the one way this fails.
            world.tables.add(table).expect("the fleet's tables are distinct per region");
        }
        for b in &fleet.buckets {
            // Fleet::from_value refuses a bucket name twice, the one way this fails.
            world
                .buckets
                .add(&b.name, &b.account_in(&fleet.hub), &b.region_in(&fleet.hub), b.versioned)
                .expect("the fleet's buckets are distinct");
        }
        world
    }

    /// The partition of an account x region, created on first use (EC2 exists everywhere;
    /// DRS only where the fleet initialized it).
    pub fn partition(&self, account: &str, region: &str) -> PartitionRef {
        if let Some(p) = self.partitions.read().get(&(account.to_owned(), region.to_owned())) {
            return p.clone();
        }
        self.partition_or_new(account, region, false)
    }

    fn partition_or_new(&self, account: &str, region: &str, drs_initialized: bool) -> PartitionRef {
        let mut map = self.partitions.write();
        let p = map.entry((account.to_owned(), region.to_owned())).or_insert_with(|| {
            Arc::new(Mutex::new(Partition {
                account: account.to_owned(),
                region: region.to_owned(),
                drs_initialized,
                drs: DrsState::default(),
                ec2: Ec2State::with_default_vpc(account, region),
            }))
        });
        if drs_initialized {
            p.lock().drs_initialized = true;
        }
        p.clone()
    }

    pub fn role(&self, account: &str, name: &str) -> Option<Role> {
        self.roles.read().iter().find(|r| r.account_id == account && r.role_name == name).cloned()
    }

    /// Decides every request of a call by the caller's role's policy: the statements that
    /// allow them, or the first refused. A caller whose role is not modelled is refused
    /// whatever it asks (a call that needs no permission, GetCallerIdentity, passes).
    pub fn authorize(&self, principal: &Principal, requests: &[AuthRequest]) -> Result<Vec<Grant>, Denial> {
        let roles = self.roles.read();
        match roles.iter().find(|r| r.account_id == principal.account && r.role_name == principal.role_name) {
            Some(role) => crate::iam::authorize(&role.policy(), requests),
            None => match requests.first() {
                Some(r) => Err(Denial { request: r.clone(), denied_by: None, on_behalf_of: None }),
                None => Ok(vec![]),
            },
        }
    }

    /// Partitions sorted by account and region (for the control endpoint's views).
    pub fn partitions(&self) -> Vec<PartitionRef> {
        let map = self.partitions.read();
        let mut keys: Vec<_> = map.keys().cloned().collect();
        keys.sort();
        keys.iter().map(|k| map[k].clone()).collect()
    }

    /// An account's own subnets and security groups, beside each region's default VPC.
    fn add_network(&self, a: &crate::fleet::Account) {
        for n in &a.subnets {
            self.partition(&a.account_id, &n.region).lock().ec2.subnets.insert(n.subnet_id.clone(), n.subnet(&a.account_id));
        }
        for g in &a.security_groups {
            let group = g.group(&a.account_id);
            self.partition(&a.account_id, &g.region).lock().ec2.security_groups.insert(g.group_id.clone(), group);
        }
    }

    /// Adds a fleet server to its partition; returns its source server id.
    fn add_server(&self, s: &crate::fleet::Server, now: chrono::DateTime<Utc>) -> String {
        let id =
            s.source_server_id.clone().unwrap_or_else(|| ids::stable_source_server_id(&s.account_id, &s.region, &s.hostname));
        let ec2 = s.ec2.clone();
        let origin_account = ec2.as_ref().and_then(|e| e.account_id.clone()).unwrap_or_else(|| s.account_id.clone());
        let origin_region = ec2.as_ref().map(|e| e.region.clone()).unwrap_or_else(|| s.region.clone());
        let origin_az = ec2.as_ref().and_then(|e| e.availability_zone.clone()).unwrap_or_else(|| format!("{origin_region}a"));
        let instance_id = ec2.as_ref().map(|e| {
            e.instance_id
                .clone()
                .unwrap_or_else(|| ids::stable_instance_id(&format!("{origin_account}/{origin_region}/{}", s.hostname)))
        });
        let instance_type = ec2.as_ref().map(|e| e.instance_type.clone()).unwrap_or_else(|| "m5.large".into());
        let private_ip = ec2.as_ref().and_then(|e| e.private_ip.clone());
        if let (Some(e), Some(iid)) = (&ec2, &instance_id) {
            let mut tags = e.tags.clone();
            tags.entry("Name".into()).or_insert_with(|| s.hostname.clone());
            let part = self.partition(&origin_account, &origin_region);
            let mut p = part.lock();
            // A source instance whose address is in a subnet of its partition holds it.
            let subnet = private_ip.as_deref().and_then(|ip| p.ec2.subnet_holding(ip)).cloned();
            if let (Some(subnet), Some(ip)) = (&subnet, &private_ip) {
                let ask = Ask {
                    subnet_id: &subnet.id,
                    private_ip: Some(ip),
                    description: "Primary network interface".into(),
                    groups: vec![],
                    instance_id: Some(iid.clone()),
                };
                let id = format!("eni-{}", ids::stable_hex(&format!("{iid}/eth0"), 17));
                // A reserved or repeated address in a fleet file: the instance keeps it, unheld.
                let _ = p.ec2.create_interface(ask, id, now);
            }
            p.ec2.instances.insert(
                iid.clone(),
                Instance {
                    id: iid.clone(),
                    instance_type: instance_type.clone(),
                    state: e.state.clone(),
                    az: origin_az.clone(),
                    tags,
                    private_ip: private_ip.clone(),
                    launch_time: now,
                    image_id: "ami-0source000000000000".into(),
                    subnet_id: subnet.as_ref().map(|s| s.id.clone()),
                    vpc_id: subnet.map(|s| s.vpc_id),
                },
            );
        }
        let template_id = template_id_of(&id);
        let server = SourceServer {
            arn: format!("arn:aws:drs:{}:{}:source-server/{id}", s.region, s.account_id),
            id: id.clone(),
            hostname: s.hostname.clone(),
            fqdn: s.fqdn.clone(),
            tags: s.tags.clone(),
            origin_account,
            origin_region,
            origin_az,
            origin_instance_id: instance_id,
            instance_type: instance_type.clone(),
            private_ip,
            replication_state: s.replication.state.clone(),
            lag_seconds: s.replication.lag_seconds,
            launch_seconds: s.launch.seconds,
            launch_outcome: s.launch.outcome,
            failure_reason: s.launch.failure_reason.clone(),
            added: now,
            recovery_instance_id: None,
            last_launch: None,
            direction: "FAILOVER",
            reversed_arn: None,
            launch_config: default_launch_config(&id, &s.hostname, &template_id),
            replication_config: default_replication_config(&id, &s.hostname),
            sync_started: None,
            staging: None,
            replicating_since: now - chrono::Duration::minutes(s.replication.started_minutes_ago as i64),
        };
        let part = self.partition(&s.account_id, &s.region);
        let mut p = part.lock();
        p.ec2.launch_templates.insert(template_id.clone(), drs_launch_template(&id, &instance_type, now));
        p.drs.servers.insert(id.clone(), server);
        id
    }
}

/// The id of the EC2 launch template DRS keeps for a source server.
pub fn template_id_of(server_id: &str) -> String {
    format!("lt-{}", ids::stable_hex(server_id, 17))
}

/// The EC2 launch template DRS creates for a source server (tagged as DRS-managed).
pub fn drs_launch_template(server_id: &str, instance_type: &str, now: chrono::DateTime<Utc>) -> LaunchTemplate {
    let id = template_id_of(server_id);
    let data = BTreeMap::from([("InstanceType".to_string(), instance_type.to_owned())]);
    LaunchTemplate {
        id,
        name: format!("drs-{server_id}"),
        default_version: 1,
        versions: vec![LaunchTemplateVersion { number: 1, description: None, data, created: now }],
        client_tokens: HashMap::new(),
        created: now,
        tags: BTreeMap::from([("AWSElasticDisasterRecoveryManaged".into(), "drs.amazonaws.com".into())]),
    }
}

fn organizations(fleet: &Fleet) -> HashMap<String, String> {
    let hub = fleet.hub.organization_id.clone().map(|o| (fleet.hub.account_id.clone(), o));
    let accounts = fleet.accounts.iter().filter_map(|a| a.organization_id.clone().map(|o| (a.account_id.clone(), o)));
    hub.into_iter().chain(accounts).collect()
}

/// The fleet's roles, with the hub's own when the fleet does not model it: the hub's identity
/// is a role like any other, allowed every action unless the fleet gives it a policy.
fn with_hub_role(fleet: &Fleet) -> Vec<Role> {
    let mut roles = fleet.roles.clone();
    let hub = &fleet.hub;
    if !roles.iter().any(|r| r.account_id == hub.account_id && r.role_name == hub.role_name) {
        roles.push(Role {
            account_id: hub.account_id.clone(),
            role_name: hub.role_name.clone(),
            trusted_principals: vec![],
            external_id: None,
            allowed_actions: vec!["*".into()],
            denied_actions: vec![],
            statements: vec![],
            trust: vec![],
            max_session_seconds: 3600,
        });
    }
    roles
}

pub(crate) fn default_launch_config(id: &str, hostname: &str, template_id: &str) -> Map<String, Value> {
    json!({
        "sourceServerID": id,
        "name": hostname,
        "ec2LaunchTemplateID": template_id,
        "launchDisposition": "STARTED",
        "targetInstanceTypeRightSizingMethod": "BASIC",
        "copyPrivateIp": false,
        "copyTags": true,
        "licensing": {"osByol": false},
        "postLaunchEnabled": false,
        "recoveryMode": "FAST",
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

pub(crate) fn default_replication_config(id: &str, hostname: &str) -> Map<String, Value> {
    json!({
        "sourceServerID": id,
        "name": hostname,
        "stagingAreaSubnetId": "subnet-0a1b2c3d4e5f60718",
        "associateDefaultSecurityGroup": true,
        "replicationServersSecurityGroupsIDs": [],
        "replicationServerInstanceType": "t3.small",
        "useDedicatedReplicationServer": false,
        "defaultLargeStagingDiskType": "GP3",
        "replicatedDisks": [{"deviceName": "/dev/xvda", "isBootDisk": true, "stagingDiskType": "AUTO"}],
        "ebsEncryption": "DEFAULT",
        "bandwidthThrottling": 0,
        "dataPlaneRouting": "PRIVATE_IP",
        "createPublicIP": false,
        "stagingAreaTags": {},
        "pitPolicy": [
            {"ruleID": 1, "units": "MINUTE", "interval": 10, "retentionDuration": 60, "enabled": true},
            {"ruleID": 2, "units": "HOUR", "interval": 1, "retentionDuration": 24, "enabled": true},
            {"ruleID": 3, "units": "DAY", "interval": 1, "retentionDuration": 7, "enabled": true}
        ],
        "autoReplicateNewDisks": true,
        "internetProtocol": "IPV4",
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}
