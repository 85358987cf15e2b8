//! Plugin registry: validates an uploaded component, content-addresses it
//! (sha256), stores the immutable version, and keeps compiled, linked
//! components cached in memory and on disk so each is compiled once.

use crate::platform::http::Code;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::platform::runtime::{HOST_IMPORTS, Prepared, Runtime, TOLERATED_IMPORTS};
use crate::platform::slots::{Contract, Slot};
use crate::platform::store::{PluginRow, Store, StoreError};

/// Why an upload was refused; each names the rule that failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Name is not lower-case letters, digits and dashes (with one
    /// `publisher/` in front at most).
    #[error(
        "plugin name `{0}` must be 1-64 lower-case letters, digits or dashes, starting with a letter, with its publisher's namespace in front if any (`acme/fatigue`)"
    )]
    BadName(String),
    /// A namespaced name published by someone else than its namespace's
    /// publisher, or by one without a registered key.
    #[error("{0}")]
    Namespace(String),
    /// Version is not semver.
    #[error("version `{0}` is not a semantic version like 1.2.3")]
    BadVersion(String),
    /// Publisher missing.
    #[error("publisher must be 1-64 characters")]
    BadPublisher,
    /// Over the component-size limit.
    #[error(
        "component is {size} bytes; the limit is {limit} bytes (build with --release, opt-level \"s\" and strip)"
    )]
    TooLarge {
        /// Upload size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a WebAssembly component (maybe a core module).
    #[error(
        "not a WebAssembly component: {0}. Build for the wasm32-wasip2 target, which produces a component"
    )]
    NotAComponent(String),
    /// Exports no known world.
    #[error("the component implements no Cove world: it must export one of {0}")]
    NoKnownWorld(String),
    /// Exports a Cove interface of a version this host does not serve.
    #[error(
        "the component exports `{0}`, but this host serves cove:policy versions {1}; rebuild it with the cove-sdk of one of them (`cove plugin new` writes the newest)"
    )]
    WrongWorldVersion(String, String),
    /// Exports several worlds.
    #[error("the component implements several worlds ({0}); a plugin implements exactly one")]
    SeveralWorlds(String),
    /// Imports something the host does not provide.
    #[error(
        "the component imports `{0}`, which plugins may not use: the sandbox offers only cove:policy/host (no files, network, clock or environment)"
    )]
    ForbiddenImport(String),
    /// Export types differ from the world.
    #[error("{0}")]
    ExportMismatch(String),
    /// name@version exists with other bytes.
    #[error(
        "{name}@{version} is already published with different contents; versions are immutable, publish a new version"
    )]
    VersionExists {
        /// Plugin name.
        name: String,
        /// Version.
        version: String,
    },
    /// Unsigned, where a signature is needed: the host requires them, or
    /// the publisher named has a registered key.
    #[error("{0}")]
    Unsigned(String),
    /// Signed, but by a publisher this host does not know.
    #[error(
        "publisher `{0}` is not registered on this host; the operator registers its public key first (POST /v1/publishers)"
    )]
    UnknownPublisher(String),
    /// The signature does not hold.
    #[error("the signature is refused: {0}")]
    BadSignature(String),
    /// The publisher's key was revoked.
    #[error(
        "publisher `{0}`'s key was revoked on this host; its plugins can no longer be published or bound"
    )]
    PublisherRevoked(String),
    /// Compiling took longer than the host allows.
    #[error(
        "compiling the component took longer than {0} s; a plugin this large or intricate is refused"
    )]
    CompileTimeout(u64),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PublishError {
    /// Stable machine-readable code.
    pub fn code(&self) -> Code {
        match self {
            PublishError::BadName(_) => Code::InvalidName,
            PublishError::Namespace(_) => Code::WrongNamespace,
            PublishError::BadVersion(_) => Code::InvalidVersion,
            PublishError::BadPublisher => Code::InvalidPublisher,
            PublishError::TooLarge { .. } => Code::ComponentTooLarge,
            PublishError::NotAComponent(_) => Code::NotAComponent,
            PublishError::NoKnownWorld(_) => Code::UnknownWorld,
            PublishError::WrongWorldVersion(..) => Code::WorldVersionMismatch,
            PublishError::SeveralWorlds(_) => Code::SeveralWorlds,
            PublishError::ForbiddenImport(_) => Code::ForbiddenImport,
            PublishError::ExportMismatch(_) => Code::ExportMismatch,
            PublishError::VersionExists { .. } => Code::VersionExists,
            PublishError::CompileTimeout(_) => Code::CompileTimeout,
            PublishError::Unsigned(_) => Code::UnsignedPlugin,
            PublishError::UnknownPublisher(_) => Code::UnknownPublisher,
            PublishError::BadSignature(_) => Code::BadSignature,
            PublishError::PublisherRevoked(_) => Code::PublisherRevoked,
            PublishError::Store(_) => Code::Internal,
        }
    }
}

