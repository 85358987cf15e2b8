//! `cove`: run the host, and drive it (publish, bind, roll back) from a shell.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use cove_host::platform::fair::MerchantLimits;
use cove_host::platform::registry::Upload;
use cove_host::platform::runtime::Limits;
use cove_host::platform::serve::ConnLimits;
use cove_host::platform::slots::{Contract, Slot};
use cove_host::platform::{REFERENCE_PUBLISHER, create_bound};
use cove_host::{AppState, Settings};
use serde_json::{Value, json};

/// Every request allocates JSON values, component values and sandbox state
/// on two or more threads at once; mimalloc's per-thread heaps keep that
/// off a shared lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cove",
    version,
    about = "Cove: customer-experience policies as sandboxed WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the host.
    Serve(Serve),
    /// Publish, list, yank or scaffold plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Create merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Point a merchant's slot at a plugin version (and config).
    Bind {
        #[command(flatten)]
        client: Client,
        /// Merchant id.
        merchant: String,
        /// Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser.
        slot: String,
        /// Plugin as name@version.
        plugin: String,
        /// A setting, `key=value`; repeat for more.
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Import a file of customers, orders, events or consents (CSV, with
    /// Cove's or Shopify's columns, or NDJSON) for a merchant.
    Import(ImportArgs),
    /// Restore the binding in force before the latest change.
    Rollback {
        #[command(flatten)]
        client: Client,
        /// Merchant id.
        merchant: String,
        /// Slot.
        slot: String,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Upload a component built for wasm32-wasip2.
    Publish {
        #[command(flatten)]
        client: Client,
        /// The .wasm file.
        file: PathBuf,
        /// Plugin name (default: the file name, `_` → `-`).
        #[arg(long)]
        name: Option<String>,
        /// Semantic version.
        #[arg(long)]
        version: String,
        /// Who publishes it (default: the name's namespace, `acme` for
        /// `acme/fatigue`; else `unknown`).
        #[arg(long)]
        publisher: Option<String>,
    },
    /// List published versions.
    List {
        #[command(flatten)]
        client: Client,
    },
    /// Stop a version from being bound anew (bindings in force keep it).
    Yank {
        #[command(flatten)]
        client: Client,
        /// Plugin name.
        name: String,
        /// Version.
        version: String,
    },
    /// Run logged decisions again through a local build (same input,
    /// time, seed, config and limits), printing each difference.
    Replay {
        #[command(flatten)]
        client: Client,
        /// Merchant id.
        #[arg(long)]
        merchant: String,
        /// Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser.
        #[arg(long)]
        slot: String,
        /// Only decisions at or after this time (ms since the epoch).
        #[arg(long)]
        since: Option<i64>,
        /// Only this decision.
        #[arg(long)]
        decision: Option<String>,
        /// At most this many, newest first.
        #[arg(long, default_value_t = 200)]
        limit: u32,
        /// Also run them through the plugin's crate in DIR compiled
        /// natively (its `cove_replay` test, written by the SDK's export
        /// macro), to step through a decision with native tools.
        #[arg(long, value_name = "DIR")]
        native: Option<PathBuf>,
        /// The .wasm file.
        file: PathBuf,
    },
    /// Make a publisher key pair: the secret into FILE (owner-only), the
    /// public key printed (register it with POST /v1/publishers).
    Keygen {
        /// Where to write the secret key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a component with a publisher's secret key: writes FILE.sig,
    /// which `cove plugin publish` sends with it.
    Sign {
        /// The secret key file (`cove plugin keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The .wasm file.
        file: PathBuf,
    },
    /// Scaffold a plugin crate that builds and passes its tests.
    New {
        /// Crate name (lower-case, dashes).
        name: String,
        /// World: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser.
        #[arg(long)]
        world: String,
        /// Directory to create (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Contract version to build against (default: the newest).
        #[arg(long)]
        contract: Option<String>,
    },
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Create a merchant; prints its API key once.
    Create {
        #[command(flatten)]
        client: Client,
        /// Merchant id.
        id: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Args)]
struct ImportArgs {
    /// Host URL.
    #[arg(long, env = "COVE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The merchant's API key.
    #[arg(long, env = "COVE_API_KEY", hide_env_values = true)]
    key: String,
    /// customers, orders, events or consents.
    entity: String,
    /// The file (`.csv`, else NDJSON).
    file: PathBuf,
}

#[derive(Args)]
struct Client {
    /// Host URL.
    #[arg(long, env = "COVE_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Operator token (default: COVE_OPERATOR_TOKEN, else .cove/operator-token).
    #[arg(long, env = "COVE_OPERATOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Args)]
struct Serve {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the SQLite database, compiled-plugin cache and token.
    #[arg(long, default_value = ".cove")]
    data_dir: PathBuf,
    /// Database: `sqlite://PATH` or `postgres://…` (default: SQLite in the data folder).
    #[arg(long, env = "COVE_DATABASE_URL")]
    database_url: Option<String>,
    /// Operator token (default: read or create DATA_DIR/operator-token).
    #[arg(long, env = "COVE_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: Option<String>,
    /// How often to check the database for binding changes made by other replicas.
    #[arg(long, default_value_t = 200)]
    sync_ms: u64,
    /// Publish every plugin in this folder as a reference plugin and create
    /// the `demo` merchant (idempotent).
    #[arg(long, value_name = "DIR")]
    seed_demo: Option<PathBuf>,
    /// Per-call wall-clock deadline in milliseconds.
    #[arg(long, default_value_t = Limits::default().deadline_ms)]
    deadline_ms: u64,
    /// Per-call fuel (≈ instructions).
    #[arg(long, default_value_t = Limits::default().fuel)]
    fuel: u64,
    /// Linear-memory ceiling per call, in MiB.
    #[arg(long, default_value_t = Limits::default().memory_bytes >> 20)]
    memory_mib: usize,
    /// Largest component accepted at publish, in KiB.
    #[arg(long, default_value_t = Limits::default().component_bytes >> 10)]
    component_kib: usize,
    /// How long compiling an upload may take, in seconds.
    #[arg(long, default_value_t = Limits::default().compile_ms / 1000)]
    compile_timeout_secs: u64,
    /// Largest answer accepted, in KiB.
    #[arg(long, default_value_t = Limits::default().output_bytes >> 10)]
    output_kib: usize,
    /// The built storefront widget (`make widget` puts it in target/widget).
    #[arg(long, value_name = "DIR")]
    widget_dir: Option<PathBuf>,
    /// Widget endpoints: requests one visitor may make in a burst.
    #[arg(long, default_value_t = 120.0)]
    public_burst: f64,
    /// Widget endpoints: requests per second one visitor gets back.
    #[arg(long, default_value_t = 4.0)]
    public_per_sec: f64,
    /// Wrong API keys, tokens or console sessions one address may send
    /// at once; after that one per 2 s, each over it a 429. Raised above
    /// its default, it is also how many failures one account (an e-mail
    /// address, a key's prefix) may have before its waits begin.
    #[arg(long, default_value_t = cove_host::platform::guard::BAD_AUTH_BURST)]
    bad_auth_burst: f64,
    /// Behind a proxy: the header with the visitor's address (its first
    /// entry is used), e.g. x-forwarded-for. Only set it if the proxy
    /// overwrites the header; otherwise visitors could pick their own.
    #[arg(long, value_name = "HEADER")]
    client_ip_header: Option<String>,
    /// Most HTTP connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = ConnLimits::default().max_connections)]
    max_connections: usize,
    /// Seconds a client has to send a request's headers; also how long an
    /// idle keep-alive connection stays open.
    #[arg(long, default_value_t = ConnLimits::default().header_timeout.as_secs())]
    header_timeout_secs: u64,
    /// Seconds a request may take to send its body and be answered; for
    /// streaming uploads (imports), seconds they may go without a byte
    /// (0: no limit).
    #[arg(long, default_value_t = cove_host::platform::serve::REQUEST_TIMEOUT.as_secs())]
    request_timeout_secs: u64,
    /// Owners must sign in to the console with a one-time code (TOTP) as
    /// well as their password.
    #[arg(long, env = "COVE_OWNER_TOTP")]
    owner_totp: bool,
    /// Run only signed plugins: refuse unsigned uploads, and bindings of
    /// versions published unsigned.
    #[arg(long, env = "COVE_REQUIRE_SIGNATURES")]
    require_signatures: bool,
    /// Default per-merchant limit: API requests per second (0: none).
    /// The operator sets other limits per merchant with
    /// `PUT /v1/merchants/{m}/limits`.
    #[arg(long, default_value_t = MerchantLimits::default().requests_per_sec)]
    merchant_rps: f64,
    /// Default per-merchant limit: requests at once above the rate (burst).
    #[arg(long, default_value_t = MerchantLimits::default().burst)]
    merchant_burst: f64,
    /// Default per-merchant limit: plugin calls running at once.
    #[arg(long, default_value_t = MerchantLimits::default().plugin_calls)]
    merchant_plugin_calls: u32,
    /// Default per-merchant limit: MiB that visitors' uploads (return
    /// photos) may take in all.
    #[arg(long, default_value_t = MerchantLimits::default().upload_mb)]
    merchant_upload_mb: u32,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(s) => serve(s).await,
            Command::Plugin(PluginCommand::New { name, world, dir, contract }) => {
                let slot = Slot::from_world(&world).with_context(|| {
                    let worlds: Vec<_> = Slot::ALL.iter().map(|s| s.world()).collect();
                    format!("unknown world `{world}`; the worlds are {}", worlds.join(", "))
                })?;
                let contract = match contract {
                    Some(v) => Contract::parse(&v).with_context(|| {
                        format!("this cove serves contract versions {}, not `{v}`", Contract::served())
                    })?,
                    None => Contract::NEWEST,
                };
                let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
                cove_host::platform::scaffold::new_plugin(&dir, &name, slot, contract)?;
                println!("created {}: `cargo test` runs its unit test; `cargo build --release --target wasm32-wasip2` builds the component", dir.display());
                Ok(())
            }
            Command::Plugin(PluginCommand::Keygen { out }) => {
                let (secret, public) = cove_host::platform::signing::keygen();
                anyhow::ensure!(!out.exists(), "{} exists; not overwriting a key", out.display());
                write_secret(&out, &secret)?;
                println!("{public}");
                Ok(())
            }
            Command::Plugin(PluginCommand::Sign { key, file }) => {
                let secret = std::fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?;
                let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let signature = cove_host::platform::signing::sign(&secret, &wasm).map_err(anyhow::Error::msg)?;
                let out = PathBuf::from(format!("{}.sig", file.display()));
                std::fs::write(&out, &signature)?;
                println!("{signature}");
                Ok(())
            }
            Command::Plugin(PluginCommand::Publish { client, file, name, version, publisher }) => {
                let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let name = name.unwrap_or_else(|| file_plugin_name(&file));
                let publisher = publisher
                    .or_else(|| name.split_once('/').map(|(namespace, _)| namespace.to_string()))
                    .unwrap_or_else(|| "unknown".into());
                let mut url = format!("{}/v1/plugins?name={name}&version={version}&publisher={publisher}", client.url);
                // A signature beside the file (`cove plugin sign`) goes with it.
                if let Ok(signature) = std::fs::read_to_string(format!("{}.sig", file.display())) {
                    url.push_str(&format!("&signature={}", signature.trim()));
                }
                print(client.request(reqwest::Method::POST, &url)?.body(wasm)).await
            }
            Command::Plugin(PluginCommand::Replay { client, merchant, slot, since, decision, limit, native, file }) => {
                let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let slot = Slot::from_world(&slot).with_context(|| format!("unknown slot `{slot}`"))?;
                let mut url = format!("{}/v1/merchants/{merchant}/decisions?full=true&slot={slot}&limit={limit}", client.url);
                if let Some(since) = since {
                    url.push_str(&format!("&since={since}"));
                }
                if let Some(id) = decision {
                    url.push_str(&format!("&ids={id}"));
                }
                let request = client.request(reqwest::Method::GET, &url)?;
                let decisions = cove_host::decisions::replay::fetch(&request).await?;
                let summary = cove_host::decisions::replay::replay_local(&decisions, &wasm, slot, &mut std::io::stdout()).await?;
                if let Some(dir) = native {
                    let runtime = cove_host::platform::runtime::Runtime::new(Default::default())?;
                    let (built_for, contract, component) = cove_host::platform::registry::inspect(&runtime, &wasm)
                        .map_err(|e| anyhow::anyhow!("the component is refused: {e}"))?;
                    anyhow::ensure!(built_for == slot, "the component is a {built_for}, not a {slot}");
                    let prepared = runtime.prepare(&component, slot, contract).map_err(anyhow::Error::msg)?;
                    let native = cove_host::decisions::native::replay_native(&runtime, &prepared, slot, &decisions, &dir, &mut std::io::stdout())?;
                    if native.different > 0 {
                        bail!("{} of {} decisions answer differently natively", native.different, native.run);
                    }
                }
                if summary.different > 0 {
                    bail!("{} of {} decisions differ", summary.different, summary.replayed);
                }
                Ok(())
            }
            Command::Plugin(PluginCommand::List { client }) => {
                let url = format!("{}/v1/plugins", client.url);
                print(client.request(reqwest::Method::GET, &url)?).await
            }
            Command::Plugin(PluginCommand::Yank { client, name, version }) => {
                let url = format!("{}/v1/plugins/{name}/{version}/yank", client.url);
                print(client.request(reqwest::Method::POST, &url)?).await
            }
            Command::Merchant(MerchantCommand::Create { client, id, name }) => {
                let url = format!("{}/v1/merchants", client.url);
                print(client.request(reqwest::Method::POST, &url)?.json(&json!({"id": id, "name": name}))).await
            }
            Command::Bind { client, merchant, slot, plugin, config } => {
                let mut settings = serde_json::Map::new();
                for kv in config {
                    let (k, v) = kv.split_once('=').with_context(|| format!("--config `{kv}` is not KEY=VALUE"))?;
                    settings.insert(k.to_string(), Value::String(v.to_string()));
                }
                let url = format!("{}/v1/merchants/{merchant}/slots/{slot}", client.url);
                print(client.request(reqwest::Method::PUT, &url)?.json(&json!({"plugin": plugin, "config": settings}))).await
            }
            Command::Import(args) => cove_host::customers::cli::import(&args.url, &args.key, &args.entity, &args.file).await,
            Command::Rollback { client, merchant, slot } => {
                let url = format!("{}/v1/merchants/{merchant}/slots/{slot}/rollback", client.url);
                print(client.request(reqwest::Method::POST, &url)?).await
            }
        }
    })
}

fn file_plugin_name(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_default()
}

impl Client {
    fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> anyhow::Result<reqwest::RequestBuilder> {
        let token = match &self.token {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(".cove/operator-token")
                .map(|t| t.trim().to_string())
                .context("no operator token: set COVE_OPERATOR_TOKEN or pass --token")?,
        };
        let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
        Ok(reqwest::Client::new()
            .request(method, url)
            .bearer_auth(token)
            .header("x-cove-actor", actor))
    }
}

async fn print(request: reqwest::RequestBuilder) -> anyhow::Result<()> {
    let response = request
        .send()
        .await
        .context("could not reach the Cove host")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    println!("{}", serde_json::to_string_pretty(&body)?);
    if !status.is_success() {
        bail!("the host answered {status}");
    }
    Ok(())
}

async fn serve(s: Serve) -> anyhow::Result<()> {
    std::fs::create_dir_all(&s.data_dir)
        .with_context(|| format!("creating {}", s.data_dir.display()))?;
    // The database holds customers' personal data, and the directory the
    // secrets: only the user running Cove may read them.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&s.data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", s.data_dir.display()))?;
    }
    let token = match s.operator_token {
        Some(t) => t,
        None => {
            let path = s.data_dir.join("operator-token");
            match std::fs::read_to_string(&path) {
                Ok(t) => t.trim().to_string(),
                Err(_) => {
                    let t = format!("op_{}", hex::encode(rand::random::<[u8; 24]>()));
                    write_secret(&path, &t)
                        .with_context(|| format!("writing {}", path.display()))?;
                    t
                }
            }
        }
    };
    let database_url = s
        .database_url
        .unwrap_or_else(|| format!("sqlite://{}", s.data_dir.join("cove.db").display()));
    let limits = Limits {
        deadline_ms: s.deadline_ms,
        fuel: s.fuel,
        memory_bytes: s.memory_mib << 20,
        component_bytes: s.component_kib << 10,
        compile_ms: s.compile_timeout_secs.saturating_mul(1000),
        output_bytes: s.output_kib << 10,
        ..Limits::default()
    };
    let state = AppState::new(Settings {
        database_url,
        operator_token: token,
        cache_dir: Some(s.data_dir.join("cache")),
        limits,
        widget_dir: s.widget_dir.clone(),
        demo: s.seed_demo.is_some(),
        public_rate: (s.public_burst, s.public_per_sec),
        bad_auth_burst: s.bad_auth_burst,
        client_ip_header: s.client_ip_header.clone(),
        merchant_limits: MerchantLimits {
            requests_per_sec: s.merchant_rps,
            burst: s.merchant_burst,
            plugin_calls: s.merchant_plugin_calls,
            upload_mb: s.merchant_upload_mb,
        },
        request_timeout: (s.request_timeout_secs > 0)
            .then(|| Duration::from_secs(s.request_timeout_secs)),
        owner_totp: s.owner_totp,
        require_signatures: s.require_signatures,
    })
    .await
    .context("starting the host")?;
    let cove_key = reference_key(&state, &s.data_dir).await?;
    if let Some(dir) = &s.seed_demo {
        seed_demo(&state, dir, &s.data_dir, &cove_key)
            .await
            .context("seeding the demo")?;
    }
    state.spawn_tasks(Duration::from_millis(s.sync_ms));
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .with_context(|| format!("listening on {}", s.listen))?;
    tracing::info!("Cove listening on http://{}", listener.local_addr()?);
    let connections = state.metrics.connections.clone();
    let limits = ConnLimits {
        max_connections: s.max_connections.max(1),
        header_timeout: Duration::from_secs(s.header_timeout_secs.max(1)),
    };
    cove_host::platform::serve::serve(
        listener,
        cove_host::app(state),
        limits,
        connections,
        async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("signal handler");
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
        },
    )
    .await?;
    Ok(())
}

