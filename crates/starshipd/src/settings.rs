//! `serve`'s settings: each from a flag, else its environment variable,
//! else the TOML file named by `--config`/`STARSHIP_CONFIG`, else its
//! default. A setting's TOML key is its flag's name with underscores.
//!
//! Flags and the file go through the same checks (`parse_*` and the
//! ranges below), so a value refused on the command line is refused in the
//! file too, with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use starship_server::observe::LogFormat;

#[derive(clap::Args, Clone, Debug)]
pub struct DbArg {
    /// sqlite://FILE (created if missing) or postgres://USER@HOST:PORT/DB
    #[arg(long, env = "STARSHIP_DB", default_value = "sqlite://starship.db")]
    pub db: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// A TOML file with any of these settings; flags and environment variables override it.
    #[arg(long, env = "STARSHIP_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// Address to listen on.
    #[arg(long, env = "STARSHIP_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_address)]
    pub listen: SocketAddr,
    /// The URL people reach Starship at, for links in emails (default: http://LISTEN).
    #[arg(long, env = "STARSHIP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Loads the demo data set into an empty database and prints how to sign in.
    #[arg(long, env = "STARSHIP_DEMO")]
    pub demo: bool,
    /// Sends queued email through this server: smtp://HOST:PORT (add ?tls=required
    /// for STARTTLS) or smtps://HOST:PORT. Without it, email waits in the outbox.
    #[arg(long, env = "STARSHIP_SMTP")]
    pub smtp: Option<String>,
    /// The sender of Starship's email.
    #[arg(long, env = "STARSHIP_SMTP_FROM", default_value = "Starship <no-reply@starship.example>")]
    pub smtp_from: String,
    /// How long an instance's claim on a queued email lasts, in seconds (2 to 3600).
    /// After a crash, the emails it had claimed go out once this has passed.
    #[arg(long, env = "STARSHIP_SMTP_LEASE_SECONDS", default_value_t = 120, value_parser = parse_smtp_lease_seconds)]
    pub smtp_lease_seconds: u64,
    /// How long activation and invitation links stay valid, in hours (1 to 720).
    #[arg(long, env = "STARSHIP_LINK_TTL_HOURS", default_value_t = 72, value_parser = parse_link_ttl_hours)]
    pub link_ttl_hours: u64,
    /// How long an access token issued to an application lasts, in minutes
    /// (1 to 60). Refresh tokens renew it.
    #[arg(long, env = "STARSHIP_ACCESS_TOKEN_MINUTES", default_value_t = 5, value_parser = parse_access_token_minutes)]
    pub access_token_minutes: u64,
    /// Proxies (CIDR blocks, comma-separated; a list in the file) whose
    /// X-Forwarded-For names the client; without them the header is ignored.
    #[arg(long, env = "STARSHIP_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_cidr)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serves Prometheus metrics at GET /metrics on this address, and nothing
    /// else there. Without it no metrics listener runs.
    #[arg(long, env = "STARSHIP_METRICS_LISTEN", value_parser = parse_address)]
    pub metrics_listen: Option<SocketAddr>,
}

/// Where a setting's effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    File,
    Default,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Environment => "environment",
            Self::File => "file",
            Self::Default => "default",
        }
    }
}

/// What `serve` runs with, and where each value came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub serve: ServeArgs,
    pub log_format: LogFormat,
    pub sources: Vec<(&'static str, Source)>,
}

/// The file's settings, each already checked.
#[derive(Debug, Default)]
pub struct FileSettings {
    db: Option<String>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    demo: Option<bool>,
    smtp: Option<String>,
    smtp_from: Option<String>,
    smtp_lease_seconds: Option<u64>,
    link_ttl_hours: Option<u64>,
    access_token_minutes: Option<u64>,
    trusted_proxies: Option<Vec<ipnet::IpNet>>,
    metrics_listen: Option<SocketAddr>,
    log_format: Option<LogFormat>,
}

