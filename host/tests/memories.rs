//! The memory budget covers all of an instance's memories and tables together. No Rust or
//! JavaScript guest has more than one memory or grows a table, so this builds components
//! that do: a core module with several memories and tables (wasm-encoder) made into a
//! `wave-hooks` component (wit-component) whose before-wave grows each extra memory by 40 MiB
//! (and writes all of it) and each table by the elements asked. Each memory is under the
//! 64 MiB cap; together they are not. The build for `bench hooks` is kept in
//! hooks/hostile/memories.wasm (a test checks that it is current).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, host, server};
use drs_host::{Decision, HookError, HookHost, HostConfig, MAX_MEMORIES, TABLE_ELEMENT_BYTES};
use std::time::Duration;
use wasm_encoder::{
    CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType, HeapType,
    Instruction, MemArg, MemorySection, MemoryType, Module, RefType, TableSection, TableType, TypeSection, ValType,
};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::Resolve;

const PAGE: u64 = 64 << 10;
/// The growth of each extra memory: 40 MiB.
const GROW_PAGES: u64 = 640;

/// A `wave-hooks` component with `memories` memories; before-wave grows and fills every one
/// but the first by 40 MiB, then proceeds.
fn component(memories: u32) -> Vec<u8> {
    component_with(memories, &[])
}

/// As [`component`], with a funcref table (of no elements at first) per item of `tables`,
/// which before-wave grows by that many elements.
fn component_with(memories: u32, tables: &[u32]) -> Vec<u8> {
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

    let mut types = TypeSection::new();
    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut export = ExportSection::new();
    // 0: cabi_realloc, a bump allocator over memory 0.
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    functions.function(0);
    export.export("cabi_realloc", ExportKind::Func, 0);
    let mut realloc = Function::new([(1, ValType::I32)]);
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
        realloc.instruction(&i);
    }
    code.function(&realloc);

    let store = |offset| MemArg { offset, align: 0, memory_index: 0 };
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
        let mut body = Function::new([]);
        if name == "before-wave" {
            for memory in 1..memories {
                for i in [
                    Instruction::I32Const(GROW_PAGES as i32),
                    Instruction::MemoryGrow(memory),
                    Instruction::Drop,
                    Instruction::I32Const(0),
                    Instruction::I32Const(1),
                    Instruction::I32Const((GROW_PAGES * PAGE) as i32),
                    Instruction::MemoryFill(memory),
                ] {
                    body.instruction(&i);
                }
            }
            for (table, elements) in tables.iter().enumerate() {
                for i in [
                    Instruction::RefNull(HeapType::FUNC),
                    Instruction::I32Const(*elements as i32),
                    Instruction::TableGrow(table as u32),
                    Instruction::Drop,
                ] {
                    body.instruction(&i);
                }
            }
        }
        // The result at address 16, all zeros: `proceed`, or an empty tag-keys list.
        for i in [
            Instruction::I32Const(16),
            Instruction::I64Const(0),
            Instruction::I64Store(MemArg { align: 3, ..store(0) }),
            Instruction::I32Const(16),
            Instruction::I32Const(0),
            Instruction::I32Store8(store(8)),
            Instruction::I32Const(16),
            Instruction::End,
        ] {
            body.instruction(&i);
        }
        code.function(&body);
    }

    let mut memory = MemorySection::new();
    for m in 0..memories {
        let minimum = if m == 0 { 16 } else { 0 };
        memory.memory(MemoryType { minimum, maximum: None, memory64: false, shared: false, page_size_log2: None });
    }
    export.export("memory", ExportKind::Memory, 0);
    let mut globals = GlobalSection::new();
    globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(1024));

    let mut module = Module::new();
    module.section(&types).section(&functions);
    if !tables.is_empty() {
        let mut table_section = TableSection::new();
        for _ in tables {
            table_section.table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: 0,
                maximum: None,
                shared: false,
            });
        }
        module.section(&table_section);
    }
    module.section(&memory).section(&globals).section(&export).section(&code);
    let mut bytes = module.finish();
    wit_component::embed_component_metadata(&mut bytes, &resolve, world, wit_component::StringEncoding::UTF8).unwrap();
    wit_component::ComponentEncoder::default().validate(true).module(&bytes).unwrap().encode().unwrap()
}

