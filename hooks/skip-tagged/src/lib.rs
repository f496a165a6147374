//! Example hook: leave out of each wave the servers tagged `dr:skip` (any value but "false").

wit_bindgen::generate!({ path: "../../host/wit", world: "wave-hooks" });

use drs_orch::hooks::host_log::{log, Level};
use drs_orch::hooks::types::Server;

struct SkipTagged;

fn tagged(server: &Server) -> bool {
    server.tags.iter().any(|(k, v)| k == "dr:skip" && !v.eq_ignore_ascii_case("false"))
}

impl Guest for SkipTagged {
    /// Only `dr:skip` matters here: the host passes no other tag.
    fn tag_keys() -> Vec<String> {
        vec!["dr:skip".into()]
    }

    fn before_wave(context: WaveContext) -> Decision {
        let skip: Vec<String> = context.servers.iter().filter(|s| tagged(s)).map(|s| s.source_server_id.clone()).collect();
        if skip.is_empty() {
            return Decision::Proceed;
        }
        log(Level::Info, &format!("wave {}: skipping {} server(s) tagged dr:skip", context.wave_name, skip.len()));
        Decision::Skip(skip)
    }

    fn after_wave(_result: WaveResult) -> Decision {
        Decision::Proceed
    }
}

export!(SkipTagged);
