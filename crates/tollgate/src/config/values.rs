//! Configuration values that check themselves as they are read, so a bad one is named by its
//! key with what is wrong, and the rest of the node never sees it: URLs of the schemes a key
//! takes, numbers within their bounds, secrets of a least length, host names. (What depends on
//! two keys at once is checked in `Config::validate`.)

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer};

/// Declares a URL type of the schemes a key takes.
macro_rules! url_type {
    ($(#[$meta:meta])* $name:ident, [$($scheme:literal),+], $expected:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(url: String) -> Result<Self, String> {
                if [$($scheme),+].iter().any(|scheme| url.starts_with(scheme)) {
                    Ok($name(url))
                } else {
                    Err(format!(concat!("'{}' ", $expected), url))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?
                    .try_into()
                    .map_err(serde::de::Error::custom)
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(url: $name) -> String {
                url.0
            }
        }
    };
}

url_type!(
    /// An `http://` or `https://` URL (a service URL, a gateway environment's endpoint).
    HttpUrl,
    ["http://", "https://"],
    "must be an http:// or https:// URL"
);
url_type!(
    /// A `ws://` or `wss://` URL (an event hub).
    WsUrl,
    ["ws://", "wss://"],
    "must be a ws:// or wss:// URL"
);
url_type!(
    /// A database URL: SQLite or PostgreSQL.
    DbUrl,
    ["sqlite:", "postgres://", "postgresql://"],
    "is not supported; use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB"
);

/// A number of seconds from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seconds<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Seconds<MIN, MAX> {
    /// A default known to be within the bounds.
    pub const fn new(secs: i64) -> Self {
        Seconds(secs)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0.unsigned_abs())
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Seconds<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = i64::deserialize(d)?;
        if (MIN..=MAX).contains(&secs) {
            Ok(Seconds(secs))
        } else {
            Err(serde::de::Error::custom(format!(
                "{secs} is not a number of seconds from {MIN} to {MAX}"
            )))
        }
    }
}

/// A count from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    /// A default known to be within the bounds.
    pub const fn new(value: u64) -> Self {
        Bounded(value)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = u64::deserialize(d)?;
        if (MIN..=MAX).contains(&value) {
            Ok(Bounded(value))
        } else {
            Err(serde::de::Error::custom(format!(
                "{value} is not from {MIN} to {MAX}"
            )))
        }
    }
}

/// A password of at least `MIN` characters (the node credential, the keystore's).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<const MIN: usize>(String);

impl<const MIN: usize> Secret<MIN> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MIN: usize> From<Secret<MIN>> for String {
    fn from(secret: Secret<MIN>) -> String {
        secret.0
    }
}

impl<const MIN: usize> fmt::Debug for Secret<MIN> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl<'de, const MIN: usize> Deserialize<'de> for Secret<MIN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secret = String::deserialize(d)?;
        if secret.len() < MIN {
            return Err(serde::de::Error::custom(format!(
                "must have at least {MIN} characters"
            )));
        }
        Ok(Secret(secret))
    }
}

/// A host name (no scheme, port or path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostName(String);

impl HostName {
    pub fn localhost() -> HostName {
        HostName("localhost".into())
    }
}

impl TryFrom<String> for HostName {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if name.trim().is_empty() || name.contains(['/', ' ', ':']) {
            Err(format!("'{name}' is not a host name"))
        } else {
            Ok(HostName(name))
        }
    }
}

impl<'de> Deserialize<'de> for HostName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

impl Deref for HostName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    #[allow(dead_code, reason = "read to be checked")]
    struct Sample {
        hub: Option<WsUrl>,
        db: Option<DbUrl>,
        timeout: Option<Seconds<1, 3600>>,
        attempts: Option<Bounded<1, 1000>>,
        password: Option<Secret<8>>,
        host: Option<HostName>,
    }

    fn read(text: &str) -> Result<Sample, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn values_check_themselves_when_read() {
        let ok = read("hub = 'wss://tm:9711'\ndb = 'postgres://u@h/db'\ntimeout = 30\nattempts = 5\npassword = 'long enough'\nhost = 'gw.example'").unwrap();
        assert_eq!(ok.hub.unwrap().as_str(), "wss://tm:9711");
        assert_eq!(ok.timeout.unwrap().get(), 30);
        for (text, said) in [
            ("hub = 'http://tm'", "must be a ws:// or wss:// URL"),
            ("db = 'mysql://x'", "is not supported; use sqlite://PATH"),
            ("timeout = 0", "0 is not a number of seconds from 1 to 3600"),
            ("attempts = 1001", "1001 is not from 1 to 1000"),
            ("password = 'short'", "must have at least 8 characters"),
            ("host = 'https://gw'", "is not a host name"),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.contains(said), "{text}: {err}");
        }
    }
}

/// An address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`) of trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNetwork(pub ipnet::IpNet);

impl<'de> Deserialize<'de> for ProxyNetwork {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let text = text.trim();
        text.parse::<ipnet::IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(ProxyNetwork)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{text}' is not an IP address or network (10.0.0.5, 10.0.0.0/8, fd00::/8)"
                ))
            })
    }
}

/// A DNS server: an address, with a port when it is not 53 (`10.0.0.2`, `127.0.0.1:5353`,
/// `[fd00::53]:53`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameServer(pub std::net::SocketAddr);

impl<'de> Deserialize<'de> for NameServer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let text = text.trim();
        text.parse::<std::net::SocketAddr>()
            .or_else(|_| {
                text.parse::<std::net::IpAddr>()
                    .map(|ip| std::net::SocketAddr::new(ip, 53))
            })
            .map(NameServer)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{text}' is not a name server address (10.0.0.2, 127.0.0.1:5353, [fd00::53]:53)"
                ))
            })
    }
}
