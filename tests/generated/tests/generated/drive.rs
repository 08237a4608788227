//! Drives every generated model through the API, OpenAPI and the admin,
//! collecting failures instead of stopping at the first.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge_genmodels::{Field, Generated, Kind, Model, Target};
use ferrobridge_tests::{AdminClient, Backend, PASSWORD};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::values;

/// A row the test created: its key and what it holds, by JSON name.
pub struct Row {
    pk: Value,
    known: Map<String, Value>,
}

/// An answer: status, `Location`, and the body (JSON, or the raw text as a string).
pub struct Reply {
    status: StatusCode,
    location: String,
    json: Value,
}

/// The state of one run on one database.
pub struct Run {
    g: Generated,
    router: axum::Router,
    user_id: i32,
    backend: Backend,
    rows: Vec<Vec<Row>>,
    serial: u64,
    failures: Vec<String>,
}

impl Run {
    /// A run of the models `g` served by `router` (as superuser `user_id`).
    pub fn new(g: Generated, router: axum::Router, user_id: i32, backend: Backend) -> Run {
        let rows = g.models.iter().map(|_| Vec::new()).collect();
        Run {
            g,
            router,
            user_id,
            backend,
            rows,
            serial: 0,
            failures: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.serial += 1;
        100 + self.serial
    }

    fn fail(&mut self, model: usize, what: String) {
        let m = &self.g.models[model];
        self.failures
            .push(format!("[{:?}] {}.{}: {what}", self.backend, m.app, m.name));
    }

    /// Sends a request; any 5xx is a failure.
    async fn send(
        &mut self,
        model: usize,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Reply {
        let request = Request::builder().method(method.clone()).uri(uri);
        let request = match &body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        if status.is_server_error() {
            self.fail(
                model,
                format!("{method} {uri} {body:?} answered {status}: {json}"),
            );
        }
        Reply {
            status,
            location,
            json,
        }
    }

    /// `reply` has status `want`, else a failure naming `what`.
    fn expect(&mut self, model: usize, reply: &Reply, want: StatusCode, what: &str) -> bool {
        if reply.status == want {
            return true;
        }
        if !reply.status.is_server_error() {
            let text = reply.json.to_string();
            let text: String = text.chars().take(600).collect();
            self.fail(
                model,
                format!("{what}: want {want}, got {}: {text}", reply.status),
            );
        }
        false
    }

    fn base(&self, model: usize) -> String {
        self.g.api_path(model)
    }

    fn pk_of(model: &Model, json: &Value) -> Value {
        let key = match &model.read {
            Some(read) if read.iter().any(|k| k == "pk") => "pk",
            _ => model.primary_key().name.as_str(),
        };
        json.get(key).cloned().unwrap_or(Value::Null)
    }

    fn pk_path(&self, model: usize, row: usize) -> String {
        let pk = values::query_text(&self.rows[model][row].pk).unwrap_or_default();
        format!("{}/{}", self.base(model), encode(&pk))
    }

    /// A create (or PUT) body: every writable field, or with `full` false
    /// only those without a default or null to fall back on.
    fn body(&mut self, index: usize, variant: usize, full: bool) -> Option<Map<String, Value>> {
        let model = self.g.models[index].clone();
        let mut body = Map::new();
        for field in model.fields.iter().filter(|f| !f.is_server_set()) {
            let optional = field.nullable || field.default.is_some();
            if !full && optional && !field.primary_key {
                continue;
            }
            let value = match &field.foreign_key {
                Some(fk) => self.foreign_value(index, fk.target)?,
                None => {
                    let n = self.next();
                    values::value(&self.g, field, n, variant)
                }
            };
            if value.is_null() && !field.nullable {
                return None;
            }
            body.insert(field.name.clone(), value);
        }
        Some(body)
    }

    /// The key of the first row of `target` (null for a first self-reference).
    fn foreign_value(&self, index: usize, target: Target) -> Option<Value> {
        match target {
            Target::AuthUser => Some(json!(self.user_id)),
            Target::Model(j) => match self.rows[j].first() {
                Some(row) => Some(row.pk.clone()),
                None if j == index => Some(Value::Null),
                None => None,
            },
        }
    }

    /// Two rows of every model, in index order (foreign keys point back):
    /// one with every field given, one with only the required ones.
    pub async fn create_all(&mut self) {
        for index in 0..self.g.models.len() {
            for (variant, full) in [(0, true), (1, false)] {
                let Some(body) = self.body(index, variant, full) else {
                    self.fail(index, "no row to reference: skipped".into());
                    break;
                };
                self.create(index, body, full).await;
            }
        }
    }

    async fn create(&mut self, index: usize, body: Map<String, Value>, full: bool) {
        let uri = self.base(index);
        let reply = self
            .send(index, Method::POST, &uri, Some(Value::Object(body.clone())))
            .await;
        if !self.expect(
            index,
            &reply,
            StatusCode::CREATED,
            &format!("create (full: {full})"),
        ) {
            return;
        }
        let model = self.g.models[index].clone();
        let pk = Self::pk_of(&model, &reply.json);
        let pk_text = values::query_text(&pk).unwrap_or_default();
        if !reply.location.ends_with(&format!("/{}", encode(&pk_text))) {
            let location = reply.location.clone();
            self.fail(
                index,
                format!("Location `{location}` does not name the new row {pk}"),
            );
        }
        let mut known = Map::new();
        for field in &model.fields {
            let sent = body.get(&field.name).cloned().or_else(|| {
                let server = field.owner.then(|| json!(self.user_id));
                server.or_else(|| {
                    (!field.is_server_set())
                        .then(|| values::default_of(&self.g, field))
                        .flatten()
                })
            });
            let got = reply.json.get(key_of(&model, field)).cloned();
            if let (Some(sent), Some(got)) = (&sent, &got)
                && !values::same(field, sent, got)
            {
                self.fail(
                    index,
                    format!("create: `{}` sent {sent}, read back {got}", field.name),
                );
            }
            if let Some(value) = got.or(sent).filter(|_| !field.is_secret()) {
                known.insert(field.name.clone(), value);
            }
        }
        self.rows[index].push(Row { pk, known });
    }

    /// Every row read back by its key holds what is known of it.
    pub async fn retrieve_all(&mut self) {
        for index in 0..self.g.models.len() {
            for row in 0..self.rows[index].len() {
                let uri = self.pk_path(index, row);
                let reply = self.send(index, Method::GET, &uri, None).await;
                if self.expect(index, &reply, StatusCode::OK, &format!("GET {uri}")) {
                    self.compare(index, row, &reply.json, "retrieve");
                }
            }
        }
    }

    fn compare(&mut self, index: usize, row: usize, json: &Value, what: &str) {
        let model = self.g.models[index].clone();
        let mut wrong = Vec::new();
        for (name, want) in &self.rows[index][row].known {
            let Some(field) = model.field(name) else {
                continue;
            };
            if let Some(got) = json.get(key_of(&model, field))
                && !values::same(field, want, got)
                && !field.auto_now
            {
                wrong.push(format!("`{name}` is {got}, want {want}"));
            }
        }
        if !wrong.is_empty() {
            self.fail(index, format!("{what}: {}", wrong.join("; ")));
        }
    }

    /// The keys a list answered, in order; `None` when it failed.
    async fn list(&mut self, index: usize, query: &str, what: &str) -> Option<(Vec<Value>, Value)> {
        let uri = format!("{}?{query}", self.base(index));
        let reply = self.send(index, Method::GET, &uri, None).await;
        if !self.expect(index, &reply, StatusCode::OK, &format!("{what}: GET {uri}")) {
            return None;
        }
        let model = &self.g.models[index];
        let items = reply.json["items"].as_array().cloned().unwrap_or_default();
        let keys = items.iter().map(|item| Self::pk_of(model, item)).collect();
        Some((keys, reply.json))
    }

    /// The plain list, every filter lookup, search, ordering and cursor pages.
    pub async fn lists(&mut self) {
        for index in 0..self.g.models.len() {
            if self.rows[index].is_empty() {
                continue;
            }
            let all: Vec<Value> = self.rows[index].iter().map(|r| r.pk.clone()).collect();
            if let Some((keys, _)) = self.list(index, "", "list").await
                && !same_set(&keys, &all)
            {
                self.fail(index, format!("list answered {keys:?}, created {all:?}"));
            }
            let model = self.g.models[index].clone();
            for name in &model.filter {
                let field = model.field(name).expect("declared field").clone();
                self.filter(index, &field).await;
            }
            self.search(index).await;
            self.ordering(index, &all).await;
            self.cursor(index, &all).await;
        }
    }

    async fn filter(&mut self, index: usize, field: &Field) {
        let row = &self.rows[index][0];
        let pk = row.pk.clone();
        let value = row.known.get(&field.name).cloned();
        let name = &field.name;
        let mut queries: Vec<(String, bool)> = Vec::new();
        match value.as_ref() {
            Some(Value::Null) => {
                queries.push((format!("{name}__isnull=true"), true));
                queries.push((format!("{name}__isnull=false"), false));
            }
            Some(value) => {
                queries.push((format!("{name}__isnull=false"), true));
                queries.push((format!("{name}__isnull=true"), false));
                if let Some(text) = values::query_text(value) {
                    queries.extend(lookups(field, &text));
                }
            }
            None => {}
        }
        for (query, includes) in queries {
            let Some((keys, _)) = self.list(index, &query, "filter").await else {
                continue;
            };
            if keys.contains(&pk) != includes {
                let verb = if includes { "misses" } else { "includes" };
                self.fail(
                    index,
                    format!("?{query} {verb} row {pk} (value {value:?}): {keys:?}"),
                );
            }
        }
        if let Some(bad) = values::bad_query_value(field.kind) {
            let uri = format!("{}?{name}={bad}", self.base(index));
            let reply = self.send(index, Method::GET, &uri, None).await;
            if !reply.status.is_client_error() {
                let status = reply.status;
                self.fail(index, format!("GET {uri}: want 4xx, got {status}"));
            }
        }
    }

    async fn search(&mut self, index: usize) {
        let model = self.g.models[index].clone();
        let row = &self.rows[index][0];
        let pk = row.pk.clone();
        let word = model.search.iter().find_map(|name| {
            let text = row
                .known
                .get(name)?
                .as_str()?
                .split_whitespace()
                .next()?
                .to_string();
            Some(text)
        });
        if let Some(word) = word {
            let query = format!("search={}", encode(&word.to_uppercase()));
            if let Some((keys, _)) = self.list(index, &query, "search").await
                && !keys.contains(&pk)
            {
                self.fail(index, format!("?{query} misses row {pk}: {keys:?}"));
            }
        }
        if !model.search.is_empty()
            && let Some((keys, _)) = self
                .list(index, "search=nothing%20matches%20zzzz", "search")
                .await
            && !keys.is_empty()
        {
            self.fail(
                index,
                format!("a search matching nothing answered {keys:?}"),
            );
        }
    }

    async fn ordering(&mut self, index: usize, all: &[Value]) {
        let model = self.g.models[index].clone();
        let mut orders: Vec<String> = model
            .orderable
            .iter()
            .flat_map(|o| [o.clone(), format!("-{o}")])
            .collect();
        if model.orderable.len() >= 2 {
            orders.push(format!("-{},{}", model.orderable[1], model.orderable[0]));
        }
        for order in orders {
            let query = format!("ordering={order}");
            if let Some((keys, _)) = self.list(index, &query, "ordering").await
                && !same_set(&keys, all)
            {
                self.fail(
                    index,
                    format!("?{query} answered {keys:?}, created {all:?}"),
                );
            }
        }
    }

    /// Walks keyset pages of one row; every row comes once.
    async fn cursor(&mut self, index: usize, all: &[Value]) {
        let model = self.g.models[index].clone();
        let order = model
            .orderable
            .first()
            .map(|o| format!("&ordering=-{o}"))
            .unwrap_or_default();
        // Keyset pages need the sort values in the rows they hand out.
        let terms: Vec<String> = match model.orderable.first() {
            Some(o) => vec![o.clone()],
            None => model
                .ordering
                .iter()
                .map(|o| o.trim_start_matches('-').to_string())
                .collect(),
        };
        let read = model.read_keys();
        let unreadable = |t: &String| {
            t.contains("__")
                || (model.read.is_some() && !read.contains(t) && *t != model.primary_key().name)
        };
        let refused = model.unpaged || terms.iter().any(unreadable);
        let mut query = format!("cursor=&page_size=1{order}");
        let mut seen: Vec<Value> = Vec::new();
        for _ in 0..=all.len() + 1 {
            let uri = format!("{}?{query}", self.base(index));
            let reply = self.send(index, Method::GET, &uri, None).await;
            if refused {
                if !reply.status.is_client_error() {
                    let status = reply.status;
                    self.fail(
                        index,
                        format!("GET {uri}: cursor pages are refused here, got {status}"),
                    );
                }
                return;
            }
            if !self.expect(
                index,
                &reply,
                StatusCode::OK,
                &format!("cursor page GET {uri}"),
            ) {
                return;
            }
            for item in reply.json["items"].as_array().cloned().unwrap_or_default() {
                seen.push(Self::pk_of(&model, &item));
            }
            match reply.json["next"].as_str() {
                Some(next) => query = format!("cursor={}&page_size=1{order}", encode(next)),
                None => break,
            }
        }
        if seen.len() != all.len() || !same_set(&seen, all) {
            self.fail(
                index,
                format!("cursor pages{order} gave {seen:?}, created {all:?}"),
            );
        }
    }

    /// PATCH of some fields of the first row, PUT of the second.
    pub async fn updates(&mut self) {
        for index in 0..self.g.models.len() {
            let model = self.g.models[index].clone();
            if self.rows[index].is_empty() {
                continue;
            }
            let mut patch = Map::new();
            for field in model
                .fields
                .iter()
                .filter(|f| !f.is_server_set() && !f.primary_key && f.foreign_key.is_none())
            {
                if patch.len() < 3 {
                    let n = self.next();
                    patch.insert(field.name.clone(), values::value(&self.g, field, n, 2));
                }
            }
            let uri = self.pk_path(index, 0);
            let reply = self
                .send(
                    index,
                    Method::PATCH,
                    &uri,
                    Some(Value::Object(patch.clone())),
                )
                .await;
            if self.expect(index, &reply, StatusCode::OK, &format!("PATCH {uri}")) {
                for (name, value) in patch {
                    if !model.field(&name).is_some_and(Field::is_secret) {
                        self.rows[index][0].known.insert(name, value);
                    }
                }
                self.compare(index, 0, &reply.json, "PATCH answer");
            }
            self.put(index).await;
        }
    }

    async fn put(&mut self, index: usize) {
        if self.rows[index].len() < 2 {
            return;
        }
        // Variant 1, as the row was created: choices and booleans then
        // differ from the first row's, which `unique_together` may need.
        let Some(mut body) = self.body(index, 1, true) else {
            return;
        };
        let model = self.g.models[index].clone();
        let pk = model.primary_key();
        if !pk.is_server_set() {
            body.insert(pk.name.clone(), self.rows[index][1].pk.clone());
        }
        let uri = self.pk_path(index, 1);
        if !model.unique_together.is_empty() {
            // The second row keeps its `unique_together` values: a full
            // body may otherwise repeat the first row's (its foreign keys
            // are given where the second row had none), which is a 409.
            let current = self.send(index, Method::GET, &uri, None).await;
            for name in &model.unique_together {
                if let (Some(slot), Some(value)) = (body.get_mut(name), current.json.get(name)) {
                    *slot = value.clone();
                }
            }
        }
        let reply = self
            .send(index, Method::PUT, &uri, Some(Value::Object(body.clone())))
            .await;
        if self.expect(index, &reply, StatusCode::OK, &format!("PUT {uri}")) {
            for (name, value) in body {
                if !model.field(&name).is_some_and(Field::is_secret) {
                    self.rows[index][1].known.insert(name, value);
                }
            }
            self.compare(index, 1, &reply.json, "PUT answer");
        }
    }

    /// Bodies and keys that are wrong answer 4xx.
    pub async fn bad_input(&mut self) {
        for index in 0..self.g.models.len() {
            let model = self.g.models[index].clone();
            let base = self.base(index);
            let required = model
                .fields
                .iter()
                .any(|f| !f.is_server_set() && !f.nullable && f.default.is_none());
            if required {
                let reply = self.send(index, Method::POST, &base, Some(json!({}))).await;
                self.expect(
                    index,
                    &reply,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "create with {}",
                );
            }
            if let Some(mut body) = self.body(index, 0, true) {
                let typed = model.fields.iter().find(|f| {
                    !f.is_server_set()
                        && f.foreign_key.is_none()
                        && values::bad_query_value(f.kind).is_some()
                });
                if let Some(field) = typed {
                    body.insert(field.name.clone(), json!("zz-not-a-value"));
                    let reply = self
                        .send(index, Method::POST, &base, Some(Value::Object(body)))
                        .await;
                    self.expect(
                        index,
                        &reply,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &format!("create with `{}` of the wrong type", field.name),
                    );
                }
            }
            let missing = match model.primary_key().kind {
                Kind::Uuid => "00000000-0000-4000-8000-ffffffffffff".to_string(),
                Kind::Str => "no-such-key".to_string(),
                _ => "32000".to_string(),
            };
            let reply = self
                .send(index, Method::GET, &format!("{base}/{missing}"), None)
                .await;
            self.expect(index, &reply, StatusCode::NOT_FOUND, "GET of a missing key");
            let reply = self
                .send(index, Method::GET, &format!("{base}?zz_unknown=1"), None)
                .await;
            self.expect(
                index,
                &reply,
                StatusCode::BAD_REQUEST,
                "an undeclared filter",
            );
        }
    }

    /// `/openapi.json` parses, every `$ref` resolves, operationIds are
    /// unique and every model has its paths; written to
    /// `$GENERATED_OPENAPI_OUT` (for openapi-spec-validator) when asked.
    pub async fn openapi(&mut self, write: bool) {
        let reply = self.send(0, Method::GET, "/openapi.json", None).await;
        if !self.expect(0, &reply, StatusCode::OK, "GET /openapi.json") {
            return;
        }
        let doc = reply.json;
        if write && let Some(out) = std::env::var_os("GENERATED_OPENAPI_OUT") {
            std::fs::write(&out, serde_json::to_vec_pretty(&doc).expect("json"))
                .expect("write GENERATED_OPENAPI_OUT");
        }
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        for r in refs {
            let resolves = r
                .strip_prefix('#')
                .is_some_and(|p| doc.pointer(p).is_some());
            if !resolves {
                self.fail(0, format!("OpenAPI: $ref `{r}` does not resolve"));
            }
        }
        let mut ids: Vec<String> = Vec::new();
        for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
            for (method, op) in item.as_object().cloned().unwrap_or_default() {
                match op["operationId"].as_str() {
                    Some(id) if ids.iter().any(|i| i == id) => self.fail(
                        0,
                        format!("OpenAPI: operationId `{id}` repeated ({method} {path})"),
                    ),
                    Some(id) => ids.push(id.to_string()),
                    None => {}
                }
            }
        }
        for index in 0..self.g.models.len() {
            let path = self.base(index);
            if doc["paths"].get(&path).is_none() {
                self.fail(index, format!("OpenAPI: no path `{path}`"));
            }
        }
    }

    /// As a logged-in superuser, every model's change list (and its search),
    /// add form and change form load; hidden models are not there.
    pub async fn admin(&mut self, router: axum::Router) {
        let mut client = AdminClient::new(router);
        client.login("root", PASSWORD).await;
        for index in 0..self.g.models.len() {
            let model = self.g.models[index].clone();
            let base = format!("/admin/{}/{}/", model.app, model.model_name);
            if model.admin.hidden {
                let page = client.get(&base).await;
                if page.status != StatusCode::NOT_FOUND {
                    self.fail(
                        index,
                        format!("hidden, but GET {base} answered {}", page.status),
                    );
                }
                continue;
            }
            let mut pages = vec![base.clone(), format!("{base}add/")];
            if !model.admin.search.is_empty() {
                pages.push(format!("{base}?q=zq"));
            }
            if let Some(row) = self.rows[index].first() {
                let pk = values::query_text(&row.pk).unwrap_or_default();
                pages.push(format!("{base}{}/change/", encode(&pk)));
            }
            for uri in pages {
                let page = client.get(&uri).await;
                if page.status != StatusCode::OK {
                    let body: String = page.body.chars().take(400).collect();
                    self.fail(
                        index,
                        format!("admin GET {uri} answered {}: {body}", page.status),
                    );
                }
            }
        }
    }

    /// Deletes every row, children first; each is gone after.
    pub async fn delete_all(&mut self) {
        for index in (0..self.g.models.len()).rev() {
            for row in (0..self.rows[index].len()).rev() {
                let uri = self.pk_path(index, row);
                let reply = self.send(index, Method::DELETE, &uri, None).await;
                if self.expect(
                    index,
                    &reply,
                    StatusCode::NO_CONTENT,
                    &format!("DELETE {uri}"),
                ) {
                    let reply = self.send(index, Method::GET, &uri, None).await;
                    self.expect(
                        index,
                        &reply,
                        StatusCode::NOT_FOUND,
                        &format!("GET {uri} after DELETE"),
                    );
                }
            }
        }
    }

    /// Panics with every failure, and the generated source to read them against.
    pub fn finish(self) {
        if self.failures.is_empty() {
            return;
        }
        let c = self.g.config;
        panic!(
            "{} failures with seed {}, {} models, families off [{}] (source: target/debug/build/ferrobridge-generated-*/out/models.rs):\n{}",
            self.failures.len(),
            c.seed,
            c.models,
            c.features.off_names(),
            self.failures.join("\n")
        );
    }
}

/// The lookups of `field` with the value `text` of the first row, and
/// whether each must find that row.
fn lookups(field: &Field, text: &str) -> Vec<(String, bool)> {
    let name = &field.name;
    let v = encode(text);
    let mut out = vec![
        (format!("{name}={v}"), true),
        (format!("{name}__ne={v}"), false),
    ];
    if field.kind != Kind::Bool && !text.contains(',') {
        out.push((format!("{name}__in={v}"), true));
    }
    let ordered = matches!(
        field.kind,
        Kind::I16
            | Kind::I32
            | Kind::I64
            | Kind::F32
            | Kind::F64
            | Kind::Decimal { .. }
            | Kind::Date
            | Kind::DateTime
            | Kind::Str
    );
    if ordered {
        out.extend([
            (format!("{name}__gte={v}"), true),
            (format!("{name}__lte={v}"), true),
            (format!("{name}__gt={v}"), false),
            (format!("{name}__lt={v}"), false),
        ]);
    }
    if field.kind == Kind::Str {
        let chars: Vec<char> = text.chars().collect();
        let start: String = chars.iter().take(3).collect();
        let middle: String = chars.iter().skip(1).take(3).collect();
        out.extend([
            (format!("{name}__contains={}", encode(&middle)), true),
            (
                format!("{name}__icontains={}", encode(&middle.to_uppercase())),
                true,
            ),
            (format!("{name}__startswith={}", encode(&start)), true),
            (
                format!("{name}__istartswith={}", encode(&start.to_uppercase())),
                true,
            ),
        ]);
    }
    out
}

/// The JSON key of `field` in a Read object (`pk` when `read(pk, ..)` renames it).
fn key_of<'a>(model: &Model, field: &'a Field) -> &'a str {
    let renamed = model
        .read
        .as_ref()
        .is_some_and(|r| r.iter().any(|k| k == "pk"));
    if field.primary_key && renamed {
        "pk"
    } else {
        &field.name
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn same_set(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