/// The reference publisher's secret key: generated at first start into
/// the data directory (readable by its owner only), its public key
/// registered as publisher `cove`.
async fn reference_key(state: &AppState, data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("publisher-cove.key");
    let secret = match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().to_string(),
        Err(_) => {
            let (secret, _) = cove_host::platform::signing::keygen();
            write_secret(&path, &secret)?;
            secret
        }
    };
    let public = cove_host::platform::signing::public_of(&secret).map_err(anyhow::Error::msg)?;
    match state.store.publisher(REFERENCE_PUBLISHER).await? {
        None => {
            state
                .store
                .insert_publisher(&cove_host::platform::store::PublisherRow {
                    name: REFERENCE_PUBLISHER.into(),
                    public_key: public,
                    created_at: cove_host::now_ms(),
                    revoked_at: None,
                })
                .await?;
        }
        Some(p) if p.public_key != public => tracing::warn!(
            "publisher `{REFERENCE_PUBLISHER}` is registered with another key than {}: reference plugins will not publish",
            path.display()
        ),
        Some(_) => {}
    }
    Ok(secret)
}

/// Publish the reference plugins found in `dir` (signed with the
/// reference key) and create the `demo` merchant with them bound. Safe to
/// run on every start.
async fn seed_demo(state: &AppState, dir: &Path, data_dir: &Path, key: &str) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = file_plugin_name(&path);
        if path.extension().is_none_or(|e| e != "wasm") || name.starts_with("hostile") {
            continue;
        }
        let wasm = std::fs::read(&path)?;
        let signature =
            cove_host::platform::signing::sign(key, &wasm).map_err(anyhow::Error::msg)?;
        match state
            .registry
            .publish(Upload {
                name: &name,
                version,
                publisher: REFERENCE_PUBLISHER,
                wasm: &wasm,
                signature: Some(&signature),
            })
            .await
        {
            Ok((row, _)) => tracing::info!(
                "reference plugin {}@{} ({})",
                row.name,
                row.version,
                row.world
            ),
            Err(e) => tracing::warn!("skipping {}: {e}", path.display()),
        }
    }
    if !state.store.merchant_exists("demo").await? {
        let key = cove_host::platform::keys::new_secret();
        let bound = create_bound(state, "demo", "Demo Store", &key)
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo merchant: {}", e.message()))?;
        write_secret(&data_dir.join("demo-api-key"), &key)?;
        tracing::info!(
            ?bound,
            "created merchant `demo`; its API key is in {}",
            data_dir.join("demo-api-key").display()
        );
    }
    state.seed_demo("demo").await
}

/// Write a token readable by its owner only.
fn write_secret(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?
        .write_all(secret.as_bytes())
}
