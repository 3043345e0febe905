//! API definitions: OpenAPI 3.0 and 3.1 (read with the `oas3` crate) and Swagger 2.0 (no
//! well-kept crate reads it; a serde model of the parts the publisher uses), in JSON or YAML
//! (`serde_yaml_ng`).
//!
//! A definition is checked for every problem at once — its structure, unresolvable `$ref`s,
//! undeclared path parameters, duplicate operation ids, resources gateways cannot route — each
//! reported with its location as a JSON pointer (`#/paths/~1pets/get`). The API's resources are
//! read from it, and written back into it when they change, so the stored definition and the
//! API's operations stay in step both ways.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{json, Map, Value};
use tollgate_model::{AuthType, HttpVerb};

use super::definition::{Resource, ScopeDefinition};
use crate::{OpError, Problems};

/// The largest definition accepted (WSO2's own publisher API is 420 KB).
pub const MAX_DEFINITION_BYTES: usize = 10 * 1024 * 1024;

/// Which specification a definition follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

/// A definition that passed every check.
#[derive(Debug, Clone)]
pub struct Document {
    /// The definition as JSON (YAML is converted).
    pub value: Value,
    pub spec: SpecVersion,
    /// The version string it declares (`3.0.1`, `2.0`).
    pub declared_version: String,
}

/// What a definition says about its API.
#[derive(Debug, Clone)]
pub struct Summary {
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    /// The base path it declares (`x-wso2-basePath`, a server URL's path, Swagger's
    /// `basePath`), if any.
    pub context: Option<String>,
    /// Absolute backend URLs it declares (servers, or Swagger's scheme, host and base path).
    pub endpoints: Vec<String>,
    pub resources: Vec<Resource>,
    /// The OAuth2 scopes it declares (with WSO2's `x-scopes-bindings` roles), and any its
    /// operations use without declaring.
    pub scopes: Vec<ScopeDefinition>,
}

/// One operation of a definition, whichever specification it follows.
struct DocOperation {
    path: String,
    method: String,
    operation_id: Option<String>,
    /// `None` when the operation says nothing (the document's default applies).
    security: Option<Vec<BTreeMap<String, Vec<String>>>>,
    /// Extensions without their `x-` prefix.
    extensions: Map<String, Value>,
}

