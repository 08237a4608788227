//! `impl ferrobridge::Model`: the metadata the runtime reads (app label,
//! names, fields, ordering) and the moves between request types and rows.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use super::schemas::{SchemaNames, default_value, patchable_fields, writable_fields};
use crate::ast::{ApiPolicy, FieldDef, ModelDef, OnDelete, ScalarKind};

fn column_ident(field: &FieldDef) -> syn::Ident {
    super::entity::column_variant(field)
}

/// The runtime names field metadata is written with, which `meta()`
/// imports so each field reads as one short builder chain.
const SHORT_NAMES: &[&str] = &[
    "Action",
    "DbType",
    "FieldDefault",
    "FieldMeta",
    "OnDelete",
    "Some",
    "None",
];

/// How `meta()` names runtime items: by the short names it imports, or,
/// when a path of the user's in it starts with one of them (a choices enum
/// called `Action`), by absolute paths.
#[derive(Clone, Copy)]
struct Names {
    short: bool,
}

impl Names {
    fn of(model: &ModelDef) -> Self {
        let first = |ty: &syn::Type| match ty {
            syn::Type::Path(p) => p.path.segments.first().map(|s| s.ident.to_string()),
            _ => None,
        };
        let mut user_paths: Vec<String> = model
            .fields
            .iter()
            .filter(|f| f.kind == Some(ScalarKind::Choice))
            .filter_map(|f| first(&f.inner))
            .collect();
        user_paths.extend(model.fields.iter().filter_map(|f| {
            let (_, path) = f.options.default_variant.as_ref()?;
            path.segments.first().map(|s| s.ident.to_string())
        }));
        user_paths.extend(
            (model.admin.inlines.iter())
                .filter_map(|p| p.segments.first().map(|s| s.ident.to_string())),
        );
        Names {
            short: !user_paths.iter().any(|p| SHORT_NAMES.contains(&p.as_str())),
        }
    }

