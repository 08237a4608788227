//! [`OpenApiBuilder`]: the paths, tags and component schemas of one
//! document, and how components get their final names.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use super::errors::{builtin_schemas, header_limit_response, security_schemes};
use super::schemas::{bound_integer, forbid_nul, schema_ref};
use super::{
    MESSAGE_ERROR_SCHEMA, OPENAPI_VERSION, SCHEMAS_PATH, VALIDATION_ERROR_SCHEMA, clean_doc,
    openapi_path,
};
use crate::query::ListSettings;

/// Collects the paths, tags and component schemas of one document.
///
/// [`describe`](super::describe) fills it for a model; [`RouteDocs`](super::RouteDocs) for a hand-written route.
pub struct OpenApiBuilder {
    settings: SchemaSettings,
    /// Every component schema asked for, deduplicated by name and content;
    /// `$ref`s point at them by index (`#/components/schemas/@3`) until
    /// [`OpenApiBuilder::build`] has seen them all and named each.
    components: Vec<Component>,
    index: HashMap<(String, String), usize>,
    /// The app label of the model being described, if any.
    owner: Option<&'static str>,
    paths: Map<String, Value>,
    tags: Vec<Value>,
    list: ListSettings,
    /// Component schemas of bodies read by [`crate::schema::JsonBody`],
    /// which refuses strings holding NUL.
    nul_free: Vec<String>,
}

