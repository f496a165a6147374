//! Test-only hook: std::net on wasm32-wasip2 imports wasi:sockets, which the host must refuse at load.

wit_bindgen::generate!({ path: "../../../host/wit", world: "wave-hooks" });

struct Phone;

impl Guest for Phone {
    fn tag_keys() -> Vec<String> {
        Vec::new()
    }

    fn before_wave(_context: WaveContext) -> Decision {
        match std::net::TcpStream::connect("169.254.169.254:80") {
            Ok(_) => Decision::Abort("connected to the instance metadata service".into()),
            Err(e) => Decision::Abort(format!("connect failed: {e}")),
        }
    }

    fn after_wave(_result: WaveResult) -> Decision {
        Decision::Proceed
    }
}

export!(Phone);
