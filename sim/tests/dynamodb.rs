//! DynamoDB through the official SDK: conditional writes and what a loser gets back, update
//! expressions on nested paths, numbers compared as numbers, Query pages across 1 MB, the
//! 400 KB item limit, TransactWriteItems all-or-nothing (and its client token), the
//! refusals of expressions and keys, a global table across an outage of one region, a
//! write whose reply was lost, a transaction authorized as the actions of its items (there is
//! no `dynamodb:TransactWriteItems`), and a transaction's limits (100 actions, 4 MB, one
//! action per item).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_config::retry::RetryConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, ConditionCheck, Delete, KeySchemaElement, KeyType, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, Select, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use common::*;
use drs_sim::generate::LEDGER_TABLE;
use drs_sim::Fleet;
use serde_json::{json, Value};
use std::collections::HashMap;

type Item = HashMap<String, Av>;

fn s(v: &str) -> Av {
    Av::S(v.to_owned())
}

fn n(v: &str) -> Av {
    Av::N(v.to_owned())
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn item(pk: &str, sk: &str, more: &[(&str, Av)]) -> Item {
    let mut i = key(pk, sk);
    i.extend(more.iter().map(|(k, v)| (k.to_string(), v.clone())));
    i
}

fn ddb(sim: &Sim, region: &str) -> Client {
    Client::new(&hub(sim, region))
}

/// A client whose calls are sent once, never retried.
fn ddb_once(sim: &Sim, region: &str) -> Client {
    Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&hub(sim, region)).retry_config(RetryConfig::disabled()).build())
}

/// The message of a service error.
fn message<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    match e {
        aws_sdk_dynamodb::error::SdkError::ServiceError(s) => s.err().message().unwrap_or_default().to_owned(),
        _ => String::new(),
    }
}

async fn get(db: &Client, table: &str, k: Item) -> Option<Item> {
    db.get_item().table_name(table).set_key(Some(k)).consistent_read(true).send().await.unwrap().item
}

async fn put(db: &Client, table: &str, i: Item) {
    db.put_item().table_name(table).set_item(Some(i)).send().await.unwrap();
}

#[tokio::test]
async fn a_conditional_put_that_loses_gets_the_winner_back() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let first = item("resource#1", "run#1", &[("writer", s("first")), ("attempt", n("1"))]);
    let opened = db
        .put_item()
        .table_name(LEDGER_TABLE)
        .set_item(Some(first.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .unwrap();
    assert_eq!(opened.attributes, None, "ReturnValues NONE answers no attributes");

    let second = item("resource#1", "run#1", &[("writer", s("second"))]);
    let lost = db
        .put_item()
        .table_name(LEDGER_TABLE)
        .set_item(Some(second.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&lost), "ConditionalCheckFailedException");
    assert_eq!(message(&lost), "The conditional request failed");
    let refused = lost.into_service_error();
    assert!(refused.is_conditional_check_failed_exception(), "{refused:?}");
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(ccf) = &refused else { panic!() };
    assert_eq!(ccf.item(), Some(&first), "the loser gets the winner's item back");

    let without = db
        .put_item()
        .table_name(LEDGER_TABLE)
        .set_item(Some(second))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(ccf) = &without else { panic!() };
    assert_eq!(ccf.item(), None, "no item unless ALL_OLD is asked for");
    assert_eq!(get(&db, LEDGER_TABLE, key("resource#1", "run#1")).await, Some(first.clone()), "the loser wrote nothing");

    // An unconditional put replaces, answering the old item when asked.
    let replaced = db
        .put_item()
        .table_name(LEDGER_TABLE)
        .set_item(Some(item("resource#1", "run#1", &[("writer", s("third"))])))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.attributes, Some(first));

    let calls = sim.control.calls().await.unwrap();
    let puts: Vec<(&str, u64, Option<&str>)> = calls
        .iter()
        .filter(|c| c["operation"] == "PutItem")
        .map(|c| (c["service"].as_str().unwrap(), c["status"].as_u64().unwrap(), c["error"].as_str()))
        .collect();
    assert_eq!(
        puts,
        [
            ("dynamodb", 200, None),
            ("dynamodb", 400, Some("ConditionalCheckFailedException")),
            ("dynamodb", 400, Some("ConditionalCheckFailedException")),
            ("dynamodb", 200, None)
        ]
    );
}