impl std::fmt::Debug for OpenApiBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApiBuilder")
            .field("paths", &self.paths.keys().collect::<Vec<_>>())
            .field(
                "schemas",
                &self.components.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl OpenApiBuilder {
    /// An empty document for an app whose lists use `list` page sizes.
    pub fn new(list: ListSettings) -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| {
            s.definitions_path = SCHEMAS_PATH.into();
            s.meta_schema = None;
        });
        OpenApiBuilder {
            settings,
            components: Vec::new(),
            index: HashMap::new(),
            owner: None,
            paths: Map::new(),
            tags: Vec::new(),
            list,
            nul_free: Vec::new(),
        }
    }

    /// The page sizes list endpoints accept.
    pub fn list_settings(&self) -> ListSettings {
        self.list
    }

    /// The schema of `T`: a `$ref` into `#/components/schemas` (added there
    /// with everything it refers to) or, for simple types, the schema itself.
    pub fn schema<T: JsonSchema + ?Sized>(&mut self) -> Value {
        self.schema_with(|generator| generator.subschema_for::<T>())
    }

    /// The schema `make` produces with a fresh generator, its components
    /// merged into the document's. A fresh generator per schema keeps
    /// schemars from suffixing a second `Invoice` `Invoice2` depending on
    /// which came first: same-named components are told apart in [`build`](Self::build).
    pub(super) fn schema_with(
        &mut self,
        make: impl FnOnce(&mut SchemaGenerator) -> Schema,
    ) -> Value {
        let mut generator = self.settings.clone().into_generator();
        let mut root = make(&mut generator).to_value();
        let definitions = generator.take_definitions(true);
        let mut local = HashMap::new();
        let mut added = Vec::new();
        for (name, schema) in &definitions {
            let key = (name.clone(), schema.to_string());
            let id = match self.index.get(&key) {
                Some(id) => *id,
                None => {
                    let id = self.components.len();
                    self.components
                        .push(Component::new(name.clone(), schema.clone()));
                    self.index.insert(key, id);
                    added.push(id);
                    id
                }
            };
            self.components[id].owners.extend(self.owner);
            local.insert(name.clone(), id);
        }
        for id in added {
            rename_refs(&mut self.components[id].schema, &|name| {
                local.get(name).map(|id| format!("@{id}"))
            });
        }
        rename_refs(&mut root, &|name| {
            local.get(name).map(|id| format!("@{id}"))
        });
        root
    }

    /// The schema of `T`, a model's own (`InvoiceCreate`...), whose
    /// component is named `name` in the document whatever `T` calls itself.
    pub fn model_schema<T: JsonSchema + ?Sized>(&mut self, name: &str) -> Value {
        let schema = self.schema::<T>();
        if let Some(id) = placeholder_of(&schema) {
            let fixed = &mut self.components[id].fixed;
            // The same type named twice keeps one name, the smaller.
            if fixed.as_deref().is_none_or(|f| name < f) {
                *fixed = Some(name.to_string());
            }
        }
        schema
    }

    /// Marks the component schemas `schema` refers to as read by
    /// [`crate::schema::JsonBody`]: their strings are documented NUL-free.
    pub fn nul_free(&mut self, schema: &Value) {
        collect_refs(schema, &mut self.nul_free);
    }

    /// Adds (or replaces) the component schema `name`; returns a `$ref` to
    /// it (pointing at its final place once [`build`](Self::build) runs).
    pub fn add_schema(&mut self, name: &str, schema: Value) -> Value {
        let id = match self
            .components
            .iter()
            .position(|c| c.fixed.as_deref() == Some(name))
        {
            Some(id) => {
                self.components[id].schema = schema;
                id
            }
            None => {
                let mut component = Component::new(name.to_string(), schema);
                component.fixed = Some(name.to_string());
                self.components.push(component);
                self.components.len() - 1
            }
        };
        schema_ref(&format!("@{id}"))
    }

    /// Sets the app label of the model whose schemas are asked for next
    /// (`None` after them): it qualifies their components' names on a clash.
    pub(super) fn set_owner(&mut self, owner: Option<&'static str>) {
        self.owner = owner;
    }

    /// The schema of `T` (a generic type made for one model, such as
    /// `Page<PostRead>`) as the component `name`, with that model's own
    /// `title` and `description` in place of the ones `T`'s doc comment gives.
    pub(super) fn model_schema_described<T: JsonSchema + ?Sized>(
        &mut self,
        name: &str,
        description: &str,
    ) -> Value {
        // Built inline and added under its own name: `Page<billing::InvoiceRead>`
        // and `Page<sales::InvoiceRead>` look the same until their item refs
        // resolve, so sharing them through the component index would merge
        // two models' pages into one.
        let generated = self.schema_with(|generator| T::json_schema(generator));
        let mut component = Map::new();
        component.insert("title".into(), Value::from(name));
        component.insert("description".into(), Value::from(description));
        if let Value::Object(generated) = generated {
            for (key, value) in generated {
                if key != "$schema" {
                    component.entry(key).or_insert(value);
                }
            }
        }
        self.add_schema(name, Value::Object(component))
    }

    /// A component's schema by a `$ref` this builder handed out.
    pub(super) fn component(&self, schema: &Value) -> Option<&Value> {
        placeholder_of(schema).map(|id| &self.components[id].schema)
    }

    /// Adds the operation `method` (`get`, `post`, ...) of `path` (axum's
    /// syntax: `/api/posts/{pk}`); an operation already there is replaced.
    pub fn add_operation(&mut self, path: &str, method: &str, operation: Value) {
        let item = self
            .paths
            .entry(openapi_path(path))
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method.to_ascii_lowercase(), operation);
        }
    }

    /// Adds a tag (operations name it to be grouped under it) with a description.
    pub fn add_tag(&mut self, name: &str, description: &str) {
        if self.tags.iter().any(|t| t["name"] == name) {
            return;
        }
        let mut tag = json!({ "name": name });
        let description = clean_doc(description);
        if !description.is_empty() {
            tag["description"] = Value::from(description);
        }
        self.tags.push(tag);
    }

    /// The finished document, titled `title` at version `version`.
    pub fn build(mut self, title: &str, version: &str) -> Value {
        let mut schemas: Map<String, Value> = self
            .components
            .iter()
            .enumerate()
            .map(|(id, c)| (format!("@{id}"), c.schema.clone()))
            .collect();
        // What the server refuses, said by the schemas: integers outside
        // their Rust type, and strings with NUL in the bodies JsonBody reads
        // (list query parameters say it where they are made).
        for item in self.paths.values_mut() {
            walk_schema(item, &mut bound_integer);
            if let Some(operations) = item.as_object_mut() {
                for operation in operations.values_mut() {
                    if let Some(responses) = operation
                        .get_mut("responses")
                        .and_then(Value::as_object_mut)
                    {
                        responses.entry("431").or_insert_with(header_limit_response);
                    }
                }
            }
        }
        let requested = self.request_schemas(&schemas);
        for (name, schema) in schemas.iter_mut() {
            let request = requested.contains(name);
            walk_schema(schema, &mut |s| {
                bound_integer(s);
                if request {
                    forbid_nul(s);
                }
            });
        }
        schemas.extend(builtin_schemas());
        let names = component_names(&self.components);
        let rename = |name: &str| {
            let id: usize = name.strip_prefix('@')?.parse().ok()?;
            names.get(id).cloned()
        };
        let mut paths = Value::Object(std::mem::take(&mut self.paths));
        rename_refs(&mut paths, &rename);
        let mut schemas: Vec<(String, Value)> = schemas
            .into_iter()
            .map(|(name, mut schema)| {
                rename_refs(&mut schema, &rename);
                (rename(&name).unwrap_or(name), schema)
            })
            .collect();
        schemas.sort_by(|a, b| a.0.cmp(&b.0));
        json!({
            "openapi": OPENAPI_VERSION,
            "info": { "title": title, "version": version },
            "tags": self.tags,
            "paths": paths,
            "components": {
                "schemas": schemas.into_iter().collect::<Map<String, Value>>(),
                "securitySchemes": security_schemes(),
            },
        })
    }

    /// The components read from request bodies: those marked with
    /// [`nul_free`](Self::nul_free) and every one they refer to, transitively.
    fn request_schemas(&mut self, schemas: &Map<String, Value>) -> Vec<String> {
        let mut requested = std::mem::take(&mut self.nul_free);
        let mut i = 0;
        while let Some(name) = requested.get(i).cloned() {
            if let Some(schema) = schemas.get(&name) {
                collect_refs(schema, &mut requested);
            }
            i += 1;
        }
        requested
    }
}

