//! Reads `#[model(...)]` and `#[field(...)]` into the internal model.
//!
//! Unknown keys, duplicates and malformed values are recorded in the
//! [`Ctxt`] with a hint, and parsing carries on so every mistake shows at once.

use heck::ToSnakeCase;
use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, GenericArgument, PathArguments, Type};

use crate::ast::{
    AdminDef, ApiDef, ApiPolicy, DisplayDef, DisplayPart, FieldDef, FieldOptions, ModelDef,
    OnDelete, OrderingTerm, ScalarKind,
};
use crate::ctxt::{Ctxt, suggest};

/// Keys accepted inside `#[model(...)]`.
pub const MODEL_KEYS: &[&str] = &[
    "app",
    "table",
    "plural",
    "ordering",
    "unknown_fields",
    "display",
    "unique_together",
    "ordering_index",
];

/// Keys accepted inside `#[admin(...)]`.
pub const ADMIN_KEYS: &[&str] = &[
    "list_display",
    "list_filter",
    "search",
    "readonly",
    "autocomplete",
    "inlines",
    "list_per_page",
    "hidden",
];

/// Keys accepted inside `#[api(...)]`.
pub const API_KEYS: &[&str] = &[
    "filter",
    "search",
    "ordering",
    "policy",
    "owner",
    "own_rows_only",
    "permissions_of",
    "read",
    "pagination",
];

/// The values of `#[api(policy = "...")]`.
pub const POLICIES: &[&str] = &[
    "model_permissions",
    "authenticated",
    "public_read",
    "allow_any",
];

/// Keys accepted inside `#[field(...)]`.
pub const FIELD_KEYS: &[&str] = &[
    "primary_key",
    "unique",
    "index",
    "text",
    "max_length",
    "min_length",
    "min_value",
    "max_value",
    "default",
    "references",
    "on_delete",
    "read_only",
    "write_only",
    "auto_now",
    "auto_now_add",
    "regex",
    "email",
    "url",
    "max_digits",
    "decimal_places",
    "choices",
    "password",
    "write_perm",
];

/// Builds the model of a derive input; `None` when its shape is unusable
/// (not a struct with named fields), with the reason recorded in `cx`.
pub fn parse(cx: &Ctxt, input: &DeriveInput) -> Option<ModelDef> {
    let fields = struct_fields(cx, input)?;

    // Django's `model_name` is the class name in lower case (`BlogPost` ->
    // `blogpost`): it names the table, content type and permissions.
    let model_name = crate::ast::name_of(&input.ident).to_lowercase();
    let snake_name = crate::ast::name_of(&input.ident).to_snake_case();
    let options = parse_model_options(cx, &input.attrs);

    let app = options.app.unwrap_or_else(|| {
        cx.error_spanned_by(
            &input.ident,
            format!(
                "missing app label: add `#[model(app = \"blog\")]` above `struct {}`",
                input.ident
            ),
        );
        String::from("app")
    });
    let table = options
        .table
        .unwrap_or_else(|| format!("{app}_{model_name}"));
    let plural = options.plural.unwrap_or_else(|| pluralize(&snake_name));

    let mut fields: Vec<FieldDef> = fields.iter().map(|f| parse_field(cx, f)).collect();
    let api = parse_api(cx, &input.attrs);
    let admin = parse_admin(cx, &input.attrs);
    if let Some(owner) = &api.owner {
        for field in fields.iter_mut().filter(|f| f.is_named(owner)) {
            field.options.is_owner = true;
        }
    }

    Some(ModelDef {
        unique_together: options.unique_together,
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        docs: doc_lines(&input.attrs),
        app,
        model_name,
        module_name: snake_name,
        table,
        plural,
        ordering: options.ordering,
        ordering_span: options.ordering_span,
        ordering_index: options.ordering_index.unwrap_or(true),
        fields,
        api,
        ignore_unknown_fields: options.ignore_unknown_fields,
        display: options.display,
        admin,
    })
}