#[tokio::test]
async fn an_update_sets_nested_paths_adds_removes_and_appends() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let waves = Av::M(HashMap::from([("w1".to_owned(), Av::M(HashMap::from([("state".to_owned(), s("PENDING"))])))]));
    put(
        &db,
        LEDGER_TABLE,
        item(
            "r",
            "run#1",
            &[
                ("waves", waves),
                ("attempts", n("1")),
                ("gone", s("x")),
                ("log", Av::L(vec![s("a")])),
                ("tags", Av::Ss(vec!["a".into()])),
            ],
        ),
    )
    .await;

    let updated = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#1")))
        .update_expression(
            "SET waves.#w.#st = :done, waves.w2 = :fresh, #log = list_append(#log, :more), created = if_not_exists(created, :now), \
             kept = if_not_exists(attempts, :zero) ADD attempts :two, tags :t REMOVE gone",
        )
        .expression_attribute_names("#w", "w1")
        .expression_attribute_names("#st", "state")
        .expression_attribute_names("#log", "log")
        .expression_attribute_values(":done", s("DONE"))
        .expression_attribute_values(":fresh", Av::M(HashMap::new()))
        .expression_attribute_values(":more", Av::L(vec![s("b"), s("c")]))
        .expression_attribute_values(":now", s("2026-01-01T00:00:00Z"))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":two", n("2"))
        .expression_attribute_values(":t", Av::Ss(vec!["b".into()]))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let new = updated.attributes.unwrap();
    let Av::M(waves) = &new["waves"] else { panic!("waves is a map: {new:?}") };
    assert_eq!(waves["w1"], Av::M(HashMap::from([("state".to_owned(), s("DONE"))])));
    assert_eq!(waves["w2"], Av::M(HashMap::new()));
    assert_eq!(new["attempts"], n("3"));
    assert_eq!(new["kept"], n("1"), "if_not_exists reads the item before the update");
    assert_eq!(new["created"], s("2026-01-01T00:00:00Z"));
    assert_eq!(new["log"], Av::L(vec![s("a"), s("b"), s("c")]));
    let Av::Ss(mut tags) = new["tags"].clone() else { panic!("tags is a string set") };
    tags.sort();
    assert_eq!(tags, ["a", "b"]);
    assert!(!new.contains_key("gone"));

    // UPDATED_NEW answers only the paths the update touched, inside their maps.
    let touched = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#1")))
        .update_expression("SET waves.w1.#st = :s")
        .expression_attribute_names("#st", "state")
        .expression_attribute_values(":s", s("FAILED"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .unwrap();
    let inner = Av::M(HashMap::from([("state".to_owned(), s("FAILED"))]));
    assert_eq!(touched.attributes, Some(HashMap::from([("waves".to_owned(), Av::M(HashMap::from([("w1".to_owned(), inner)])))])));

    // A path whose parent map does not exist is refused, as DynamoDB refuses it.
    let e = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#1")))
        .update_expression("SET #w.#x = :v")
        .expression_attribute_names("#w", "nowhere")
        .expression_attribute_names("#x", "x")
        .expression_attribute_values(":v", s("v"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        "The document path provided in the update expression is invalid for update; document path: [nowhere, x]"
    );

    let e = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#1")))
        .update_expression("SET sk = :v")
        .expression_attribute_values(":v", s("moved"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"
    );

    let e = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#1")))
        .update_expression("SET nope = nothing + :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        "The provided expression refers to an attribute that does not exist in the item; document path: [nothing]"
    );

    // An update of an item not there creates it from its key.
    let created = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("r", "run#2")))
        .update_expression("ADD attempts :two")
        .expression_attribute_values(":two", n("2"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(created.attributes, Some(item("r", "run#2", &[("attempts", n("2"))])));
}

#[tokio::test]
async fn conditions_compare_numbers_as_numbers() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    put(&db, LEDGER_TABLE, item("n", "1", &[("num", n("10")), ("label", s("10")), ("price", n("01.50"))])).await;
    let update = |condition: &str, value: Av| {
        db.update_item()
            .table_name(LEDGER_TABLE)
            .set_key(Some(key("n", "1")))
            .update_expression("SET seen = :yes")
            .condition_expression(condition)
            .expression_attribute_values(":yes", Av::Bool(true))
            .expression_attribute_values(":v", value)
            .send()
    };
    update("num > :v", n("9")).await.expect("10 > 9 as numbers (as text, \"10\" < \"9\")");
    let e = update("num > :v", n("11")).await.unwrap_err();
    assert_eq!(code(&e), "ConditionalCheckFailedException");
    let e = update("label > :v", s("9")).await.unwrap_err();
    assert_eq!(code(&e), "ConditionalCheckFailedException", "strings compare by their bytes: \"10\" < \"9\"");
    update("price = :v", n("1.5")).await.expect("1.50 = 1.5");
    update("num BETWEEN :v AND :v", n("10.0")).await.expect("BETWEEN is inclusive");
    let got = get(&db, LEDGER_TABLE, key("n", "1")).await.unwrap();
    assert_eq!(got["price"], n("1.5"), "numbers come back in their normal form");
}

/// Seven items of 300 KB under one prefix (and others around them): pages of 1 MB hold three.
#[tokio::test]
async fn query_pages_across_one_megabyte_with_begins_with() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let body = "x".repeat(300 * 1024);
    for i in 0..7 {
        put(&db, LEDGER_TABLE, item("big", &format!("run#{i:02}"), &[("body", s(&body)), ("seq", n(&i.to_string()))])).await;
    }
    put(&db, LEDGER_TABLE, item("big", "other#1", &[("seq", n("100"))])).await;
    put(&db, LEDGER_TABLE, item("big", "run", &[("seq", n("101"))])).await;
    put(&db, LEDGER_TABLE, item("elsewhere", "run#00", &[("seq", n("102"))])).await;

    let query = || {
        db.query()
            .table_name(LEDGER_TABLE)
            .key_condition_expression("pk = :pk AND begins_with(sk, :run)")
            .expression_attribute_values(":pk", s("big"))
            .expression_attribute_values(":run", s("run#"))
            .consistent_read(true)
    };
    let pages: Vec<_> = query().into_paginator().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items().len()).collect();
    assert_eq!(sizes, [3, 3, 1], "1 MB holds three items of 300 KB");
    assert!(pages[0].last_evaluated_key().is_some() && pages[2].last_evaluated_key().is_none());
    assert_eq!(pages[0].last_evaluated_key(), Some(&key("big", "run#02")), "the last item read names where the next page starts");
    let seqs: Vec<Av> = pages.iter().flat_map(|p| p.items()).map(|i| i["seq"].clone()).collect();
    assert_eq!(seqs, (0..7).map(|i| n(&i.to_string())).collect::<Vec<_>>(), "sort key order, once each");

    // Backwards, two at a time, a filter reading past what it drops, a projection.
    let back = query()
        .scan_index_forward(false)
        .limit(2)
        .filter_expression("seq < :six")
        .expression_attribute_values(":six", n("6"))
        .projection_expression("sk, seq")
        .send()
        .await
        .unwrap();
    assert_eq!((back.count, back.scanned_count), (1, 2), "run#06 read and dropped, run#05 kept");
    assert_eq!(back.items(), [HashMap::from([("sk".to_owned(), s("run#05")), ("seq".to_owned(), n("5"))])]);
    assert_eq!(back.last_evaluated_key(), Some(&key("big", "run#05")));

    let counted = query().select(Select::Count).send().await.unwrap();
    assert_eq!((counted.count, counted.items.is_none()), (3, true), "COUNT answers no items (and pages at 1 MB too)");

    let between = db
        .query()
        .table_name(LEDGER_TABLE)
        .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
        .expression_attribute_values(":pk", s("big"))
        .expression_attribute_values(":a", s("other"))
        .expression_attribute_values(":b", s("run"))
        .send()
        .await
        .unwrap();
    let sks: Vec<&Av> = between.items().iter().map(|i| &i["sk"]).collect();
    assert_eq!(sks, [&s("other#1"), &s("run")]);
}

