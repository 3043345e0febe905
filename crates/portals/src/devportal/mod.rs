//! The developer portal's pages: the catalogue, an API's page (with its feedback and "try it"),
//! self sign-up, and the consumer's applications.

pub(crate) mod api_page;
pub(crate) mod application;
pub(crate) mod applications;
pub(crate) mod catalogue;
pub(crate) mod feedback;