/// The named fields of a plain struct; `None` (and the reason in `cx`) for
/// an enum, a tuple struct or a generic struct.
fn struct_fields<'a>(
    cx: &Ctxt,
    input: &'a DeriveInput,
) -> Option<&'a syn::punctuated::Punctuated<syn::Field, syn::Token![,]>> {
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            _ => {
                cx.error_spanned_by(
                    &input.ident,
                    "#[derive(Model)] needs a struct with named fields, e.g. `struct Post { id: i64 }`",
                );
                return None;
            }
        },
        _ => {
            cx.error_spanned_by(
                &input.ident,
                "#[derive(Model)] works on structs only; a Rust enum stored as a column is a field type",
            );
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        // Fields of a generic type would each add an "unsupported type"
        // error: this one says it all.
        cx.error_spanned_by(
            &input.generics,
            "#[derive(Model)] does not support generic parameters: a model maps to one table; write one struct per table with concrete field types",
        );
        return None;
    }
    Some(fields)
}

/// What `#[model(...)]` says, before the defaults are filled in.
#[derive(Default)]
struct ModelOptions {
    app: Option<String>,
    table: Option<String>,
    plural: Option<String>,
    ordering: Vec<OrderingTerm>,
    ordering_span: Option<Span>,
    ignore_unknown_fields: bool,
    display: Option<DisplayDef>,
    unique_together: Vec<Vec<syn::Ident>>,
    ordering_index: Option<bool>,
}

/// Reads every `#[model(...)]` of the struct; a key given twice is an
/// error (but `unique_together`, which may name several groups).
fn parse_model_options(cx: &Ctxt, attrs: &[Attribute]) -> ModelOptions {
    let mut options = ModelOptions::default();
    let mut seen = Vec::<String>::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            if MODEL_KEYS.contains(&key.as_str()) && key != "unique_together" && seen.contains(&key)
            {
                cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in #[model(...)]"));
            }
            seen.push(key.clone());
            model_option(cx, &meta, &key, &mut options)
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    options
}

/// Reads one `#[model(...)]` key into `options`.
fn model_option(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    options: &mut ModelOptions,
) -> syn::Result<()> {
    match key {
        "app" => options.app = Some(parse_str(meta)?.value()),
        "table" => options.table = Some(parse_str(meta)?.value()),
        "plural" => options.plural = Some(parse_str(meta)?.value()),
        "unique_together" => {
            let mut names = Vec::new();
            meta.parse_nested_meta(|inner| {
                names.push(inner.path.require_ident()?.clone());
                Ok(())
            })?;
            if names.len() < 2 {
                cx.error_spanned_by(
                    &meta.path,
                    "unique_together names two fields or more, e.g. `unique_together(user_id, group_id)`; for one field write `#[field(unique)]`",
                );
            }
            options.unique_together.push(names);
        }
        "ordering" => {
            let lit = parse_str(meta)?;
            options.ordering_span = Some(lit.span());
            options.ordering = parse_ordering(cx, &lit);
        }
        "ordering_index" => options.ordering_index = Some(parse_bool(meta)?),
        "display" => {
            options.display = Some(if meta.input.peek(syn::Token![=]) {
                let lit = parse_str(meta)?;
                let parts = parse_display(cx, &lit);
                DisplayDef::Template(lit, parts)
            } else {
                DisplayDef::DisplayImpl(meta.path.span())
            });
        }
        "unknown_fields" => {
            let lit = parse_str(meta)?;
            match lit.value().as_str() {
                "reject" => options.ignore_unknown_fields = false,
                "ignore" => options.ignore_unknown_fields = true,
                _ => cx.error_spanned_by(
                    &lit,
                    "unknown_fields is \"reject\" (the default: 422 extra_forbidden) or \"ignore\"",
                ),
            }
        }
        _ => unknown_key(cx, meta, "model", MODEL_KEYS)?,
    }
    Ok(())
}

/// Splits `"{title} by {author_id}"` into text and field pieces; `{{` and
/// `}}` are literal braces, as in `format!`.
fn parse_display(cx: &Ctxt, lit: &syn::LitStr) -> Vec<DisplayPart> {
    let value = lit.value();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    cx.error_spanned_by(
                        lit,
                        "display is a template of field names in braces, e.g. \"{title} ({id})\"",
                    );
                    return parts;
                }
                if !text.is_empty() {
                    parts.push(DisplayPart::Text(std::mem::take(&mut text)));
                }
                parts.push(DisplayPart::Field(name));
            }
            '}' => {
                cx.error_spanned_by(lit, "unmatched `}` in display: write `}}` for a brace");
                return parts;
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(DisplayPart::Text(text));
    }
    parts
}

