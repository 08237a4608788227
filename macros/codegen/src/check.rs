//! Validates a parsed model once, recording every misuse at its token with
//! what to write instead.

use crate::ast::{FieldDef, ModelDef, OnDelete, ScalarKind};
use crate::ctxt::Ctxt;

/// Checks the model as a whole and each field's options against its type.
pub fn check(cx: &Ctxt, model: &ModelDef) {
    check_primary_key(cx, model);
    check_ordering(cx, model);
    check_api(cx, model);
    check_owner(cx, model);
    check_permissions_of(cx, model);
    check_unique_together(cx, model);
    check_read(cx, model);
    check_admin(cx, model);
    check_display(cx, model);
    for field in &model.fields {
        check_field(cx, field);
    }
}

fn check_primary_key(cx: &Ctxt, model: &ModelDef) {
    let keys: Vec<&FieldDef> = model
        .fields
        .iter()
        .filter(|f| f.options.primary_key.is_some())
        .collect();
    match keys.as_slice() {
        [] => cx.error_spanned_by(
            &model.ident,
            format!(
                "`{}` has no primary key: mark one field with #[field(primary_key)], e.g. `#[field(primary_key)] pub id: i64`",
                model.ident
            ),
        ),
        [_] => {}
        [_, rest @ ..] => {
            for extra in rest {
                cx.syn_error(syn::Error::new(
                    extra.options.primary_key.expect("filtered"),
                    "a model has one primary key: remove this `primary_key` (use `unique` for another identifying field)",
                ));
            }
        }
    }
    for key in keys {
        if key.nullable {
            cx.error_spanned_by(
                &key.ty,
                "a primary key cannot be `Option`: write the plain type, e.g. `pub id: i64`",
            );
        }
        if let Some(kind) = key.kind
            && !(kind.is_integer() || kind == ScalarKind::String || kind == ScalarKind::Uuid)
        {
            cx.error_spanned_by(
                &key.ty,
                "a primary key is an integer (auto-increment), a Uuid (generated) or a String",
            );
        }
    }
}

fn check_ordering(cx: &Ctxt, model: &ModelDef) {
    let Some(span) = model.ordering_span else {
        return;
    };
    for term in &model.ordering {
        if let Some(related) = &term.related {
            if model.relation(&term.field).is_none() {
                let relations: Vec<String> = model
                    .fields
                    .iter()
                    .filter(|f| f.options.references.is_some())
                    .map(|f| {
                        let name = f.name();
                        name.strip_suffix("_id").unwrap_or(&name).to_string()
                    })
                    .collect();
                cx.syn_error(syn::Error::new(
                    span,
                    format!(
                        "ordering names `{}__{related}`, but `{}` is not a foreign key of `{}`: ordering across a relation needs a field `{}_id` with #[field(references = Model)]{}",
                        term.field,
                        term.field,
                        model.ident,
                        term.field,
                        if relations.is_empty() {
                            String::new()
                        } else {
                            format!(" (foreign keys here: {})", relations.join(", "))
                        }
                    ),
                ));
            }
            continue;
        }
        if model.field_named(&term.field).is_none() {
            let names: Vec<String> = model.fields.iter().map(FieldDef::name).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            cx.syn_error(syn::Error::new(
                span,
                format!(
                    "ordering names `{}`, which is not a field of `{}`: {}",
                    term.field,
                    model.ident,
                    crate::ctxt::suggest(&term.field, &names)
                ),
            ));
        }
    }
}

fn field_names(model: &ModelDef) -> Vec<String> {
    model.fields.iter().map(FieldDef::name).collect()
}

fn check_api(cx: &Ctxt, model: &ModelDef) {
    let names = field_names(model);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let lists = [
        ("filter", &model.api.filter),
        ("search", &model.api.search),
        ("ordering", &model.api.ordering),
    ];
    for (list, idents) in lists {
        for ident in idents {
            let Some(field) = model.field(ident) else {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "#[api({list}(...))] names `{ident}`, which is not a field of `{}`: {}",
                        model.ident,
                        crate::ctxt::suggest(&crate::ast::name_of(ident), &names)
                    ),
                );
                continue;
            };
            let Some(kind) = field.kind else { continue };
            if list == "search" && kind != ScalarKind::String {
                cx.error_spanned_by(
                    ident,
                    format!("`search` looks in text: `{ident}` is not a String; use `filter({ident})` to match it exactly"),
                );
            }
            if list != "search" && kind == ScalarKind::Json {
                cx.error_spanned_by(ident, format!("a JSON field cannot be used in `{list}`"));
            }
            if field.is_secret() {
                cx.error_spanned_by(
                    ident,
                    format!("`{ident}` is write_only: listing it in `{list}` would reveal it"),
                );
            }
        }
    }
}