#[tokio::test]
async fn items_of_up_to_400_kb_are_stored() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    // pk "big" (2 + 3), sk "a" (2 + 1), the attribute's name "payload" (7): 15 bytes of overhead.
    let of_size = |bytes: usize| item("big", "a", &[("payload", s(&"p".repeat(bytes - 15)))]);
    let sizes = [(399 * 1024, true), (400 * 1024, true), (400 * 1024 + 1, false), (401 * 1024, false)];
    for (bytes, fits) in sizes {
        let put = db.put_item().table_name(LEDGER_TABLE).set_item(Some(of_size(bytes))).send().await;
        match (fits, put) {
            (true, Ok(_)) => {}
            (false, Err(e)) => {
                assert_eq!(code(&e), "ValidationException");
                assert_eq!(message(&e), "Item size has exceeded the maximum allowed size");
            }
            (fits, other) => panic!("an item of {bytes} bytes: expected fits={fits}, got {other:?}"),
        }
    }
    let e = db
        .update_item()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("big", "a")))
        .update_expression("SET more = :x")
        .expression_attribute_values(":x", s("x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Item size to update has exceeded the maximum allowed size");

    // The call log holds the big requests capped, not whole.
    let calls = sim.control.calls().await.unwrap();
    let put_log = calls.iter().find(|c| c["operation"] == "PutItem").unwrap();
    let logged = put_log["request"].as_str().expect("a request past the cap is kept as its first characters");
    assert!(logged.len() <= 16 * 1024 + 4, "{} bytes logged", logged.len());
}

