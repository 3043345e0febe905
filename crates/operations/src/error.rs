use tollgate_model::UnknownName;
use tollgate_store::StoreError;

/// One problem with one field of an operation's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the problem is, in the input's terms: `operations[2].verb`, `query`, `apiId`.
    pub field: String,
    pub message: String,
}

/// Why an operation refused or failed. The REST edge renders it as WSO2's error body; a page
/// shows a field's message next to the field.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The input is invalid; every problem found, each naming its field.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The input is valid but the operation cannot be done in the current state (a lifecycle
    /// action not allowed from here, a revision limit reached).
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Forbidden(String),
    /// The operation needs a signed-in caller and has none.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A uniqueness rule or a dependency (an API with subscriptions cannot be deleted).
    #[error("{0}")]
    Conflict(String),
    /// The caller's copy is stale (`If-Match` does not match the current version).
    #[error("{0}")]
    Stale(String),
    #[error(transparent)]
    Store(StoreError),
    /// The key manager refused or failed (credentials, key material).
    #[error(transparent)]
    KeyManager(tollgate_keymanager::KeyManagerError),
}

impl From<tollgate_keymanager::KeyManagerError> for OpError {
    fn from(err: tollgate_keymanager::KeyManagerError) -> Self {
        match err {
            tollgate_keymanager::KeyManagerError::Store(store) => store.into(),
            other => OpError::KeyManager(other),
        }
    }
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl OpError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> OpError {
        OpError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// An unknown name of one of WSO2's enumerations in `field`.
    pub fn unknown_name(field: impl Into<String>, err: UnknownName) -> OpError {
        OpError::invalid(field, err.to_string())
    }
}

impl From<StoreError> for OpError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => OpError::NotFound(what),
            StoreError::Conflict(message) => OpError::Conflict(message),
            other => OpError::Store(other),
        }
    }
}

/// Collects field problems so that an input's every problem is reported at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, OpError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(OpError::Invalid(self.0))
        }
    }
}