/// Every key a settings file may hold, in the order they are printed.
pub const KEYS: [&str; 12] = [
    "db",
    "listen",
    "public_url",
    "demo",
    "smtp",
    "smtp_from",
    "smtp_lease_seconds",
    "link_ttl_hours",
    "access_token_minutes",
    "trusted_proxies",
    "metrics_listen",
    "log_format",
];

pub const LINK_TTL_HOURS: (u64, u64) = (1, 720);
pub const ACCESS_TOKEN_MINUTES: (u64, u64) = (1, 60);
pub const SMTP_LEASE_SECONDS: (u64, u64) = (2, 3600);

fn in_range(value: i64, (low, high): (u64, u64)) -> Result<u64, String> {
    u64::try_from(value)
        .ok()
        .filter(|v| (low..=high).contains(v))
        .ok_or_else(|| format!("{value} is out of range: it must be from {low} to {high}"))
}

fn parse_integer(value: &str) -> Result<i64, String> {
    value.trim().parse().map_err(|_| format!("'{value}' is not a whole number"))
}

fn parse_link_ttl_hours(value: &str) -> Result<u64, String> {
    in_range(parse_integer(value)?, LINK_TTL_HOURS)
}

fn parse_access_token_minutes(value: &str) -> Result<u64, String> {
    in_range(parse_integer(value)?, ACCESS_TOKEN_MINUTES)
}

fn parse_smtp_lease_seconds(value: &str) -> Result<u64, String> {
    in_range(parse_integer(value)?, SMTP_LEASE_SECONDS)
}

fn parse_address(value: &str) -> Result<SocketAddr, String> {
    value.trim().parse().map_err(|_| format!("'{value}' is not an address like 127.0.0.1:8080"))
}

/// A CIDR block, or a single address as its own block.
pub fn parse_cidr(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{value}' is not a CIDR block like 10.0.0.0/8 or an address"))
}

fn string(value: &toml::Value) -> Result<String, String> {
    value.as_str().map(str::to_string).ok_or_else(|| format!("must be a string, not {}", a_type(value)))
}

fn integer(value: &toml::Value) -> Result<i64, String> {
    value.as_integer().ok_or_else(|| format!("must be a whole number, not {}", a_type(value)))
}

fn a_type(value: &toml::Value) -> String {
    let name = value.type_str();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

/// Reads a settings file's text; every mistake in it at once, each naming its key.
pub fn parse_file(text: &str) -> Result<FileSettings, Vec<String>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| vec![format!("not valid TOML: {e}")])?;
    let mut file = FileSettings::default();
    let mut errors = Vec::new();
    for (key, value) in &table {
        let checked = match key.as_str() {
            "db" => string(value).map(|v| file.db = Some(v)),
            "listen" => string(value).and_then(|v| parse_address(&v)).map(|v| file.listen = Some(v)),
            "public_url" => string(value).map(|v| file.public_url = Some(v)),
            "demo" => value
                .as_bool()
                .ok_or_else(|| format!("must be true or false, not {}", a_type(value)))
                .map(|v| file.demo = Some(v)),
            "smtp" => string(value).map(|v| file.smtp = Some(v)),
            "smtp_from" => string(value).map(|v| file.smtp_from = Some(v)),
            "smtp_lease_seconds" => {
                integer(value).and_then(|v| in_range(v, SMTP_LEASE_SECONDS)).map(|v| file.smtp_lease_seconds = Some(v))
            }
            "link_ttl_hours" => {
                integer(value).and_then(|v| in_range(v, LINK_TTL_HOURS)).map(|v| file.link_ttl_hours = Some(v))
            }
            "access_token_minutes" => integer(value)
                .and_then(|v| in_range(v, ACCESS_TOKEN_MINUTES))
                .map(|v| file.access_token_minutes = Some(v)),
            "trusted_proxies" => value
                .as_array()
                .ok_or_else(|| format!("must be a list of CIDR blocks, not {}", a_type(value)))
                .and_then(|items| items.iter().map(|item| string(item).and_then(|s| parse_cidr(&s))).collect())
                .map(|v| file.trusted_proxies = Some(v)),
            "metrics_listen" => string(value).and_then(|v| parse_address(&v)).map(|v| file.metrics_listen = Some(v)),
            "log_format" => string(value).and_then(|v| v.parse()).map(|v| file.log_format = Some(v)),
            _ => Err(format!("is not a setting; the settings are {}", KEYS.join(", "))),
        };
        if let Err(reason) = checked {
            errors.push(format!("{key}: {reason}"));
        }
    }
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