#[tokio::test]
async fn transact_write_items_is_all_or_nothing() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    put(&db, LEDGER_TABLE, item("t", "a", &[("phase", s("OPEN"))])).await;
    put(&db, LEDGER_TABLE, item("t", "c", &[])).await;
    put(&db, LEDGER_TABLE, item("t", "d", &[])).await;

    let put_b = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(LEDGER_TABLE)
                .set_item(Some(item("t", "b", &[])))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .unwrap(),
        )
        .build();
    let close_a = |expected: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(LEDGER_TABLE)
                    .set_key(Some(key("t", "a")))
                    .update_expression("SET phase = :closed")
                    .condition_expression("phase = :expected")
                    .expression_attribute_values(":closed", s("CLOSED"))
                    .expression_attribute_values(":expected", s(expected))
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let delete_c = TransactWriteItem::builder()
        .delete(Delete::builder().table_name(LEDGER_TABLE).set_key(Some(key("t", "c"))).build().unwrap())
        .build();
    let check_d = TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(LEDGER_TABLE)
                .set_key(Some(key("t", "d")))
                .condition_expression("attribute_exists(pk)")
                .build()
                .unwrap(),
        )
        .build();

    let items = vec![put_b.clone(), close_a("CLOSED"), delete_c.clone(), check_d.clone()];
    let e = db.transact_write_items().set_transact_items(Some(items)).send().await.unwrap_err();
    assert_eq!(code(&e), "TransactionCanceledException");
    assert_eq!(
        message(&e),
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None, None]"
    );
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(canceled) =
        e.into_service_error()
    else {
        panic!("a typed TransactionCanceledException")
    };
    let reasons: Vec<(Option<&str>, Option<&str>)> =
        canceled.cancellation_reasons().iter().map(|r| (r.code(), r.message())).collect();
    assert_eq!(
        reasons,
        [
            (Some("None"), None),
            (Some("ConditionalCheckFailed"), Some("The conditional request failed")),
            (Some("None"), None),
            (Some("None"), None)
        ]
    );
    assert_eq!(canceled.cancellation_reasons()[1].item(), Some(&item("t", "a", &[("phase", s("OPEN"))])));
    assert_eq!(get(&db, LEDGER_TABLE, key("t", "b")).await, None, "nothing applied: b not put");
    assert!(get(&db, LEDGER_TABLE, key("t", "c")).await.is_some(), "nothing applied: c not deleted");

    let items = vec![put_b, close_a("OPEN"), delete_c, check_d];
    db.transact_write_items().set_transact_items(Some(items)).send().await.unwrap();
    assert!(get(&db, LEDGER_TABLE, key("t", "b")).await.is_some());
    assert_eq!(get(&db, LEDGER_TABLE, key("t", "a")).await.unwrap()["phase"], s("CLOSED"));
    assert_eq!(get(&db, LEDGER_TABLE, key("t", "c")).await, None);

    let twice = vec![close_a("CLOSED"), close_a("CLOSED")];
    let e = db.transact_write_items().set_transact_items(Some(twice)).send().await.unwrap_err();
    assert_eq!(message(&e), "Transaction request cannot include multiple operations on one item");
}

