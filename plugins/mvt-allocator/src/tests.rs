//! Native tests. The GrowthBook cases below are the published SDK test
//! cases (`cases.json`, spec 0.5.4, in GrowthBook's repository): the same
//! inputs must give the same answers here. The end-to-end suite also checks
//! thousands of generated cases against GrowthBook's Python SDK.

use cove_sdk::Ctx;
use cove_sdk::allocator::{
    Allocator, ArmStats, BanditSettings, Error, Experiment, Namespace, Reason,
};
use serde_json::{Value, json};

use crate::{MvtAllocator, bandit, condition, gb};

/// A bucket range: start, end.
type Range = (f64, f64);

fn exp(key: &str, variations: u32) -> Experiment {
    Experiment {
        key: key.into(),
        variations,
        weights: vec![],
        coverage: 1.0,
        seed: String::new(),
        hash_version: 1,
        hash_attribute: "id".into(),
        fallback_attribute: None,
        namespace: None,
        condition: None,
        force: None,
    }
}

fn place(e: Experiment, attributes: Value) -> (u32, bool, bool) {
    let a = MvtAllocator::allocate(e, attributes.to_string(), None, &Ctx::for_test(0)).unwrap();
    (a.variation, a.in_experiment, a.hash_used)
}

#[test]
fn hash_matches_published_cases() {
    let cases: &[(&str, &str, u32, Option<f64>)] = &[
        ("", "a", 1, Some(0.22)),
        ("", "b", 1, Some(0.077)),
        ("b", "a", 1, Some(0.946)),
        ("ef", "d", 1, Some(0.652)),
        ("asdf", "8952klfjas09ujk", 1, Some(0.549)),
        ("", "123", 1, Some(0.011)),
        ("", "___)((*\":&", 1, Some(0.563)),
        ("seed", "a", 2, Some(0.0505)),
        ("seed", "b", 2, Some(0.2696)),
        ("foo", "ab", 2, Some(0.2575)),
        ("foo", "def", 2, Some(0.2019)),
        ("89123klj", "8952klfjas09ujkasdf", 2, Some(0.124)),
        ("90850943850283058242805", "123", 2, Some(0.7516)),
        ("()**(%$##$%#$#", "___)((*\":&", 2, Some(0.0128)),
        ("abc", "def", 99, None),
    ];
    for (seed, value, version, want) in cases {
        let got = gb::hash(seed, value, *version);
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() < 1e-9,
                "{seed}/{value}/v{version}: {g} != {w}"
            ),
            (g, w) => assert_eq!(g, *w, "{seed}/{value}/v{version}"),
        }
    }
}

#[test]
fn utf16_code_units_are_hashed_like_javascript() {
    // "😀" is two UTF-16 code units; hashing its UTF-8 bytes would differ.
    let js_units = [0xd83d_u32, 0xde00];
    let want = js_units
        .iter()
        .fold(0x811c_9dc5_u32, |h, u| (h ^ u).wrapping_mul(0x0100_0193));
    assert_eq!(gb::fnv1a32("😀"), want);
}

#[test]
fn bucket_ranges_match_published_cases() {
    let cases: &[(usize, f64, &[f64], &[Range])] = &[
        (2, 1.0, &[], &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 0.5, &[], &[(0.0, 0.25), (0.5, 0.75)]),
        (2, 0.0, &[], &[(0.0, 0.0), (0.5, 0.5)]),
        (
            4,
            1.0,
            &[],
            &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
        ),
        (2, 1.0, &[0.4, 0.6], &[(0.0, 0.4), (0.4, 1.0)]),
        (
            3,
            1.0,
            &[0.2, 0.3, 0.5],
            &[(0.0, 0.2), (0.2, 0.5), (0.5, 1.0)],
        ),
        (
            3,
            0.2,
            &[0.2, 0.3, 0.5],
            &[(0.0, 0.04), (0.2, 0.26), (0.5, 0.6)],
        ),
        (2, -0.2, &[], &[(0.0, 0.0), (0.5, 0.5)]),
        (2, 1.5, &[], &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 1.0, &[0.4, 0.1], &[(0.0, 0.5), (0.5, 1.0)]),
        (2, 1.0, &[0.7, 0.6], &[(0.0, 0.5), (0.5, 1.0)]),
        (
            4,
            1.0,
            &[0.4, 0.4, 0.2],
            &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
        ),
        (2, 1.0, &[0.4, 0.5999], &[(0.0, 0.4), (0.4, 0.9999)]),
    ];
    for (n, coverage, weights, want) in cases {
        let got = gb::bucket_ranges(*n, *coverage, weights);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(*want) {
            assert!(
                (g.0 - w.0).abs() < 1e-9 && (g.1 - w.1).abs() < 1e-9,
                "{n} {coverage} {weights:?}: {got:?}"
            );
        }
    }
}