fn check_admin(cx: &Ctxt, model: &ModelDef) {
    let names = field_names(model);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let admin = &model.admin;
    let lists = [
        ("list_display", &admin.list_display),
        ("list_filter", &admin.list_filter),
        ("search", &admin.search),
        ("autocomplete", &admin.autocomplete),
    ];
    for ident in &admin.readonly {
        cx.error_spanned_by(
            ident,
            format!("#[admin(readonly(...))] is gone: declare the rule once on the field, for the API and the admin alike: `#[field(read_only)]` on `{ident}` (set by the server, read-only everywhere) or `#[field(write_perm = \"change\")]` (only holders of the model's change permission write it)"),
        );
    }
    for (list, idents) in lists {
        for ident in idents {
            let Some(field) = model.field(ident) else {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "#[admin({list}(...))] names `{ident}`, which is not a field of `{}`: {}",
                        model.ident,
                        crate::ctxt::suggest(&crate::ast::name_of(ident), &names)
                    ),
                );
                continue;
            };
            if field.is_secret() {
                cx.error_spanned_by(
                    ident,
                    format!("`{ident}` is write_only: the admin never shows it, so it cannot be in `{list}`"),
                );
                continue;
            }
            let Some(kind) = field.kind else { continue };
            let is_fk = field.options.references.is_some();
            match list {
                "search" if kind != ScalarKind::String => cx.error_spanned_by(
                    ident,
                    format!("the admin's search looks in text: `{ident}` is not a String; show it with `list_display({ident})`, or filter on it with `list_filter({ident})`"),
                ),
                // The change list filters as the REST list does: every
                // lookup of the field's kind through the URL; the sidebar
                // offers links for bool, choices, foreign key and dates.
                "list_filter" if kind == ScalarKind::Json => cx.error_spanned_by(
                    ident,
                    format!("`list_filter` takes fields the list can filter; `{ident}` is JSON: show it with `list_display({ident})`"),
                ),
                "autocomplete" if !is_fk => cx.error_spanned_by(
                    ident,
                    format!("`autocomplete` is for foreign keys (`references = Model`); `{ident}` is not one"),
                ),
                _ => {}
            }
        }
    }
    if let Some(lit) = &admin.list_per_page
        && lit.base10_parse::<u64>().map_or(true, |n| n == 0)
    {
        cx.error_spanned_by(
            lit,
            "`list_per_page` is a positive number of rows, e.g. `list_per_page = 50`",
        );
    }
}

fn check_display(cx: &Ctxt, model: &ModelDef) {
    let Some(crate::ast::DisplayDef::Template(lit, parts)) = &model.display else {
        return;
    };
    let names = field_names(model);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for part in parts {
        let crate::ast::DisplayPart::Field(name) = part else {
            continue;
        };
        match model.field_named(name) {
            None => cx.error_spanned_by(
                lit,
                format!(
                    "display names `{{{name}}}`, which is not a field of `{}`: {}",
                    model.ident,
                    crate::ctxt::suggest(name, &names)
                ),
            ),
            Some(field) if field.is_secret() => cx.error_spanned_by(
                lit,
                format!("display cannot show `{name}`: it is write_only"),
            ),
            Some(_) => {}
        }
    }
}

fn check_owner(cx: &Ctxt, model: &ModelDef) {
    if let (Some(span), None) = (model.api.own_rows_only, &model.api.owner) {
        cx.syn_error(syn::Error::new(
            span,
            "`own_rows_only` needs `owner = field` naming the user foreign key",
        ));
    }
    if let (Some(_), Some((span, policy))) = (&model.api.owner, &model.api.policy) {
        cx.syn_error(syn::Error::new(*span, format!("`owner` sets the policy (authenticated reads, owner writes); remove `policy = \"{}\"`", policy.name())));
    }
    let Some(owner) = &model.api.owner else {
        return;
    };
    match model.field(owner) {
        Some(field) if field.options.references.is_some() => {}
        Some(_) => cx.error_spanned_by(
            owner,
            format!("`owner` names the foreign key to the user model: mark `{owner}` with `#[field(references = User)]`"),
        ),
        None => {
            let names = field_names(model);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            cx.error_spanned_by(
                owner,
                format!("`owner = {owner}` is not a field of `{}`: {}", model.ident, crate::ctxt::suggest(&crate::ast::name_of(owner), &names)),
            );
        }
    }
}

