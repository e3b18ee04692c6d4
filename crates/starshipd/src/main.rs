//! `starshipd`: the one binary. Reads flags and environment, opens the
//! store, and hands over to the server or a command.

mod import;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use starship_core::domain::{Email, Password};
use starship_server::dispatch::{DispatchConfig, Dispatcher};
use starship_server::observe::{subscriber, LogFormat};
use starship_server::{AppState, Config};
use starship_store::Store;

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

#[derive(clap::Args, Clone)]
struct DbArg {
    /// sqlite://FILE (created if missing) or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "STARSHIP_DB", default_value = "sqlite://starship.db")]
    db: String,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web UI and the API.
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "STARSHIP_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The URL people reach Starship at, for links in emails (default: http://LISTEN).
        #[arg(long, env = "STARSHIP_PUBLIC_URL")]
        public_url: Option<String>,
        /// Loads the demo data set into an empty database and prints how to sign in.
        #[arg(long)]
        demo: bool,
        /// Sends queued email through this server: smtp://HOST:PORT (add ?tls=required
        /// for STARTTLS) or smtps://HOST:PORT. Without it, email waits in the outbox.
        #[arg(long, env = "STARSHIP_SMTP")]
        smtp: Option<String>,
        /// Proxies (CIDR blocks, comma-separated) whose X-Forwarded-For names the
        /// client; without them the header is ignored.
        #[arg(long, env = "STARSHIP_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// How long activation and invitation links stay valid, in hours.
        #[arg(long, env = "STARSHIP_LINK_TTL_HOURS", default_value_t = 72, value_parser = clap::value_parser!(u64).range(1..=720))]
        link_ttl_hours: u64,
        /// The sender of Starship's email.
        #[arg(long, env = "STARSHIP_SMTP_FROM", default_value = "Starship <no-reply@starship.example>")]
        smtp_from: String,
        /// How long an instance's claim on a queued email lasts, in seconds. After a
        /// crash, the emails it had claimed go out once this has passed.
        #[arg(long, env = "STARSHIP_SMTP_LEASE_SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(2..=3600))]
        smtp_lease_seconds: u64,
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
enum UsersCommand {
    /// Bulk-adds users from a CSV file (email, locale, first_name, last_name), all or nothing.
    Import {
        /// The partner's id.
        #[arg(long)]
        partner: String,
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
    let cli = Cli::parse();
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

async fn open(db: &DbArg) -> anyhow::Result<Store> {
    Store::open(&db.db).await.map_err(|e| anyhow!("{e}"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            db,
            listen,
            public_url,
            demo,
            smtp,
            smtp_from,
            link_ttl_hours,
            smtp_lease_seconds,
            trusted_proxies,
        } => {
            let addr: SocketAddr =
                listen.parse().with_context(|| format!("'{listen}' is not an address like 127.0.0.1:8080"))?;
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => anyhow!("cannot listen on {addr}: the port is in use"),
                _ => anyhow!("cannot listen on {addr}: {e}"),
            })?;
            let store = open(&db).await?;
            let public_url = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let mut config = Config::for_public_url(&public_url);
            config.activation_ttl = std::time::Duration::from_secs(link_ttl_hours * 3600);
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
            let (stop_dispatch, dispatch_stopped) = tokio::sync::watch::channel(false);
            let dispatcher = match smtp {
                Some(url) => {
                    let mut config = DispatchConfig::new(&url, &smtp_from).map_err(|e| anyhow!(e))?;
                    config.lease = std::time::Duration::from_secs(smtp_lease_seconds);
                    let dispatcher = Dispatcher::new(state.store.clone(), config)?;
                    state.dispatcher = Some(dispatcher.running());
                    println!("sending email through {}", redact(&url));
                    Some(tokio::spawn(dispatcher.run(dispatch_stopped)))
                }
                None => {
                    println!("no --smtp given: email stays in the outbox (GET /api/v1/outbox)");
                    None
                }
            };
            println!("starshipd listening on {public_url} (store: {})", redact(&db.db));
            starship_server::serve_with_grace(listener, state, shutdown_signal(), SHUTDOWN_GRACE)
                .await
                .context("serving")?;
            let _ = stop_dispatch.send(true);
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
                starship_server::ops::create_operator(&store, &email, &first_name, &last_name, &password).await?;
            println!("operator {} created (id {})", operator.email, operator.id);
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

/// A URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
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

/// A CIDR block, or a single address as its own block.
fn parse_cidr(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{value}' is not a CIDR block like 10.0.0.0/8 or an address"))
}
