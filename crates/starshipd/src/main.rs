//! `starshipd`: the one binary. Reads flags and environment, opens the
//! store, and hands over to the server or a command.

mod import;
mod settings;

use starship_core::ids::PartnerId;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use starship_core::domain::{Email, Password};
use starship_server::dispatch::{DispatchConfig, Dispatcher};
use starship_server::observe::{subscriber, LogFormat};
use starship_server::{AppState, Config};
use starship_store::history::{Actor, Source};
use starship_store::Store;

use settings::{redact, DbArg, Effective, ServeArgs};

#[derive(Parser)]
#[command(name = "starshipd", version, about = "Starship: self-service onboarding and access management for partners")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to standard error: text, readable, or json,
    /// one object per line.
    #[arg(long, global = true, env = "STARSHIP_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web UI and the API.
    Serve(ServeArgs),
    /// Checks a settings file and prints the settings `serve` would run with.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Applies migrations and exits.
    Migrate {
        #[command(flatten)]
        db: DbArg,
        /// Lists the migrations that would run, and runs none.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copies a live SQLite store to a new file (VACUUM INTO), without stopping it.
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// The backup file to write; it must not exist.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Replaces a SQLite store with a backup, then migrates it. Stop every
    /// instance serving the store first.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
        #[command(flatten)]
        db: DbArg,
        /// Overwrites a store that holds users or partners.
        #[arg(long)]
        force: bool,
    },
    /// Platform operators.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Application clients of the OpenID Connect provider.
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// The OpenID Connect provider's token-signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Partner users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// The History's hash chains.
    History {
        #[command(subcommand)]
        command: HistoryCommand,
    },
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// Walks every chain and recomputes every hash, changing nothing. Prints
    /// each chain's entry count and last hash (the anchor to keep outside
    /// the database); exits non-zero naming the first entry that does not
    /// match.
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Reads the settings file, the environment and the defaults as `serve`
    /// would; prints the effective settings (passwords hidden) and where each
    /// came from, or every mistake, naming its key, and exits non-zero.
    Check {
        /// The TOML settings file.
        #[arg(long, env = "STARSHIP_CONFIG")]
        config: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Creates a platform operator; reads the password from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Platform")]
        first_name: String,
        #[arg(long, default_value = "Operator")]
        last_name: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum ClientsCommand {
    /// Registers an application client; prints its client_id and its secret
    /// (shown this once). History records it for the first operator account.
    Create {
        /// The application (a catalogue key, e.g. backlot).
        #[arg(long)]
        application: String,
        #[arg(long)]
        name: String,
        /// Where people may be sent back after signing in (repeatable). Give
        /// none with `--grant-type client_credentials` for a service.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// authorization_code, refresh_token or client_credentials
        /// (repeatable); the code flow with refresh tokens when left out.
        #[arg(long = "grant-type")]
        grant_types: Vec<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generates a new token-signing key, which signs from now on; the old
    /// ones keep verifying (and stay in the JWKS) for a day. History records
    /// it for the first operator account.
    Rotate {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Bulk-adds users from a CSV file (email, locale, first_name, last_name), all or nothing.
    Import {
        /// The partner's id.
        #[arg(long)]
        partner: PartnerId,
        #[arg(long)]
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
}

/// Argon2id needs a 19 MiB buffer per password check. glibc raises its
/// mmap threshold each time such a block is freed, so after the first
/// sign-in these buffers come from per-thread arenas that keep the memory:
/// the server grew by the arenas of every blocking thread that ever hashed.
/// A fixed threshold sends every large buffer to mmap and back to the
/// system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_buffers_to_the_system() {
    // SAFETY: mallopt only sets an allocator tunable; it runs before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_buffers_to_the_system() {}

fn main() -> ExitCode {
    return_large_buffers_to_the_system();
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match &mut cli.command {
        Command::Serve(args) => {
            let serve_matches = matches.subcommand_matches("serve").unwrap_or(&matches);
            match effective(&matches, serve_matches, args.clone(), cli.log_format) {
                Ok(settings) => {
                    *args = settings.serve;
                    cli.log_format = settings.log_format;
                }
                Err(errors) => return refuse(&errors),
            }
        }
        Command::Config { command: ConfigCommand::Check { config } } => return config_check(config.clone()),
        _ => {}
    }
    let filter = std::env::var("STARSHIP_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    if let Err(e) = tracing::subscriber::set_global_default(subscriber(cli.log_format, &filter, std::io::stderr)) {
        eprintln!("starshipd: cannot set up logging: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("starshipd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("starshipd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The settings `serve` runs with: its flags and environment over the
/// settings file, if one is named, over the defaults.
fn effective(
    global: &clap::ArgMatches,
    serve: &clap::ArgMatches,
    args: ServeArgs,
    log_format: LogFormat,
) -> Result<Effective, Vec<String>> {
    let file = match &args.config {
        Some(path) => settings::read_file(path)?,
        None => settings::FileSettings::default(),
    };
    Ok(settings::resolve(serve, global, args, log_format, file))
}

fn refuse(errors: &[String]) -> ExitCode {
    eprintln!("starshipd: the settings are not valid:");
    for error in errors {
        eprintln!("  {error}");
    }
    ExitCode::FAILURE
}

/// `config check`: resolves the settings exactly as a bare `serve` would
/// (environment included), with `config` as the file.
fn config_check(config: Option<std::path::PathBuf>) -> ExitCode {
    let mut argv = vec![std::ffi::OsString::from("starshipd"), "serve".into()];
    if let Some(path) = &config {
        argv.extend(["--config".into(), path.clone().into_os_string()]);
    }
    let matches = match Cli::command().try_get_matches_from(argv) {
        Ok(matches) => matches,
        // An environment variable with a bad value: clap names it.
        Err(e) => e.exit(),
    };
    let Some(serve_matches) = matches.subcommand_matches("serve") else {
        return ExitCode::FAILURE;
    };
    let (log_format, args) = match Cli::from_arg_matches(&matches) {
        Ok(Cli { command: Command::Serve(args), log_format }) => (log_format, args),
        Ok(_) => return ExitCode::FAILURE,
        Err(e) => e.exit(),
    };
    match effective(&matches, serve_matches, args, log_format) {
        Ok(settings) => {
            match &config {
                Some(path) => println!("# {} is valid; the settings serve would run with:", path.display()),
                None => println!("# no settings file (--config, STARSHIP_CONFIG); the settings serve would run with:"),
            }
            print!("{}", settings.describe());
            ExitCode::SUCCESS
        }
        Err(errors) => refuse(&errors),
    }
}

async fn open(db: &DbArg) -> anyhow::Result<Store> {
    Store::open(&db.db).await.map_err(|e| anyhow!("{e}"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(ServeArgs {
            config: _,
            db,
            listen: addr,
            public_url,
            demo,
            smtp,
            smtp_from,
            link_ttl_hours,
            access_token_minutes,
            smtp_lease_seconds,
            trusted_proxies,
            metrics_listen,
        }) => {
            let listener = bind(addr).await?;
            let metrics_listener = match metrics_listen {
                Some(addr) => Some((bind(addr).await?, addr)),
                None => None,
            };
            let store = Store::open(&db.db).await.map_err(|e| database_error(&db.db, e))?;
            let public_url = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let mut config = Config::for_public_url(&public_url);
            config.activation_ttl = std::time::Duration::from_secs(link_ttl_hours * 3600);
            config.access_token_ttl = std::time::Duration::from_secs(access_token_minutes * 60);
            config.trusted_proxies = trusted_proxies;
            let mut state = AppState::new(store, config).await?;
            if demo {
                match starship_server::demo::load(&state).await? {
                    Some(lines) => {
                        println!(
                            "Demo data loaded. Sign in at {public_url} with any of these (password for all: {}):",
                            starship_server::demo::PASSWORD
                        );
                        for line in lines {
                            println!("  {line}");
                        }
                    }
                    None => println!("The database already has data; the demo data set was not loaded."),
                }
            }
            // Stops the dispatcher and the metrics listener once requests are drained.
            let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
            let dispatcher = match smtp {
                Some(url) => {
                    let mut config = DispatchConfig::new(&url, &smtp_from).map_err(|e| anyhow!(e))?;
                    config.lease = std::time::Duration::from_secs(smtp_lease_seconds);
                    let dispatcher = Dispatcher::new(state.store.clone(), config)?
                        .with_reviews(state.clone())
                        .reporting_to(state.metrics.clone());
                    state.dispatcher = Some(dispatcher.running());
                    println!("sending email through {}", redact(&url));
                    Some(tokio::spawn(dispatcher.run(background_stopped)))
                }
                None => {
                    println!("no --smtp given: email stays in the outbox (GET /api/v1/outbox)");
                    // Access reviews still close at their due date.
                    Some(tokio::spawn(starship_server::ops::reviews::run(state.clone(), background_stopped)))
                }
            };
            let metrics = metrics_listener.map(|(listener, addr)| {
                println!("metrics at http://{addr}/metrics");
                let mut stopped = stop_background.subscribe();
                let state = state.clone();
                tokio::spawn(async move {
                    let stop = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    if let Err(e) = starship_server::metrics::serve(listener, state, stop).await {
                        tracing::error!(error = %e, "the metrics listener stopped");
                    }
                })
            });
            // Expired grants already stop counting; this removes them (with
            // History) and sends the seven-day reminders, one instance at a time.
            let (stop_sweep, sweep_stopped) = tokio::sync::watch::channel(false);
            let sweeper = tokio::spawn(starship_server::expiry::run(
                state.store.clone(),
                state.catalogue.clone(),
                starship_server::expiry::SweepConfig::new(),
                state.metrics.clone(),
                sweep_stopped,
            ));
            println!("starshipd listening on {public_url} (store: {})", redact(&db.db));
            starship_server::serve_with_grace(listener, state, shutdown_signal(), SHUTDOWN_GRACE)
                .await
                .context("serving")?;
            let _ = stop_background.send(true);
            if let Some(metrics) = metrics {
                let _ = metrics.await;
            }
            let _ = stop_sweep.send(true);
            let _ = sweeper.await;
            if let Some(dispatcher) = dispatcher {
                let _ = dispatcher.await;
            }
            Ok(())
        }
        Command::Migrate { db, dry_run: true } => {
            let store = Store::connect(&db.db).await.map_err(|e| anyhow!("{e}"))?;
            let status = store.migration_status().await.map_err(|e| anyhow!("{e}"))?;
            store.close().await;
            if !status.unknown.is_empty() {
                return Err(anyhow!("{}", starship_store::schema::newer_store(&status.unknown)));
            }
            if status.pending.is_empty() {
                println!("{} is up to date: no migration would run", redact(&db.db));
            }
            for migration in status.pending {
                println!("would apply {:04} {}", migration.version, migration.description);
            }
            Ok(())
        }
        Command::Migrate { db, dry_run: false } => {
            open(&db).await?;
            println!("migrations applied to {}", redact(&db.db));
            Ok(())
        }
        Command::Backup { db, out } => {
            if starship_store::dialect_of(&db.db).map_err(|e| anyhow!("{e}"))? != starship_store::Dialect::Sqlite {
                return Err(anyhow!("{}", starship_store::backup::BackupError::NotSqlite));
            }
            let store = Store::connect(&db.db).await.map_err(|e| anyhow!("{e}"))?;
            let made = store.backup_to(&out).await;
            store.close().await;
            made.map_err(|e| anyhow!("{e}"))?;
            println!("backed up {} to {}", redact(&db.db), out.display());
            Ok(())
        }
        Command::Restore { from, db, force } => {
            starship_store::backup::restore_sqlite(&from, &db.db, force).await.map_err(|e| anyhow!("{e}"))?;
            println!("restored {} from {}", redact(&db.db), from.display());
            Ok(())
        }
        Command::Operator { command: OperatorCommand::Create { email, first_name, last_name, db } } => {
            let email = Email::parse("email", &email).map_err(|e| anyhow!("--email {}", e.reason))?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            let password = Password::parse("password", password).map_err(|e| anyhow!("the password {}", e.reason))?;
            let store = open(&db).await?;
            let operator =
                starship_server::ops::users::create_operator(&store, &email, &first_name, &last_name, &password)
                    .await?;
            println!("operator {} created (id {})", operator.email, operator.id);
            Ok(())
        }
        // Answered in `main`, before logging and the runtime start.
        Command::Config { command: ConfigCommand::Check { config } } => {
            Err(anyhow!("config check {config:?} runs without the runtime"))
        }
        Command::Clients { command: ClientsCommand::Create { application, name, redirect_uris, grant_types, db } } => {
            let store = open(&db).await?;
            let catalogue = starship_store::catalogue::load(store.pool()).await.map_err(|e| anyhow!("{e}"))?;
            let request = starship_server::ops::clients::Request {
                application: &application,
                name: &name,
                redirect_uris: &redirect_uris,
                grant_types: (!grant_types.is_empty()).then_some(grant_types.as_slice()),
            };
            let actor = Actor::system(Source::Oidc);
            let issued = starship_server::ops::clients::create_as_platform(&store, &catalogue, &actor, &request)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("client_id: {}", issued.client.client_id);
            println!("client_secret: {}", issued.secret);
            println!("id: {}", issued.client.id);
            Ok(())
        }
        Command::Keys { command: KeysCommand::Rotate { db } } => {
            let store = open(&db).await?;
            let kid = starship_server::ops::keys::rotate(&store, &Actor::system(Source::Oidc))
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("signing key {kid} signs from now on; the previous ones verify for another day");
            Ok(())
        }
        Command::Users { command: UsersCommand::Import { partner, file, db } } => {
            let store = open(&db).await?;
            import::run(&store, &partner, &file).await
        }
        Command::History { command: HistoryCommand::Verify { db } } => {
            // Connect without migrating: verifying must not change the store
            // (migrating would chain entries that lost their chain columns).
            let store = Store::connect(&db.db).await.map_err(|e| anyhow!("{e}"))?;
            // Migration 12 gave History its chains; before it there is nothing to walk.
            const HISTORY_CHAINS: i64 = 12;
            if !store.applied_migrations().await.map_err(|e| anyhow!("{e}"))?.contains(&HISTORY_CHAINS) {
                return Err(anyhow!(
                    "this store's History has no chains yet (migration {HISTORY_CHAINS} is not applied): \
                     run `starshipd migrate --db {}` first, then verify",
                    redact(&db.db)
                ));
            }
            let started = std::time::Instant::now();
            let verification = starship_store::history::verify(&store).await.map_err(|e| anyhow!("{e}"))?;
            let elapsed = started.elapsed().as_secs_f64();
            print!("{}", verification_report(&verification));
            println!(
                "{} entries in {} chains, {elapsed:.2} s ({:.0} entries/s)",
                verification.entries(),
                verification.chains.len(),
                verification.entries() as f64 / elapsed.max(1e-9)
            );
            if verification.is_intact() {
                return Ok(());
            }
            let first = verification.chains.iter().find_map(|c| c.problem.as_ref());
            match (first, verification.unchained.first()) {
                (Some(problem), _) => Err(anyhow!("the History does not verify: {problem}")),
                (None, Some(id)) => Err(anyhow!("the History does not verify: entry {id} is in no chain")),
                (None, None) => unreachable!("a verification with no problem is intact"),
            }
        }
    }
}

/// Binds a listening address, saying plainly when the port is taken.
async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow!("cannot listen on {addr}: the port is in use"),
        _ => anyhow!("cannot listen on {addr}: {e}"),
    })
}

/// A store that cannot be opened at start names the setting to fix.
fn database_error(url: &str, e: starship_store::StoreError) -> anyhow::Error {
    anyhow!("the database setting (db: --db, STARSHIP_DB or `db` in the settings file) {}: {e}", redact(url))
}

/// One line per chain: `chain <partner id or -> entries <n> seq <last> hash
/// <last hash>`, then `BROKEN` lines for the first bad entry of a chain.
fn verification_report(v: &starship_store::history::Verification) -> String {
    let mut out = String::new();
    for c in &v.chains {
        let name = if c.chain.is_empty() { "-" } else { &c.chain };
        out.push_str(&format!("chain {name} entries {} seq {} hash {}\n", c.entries, c.last_seq, c.last_hash));
        if let Some(problem) = &c.problem {
            out.push_str(&format!("BROKEN {problem}\n"));
        }
    }
    for id in &v.unchained {
        out.push_str(&format!("BROKEN entry {id}: in no chain (chain, seq, prev_hash or hash missing)\n"));
    }
    out
}

/// How long requests in flight at SIGTERM may take to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings `serve` takes, as clap knows them: its own flags and
    /// the global `--log-format`.
    fn serve_settings() -> Vec<clap::Arg> {
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("a serve command").clone();
        let global = cli.get_arguments().filter(|a| a.get_id() == "log_format").cloned();
        serve
            .get_arguments()
            .filter(|a| a.get_long().is_some() && a.get_id() != "help")
            .cloned()
            .chain(global)
            .collect()
    }

    /// README's table of settings, written from the flags' own definitions.
    fn settings_table() -> String {
        let mut table =
            String::from("| flag | environment | `starship.toml` key | default | meaning |\n|---|---|---|---|---|\n");
        for arg in serve_settings() {
            let id = arg.get_id().as_str();
            let key = if settings::KEYS.contains(&id) { format!("`{id}`") } else { "(not in the file)".to_string() };
            let env = arg.get_env().map_or_else(|| "—".to_string(), |e| format!("`{}`", e.to_string_lossy()));
            let default: Vec<String> =
                arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
            let default = match (default.is_empty(), arg.get_action().takes_values()) {
                (true, true) => "not set".to_string(),
                (true, false) => "`false`".to_string(),
                (false, _) => format!("`{}`", default.join(",")),
            };
            let help = arg.get_long_help().or(arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
            let meaning = help.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|");
            table.push_str(&format!("| `--{}` | {env} | {key} | {default} | {meaning} |\n", arg.get_long().unwrap()));
        }
        table
    }

    #[test]
    fn every_serve_setting_has_a_file_key_and_every_file_key_a_flag() {
        let ids: Vec<String> = serve_settings().iter().map(|a| a.get_id().to_string()).collect();
        let mut without_key: Vec<&String> = ids.iter().filter(|id| !settings::KEYS.contains(&id.as_str())).collect();
        without_key.retain(|id| *id != "config");
        assert!(without_key.is_empty(), "serve flags the settings file cannot hold: {without_key:?}");
        for key in settings::KEYS {
            assert!(ids.iter().any(|id| id == key), "the file key {key} is no serve flag");
        }
    }

    #[test]
    fn the_readme_lists_every_setting_as_the_binary_defines_it() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
        let (begin, end) = ("<!-- settings: begin -->\n", "<!-- settings: end -->");
        let start = readme.find(begin).expect("README has the settings markers") + begin.len();
        let stop = readme[start..].find(end).expect("the settings end marker") + start;
        let expected = settings_table();
        assert!(readme[start..stop] == expected, "README.md's settings table is stale; it should read:\n{expected}");
    }
}
