//! The names a registered model takes in URLs and in the OpenAPI document,
//! unique by construction, and the route table `App` checks before it
//! builds its router.
//!
//! The rule, as Django's: a model's plain names (`/api/invoices`,
//! `InvoiceRead`, `list_invoices`, tag `Invoice`) are used while no other
//! registered model would take one of them; when two would share a name,
//! both get app-qualified names (`/api/billing/invoices`,
//! `BillingInvoiceRead`, `billing_list_invoices`, tag `billing.Invoice`).
//! The outcome depends on the set of registered models, never on the order
//! they were registered in. The built-in auth models follow the same rule:
//! an app's own `User` moves the built-in one to `/api/auth/users`.

use std::collections::BTreeMap;

use crate::model::ModelMeta;

/// The names one model's endpoints and schemas take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelNames {
    /// The prefix of its component schemas: `Invoice` (`InvoiceRead`,
    /// `InvoicePage`...) or, qualified, `BillingInvoice`.
    pub schema: String,
    /// Its OpenAPI tag: `Invoice`, or `billing.Invoice`.
    pub tag: String,
    /// The prefix of its operationIds: empty, or `billing_`.
    pub operation_prefix: String,
    /// Where its endpoints are mounted: `/api/invoices`,
    /// `/api/billing/invoices`, or the path given to `App::model_at`.
    pub path: String,
    /// Whether the names are app-qualified.
    pub qualified: bool,
}

impl ModelNames {
    /// The names of `meta`, plain or app-qualified; `explicit` is the path
    /// given to `App::model_at`, kept as it is either way.
    pub fn new(meta: &ModelMeta, explicit: Option<&str>, qualified: bool) -> Self {
        let app = meta.app_label;
        let default_path = if qualified {
            format!("/api/{app}/{}", meta.plural)
        } else {
            format!("/api/{}", meta.plural)
        };
        ModelNames {
            schema: if qualified {
                format!("{}{}", upper_camel(app), meta.object_name)
            } else {
                meta.object_name.to_string()
            },
            tag: if qualified {
                format!("{app}.{}", meta.object_name)
            } else {
                meta.object_name.to_string()
            },
            operation_prefix: if qualified {
                format!("{app}_")
            } else {
                String::new()
            },
            path: explicit.map_or(default_path, str::to_string),
            qualified,
        }
    }

    /// The operationId of `action` (`list`, `create`, `retrieve`, `update`,
    /// `partial_update`, `delete`, and the change feed's `changes` and
    /// `events`): `list_invoices`, `billing_create_invoice`,
    /// `list_invoice_changes`, `stream_invoice_events`.
    pub fn operation_id(&self, meta: &ModelMeta, action: &str) -> String {
        let prefix = &self.operation_prefix;
        let model = meta.model_name;
        match action {
            "list" => format!("{prefix}list_{}", meta.plural),
            "changes" => format!("{prefix}list_{model}_changes"),
            "events" => format!("{prefix}stream_{model}_events"),
            _ => format!("{prefix}{action}_{model}"),
        }
    }

    /// Every name these take that another model could also take, each
    /// with its kind so that only like names are compared.
    fn claims(&self, meta: &ModelMeta, explicit: bool) -> Vec<String> {
        let mut claims: Vec<String> = [
            "Create",
            "Update",
            "Read",
            "Page",
            "CursorPage",
            "List",
            "ChangeEvent",
            "ChangePage",
        ]
        .iter()
        .map(|suffix| format!("schema {}{suffix}", self.schema))
        .collect();
        claims.push(format!("tag {}", self.tag));
        for action in OPERATIONS {
            claims.push(format!("operationId {}", self.operation_id(meta, action)));
        }
        // A `model_at` path is the user's choice: clashing there is an error.
        if !explicit {
            claims.push(format!("path {}", normalize(&self.path)));
        }
        claims
    }
}

/// The actions of a model's generated operations.
pub const OPERATIONS: [&str; 8] = [
    "list",
    "create",
    "retrieve",
    "update",
    "partial_update",
    "delete",
    "changes",
    "events",
];

/// `billing` -> `Billing`, `my_app` -> `MyApp`.
pub fn upper_camel(label: &str) -> String {
    label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect()
}

