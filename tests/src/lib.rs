//! Shared fixtures for Cove's end-to-end tests and benchmarks: the plugin
//! components built from this repository by `build.rs`, sample inputs, an
//! in-process host, a real `cove` process, and a throw-away PostgreSQL.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cove_host::platform::runtime::Limits;
use cove_host::{AppState, Settings};
use serde_json::{Value, json};

/// Paths of the components built from `plugins/`.
pub mod guests {
    /// The reference fatigue policy.
    pub const FATIGUE: &str = env!("COVE_GUEST_FATIGUE_POLICY");
    /// The reference channel chooser.
    pub const CHANNEL_CHOOSER: &str = env!("COVE_GUEST_CHANNEL_CHOOSER");
    /// The reference return flow.
    pub const RETURN_FLOW: &str = env!("COVE_GUEST_RETURN_FLOW");
    /// The reference A/B and multivariate allocator.
    pub const MVT_ALLOCATOR: &str = env!("COVE_GUEST_MVT_ALLOCATOR");
    /// The reference RFM scorer.
    pub const RFM_SCORER: &str = env!("COVE_GUEST_RFM_SCORER");
    /// Spins forever.
    pub const LOOP_FOREVER: &str = env!("COVE_GUEST_HOSTILE_LOOP_FOREVER");
    /// Grows memory without end.
    pub const GROW_MEMORY: &str = env!("COVE_GUEST_HOSTILE_GROW_MEMORY");
    /// Recurses without end.
    pub const RECURSE: &str = env!("COVE_GUEST_HOSTILE_RECURSE");
    /// Executes `unreachable`.
    pub const TRAP: &str = env!("COVE_GUEST_HOSTILE_TRAP");
    /// Answers with 256 KiB.
    pub const OVERSIZED_OUTPUT: &str = env!("COVE_GUEST_HOSTILE_OVERSIZED_OUTPUT");
    /// Imports wasi:filesystem.
    pub const FORBIDDEN_IMPORT: &str = env!("COVE_GUEST_HOSTILE_FORBIDDEN_IMPORT");
    /// Panics.
    pub const PANIC: &str = env!("COVE_GUEST_HOSTILE_PANIC");
    /// An RFM scorer whose answer aliases one 64 KiB string 4,000 times.
    pub const ALIASED_OUTPUT: &str = env!("COVE_GUEST_HOSTILE_ALIASED_OUTPUT");
    /// Spends most of its fuel on every call, then allows.
    pub const BUSY: &str = env!("COVE_GUEST_HOSTILE_BUSY");
    /// Allows, but traps for customers whose id starts with `late`.
    pub const FLAKY: &str = env!("COVE_GUEST_HOSTILE_FLAKY");
    /// The folder holding them all.
    pub const DIR: &str = env!("COVE_GUEST_DIR");
}

/// Limits for tests: the defaults, but a wall-clock deadline long enough
/// that a busy machine never turns a healthy call into a deadline fallback.
/// (Tests about the deadline set their own.)
pub fn test_limits() -> Limits {
    Limits {
        deadline_ms: 2_000,
        ..Limits::default()
    }
}

/// The operator token of test hosts.
pub const OPERATOR_TOKEN: &str = "test-operator-token";

/// Assert an API error: its status, its stable `code`, and a message in words.
pub fn expect_error(
    status: axum::http::StatusCode,
    body: &Value,
    want: axum::http::StatusCode,
    code: &str,
) {
    assert_eq!(
        (status, body["code"].as_str()),
        (want, Some(code)),
        "{body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {body}"
    );
}

