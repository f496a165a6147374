//! The echo components: `wave-hooks` guests that return whatever memory layout they are given,
//! so that `bench fuzz` (target `hook-result`) can drive the host's lifting of a hook's
//! return with any bytes, pointers and lengths, which no guest written in a language could
//! return. The context's execution id carries a memory image in hex; before-wave and
//! after-wave decode it to [`BASE`] and return `BASE` as the pointer to their result (the
//! `decision` variant: its case at BASE, its payload's pointer and length at BASE + 4 and
//! BASE + 8, as the canonical ABI lays it out). Built for each string encoding the canonical
//! ABI has (UTF-8, UTF-16, Latin-1 + UTF-16), they are kept in hooks/hostile/echo-*.wasm; a
//! test checks that they are current (`DRS_WRITE_HOSTILE=1` rewrites them).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, host, server};
use drs_host::{Decision, HookError, HookHost};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType,
    Instruction, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wit_component::StringEncoding;
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::Resolve;

/// Where the image is decoded: 4 MiB in, above what the host's lowering of the context
/// allocates from 1 KiB up. The memory has 8 MiB from the start.
const BASE: u32 = 4 << 20;
const PAGES: u64 = 128;

/// The components and the files they are kept in.
const ENCODINGS: [(StringEncoding, &str); 3] =
    [(StringEncoding::UTF8, "echo-utf8"), (StringEncoding::UTF16, "echo-utf16"), (StringEncoding::CompactUTF16, "echo-latin1")];

fn component(encoding: StringEncoding) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(common::build::repo_root().join("host/wit")).unwrap();
    let world = resolve.select_world(&[package], Some("wave-hooks")).unwrap();
    let exports: Vec<(String, wit_parser::Function)> = resolve.worlds[world]
        .exports
        .values()
        .filter_map(|item| match item {
            wit_parser::WorldItem::Function(f) => Some((f.name.clone(), f.clone())),
            _ => None,
        })
        .collect();
    // The execution id is lowered as UTF-16 (2 bytes a unit) for a UTF-16 guest; as Latin-1
    // (1 byte) for the others, being hex.
    let stride = if encoding == StringEncoding::UTF16 { 2 } else { 1 };

    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut export = ExportSection::new();
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    functions.function(0);
    export.export("cabi_realloc", ExportKind::Func, 0);
    code.function(&realloc());
    for (index, (name, func)) in exports.iter().enumerate() {
        let index = index as u32 + 1;
        let sig = resolve.wasm_signature(AbiVariant::GuestExport, func);
        let core = |t: &WasmType| match t {
            WasmType::I64 | WasmType::PointerOrI64 => ValType::I64,
            WasmType::F32 => ValType::F32,
            WasmType::F64 => ValType::F64,
            _ => ValType::I32,
        };
        types.ty().function(sig.params.iter().map(core), sig.results.iter().map(core));
        functions.function(index);
        export.export(name, ExportKind::Func, index);
        let body = if name == "tag-keys" { empty_list() } else { echo(sig.params.len() as u32, stride) };
        code.function(&body);
    }
    let mut memory = MemorySection::new();
    memory.memory(MemoryType { minimum: PAGES, maximum: None, memory64: false, shared: false, page_size_log2: None });
    export.export("memory", ExportKind::Memory, 0);
    let mut globals = GlobalSection::new();
    globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(1024));
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memory).section(&globals).section(&export).section(&code);
    let mut bytes = module.finish();
    wit_component::embed_component_metadata(&mut bytes, &resolve, world, encoding).unwrap();
    wit_component::ComponentEncoder::default().validate(true).module(&bytes).unwrap().encode().unwrap()
}

/// cabi_realloc: a bump allocator from global 0, 8-byte aligned; nothing is freed.
fn realloc() -> Function {
    let mut f = Function::new([(1, ValType::I32)]);
    for i in [
        Instruction::GlobalGet(0),
        Instruction::I32Const(7),
        Instruction::I32Add,
        Instruction::I32Const(-8),
        Instruction::I32And,
        Instruction::LocalTee(4),
        Instruction::LocalGet(3),
        Instruction::I32Add,
        Instruction::GlobalSet(0),
        Instruction::LocalGet(4),
        Instruction::End,
    ] {
        f.instruction(&i);
    }
    f
}

/// tag-keys: an empty list (pointer and length zero, at address 16): every tag.
fn empty_list() -> Function {
    let mut f = Function::new([]);
    for i in [
        Instruction::I32Const(16),
        Instruction::I64Const(0),
        Instruction::I64Store(MemArg { offset: 0, align: 3, memory_index: 0 }),
        Instruction::I32Const(16),
        Instruction::End,
    ] {
        f.instruction(&i);
    }
    f
}