/// The names of each of `models` (metadata and `model_at` path): plain
/// unless a name would be shared, then qualified. Computed in rounds over
/// the whole set, so registration order does not matter.
pub fn resolve(models: &[(&'static ModelMeta, Option<&str>)]) -> Vec<ModelNames> {
    let mut qualified = vec![false; models.len()];
    loop {
        let names = names_of(models, &qualified);
        let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, ((meta, explicit), names)) in models.iter().zip(&names).enumerate() {
            for claim in names.claims(meta, explicit.is_some()) {
                owners.entry(claim).or_default().push(i);
            }
        }
        let mut changed = false;
        for sharing in owners.values().filter(|o| o.len() > 1) {
            for &i in sharing {
                changed |= !qualified[i];
                qualified[i] = true;
            }
        }
        if !changed {
            return names;
        }
    }
}

fn names_of(models: &[(&'static ModelMeta, Option<&str>)], qualified: &[bool]) -> Vec<ModelNames> {
    models
        .iter()
        .zip(qualified)
        .map(|((meta, explicit), q)| ModelNames::new(meta, *explicit, *q))
        .collect()
}

/// Names that are still shared after qualifying (the same model
/// registered twice, or two models of one app with the same name), each
/// as a sentence saying what to change.
pub fn shared_names(models: &[(&'static ModelMeta, Option<&str>)]) -> Vec<String> {
    let names = resolve(models);
    let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, ((meta, explicit), names)) in models.iter().zip(&names).enumerate() {
        let mut claims = names.claims(meta, explicit.is_some());
        claims.push(format!("model {}.{}", meta.app_label, meta.model_name));
        for claim in claims {
            owners.entry(claim).or_default().push(i);
        }
    }
    let mut problems = Vec::new();
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for sharing in owners.values().filter(|o| o.len() > 1) {
        if reported.contains(sharing) {
            continue;
        }
        reported.push(sharing.clone());
        let labels: Vec<String> = sharing
            .iter()
            .map(|&i| format!("{}.{}", models[i].0.app_label, models[i].0.object_name))
            .collect();
        problems.push(format!(
            "models {} would have the same names in the API even app-qualified: \
             register each model once, and give models of one app different names",
            labels.join(" and ")
        ));
    }
    problems
}

/// A path as axum's router compares them: `/a/{x}` and `/a/{y}` are the
/// same route (it refuses to hold both).
pub fn normalize(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with("{*") && segment.ends_with('}') {
                "{*}"
            } else if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One path of the router and the methods it answers there, with what
/// put it there (for messages).
#[derive(Clone, Debug)]
pub struct RouteEntry {
    /// The path in axum's syntax (`/api/posts/{pk}`).
    pub path: String,
    /// Lower-case methods (`get`, `post`...).
    pub methods: Vec<&'static str>,
    /// What registered it: `billing.Invoice`, `a hand-written route`...
    pub origin: String,
}

/// Every clash among `routes` that axum would panic on: the same path and
/// method registered twice, or two paths that differ only in their
/// parameters' names. Each is a sentence naming both owners.
pub fn route_clashes(routes: &[RouteEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    for route in routes {
        if !route.path.starts_with('/') {
            problems.push(format!(
                "the route `{}` ({}) does not start with `/`: write `/{}`",
                route.path, route.origin, route.path
            ));
        }
    }
    for (i, a) in routes.iter().enumerate() {
        for b in &routes[i + 1..] {
            if normalize(&a.path) != normalize(&b.path) {
                continue;
            }
            if a.path != b.path {
                problems.push(format!(
                    "the routes `{}` ({}) and `{}` ({}) differ only in their parameters' \
                     names, which one router cannot hold: name the parameters alike or \
                     move one of them",
                    a.path, a.origin, b.path, b.origin
                ));
                continue;
            }
            let both: Vec<String> = a
                .methods
                .iter()
                .filter(|m| b.methods.contains(m))
                .map(|m| m.to_ascii_uppercase())
                .collect();
            if !both.is_empty() {
                let hint = if a.origin.starts_with("the model") || b.origin.starts_with("the model")
                {
                    " (`App::model_at` mounts a model elsewhere)"
                } else {
                    ""
                };
                problems.push(format!(
                    "{} `{}` is routed twice, by {} and by {}: move one of them{hint}",
                    both.join(", "),
                    a.path,
                    a.origin,
                    b.origin
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_upper_camel_case() {
        assert_eq!(upper_camel("billing"), "Billing");
        assert_eq!(upper_camel("my_app"), "MyApp");
        assert_eq!(upper_camel("auth"), "Auth");
    }

    #[test]
    fn parameters_are_compared_by_position() {
        assert_eq!(normalize("/a/{x}/b/{*rest}"), "/a/{}/b/{*}");
        let route = |path: &str, methods: Vec<&'static str>| RouteEntry {
            path: path.into(),
            methods,
            origin: "test".into(),
        };
        let clashes = route_clashes(&[
            route("/a/{x}", vec!["get"]),
            route("/a/{y}", vec!["post"]),
            route("/b", vec!["get"]),
            route("/b", vec!["post"]),
            route("/c", vec!["get", "post"]),
            route("/c", vec!["post"]),
        ]);
        assert_eq!(clashes.len(), 2, "{clashes:?}");
        assert!(clashes[0].contains("`/a/{x}`"));
        assert!(clashes[1].starts_with("POST `/c` is routed twice"));
    }
}