/// Reads `key(a, b, c)` into `target`: a list of field names.
fn parse_field_list(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    target: &mut Vec<syn::Ident>,
) -> syn::Result<()> {
    if !meta.input.peek(syn::token::Paren) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{key}` takes a list of field names: write `{key}(title, created_at)`"),
        );
        return Ok(());
    }
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(ident) if inner.input.is_empty() || inner.input.peek(syn::Token![,]) => {
                target.push(ident.clone())
            }
            _ => cx.error_spanned_by(
                &inner.path,
                format!("`{key}(...)` lists field names, e.g. `{key}(title, published)`"),
            ),
        }
        Ok(())
    })
}

fn parse_admin(cx: &Ctxt, attrs: &[Attribute]) -> AdminDef {
    let mut admin = AdminDef::default();
    let mut seen = Vec::<String>::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("admin")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            if ADMIN_KEYS.contains(&key.as_str()) && seen.contains(&key) {
                cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in #[admin(...)]"));
            }
            seen.push(key.clone());
            match key.as_str() {
                "hidden" => {
                    admin.hidden = Some(meta.path.span());
                    return Ok(());
                }
                "list_per_page" => {
                    admin.list_per_page = Some(meta.value()?.parse()?);
                    return Ok(());
                }
                "inlines" => {
                    return meta.parse_nested_meta(|inner| {
                        admin.inlines.push(inner.path.clone());
                        Ok(())
                    });
                }
                _ => {}
            }
            let target = match key.as_str() {
                "list_display" => &mut admin.list_display,
                "list_filter" => &mut admin.list_filter,
                "search" => &mut admin.search,
                "readonly" => &mut admin.readonly,
                "autocomplete" => &mut admin.autocomplete,
                _ => return unknown_key(cx, &meta, "admin", ADMIN_KEYS),
            };
            parse_field_list(cx, &meta, &key, target)
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    admin
}

fn parse_api(cx: &Ctxt, attrs: &[Attribute]) -> ApiDef {
    let mut api = ApiDef::default();
    let mut seen = Vec::<String>::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("api")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            if API_KEYS.contains(&key.as_str()) && seen.contains(&key) {
                cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in #[api(...)]"));
            }
            seen.push(key.clone());
            if key == "policy" {
                let lit = parse_str(&meta)?;
                match ApiPolicy::from_name(&lit.value()) {
                    Some(policy) => api.policy = Some((lit.span(), policy)),
                    None => cx.error_spanned_by(
                        &lit,
                        format!(
                            "unknown policy \"{}\": {}",
                            lit.value(),
                            suggest(&lit.value(), POLICIES)
                        ),
                    ),
                }
                return Ok(());
            }
            if key == "own_rows_only" {
                api.own_rows_only = Some(meta.path.span());
                return Ok(());
            }
            if key == "owner" {
                let value: syn::Ident = meta.value()?.parse()?;
                api.owner = Some(value);
                return Ok(());
            }
            if key == "permissions_of" {
                let value: syn::Ident = meta.value()?.parse()?;
                api.permissions_of = Some(value);
                return Ok(());
            }
            if key == "pagination" {
                let lit = parse_str(&meta)?;
                match lit.value().as_str() {
                    "page" => api.unpaged = false,
                    "none" => api.unpaged = true,
                    _ => cx.error_spanned_by(
                        &lit,
                        "pagination is \"page\" (the default: `page`/`page_size` or `cursor`) or \"none\" (every row as `{\"items\": [...]}`)",
                    ),
                }
                return Ok(());
            }
            let target = match key.as_str() {
                "filter" => &mut api.filter,
                "search" => &mut api.search,
                "ordering" => &mut api.ordering,
                "read" => api.read.get_or_insert_with(Vec::new),
                _ => return unknown_key(cx, &meta, "api", API_KEYS),
            };
            parse_field_list(cx, &meta, &key, target)
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    api
}