/// Reads and checks a definition, reporting every problem with its location.
pub fn read(bytes: &[u8]) -> Result<Document, OpError> {
    if bytes.len() > MAX_DEFINITION_BYTES {
        return Err(OpError::invalid(
            "definition",
            format!("is larger than {MAX_DEFINITION_BYTES} bytes"),
        ));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| OpError::invalid("definition", "is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(OpError::invalid("definition", "is empty"));
    }
    let value: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| {
            OpError::invalid(
                "definition",
                format!(
                    "is not valid JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            OpError::invalid("definition", format!("is not valid YAML{place}: {e}"))
        })?
    };
    let Some(root) = value.as_object() else {
        return Err(OpError::invalid("#", "a definition must be an object"));
    };
    let (spec, declared_version) = match (root.get("openapi"), root.get("swagger")) {
        (Some(Value::String(v)), _) if v.starts_with("3.0") => (SpecVersion::OpenApi30, v.clone()),
        (Some(Value::String(v)), _) if v.starts_with("3.1") => (SpecVersion::OpenApi31, v.clone()),
        (_, Some(Value::String(v))) if v == "2.0" => (SpecVersion::Swagger2, v.clone()),
        (Some(other), _) => {
            return Err(OpError::invalid(
                "#/openapi",
                format!(
                    "version {other} is not supported; use 3.0.x or 3.1.x (or swagger: \"2.0\")"
                ),
            ))
        }
        (_, Some(other)) => {
            return Err(OpError::invalid(
                "#/swagger",
                format!("version {other} is not supported; use \"2.0\""),
            ))
        }
        (None, None) => {
            return Err(OpError::invalid(
                "#",
                "is neither OpenAPI (an 'openapi' field) nor Swagger (a 'swagger' field)",
            ))
        }
    };
    let document = Document {
        value,
        spec,
        declared_version,
    };
    // Structure first: the typed model reports the first place the document breaks it.
    document.operations()?;
    let mut problems = Problems::default();
    check_refs(&document.value, &document.value, "#", &mut problems);
    check_operations(&document, &mut problems)?;
    problems.into_result(document)
}

/// A serde error at a place in the document, as a JSON pointer.
fn structural(err: serde_path_to_error::Error<serde_json::Error>) -> OpError {
    let mut pointer = String::from("#");
    for segment in err.path().iter() {
        pointer.push('/');
        match segment {
            serde_path_to_error::Segment::Seq { index } => pointer.push_str(&index.to_string()),
            serde_path_to_error::Segment::Map { key } => pointer.push_str(&escape_pointer(key)),
            serde_path_to_error::Segment::Enum { variant } => {
                pointer.push_str(&escape_pointer(variant))
            }
            serde_path_to_error::Segment::Unknown => pointer.push('?'),
        }
    }
    OpError::invalid(pointer, err.into_inner().to_string())
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every local `$ref` must point at something; other references are not followed.
fn check_refs(root: &Value, node: &Value, at: &str, problems: &mut Problems) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let place = format!("{at}/$ref");
                match reference.strip_prefix('#') {
                    Some(pointer) => {
                        let resolved = root.pointer(pointer).is_some()
                            // `$ref`s may percent-encode their pointer (`%7Bid%7D`).
                            || root
                                .pointer(&percent_encoding::percent_decode_str(pointer).decode_utf8_lossy())
                                .is_some();
                        if !resolved {
                            problems.add(place, format!("'{reference}' points at nothing"));
                        }
                    }
                    None => problems.add(
                        place,
                        format!("'{reference}' is an external reference; only references within the document are supported"),
                    ),
                }
            }
            for (key, value) in map {
                // Examples are data, not definitions: a "$ref" inside one is just text.
                if key == "example" || key == "examples" || key == "x-examples" {
                    continue;
                }
                check_refs(
                    root,
                    value,
                    &format!("{at}/{}", escape_pointer(key)),
                    problems,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_refs(root, item, &format!("{at}/{i}"), problems);
            }
        }
        _ => {}
    }
}

/// Follows a local `$ref` (one level at a time, at most 32), or returns the node itself.
fn resolve<'v>(root: &'v Value, mut node: &'v Value) -> &'v Value {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => node = target,
                None => return node,
            },
            None => return node,
        }
    }
    node
}

fn check_operations(document: &Document, problems: &mut Problems) -> Result<(), OpError> {
    let root = &document.value;
    let mut ids = HashSet::new();
    let mut routes = HashSet::new();
    for op in document.operations()? {
        let place = format!("#/paths/{}/{}", escape_pointer(&op.path), op.method);
        if !op.path.starts_with('/') {
            problems.add(
                format!("#/paths/{}", escape_pointer(&op.path)),
                "a path must start with '/'",
            );
            continue;
        }
        if HttpVerb::parse(&op.method.to_ascii_uppercase()).is_none() {
            problems.add(
                place.clone(),
                format!(
                    "{} is not a method gateways serve ({})",
                    op.method.to_ascii_uppercase(),
                    HttpVerb::names()
                ),
            );
        }
        if let Err(message) = super::definition::check_target(&op.path) {
            problems.add(format!("#/paths/{}", escape_pointer(&op.path)), message);
        }
        if let Some(id) = &op.operation_id {
            if !ids.insert(id.clone()) {
                problems.add(
                    format!("{place}/operationId"),
                    format!("'{id}' is the id of another operation too"),
                );
            }
        }
        // Paths that differ only in their parameters' names are the same route.
        let shape = template_shape(&op.path);
        if !routes.insert((shape, op.method.clone())) {
            problems.add(
                place.clone(),
                "another path with the same shape already has this method".to_string(),
            );
        }
        if let Some(auth) = op.extensions.get("auth-type") {
            if auth.as_str().and_then(AuthType::parse).is_none() {
                problems.add(
                    format!("{place}/x-auth-type"),
                    format!("{auth} is not one of {}", AuthType::names()),
                );
            }
        }
        // Every {parameter} in the path is declared, on the path or on the operation.
        let declared: HashSet<String> = [
            root.pointer(&format!("/paths/{}/parameters", escape_pointer(&op.path))),
            root.pointer(&format!(
                "/paths/{}/{}/parameters",
                escape_pointer(&op.path),
                op.method
            )),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .map(|p| resolve(root, p))
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
        for name in template_parameters(&op.path) {
            if !declared.contains(&name) {
                problems.add(
                    place.clone(),
                    format!("path parameter '{name}' is not declared (a parameter with in: path)"),
                );
            }
        }
    }
    Ok(())
}

/// `/pets/{id}` → `/pets/{}`.
fn template_shape(path: &str) -> String {
    let mut shape = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    shape.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            c if depth == 0 => shape.push(c),
            _ => {}
        }
    }
    shape
}