/// An upload's metadata.
pub struct Upload<'a> {
    /// Plugin name.
    pub name: &'a str,
    /// Semver version.
    pub version: &'a str,
    /// Publisher.
    pub publisher: &'a str,
    /// Component bytes.
    pub wasm: &'a [u8],
    /// The publisher's Ed25519 signature of the bytes' SHA-256 (hex).
    pub signature: Option<&'a str>,
}

/// The registry.
pub struct Registry {
    runtime: Arc<Runtime>,
    store: Store,
    cache_dir: Option<PathBuf>,
    prepared: Mutex<HashMap<i64, Arc<Prepared>>>,
    /// Refuse unsigned uploads (`cove serve --require-signatures`).
    pub require_signatures: bool,
    /// Uploads compile one at a time, so publishing never takes every core.
    compiling: tokio::sync::Semaphore,
}

/// Which slot and contract version a component implements, checked
/// against every publish rule except storage. Returns the compiled
/// component too.
pub fn inspect(
    runtime: &Runtime,
    wasm: &[u8],
) -> Result<(Slot, Contract, Component), PublishError> {
    let limit = runtime.limits.component_bytes;
    if wasm.len() > limit {
        return Err(PublishError::TooLarge {
            size: wasm.len(),
            limit,
        });
    }
    let component = runtime
        .compile(wasm)
        .map_err(|e| PublishError::NotAComponent(format!("{e:#}")))?;
    let ty = component.component_type();
    let engine = runtime.engine();
    let split = |name: &str| -> (String, Option<String>) {
        match name.split_once('@') {
            Some((base, version)) => (base.to_string(), Some(version.to_string())),
            None => (name.to_string(), None),
        }
    };

    let mut found = Vec::new();
    for (name, _) in ty.exports(engine) {
        let (base, version) = split(name);
        let Some(slot) = Slot::ALL.into_iter().find(|s| s.interface() == base) else {
            continue;
        };
        match version.as_deref().and_then(Contract::parse) {
            Some(contract) => found.push((slot, contract)),
            None => {
                return Err(PublishError::WrongWorldVersion(
                    name.to_string(),
                    Contract::served(),
                ));
            }
        }
    }
    let (slot, contract) = match found.as_slice() {
        [one] => *one,
        [] => {
            let known: Vec<_> = Slot::ALL
                .iter()
                .map(|s| s.export_name(Contract::NEWEST))
                .collect();
            return Err(PublishError::NoKnownWorld(known.join(", ")));
        }
        many => {
            let names: Vec<_> = many.iter().map(|(s, _)| s.world()).collect();
            return Err(PublishError::SeveralWorlds(names.join(", ")));
        }
    };
    for (name, _) in ty.imports(engine) {
        let (base, version) = split(name);
        // The host interface of the plugin's own contract version, and
        // the stdio stubs Rust's std links.
        let host_ok =
            HOST_IMPORTS.contains(&base.as_str()) && version.as_deref() == Some(contract.version());
        if !host_ok && !TOLERATED_IMPORTS.contains(&base.as_str()) {
            return Err(PublishError::ForbiddenImport(name.to_string()));
        }
    }
    runtime
        .prepare(&component, slot, contract)
        .map_err(PublishError::ExportMismatch)?;
    Ok((slot, contract, component))
}