    /// `FieldMeta`, or `::ferrobridge::model::FieldMeta`.
    fn name(self, name: &str) -> TokenStream {
        let ident = format_ident!("{name}");
        match name {
            _ if self.short => quote!(#ident),
            "Some" | "None" => quote!(::core::option::Option::#ident),
            _ => quote!(::ferrobridge::model::#ident),
        }
    }

    /// The `use`s that bring the short names `fields` uses into scope.
    fn imports(self, fields: &[TokenStream]) -> TokenStream {
        fn collect(tokens: TokenStream, found: &mut Vec<String>) {
            for token in tokens {
                match token {
                    proc_macro2::TokenTree::Ident(ident) => found.push(ident.to_string()),
                    proc_macro2::TokenTree::Group(group) => collect(group.stream(), found),
                    _ => {}
                }
            }
        }
        if !self.short {
            return quote!();
        }
        let mut found = Vec::new();
        fields.iter().for_each(|f| collect(f.clone(), &mut found));
        let used = |names: &[&str]| -> Vec<syn::Ident> {
            (names.iter())
                .filter(|n| found.iter().any(|f| f == *n))
                .map(|n| format_ident!("{n}"))
                .collect()
        };
        let option = used(&["None", "Some"]);
        let model = used(&SHORT_NAMES[..5]);
        let option =
            (!option.is_empty()).then(|| quote!(use ::core::option::Option::{#(#option),*};));
        // A choices default reads `Kind::Article.as_choice()`.
        let choices = (found.iter().any(|f| f == "as_choice")).then(|| {
            quote!(
                use ::ferrobridge::Choices as _;
            )
        });
        quote! {
            #option
            #choices
            use ::ferrobridge::model::{#(#model),*};
        }
    }
}

/// One field's metadata as a `const` builder chain: `FieldMeta::new(name,
/// kind, db_type)` and one call per option, so every constraint is written
/// here once (the body reader, the JSON Schema and the admin read it).
fn field_meta(model: &ModelDef, field: &FieldDef, names: Names) -> TokenStream {
    let name = field.name();
    let db_type = db_type(field, names);
    let (field_meta, action) = (names.name("FieldMeta"), names.name("Action"));
    let field_default_path = names.name("FieldDefault");
    let o = &field.options;
    let mut calls = Vec::new();
    let mut flag = |on: bool, call: TokenStream| {
        if on {
            calls.push(call);
        }
    };
    flag(field.nullable, quote!(.nullable()));
    flag(o.primary_key.is_some(), quote!(.primary_key()));
    flag(field.is_auto_increment(), quote!(.auto_increment()));
    flag(o.unique.is_some(), quote!(.unique()));
    // Foreign keys are indexed by `references`, as SeaORM's entity and Django do it.
    flag(
        o.index.is_some() && o.references.is_none(),
        quote!(.index()),
    );
    flag(field.is_server_set(), quote!(.read_only()));
    flag(o.password.is_some(), quote!(.password()));
    flag(
        o.write_only.is_some() && o.password.is_none(),
        quote!(.write_only()),
    );
    // `check` admits only "change".
    flag(o.write_perm.is_some(), quote!(.write_perm(#action::Change)));
    let read_as = model
        .read_fields()
        .into_iter()
        .find(|(_, f)| f.ident == field.ident)
        .map(|(key, _)| crate::ast::name_of(&key));
    if !field.is_secret() {
        match read_as {
            Some(key) if key != name => calls.push(quote!(.read_as(#key))),
            Some(_) => {}
            None => calls.push(quote!(.not_read())),
        }
    }
    calls.extend(value_checks(field));
    if let Some((_, path)) = &o.references {
        calls.push(references_call(model, field, path, names));
    }
    if let Some(default) = field_default(field, names) {
        calls.push(quote!(.default(#field_default_path::#default)));
    }
    if let Some(doc) = &field.docs {
        calls.push(quote!(.help(#doc)));
    }
    quote!(#field_meta::new(#name, #db_type) #(#calls)*)
}

/// The checks a written value must pass, as `FieldMeta` calls: lengths,
/// bounds, pattern, format and choices.
fn value_checks(field: &FieldDef) -> Vec<TokenStream> {
    let o = &field.options;
    let mut calls = Vec::new();
    // `max_length` is the VARCHAR's length (`DbType::String(Some(200))`):
    // `check` admits it on non-`text` strings only.
    if let Some((_, lit)) = &o.min_length {
        calls.push(quote!(.min_length(#lit)));
    }
    if let Some((_, lit)) = &o.min_value {
        let value = as_f64(lit);
        calls.push(quote!(.min_value(#value)));
    }
    if let Some((_, lit)) = &o.max_value {
        let value = as_f64(lit);
        calls.push(quote!(.max_value(#value)));
    }
    if let Some((_, lit)) = &o.regex {
        calls.push(quote!(.pattern(#lit)));
    }
    if o.email.is_some() {
        calls.push(quote!(.format("email")));
    } else if o.url.is_some() {
        calls.push(quote!(.format("uri")));
    }
    if field.kind == Some(ScalarKind::Choice) {
        let inner = &field.inner;
        calls.push(quote!(.choices::<#inner>()));
    }
    calls
}

/// `.references(Target::meta, OnDelete::...)` for a foreign key, the
/// target spanned at the user's path so a non-model target is reported there.
fn references_call(
    model: &ModelDef,
    field: &FieldDef,
    path: &syn::Path,
    names: Names,
) -> TokenStream {
    let alias = super::entity::alias_ident(model, field);
    let meta =
        quote_spanned!(syn::spanned::Spanned::span(path)=> <#alias as ::ferrobridge::Model>::meta);
    let on_delete = match field
        .options
        .on_delete
        .as_ref()
        .map(|(_, action, _)| *action)
    {
        Some(OnDelete::Cascade) => quote!(Cascade),
        Some(OnDelete::SetNull) => quote!(SetNull),
        Some(OnDelete::Restrict) | None => quote!(Restrict),
    };
    let on_delete_path = names.name("OnDelete");
    quote!(.references(#meta, #on_delete_path::#on_delete))
}

/// A `min_value` / `max_value` literal as the `f64` the metadata holds.
fn as_f64(lit: &syn::Lit) -> TokenStream {
    match lit {
        syn::Lit::Int(i) => {
            let f = syn::LitFloat::new(&format!("{}.0", i.base10_digits()), i.span());
            quote!(#f)
        }
        lit => quote!(#lit),
    }
}

/// The column type migrations create for `field` (`DbType::String(Some(200))`).
fn db_type(field: &FieldDef, names: Names) -> TokenStream {
    let o = &field.options;
    let (some, none) = (names.name("Some"), names.name("None"));
    let variant = match field.kind.expect("checked") {
        ScalarKind::I16 => quote!(SmallInteger),
        ScalarKind::I32 => quote!(Integer),
        ScalarKind::I64 => quote!(BigInteger),
        ScalarKind::F32 => quote!(Float),
        ScalarKind::F64 => quote!(Double),
        ScalarKind::Bool => quote!(Boolean),
        ScalarKind::String if o.text.is_some() => quote!(Text),
        ScalarKind::String => match &o.max_length {
            Some((_, max)) => {
                let max = syn::LitInt::new(max.base10_digits(), max.span());
                quote!(String(#some(#max)))
            }
            None => quote!(String(#none)),
        },
        // Choices are stored as their strings, in a VARCHAR without length
        // (what the `Choices` derive tells SeaORM).
        ScalarKind::Choice => quote!(String(#none)),
        ScalarKind::Decimal => {
            let digits = o
                .max_digits
                .as_ref()
                .map(|(_, l)| l.base10_digits().to_string());
            let places = o
                .decimal_places
                .as_ref()
                .map(|(_, l)| l.base10_digits().to_string());
            let digits = syn::LitInt::new(
                digits.as_deref().unwrap_or("28"),
                proc_macro2::Span::call_site(),
            );
            let places = syn::LitInt::new(
                places.as_deref().unwrap_or("0"),
                proc_macro2::Span::call_site(),
            );
            quote!(Decimal(#digits, #places))
        }
        ScalarKind::Date => quote!(Date),
        ScalarKind::DateTimeUtc => quote!(DateTime),
        ScalarKind::Uuid => quote!(Uuid),
        ScalarKind::Json => quote!(Json),
    };
    let db_type = names.name("DbType");
    quote!(#db_type::#variant)
}

/// The column default of `field` (a `FieldDefault` variant): its literal,
/// or the stored string of a choices field's default variant.
fn field_default(field: &FieldDef, names: Names) -> Option<TokenStream> {
    Some(
        match (&field.options.default, &field.options.default_variant) {
            (Some((_, syn::Lit::Bool(b))), _) => quote!(Bool(#b)),
            (Some((_, syn::Lit::Int(i))), _) => {
                let i = syn::LitInt::new(i.base10_digits(), i.span());
                quote!(Int(#i))
            }
            (Some((_, syn::Lit::Float(f))), _) => {
                let f = syn::LitFloat::new(f.base10_digits(), f.span());
                quote!(Float(#f))
            }
            (Some((_, syn::Lit::Str(s))), _) => quote!(Str(#s)),
            (Some(_), _) | (None, None) => return None,
            // `meta()` imports `Choices` with its short names.
            (None, Some((_, path))) if names.short => quote!(Choice(|| #path.as_choice())),
            (None, Some((_, path))) => {
                let inner = &field.inner;
                quote!(Choice(|| <#inner as ::ferrobridge::Choices>::as_choice(&#path)))
            }
        },
    )
}

/// What is stored for a written value: a `password` field keeps only its hash.
fn stored(field: &FieldDef, value: TokenStream) -> TokenStream {
    if field.options.password.is_none() {
        value
    } else if field.nullable {
        quote!(#value.as_deref().map(::ferrobridge::auth::hash_password))
    } else {
        quote!(::ferrobridge::auth::hash_password(&#value))
    }
}

/// Generates the `Model` impl for the user's struct.
pub fn generate(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let module = super::entity::module_ident(model);
    let names = SchemaNames::of(model);
    let (create, update, read) = (&names.create, &names.update, &names.read);
    let pk = model.primary_key();
    let pk_name = &pk.ident;
    let pk_column = column_ident(pk);
    let pk_type = super::field_type(pk);

    let meta_fn = meta_fn(model);
    let owner_fns = owner_fns(model, &module);
    let display_fn = display_fn(model);
    let writes = WriteParts::of(model);
    let insert_from_fn = insert_from_fn(model, &module, create, &writes);
    let replace_with_fn = replace_with_fn(model, &module, create, &writes);
    let patch_with_fn = patch_with_fn(model, &module, update, &writes);
    let read_from_row_fn = read_from_row_fn(model, read);

    let impl_doc = format!(
        " Generated by `#[derive(Model)]`: `{ident}`'s metadata, entity and request types for the runtime."
    );
    quote! {
        #[doc = #impl_doc]
        #[automatically_derived]
        impl ::ferrobridge::Model for #ident {
            type Entity = #module::Entity;
            type ActiveModel = #module::ActiveModel;
            type Create = #create;
            type Update = #update;
            type Read = #read;
            type Key = #pk_type;

            #meta_fn

            fn primary_key_column() -> #module::Column {
                #module::Column::#pk_column
            }

            fn primary_key(row: &#module::Model) -> #pk_type {
                ::core::clone::Clone::clone(&row.#pk_name)
            }

            #insert_from_fn

            #replace_with_fn

            #owner_fns

            #display_fn

            #patch_with_fn

            #read_from_row_fn
        }
    }
}

/// `Model::read_from_row`: lists and retrieves select only the shown
/// fields' columns (`Model::select_read`: in declaration order), and each
/// key of `read_fields` reads its field by position among them and by
/// column name (`row.get(1, "title")`): by position from the in-thread
/// SQLite pool's stored values, which checks the names on a result's
/// first row; by name from SeaORM's rows.
fn read_from_row_fn(model: &ModelDef, read: &syn::Ident) -> TokenStream {
    let fields = model.read_fields();
    let shown: Vec<&FieldDef> = (model.fields.iter())
        .filter(|f| fields.iter().any(|(_, r)| std::ptr::eq(*r, *f)))
        .collect();
    let (keys, values): (Vec<_>, Vec<_>) = fields
        .iter()
        .map(|(key, f)| {
            let index = shown.iter().position(|s| std::ptr::eq(*s, *f));
            let index = proc_macro2::Literal::usize_unsuffixed(index.unwrap_or_default());
            let column = f.name();
            let value = match f.kind {
                Some(ScalarKind::Choice) => quote!(row.stored(#index, #column)?),
                _ => quote!(row.get(#index, #column)?),
            };
            (key, super::entity::rescaled(f, value))
        })
        .unzip();
    let orm = quote!(::ferrobridge::__private::sea_orm);
    quote! {
        fn read_from_row(
            row: &dyn ::ferrobridge::model::ColumnRow,
        ) -> ::core::result::Result<#read, #orm::DbErr> {
            ::core::result::Result::Ok(#read { #(#keys: #values),* })
        }
    }
}

/// `Model::meta`: the static `ModelMeta` (names, fields, ordering, the API
/// and admin options) the runtime reads.
fn meta_fn(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let app = &model.app;
    let model_name = &model.model_name;
    let object_name = crate::ast::name_of(ident);
    let table = &model.table;
    let plural = &model.plural;
    let doc = model.docs.join(" ");
    let pk_str = model.primary_key().name();
    let meta_names = Names::of(model);
    let fields: Vec<_> = (model.fields.iter())
        .map(|f| field_meta(model, f, meta_names))
        .collect();
    let meta_imports = meta_names.imports(&fields);
    let ordering = ordering_meta(model);
    let unique_together: Vec<Vec<String>> = model
        .unique_together
        .iter()
        .map(|group| group.iter().map(crate::ast::name_of).collect())
        .collect();
    let api_meta = api_meta(model);
    let admin_meta = admin_meta(model);
    let ordering_index = model.ordering_index;
    quote! {
        fn meta() -> &'static ::ferrobridge::model::ModelMeta {
            #meta_imports
            static META: ::ferrobridge::model::ModelMeta = ::ferrobridge::model::ModelMeta {
                app_label: #app,
                model_name: #model_name,
                object_name: #object_name,
                table: #table,
                plural: #plural,
                doc: #doc,
                primary_key: #pk_str,
                fields: &[#(#fields),*],
                ordering: &[#(#ordering),*],
                unique_together: &[#(&[#(#unique_together),*]),*],
                ordering_index: #ordering_index,
                api: #api_meta,
                load_by_keys: ::ferrobridge::api::load_by_keys::<#ident>,
                admin: #admin_meta,
            };
            &META
        }
    }
}

/// `ModelMeta::ordering`: one `OrderingMeta` per `ordering` term, a term
/// through a relation naming the foreign key's field.
fn ordering_meta(model: &ModelDef) -> Vec<TokenStream> {
    (model.ordering.iter())
        .map(|t| {
            let direction = if t.descending {
                quote!(descending)
            } else {
                quote!(ascending)
            };
            match &t.related {
                Some(related) => {
                    let field = model
                        .relation(&t.field)
                        .map(|f| f.name())
                        .unwrap_or_else(|| t.field.clone());
                    quote!(::ferrobridge::model::OrderingMeta::#direction(#field).through(#related))
                }
                None => {
                    let field = &t.field;
                    quote!(::ferrobridge::model::OrderingMeta::#direction(#field))
                }
            }
        })
        .collect()
}

/// `ModelMeta::api`: the `#[api(...)]` lists as field names, the policy,
/// the owner and the pagination mode.
fn api_meta(model: &ModelDef) -> TokenStream {
    let pagination = if model.api.unpaged {
        quote!(::ferrobridge::model::PaginationMode::Off)
    } else {
        quote!(::ferrobridge::model::PaginationMode::Paged)
    };
    let names = |list: &[syn::Ident]| list.iter().map(crate::ast::name_of).collect::<Vec<_>>();
    let api_filter = names(&model.api.filter);
    let api_search = names(&model.api.search);
    let api_ordering = names(&model.api.ordering);
    let reject_unknown = !model.ignore_unknown_fields;
    let policy = policy(model);
    let owner_name = match &model.api.owner {
        Some(owner) => {
            let name = crate::ast::name_of(owner);
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    let own_rows_only = model.api.own_rows_only.is_some();
    quote! {
        ::ferrobridge::model::ApiMeta {
            filter: &[#(#api_filter),*],
            search: &[#(#api_search),*],
            ordering: &[#(#api_ordering),*],
            reject_unknown_fields: #reject_unknown,
            policy: #policy,
            owner: #owner_name,
            own_rows_only: #own_rows_only,
            pagination: #pagination,
        }
    }
}

/// `ApiMeta::policy`: `Owner` with an owner field, the parent's
/// permissions with `permissions_of`, else the declared (or default) policy.
fn policy(model: &ModelDef) -> TokenStream {
    match (
        &model.api.owner,
        &model.api.permissions_of,
        &model.api.policy,
    ) {
        (Some(_), _, _) => quote!(::ferrobridge::model::Policy::Owner),
        (None, Some(parent), None) => {
            let parent = crate::ast::name_of(parent);
            quote!(::ferrobridge::model::Policy::PermissionsOf(#parent))
        }
        (None, _, policy) => {
            let policy = policy.map_or(ApiPolicy::ModelPermissions, |(_, p)| p);
            let variant = format_ident!("{}", policy.runtime_variant());
            quote!(::ferrobridge::model::Policy::#variant)
        }
    }
}

/// `Model::set_owner` and `Model::owner_of` for a model with an owner
/// field; nothing otherwise (the trait's defaults).
fn owner_fns(model: &ModelDef, module: &syn::Ident) -> TokenStream {
    let Some(field) = model.api.owner.as_ref().and_then(|o| model.field(o)) else {
        return quote!();
    };
    let name = &field.ident;
    let (set_value, get_value) = if field.nullable {
        (
            quote!(::core::option::Option::Some(user_id as _)),
            quote!(row.#name.map(|id| id as i64)),
        )
    } else {
        (
            quote!(user_id as _),
            quote!(::core::option::Option::Some(row.#name as i64)),
        )
    };
    quote! {
        fn set_owner(active: &mut #module::ActiveModel, user_id: i64) {
            active.#name = ::ferrobridge::__private::sea_orm::ActiveValue::Set(#set_value);
        }

        fn owner_of(row: &#module::Model) -> ::core::option::Option<i64> {
            #get_value
        }
    }
}

/// What the three write methods share: the fields a `Create` body writes
/// and the `let now = ...;` a method that stamps `auto_now` fields starts with.
struct WriteParts<'a> {
    writable: Vec<&'a syn::Ident>,
    update_now: TokenStream,
}

impl<'a> WriteParts<'a> {
    fn of(model: &'a ModelDef) -> Self {
        let update_now = if model.fields.iter().any(|f| f.options.auto_now.is_some()) {
            quote!(let now = ::ferrobridge::__private::chrono::Utc::now();)
        } else {
            quote!()
        };
        WriteParts {
            writable: writable_fields(model).map(|f| &f.ident).collect(),
            update_now,
        }
    }
}

/// The `now` a timestamp field is set to (bodies bind `let now = ...;`).
fn now_value(field: &FieldDef) -> TokenStream {
    if field.nullable {
        quote!(::core::option::Option::Some(now))
    } else {
        quote!(now)
    }
}

/// `Model::insert_from`: the new row's `ActiveModel` from a `Create` body,
/// with timestamps, generated UUIDs and defaults for the fields it lacks.
fn insert_from_fn(
    model: &ModelDef,
    module: &syn::Ident,
    create: &syn::Ident,
    writes: &WriteParts,
) -> TokenStream {
    let uses_now = model
        .fields
        .iter()
        .any(|f| f.options.auto_now.is_some() || f.options.auto_now_add.is_some());
    let insert_now = if uses_now {
        quote!(let now = ::ferrobridge::__private::chrono::Utc::now();)
    } else {
        quote!()
    };
    let uses_not_set = model.fields.iter().any(|f| {
        !writable_fields(model).any(|w| w.ident == f.ident)
            && f.options.auto_now.is_none()
            && f.options.auto_now_add.is_none()
            && !f.has_default()
            && !f.is_generated_uuid()
    });
    // The body below `use`s these names, so each assignment reads as one line.
    let active_value_use = if uses_not_set {
        quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::{NotSet, Set};
        )
    } else {
        quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
        )
    };
    let insert_values = model.fields.iter().map(|f| {
        let name = &f.ident;
        let o = &f.options;
        let value = if o.auto_now.is_some() || o.auto_now_add.is_some() {
            let now = now_value(f);
            quote!(Set(#now))
        } else if f.is_generated_uuid() {
            quote!(Set(::ferrobridge::__private::uuid::Uuid::new_v4()))
        } else if writes.writable.contains(&name) {
            let value = stored(f, quote!(input.#name));
            quote!(Set(#value))
        } else if let Some(value) = default_value(f) {
            quote!(Set(#value))
        } else {
            quote!(NotSet)
        };
        quote!(#name: #value)
    });
    quote! {
        fn insert_from(input: #create) -> #module::ActiveModel {
            #active_value_use
            #insert_now
            #module::ActiveModel {
                #(#insert_values,)*
            }
        }
    }
}

/// `Model::replace_with`: a `PUT` body over the stored row, every writable
/// field but the primary key, and `auto_now` stamped.
fn replace_with_fn(
    model: &ModelDef,
    module: &syn::Ident,
    create: &syn::Ident,
    writes: &WriteParts,
) -> TokenStream {
    let pk_name = &model.primary_key().ident;
    let replace_values: Vec<TokenStream> = model
        .fields
        .iter()
        .filter_map(|f| {
            let name = &f.ident;
            if f.options.auto_now.is_some() {
                let now = now_value(f);
                Some(quote!(active.#name = Set(#now);))
            } else if writes.writable.contains(&name) && f.options.primary_key.is_none() {
                let value = stored(f, quote!(input.#name));
                Some(quote!(active.#name = Set(#value);))
            } else {
                None
            }
        })
        .collect();
    let replace_use = if replace_values.is_empty() {
        quote!(let _ = active;)
    } else {
        quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
        )
    };
    let replace_unused = if writes.writable.iter().all(|n| *n == pk_name) {
        quote!(let _ = input;)
    } else {
        quote!()
    };
    let update_now = &writes.update_now;
    quote! {
        fn replace_with(active: &mut #module::ActiveModel, input: #create) {
            #replace_use
            #update_now
            #replace_unused
            #(#replace_values)*
        }
    }
}

/// `Model::patch_with`: a `PATCH` body's present fields over the stored
/// row, and `auto_now` stamped.
fn patch_with_fn(
    model: &ModelDef,
    module: &syn::Ident,
    update: &syn::Ident,
    writes: &WriteParts,
) -> TokenStream {
    let patch_values: Vec<TokenStream> = patchable_fields(model)
        .map(|f| {
            let name = &f.ident;
            let value = if f.options.password.is_some() {
                let patched = stored(f, quote!(value));
                quote!(input.#name.map(|value| #patched))
            } else {
                quote!(input.#name)
            };
            quote!(set_present(&mut active.#name, #value);)
        })
        .collect();
    let touch: Vec<TokenStream> = model
        .fields
        .iter()
        .filter(|f| f.options.auto_now.is_some())
        .map(|f| {
            let name = &f.ident;
            let now = now_value(f);
            quote!(active.#name = Set(#now);)
        })
        .collect();
    let patch_use = match (patch_values.is_empty(), touch.is_empty()) {
        (true, true) => quote!(let _ = active;),
        (true, false) => quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
        ),
        (false, true) => quote!(
            use ::ferrobridge::__private::set_present;
        ),
        (false, false) => quote!(
            use ::ferrobridge::__private::sea_orm::ActiveValue::Set;
            use ::ferrobridge::__private::set_present;
        ),
    };
    let patch_unused = if patch_values.is_empty() {
        quote!(let _ = input;)
    } else {
        quote!()
    };
    let update_now = &writes.update_now;
    quote! {
        fn patch_with(active: &mut #module::ActiveModel, input: #update) {
            #patch_use
            #patch_unused
            #update_now
            #(#patch_values)*
            #(#touch)*
        }
    }
}

/// `ModelMeta::admin`: the `#[admin(...)]` lists as field names.
fn admin_meta(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let admin = &model.admin;
    let names = |list: &[syn::Ident]| list.iter().map(crate::ast::name_of).collect::<Vec<_>>();
    let list_display = names(&admin.list_display);
    let list_filter = names(&admin.list_filter);
    let search = names(&admin.search);
    let autocomplete = names(&admin.autocomplete);
    let inlines = admin.inlines.iter();
    let list_per_page = match &admin.list_per_page {
        Some(lit) => quote!(#lit),
        None => quote!(100),
    };
    let hidden = admin.hidden.is_some();
    quote! {
        ::ferrobridge::model::AdminMeta {
            list_display: &[#(#list_display),*],
            list_filter: &[#(#list_filter),*],
            search: &[#(#search),*],
            autocomplete: &[#(#autocomplete),*],
            inlines: &[#(<#inlines as ::ferrobridge::Model>::meta),*],
            list_per_page: #list_per_page,
            hidden: #hidden,
            labels: ::ferrobridge::admin::load_labels::<#ident>,
        }
    }
}

/// `Model::display` from `#[model(display = "...")]` (or the struct's
/// `Display` impl with a bare `display`); nothing, for the default.
fn display_fn(model: &ModelDef) -> TokenStream {
    use crate::ast::{DisplayDef, DisplayPart, ScalarKind};
    let module = super::entity::module_ident(model);
    let body = match &model.display {
        None => return quote!(),
        Some(DisplayDef::DisplayImpl(_)) => {
            let ident = &model.ident;
            quote!(::std::string::ToString::to_string(&#ident::from(::core::clone::Clone::clone(row))))
        }
        Some(DisplayDef::Template(_, parts)) => {
            let pieces = parts.iter().map(|part| match part {
                DisplayPart::Text(text) => quote!(out.push_str(#text);),
                DisplayPart::Field(name) => {
                    let field = model
                        .field_named(name)
                        .expect("checked: display names fields");
                    let ident = &field.ident;
                    let shown = if field.kind == Some(ScalarKind::Choice) {
                        quote!(::ferrobridge::Choices::as_choice(value))
                    } else {
                        quote!(&::std::string::ToString::to_string(value))
                    };
                    if field.nullable {
                        quote! {
                            if let ::core::option::Option::Some(value) = &row.#ident {
                                out.push_str(#shown);
                            }
                        }
                    } else {
                        quote! {
                            let value = &row.#ident;
                            out.push_str(#shown);
                        }
                    }
                }
            });
            quote! {
                let mut out = ::std::string::String::new();
                #({ #pieces })*
                out
            }
        }
    };
    quote! {
        fn display(row: &#module::Model) -> ::std::string::String {
            #body
        }
    }
}