/// Reads and checks the file at `path`; the errors name the file.
pub fn read_file(path: &Path) -> Result<FileSettings, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{}: cannot be read: {e}", path.display())])?;
    parse_file(&text).map_err(|errors| errors.into_iter().map(|e| format!("{}: {e}", path.display())).collect())
}

fn given(matches: &ArgMatches, id: &str) -> Option<Source> {
    match matches.value_source(id) {
        Some(ValueSource::CommandLine) => Some(Source::Flag),
        Some(ValueSource::EnvVariable) => Some(Source::Environment),
        _ => None,
    }
}

/// Lays the file under the flags and environment: a setting neither gave
/// takes the file's value, else keeps its default. `serve` holds the
/// subcommand's matches, `global` the top level's (for `log_format`).
pub fn resolve(
    serve_matches: &ArgMatches,
    global_matches: &ArgMatches,
    mut serve: ServeArgs,
    mut log_format: LogFormat,
    file: FileSettings,
) -> Effective {
    let mut sources = Vec::with_capacity(KEYS.len());
    macro_rules! layer {
        ($key:literal, $matches:expr, $in_file:expr, |$v:ident| $apply:expr) => {{
            let source = match (given($matches, $key), $in_file) {
                (Some(source), _) => source,
                (None, Some($v)) => {
                    $apply;
                    Source::File
                }
                (None, None) => Source::Default,
            };
            sources.push(($key, source));
        }};
    }
    layer!("db", serve_matches, file.db, |v| serve.db.db = v);
    layer!("listen", serve_matches, file.listen, |v| serve.listen = v);
    layer!("public_url", serve_matches, file.public_url, |v| serve.public_url = Some(v));
    layer!("demo", serve_matches, file.demo, |v| serve.demo = v);
    layer!("smtp", serve_matches, file.smtp, |v| serve.smtp = Some(v));
    layer!("smtp_from", serve_matches, file.smtp_from, |v| serve.smtp_from = v);
    layer!("smtp_lease_seconds", serve_matches, file.smtp_lease_seconds, |v| serve.smtp_lease_seconds = v);
    layer!("link_ttl_hours", serve_matches, file.link_ttl_hours, |v| serve.link_ttl_hours = v);
    layer!("access_token_minutes", serve_matches, file.access_token_minutes, |v| serve.access_token_minutes = v);
    layer!("trusted_proxies", serve_matches, file.trusted_proxies, |v| serve.trusted_proxies = v);
    layer!("metrics_listen", serve_matches, file.metrics_listen, |v| serve.metrics_listen = Some(v));
    layer!("log_format", global_matches, file.log_format, |v| log_format = v);
    Effective { serve, log_format, sources }
}

