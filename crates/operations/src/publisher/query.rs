//! WSO2's search syntax for API lists (publisher and developer portal): `name:pizza
//! version:1.0.0`, `doc:` for a document's text, a value in quotes for an exact match
//! (`provider:"admin"`), bare words for names containing them.

use tollgate_model::LifecycleState;
use tollgate_store::{ApiFilter, TextMatch};

use crate::OpError;

/// The filters a query asks for; the field in errors is `query`.
pub fn parse(query: &str) -> Result<Vec<ApiFilter>, OpError> {
    let mut filters = Vec::new();
    for term in split_terms(query) {
        let (attribute, value) = match term.split_once(':') {
            Some((attribute, value)) => (attribute.trim().to_ascii_lowercase(), value),
            None => ("name".to_string(), term.as_str()),
        };
        let text = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(exact) => TextMatch::Exactly(exact.to_string()),
            None => TextMatch::Contains(value.to_string()),
        };
        let filter = match attribute.as_str() {
            "name" => ApiFilter::Name(text),
            "context" => ApiFilter::Context(text),
            "version" => ApiFilter::Version(text),
            "provider" => ApiFilter::Provider(text),
            "description" => ApiFilter::Description(text),
            "tag" | "tags" => ApiFilter::Tag(text),
            "doc" | "content" => ApiFilter::Document(text),
            "status" | "lifecyclestatus" => {
                let raw = match &text {
                    TextMatch::Contains(t) | TextMatch::Exactly(t) => t,
                };
                let state = LifecycleState::parse(&raw.to_ascii_uppercase()).ok_or_else(|| {
                    OpError::invalid(
                        "query",
                        format!(
                            "status '{raw}' is not one of {}",
                            LifecycleState::names()
                        ),
                    )
                })?;
                ApiFilter::Status(state)
            }
            other => {
                return Err(OpError::invalid(
                    "query",
                    format!(
                        "'{other}:' is not a supported search attribute; use name:, context:, version:, provider:, description:, tag:, status:, doc: or plain text"
                    ),
                ))
            }
        };
        filters.push(filter);
    }
    Ok(filters)
}

/// Splits on spaces outside double quotes; empty terms are dropped.
fn split_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        terms.push(current);
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wso2_queries_become_filters() {
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(
            parse("pizza").unwrap(),
            vec![ApiFilter::Name(TextMatch::Contains("pizza".into()))]
        );
        assert_eq!(
            parse("name:pizzashack version:v1 provider:\"wso2 admin\" status:published").unwrap(),
            vec![
                ApiFilter::Name(TextMatch::Contains("pizzashack".into())),
                ApiFilter::Version(TextMatch::Contains("v1".into())),
                ApiFilter::Provider(TextMatch::Exactly("wso2 admin".into())),
                ApiFilter::Status(LifecycleState::Published),
            ]
        );
        assert!(matches!(parse("colour:red"), Err(OpError::Invalid(e)) if e[0].field == "query"));
        assert!(
            matches!(parse("status:asleep"), Err(OpError::Invalid(e)) if e[0].field == "query")
        );
    }
}
