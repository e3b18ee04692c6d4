use std::sync::Arc;
use std::time::Duration;

use starship_core::catalogue::Catalogue;
use starship_store::Store;

/// What every request can reach. Loaded once at start-up: the catalogue
/// changes only with migrations.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub catalogue: Arc<Catalogue>,
    pub config: Arc<Config>,
    /// Whether the email dispatcher of this instance is running; `None`
    /// when no SMTP server is configured and nothing is dispatched.
    pub dispatcher: Option<crate::dispatch::Running>,
    /// This instance's counters, served on the metrics listener.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The check's cache, exact at every generation (`decisions.rs`).
    pub decisions: Arc<crate::decisions::Decisions>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The address people reach Starship at, for links in emails.
    pub public_url: String,
    /// Marks cookies Secure; on whenever the public URL is https.
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub activation_ttl: Duration,
    /// Sign-in attempts allowed per account in one window.
    pub sign_in_failure_limit: i64,
    /// Failed sign-ins allowed from one client address in one window, for
    /// accounts that have not signed in from there before: a volume limit,
    /// high enough for a company behind one NAT.
    pub sign_in_address_limit: i64,
    /// Proxies whose `X-Forwarded-For` is believed (see `client_address`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub sign_in_window: Duration,
    /// How long an access token of the OpenID Connect provider lasts.
    pub access_token_ttl: Duration,
    /// How long a refresh token lasts unused (each use rotates it).
    pub refresh_token_ttl: Duration,
}

impl Config {
    pub fn for_public_url(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_string();
        Self {
            secure_cookies: public_url.starts_with("https://"),
            public_url,
            session_ttl: Duration::from_secs(12 * 3600),
            activation_ttl: Duration::from_secs(72 * 3600),
            sign_in_failure_limit: 5,
            sign_in_address_limit: 50,
            trusted_proxies: Vec::new(),
            sign_in_window: Duration::from_secs(15 * 60),
            access_token_ttl: Duration::from_secs(5 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl AppState {
    pub async fn new(store: Store, config: Config) -> Result<Self, starship_store::StoreError> {
        let catalogue = starship_store::catalogue::load(store.pool()).await?;
        crate::ops::keys::ensure(&store).await?;
        Ok(Self {
            store,
            catalogue: Arc::new(catalogue),
            config: Arc::new(config),
            dispatcher: None,
            metrics: Arc::default(),
            decisions: Arc::default(),
        })
    }
}