/// A URL without its password, for printing.
pub fn redact(url: &str) -> String {
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

impl Effective {
    fn source(&self, key: &str) -> Source {
        self.sources.iter().find(|(k, _)| *k == key).map_or(Source::Default, |(_, s)| *s)
    }

    /// The settings as a TOML file would hold them, passwords in URLs
    /// replaced by `***`, each line saying where its value came from.
    pub fn describe(&self) -> String {
        let s = &self.serve;
        let quoted = |v: &str| format!("{v:?}");
        let optional = |v: Option<String>| v.map_or_else(|| "# not set".to_string(), |v| quoted(&v));
        let proxies: Vec<String> = s.trusted_proxies.iter().map(|p| quoted(&p.to_string())).collect();
        let log_format = match self.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        let values = [
            quoted(&redact(&s.db.db)),
            quoted(&s.listen.to_string()),
            optional(s.public_url.clone()),
            s.demo.to_string(),
            optional(s.smtp.as_deref().map(redact)),
            quoted(&s.smtp_from),
            s.smtp_lease_seconds.to_string(),
            s.link_ttl_hours.to_string(),
            s.access_token_minutes.to_string(),
            format!("[{}]", proxies.join(", ")),
            optional(s.metrics_listen.map(|a| a.to_string())),
            quoted(log_format),
        ];
        let mut out = String::new();
        for (key, value) in KEYS.iter().zip(values) {
            let line =
                if value.starts_with('#') { format!("# {key} {}", &value[2..]) } else { format!("{key} = {value}") };
            out.push_str(&format!("{line:<56} # {}\n", self.source(key).name()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        parse_file(text).expect_err("the file is refused")
    }

    #[test]
    fn a_good_file_is_read_whole() {
        let file = parse_file(
            r#"
            db = "postgres://starship@db.example/starship"
            listen = "0.0.0.0:9000"
            public_url = "https://starship.example"
            demo = true
            smtp = "smtp://mail.example:25"
            smtp_from = "Ops <ops@example.com>"
            smtp_lease_seconds = 30
            link_ttl_hours = 24
            trusted_proxies = ["10.0.0.0/8", "192.0.2.7"]
            metrics_listen = "127.0.0.1:9100"
            log_format = "json"
            "#,
        )
        .unwrap();
        assert_eq!(file.listen, Some("0.0.0.0:9000".parse().unwrap()));
        assert_eq!(file.link_ttl_hours, Some(24));
        assert_eq!(file.smtp_lease_seconds, Some(30));
        assert_eq!(file.trusted_proxies.as_ref().map(Vec::len), Some(2));
        assert_eq!(file.metrics_listen, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(file.log_format, Some(LogFormat::Json));
        assert_eq!(file.demo, Some(true));
    }

    #[test]
    fn an_unknown_key_is_named() {
        let errors = errors_of("listen = \"127.0.0.1:1\"\nlisten_port = 8080\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("listen_port: is not a setting"), "{errors:?}");
    }

    #[test]
    fn a_wrong_type_is_named() {
        let errors = errors_of("link_ttl_hours = \"72\"\n");
        assert_eq!(errors, ["link_ttl_hours: must be a whole number, not a string"]);
        let errors = errors_of("trusted_proxies = \"10.0.0.0/8\"\n");
        assert_eq!(errors, ["trusted_proxies: must be a list of CIDR blocks, not a string"]);
    }

    #[test]
    fn out_of_range_values_are_named_with_their_bounds() {
        assert_eq!(errors_of("link_ttl_hours = 0\n"), ["link_ttl_hours: 0 is out of range: it must be from 1 to 720"]);
        assert_eq!(
            errors_of("smtp_lease_seconds = -5\n"),
            ["smtp_lease_seconds: -5 is out of range: it must be from 2 to 3600"]
        );
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let errors = errors_of("listen = \"nowhere\"\nlog_format = \"xml\"\ncolour = true\n");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("listen: 'nowhere' is not an address")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("log_format: 'xml' is not a log format")), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("colour: is not a setting")), "{errors:?}");
    }

    #[test]
    fn the_help_states_the_ranges_the_checks_enforce() {
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            args: ServeArgs,
        }
        let command = Serve::command();
        for (id, (low, high)) in [("link_ttl_hours", LINK_TTL_HOURS), ("smtp_lease_seconds", SMTP_LEASE_SECONDS)] {
            let arg = command.get_arguments().find(|a| a.get_id() == id).unwrap();
            let help = arg.get_long_help().or(arg.get_help()).unwrap().to_string();
            assert!(help.contains(&format!("({low} to {high})")), "{id}: {help}");
        }
    }

    #[test]
    fn broken_toml_is_refused_without_a_panic() {
        let errors = errors_of("listen = \n");
        assert!(errors[0].starts_with("not valid TOML"), "{errors:?}");
    }
}
