//! What an application client registers with: its redirect URIs and the
//! grant types it may use. Values of these types are valid.

use serde::Serialize;

use crate::error::{Collector, FieldError, Invalid};

/// An OAuth 2.0 grant type a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == input)
            .ok_or_else(|| FieldError::new(field, "must be authorization_code, refresh_token or client_credentials"))
    }
}

/// Where the authorization endpoint may send a person back: an absolute
/// `https` URI, or `http` on the loopback (`127.0.0.1`, `[::1]`,
/// `localhost`) for development; never with a fragment. Compared byte for
/// byte with what a request names, as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        if input.is_empty() || input.len() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("give an absolute URI of at most {} characters", Self::MAX_CHARS),
            ));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FieldError::new(field, "must not contain spaces or control characters"));
        }
        let Ok(url) = url::Url::parse(input) else {
            return Err(FieldError::new(field, "must be an absolute URI such as https://app.example/callback"));
        };
        if input.contains('#') || url.fragment().is_some() {
            return Err(FieldError::new(field, "must not have a fragment (#…)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FieldError::new(field, "must not carry a user name or password"));
        }
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        match url.scheme() {
            "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Self(input.to_string())),
            "http" if loopback => Ok(Self(input.to_string())),
            "http" => Err(FieldError::new(field, "must use https (http only on 127.0.0.1 or localhost)")),
            _ => Err(FieldError::new(field, "must be an https URI (or http on 127.0.0.1 or localhost)")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's registration, checked whole: every bad field reported at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
}

impl Registration {
    /// At most this many redirect URIs per client.
    pub const MAX_REDIRECT_URIS: usize = 20;

    /// `grant_types` defaults to the code flow with refresh tokens. The code
    /// flow needs at least one redirect URI; refresh tokens come only with
    /// the code flow; a service client (`client_credentials` alone) has no
    /// redirect URI.
    pub fn parse(redirect_uris: &[String], grant_types: Option<&[String]>) -> Result<Self, Invalid> {
        let mut errors = Collector::default();
        let mut grants = Vec::new();
        match grant_types {
            None => grants.extend([GrantType::AuthorizationCode, GrantType::RefreshToken]),
            Some([]) => errors.push(FieldError::new("grant_types", "name at least one grant type")),
            Some(given) => {
                for (i, g) in given.iter().enumerate() {
                    if let Some(g) = errors.take(GrantType::parse(&format!("grant_types[{i}]"), g)) {
                        if !grants.contains(&g) {
                            grants.push(g);
                        }
                    }
                }
            }
        }
        grants.sort();
        let mut uris: Vec<RedirectUri> = Vec::new();
        if redirect_uris.len() > Self::MAX_REDIRECT_URIS {
            errors.push(FieldError::new(
                "redirect_uris",
                format!("give at most {} redirect URIs", Self::MAX_REDIRECT_URIS),
            ));
        } else {
            for (i, uri) in redirect_uris.iter().enumerate() {
                if let Some(uri) = errors.take(RedirectUri::parse(&format!("redirect_uris[{i}]"), uri)) {
                    if !uris.contains(&uri) {
                        uris.push(uri);
                    }
                }
            }
        }
        let code = grants.contains(&GrantType::AuthorizationCode);
        if errors.is_empty() {
            if code && uris.is_empty() {
                errors.push(FieldError::new("redirect_uris", "the authorization_code grant needs a redirect URI"));
            }
            if !code && !uris.is_empty() {
                errors
                    .push(FieldError::new("redirect_uris", "only a client of the authorization_code grant redirects"));
            }
            if grants.contains(&GrantType::RefreshToken) && !code {
                errors.push(FieldError::new("grant_types", "refresh_token comes with authorization_code"));
            }
        }
        errors.finish()?;
        Ok(Self { redirect_uris: uris, grant_types: grants })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(input: &str) -> Result<RedirectUri, FieldError> {
        RedirectUri::parse("redirect_uri", input)
    }

    #[test]
    fn https_anywhere_and_http_only_on_the_loopback() {
        for good in [
            "https://backlot.example/callback",
            "https://backlot.example:8443/cb?tenant=1",
            "http://127.0.0.1:8080/callback",
            "http://localhost/callback",
            "http://[::1]:9000/cb",
        ] {
            assert_eq!(uri(good).map(|u| u.as_str().to_string()), Ok(good.to_string()), "{good}");
        }
        for bad in [
            "http://backlot.example/callback",
            "http://127.0.0.2/callback",
            "/callback",
            "backlot.example/callback",
            "https://backlot.example/callback#frag",
            "https://backlot.example/callback#",
            "javascript:alert(1)",
            "ftp://backlot.example/",
            "https://user:pw@backlot.example/",
            "https://backlot.example/a b",
            "",
        ] {
            assert!(uri(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_registration_is_a_code_flow_client_or_a_service_client() {
        let web = Registration::parse(&["https://a.example/cb".into()], None).unwrap();
        assert_eq!(web.grant_types, [GrantType::AuthorizationCode, GrantType::RefreshToken]);
        let service = Registration::parse(&[], Some(&["client_credentials".into()])).unwrap();
        assert_eq!(service.grant_types, [GrantType::ClientCredentials]);
        assert!(Registration::parse(&[], None).is_err(), "the code flow needs a redirect URI");
        assert!(Registration::parse(&["https://a.example/cb".into()], Some(&["client_credentials".into()])).is_err());
        assert!(Registration::parse(&[], Some(&["refresh_token".into(), "client_credentials".into()])).is_err());
        assert!(Registration::parse(&["https://a.example/cb".into()], Some(&["implicit".into()])).is_err());
        assert!(Registration::parse(&["https://a.example/cb".into()], Some(&[])).is_err());
        let both = Registration::parse(
            &["http://127.0.0.1/cb".into()],
            Some(&["refresh_token".into(), "authorization_code".into(), "client_credentials".into()]),
        );
        assert_eq!(both.unwrap().grant_types, GrantType::ALL);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let Err(Invalid(errors)) = Registration::parse(
            &["http://evil.example/".into(), "https://ok.example/#x".into()],
            Some(&["nope".into()]),
        ) else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["grant_types[0]", "redirect_uris[0]", "redirect_uris[1]"]);
    }
}