fn check_unique_together(cx: &Ctxt, model: &ModelDef) {
    let names = field_names(model);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for group in &model.unique_together {
        for name in group {
            if !names.contains(&crate::ast::name_of(name).as_str()) {
                cx.error_spanned_by(
                    name,
                    format!(
                        "`unique_together` names `{name}`, not a field of `{}`: {}",
                        model.ident,
                        crate::ctxt::suggest(&crate::ast::name_of(name), &names)
                    ),
                );
            }
        }
    }
}

fn check_permissions_of(cx: &Ctxt, model: &ModelDef) {
    let Some(parent) = &model.api.permissions_of else {
        return;
    };
    if let Some((span, policy)) = &model.api.policy {
        cx.syn_error(syn::Error::new(*span, format!("`permissions_of` sets the policy (the parent's `view` and `change` permissions); remove `policy = \"{}\"`", policy.name())));
    }
    if model.api.owner.is_some() {
        cx.error_spanned_by(
            parent,
            "`permissions_of` and `owner` cannot be combined: a link table follows its parent's permissions",
        );
    }
    match model.field(parent) {
        Some(field) if field.options.references.is_some() => {}
        Some(_) => cx.error_spanned_by(
            parent,
            format!("`permissions_of` names the foreign key to the parent model: mark `{parent}` with `#[field(references = ...)]`"),
        ),
        None => {
            let names = field_names(model);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            cx.error_spanned_by(
                parent,
                format!("`permissions_of = {parent}` is not a field of `{}`: {}", model.ident, crate::ctxt::suggest(&crate::ast::name_of(parent), &names)),
            );
        }
    }
}

fn check_read(cx: &Ctxt, model: &ModelDef) {
    let Some(read) = &model.api.read else {
        return;
    };
    if read.is_empty() {
        cx.error_spanned_by(
            &model.ident,
            "#[api(read())] lists no field: name the fields responses show, e.g. `read(pk, name)`",
        );
    }
    let mut names = field_names(model);
    names.push("pk".into());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut seen: Vec<String> = Vec::new();
    for ident in read {
        let Some(field) = model.read_target(ident) else {
            cx.error_spanned_by(
                ident,
                format!(
                    "#[api(read(...))] names `{ident}`, which is not a field of `{}` (`pk` is the primary key): {}",
                    model.ident,
                    crate::ctxt::suggest(&crate::ast::name_of(ident), &names)
                ),
            );
            continue;
        };
        if field.options.write_only.is_some() {
            cx.error_spanned_by(
                ident,
                format!("`{ident}` is write_only: it cannot be part of the Read schema"),
            );
        }
        let target = field.name();
        if seen.contains(&target) {
            cx.error_spanned_by(
                ident,
                format!("`{target}` is already in #[api(read(...))] (`pk` stands for the primary key): list it once"),
            );
        }
        seen.push(target);
    }
}

/// Checks one field's options against its type, one rule family after
/// another (the order in which their errors are reported).
fn check_field(cx: &Ctxt, field: &FieldDef) {
    let Some(kind) = field.kind else {
        return; // already reported as an unsupported type
    };
    check_lengths_and_bounds(cx, field, kind);
    check_string_formats(cx, field, kind);
    check_decimal(cx, field, kind);
    check_regex_and_text(cx, field, kind);
    check_timestamps(cx, field, kind);
    check_access(cx, field);
    check_foreign_key(cx, field, kind);
    check_defaults(cx, field, kind);
    let o = &field.options;
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some(span) = o.primary_key {
        check_primary_key_options(cx, field);
        if o.references.is_some() {
            err(span, "a primary key cannot also be a foreign key (`references`) in ferrobridge yet; add a separate field".into());
        }
    }
}

/// `min_length`/`max_length` on strings, `min_value`/`max_value` on numbers (whole ones for integers).
fn check_lengths_and_bounds(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    for (key, span) in [("max_length", &o.max_length), ("min_length", &o.min_length)] {
        if let Some((span, _)) = span
            && kind != ScalarKind::String
        {
            let instead = if kind.is_number() {
                format!(
                    "; to bound a number write `{}`",
                    key.replace("length", "value")
                )
            } else {
                String::new()
            };
            err(
                *span,
                format!("`{key}` applies to String fields, but `{name}` is not a String{instead}"),
            );
        }
    }
    for (key, value) in [("min_value", &o.min_value), ("max_value", &o.max_value)] {
        if let Some((span, lit)) = value {
            if kind == ScalarKind::Decimal {
                err(
                    *span,
                    format!(
                        "`{key}` is not supported on Decimal fields yet: use an f64 field, or check the value in a handler"
                    ),
                );
            } else if !kind.is_number() {
                let instead = if kind == ScalarKind::String {
                    format!(
                        "; to bound a string's length write `{}`",
                        key.replace("value", "length")
                    )
                } else {
                    String::new()
                };
                err(
                    *span,
                    format!(
                        "`{key}` applies to number fields, but `{name}` is not a number{instead}"
                    ),
                );
            } else if kind.is_integer() && matches!(lit, syn::Lit::Float(_)) {
                err(
                    lit.span(),
                    format!("`{name}` is an integer: write a whole number"),
                );
            }
        }
    }
}