/// Read a component.
pub fn wasm(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// 2026-03-02 12:00 UTC, a Monday.
pub const NOON: i64 = 1_772_452_800_000;

/// A fatigue-policy input (`{"request": …}`) for a European customer who
/// engaged two days ago, with the given contact history.
pub fn fatigue_input(channel: &str, history: Value) -> Value {
    json!({"request": {
        "customer": {"id": "c-1", "region": "europe", "country": "DE", "utc-offset-minutes": 60, "created-at": NOON - 400 * 86_400_000i64},
        "channel": channel,
        "kind": "promotional",
        "campaign-id": "spring",
        "history": history,
        "active-campaigns": [],
        "suppressed": [],
        "last-engaged-at": NOON - 2 * 86_400_000i64,
        "has-trigger-signal": true,
    }})
}

/// [`fatigue_input`] for customer `c{i}`; every other one (even `i`) was
/// e-mailed an hour ago, so the reference policy defers it (12 hours
/// apart) and a policy that always allows answers differently.
///
/// The customer lives where it is early afternoon now, so no country's
/// default quiet hours defer the others whatever the hour the test runs.
pub fn fatigue_input_for(i: usize) -> Value {
    let now = cove_host::now_ms();
    let history = if i.is_multiple_of(2) {
        json!([{"channel": "email", "sent-at": now - 3_600_000}])
    } else {
        json!([])
    };
    let mut v = fatigue_input("email", history);
    v["request"]["customer"]["id"] = json!(format!("c{i}"));
    let utc_hour = now / 3_600_000 % 24;
    v["request"]["customer"]["utc-offset-minutes"] = json!((14 - utc_hour) * 60);
    v
}

/// Import NDJSON `lines` of `entity` (customers, orders, events,
/// consents) for the merchant `shop` over HTTP; every line must be taken.
pub async fn import_lines(app: &axum::Router, key: &str, entity: &str, lines: &[Value]) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let auth = format!("Bearer {key}");
    let (s, _, b) = request(
        app,
        "POST",
        &format!("/v1/merchants/shop/import/{entity}?format=ndjson"),
        &[("authorization", &auth)],
        Some(body),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(s, axum::http::StatusCode::OK, "{v}");
    assert_eq!(v["rejected"], 0, "{v}");
}

/// The fatigue policy's settings of the concurrency tests and benchmark:
/// three e-mails a week, no other gap or quiet hour near now, and a
/// deferral longer than an hour drops — so of many plans at once, exactly
/// three are planned.
///
/// Countries with quiet hours of their own (the US 21:00–08:00) keep
/// them: the customers these configs plan for live where none apply, so a
/// test does not depend on the time of day it runs.
pub fn capped_fatigue_config() -> Value {
    let hour = (cove_host::now_ms() / 3_600_000 + 12) % 24;
    json!({"cap.email": "3", "cap.total-day": "10", "min-gap-hours": "0", "ignored-gap-hours": "0",
        "max-defer-hours": "1", "quiet-hours": format!("{hour:02}:00-{hour:02}:01")})
}

/// One request to a host over HTTP: status and JSON body (null if none).
pub async fn call_url(
    url: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("the host answers");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Call `url`'s fatigue slot until `plugin` answers; every answer meanwhile
/// must be a success. The 30 s guard only stops a hung test.
pub async fn wait_for_version(url: &str, key: &str, plugin: &str) {
    let guard = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let input = fatigue_input("email", json!([]));
        let (s, v) = call_url(
            url,
            key,
            reqwest::Method::POST,
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            input,
        )
        .await;
        assert_eq!(s, 200, "{v}");
        if v["plugin"] == plugin {
            return;
        }
        assert!(
            std::time::Instant::now() < guard,
            "replica never answered with {plugin}: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Two `cove serve` replicas of one PostgreSQL database (`name`, with
/// `args` after `--database-url`; a 5 s plugin deadline unless `args`
/// sets one), two versions of the reference fatigue
/// policy published (1.0.0, 2.0.0) and the merchant `shop` created on the
/// first.
pub struct Replicas {
    /// The first replica.
    pub a: HostProcess,
    /// The second replica.
    pub b: HostProcess,
    /// `shop`'s API key.
    pub key: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

/// The signature a host started in `data_dir` accepts for reference
/// plugins (publisher `cove`): made with the key it generated there.
pub fn signed_as_cove(data_dir: &Path, wasm: &[u8]) -> String {
    let secret = std::fs::read_to_string(data_dir.join("publisher-cove.key"))
        .expect("the host made its reference key");
    cove_host::platform::signing::sign(&secret, wasm).expect("a usable key")
}

impl Replicas {
    /// Bind `plugin` (`name@version`) to `shop`'s fatigue slot on the first
    /// replica, and wait until the second answers with it.
    pub async fn bind_fatigue(&self, plugin: &str) {
        let (s, v) = call_url(
            &self.a.url,
            OPERATOR_TOKEN,
            reqwest::Method::PUT,
            "/v1/merchants/shop/slots/fatigue-policy",
            json!({ "plugin": plugin }),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        wait_for_version(&self.b.url, &self.key, plugin).await;
    }

    /// Start them.
    pub async fn start(pg: &Postgres, name: &str, args: &[&str]) -> Replicas {
        let db = pg.database(name);
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut all = vec!["--database-url", &db];
        all.extend_from_slice(args);
        // As in [`test_limits`]: a busy machine (the suite runs tests side
        // by side) must not turn a healthy call into a deadline failure.
        if !args.contains(&"--deadline-ms") {
            all.extend(["--deadline-ms", "5000"]);
        }
        let a = HostProcess::start(dirs.0.path(), &all);
        let b = HostProcess::start(dirs.1.path(), &all);
        let client = reqwest::Client::new();
        for version in ["1.0.0", "2.0.0"] {
            let r = client
                .post(format!(
                    "{}/v1/plugins?name=fatigue-policy&version={version}&publisher=cove&signature={}",
                    a.url,
                    signed_as_cove(dirs.0.path(), &wasm(guests::FATIGUE))
                ))
                .bearer_auth(OPERATOR_TOKEN)
                .body(wasm(guests::FATIGUE))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
        let (s, v) = call_url(
            &a.url,
            OPERATOR_TOKEN,
            reqwest::Method::POST,
            "/v1/merchants",
            json!({"id": "shop"}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        let key = v["api_key"].as_str().unwrap().to_string();
        Replicas {
            a,
            b,
            key,
            _dirs: dirs,
        }
    }
}

/// `n` plans at once for one customer capped at three e-mails a week
/// ([`capped_fatigue_config`]), half on each of two `cove serve` replicas
/// of one PostgreSQL database: the send times of those planned.
pub async fn plans_on_two_replicas(pg: &Postgres, n: usize) -> Vec<i64> {
    let Replicas { a, b, key, .. } = &Replicas::start(pg, "plans", &[]).await;
    let client = reqwest::Client::new();
    let config = capped_fatigue_config();
    let (s, v) = call_url(
        &a.url,
        OPERATOR_TOKEN,
        reqwest::Method::PUT,
        "/v1/merchants/shop/slots/fatigue-policy",
        json!({"plugin": "fatigue-policy@1.0.0", "config": config}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    wait_for_version(&b.url, key, "fatigue-policy@1.0.0").await;
    let r = client
        .post(format!(
            "{}/v1/merchants/shop/import/customers?format=ndjson",
            a.url
        ))
        .bearer_auth(key)
        .body(json!({"id": "c1", "country": "DE", "time_zone": "UTC"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    let plan = json!({"customer_id": "c1", "message": {"channels": ["email"], "campaign_id": "spring", "has_trigger_signal": true}});
    let mut all = tokio::task::JoinSet::new();
    for i in 0..n {
        let url = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (key, plan) = (key.clone(), plan.clone());
        all.spawn(async move {
            call_url(
                &url,
                &key,
                reqwest::Method::POST,
                "/v1/merchants/shop/sends/plan",
                plan,
            )
            .await
        });
    }
    let mut planned = Vec::new();
    while let Some(r) = all.join_next().await {
        let (s, v) = r.expect("a plan");
        assert_eq!(s, 200, "{v}");
        if v["status"] == "planned" {
            planned.push(v["send_at"].as_i64().unwrap());
        }
    }
    planned
}

/// Contacts beyond `cap` in any 7-day window of `times`.
pub fn cap_violations(times: &[i64], cap: usize) -> usize {
    let week = 7 * 86_400_000;
    times
        .iter()
        .map(|t| {
            times
                .iter()
                .filter(|u| **u >= *t && **u < t + week)
                .count()
                .saturating_sub(cap)
        })
        .max()
        .unwrap_or(0)
}

/// An in-process host on a fresh SQLite file (or `database_url`).
pub async fn host(database_url: Option<String>, limits: Limits) -> (AppState, tempfile::TempDir) {
    host_with(database_url, limits, |_| {}).await
}

/// [`host`], with its settings changed by `change` first.
pub async fn host_with(
    database_url: Option<String>,
    limits: Limits,
    change: impl FnOnce(&mut Settings),
) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("cove.db").display()));
    let mut settings = Settings {
        database_url: url,
        operator_token: OPERATOR_TOKEN.into(),
        cache_dir: Some(dir.path().join("cache")),
        limits,
        widget_dir: None,
        demo: false,
        public_rate: (120.0, 4.0),
        bad_auth_burst: cove_host::platform::guard::BAD_AUTH_BURST,
        client_ip_header: Some("x-forwarded-for".into()),
        merchant_limits: cove_host::platform::fair::MerchantLimits::default(),
        request_timeout: Some(cove_host::platform::serve::REQUEST_TIMEOUT),
        owner_totp: false,
        require_signatures: false,
    };
    change(&mut settings);
    let state = AppState::new(settings).await.expect("starting host");
    (state, dir)
}

/// The `cove` binary built beside this test binary.
pub fn cove_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join("cove");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --release -p cove-host`",
        bin.display()
    );
    bin
}

/// A `cove serve` process; killed on drop.
pub struct HostProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl HostProcess {
    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The built web files (`make widget`): the widget and the console's
    /// Chart.js. Panics with the fix if they are not built.
    pub fn web_dir() -> std::path::PathBuf {
        let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/widget");
        assert!(
            web.join("widget.js").exists() && web.join("chart.umd.min.js").exists(),
            "the web files are not built: run `make widget` (make test does)"
        );
        web
    }

    /// `cove serve` in demo mode (the demo merchant, its plugins, the
    /// storefront) serving the built web files, with `extra` arguments;
    /// returns it and the demo merchant's API key.
    pub fn demo(data_dir: &Path, extra: &[&str]) -> (HostProcess, String) {
        let web = HostProcess::web_dir();
        let mut args = vec![
            "--seed-demo",
            guests::DIR,
            "--widget-dir",
            web.to_str().expect("a UTF-8 path"),
        ];
        args.extend_from_slice(extra);
        let host = HostProcess::start(data_dir, &args);
        let key = std::fs::read_to_string(data_dir.join("demo-api-key"))
            .expect("the demo merchant's key")
            .trim()
            .to_string();
        (host, key)
    }

    /// Start `cove serve` with extra arguments and wait until it listens.
    pub fn start(data_dir: &Path, extra: &[&str]) -> HostProcess {
        let mut child = Command::new(cove_binary())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--operator-token",
                OPERATOR_TOKEN,
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning cove serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => panic!("cove serve exited before listening"),
            };
            if let Some(at) = line.find("listening on http://") {
                break line[at + "listening on ".len()..].trim().to_string();
            }
        };
        // Keep draining the log so the host never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        HostProcess { child, url }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private PostgreSQL cluster on a free loopback port; stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// TCP port.
    pub port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn as_postgres(cmd: &str) -> bool {
    let as_root = is_root();
    let status = if as_root {
        Command::new("su")
            .args(["postgres", "-s", "/bin/sh", "-c", cmd])
            .stdout(Stdio::null())
            .status()
    } else {
        Command::new("sh")
            .args(["-c", cmd])
            .stdout(Stdio::null())
            .status()
    };
    status.map(|s| s.success()).unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

impl Postgres {
    /// Create and start a cluster. Panics with a fix if PostgreSQL is not
    /// installed: the suite never skips the PostgreSQL half silently.
    pub fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path().join("bin"))
                    .find(|p| p.join("initdb").exists())
            })
            .expect(
                "PostgreSQL is not installed: run `make test-deps` (apt-get install postgresql)",
            );
        let dir = tempfile::Builder::new()
            .prefix("cove-pg")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        if is_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
        }
        let port = free_port();
        let d = dir.path().display();
        assert!(
            as_postgres(&format!(
                "{}/initdb -D {} -U postgres --auth=trust -E UTF8 >/dev/null",
                bin.display(),
                data.display()
            )),
            "initdb failed"
        );
        assert!(
            as_postgres(&format!(
                "{}/pg_ctl -D {} -l {d}/log -o \"-c listen_addresses=127.0.0.1 -p {port} -k {d} -c fsync=off\" -w start",
                bin.display(),
                data.display()
            )),
            "pg_ctl start failed"
        );
        Postgres { dir, bin, port }
    }

    /// One SQL command through `psql`; its output, unaligned.
    fn psql(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-qtA", "-c", sql])
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql `{sql}` failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new empty database's URL.
    pub fn database(&self, name: &str) -> String {
        self.psql(&format!("CREATE DATABASE {name}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Wait (up to two minutes) until no autovacuum worker runs, then
    /// checkpoint: what came before does not slow what is timed next.
    pub fn settle(&self) {
        let busy = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'";
        let started = std::time::Instant::now();
        while self.psql(busy) != "0" && started.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        self.psql("CHECKPOINT");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        as_postgres(&format!(
            "{}/pg_ctl -D {}/data -m immediate stop",
            self.bin.display(),
            self.dir.path().display()
        ));
    }
}

/// One request to an in-process app: status, headers and body bytes.
pub async fn request(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
    request_bytes(app, method, uri, headers, body.map(String::into_bytes)).await
}

/// [`request`] with a body of bytes (an image, say). A write to a public
/// route names its origin as a browser's would: the page's own (on the
/// `host` given, else `cove.test`) unless the headers name one; an empty
/// `origin` sends none.
pub async fn request_bytes(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().method(method).uri(uri);
    let named = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
    if uri.starts_with("/public/") && !matches!(method, "GET" | "HEAD" | "OPTIONS") {
        let host = named("host").map_or("cove.test", |(_, v)| *v);
        if named("host").is_none() {
            req = req.header("host", host);
        }
        if named("origin").is_none() {
            req = req.header("origin", format!("http://{host}"));
        }
    }
    for (k, v) in headers {
        if !(k.eq_ignore_ascii_case("origin") && v.is_empty()) {
            req = req.header(*k, *v);
        }
    }
    let req = req
        .body(body.map_or_else(axum::body::Body::empty, Into::into))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts.status, parts.headers, bytes.to_vec())
}

/// Create merchant `id` on an in-process app with the operator token;
/// returns its API key.
pub async fn create_merchant(app: &axum::Router, id: &str) -> String {
    let (status, body) = call(
        app,
        "POST",
        "/v1/merchants",
        OPERATOR_TOKEN,
        json!({ "id": id }),
    )
    .await;
    assert_eq!(status, axum::http::StatusCode::CREATED, "{body}");
    body["api_key"].as_str().expect("api_key").to_string()
}

/// Create merchant `id` on a running host (`HostProcess::url`) with the
/// operator token; returns its API key.
pub fn create_merchant_on(url: &str, id: &str) -> String {
    let created: Value = reqwest::blocking::Client::new()
        .post(format!("{url}/v1/merchants"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({ "id": id }))
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("merchant created");
    created["api_key"].as_str().expect("api_key").to_string()
}

/// A JSON request with a bearer key to an in-process app: status and the
/// JSON body (`Null` if none).
pub async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    key: &str,
    body: Value,
) -> (axum::http::StatusCode, Value) {
    let auth = format!("Bearer {key}");
    let body = (!body.is_null()).then(|| body.to_string());
    let (status, _, bytes) = request(app, method, uri, &[("authorization", &auth)], body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// What a plugin author does with only the `cove` binary: `cove plugin new
/// NAME --world WORLD [--contract V]` in `parent`, then `cargo test` and
/// `cargo build --release --target wasm32-wasip2` in the new crate.
/// Returns the component's path.
pub fn scaffold_and_build(
    parent: &Path,
    name: &str,
    world: &str,
    contract: Option<&str>,
) -> PathBuf {
    use std::process::{Command, Stdio};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Share compiled dependencies between scaffolded crates.
    let target = root.join("target/scaffold");
    let crate_dir = parent.join(name);
    let mut new = Command::new(cove_binary());
    new.args(["plugin", "new", name, "--world", world, "--dir"])
        .arg(&crate_dir)
        .stdout(Stdio::null());
    if let Some(v) = contract {
        new.args(["--contract", v]);
    }
    assert!(new.status().unwrap().success(), "cove plugin new {name}");
    for args in [
        &["test", "--quiet"][..],
        &["build", "--quiet", "--release", "--target", "wasm32-wasip2"],
    ] {
        let status = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&crate_dir)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            // The inner test run's report is not this suite's.
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "cargo {args:?} failed for {name}");
    }
    target.join(format!(
        "wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    ))
}

/// Publish the component at `path` to an in-process app with the operator
/// token: `query` is `name=…&version=…&publisher=…`. Status and JSON body.
pub async fn publish(
    app: &axum::Router,
    query: &str,
    path: &Path,
) -> (axum::http::StatusCode, Value) {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/v1/plugins?{query}"))
        .header("authorization", format!("Bearer {OPERATOR_TOKEN}"))
        .body(axum::body::Body::from(wasm(
            path.to_str().expect("utf-8 path"),
        )))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A shopper's question from `tests/data/questions.json`, with the article
/// a person picked as its answer before anything was searched.
#[derive(Clone, Debug)]
pub struct Question {
    /// The shopper's locale (as the widget and the API are asked).
    pub locale: String,
    /// What they typed.
    pub q: String,
    /// The right answer.
    pub article: String,
}

/// The labelled search questions (six languages, over the demo's articles).
pub fn questions() -> Vec<Question> {
    let file: Value = serde_json::from_str(include_str!("../data/questions.json"))
        .expect("tests/data/questions.json is valid");
    let text = |q: &Value, key: &str| {
        q[key]
            .as_str()
            .expect("a question's fields are text")
            .to_string()
    };
    file["questions"]
        .as_array()
        .expect("a list of questions")
        .iter()
        .map(|q| Question {
            locale: text(q, "locale"),
            q: text(q, "q"),
            article: text(q, "article"),
        })
        .collect()
}

/// Top-1 accuracy per locale: (right, asked, the questions missed with
/// what came first instead), from each question and the first article
/// search returned for it.
pub fn top1_by_locale(
    answers: &[(Question, Option<String>)],
) -> std::collections::BTreeMap<String, (usize, usize, Vec<String>)> {
    let mut out: std::collections::BTreeMap<String, (usize, usize, Vec<String>)> =
        Default::default();
    for (q, first) in answers {
        let entry = out.entry(q.locale.clone()).or_default();
        entry.1 += 1;
        if first.as_deref() == Some(q.article.as_str()) {
            entry.0 += 1;
        } else {
            entry
                .2
                .push(format!("{:?} → {first:?} (want {})", q.q, q.article));
        }
    }
    out
}

/// `cove-bench ARGS --smoke` (the bench at the test suite's size, so it
/// cannot rot): it must run to the end; its figures, the last line (JSON).
pub fn bench_smoke(args: &[&str]) -> Value {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/cove-bench");
    let out = Command::new(&bench)
        .args(args)
        .arg("--smoke")
        .output()
        .expect("running cove-bench (`cargo build --release --workspace` builds it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cove-bench {args:?} --smoke failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("cove-bench {args:?}: the last line is not JSON ({e}):\n{text}"))
}

/// Run the reference oracle `tests/oracles/{script}` (Python, in the venv
/// `make deps-test` builds with the references from PyPI) on `input`:
/// its JSON answer.
pub fn oracle(script: &str, input: &Value) -> Value {
    use std::io::Write;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/oracles/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make deps-test` (it installs the oracles from PyPI)",
        python.display()
    );
    let mut child = Command::new(python)
        .arg(root.join("tests/oracles").join(script))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("writing to the oracle");
    let out = child.wait_with_output().expect("oracle ran");
    assert!(out.status.success(), "the oracle {script} failed");
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}
