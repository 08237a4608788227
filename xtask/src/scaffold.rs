//! `cargo xtask scaffold app|model`: adds an app or a model to a project
//! made by `cargo xtask new`, registered and tested, ready to build.
//!
//! Registration points are plain Rust that scaffold edits at the tokens it
//! finds with syn, keeping the rest of the file as written:
//! - `src/lib.rs` declares each app module and lists its `register`
//!   function in `pub const APPS: &[fn(App) -> App]`;
//! - each `src/<app>/mod.rs` has `pub fn register(app: App) -> App`, whose
//!   final expression registers the app's migrations
//!   (`app.migrations(migrations::all())`) and gets a
//!   `.model::<models::Model>()` per model;
//! - each app's migrations live in `src/<app>/migrations/`, whose `mod.rs`
//!   (rewritten by `makemigrations`) names that directory, so
//!   `cargo run -- makemigrations <app>` writes there;
//! - each app's models live in `src/<app>/models.rs`, one file per app as
//!   Django's `models.py`, so a model's entity module (`note`) never
//!   collides with a file module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use ferrobridge_codegen::ast::{FieldDef, ModelDef, ScalarKind};
use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use crate::fields::{FieldSpec, is_snake_ident};
use crate::makemigrations::makemigrations;
use crate::project::{
    ensure_use, insert, item_start, offset, parse_file, rustfmt, workspace_root, workspace_targets,
    write_new,
};
use crate::sources::{FoundModel, models_in};
use crate::templates;

/// Names an app module may not take: they would shadow crates or the
/// project's own folders.
const RESERVED_APPS: &[&str] = &[
    "core",
    "std",
    "alloc",
    "ferrobridge",
    "tests",
    "migrations",
    "models",
    "main",
    "lib",
    "xtask",
];

/// A project made by `cargo xtask new`.
#[derive(Clone, Debug)]
pub struct Project {
    /// The directory of its Cargo.toml.
    pub root: PathBuf,
    /// The crate name of its library (`my_blog`).
    pub crate_name: String,
}

impl Project {
    /// The project around `dir`; an error explaining the expected layout
    /// when the workspace was not made by `cargo xtask new`.
    pub fn find(dir: &Path) -> anyhow::Result<Project> {
        let root = workspace_root(dir)?;
        let lib = root.join("src/lib.rs");
        let layout = "scaffold works in a project made by `cargo xtask new`: `src/lib.rs` with `pub const APPS: &[fn(App) -> App]` listing each app's `register`";
        if !lib.exists() {
            bail!("{} has no src/lib.rs. {layout}", root.display());
        }
        let (_, file) = parse_file(&lib)?;
        if apps_array(&file).is_none() {
            bail!("{} declares no `APPS`. {layout}", lib.display());
        }
        let crate_name = workspace_targets(&root)?
            .into_iter()
            .find(|t| {
                t.kind == "lib" && t.root.ends_with("src/lib.rs") && t.root.starts_with(&root)
            })
            .map(|t| t.name.replace('-', "_"))
            .ok_or_else(|| anyhow!("cargo knows no library at {}", lib.display()))?;
        Ok(Project { root, crate_name })
    }

    fn lib_rs(&self) -> PathBuf {
        self.root.join("src/lib.rs")
    }

    /// The apps listed in `APPS`, in order.
    pub fn apps(&self) -> anyhow::Result<Vec<String>> {
        let (_, file) = parse_file(&self.lib_rs())?;
        let array = apps_array(&file).ok_or_else(|| anyhow!("src/lib.rs declares no `APPS`"))?;
        Ok(array
            .elems
            .iter()
            .filter_map(|e| match e {
                syn::Expr::Path(p) if p.path.segments.len() == 2 => {
                    Some(p.path.segments[0].ident.to_string())
                }
                _ => None,
            })
            .collect())
    }

    /// Every model of the project's library.
    pub fn models(&self) -> anyhow::Result<Vec<FoundModel>> {
        models_in(&crate::project::Target {
            package: self.crate_name.clone(),
            kind: "lib".into(),
            name: self.crate_name.clone(),
            root: self.lib_rs(),
        })
    }
}