/// Builds one field's model: its `#[field(...)]` options and its kind.
fn parse_field(cx: &Ctxt, field: &syn::Field) -> FieldDef {
    let ident = field.ident.clone().expect("named fields");
    let (nullable, inner) = match option_inner(&field.ty) {
        Some(inner) => (true, inner),
        None => (false, &field.ty),
    };
    let mut options = parse_field_options(cx, &field.attrs);
    let kind = field_kind(cx, inner, options.choices);
    float_default(&mut options, kind);
    FieldDef {
        inner: inner.clone(),
        docs: {
            let lines = doc_lines(&field.attrs);
            (!lines.is_empty()).then(|| lines.join(" "))
        },
        ident,
        ty: field.ty.clone(),
        kind,
        nullable,
        options,
    }
}

/// Reads every `#[field(...)]` of a field; a key given twice is an error.
fn parse_field_options(cx: &Ctxt, attrs: &[Attribute]) -> FieldOptions {
    let mut options = FieldOptions::default();
    let mut seen = Vec::<String>::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("field")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            if FIELD_KEYS.contains(&key.as_str()) && seen.contains(&key) {
                cx.error_spanned_by(&meta.path, format!("duplicate `{key}` in #[field(...)]"));
            }
            seen.push(key.clone());
            field_option(cx, &meta, &key, &mut options)
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    options
}

/// Reads one `#[field(...)]` key into `o`, each option keeping the span of
/// its key for errors.
fn field_option(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    o: &mut FieldOptions,
) -> syn::Result<()> {
    let span = meta.path.span();
    match key {
        "primary_key" => o.primary_key = Some(span),
        "unique" => o.unique = Some(span),
        "index" => o.index = Some(span),
        "text" => o.text = Some(span),
        "read_only" => o.read_only = Some(span),
        "write_only" => o.write_only = Some(span),
        "auto_now" => o.auto_now = Some(span),
        "auto_now_add" => o.auto_now_add = Some(span),
        "email" => o.email = Some(span),
        "choices" => o.choices = Some(span),
        "password" => o.password = Some(span),
        "max_digits" => o.max_digits = Some((span, meta.value()?.parse()?)),
        "decimal_places" => o.decimal_places = Some((span, meta.value()?.parse()?)),
        "url" => o.url = Some(span),
        "regex" => o.regex = Some((span, parse_str(meta)?)),
        "max_length" => o.max_length = Some((span, meta.value()?.parse()?)),
        "min_length" => o.min_length = Some((span, meta.value()?.parse()?)),
        "min_value" => o.min_value = Some((span, parse_number(meta)?)),
        "max_value" => o.max_value = Some((span, parse_number(meta)?)),
        "default" => match meta.value()?.parse::<syn::Expr>()? {
            syn::Expr::Lit(lit) => o.default = Some((span, lit.lit)),
            syn::Expr::Path(path) => o.default_variant = Some((span, path.path)),
            other => cx.error_spanned_by(
                other,
                "`default` takes a literal (`default = false`, `default = \"draft\"`) or, on a choices field, a variant (`default = Status::Draft`)",
            ),
        },
        "references" => o.references = Some((span, meta.value()?.parse()?)),
        "write_perm" => o.write_perm = Some(parse_str(meta)?),
        "on_delete" => {
            let lit = parse_str(meta)?;
            let action = match lit.value().as_str() {
                "cascade" => Some(OnDelete::Cascade),
                "set_null" => Some(OnDelete::SetNull),
                "restrict" => Some(OnDelete::Restrict),
                _ => {
                    cx.error_spanned_by(
                        &lit,
                        "unknown on_delete action: write \"cascade\", \"set_null\" or \"restrict\"",
                    );
                    None
                }
            };
            if let Some(action) = action {
                o.on_delete = Some((span, action, lit));
            }
        }
        _ => unknown_key(cx, meta, "field", FIELD_KEYS)?,
    }
    Ok(())
}