#[tokio::test]
async fn a_client_request_token_applies_a_transaction_once() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let bump = |by: &str| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(LEDGER_TABLE)
                    .set_key(Some(key("tok", "1")))
                    .update_expression("ADD hits :by")
                    .expression_attribute_values(":by", n(by))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    for _ in 0..2 {
        db.transact_write_items().transact_items(bump("1")).client_request_token("token-1").send().await.unwrap();
    }
    assert_eq!(
        get(&db, LEDGER_TABLE, key("tok", "1")).await.unwrap()["hits"],
        n("1"),
        "the same request under one token applies once"
    );
    let e = db.transact_write_items().transact_items(bump("5")).client_request_token("token-1").send().await.unwrap_err();
    assert_eq!(code(&e), "IdempotentParameterMismatchException");
    db.transact_write_items().transact_items(bump("5")).client_request_token("token-2").send().await.unwrap();
    assert_eq!(get(&db, LEDGER_TABLE, key("tok", "1")).await.unwrap()["hits"], n("6"));

    // Past the 10 minutes a token is remembered, the same request applies again.
    sim.control.advance(11.0 * 60.0).await.unwrap();
    db.transact_write_items().transact_items(bump("1")).client_request_token("token-1").send().await.unwrap();
    assert_eq!(get(&db, LEDGER_TABLE, key("tok", "1")).await.unwrap()["hits"], n("7"));
}

