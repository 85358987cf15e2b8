//! The OpenAPI description is the API: schemathesis (from PyPI; `make
//! deps-test` installs it in `target/schemathesis`) generates requests for
//! every documented operation against a real `cove serve`, with the
//! operator token and then with a merchant's key, and checks that nothing
//! answers 5xx and every answer fits the description (status, content
//! type, headers, body schema), that invalid input is refused, and that
//! auth is enforced.

use std::path::Path;
use std::process::Command;

use cove_e2e::{HostProcess, OPERATOR_TOKEN};

#[test]
fn schemathesis_finds_nothing_with_the_operator_token_or_a_merchant_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let schemathesis = root.join("target/schemathesis/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} is missing: `make deps-test` installs it",
        schemathesis.display()
    );
    let data = tempfile::tempdir().unwrap();
    let (host, merchant_key) = HostProcess::demo(
        data.path(),
        &[
            // The fuzzer sends thousands of requests from one address.
            "--public-burst",
            "1000000",
            "--public-per-sec",
            "1000000",
            "--merchant-rps",
            "0",
            // It also tries every operation with wrong credentials.
            "--bad-auth-burst",
            "1000000",
        ],
    );
    let spec: serde_json::Value = reqwest::blocking::get(format!("{}/openapi.json", host.url))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"].as_object().unwrap().len() >= 30, "{spec}");
    // Every error code is listed in the error body's schema.
    let codes = spec
        .pointer("/components/schemas/ErrorBody/properties/code")
        .and_then(|c| {
            c.get("enum").or_else(|| {
                let name = c["$ref"].as_str()?.rsplit('/').next()?;
                spec["components"]["schemas"][name].get("enum")
            })
        })
        .and_then(|e| e.as_array())
        .expect("the error codes are an enum in the spec");
    for code in [
        "invalid_json",
        "not_found",
        "busy",
        "rate_limited",
        "conflict",
        "plugin_refused",
    ] {
        assert!(
            codes.iter().any(|c| c == code),
            "{code} missing from {codes:?}"
        );
    }

    for (secret, token) in [
        ("operator token", OPERATOR_TOKEN),
        ("demo merchant's key", merchant_key.as_str()),
    ] {
        let out = Command::new(&schemathesis)
            .arg("run")
            .arg(format!("{}/openapi.json", host.url))
            .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
            // Public writes come from pages, which name their origin.
            .args(["-H", &format!("Origin: {}", host.url)])
            .args([
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
            ])
            // Health checks judge how fast test data is generated, which
            // a busy 2-core machine fails now and then; the API checks
            // above are what this test is for.
            .args(["--suppress-health-check", "all"])
            .args([
                "--max-examples",
                "20",
                "--phases",
                "examples,coverage,fuzzing",
            ])
            .current_dir(data.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("running schemathesis");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "schemathesis found problems with the {secret}:\n{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(report.contains("passed"), "{report}");
    }
}

/// Free-form answers: bodies whose shape is the merchant's own data or a
/// plugin's, named here one by one.
const FREE_FORM: &[&str] = &[
    // One key per table some feature claims about the customer: its shape
    // is whatever the registered features keep.
    "GET /v1/merchants/{merchant}/customers/{id}/export",
];

fn untyped(schema: &serde_json::Value) -> bool {
    let Some(o) = schema.as_object() else {
        return true;
    };
    ![
        "$ref",
        "type",
        "properties",
        "items",
        "oneOf",
        "allOf",
        "anyOf",
        "enum",
    ]
    .iter()
    .any(|k| o.contains_key(*k))
}

#[tokio::test]
async fn every_json_answer_has_a_schema() {
    let (state, _dir) = cove_e2e::host(None, cove_e2e::test_limits()).await;
    let app = cove_host::app(state);
    let (status, _, body) = cove_e2e::request(&app, "GET", "/openapi.json", &[], None).await;
    assert_eq!(status, 200);
    let spec: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (code, answer) in op["responses"].as_object().into_iter().flatten() {
                if !code.starts_with('2') {
                    continue;
                }
                if let Some(schema) = answer.pointer("/content/application~1json/schema")
                    && untyped(schema)
                {
                    found.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    let new: Vec<&String> = found
        .iter()
        .filter(|f| !FREE_FORM.contains(&f.as_str()))
        .collect();
    assert!(new.is_empty(), "untyped 2xx answers: {new:#?}");
    // A free-form answer that got a schema leaves the list.
    for f in FREE_FORM {
        assert!(found.iter().any(|x| x == f), "{f} is typed now");
    }
}