/// A component schema of the document being built.
#[derive(Debug)]
struct Component {
    /// The name its type gave it (`JsonSchema::schema_name`).
    name: String,
    /// Its schema; `$ref`s point at other components by index.
    schema: Value,
    /// The name it must have: a model's own schemas and [`OpenApiBuilder::add_schema`]'s.
    fixed: Option<String>,
    /// The app labels of the models whose schemas use it.
    owners: BTreeSet<&'static str>,
}

impl Component {
    fn new(name: String, schema: Value) -> Self {
        Component {
            name,
            schema,
            fixed: None,
            owners: Default::default(),
        }
    }
}

/// The component index a `$ref` handed out by the builder points at.
fn placeholder_of(schema: &Value) -> Option<usize> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix(SCHEMAS_PATH)?
        .strip_prefix('@')?
        .parse()
        .ok()
}

/// Replaces, in every `$ref` into the components, the name `rename` maps.
fn rename_refs(schema: &mut Value, rename: &impl Fn(&str) -> Option<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(name) = reference.strip_prefix(SCHEMAS_PATH)
                && let Some(new) = rename(name)
            {
                *reference = format!("{SCHEMAS_PATH}{new}");
            }
            map.values_mut().for_each(|v| rename_refs(v, rename));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, rename)),
        _ => {}
    }
}

/// The name of each component in the document: a fixed name as given;
/// otherwise the type's own name while no other component wants it, else
/// prefixed by the app of the models using it (`BillingStatus`), numbered
/// only if that still leaves two alike. The same for any registration order:
/// every decision looks at the whole set, sorted by name, app and content.
fn component_names(components: &[Component]) -> Vec<String> {
    let builtin = [
        "ValidationError",
        VALIDATION_ERROR_SCHEMA,
        MESSAGE_ERROR_SCHEMA,
    ];
    let fixed: BTreeSet<&str> = components
        .iter()
        .filter_map(|c| c.fixed.as_deref())
        .collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = Default::default();
    for (id, c) in components.iter().enumerate() {
        if c.fixed.is_none() {
            groups.entry(&c.name).or_default().push(id);
        }
    }
    let mut names: Vec<String> = components
        .iter()
        .map(|c| c.fixed.clone().unwrap_or_default())
        .collect();
    for (name, mut ids) in groups {
        if ids.len() == 1 && !fixed.contains(name) && !builtin.contains(&name) {
            names[ids[0]] = name.to_string();
            continue;
        }
        let app = |id: usize| match components[id].owners.len() {
            1 => crate::names::upper_camel(components[id].owners.first().copied().unwrap_or("")),
            _ => String::new(),
        };
        ids.sort_by_cached_key(|&id| (app(id), components[id].schema.to_string()));
        let qualified: Vec<String> = ids.iter().map(|&id| format!("{}{name}", app(id))).collect();
        for (k, &id) in ids.iter().enumerate() {
            let candidate = &qualified[k];
            let unique = qualified.iter().filter(|q| *q == candidate).count() == 1
                && !fixed.contains(candidate.as_str())
                && !builtin.contains(&candidate.as_str());
            names[id] = if unique {
                candidate.clone()
            } else {
                format!("{candidate}{}", k + 1)
            };
        }
    }
    names
}

/// Calls `f` on `schema` and every schema object nested in it.
pub(super) fn walk_schema(schema: &mut Value, f: &mut impl FnMut(&mut Value)) {
    match schema {
        Value::Object(map) => {
            for value in map.values_mut() {
                walk_schema(value, f);
            }
        }
        Value::Array(items) => {
            for value in items {
                walk_schema(value, f);
            }
        }
        _ => return,
    }
    f(schema);
}

/// Adds the component names `schema` refers to (`$ref`) to `names`.
fn collect_refs(schema: &Value, names: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS_PATH))
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, names));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, names)),
        _ => {}
    }
}