/// `password`, `email`, `url` and `regex` on String fields only.
fn check_string_formats(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some(span) = o.password
        && kind != ScalarKind::String
        && o.primary_key.is_none()
    {
        err(
            span,
            format!("`password` applies to String fields, but `{name}` is not a String"),
        );
    }
    for (key, span) in [
        ("email", o.email),
        ("url", o.url),
        ("regex", o.regex.as_ref().map(|r| r.0)),
    ] {
        if let Some(span) = span
            && kind != ScalarKind::String
        {
            err(
                span,
                format!("`{key}` applies to String fields, but `{name}` is not a String"),
            );
        }
    }
}

/// `max_digits`/`decimal_places` on Decimal fields only, and a Decimal has a valid precision.
fn check_decimal(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    for (key, value) in [
        ("max_digits", &o.max_digits),
        ("decimal_places", &o.decimal_places),
    ] {
        if let Some((span, _)) = value
            && kind != ScalarKind::Decimal
        {
            err(
                *span,
                format!("`{key}` applies to Decimal fields, but `{name}` is not a Decimal"),
            );
        }
    }
    if kind == ScalarKind::Decimal {
        match (&o.max_digits, &o.decimal_places) {
            (Some((_, digits)), Some((span, places))) => {
                let digits: u32 = digits.base10_parse().unwrap_or(0);
                let places: u32 = places.base10_parse().unwrap_or(u32::MAX);
                if digits == 0 || digits > 28 || places > digits {
                    err(*span, "a Decimal needs 1 <= max_digits <= 28 and decimal_places <= max_digits".into());
                }
            }
            _ => cx.error_spanned_by(
                &field.ty,
                format!("a Decimal field needs its precision, as Django's DecimalField: write `#[field(max_digits = 10, decimal_places = 2)]` on `{name}`"),
            ),
        }
    }
}

/// A `regex` compiles; `text` is on a String field, without `max_length`.
fn check_regex_and_text(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some((_, lit)) = &o.regex
        && let Err(error) = regex::Regex::new(&lit.value())
    {
        err(lit.span(), format!("invalid regular expression: {error}"));
    }
    if let Some(span) = o.text
        && kind != ScalarKind::String
    {
        err(
            span,
            format!("`text` applies to String fields, but `{name}` is not a String"),
        );
    }
    if let (Some(_), Some((max_span, _))) = (o.text, &o.max_length) {
        err(*max_span, "a `text` field has no length limit in the database; drop `text` to get a VARCHAR(max_length), or drop `max_length`".into());
    }
}

/// `auto_now`/`auto_now_add` on DateTime<Utc> fields, one of the two.
fn check_timestamps(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    for (key, span) in [("auto_now", o.auto_now), ("auto_now_add", o.auto_now_add)] {
        if let Some(span) = span
            && kind != ScalarKind::DateTimeUtc
            && o.primary_key.is_none()
        {
            err(
                span,
                format!("`{key}` applies to DateTime<Utc> fields, but `{name}` is not one"),
            );
        }
    }
    if let (Some(_), Some(span)) = (o.auto_now, o.auto_now_add) {
        err(
            span,
            "use either `auto_now` (every save) or `auto_now_add` (creation only), not both".into(),
        );
    }
}

/// `write_perm` names "change" on a written field; not both `read_only` and `write_only`.
fn check_access(cx: &Ctxt, field: &FieldDef) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some(lit) = &o.write_perm {
        if lit.value() != "change" {
            err(
                lit.span(),
                format!(
                    "write_perm names the model permission needed to set `{name}`: only \"change\" is supported (`#[field(write_perm = \"change\")]`)"
                ),
            );
        } else if field.is_server_set() || o.primary_key.is_some() {
            err(
                lit.span(),
                format!(
                    "`{name}` is set by the server and never written by a request: remove `write_perm`"
                ),
            );
        }
    }
    if let (Some(_), Some(span)) = (o.read_only, o.write_only) {
        err(
            span,
            "a field cannot be both `read_only` and `write_only`".into(),
        );
    }
}