fn load(test: &str, memories: u32) -> (HookHost, Result<drs_host::Hook, HookError>) {
    let (host, _) = host(test);
    // A cap the writing of 120 MiB fits in: this tests memory, not time.
    let host = HookHost::new(HostConfig { call_timeout: Duration::from_secs(10), ..host.config().clone() }).unwrap();
    let bytes = component(memories);
    let hook = host.load(&bytes, &drs_host::sha256_hex(&bytes));
    (host, hook)
}

/// Three extra memories of 40 MiB each: each under the 64 MiB cap, 120 MiB together. The old
/// limiter (StoreLimits, per memory) let the call proceed with all of it.
#[test]
fn the_memory_cap_covers_all_memories_together() {
    let (host, hook) = load("memories", MAX_MEMORIES as u32);
    let hook = hook.unwrap();
    let servers = vec![server("s-1", &[])];
    let err = host.before_wave(&hook, &context("many-memories", servers.clone())).unwrap_err();
    assert!(matches!(err, HookError::MemoryLimit { limit_bytes } if limit_bytes == 64 << 20), "{err}");
    // The same component proceeds when the cap holds all of it.
    let roomy = HookHost::new(HostConfig { memory_bytes: 256 << 20, ..host.config().clone() }).unwrap();
    let bytes = component(MAX_MEMORIES as u32);
    let hook = roomy.load(&bytes, &drs_host::sha256_hex(&bytes)).unwrap();
    assert_eq!(roomy.before_wave(&hook, &context("many-memories", servers)).unwrap().decision, Decision::Proceed);
}

/// Tables draw on the same budget: with 2 MiB for the call and its 1 MiB memory, one table
/// grown by 100,000 elements (800 KB of slots) fits and two do not, though each is within the
/// per-table cap. Tables used to sit outside the budget: up to 64 of them, 51 MB.
#[test]
fn tables_count_in_the_memory_budget() {
    const BUDGET: usize = 2 << 20;
    let (host, _) = host("tables");
    let host = HookHost::new(HostConfig { memory_bytes: BUDGET, call_timeout: Duration::from_secs(10), ..host.config().clone() })
        .unwrap();
    let servers = vec![server("s-1", &[])];
    let call = |tables: &[u32]| {
        let bytes = component_with(1, tables);
        let hook = host.load(&bytes, &drs_host::sha256_hex(&bytes)).unwrap();
        host.before_wave(&hook, &context("tables", servers.clone())).map(|o| o.decision)
    };
    const { assert!(100_000 * TABLE_ELEMENT_BYTES < BUDGET - (1 << 20), "one table fits beside the memory") };
    assert_eq!(call(&[100_000]).unwrap(), Decision::Proceed);
    let err = call(&[100_000, 100_000]).unwrap_err();
    assert!(matches!(err, HookError::MemoryLimit { limit_bytes: BUDGET }), "{err}");
}

/// One memory more than allowed: refused when the hook is first instantiated (at load, for
/// tag-keys). The old limit was 16.
#[test]
fn more_memories_than_allowed_are_refused() {
    let (_, hook) = load("too-many-memories", MAX_MEMORIES as u32 + 1);
    let err = hook.err().expect("a component with too many memories was loaded");
    assert!(err.to_string().contains("memor"), "{err}");
}

/// hooks/hostile/memories.wasm, which `bench hooks` measures, is this file's component.
/// DRS_WRITE_HOSTILE=1 rewrites it after a change here or to the WIT.
#[test]
fn the_bench_component_is_current() {
    let path = common::build::repo_root().join("hooks/hostile/memories.wasm");
    let built = component(MAX_MEMORIES as u32);
    if std::env::var("DRS_WRITE_HOSTILE").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &built).unwrap();
    }
    let kept = std::fs::read(&path).unwrap_or_default();
    assert!(kept == built, "{} is stale: run this test with DRS_WRITE_HOSTILE=1", path.display());
}
