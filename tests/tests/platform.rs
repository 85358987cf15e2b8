//! The platform's protections: slow clients are cut off and the connection
//! ceiling does not lock anyone out for good (a real `cove serve`), each
//! merchant's request rate is enforced with `Retry-After` and set by the
//! operator only, and a database made before sqlx's migrator keeps its data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use cove_e2e::{HostProcess, OPERATOR_TOKEN, call, expect_error, host, test_limits};
use serde_json::{Value, json};

/// Open a connection and send half a request's headers.
fn half_request(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    s
}

/// Whether the server closed `s` (read gives end of file or an error)
/// before `guard`. The guard is far above the configured timeout (1 s) and
/// below what an unconfigured server allows (hyper's 30 s; before this
/// host set one, for ever), so it tells the setting is in force without
/// measuring how long closing took.
fn closed_by_server(mut s: TcpStream, guard: Duration) -> bool {
    s.set_read_timeout(Some(guard)).expect("timeout");
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // An answer (e.g. 408) before the close is fine; keep reading.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_clients_are_cut_off_and_the_ceiling_never_locks_others_out() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostProcess::start(
        dir.path(),
        &["--max-connections", "8", "--header-timeout-secs", "1"],
    );
    let addr = host.url.trim_start_matches("http://").to_string();
    // Twice the ceiling of clients that never finish their headers: the
    // first eight hold every connection, the rest wait to be accepted.
    let slow: Vec<TcpStream> = (0..16).map(|_| half_request(&addr)).collect();
    // Every one of them is closed by the server, the waiting ones after
    // they got their turn.
    for s in slow {
        assert!(closed_by_server(s, Duration::from_secs(15)));
    }
    // An idle keep-alive connection is closed too.
    let idle = TcpStream::connect(&addr).unwrap();
    assert!(closed_by_server(idle, Duration::from_secs(15)));
    // And a normal client is served afterwards.
    let body = reqwest::blocking::get(format!("{}/healthz", host.url))
        .expect("healthz")
        .text()
        .unwrap();
    assert!(body.contains("ok"), "{body}");
}

#[tokio::test]
async fn merchant_rates_are_enforced_with_retry_after_and_set_by_the_operator() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let op = OPERATOR_TOKEN;
    let (_, created) = call(&app, "POST", "/v1/merchants", op, json!({"id": "busy"})).await;
    let key = created["api_key"].as_str().expect("api key").to_string();

    // Only the operator sets limits, and nonsense is refused with a reason.
    let limits = json!({"requests_per_sec": 1.0, "burst": 3.0, "plugin_calls": 1});
    let (status, body) = call(
        &app,
        "PUT",
        "/v1/merchants/busy/limits",
        &key,
        limits.clone(),
    )
    .await;
    expect_error(
        status,
        &body,
        axum::http::StatusCode::FORBIDDEN,
        "forbidden",
    );
    let bad = json!({"requests_per_sec": 1.0, "burst": 3.0, "plugin_calls": 0});
    let (status, body) = call(&app, "PUT", "/v1/merchants/busy/limits", op, bad).await;
    expect_error(
        status,
        &body,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_limits",
    );
    let (status, body) = call(&app, "PUT", "/v1/merchants/busy/limits", op, limits).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["default"], false, "{body}");

    // The burst is served, then the merchant waits; the operator does not.
    let uri = "/v1/merchants/busy/slots";
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let auth = format!("Bearer {key}");
        let (status, headers, _) =
            cove_e2e::request(&app, "GET", uri, &[("authorization", &auth)], None).await;
        statuses.push(status.as_u16());
        retry_after = retry_after.or(headers.get("retry-after").cloned());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    let wait: u64 = retry_after
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let (status, _) = call(&app, "GET", uri, op, Value::Null).await;
    assert_eq!(status, 200);
    // Once a token is back (1 per second), the merchant reads its limits;
    // a merchant that does not exist has none.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = call(&app, "GET", "/v1/merchants/busy/limits", &key, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["limits"]["burst"], 3.0, "{body}");
    assert_eq!(body["limits"]["plugin_calls"], 1, "{body}");
    let (_, body) = call(&app, "GET", "/v1/merchants/other/limits", op, Value::Null).await;
    assert_eq!(body["code"], "not_found", "{body}");
}