#[test]
fn choose_variation_matches_published_cases() {
    let even = [(0.0, 0.5), (0.5, 1.0)];
    let reduced = [(0.0, 0.25), (0.5, 0.75)];
    let cases: &[(f64, &[Range], Option<usize>)] = &[
        (0.2, &even, Some(0)),
        (0.4, &even, Some(0)),
        (0.6, &even, Some(1)),
        (0.8, &even, Some(1)),
        (0.0, &even, Some(0)),
        (0.5, &even, Some(1)),
        (0.2, &reduced, Some(0)),
        (0.4, &reduced, None),
        (0.6, &reduced, Some(1)),
        (0.8, &reduced, None),
        (0.25, &reduced, None),
        (0.5, &reduced, Some(1)),
        (0.5, &[(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)], Some(2)),
    ];
    for (n, ranges, want) in cases {
        assert_eq!(gb::choose_variation(*n, ranges), *want, "{n} {ranges:?}");
    }
}

#[test]
fn namespaces_match_published_cases() {
    let cases = [
        ("1", "namespace1", 0.0, 0.4, false),
        ("1", "namespace1", 0.4, 1.0, true),
        ("1", "namespace2", 0.0, 0.4, false),
        ("1", "namespace2", 0.4, 1.0, true),
        ("2", "namespace1", 0.0, 0.4, false),
        ("2", "namespace1", 0.4, 1.0, true),
        ("2", "namespace2", 0.0, 0.4, false),
        ("2", "namespace2", 0.4, 1.0, true),
        ("3", "namespace1", 0.0, 0.4, false),
        ("3", "namespace1", 0.4, 1.0, true),
        ("3", "namespace2", 0.0, 0.4, true),
        ("3", "namespace2", 0.4, 1.0, false),
        ("4", "namespace1", 0.0, 0.4, false),
        ("4", "namespace1", 0.4, 1.0, true),
        ("4", "namespace2", 0.0, 0.4, true),
        ("4", "namespace2", 0.4, 1.0, false),
    ];
    for (user, ns, start, end, want) in cases {
        assert_eq!(
            gb::in_namespace(user, ns, start, end),
            want,
            "{user} {ns} {start}..{end}"
        );
    }
}

#[test]
fn equal_weights_match_published_cases() {
    assert!(gb::equal_weights(0).is_empty());
    assert_eq!(gb::equal_weights(1), vec![1.0]);
    assert_eq!(gb::equal_weights(2), vec![0.5, 0.5]);
    assert!(
        gb::equal_weights(3)
            .iter()
            .all(|w| (w - 0.333_333_33).abs() < 1e-8)
    );
}