/// The `{names}` of a path template.
fn template_parameters(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// Swagger 2.0, as far as the publisher reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Swagger2 {
    #[allow(dead_code)]
    swagger: String,
    info: Swagger2Info,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    base_path: Option<String>,
    #[serde(default)]
    schemes: Vec<String>,
    #[serde(default)]
    paths: BTreeMap<String, Swagger2PathItem>,
}

#[derive(Deserialize)]
struct Swagger2Info {
    title: String,
    version: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct Swagger2PathItem {
    #[serde(flatten)]
    entries: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Swagger2Operation {
    #[serde(default)]
    operation_id: Option<String>,
    #[serde(default)]
    security: Option<Vec<BTreeMap<String, Vec<String>>>>,
    // Read to check the operation's structure; their content is not used.
    #[serde(default)]
    #[allow(dead_code)]
    parameters: Vec<Value>,
    #[allow(dead_code)]
    responses: BTreeMap<String, Value>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

const SWAGGER2_METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

impl Document {
    fn openapi3(&self) -> Result<oas3::Spec, OpError> {
        serde_path_to_error::deserialize(&self.value).map_err(structural)
    }

    fn swagger2(&self) -> Result<Swagger2, OpError> {
        let swagger: Swagger2 =
            serde_path_to_error::deserialize(&self.value).map_err(structural)?;
        // Each operation, read for its structure (and so the error's location).
        for (path, item) in &swagger.paths {
            for (method, operation) in &item.entries {
                if SWAGGER2_METHODS.contains(&method.as_str()) {
                    let _: Swagger2Operation = serde_path_to_error::deserialize(operation)
                        .map_err(structural)
                        .map_err(|e| {
                            relocate(e, &format!("#/paths/{}/{method}", escape_pointer(path)))
                        })?;
                }
            }
        }
        Ok(swagger)
    }

    /// Every operation, in the document's order of paths.
    fn operations(&self) -> Result<Vec<DocOperation>, OpError> {
        match self.spec {
            SpecVersion::OpenApi30 | SpecVersion::OpenApi31 => {
                let spec = self.openapi3()?;
                Ok(spec
                    .operations()
                    .map(|(path, method, op)| {
                        let method = method.as_str().to_ascii_lowercase();
                        // oas3 reads an absent `security` and `security: []` alike; which
                        // one it was matters (the latter means "no authentication").
                        let explicit = self
                            .value
                            .pointer(&format!(
                                "/paths/{}/{method}/security",
                                escape_pointer(&path)
                            ))
                            .is_some();
                        DocOperation {
                            security: explicit.then(|| {
                                op.security
                                    .iter()
                                    .map(|r| r.0.clone().into_iter().collect())
                                    .collect()
                            }),
                            operation_id: op.operation_id.clone(),
                            extensions: op.extensions.clone().into_iter().collect(),
                            path,
                            method,
                        }
                    })
                    .collect())
            }
            SpecVersion::Swagger2 => {
                let swagger = self.swagger2()?;
                let mut operations = Vec::new();
                for (path, item) in &swagger.paths {
                    for (method, operation) in &item.entries {
                        if !SWAGGER2_METHODS.contains(&method.as_str()) {
                            continue;
                        }
                        let op: Swagger2Operation = serde_json::from_value(operation.clone())
                            .map_err(|e| {
                                OpError::invalid(
                                    format!("#/paths/{}/{method}", escape_pointer(path)),
                                    e.to_string(),
                                )
                            })?;
                        operations.push(DocOperation {
                            path: path.clone(),
                            method: method.clone(),
                            operation_id: op.operation_id,
                            security: op.security,
                            extensions: op
                                .rest
                                .into_iter()
                                .filter_map(|(k, v)| {
                                    k.strip_prefix("x-").map(|k| (k.to_string(), v))
                                })
                                .collect(),
                        });
                    }
                }
                Ok(operations)
            }
        }
    }

    /// The OAuth2 scopes the document declares, with the roles WSO2's `x-scopes-bindings`
    /// bind them to, then those its resources use without declaring them.
    fn declared_scopes(&self, resources: &[Resource]) -> Vec<ScopeDefinition> {
        let schemes = match self.spec {
            SpecVersion::Swagger2 => self.value.get("securityDefinitions"),
            _ => self.value.pointer("/components/securitySchemes"),
        };
        let mut scopes: BTreeMap<String, ScopeDefinition> = BTreeMap::new();
        let mut bindings: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut read = |holder: &Value| {
            if let Some(map) = holder.get("scopes").and_then(Value::as_object) {
                for (name, description) in map {
                    scopes
                        .entry(name.clone())
                        .or_insert_with(|| ScopeDefinition {
                            id: None,
                            name: name.clone(),
                            display_name: Some(name.clone()),
                            description: description.as_str().map(str::to_string),
                            bindings: vec![],
                            other: Map::new(),
                        });
                }
            }
            if let Some(map) = holder.get("x-scopes-bindings").and_then(Value::as_object) {
                for (name, roles) in map {
                    let roles = roles
                        .as_str()
                        .unwrap_or_default()
                        .split(',')
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(str::to_string);
                    bindings.entry(name.clone()).or_default().extend(roles);
                }
            }
        };
        for scheme in schemes
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.values())
        {
            read(scheme);
            for flow in scheme
                .get("flows")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
            {
                read(flow);
            }
        }
        for resource in resources {
            for name in &resource.scopes {
                scopes
                    .entry(name.clone())
                    .or_insert_with(|| ScopeDefinition {
                        id: None,
                        name: name.clone(),
                        display_name: Some(name.clone()),
                        description: None,
                        bindings: vec![],
                        other: Map::new(),
                    });
            }
        }
        scopes
            .into_values()
            .map(|mut scope| {
                if let Some(roles) = bindings.remove(&scope.name) {
                    scope.bindings = roles;
                }
                scope
            })
            .collect()
    }

    /// What the definition says about its API, and its resources as the API's operations.
    pub fn summary(&self) -> Result<Summary, OpError> {
        let operations = self.operations()?;
        let document_security = self.value.get("security").and_then(Value::as_array);
        let resources = operations
            .iter()
            .filter_map(|op| {
                let verb = HttpVerb::parse(&op.method.to_ascii_uppercase())?;
                let auth_type = match op.extensions.get("auth-type").and_then(Value::as_str) {
                    Some(text) => AuthType::parse(text).unwrap_or(AuthType::Any),
                    // `security: []` on an operation: no authentication.
                    None if op.security.as_ref().is_some_and(Vec::is_empty) => AuthType::None,
                    None if op.security.is_none()
                        && document_security.is_some_and(|s| s.is_empty()) =>
                    {
                        AuthType::None
                    }
                    None => AuthType::Any,
                };
                let scopes: Vec<String> = op
                    .security
                    .iter()
                    .flatten()
                    .flat_map(|requirement| requirement.values().flatten().cloned())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                Some(Resource {
                    target: op.path.clone(),
                    verb,
                    auth_type,
                    throttling_policy: op
                        .extensions
                        .get("throttling-tier")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    scopes,
                    other: Map::new(),
                })
            })
            .collect::<Vec<_>>();
        let scopes = self.declared_scopes(&resources);
        match self.spec {
            SpecVersion::OpenApi30 | SpecVersion::OpenApi31 => {
                let spec = self.openapi3()?;
                let servers: Vec<String> = spec.servers.iter().map(|s| s.url.clone()).collect();
                let context = spec
                    .extensions
                    .get("wso2-basePath")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| servers.first().and_then(|url| url_path(url)));
                Ok(Summary {
                    title: spec.info.title.clone(),
                    version: spec.info.version.clone(),
                    description: spec.info.description.clone(),
                    context,
                    endpoints: servers
                        .into_iter()
                        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                        .collect(),
                    resources,
                    scopes,
                })
            }
            SpecVersion::Swagger2 => {
                let swagger = self.swagger2()?;
                let endpoints = match &swagger.host {
                    Some(host) => {
                        let schemes = if swagger.schemes.is_empty() {
                            vec!["https".to_string()]
                        } else {
                            swagger.schemes.clone()
                        };
                        schemes
                            .iter()
                            .filter(|s| *s == "http" || *s == "https")
                            .map(|s| {
                                format!(
                                    "{s}://{host}{}",
                                    swagger.base_path.clone().unwrap_or_default()
                                )
                            })
                            .collect()
                    }
                    None => Vec::new(),
                };
                Ok(Summary {
                    title: swagger.info.title,
                    version: swagger.info.version,
                    description: swagger.info.description,
                    context: swagger.base_path.filter(|p| p != "/"),
                    endpoints,
                    resources,
                    scopes,
                })
            }
        }
    }

    /// The definition with its paths made to match `resources`: operations no longer among
    /// them removed, new ones added, and each one's auth type, tier and scopes written as
    /// WSO2 writes them (`x-auth-type`, `x-throttling-tier`, `security`).
    pub fn with_resources(&self, resources: &[Resource]) -> Value {
        let mut value = self.value.clone();
        let swagger2 = self.spec == SpecVersion::Swagger2;
        let wanted: HashSet<(String, String)> = resources
            .iter()
            .map(|r| (r.target.clone(), r.verb.as_str().to_ascii_lowercase()))
            .collect();
        let Some(root) = value.as_object_mut() else {
            return value;
        };
        let paths = root
            .entry("paths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !paths.is_object() {
            *paths = Value::Object(Map::new());
        }
        let Some(paths) = paths.as_object_mut() else {
            return value;
        };
        // Drop operations the API no longer has, and paths left with none.
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|key, _| {
                    !is_method(key) || wanted.contains(&(path.clone(), key.clone()))
                });
            }
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_none_or(|m| m.keys().any(|k| is_method(k)))
        });
        let mut uses_default_scheme = false;
        for resource in resources {
            let method = resource.verb.as_str().to_ascii_lowercase();
            let item = paths
                .entry(resource.target.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let operation = item
                .entry(method)
                .or_insert_with(|| new_operation(&resource.target, swagger2));
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            operation.insert("x-auth-type".into(), json!(resource.auth_type));
            match &resource.throttling_policy {
                Some(tier) => operation.insert("x-throttling-tier".into(), json!(tier)),
                None => operation.remove("x-throttling-tier"),
            };
            if resource.auth_type == AuthType::None {
                operation.insert("security".into(), json!([]));
            } else if !resource.scopes.is_empty() {
                operation.insert("security".into(), json!([{"default": resource.scopes}]));
                uses_default_scheme = true;
            } else if operation.get("security").is_some_and(|s| s == &json!([])) {
                operation.remove("security");
            }
        }
        if uses_default_scheme {
            ensure_default_scheme(root, swagger2, resources);
        }
        value
    }
}