/// The array of `const APPS: &[fn(App) -> App] = &[...]`.
fn apps_array(file: &syn::File) -> Option<&syn::ExprArray> {
    file.items.iter().find_map(|item| {
        let expr = match item {
            syn::Item::Const(c) if c.ident == "APPS" => &c.expr,
            syn::Item::Static(s) if s.ident == "APPS" => &s.expr,
            _ => return None,
        };
        match &**expr {
            syn::Expr::Reference(r) => match &*r.expr {
                syn::Expr::Array(array) => Some(array),
                _ => None,
            },
            syn::Expr::Array(array) => Some(array),
            _ => None,
        }
    })
}

/// Adds app `name`: `src/<name>/mod.rs` whose `register` registers the
/// app's migrations, `src/<name>/models.rs`, `src/<name>/migrations/mod.rs`
/// listing no migrations yet, and its entry in `src/lib.rs`.
pub fn scaffold_app(project: &Project, name: &str) -> anyhow::Result<()> {
    if !is_snake_ident(name) || syn::parse_str::<syn::Ident>(name).is_err() {
        bail!(
            "`{name}` is not an app name: use a snake_case Rust identifier, e.g. blog or billing"
        );
    }
    if RESERVED_APPS.contains(&name) || name == project.crate_name {
        bail!("`{name}` would shadow a crate or a project folder: choose another app name");
    }
    if project.apps()?.iter().any(|a| a == name) {
        bail!("app `{name}` exists already (src/lib.rs lists it in APPS)");
    }
    let dir = project.root.join("src").join(name);
    if dir.exists() || project.root.join(format!("src/{name}.rs")).exists() {
        bail!("{} exists already: choose another app name", dir.display());
    }
    let vars = [("app", name)];
    write_new(
        &dir.join("mod.rs"),
        &templates::render(templates::APP_MOD, &vars),
    )?;
    write_new(
        &dir.join("models.rs"),
        &templates::render(templates::APP_MODELS, &vars),
    )?;
    write_new(
        &dir.join("migrations/mod.rs"),
        &templates::render(templates::APP_MIGRATIONS_MOD, &vars),
    )?;

    let lib = project.lib_rs();
    let (source, file) = parse_file(&lib)?;
    let array = apps_array(&file).expect("checked by Project::find");
    let close = offset(&source, array.bracket_token.span.close().start());
    let entry = format!("{name}::register");
    let entry = if array.elems.is_empty() {
        entry
    } else if array.elems.trailing_punct() {
        format!(" {entry},")
    } else {
        format!(", {entry}")
    };
    let declaration = format!("pub mod {name};");
    let declaration = match (
        file.items.iter().rfind(|i| matches!(i, syn::Item::Mod(_))),
        file.items.first(),
    ) {
        (Some(m), _) => (
            offset(&source, syn::spanned::Spanned::span(m).end()),
            format!("\n{declaration}"),
        ),
        (None, Some(first)) => (
            offset(&source, item_start(first)),
            format!("{declaration}\n\n"),
        ),
        (None, None) => bail!("src/lib.rs has no items: it should declare APPS"),
    };
    // Later offsets first, so each edit leaves the other's offset valid.
    let mut edits = [(close, entry), declaration];
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    let mut edited = source.clone();
    for (at, text) in &edits {
        edited = insert(&edited, *at, text);
    }
    std::fs::write(&lib, edited)?;
    rustfmt(&[
        lib,
        dir.join("mod.rs"),
        dir.join("models.rs"),
        dir.join("migrations/mod.rs"),
    ])?;
    eprintln!(
        "created app `{name}` in src/{name}/ (its migrations in src/{name}/migrations/, registered by its `register`) and listed it in src/lib.rs APPS"
    );
    Ok(())
}

/// What [`scaffold_model`] wrote.
#[derive(Debug)]
pub struct ScaffoldedModel {
    /// The model file it appended to.
    pub models_file: PathBuf,
    /// The CRUD test it wrote.
    pub test_file: PathBuf,
}