/// The kind of a field's type (without its `Option`): a supported scalar,
/// or a choices enum when the field says `choices`; `None` (and the
/// reason in `cx`) for any other type.
fn field_kind(cx: &Ctxt, inner: &Type, choices: Option<Span>) -> Option<ScalarKind> {
    match (scalar_kind(inner), choices) {
        (Some(kind), Some(span)) => {
            cx.syn_error(syn::Error::new(
                span,
                "`choices` marks a Rust enum field; this field's type is a built-in scalar: remove `choices`",
            ));
            Some(kind)
        }
        (Some(kind), None) => Some(kind),
        (None, Some(_)) if is_plain_path(inner) => Some(ScalarKind::Choice),
        (None, _) => {
            let hint = if is_plain_path(inner) {
                "; for a Rust enum, add #[derive(Choices)] to it and mark this field #[field(choices)]"
            } else {
                ""
            };
            cx.error_spanned_by(
                inner,
                format!(
                    "unsupported field type `{}`: a model field is one of {}{hint}",
                    quote::quote!(#inner).to_string().replace(' ', ""),
                    ScalarKind::SUPPORTED
                ),
            );
            None
        }
    }
}

/// `default = 3` on a float field means `3.0`: the literal becomes an
/// expression of the field's type, where Rust takes no integer for a float.
fn float_default(options: &mut FieldOptions, kind: Option<ScalarKind>) {
    if !matches!(kind, Some(ScalarKind::F32 | ScalarKind::F64)) {
        return;
    }
    if let Some((span, syn::Lit::Int(int))) = &options.default {
        let float = syn::LitFloat::new(&format!("{}.0", int.base10_digits()), int.span());
        options.default = Some((*span, syn::Lit::Float(float)));
    }
}

fn key_name(meta: &ParseNestedMeta) -> String {
    let path = &meta.path;
    path.get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| quote::quote!(#path).to_string().replace(' ', ""))
}

/// Records an unknown key with a suggestion, then skips its value so the
/// rest of the attribute is still read.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta, attr: &str, known: &[&str]) -> syn::Result<()> {
    let key = key_name(meta);
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown #[{attr}(...)] attribute `{key}`: {}",
            suggest(&key, known)
        ),
    );
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            if inner.input.peek(syn::Token![=]) {
                let _: syn::Expr = inner.value()?.parse()?;
            }
            Ok(())
        });
    }
    Ok(())
}

/// The `true` / `false` of `key = false`; anything else is an error at
/// the value (or at the key, when no value follows) saying what to write.
fn parse_bool(meta: &ParseNestedMeta) -> syn::Result<bool> {
    let key = key_name(meta);
    let usage = |span: Span| {
        syn::Error::new(
            span,
            format!("`{key}` takes `true` or `false`: write `{key} = false` to opt out"),
        )
    };
    if !meta.input.peek(syn::Token![=]) {
        return Err(usage(meta.path.span()));
    }
    let value = meta.value()?;
    let lit: syn::Lit = value.parse()?;
    match lit {
        syn::Lit::Bool(b) => Ok(b.value),
        other => Err(usage(other.span())),
    }
}

fn parse_str(meta: &ParseNestedMeta) -> syn::Result<syn::LitStr> {
    let key = key_name(meta);
    let value = meta.value()?;
    let lit: syn::Lit = value.parse()?;
    match lit {
        syn::Lit::Str(s) => Ok(s),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes a string: write `{key} = \"...\"`"),
        )),
    }
}

fn parse_number(meta: &ParseNestedMeta) -> syn::Result<syn::Lit> {
    let key = key_name(meta);
    let value = meta.value()?;
    // Accept a leading minus: `min_value = -5`.
    let negative = value.peek(syn::Token![-]);
    if negative {
        let _: syn::Token![-] = value.parse()?;
    }
    let lit: syn::Lit = value.parse()?;
    let text = match &lit {
        syn::Lit::Int(i) => i.base10_digits().to_string(),
        syn::Lit::Float(f) => f.base10_digits().to_string(),
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!("`{key}` takes a number: write `{key} = 10`"),
            ));
        }
    };
    let text = if negative { format!("-{text}") } else { text };
    Ok(match lit {
        syn::Lit::Int(i) => syn::Lit::Int(syn::LitInt::new(&text, i.span())),
        syn::Lit::Float(f) => syn::Lit::Float(syn::LitFloat::new(&text, f.span())),
        _ => unreachable!("matched above"),
    })
}

