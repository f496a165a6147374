//! The DRS orchestration module: configuration, the cross-account client factory and
//! discovery (the platform lifecycle, protection groups and waves build on these).

pub mod accounts;
pub mod arc;
pub mod aws;
pub mod callbacks;
pub mod config;
pub mod discovery;
pub mod driver;
pub mod entries;
pub mod error;
pub mod event;
pub mod forecast;
pub mod hooks;
pub mod launch;
pub mod ledger;
pub mod lifecycle;
pub mod manifest;
pub mod metrics;
pub mod native;
pub mod objectives;
pub mod pitr;
pub mod plan;
pub mod preflight;
pub mod readiness;
pub mod recovery;
pub mod report;
pub mod resource;
pub mod schema;
pub mod secret;
pub mod selection;
pub mod tagsync;
pub mod text;
pub mod time;