/// Adds model `name` with `fields` (`title:String:max_length=200`...) to
/// `app`: the struct in `src/<app>/models.rs`, its registration in
/// `src/<app>/mod.rs` and a CRUD test in `tests/`; then, with
/// `run_makemigrations`, its migration by the project's own binary.
pub fn scaffold_model(
    project: &Project,
    app: &str,
    name: &str,
    fields: &[String],
    run_makemigrations: bool,
) -> anyhow::Result<ScaffoldedModel> {
    let apps = project.apps()?;
    if !apps.iter().any(|a| a == app) {
        bail!(
            "no app `{app}` in this project (apps: {}); create it with `cargo xtask scaffold app {app}`",
            apps.join(", ")
        );
    }
    check_model_name(name)?;
    if fields.is_empty() {
        bail!(
            "give the model at least one field, e.g. `cargo xtask scaffold model {app} {name} title:String:max_length=200`\n{}",
            crate::fields::help_text()
        );
    }
    let specs = fields
        .iter()
        .map(|f| FieldSpec::parse(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut seen = BTreeSet::new();
    for spec in &specs {
        if !seen.insert(spec.name.as_str()) {
            bail!("field `{}` is given twice", spec.name);
        }
    }
    let explicit_pk = specs.iter().any(|s| s.option("primary_key").is_some());
    if !explicit_pk && seen.contains("id") {
        bail!(
            "`id` is the automatic primary key; to declare your own, mark it `id:<type>:primary_key`"
        );
    }

    let models = project.models()?;
    if let Some(existing) = models.iter().find(|m| m.name() == name) {
        bail!(
            "a model `{name}` exists already: {} ({})",
            existing.path(),
            existing.file.display()
        );
    }
    let models_file = project.root.join("src").join(app).join("models.rs");
    let mod_file = project.root.join("src").join(app).join("mod.rs");
    if !models_file.exists() || !mod_file.exists() {
        bail!(
            "app `{app}` has no src/{app}/models.rs and src/{app}/mod.rs; scaffold expects that layout"
        );
    }

    // Foreign keys: the referenced model must exist and the field must have
    // the type of its primary key, or the result would not compile.
    let mut imports = vec!["ferrobridge::prelude::*".to_string()];
    for spec in &specs {
        let Some(target) = spec.references() else {
            continue;
        };
        if target == name {
            if !spec.nullable() {
                bail!(
                    "`{}` references {name} itself: make it `null`, or the first row could never be created",
                    spec.name
                );
            }
            continue;
        }
        let found = models.iter().find(|m| m.name() == target).ok_or_else(|| {
            anyhow!(
                "`{}` references `{target}`, which is not a model of this project (models: {})",
                spec.name,
                models
                    .iter()
                    .map(FoundModel::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let def = model_def(&found.item)?;
        let pk = def.primary_key();
        let pk_type = pk.ty.clone();
        let pk_type = quote!(#pk_type).to_string();
        let field_type = spec.ty.rust_type().to_string();
        if pk_type != field_type {
            bail!(
                "`{}` references {target}, whose primary key `{}` is {pk_type}: write `{}:{pk_type}:references={target}`",
                spec.name,
                pk.ident,
                spec.name
            );
        }
        if found.module != [app.to_string(), "models".to_string()] {
            imports.push(format!("crate::{}::{target}", found.module.join("::")));
        }
    }

    let ident = format_ident!("{name}");
    let field_tokens = specs
        .iter()
        .map(FieldSpec::to_tokens)
        .collect::<anyhow::Result<Vec<TokenStream>>>()?;
    let pk = (!explicit_pk).then(|| {
        quote! {
            #[field(primary_key)]
            pub id: i64,
        }
    });
    let item: syn::ItemStruct = syn::parse2(quote! {
        #[derive(Model, Clone, Debug, PartialEq)]
        #[model(app = #app)]
        pub struct #ident {
            #pk
            #(#field_tokens,)*
        }
    })
    .context("the model does not parse")?;
    let def = model_def(&item)?;

    // Everything is checked: now write.
    let test_file = project
        .root
        .join("tests")
        .join(format!("{app}_{}.rs", name.to_snake_case()));
    if test_file.exists() {
        bail!("{} exists already: not overwriting it", test_file.display());
    }
    let test = crud_test(project, &models, &item, &def)?;

    let (source, _) = parse_file(&models_file)?;
    let mut source = source;
    for path in &imports {
        source = ensure_use(&source, path)?;
    }
    let code = prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: vec![syn::Item::Struct(item)],
    });
    source = format!("{}\n\n{code}", source.trim_end());
    std::fs::write(&models_file, source)?;

    register_model(&mod_file, name)?;
    let common = project.root.join("tests/common/mod.rs");
    if !common.exists() {
        write_new(
            &common,
            &templates::render(templates::TESTS_COMMON, &project_vars(project)),
        )?;
    }
    write_new(&test_file, &test)?;
    rustfmt(&[models_file.clone(), mod_file, test_file.clone(), common])?;
    eprintln!(
        "added model `{name}` to src/{app}/models.rs, registered it in src/{app}/mod.rs, wrote {}",
        test_file
            .strip_prefix(&project.root)
            .unwrap_or(&test_file)
            .display()
    );
    if run_makemigrations {
        makemigrations(&project.root, app)?;
    }
    Ok(ScaffoldedModel {
        models_file,
        test_file,
    })
}

fn project_vars(project: &Project) -> Vec<(&'static str, &str)> {
    vec![
        ("crate", &project.crate_name),
        ("name", &project.crate_name),
    ]
}

fn check_model_name(name: &str) -> anyhow::Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric());
    if !valid {
        bail!("`{name}` is not a model name: use UpperCamelCase, e.g. BlogPost");
    }
    if matches!(name, "Self" | "App" | "Model" | "Json" | "Db") {
        bail!("`{name}` is taken by Rust or ferrobridge's prelude: choose another model name");
    }
    Ok(())
}

/// Runs the derive's own parse and check on `item`, so scaffold refuses
/// what would not compile, with the derive's messages.
pub fn model_def(item: &syn::ItemStruct) -> anyhow::Result<ModelDef> {
    let input: syn::DeriveInput = syn::parse2(quote!(#item))?;
    let cx = ferrobridge_codegen::ctxt::Ctxt::new();
    let def = ferrobridge_codegen::attr::parse(&cx, &input);
    if let Some(def) = &def {
        ferrobridge_codegen::check::check(&cx, def);
    }
    match (cx.check(), def) {
        (Ok(()), Some(def)) => Ok(def),
        (Err(errors), _) => {
            let messages: Vec<String> = errors.into_iter().map(|e| format!("  {e}")).collect();
            bail!(
                "#[derive(Model)] would reject `{}`:\n{}",
                item.ident,
                messages.join("\n")
            )
        }
        (Ok(()), None) => unreachable!("parse returns None only after recording an error"),
    }
}

/// Appends `.model::<models::Name>()` to the final expression of `register`.
fn register_model(mod_file: &Path, name: &str) -> anyhow::Result<()> {
    let (source, file) = parse_file(mod_file)?;
    let register = file.items.iter().find_map(|item| match item {
        syn::Item::Fn(f) if f.sig.ident == "register" => Some(f),
        _ => None,
    });
    let hint = format!(
        "{} needs `pub fn register(app: App) -> App` ending with an expression returning the app; add `.model::<models::{name}>()` to it yourself",
        mod_file.display()
    );
    let Some(register) = register else {
        bail!("{hint}")
    };
    let Some(syn::Stmt::Expr(tail, None)) = register.block.stmts.last() else {
        bail!("{hint}");
    };
    let end = offset(&source, syn::spanned::Spanned::span(tail).end());
    let edited = insert(&source, end, &format!(".model::<models::{name}>()"));
    std::fs::write(mod_file, edited)?;
    Ok(())
}

/// A value a test sends for a field.
enum Sample {
    /// This JSON value.
    Value(Value),
    /// The primary key of a row of this model, created first.
    Key(String),
}

/// What the CRUD test sends for `field`; `None` to leave it out.
fn sample(model: &ModelDef, field: &FieldDef) -> anyhow::Result<Option<Sample>> {
    let o = &field.options;
    if field.is_server_set() {
        return Ok(None);
    }
    if let Some((_, target)) = &o.references {
        let target = target
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if model.ident == target {
            return Ok(None);
        }
        return Ok(Some(Sample::Key(target)));
    }
    let cannot = |why: &str| {
        anyhow!(
            "the CRUD test cannot make up a value for `{}.{}` ({why}); give it a default or make it `null`",
            model.ident,
            field.ident
        )
    };
    if o.regex.is_some() {
        return if field.is_optional_on_create() {
            Ok(None)
        } else {
            Err(cannot("it must match a regex"))
        };
    }
    let number = |lit: &Option<(proc_macro2::Span, syn::Lit)>| -> Option<f64> {
        lit.as_ref().and_then(|(_, l)| match l {
            syn::Lit::Int(i) => i.base10_parse::<f64>().ok(),
            syn::Lit::Float(f) => f.base10_parse::<f64>().ok(),
            _ => None,
        })
    };
    let (min, max) = (number(&o.min_value), number(&o.max_value));
    let length = |lit: &Option<(proc_macro2::Span, syn::LitInt)>| {
        lit.as_ref()
            .and_then(|(_, l)| l.base10_parse::<usize>().ok())
    };
    let Some(kind) = field.kind else {
        return Err(cannot("its type is not supported"));
    };
    let value = match kind {
        ScalarKind::I16 | ScalarKind::I32 | ScalarKind::I64 => {
            let n = 1f64.max(min.unwrap_or(1.0)).min(max.unwrap_or(f64::MAX));
            json!(n as i64)
        }
        ScalarKind::F32 | ScalarKind::F64 => {
            let n = 1.5f64.max(min.unwrap_or(1.5)).min(max.unwrap_or(f64::MAX));
            json!(n)
        }
        ScalarKind::Bool => json!(true),
        ScalarKind::String => {
            let base = if o.email.is_some() {
                "ann@example.com"
            } else if o.url.is_some() {
                "https://example.com/"
            } else if o.password.is_some() {
                "correct-horse-battery"
            } else {
                "Example"
            };
            json!(fit(base, length(&o.min_length), length(&o.max_length)))
        }
        ScalarKind::Decimal => {
            let places = length(&o.decimal_places).unwrap_or(0);
            let digits = length(&o.max_digits).unwrap_or(places + 1);
            let whole = if digits > places { "1" } else { "0" };
            let text = if places == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{}", "5".to_string() + &"0".repeat(places - 1))
            };
            json!(text)
        }
        ScalarKind::Date => json!("2024-05-17"),
        ScalarKind::DateTimeUtc => json!("2024-05-17T12:30:00Z"),
        ScalarKind::Uuid => json!("67e55044-10b1-426f-9247-bb680e5fe0c8"),
        ScalarKind::Json => json!({ "tags": ["example"] }),
        ScalarKind::Choice => {
            return if field.is_optional_on_create() {
                Ok(None)
            } else {
                Err(cannot("it is a choices enum"))
            };
        }
    };
    Ok(Some(Sample::Value(value)))
}

/// `base` padded or cut to fit the length bounds, in characters.
fn fit(base: &str, min: Option<usize>, max: Option<usize>) -> String {
    let mut text = base.to_string();
    while text.chars().count() < min.unwrap_or(0) {
        text.push('x');
    }
    match max {
        Some(max) => text.chars().take(max).collect(),
        None => text,
    }
}

/// Fields whose value comes back exactly as sent, so the test compares them.
fn round_trips(field: &FieldDef) -> bool {
    !field.is_secret()
        && matches!(
            field.kind,
            Some(
                ScalarKind::I16
                    | ScalarKind::I32
                    | ScalarKind::I64
                    | ScalarKind::Bool
                    | ScalarKind::String
                    | ScalarKind::Uuid
                    | ScalarKind::Json
                    | ScalarKind::Date
            )
        )
}

/// The rows a test creates first for the foreign keys of `def`, deepest
/// first, each model once: `(model, its definition)`.
fn parents(
    models: &[FoundModel],
    def: &ModelDef,
    out: &mut Vec<(String, ModelDef)>,
) -> anyhow::Result<()> {
    for field in &def.fields {
        let Some(Sample::Key(target)) = sample(def, field)? else {
            continue;
        };
        if out.iter().any(|(name, _)| *name == target) {
            continue;
        }
        let found = models
            .iter()
            .find(|m| m.name() == target)
            .ok_or_else(|| anyhow!("`{}` references unknown model `{target}`", field.ident))?;
        let parent = model_def(&found.item)?;
        parents(models, &parent, out)?;
        if !out.iter().any(|(name, _)| *name == target) {
            out.push((target, parent));
        }
    }
    Ok(())
}

/// The JSON a test posts to create a row of `def`, as the text inside
/// `json!(...)`: pretty-printed at the test's indentation, foreign keys
/// naming the variable that holds the referenced row's key.
fn create_body(def: &ModelDef) -> anyhow::Result<String> {
    // A foreign key's value is a Rust variable, not JSON: serialize a marker
    // string no sample contains, then put the variable in its place.
    const MARK: char = '\u{1}';
    let mut object = serde_json::Map::new();
    for field in &def.fields {
        let value = match sample(def, field)? {
            None => continue,
            Some(Sample::Value(value)) => value,
            Some(Sample::Key(target)) => json!(format!("{MARK}{}", key_var(&target))),
        };
        object.insert(field.ident.to_string(), value);
    }
    let mut text = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
    serde::Serialize::serialize(&Value::Object(object), &mut serializer)?;
    let mut text = String::from_utf8(text)?.replace('\n', "\n    ");
    for field in &def.fields {
        if let Ok(Some(Sample::Key(target))) = sample(def, field) {
            let var = key_var(&target);
            text = text.replace(&format!("\"\\u0001{var}\""), &var);
        }
    }
    Ok(text)
}

/// The test's variable holding the key of a `target` row.
fn key_var(target: &str) -> String {
    format!("{}_pk", target.to_snake_case())
}

/// A test of every verb of the model's endpoints, through the router, from
/// `xtask/templates/test/`.
fn crud_test(
    project: &Project,
    models: &[FoundModel],
    item: &syn::ItemStruct,
    def: &ModelDef,
) -> anyhow::Result<String> {
    let mut all = models.to_vec();
    // The new model is not in the sources yet; self-references resolve to it.
    all.push(FoundModel {
        target: crate::project::Target {
            package: project.crate_name.clone(),
            kind: "lib".into(),
            name: project.crate_name.clone(),
            root: project.lib_rs(),
        },
        module: Vec::new(),
        file: PathBuf::new(),
        item: item.clone(),
        app_label: Some(def.app.clone()),
    });
    let mut before = Vec::new();
    parents(&all, def, &mut before)?;
    let mut setup = String::new();
    for (name, parent) in &before {
        setup.push_str(&templates::render(
            templates::CRUD_PARENT,
            &[
                ("model", name),
                ("snake", &name.to_snake_case()),
                ("uri", &format!("/api/{}", parent.plural)),
                ("body", &create_body(parent)?),
                ("pk", &parent.primary_key().ident.to_string()),
            ],
        ));
    }
    let compared: Vec<String> = def
        .fields
        .iter()
        .filter(|f| round_trips(f) && matches!(sample(def, f), Ok(Some(_))))
        .map(|f| serde_json::to_string(&f.ident.to_string()))
        .collect::<Result<_, _>>()?;
    let compare = if compared.is_empty() {
        String::new()
    } else {
        templates::render(templates::CRUD_COMPARE, &[("fields", &compared.join(", "))])
    };
    let patch = def.fields.iter().find_map(|f| {
        let Ok(Some(Sample::Value(value))) = sample(def, f) else {
            return None;
        };
        let key = f.ident.to_string();
        match value {
            Value::Bool(b) => Some((key, json!(!b))),
            Value::String(_)
                if f.kind == Some(ScalarKind::String)
                    && f.options.email.is_none()
                    && f.options.url.is_none()
                    && !f.is_secret() =>
            {
                let o = &f.options;
                let bound = |l: &Option<(proc_macro2::Span, syn::LitInt)>| {
                    l.as_ref().and_then(|(_, l)| l.base10_parse::<usize>().ok())
                };
                Some((
                    key,
                    json!(fit("Changed", bound(&o.min_length), bound(&o.max_length))),
                ))
            }
            _ => None,
        }
    });
    let patch = match patch {
        Some((field, value)) => templates::render(
            templates::CRUD_PATCH,
            &[("field", &field), ("value", &value.to_string())],
        ),
        None => String::new(),
    };
    Ok(templates::render(
        templates::CRUD_TEST,
        &[
            ("model", &def.ident.to_string()),
            ("uri", &format!("/api/{}", def.plural)),
            ("test", &format!("{}_crud", def.module_name)),
            ("parents", &setup),
            ("body", &create_body(def)?),
            ("compare", &compare),
            ("pk", &def.primary_key().ident.to_string()),
            ("patch", &patch),
        ],
    ))
}