fn valid_name(name: &str) -> bool {
    match name.split_once('/') {
        Some((publisher, rest)) => valid_part(publisher) && valid_part(rest),
        None => valid_part(name),
    }
}

/// A name, or a namespace: 1-64 lower-case letters, digits or dashes,
/// starting with a letter.
fn valid_part(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Registry {
    /// A registry over `store`, caching compiled code in `cache_dir`.
    pub fn new(runtime: Arc<Runtime>, store: Store, cache_dir: Option<PathBuf>) -> Registry {
        if let Some(dir) = &cache_dir {
            let _ = std::fs::create_dir_all(dir);
        }
        Registry {
            runtime,
            store,
            cache_dir,
            prepared: Mutex::new(HashMap::new()),
            require_signatures: false,
            compiling: tokio::sync::Semaphore::new(1),
        }
    }

    /// Validate and store a new plugin version. Publishing identical bytes
    /// under an existing name@version is a no-op that returns the version
    /// (`false` = not newly created).
    pub async fn publish(&self, up: Upload<'_>) -> Result<(PluginRow, bool), PublishError> {
        if !valid_name(up.name) {
            return Err(PublishError::BadName(up.name.to_string()));
        }
        let version = semver::Version::parse(up.version)
            .map_err(|_| PublishError::BadVersion(up.version.to_string()))?;
        if up.publisher.is_empty() || up.publisher.len() > 64 {
            return Err(PublishError::BadPublisher);
        }
        // `acme/fatigue` belongs to publisher `acme`, whose key must sign
        // it: nobody publishes in another's namespace.
        if let Some((namespace, _)) = up.name.split_once('/') {
            if namespace != up.publisher {
                return Err(PublishError::Namespace(format!(
                    "`{}` is in publisher `{namespace}`'s namespace; publisher `{}` cannot publish it",
                    up.name, up.publisher
                )));
            }
            if self.store.publisher(namespace).await?.is_none() {
                return Err(PublishError::Namespace(format!(
                    "`{}` is in publisher `{namespace}`'s namespace, and `{namespace}` has no registered key: register it (POST /v1/publishers) and sign the component, or publish without a namespace",
                    up.name
                )));
            }
        }
        let digest = Sha256::digest(up.wasm);
        let sha256 = hex::encode(digest);
        let signed = self.check_signature(&up, &digest).await?;
        if let Some(existing) = self.store.get_plugin(up.name, &version.to_string()).await? {
            return if existing.sha256 == sha256 {
                Ok((existing, false))
            } else {
                Err(PublishError::VersionExists {
                    name: up.name.into(),
                    version: version.to_string(),
                })
            };
        }
        let runtime = self.runtime.clone();
        let wasm = up.wasm.to_vec();
        let limit = std::time::Duration::from_millis(runtime.limits.compile_ms);
        // Compilation takes tens of milliseconds: keep it off the async
        // workers, one upload at a time, and answer when it takes too long
        // (the compiler thread finishes on its own; its result is dropped).
        let _turn = self.compiling.acquire().await;
        let compiled = tokio::task::spawn_blocking(move || inspect(&runtime, &wasm));
        let (slot, contract, component) = tokio::time::timeout(limit, compiled)
            .await
            .map_err(|_| PublishError::CompileTimeout(limit.as_secs()))?
            .map_err(|e| PublishError::NotAComponent(e.to_string()))??;
        let row = PluginRow {
            id: 0,
            name: up.name.to_string(),
            version: version.to_string(),
            publisher: up.publisher.to_string(),
            world: slot.world().to_string(),
            contract: contract.version().to_string(),
            sha256,
            size_bytes: up.wasm.len() as i64,
            published_at: crate::now_ms(),
            yanked_at: None,
            signed,
        };
        let row = match self.store.insert_plugin(&row, up.wasm).await {
            Ok(row) => row,
            Err(StoreError::Conflict) => {
                return Err(PublishError::VersionExists {
                    name: row.name,
                    version: row.version,
                });
            }
            Err(e) => return Err(e.into()),
        };
        self.write_cache(&row.sha256, &component);
        Ok((row, true))
    }

    /// Whether the upload is signed by its publisher's registered key:
    /// a signature must hold; a registered publisher's uploads, and every
    /// upload when the host requires signatures, must carry one.
    async fn check_signature(&self, up: &Upload<'_>, digest: &[u8]) -> Result<bool, PublishError> {
        let publisher = self.store.publisher(up.publisher).await?;
        match (up.signature, publisher) {
            (_, Some(p)) if p.revoked_at.is_some() => Err(PublishError::PublisherRevoked(p.name)),
            (Some(sig), Some(p)) => crate::platform::signing::verify(&p.public_key, digest, sig)
                .map(|()| true)
                .map_err(PublishError::BadSignature),
            (Some(_), None) => Err(PublishError::UnknownPublisher(up.publisher.to_string())),
            (None, Some(p)) => Err(PublishError::Unsigned(format!(
                "publisher `{}` has a registered key, so its plugins must be signed with it (`cove plugin sign`)",
                p.name
            ))),
            (None, None) if self.require_signatures => Err(PublishError::Unsigned(
                "this host runs only signed plugins: register the publisher's key, sign the component with `cove plugin sign`, and publish it with the signature".into(),
            )),
            (None, None) => Ok(false),
        }
    }

    /// The linked, ready-to-call form of a plugin version, compiled at most
    /// once per process (and loaded from the disk cache when present).
    pub async fn prepared(&self, plugin: &PluginRow) -> anyhow::Result<Arc<Prepared>> {
        if let Some(p) = self.prepared.lock().expect("cache lock").get(&plugin.id) {
            return Ok(p.clone());
        }
        let slot = Slot::from_world(&plugin.world).ok_or_else(|| {
            anyhow::anyhow!("plugin {} has unknown world {}", plugin.name, plugin.world)
        })?;
        let contract = Contract::parse(&plugin.contract).ok_or_else(|| {
            anyhow::anyhow!(
                "plugin {} was built against cove:policy@{}, which this host no longer serves",
                plugin.name,
                plugin.contract
            )
        })?;
        let component = match self.read_cache(&plugin.sha256) {
            Some(c) => c,
            None => {
                let wasm = self.store.plugin_wasm(plugin.id).await?;
                let runtime = self.runtime.clone();
                let component =
                    tokio::task::spawn_blocking(move || runtime.compile(&wasm)).await??;
                self.write_cache(&plugin.sha256, &component);
                component
            }
        };
        let prepared = Arc::new(
            self.runtime
                .prepare(&component, slot, contract)
                .map_err(anyhow::Error::msg)?,
        );
        self.prepared
            .lock()
            .expect("cache lock")
            .insert(plugin.id, prepared.clone());
        Ok(prepared)
    }

    fn cache_path(&self, sha256: &str) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.runtime
            .engine()
            .precompile_compatibility_hash()
            .hash(&mut h);
        let dir = self.cache_dir.as_ref()?;
        Some(dir.join(format!("{sha256}-{:016x}.cwasm", h.finish())))
    }

    fn write_cache(&self, sha256: &str, component: &Component) {
        let Some(path) = self.cache_path(sha256) else {
            return;
        };
        let Ok(bytes) = component.serialize() else {
            return;
        };
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .is_err()
        {
            tracing::warn!(path = %path.display(), "could not write the compiled-plugin cache");
        }
    }

    #[allow(unsafe_code)]
    fn read_cache(&self, sha256: &str) -> Option<Component> {
        let path = self.cache_path(sha256)?;
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was written by `write_cache` of an engine with
        // the same compatibility hash (it is in the file name), into the
        // operator's own cache directory; wasmtime checks the header too.
        unsafe { Component::deserialize_file(self.runtime.engine(), &path) }.ok()
    }
}
