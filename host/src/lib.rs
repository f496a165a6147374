//! The WebAssembly hook host (WIT world, wasmtime embedding, sandbox limits).