/// `references` on a key-typed field; `on_delete` on a foreign key (nullable for `set_null`).
fn check_foreign_key(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some((span, _)) = &o.references
        && !kind.is_integer()
        && kind != ScalarKind::String
    {
        err(
            *span,
            format!(
                "`references` needs the type of the referenced primary key, e.g. `pub {name}: i64`"
            ),
        );
    }
    if let Some((span, action, _)) = &o.on_delete {
        if o.references.is_none() {
            err(
                *span,
                "`on_delete` belongs to a foreign key: add `references = OtherModel`".into(),
            );
        } else if *action == OnDelete::SetNull && !field.nullable {
            err(
                *span,
                format!(
                    "on_delete = \"set_null\" needs a nullable field: write `pub {name}: Option<...>`"
                ),
            );
        }
    }
}

/// A `default` literal fits the field's type; a variant default is on a choices field.
fn check_defaults(cx: &Ctxt, field: &FieldDef, kind: ScalarKind) {
    let (o, name) = (&field.options, &field.ident);
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some((_, lit)) = &o.default
        && o.primary_key.is_none()
    {
        let fits = match lit {
            syn::Lit::Bool(_) => kind == ScalarKind::Bool,
            syn::Lit::Int(_) => kind.is_number(),
            syn::Lit::Float(_) => matches!(kind, ScalarKind::F32 | ScalarKind::F64),
            syn::Lit::Str(_) => kind == ScalarKind::String,
            _ => false,
        };
        if !fits {
            err(
                lit.span(),
                format!(
                    "this default does not fit `{name}`'s type: write a literal of that type, e.g. `default = {}`",
                    example_literal(kind)
                ),
            );
        }
    }
    if let Some((span, _)) = &o.default_variant
        && kind != ScalarKind::Choice
        && o.primary_key.is_none()
    {
        err(
            *span,
            format!(
                "an enum variant default fits a `#[field(choices)]` field; `{name}` takes a literal, e.g. `default = {}`",
                example_literal(kind)
            ),
        );
    }
}

/// Options that mean nothing on a primary key, each refused at its token:
/// the key is in every response and URL and identifies the row for good;
/// an integer key is generated by the database and a Uuid one by the
/// server, a String one is given by each create request.
fn check_primary_key_options(cx: &Ctxt, field: &FieldDef) {
    let o = &field.options;
    let name = field.name();
    let set_by = if field.is_auto_increment() {
        Some("an integer primary key is generated by the database (auto-increment)")
    } else if field.is_generated_uuid() {
        Some("a Uuid primary key is generated by the server (v4)")
    } else {
        None
    };
    let err = |span, msg: String| cx.syn_error(syn::Error::new(span, msg));
    if let Some(span) = o.read_only {
        err(
            span,
            match set_by {
                Some(set_by) => format!("{set_by}, so it is already read-only: remove `read_only`"),
                None => format!(
                    "a String primary key is given by each create request, so it cannot be `read_only`: remove it, or make `{name}` an `i64` (auto-increment) or a `Uuid` (generated)"
                ),
            },
        );
    }
    if let Some(span) = o.write_only {
        err(span, "the primary key is in every response and URL, so it cannot be `write_only`: remove it (a secret belongs in its own field)".into());
    }
    if let Some(span) = o.password {
        err(span, "a primary key cannot be a `password`: add a separate field, e.g. `#[field(password)] pub password: String`".into());
    }
    for (key, span) in [("auto_now", o.auto_now), ("auto_now_add", o.auto_now_add)] {
        if let Some(span) = span {
            err(
                span,
                format!(
                    "the primary key identifies the row and never changes, so it cannot be `{key}`: add a separate field, e.g. `#[field({key})] pub created_at: DateTimeUtc`"
                ),
            );
        }
    }
    let default = o
        .default
        .as_ref()
        .map(|(s, _)| *s)
        .or_else(|| o.default_variant.as_ref().map(|(s, _)| *s));
    if let Some(span) = default {
        err(span, match set_by {
            Some(set_by) => format!("{set_by}: remove `default`"),
            None => "a String primary key is given by each create request; a `default` would give every row the same key: remove it".into(),
        });
    }
}

fn example_literal(kind: ScalarKind) -> &'static str {
    match kind {
        ScalarKind::Bool => "false",
        ScalarKind::String => "\"draft\"",
        ScalarKind::F32 | ScalarKind::F64 => "0.0",
        ScalarKind::DateTimeUtc => "... (use `auto_now_add` for the current time)",
        _ => "0",
    }
}