#[tokio::test]
async fn a_database_from_before_the_sqlx_migrator_keeps_its_data() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cove.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    {
        // The schema as the earlier host left it, with its own
        // bookkeeping table and one published plugin.
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for file in [
            "migrations/sqlite/0001_init.sql",
            "src/kb/migrations/0002_articles.sql",
            "src/widget/migrations/0003_widget.sql",
        ] {
            let sql = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../host")
                    .join(file),
            )
            .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        sqlx::raw_sql(
            "CREATE TABLE cove_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
             INSERT INTO cove_migrations VALUES (1, 0), (2, 0), (3, 0);
             INSERT INTO plugins (name, version, publisher, world, sha256, size_bytes, wasm, published_at)
             VALUES ('old', '1.0.0', 'me', 'fatigue-policy', 'abc', 1, x'00', 0);",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let store = cove_host::platform::store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("the old database opens");
    let plugins = store.list_plugins().await.unwrap();
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0].contract, "0.1.0", "published before contracts");
    // Opening it again applies nothing twice.
    drop(store);
    cove_host::platform::store::Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("reopens");
}

/// Send a request whose body stops after `sent` of `declared` bytes, and
/// return the status line of the answer (read within `guard`).
fn stalled(
    addr: &str,
    (line, auth): (&str, &str),
    declared: usize,
    sent: &[u8],
    guard: Duration,
) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(guard)).unwrap();
    write!(
        s,
        "{line} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    s.write_all(sent).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// The data directory (the SQLite database with customers' personal data,
/// the secrets) is readable by the user running Cove only, even when it
/// existed before with looser rights.
#[test]
fn the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _host = HostProcess::start(&data, &[]);
    let mode = std::fs::metadata(&data).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    assert!(data.join("cove.db").exists());
}

#[test]
fn timeouts_follow_the_route_not_the_path_text() {
    let dir = tempfile::tempdir().unwrap();
    let host = HostProcess::start(dir.path(), &["--request-timeout-secs", "1"]);
    let addr = host.url.trim_start_matches("http://").to_string();
    // A merchant may be called `import`: its routes keep their timeout.
    let key = cove_e2e::create_merchant_on(&host.url, "import");
    let auth = format!("Authorization: Bearer {key}\r\n");
    let guard = Duration::from_secs(20);
    let status = stalled(
        &addr,
        ("PUT /v1/merchants/import/articles/a", &auth),
        200,
        b"{\"title\":",
        guard,
    );
    assert!(status.contains(" 408 "), "{status}");
    // The public endpoints too.
    let status = stalled(
        &addr,
        ("POST /public/v1/import/answers", "Origin: http://x\r\n"),
        200,
        b"{\"answers\":",
        guard,
    );
    assert!(status.contains(" 408 "), "{status}");
    // An import streams for as long as it takes, so it is cut off only
    // when it sends nothing for that long.
    let status = stalled(
        &addr,
        (
            "POST /v1/merchants/import/import/customers?format=ndjson",
            &auth,
        ),
        200,
        b"{\"id\":",
        guard,
    );
    assert!(status.contains(" 408 "), "{status}");
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(guard)).unwrap();
    let lines: Vec<String> = (0..5)
        .map(|i| format!("{{\"id\":\"c{i}\",\"email\":\"c{i}@example.com\"}}\n"))
        .collect();
    let len: usize = lines.iter().map(String::len).sum();
    write!(
        s,
        "POST /v1/merchants/import/import/customers?format=ndjson HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {len}\r\n\r\n"
    )
    .unwrap();
    // Five lines over about 2.5 s: longer than the request timeout, never
    // a second without a byte.
    for line in &lines {
        s.write_all(line.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    while !answer.contains("\"inserted\"") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"inserted\":5"), "{answer}");
}