fn is_method(key: &str) -> bool {
    matches!(
        key,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// A minimal operation for a resource the definition did not have.
fn new_operation(target: &str, swagger2: bool) -> Value {
    let parameters: Vec<Value> = template_parameters(target)
        .into_iter()
        .map(|name| {
            if swagger2 {
                json!({"name": name, "in": "path", "required": true, "type": "string"})
            } else {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            }
        })
        .collect();
    let mut operation = json!({"responses": {"200": {"description": "OK"}}});
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    operation
}

/// WSO2's `default` OAuth2 scheme, listing every scope the resources use.
fn ensure_default_scheme(root: &mut Map<String, Value>, swagger2: bool, resources: &[Resource]) {
    let scopes: Map<String, Value> = resources
        .iter()
        .flat_map(|r| r.scopes.iter())
        .map(|s| (s.clone(), json!("")))
        .collect();
    let scheme = if swagger2 {
        let definitions = root
            .entry("securityDefinitions")
            .or_insert_with(|| json!({}));
        definitions
            .as_object_mut()
            .map(|d| d.entry("default").or_insert_with(|| json!({"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://test.com"})))
    } else {
        let components = root.entry("components").or_insert_with(|| json!({}));
        components
            .as_object_mut()
            .map(|c| c.entry("securitySchemes").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
            .map(|s| {
                s.entry("default").or_insert_with(|| {
                    json!({"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://test.com", "scopes": {}}}})
                })
            })
    };
    let Some(scheme) = scheme else { return };
    let target = if swagger2 {
        scheme
            .as_object_mut()
            .map(|s| s.entry("scopes").or_insert_with(|| json!({})))
    } else {
        scheme
            .pointer_mut("/flows/implicit")
            .and_then(Value::as_object_mut)
            .map(|flow| flow.entry("scopes").or_insert_with(|| json!({})))
    };
    if let Some(Value::Object(existing)) = target {
        for (scope, description) in scopes {
            existing.entry(scope).or_insert(description);
        }
    }
}

/// The path of an absolute or relative server URL (`https://host/api/v1` → `/api/v1`), if it
/// has one beyond `/`.
fn url_path(url: &str) -> Option<String> {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| format!("/{p}"))?,
        None => url.to_string(),
    };
    let path = rest.trim_end_matches('/');
    (path.starts_with('/') && path.len() > 1 && !path.contains('{')).then(|| path.to_string())
}