/// before-wave and after-wave: the hex of the execution id (params 0 and 1: its pointer and
/// length in units) decoded to BASE, two digits a byte (`(c & 15) + 9 * (c >> 6)` is a hex
/// digit's value, upper or lower case); returns BASE.
fn echo(params: u32, stride: i32) -> Function {
    let (i, c) = (params, params + 1);
    let mut f = Function::new([(2, ValType::I32)]);
    let byte = MemArg { offset: 0, align: 0, memory_index: 0 };
    let digit = |at: i32| {
        [
            Instruction::LocalGet(0),
            Instruction::LocalGet(i),
            Instruction::I32Const(at),
            Instruction::I32Add,
            Instruction::I32Const(stride),
            Instruction::I32Mul,
            Instruction::I32Add,
            Instruction::I32Load8U(byte),
            Instruction::LocalTee(c),
            Instruction::I32Const(15),
            Instruction::I32And,
            Instruction::LocalGet(c),
            Instruction::I32Const(6),
            Instruction::I32ShrU,
            Instruction::I32Const(9),
            Instruction::I32Mul,
            Instruction::I32Add,
        ]
    };
    let mut body = vec![
        Instruction::Block(BlockType::Empty),
        Instruction::Loop(BlockType::Empty),
        // Two digits left?
        Instruction::LocalGet(i),
        Instruction::I32Const(1),
        Instruction::I32Add,
        Instruction::LocalGet(1),
        Instruction::I32GeU,
        Instruction::BrIf(1),
        // The byte's address: BASE + i / 2.
        Instruction::LocalGet(i),
        Instruction::I32Const(1),
        Instruction::I32ShrU,
        Instruction::I32Const(BASE as i32),
        Instruction::I32Add,
    ];
    body.extend(digit(0));
    body.extend([Instruction::I32Const(4), Instruction::I32Shl]);
    body.extend(digit(1));
    body.extend([
        Instruction::I32Or,
        Instruction::I32Store8(byte),
        Instruction::LocalGet(i),
        Instruction::I32Const(2),
        Instruction::I32Add,
        Instruction::LocalSet(i),
        Instruction::Br(0),
        Instruction::End,
        Instruction::End,
        Instruction::I32Const(BASE as i32),
        Instruction::End,
    ]);
    body.iter().for_each(|x| {
        f.instruction(x);
    });
    f
}

/// A UTF-8 decision image: the case, then the payload (a u32, or a pointer and a length), then
/// `data` at BASE + 16.
fn image(case: u8, payload: &[u32], data: &[u8]) -> String {
    let mut bytes = vec![case, 0, 0, 0];
    for p in payload {
        bytes.extend_from_slice(&p.to_le_bytes());
    }
    bytes.resize(16, 0);
    bytes.extend_from_slice(data);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn load(test: &str, encoding: StringEncoding) -> (HookHost, drs_host::Hook) {
    let (host, _) = host(test);
    let bytes = component(encoding);
    let hook = host.load(&bytes, &drs_host::sha256_hex(&bytes)).unwrap();
    (host, hook)
}

/// The echo guest returns what its image says, and the host lifts it as it lifts any guest's
/// return: a decision within bounds, or a refusal of the decision.
#[test]
fn the_echo_guest_returns_its_image_and_the_host_lifts_or_refuses_it() {
    let (host, hook) = load("echo", StringEncoding::UTF8);
    let servers = vec![server("s-1", &[]), server("s-2", &[])];
    let call = |hex: String| host.before_wave(&hook, &context(&hex, servers.clone())).map(|o| o.decision);
    assert_eq!(call(image(0, &[], &[])).unwrap(), Decision::Proceed);
    assert_eq!(call(image(2, &[30], &[])).unwrap(), Decision::Delay(30));
    assert_eq!(call(image(3, &[BASE + 16, 5], b"hello")).unwrap(), Decision::Pause("hello".into()));
    // skip ["s-2"]: one item, a pointer pair at BASE + 16 naming the text at BASE + 24.
    let mut items = (BASE + 24).to_le_bytes().to_vec();
    items.extend_from_slice(&3u32.to_le_bytes());
    items.extend_from_slice(b"s-2");
    assert_eq!(call(image(1, &[BASE + 16, 1], &items)).unwrap(), Decision::Skip(vec!["s-2".into()]));
    // Hostile: a case past the variant's, a string past the memory's end, invalid UTF-8, a
    // skip list longer than the host reads. Each is refused as an invalid decision.
    for (what, hex) in [
        ("case 9", image(9, &[], &[])),
        ("string out of bounds", image(4, &[u32::MAX - 2, 5], &[])),
        ("invalid UTF-8", image(4, &[BASE + 16, 2], &[0xc3, 0x28])),
        ("a skip of 10,001 ids", image(1, &[BASE + 16, 10_001], &[])),
    ] {
        let e = call(hex).unwrap_err();
        assert!(matches!(e, HookError::BadReturn(_)), "{what}: {e}");
    }
    assert_eq!(call(image(0, &[], &[])).unwrap(), Decision::Proceed, "the host stays usable");
}

/// A UTF-16 guest's strings are lifted as UTF-16, and a Latin-1 + UTF-16 guest's as either.
#[test]
fn the_other_encodings_echo_too() {
    let servers = vec![server("s-1", &[])];
    let (host, hook) = load("echo-utf16", StringEncoding::UTF16);
    let text: Vec<u8> = "hé".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let hex = image(4, &[BASE + 16, 2], &text);
    assert_eq!(host.before_wave(&hook, &context(&hex, servers.clone())).unwrap().decision, Decision::Abort("hé".into()));
    let (host, hook) = load("echo-latin1", StringEncoding::CompactUTF16);
    let hex = image(4, &[BASE + 16, 2], &[b'h', 0xe9]);
    assert_eq!(host.before_wave(&hook, &context(&hex, servers)).unwrap().decision, Decision::Abort("hé".into()));
}

/// hooks/hostile/echo-*.wasm, which `bench fuzz` drives, are this file's components.
/// DRS_WRITE_HOSTILE=1 rewrites them after a change here or to the WIT.
#[test]
fn the_fuzz_components_are_current() {
    for (encoding, name) in ENCODINGS {
        let path = common::build::repo_root().join(format!("hooks/hostile/{name}.wasm"));
        let built = component(encoding);
        if std::env::var("DRS_WRITE_HOSTILE").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &built).unwrap();
        }
        let kept = std::fs::read(&path).unwrap_or_default();
        assert!(kept == built, "{} is stale: run this test with DRS_WRITE_HOSTILE=1", path.display());
    }
}