#[test]
fn experiments_match_published_run_cases() {
    // "three way test": ids 1..9 in `my-test` with three variations.
    for (id, want) in [2, 0, 0, 2, 1, 2, 0, 1, 0].into_iter().enumerate() {
        assert_eq!(
            place(exp("my-test", 3), json!({"id": (id + 1).to_string()})),
            (want, true, true),
            "id {}",
            id + 1
        );
    }
    assert_eq!(
        place(exp("my-test", 2), json!({"id": "1"})),
        (1, true, true)
    );
    assert_eq!(
        place(exp("my-test-3", 2), json!({"id": "1"})),
        (0, true, true)
    );
    for attrs in [json!({"id": ""}), json!({"id": null}), json!({})] {
        assert_eq!(place(exp("my-test", 2), attrs), (0, false, false));
    }
    assert_eq!(
        place(exp("my-test", 1), json!({"id": "1"})),
        (0, false, false)
    );
    let forced = |f| Experiment {
        force: Some(f),
        ..exp("my-test", 2)
    };
    assert_eq!(place(forced(-8), json!({"id": "1"})), (0, false, false));
    assert_eq!(place(forced(25), json!({"id": "1"})), (0, false, false));
    let cond = Experiment {
        condition: Some(r#"{"browser": "firefox"}"#.into()),
        ..exp("my-test", 2)
    };
    assert_eq!(
        place(cond.clone(), json!({"id": "1", "browser": "firefox"})),
        (1, true, true)
    );
    assert_eq!(
        place(cond, json!({"id": "1", "browser": "chrome"})),
        (0, false, false)
    );
    let company = Experiment {
        hash_attribute: "companyId".into(),
        ..exp("my-test", 2)
    };
    assert_eq!(
        place(company, json!({"id": "2", "companyId": "1"})),
        (1, true, true)
    );
    // Coverage takes precedence over a forced variation.
    let covered = Experiment {
        force: Some(1),
        coverage: 0.01,
        ..exp("my-test", 2)
    };
    assert_eq!(place(covered, json!({"id": "1"})), (0, false, false));
    let ns = |start, end| Experiment {
        namespace: Some(Namespace {
            id: "namespace".into(),
            start,
            end,
        }),
        ..exp("my-test", 2)
    };
    assert_eq!(place(ns(0.1, 1.0), json!({"id": "1"})), (1, true, true));
    assert_eq!(place(ns(0.0, 0.1), json!({"id": "1"})), (0, false, false));
    assert_eq!(
        place(
            Experiment {
                coverage: 0.0,
                ..exp("no-coverage", 2)
            },
            json!({"id": "1"})
        ),
        (0, false, false)
    );
    let seeded = Experiment {
        seed: "foo".into(),
        hash_version: 2,
        ..exp("key", 2)
    };
    assert_eq!(place(seeded.clone(), json!({"id": "1"})), (1, true, true));
    let weighted = Experiment {
        weights: vec![0.5, 0.5],
        coverage: 0.99,
        ..seeded
    };
    assert_eq!(place(weighted, json!({"id": "1"})), (1, true, true));
    // Feature "empty experiment rule" cases: variation and bucket.
    for (id, want, bucket) in [("123", 2, 0.863), ("456", 0, 0.178), ("fds", 1, 0.514)] {
        let a = MvtAllocator::allocate(
            exp("feature", 3),
            json!({"id": id}).to_string(),
            None,
            &Ctx::for_test(0),
        )
        .unwrap();
        assert_eq!(
            (a.variation, a.in_experiment, a.hash_value.as_str()),
            (want, true, id)
        );
        assert!((a.bucket.unwrap() - bucket).abs() < 1e-9);
    }
    // An integer hash attribute is hashed as JavaScript writes it.
    assert_eq!(
        place(exp("my-test", 2), json!({"id": 1})),
        place(exp("my-test", 2), json!({"id": "1"}))
    );
}

#[test]
fn fallback_attribute_and_sticky_variation() {
    let e = Experiment {
        fallback_attribute: Some("deviceId".into()),
        ..exp("my-test", 2)
    };
    let a = MvtAllocator::allocate(
        e.clone(),
        r#"{"deviceId": "1"}"#.into(),
        None,
        &Ctx::for_test(0),
    )
    .unwrap();
    assert_eq!((a.variation, a.hash_attribute.as_str()), (1, "deviceId"));
    // A stored variation wins over the hash, and over the condition.
    let e = Experiment {
        condition: Some(r#"{"country": "DE"}"#.into()),
        ..e
    };
    let a = MvtAllocator::allocate(
        e.clone(),
        r#"{"id": "1", "country": "FR"}"#.into(),
        Some(0),
        &Ctx::for_test(0),
    )
    .unwrap();
    assert_eq!(
        (a.variation, a.in_experiment, a.reason),
        (0, true, Reason::Sticky)
    );
    // One out of range is ignored.
    let a = MvtAllocator::allocate(
        e,
        r#"{"id": "1", "country": "DE"}"#.into(),
        Some(7),
        &Ctx::for_test(0),
    )
    .unwrap();
    assert_eq!((a.variation, a.reason), (1, Reason::Assigned));
}

fn holds(cond: Value, attrs: Value) -> bool {
    let attrs = crate::json::parse(&attrs.to_string()).unwrap();
    condition::eval(&attrs, &condition::parse(&cond.to_string()).unwrap())
}

#[test]
fn conditions_match_published_cases() {
    let santa = json!({"$and": [{"father.age": {"$gt": 65}}, {"$or": [{"bday": {"$regex": "-12-25$"}}, {"name": "santa"}]}]});
    let cases = [
        (
            json!({"$not": {"name": "hello"}}),
            json!({"name": "world"}),
            true,
        ),
        (
            json!({"$not": {"name": "hello"}}),
            json!({"name": "hello"}),
            false,
        ),
        (
            santa.clone(),
            json!({"name": "santa", "bday": "1980-12-25", "father": {"age": 70}}),
            true,
        ),
        (
            santa.clone(),
            json!({"name": "santa", "bday": "1980-12-20", "father": {"age": 70}}),
            true,
        ),
        (
            santa.clone(),
            json!({"name": "barbara", "bday": "1980-12-25", "father": {"age": 70}}),
            true,
        ),
        (
            santa.clone(),
            json!({"name": "santa", "bday": "1980-12-25", "father": {"age": 65}}),
            false,
        ),
        (
            santa.clone(),
            json!({"name": "barbara", "bday": "1980-11-25", "father": {"age": 70}}),
            false,
        ),
        (
            santa,
            json!({"name": "john smith", "bday": "1956-12-20", "father": {"age": 40}}),
            false,
        ),
        (
            json!({"pets.dog.name": {"$exists": false}}),
            json!({"hello": "world"}),
            true,
        ),
        (
            json!({"pets.dog.name": {"$exists": false}}),
            json!({"pets": {"dog": {"name": "fido"}}}),
            false,
        ),
        (
            json!({"pets.dog.name": {"$exists": true}}),
            json!({"hello": "world"}),
            false,
        ),
        (
            json!({"pets.dog.name": {"$exists": true}}),
            json!({"pets": {"dog": {"name": "fido"}}}),
            true,
        ),
        (
            json!({"str": "str", "num": 10, "flag": false}),
            json!({"str": "str", "num": 10, "flag": false}),
            true,
        ),
        (json!({"num": {"$in": [1, 2, 3]}}), json!({"num": 2}), true),
        (json!({"num": {"$in": [1, 2, 3]}}), json!({"num": 4}), false),
        (
            json!({"tags": {"$in": ["a", "b"]}}),
            json!({"tags": ["d", "e", "a"]}),
            true,
        ),
        (
            json!({"tags": {"$in": ["a", "b"]}}),
            json!({"tags": ["d", "e", "f"]}),
            false,
        ),
        (
            json!({"tags": {"$in": ["a", "b"]}}),
            json!({"tags": []}),
            false,
        ),
        (json!({"num": {"$nin": [1, 2, 3]}}), json!({"num": 4}), true),
        (
            json!({"num": {"$nin": [1, 2, 3]}}),
            json!({"num": 2}),
            false,
        ),
        (
            json!({"tags": {"$nin": ["a", "b"]}}),
            json!({"tags": ["d", "b", "f"]}),
            false,
        ),
        (
            json!({"tags": {"$nin": ["a", "b"]}}),
            json!({"tags": []}),
            true,
        ),
        (
            json!({"nums": {"$elemMatch": {"$gt": 10}}}),
            json!({"nums": [0, 5, -20, 15]}),
            true,
        ),
        (
            json!({"nums": {"$elemMatch": {"$gt": 10}}}),
            json!({"nums": [0, 5, -20, 8]}),
            false,
        ),
        (
            json!({"pets.dog.name": {"$in": ["fido"]}}),
            json!({"hello": "world"}),
            false,
        ),
        (json!({"$or": []}), json!({"hello": "world"}), true),
        (json!({"$and": []}), json!({"hello": "world"}), true),
        (json!({}), json!({"hello": "world"}), true),
        (
            json!({"occupation": {"$eq": "engineer"}}),
            json!({"occupation": "engineer"}),
            true,
        ),
        (
            json!({"occupation": {"$eq": "engineer"}}),
            json!({"occupation": "civil engineer"}),
            false,
        ),
        (
            json!({"level": {"$ne": "senior"}}),
            json!({"level": "junior"}),
            true,
        ),
        (
            json!({"level": {"$ne": "senior"}}),
            json!({"level": "senior"}),
            false,
        ),
        (
            json!({"userAgent": {"$regex": "(Mobile|Tablet)"}}),
            json!({"userAgent": "Android Mobile Browser"}),
            true,
        ),
        (
            json!({"userAgent": {"$regex": "(Mobile|Tablet)"}}),
            json!({"userAgent": "Chrome Desktop Browser"}),
            false,
        ),
        (
            json!({"age": {"$gt": 30, "$lt": 60}}),
            json!({"age": 50}),
            true,
        ),
        (
            json!({"age": {"$gt": 30, "$lt": 60}}),
            json!({"age": 60}),
            false,
        ),
        (
            json!({"age": {"$gt": 30, "$lt": 60}}),
            json!({"age": 30}),
            false,
        ),
        (
            json!({"age": {"$gte": 30, "$lte": 60}}),
            json!({"age": 30}),
            true,
        ),
        (
            json!({"age": {"$gte": 30, "$lte": 60}}),
            json!({"age": 61}),
            false,
        ),
        (
            json!({"word": {"$gt": "alphabet", "$lt": "zebra"}}),
            json!({"word": "alphabet"}),
            false,
        ),
        (
            json!({"word": {"$gt": "alphabet", "$lt": "zebra"}}),
            json!({"word": "always"}),
            true,
        ),
        (
            json!({"word": {"$gt": "alphabet", "$lt": "zebra"}}),
            json!({"word": "AZL"}),
            false,
        ),
        (
            json!({"address.state": "CA"}),
            json!({"address": null}),
            false,
        ),
        (
            json!({"address.state": "CA"}),
            json!({"address": 123}),
            false,
        ),
        (json!({"a": {"$type": "string"}}), json!({"a": "a"}), true),
        (json!({"a": {"$type": "string"}}), json!({"a": 1}), false),
        (json!({"a": {"$type": "null"}}), json!({"a": null}), true),
        (
            json!({"a": {"$type": "boolean"}}),
            json!({"a": false}),
            true,
        ),
        (json!({"a": {"$type": "number"}}), json!({"a": "a"}), false),
        (
            json!({"a": {"$type": "object"}}),
            json!({"a": {"a": "b"}}),
            true,
        ),
        (json!({"a": {"$type": "array"}}), json!({"a": [1, 2]}), true),
        (json!({"tags": {"$size": 0}}), json!({"tags": []}), true),
        (
            json!({"tags": {"$size": 3}}),
            json!({"tags": ["a", "b"]}),
            false,
        ),
        (json!({"tags": {"$size": 3}}), json!({"tags": "abc"}), false),
        (
            json!({"tags": {"$size": {"$gt": 2}}}),
            json!({"tags": [0, 1, 2]}),
            true,
        ),
        (
            json!({"tags": {"$size": {"$gt": 2}}}),
            json!({"tags": [0, 1]}),
            false,
        ),
        (
            json!({"tags": {"$elemMatch": {"$in": ["a", "b"]}}}),
            json!({"tags": ["d", "e", "b"]}),
            true,
        ),
        (
            json!({"tags": {"$not": {"$elemMatch": {"$eq": "bar"}}}}),
            json!({"tags": ["foo", "baz"]}),
            true,
        ),
        (
            json!({"tags": {"$not": {"$elemMatch": {"$eq": "bar"}}}}),
            json!({"tags": ["foo", "bar", "baz"]}),
            false,
        ),
        (
            json!({"hobbies": {"$elemMatch": {"name": {"$regex": "^ping"}}}}),
            json!({"hobbies": [{"name": "bowling"}, {"name": "pingpong"}]}),
            true,
        ),
        (
            json!({"hobbies": {"$elemMatch": {"name": {"$regex": "^ping"}}}}),
            json!({"hobbies": [{"name": "bowling"}]}),
            false,
        ),
        (
            json!({"hobbies": {"$elemMatch": {"name": {"$regex": "^ping"}}}}),
            json!({"hobbies": "all"}),
            false,
        ),
        (
            json!({"name": {"$not": {"$regex": "^hello"}}}),
            json!({"name": "world"}),
            true,
        ),
        (
            json!({"name": {"$not": {"$regex": "^hello"}}}),
            json!({"name": "hello world"}),
            false,
        ),
        (
            json!({"tags": {"$all": ["one", "three"]}}),
            json!({"tags": ["one", "two", "three"]}),
            true,
        ),
        (
            json!({"tags": {"$all": ["one", "three"]}}),
            json!({"tags": ["one", "two", "four"]}),
            false,
        ),
        (
            json!({"tags": {"$all": ["one", "three"]}}),
            json!({"tags": "hello"}),
            false,
        ),
        (
            json!({"$nor": [{"name": "john"}, {"age": {"$lt": 30}}]}),
            json!({"name": "jim", "age": 40}),
            true,
        ),
        (
            json!({"$nor": [{"name": "john"}, {"age": {"$lt": 30}}]}),
            json!({"name": "jim", "age": 20}),
            false,
        ),
        (
            json!({"tags": ["hello", "world"]}),
            json!({"tags": ["hello", "world"]}),
            true,
        ),
        (
            json!({"tags": ["hello", "world"]}),
            json!({"tags": ["world", "hello"]}),
            false,
        ),
        (
            json!({"tags": ["hello", "world"]}),
            json!({"tags": "hello world"}),
            false,
        ),
        (
            json!({"tags": {"hello": "world"}}),
            json!({"tags": {"hello": "world"}}),
            true,
        ),
        (
            json!({"tags": {"hello": "world"}}),
            json!({"tags": {"hello": "world", "yes": "please"}}),
            false,
        ),
        (json!({"userId": null}), json!({"userId": null}), true),
        (json!({"userId": null}), json!({}), true),
        (json!({"userId": null}), json!({"userId": 0}), false),
        (json!({"userId": null}), json!({"userId": ""}), false),
        (
            json!({"version": {"$vgt": "9.99.8", "$vlt": "11.0.1"}}),
            json!({"version": "10.12.13"}),
            true,
        ),
        (
            json!({"version": {"$vgt": "10.0.2", "$vlt": "10.0.20"}}),
            json!({"version": "10.0.12"}),
            true,
        ),
        (
            json!({"version": {"$vgt": "30.0.0", "$vlt": "50.0.0"}}),
            json!({"version": "60.0.0"}),
            false,
        ),
        (
            json!({"version": {"$vgte": "5.10.30", "$vlte": "5.10.60"}}),
            json!({"version": "5.10.30"}),
            true,
        ),
        (
            json!({"version": {"$vgte": "1.2.30", "$vlte": "1.2.60"}}),
            json!({"version": "1.2.29"}),
            false,
        ),
        (
            json!({"v": {"$vgt": "1.0.0-alpha", "$vlt": "1.0.0-beta"}}),
            json!({"v": "1.0.0-alpha"}),
            false,
        ),
        (
            json!({"v": {"$vgt": "1.0.0-alpha", "$vlt": "1.0.0-beta"}}),
            json!({"v": "1.0.0-alpha.10"}),
            true,
        ),
        (
            json!({"v": {"$vgt": "1.0.0-alpha", "$vlt": "1.0.0-beta"}}),
            json!({"v": "1.0.0-ALPHA"}),
            false,
        ),
        (
            json!({"v": {"$veq": "1.2.3"}}),
            json!({"v": "1.2.3+build.abc.123"}),
            true,
        ),
        (
            json!({"v": {"$vne": "1.2.3"}}),
            json!({"v": "1.2.3-alpha"}),
            true,
        ),
    ];
    for (cond, attrs, want) in cases {
        assert_eq!(
            holds(cond.clone(), attrs.clone()),
            want,
            "{cond} on {attrs}"
        );
    }
}

#[test]
fn a_condition_that_does_not_parse_says_where() {
    let refused = |text: &str| match condition::parse(text) {
        Err(Error::InvalidInput(why)) => why,
        other => panic!("{text} was accepted: {}", other.is_ok()),
    };
    assert!(
        refused(r#"{"name": {"$regx": "hello"}}"#).contains("unknown operator `$regx` at `name`")
    );
    assert!(
        refused(r#"{"name": {"$regex": "/???***[)"}}"#)
            .contains("`$regex` at `name` has a pattern that does not parse")
    );
    assert!(refused(r#"{"num": {"$in": 1}}"#).contains("`$in` at `num` needs a list"));
    assert!(refused(r#"{"$or": {"a": 1}}"#).contains("`$or` must be a list"));
    assert!(refused(r#"{"a": {"$type": "str"}}"#).contains("needs one of"));
    assert!(refused(r#"["a"]"#).contains("must be a JSON object"));
    assert!(refused(r#"{"a": "#).contains("not valid JSON"));
    assert!(
        refused(r#"{"$and": [{"x": {"$elemMatch": {"$gt": 1, "$foo": 2}}}]}"#)
            .contains("`$foo` at `$and[0].x`")
    );
    // Through `allocate`: the same refusal, with the field named.
    let e = Experiment {
        condition: Some(r#"{"name": {"$regx": "h"}}"#.into()),
        ..exp("t", 2)
    };
    let err = MvtAllocator::allocate(e, "{}".into(), None, &Ctx::for_test(0)).unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput(ref m) if m.starts_with("condition:")),
        "{err:?}"
    );
}

fn settings(top_two: bool, min_share: f64, burn_in: u64) -> BanditSettings {
    BanditSettings {
        top_two,
        min_share,
        burn_in,
    }
}

fn arms(counts: &[(u64, u64)]) -> Vec<ArmStats> {
    counts
        .iter()
        .map(|&(exposures, conversions)| ArmStats {
            exposures,
            conversions,
        })
        .collect()
}

#[test]
fn bandit_weights_favour_the_better_arm_and_keep_a_floor() {
    let mut rng = bandit::Rng::new(7);
    let data = arms(&[(5000, 100), (5000, 110), (5000, 125), (5000, 150)]);
    let w = bandit::weights(&data, &settings(false, 0.05, 1000), 4000, &mut rng).unwrap();
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{w:?}");
    assert!(w[3] > 0.6, "best arm share {w:?}");
    assert!(w.iter().all(|x| *x >= 0.05 - 1e-12), "{w:?}");
    // Top-two keeps the runner-up in play.
    let t = bandit::weights(&data, &settings(true, 0.0, 0), 4000, &mut rng).unwrap();
    assert!(t[2] > w[2] && t[3] < w[3] && t[3] >= 0.4, "{t:?} vs {w:?}");
    // Burn-in: equal until enough exposures.
    let early = bandit::weights(
        &arms(&[(10, 0), (10, 5)]),
        &settings(false, 0.0, 100),
        4000,
        &mut rng,
    )
    .unwrap();
    assert_eq!(early, vec![0.5, 0.5]);
    // Nonsense counts are refused.
    assert!(
        bandit::weights(
            &arms(&[(1, 2), (1, 0)]),
            &settings(false, 0.0, 0),
            100,
            &mut rng
        )
        .is_err()
    );
}

#[test]
fn beta_draws_have_the_right_mean() {
    let mut rng = bandit::Rng::new(1);
    let n = 20_000;
    let mean = (0..n).map(|_| rng.beta(3.0, 7.0)).sum::<f64>() / f64::from(n);
    assert!((mean - 0.3).abs() < 0.01, "{mean}");
    // The normal approximation for large counts: mean and spread.
    let draws: Vec<f64> = (0..n).map(|_| rng.beta(101.0, 901.0)).collect();
    let mean = draws.iter().sum::<f64>() / f64::from(n);
    let sd = (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n)).sqrt();
    assert!(
        (mean - 0.1008).abs() < 0.001 && (sd - 0.00952).abs() < 0.0005,
        "{mean} {sd}"
    );
}

#[test]
fn config_is_checked() {
    use cove_sdk::Config;
    assert!(MvtAllocator::validate_config(&Config::from_pairs([("bandit.draws", "2000")])).is_ok());
    let err =
        MvtAllocator::validate_config(&Config::from_pairs([("bandit.draws", "5")])).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(ref m) if m.starts_with("bandit.draws")));
}