/// Re-anchors a structural error found inside a sub-document at `base`.
fn relocate(err: OpError, base: &str) -> OpError {
    match err {
        OpError::Invalid(mut errors) => {
            for e in &mut errors {
                e.field = format!("{base}{}", e.field.trim_start_matches('#'));
            }
            OpError::Invalid(errors)
        }
        other => other,
    }
}

/// A fresh OpenAPI 3.0 definition for an API that has none (created without one).
pub fn generate(
    title: &str,
    version: &str,
    description: Option<&str>,
    resources: &[Resource],
) -> Document {
    let mut info = json!({"title": title, "version": version});
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        info["description"] = json!(description);
    }
    let base = Document {
        value: json!({"openapi": "3.0.1", "info": info, "paths": {}}),
        spec: SpecVersion::OpenApi30,
        declared_version: "3.0.1".into(),
    };
    Document {
        value: base.with_resources(resources),
        ..base
    }
}

/// Re-reads a stored definition (checked when it was stored).
pub fn stored(value: Value) -> Result<Document, OpError> {
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    read(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: OpError) -> Vec<String> {
        match err {
            OpError::Invalid(errors) => errors
                .into_iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn wso2s_own_publisher_api_reads_with_every_operation() {
        let text = include_str!("../../../../spec/wso2-apim-4.2/publisher-api.yaml");
        let document = read(text.as_bytes()).unwrap();
        assert_eq!(document.spec, SpecVersion::OpenApi30);
        let summary = document.summary().unwrap();
        assert_eq!(summary.title, "WSO2 API Manager - Publisher API");
        assert_eq!(summary.resources.len(), 160);
        assert_eq!(summary.context.as_deref(), Some("/api/am/publisher/v4"));
    }

    #[test]
    fn every_problem_is_listed_with_its_location() {
        let yaml = r##"
openapi: 3.0.1
info: {title: Pets, version: "1.0"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      responses: {"200": {$ref: "#/components/responses/Missing"}}
  /pets/{petId}:
    get:
      operationId: getPet
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /a/../b:
    trace:
      responses: {"200": {description: ok}}
"##;
        let problems = fields(read(yaml.as_bytes()).unwrap_err());
        let joined = problems.join("\n");
        for expected in [
            "#/paths/~1pets~1{id}/get/responses/200/$ref",
            "#/paths/~1pets~1{id}/get path parameter 'id' is not declared",
            "#/paths/~1pets~1{petId}/get/operationId",
            "#/paths/~1pets~1{petId}/get another path with the same shape",
            "#/paths/~1a~1..~1b/trace TRACE is not a method",
            "#/paths/~1a~1..~1b '/a/../b' contains",
        ] {
            assert!(joined.contains(expected), "{expected} not in\n{joined}");
        }
    }

    #[test]
    fn structure_errors_say_where() {
        let problems = fields(
            read(b"{\"openapi\": \"3.0.0\", \"info\": {\"title\": \"x\"}, \"paths\": {}}")
                .unwrap_err(),
        );
        assert!(problems[0].starts_with("#/info"), "{problems:?}");
        let problems = fields(read(b"openapi: 4.0.0\ninfo: {}").unwrap_err());
        assert!(problems[0].starts_with("#/openapi"), "{problems:?}");
        let problems = fields(read(b"openapi: [unclosed").unwrap_err());
        assert!(problems[0].contains("line 1"), "{problems:?}");
    }

    #[test]
    fn swagger2_reads_and_resources_flow_both_ways() {
        let yaml = r#"
swagger: "2.0"
info: {title: Petstore, version: "1.0.0"}
host: petstore.example.com
basePath: /v2
schemes: [https]
paths:
  /pets:
    get:
      x-auth-type: "Application User"
      x-throttling-tier: Gold
      security: [{petstore_auth: ["read:pets"]}]
      responses: {"200": {description: ok}}
    post:
      security: []
      responses: {"200": {description: ok}}
"#;
        let document = read(yaml.as_bytes()).unwrap();
        let summary = document.summary().unwrap();
        assert_eq!(summary.context.as_deref(), Some("/v2"));
        assert_eq!(summary.endpoints, vec!["https://petstore.example.com/v2"]);
        let get = &summary.resources[0];
        assert_eq!(
            (get.verb, get.auth_type),
            (HttpVerb::Get, AuthType::ApplicationUser)
        );
        assert_eq!(get.throttling_policy.as_deref(), Some("Gold"));
        assert_eq!(get.scopes, vec!["read:pets"]);
        assert_eq!(summary.resources[1].auth_type, AuthType::None);

        // Drop POST, add DELETE /pets/{id}: the definition follows and still reads.
        let mut resources = summary.resources.clone();
        resources.pop();
        resources.push(Resource {
            target: "/pets/{id}".into(),
            verb: HttpVerb::Delete,
            auth_type: AuthType::Any,
            throttling_policy: None,
            scopes: vec!["write:pets".into()],
            other: Map::new(),
        });
        let updated = document.with_resources(&resources);
        assert!(updated.pointer("/paths/~1pets/post").is_none());
        assert!(updated.pointer("/paths/~1pets~1{id}/delete").is_some());
        let again = stored(updated).unwrap().summary().unwrap();
        assert_eq!(again.resources.len(), 2);
        assert_eq!(again.resources[1].scopes, vec!["write:pets"]);
    }
}