#[tokio::test]
async fn undefined_unused_and_reserved_names_are_refused() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let put = |condition: &str| {
        db.put_item().table_name(LEDGER_TABLE).set_item(Some(item("e", "1", &[]))).condition_expression(condition)
    };

    let e = put("attribute_not_exists(pk) AND writer = :x").send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(
        message(&e),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x"
    );
    let e = put("attribute_not_exists(pk)").expression_attribute_values(":unused", s("u")).send().await.unwrap_err();
    assert_eq!(message(&e), "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}");
    let e = put("attribute_not_exists(#p)")
        .expression_attribute_names("#p", "pk")
        .expression_attribute_names("#q", "q")
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Value provided in ExpressionAttributeNames unused in expressions: keys: {#q}");
    let e = put("attribute_not_exists(#nope)").send().await.unwrap_err();
    assert_eq!(
        message(&e),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"
    );
    let e = put("status = :v").expression_attribute_values(":v", s("x")).send().await.unwrap_err();
    assert_eq!(message(&e), "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status");
    let e = put("pk = = :v").expression_attribute_values(":v", s("x")).send().await.unwrap_err();
    assert_eq!(message(&e), "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= =\"");
    let e = db
        .query()
        .table_name(LEDGER_TABLE)
        .key_condition_expression("pk = :p OR sk = :s")
        .expression_attribute_values(":p", s("e"))
        .expression_attribute_values(":s", s("1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR");
    assert!(sim.control.ok("GET", &format!("tables/{LEDGER_TABLE}"), None).await.unwrap()["items"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn keys_and_tables_are_checked() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    let refusal = |key: Item| db.get_item().table_name(LEDGER_TABLE).set_key(Some(key)).send();
    let e = refusal(HashMap::from([("pk".to_owned(), s("a"))])).await.unwrap_err();
    assert_eq!(message(&e), "The provided key element does not match the schema");
    let e = refusal(HashMap::from([("pk".to_owned(), s("a")), ("sk".to_owned(), n("1"))])).await.unwrap_err();
    assert_eq!(message(&e), "The provided key element does not match the schema", "a key attribute of the wrong type");
    let e = refusal(key("", "1")).await.unwrap_err();
    assert_eq!(
        message(&e),
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
    );
    let e = db.put_item().table_name(LEDGER_TABLE).item("pk", s("a")).send().await.unwrap_err();
    assert_eq!(message(&e), "One or more parameter values were invalid: Missing the key sk in the item");
    let e = db.put_item().table_name(LEDGER_TABLE).item("pk", n("1")).item("sk", s("a")).send().await.unwrap_err();
    assert_eq!(message(&e), "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N");

    let e = db.get_item().table_name("no-such-table").set_key(Some(key("a", "b"))).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    assert!(e.into_service_error().is_resource_not_found_exception());
    let e = ddb(&sim, WEST).describe_table().table_name(LEDGER_TABLE).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException", "the ledger is a table of the hub's region only");

    // A table's life: created (CREATING, usable at once), described ACTIVE, refused twice, deleted.
    let create = || {
        db.create_table()
            .table_name("scratch")
            .attribute_definitions(
                AttributeDefinition::builder().attribute_name("id").attribute_type(ScalarAttributeType::N).build().unwrap(),
            )
            .key_schema(KeySchemaElement::builder().attribute_name("id").key_type(KeyType::Hash).build().unwrap())
            .billing_mode(BillingMode::PayPerRequest)
            .send()
    };
    let created = create().await.unwrap().table_description.unwrap();
    assert_eq!(created.table_status().map(|s| s.as_str()), Some("CREATING"));
    assert_eq!(created.table_arn(), Some("arn:aws:dynamodb:us-east-1:100000000000:table/scratch"));
    let e = create().await.unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    db.put_item().table_name("scratch").item("id", n("007")).send().await.unwrap();
    let got = db.get_item().table_name("scratch").key("id", n("7")).send().await.unwrap();
    assert_eq!(got.item, Some(HashMap::from([("id".to_owned(), n("7"))])), "numeric keys are numbers: 007 is 7");
    let described = db.describe_table().table_name("scratch").send().await.unwrap().table.unwrap();
    assert_eq!((described.table_status().map(|s| s.as_str()), described.item_count()), (Some("ACTIVE"), Some(1)));
    assert_eq!(described.global_table_version(), None);
    db.delete_table().table_name("scratch").send().await.unwrap();
    let e = db.describe_table().table_name("scratch").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

/// The demo fleet plus a global table in us-east-1 and us-west-2, as a fleet file declares it.
async fn with_global_table() -> Sim {
    let mut v: Value = serde_json::from_str(drs_sim::fleet::DEMO_FLEET).unwrap();
    v["clock"]["speed"] = 0.0.into();
    v["tables"].as_array_mut().unwrap().push(json!({
        "name": "global-runs", "regions": [EAST, WEST],
        "partitionKey": {"name": "pk", "type": "S"}, "sortKey": {"name": "sk", "type": "S"}
    }));
    start(Fleet::from_value(v).unwrap()).await
}

#[tokio::test]
async fn a_global_table_is_served_by_both_regions_and_survives_an_outage_of_one() {
    let sim = with_global_table().await;
    let (east, west) = (ddb_once(&sim, EAST), ddb_once(&sim, WEST));
    put(&east, "global-runs", item("g", "1", &[("from", s("east"))])).await;
    assert_eq!(get(&west, "global-runs", key("g", "1")).await.unwrap()["from"], s("east"), "replication is instant");

    let table = east.describe_table().table_name("global-runs").send().await.unwrap().table.unwrap();
    assert_eq!(table.global_table_version(), Some("2019.11.21"));
    let replicas: Vec<(Option<&str>, Option<&str>)> =
        table.replicas().iter().map(|r| (r.region_name(), r.replica_status().map(|s| s.as_str()))).collect();
    assert_eq!(replicas, [(Some(WEST), Some("ACTIVE"))], "the replica in the other region");
    assert_eq!(table.table_arn(), Some("arn:aws:dynamodb:us-east-1:100000000000:table/global-runs"));

    sim.control.ok("PUT", "faults", Some(&json!({"outages": [{"service": "dynamodb", "region": EAST}]}))).await.unwrap();
    let e = east.get_item().table_name("global-runs").set_key(Some(key("g", "1"))).send().await.unwrap_err();
    assert_eq!(status(&e), 503, "us-east-1's endpoint is out");
    assert_eq!(get(&west, "global-runs", key("g", "1")).await.unwrap()["from"], s("east"), "us-west-2 serves the same item");
    put(&west, "global-runs", item("g", "2", &[("from", s("west"))])).await;

    sim.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    assert_eq!(
        get(&east, "global-runs", key("g", "2")).await.unwrap()["from"],
        s("west"),
        "written during the outage, seen after it"
    );
    let view = sim.control.ok("GET", "tables/global-runs?region=us-west-2", None).await.unwrap();
    assert_eq!(view["regions"], json!([EAST, WEST]));
    assert_eq!(view["itemCount"], 2);
    assert_eq!(view["items"][1], json!({"pk": {"S": "g"}, "sk": {"S": "2"}, "from": {"S": "west"}}));
    let (status, _) = sim.control.call("GET", "tables/global-runs?region=eu-west-1", None).await.unwrap();
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_lost_put_is_retried_and_loses_to_itself() {
    let sim = demo().await;
    let db = ddb(&sim, EAST); // standard retries, 3 attempts
    sim.control
        .ok("PUT", "faults", Some(&json!({"crashes": [{"service": "dynamodb", "operation": "PutItem", "at": "lost"}]})))
        .await
        .unwrap();
    let mine = item("lost", "run#1", &[("writer", s("me"))]);
    let e = db
        .put_item()
        .table_name(LEDGER_TABLE)
        .set_item(Some(mine.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .unwrap_err();
    let aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(ccf) = e.into_service_error() else {
        panic!("the retry is refused by the first attempt's write")
    };
    assert_eq!(ccf.item(), Some(&mine), "and gets back its own item");
    assert_eq!(get(&db, LEDGER_TABLE, key("lost", "run#1")).await, Some(mine));
    let calls = sim.control.calls().await.unwrap();
    let puts: Vec<(u64, Option<&str>, Option<&str>)> = calls
        .iter()
        .filter(|c| c["operation"] == "PutItem")
        .map(|c| (c["status"].as_u64().unwrap(), c["fault"].as_str(), c["error"].as_str()))
        .collect();
    assert_eq!(puts, [(200, Some("lost"), None), (400, None, Some("ConditionalCheckFailedException"))]);
}

#[tokio::test]
async fn a_lost_transaction_is_retried_under_its_token_and_applies_once() {
    let sim = demo().await;
    let db = ddb(&sim, EAST);
    sim.control
        .ok(
            "PUT",
            "faults",
            Some(&json!({"crashes": [{"service": "dynamodb", "operation": "TransactWriteItems", "at": "lost"}]})),
        )
        .await
        .unwrap();
    let bump = Update::builder()
        .table_name(LEDGER_TABLE)
        .set_key(Some(key("lost", "tx")))
        .update_expression("ADD hits :one")
        .expression_attribute_values(":one", n("1"))
        .build()
        .unwrap();
    db.transact_write_items().transact_items(TransactWriteItem::builder().update(bump).build()).send().await.unwrap();
    assert_eq!(
        get(&db, LEDGER_TABLE, key("lost", "tx")).await.unwrap()["hits"],
        n("1"),
        "the SDK's token made the retry a no-op"
    );
    let calls: Vec<Value> =
        sim.control.calls().await.unwrap().into_iter().filter(|c| c["operation"] == "TransactWriteItems").collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["request"]["ClientRequestToken"], calls[1]["request"]["ClientRequestToken"]);
}

/// The demo fleet with the hub's role in it, allowed `allowed` and nothing else.
fn hub_allowed(allowed: &[&str]) -> Fleet {
    let mut fleet = Fleet::demo();
    fleet.clock.speed = 0.0;
    fleet.roles.push(drs_sim::fleet::Role {
        account_id: fleet.hub.account_id.clone(),
        role_name: fleet.hub.role_name.clone(),
        trusted_principals: vec![],
        external_id: None,
        allowed_actions: allowed.iter().map(|a| a.to_string()).collect(),
        denied_actions: vec![],
        statements: vec![],
        trust: vec![],
        max_session_seconds: 3600,
    });
    fleet
}

fn put_action(pk: &str, sk: &str, more: &[(&str, Av)]) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(Put::builder().table_name(LEDGER_TABLE).set_item(Some(item(pk, sk, more))).build().unwrap())
        .build()
}

#[tokio::test]
async fn a_transaction_is_authorized_as_the_actions_of_its_items() {
    let sim = start(hub_allowed(&["dynamodb:PutItem", "dynamodb:GetItem"])).await;
    let db = ddb_once(&sim, EAST);

    // Puts alone need dynamodb:PutItem alone: there is no dynamodb:TransactWriteItems to grant.
    let puts = vec![put_action("iam", "a", &[]), put_action("iam", "b", &[])];
    db.transact_write_items().set_transact_items(Some(puts)).send().await.unwrap();
    assert!(get(&db, LEDGER_TABLE, key("iam", "b")).await.is_some());

    // An Update among them needs dynamodb:UpdateItem, which the role does not allow.
    let update = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(LEDGER_TABLE)
                .set_key(Some(key("iam", "a")))
                .update_expression("SET phase = :p")
                .expression_attribute_values(":p", s("CLOSED"))
                .build()
                .unwrap(),
        )
        .build();
    let items = vec![put_action("iam", "c", &[]), update];
    let e = db.transact_write_items().set_transact_items(Some(items)).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDeniedException");
    assert_eq!(status(&e), 400, "DynamoDB answers a denial 400");
    assert_eq!(
        message(&e),
        "User: arn:aws:sts::100000000000:assumed-role/drs-orchestrator/drs-orchestrator is not authorized to perform: \
         dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:100000000000:table/drs-orch-runs \
         because no identity-based policy allows the dynamodb:UpdateItem action"
    );
    assert_eq!(get(&db, LEDGER_TABLE, key("iam", "c")).await, None, "the denied transaction put nothing");
    assert_eq!(get(&db, LEDGER_TABLE, key("iam", "a")).await.unwrap().get("phase"), None, "nor updated anything");

    // A ConditionCheck is dynamodb:ConditionCheckItem; the first action denied is named.
    let check = TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(LEDGER_TABLE)
                .set_key(Some(key("iam", "a")))
                .condition_expression("attribute_exists(pk)")
                .build()
                .unwrap(),
        )
        .build();
    let delete = TransactWriteItem::builder()
        .delete(Delete::builder().table_name(LEDGER_TABLE).set_key(Some(key("iam", "b"))).build().unwrap())
        .build();
    let e = db.transact_write_items().transact_items(check).transact_items(delete).send().await.unwrap_err();
    assert!(message(&e).contains("perform: dynamodb:ConditionCheckItem on resource"), "{}", message(&e));
    assert!(get(&db, LEDGER_TABLE, key("iam", "b")).await.is_some(), "b not deleted");

    // A single-item call is denied in the same words.
    let e = db.delete_item().table_name(LEDGER_TABLE).set_key(Some(key("iam", "a"))).send().await.unwrap_err();
    assert!(message(&e)
        .contains("perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:us-east-1:100000000000:table/drs-orch-runs "));

    // The call log keeps the operation and lists the actions each call was authorized as.
    let calls = sim.control.calls().await.unwrap();
    let logged: Vec<(&str, Vec<&str>, Option<&str>)> = calls
        .iter()
        .filter(|c| c["operation"] != "GetItem")
        .map(|c| {
            let actions = c["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
            (c["operation"].as_str().unwrap(), actions, c["error"].as_str())
        })
        .collect();
    assert_eq!(
        logged,
        [
            ("TransactWriteItems", vec!["dynamodb:PutItem"], None),
            ("TransactWriteItems", vec!["dynamodb:PutItem", "dynamodb:UpdateItem"], Some("AccessDeniedException")),
            ("TransactWriteItems", vec!["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"], Some("AccessDeniedException")),
            ("DeleteItem", vec!["dynamodb:DeleteItem"], Some("AccessDeniedException")),
        ]
    );
    let get_log = calls.iter().find(|c| c["operation"] == "GetItem").unwrap();
    assert_eq!(get_log["actions"], json!(["dynamodb:GetItem"]));
}

#[tokio::test]
async fn a_transaction_holds_at_most_100_actions_and_4_mb_on_distinct_items() {
    let sim = demo().await;
    let db = ddb_once(&sim, EAST);
    let puts = |n: usize, prefix: &str| (0..n).map(|i| put_action("limits", &format!("{prefix}{i:03}"), &[])).collect::<Vec<_>>();

    let e = db.transact_write_items().set_transact_items(Some(puts(101, "over#"))).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(message(&e).ends_with("Member must have length less than or equal to 100"), "{}", message(&e));
    assert_eq!(get(&db, LEDGER_TABLE, key("limits", "over#000")).await, None, "nothing applied");
    db.transact_write_items().set_transact_items(Some(puts(100, "ok#"))).send().await.unwrap();
    assert!(get(&db, LEDGER_TABLE, key("limits", "ok#099")).await.is_some());

    // 400,000-byte items: ten are 3.8 MB, eleven 4.2 MB (1 MB = 1,048,576 bytes).
    let big = |i: usize| put_action("limits", &format!("big#{i:02}"), &[("blob", s(&"x".repeat(400_000 - 20)))]);
    let e = db.transact_write_items().set_transact_items(Some((0..11).map(big).collect())).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert!(message(&e).starts_with("Transaction request size has exceeded the maximum allowed size of 4 MB"), "{}", message(&e));
    assert_eq!(get(&db, LEDGER_TABLE, key("limits", "big#00")).await, None, "nothing applied");
    db.transact_write_items().set_transact_items(Some((0..10).map(big).collect())).send().await.unwrap();
    assert!(get(&db, LEDGER_TABLE, key("limits", "big#09")).await.is_some());

    // A put and a delete of one item: refused before either is judged.
    let delete = TransactWriteItem::builder()
        .delete(Delete::builder().table_name(LEDGER_TABLE).set_key(Some(key("limits", "twice"))).build().unwrap())
        .build();
    let e = db
        .transact_write_items()
        .transact_items(put_action("limits", "twice", &[]))
        .transact_items(delete)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    assert_eq!(message(&e), "Transaction request cannot include multiple operations on one item");
    assert_eq!(get(&db, LEDGER_TABLE, key("limits", "twice")).await, None);
}