fn parse_ordering(cx: &Ctxt, lit: &syn::LitStr) -> Vec<OrderingTerm> {
    let mut terms = Vec::new();
    for part in lit.value().split(',') {
        let part = part.trim();
        let (descending, field) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let mut path = field.split("__");
        let (field, related) = (path.next().unwrap_or(""), path.next());
        if field.is_empty() || related.is_some_and(str::is_empty) {
            cx.error_spanned_by(
                lit,
                "ordering is a comma-separated list of field names, each optionally prefixed by `-`, e.g. \"-created_at,title\" (or `author__name` for a field of a foreign key's model)",
            );
            continue;
        }
        if path.next().is_some() {
            cx.error_spanned_by(
                lit,
                format!(
                    "ordering follows one foreign key at most: `{part}` has more than one `__`"
                ),
            );
            continue;
        }
        terms.push(OrderingTerm {
            // `r#type` and `type` both name the field `type`.
            field: field.trim_start_matches("r#").to_string(),
            related: related.map(str::to_string),
            descending,
        });
    }
    terms
}

/// `T` when `ty` is `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// A path without generic arguments, such as `Status` or `crate::blog::Status`.
fn is_plain_path(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.iter().all(|s| matches!(s.arguments, PathArguments::None)))
}

fn scalar_kind(ty: &Type) -> Option<ScalarKind> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let plain = matches!(last.arguments, PathArguments::None);
    Some(match last.ident.to_string().as_str() {
        "i16" if plain => ScalarKind::I16,
        "i32" if plain => ScalarKind::I32,
        "i64" if plain => ScalarKind::I64,
        "f32" if plain => ScalarKind::F32,
        "f64" if plain => ScalarKind::F64,
        "bool" if plain => ScalarKind::Bool,
        "String" if plain => ScalarKind::String,
        "DateTimeUtc" if plain => ScalarKind::DateTimeUtc,
        "NaiveDate" | "Date" if plain => ScalarKind::Date,
        "Decimal" if plain => ScalarKind::Decimal,
        "Uuid" if plain => ScalarKind::Uuid,
        "Json" if plain => ScalarKind::Json,
        "Value" if plain && path.path.segments.len() >= 2 => {
            // `serde_json::Value`; a bare `Value` is too ambiguous to assume.
            let parent = &path.path.segments[path.path.segments.len() - 2].ident;
            if parent == "serde_json" {
                ScalarKind::Json
            } else {
                return None;
            }
        }
        "DateTime" => match &last.arguments {
            PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
                GenericArgument::Type(Type::Path(tz))
                    if tz.path.segments.last().is_some_and(|s| s.ident == "Utc") =>
                {
                    ScalarKind::DateTimeUtc
                }
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    })
}

/// The `///` lines of an item, trimmed of the single leading space rustdoc adds.
pub fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// English plural of a snake_case model name, as Django's verbose_name_plural
/// would spell it for regular nouns (`category` -> `categories`).
pub fn pluralize(name: &str) -> String {
    if let Some(stem) = name.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if name.ends_with('s') || name.ends_with('x') || name.ends_with("ch") || name.ends_with("sh") {
        return format!("{name}es");
    }
    format!("{name}s")
}

/// A span for errors that concern the whole struct.
pub fn struct_span(input: &DeriveInput) -> Span {
    input.ident.span()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the generated-models test: an integer default on a float
    /// field passed the checks, then the generated code did not compile.
    #[test]
    fn an_integer_default_on_a_float_field_is_a_float() {
        let input: DeriveInput = syn::parse_quote! {
            #[model(app = "t")]
            struct T {
                #[field(primary_key)]
                id: i64,
                #[field(default = 3)]
                ratio: f64,
                #[field(default = 3)]
                count: i32,
            }
        };
        let cx = Ctxt::new();
        let model = parse(&cx, &input).expect("parsed");
        cx.check().expect("no errors");
        let literal = |i: usize| match &model.fields[i].options.default {
            Some((_, lit)) => quote::quote!(#lit).to_string(),
            None => String::new(),
        };
        assert_eq!(literal(1), "3.0");
        assert_eq!(literal(2), "3");
    }
}
