use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Query parameters. Unlike axum's `Query`, a bad parameter yields WSO2's error body naming it
/// (`Query parameter 'limit': invalid digit found in string`).
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(QueryParams)
    }
}

/// The page a list request asks for: its `limit` and `offset` query parameters (WSO2's
/// defaults when absent), checked as every list checks them; the handler reads its other
/// parameters with [`QueryParams`].
pub struct Paged(pub tollgate_operations::Page);

impl<S: Send + Sync> FromRequestParts<S> for Paged {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        #[derive(serde::Deserialize)]
        struct Bounds {
            limit: Option<i64>,
            offset: Option<i64>,
        }
        let bounds: Bounds = parse_query(parts.uri.query().unwrap_or(""))?;
        Ok(Paged(tollgate_operations::Page::new(
            bounds.limit,
            bounds.offset,
        )?))
    }
}

/// Parses a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(format!("Invalid query parameters: {inner}"))
        } else {
            ApiError::bad_field(path, inner.to_string())
        }
    })
}

/// A required parameter; empty counts as missing, as WSO2's clients send it.
pub fn required(name: &str, value: Option<String>) -> Result<String, ApiError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_field(name, "is required"))
}

/// A path segment or parameter holding one of WSO2's names (`keyType` = `PRODUCTION`).
pub fn parse_name<T>(name: &str, text: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = tollgate_model::UnknownName>,
{
    text.parse()
        .map_err(|e: tollgate_model::UnknownName| ApiError::bad_field(name, e.to_string()))
}

/// An optional parameter holding one of WSO2's names (`sortOrder=asc`); empty means absent.
pub fn named_param<T>(name: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: std::str::FromStr<Err = tollgate_model::UnknownName>,
{
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|e: tollgate_model::UnknownName| ApiError::bad_field(name, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Q {
        #[serde(default)]
        limit: Option<i64>,
        #[serde(default)]
        query: Option<String>,
    }

    #[test]
    fn numbers_arrive_as_text_and_bad_ones_are_named() {
        let q: Q = parse_query("limit=2&offset=0&query=name%3Apizza").unwrap();
        assert_eq!(q.limit, Some(2));
        assert_eq!(q.query.as_deref(), Some("name:pizza"));
        let err = parse_query::<Q>("limit=two").unwrap_err();
        assert!(err.description.contains("'limit'"), "{}", err.description);
        assert_eq!(err.errors[0].field, "limit");
    }
}
