//! The request and response types: `PostCreate` (POST and PUT bodies),
//! `PostUpdate` (PATCH bodies, every field optional) and `PostRead`.
//!
//! Each constraint is written once as a `validator` attribute, which both the
//! request validation and schemars' JSON Schema read.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{doc_attrs, field_type};
use crate::ast::{FieldDef, ModelDef};

/// Names of the three generated types.
pub struct SchemaNames {
    /// `PostCreate`
    pub create: syn::Ident,
    /// `PostUpdate`
    pub update: syn::Ident,
    /// `PostRead`
    pub read: syn::Ident,
}

impl SchemaNames {
    /// The names derived from the model's struct name.
    pub fn of(model: &ModelDef) -> Self {
        SchemaNames {
            create: format_ident!("{}Create", model.ident),
            update: format_ident!("{}Update", model.ident),
            read: format_ident!("{}Read", model.ident),
        }
    }
}

/// The fields a client may send when creating or replacing a row.
pub fn writable_fields(model: &ModelDef) -> impl Iterator<Item = &FieldDef> {
    model.fields.iter().filter(|f| !f.is_server_set())
}

/// The fields a PATCH may change: writable, and never the primary key.
pub fn patchable_fields(model: &ModelDef) -> impl Iterator<Item = &FieldDef> {
    writable_fields(model).filter(|f| f.options.primary_key.is_none())
}

fn derive_attrs(validate: bool, debug: bool) -> TokenStream {
    let debug = if debug {
        quote!(::core::fmt::Debug,)
    } else {
        quote!()
    };
    let (validate_derive, validate_crate) = if validate {
        (
            quote!(::ferrobridge::__private::validator::Validate,),
            quote!(#[validate(crate = "::ferrobridge::__private::validator")]),
        )
    } else {
        (quote!(), quote!())
    };
    quote! {
        #[derive(
            ::core::clone::Clone,
            #debug
            ::ferrobridge::__private::serde::Serialize,
            ::ferrobridge::__private::serde::Deserialize,
            ::ferrobridge::__private::schemars::JsonSchema,
            #validate_derive
        )]
        #[schemars(crate = "::ferrobridge::__private::schemars")]
        #validate_crate
    }
}

/// The `#[validate(...)]` attribute carrying the field's constraints, if any.
fn validate_attr(model_ident: &syn::Ident, field: &FieldDef) -> TokenStream {
    let o = &field.options;
    let mut rules = Vec::new();
    if o.min_length.is_some() || o.max_length.is_some() {
        let min = o.min_length.as_ref().map(|(_, v)| quote!(min = #v));
        let max = o.max_length.as_ref().map(|(_, v)| quote!(max = #v));
        let args = min.into_iter().chain(max);
        rules.push(quote!(length(#(#args),*)));
    }
    if o.min_value.is_some() || o.max_value.is_some() {
        let min = o.min_value.as_ref().map(|(_, v)| quote!(min = #v));
        let max = o.max_value.as_ref().map(|(_, v)| quote!(max = #v));
        let args = min.into_iter().chain(max);
        rules.push(quote!(range(#(#args),*)));
    }
    if o.email.is_some() {
        rules.push(quote!(email));
    }
    if o.url.is_some() {
        rules.push(quote!(url));
    }
    if o.regex.is_some() {
        let pattern = regex_static(model_ident, field);
        rules.push(quote!(regex(path = *#pattern)));
    }
    if rules.is_empty() {
        quote!()
    } else {
        quote!(#[validate(#(#rules),*)])
    }
}

/// The name of the compiled `regex` of a field: `POST_SLUG_PATTERN`.
fn regex_static(model_ident: &syn::Ident, field: &FieldDef) -> syn::Ident {
    format_ident!(
        "{}_{}_PATTERN",
        heck::ToShoutySnakeCase::to_shouty_snake_case(crate::ast::name_of(model_ident).as_str()),
        heck::ToShoutySnakeCase::to_shouty_snake_case(field.name().as_str())
    )
}

/// The checks of one field's declared constraints, run on a value read
/// from a request body (`value` is a `&T` of the field's scalar type).
fn constraint_checks(model_ident: &syn::Ident, field: &FieldDef) -> Vec<TokenStream> {
    let o = &field.options;
    let key = field.name();
    let mut checks = Vec::new();
    if o.min_length.is_some() || o.max_length.is_some() {
        let min = opt(o.min_length.as_ref().map(|(_, v)| quote!(#v)));
        let max = opt(o.max_length.as_ref().map(|(_, v)| quote!(#v)));
        checks.push(quote!(reader.check_length(#key, value, #min, #max);));
    }
    if o.min_value.is_some() || o.max_value.is_some() {
        let min = opt(o.min_value.as_ref().map(|(_, v)| quote!(#v)));
        let max = opt(o.max_value.as_ref().map(|(_, v)| quote!(#v)));
        checks.push(quote!(reader.check_range(#key, *value, #min, #max);));
    }
    if let (Some((_, digits)), Some((_, places))) = (&o.max_digits, &o.decimal_places) {
        checks.push(quote!(reader.check_decimal(#key, value, #digits, #places);));
    }
    if o.email.is_some() {
        checks.push(quote!(reader.check_email(#key, value);));
    }
    if o.url.is_some() {
        checks.push(quote!(reader.check_url(#key, value);));
    }
    if o.regex.is_some() {
        let pattern = regex_static(model_ident, field);
        checks.push(quote!(reader.check_pattern(#key, value, &#pattern);));
    }
    checks
}

fn opt(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// `if let Some(Some(value)) = &name { checks }` with one `Some` per
/// layer of `Option` around the scalar.
fn check_block(name: &syn::Ident, layers: usize, checks: &[TokenStream]) -> TokenStream {
    if checks.is_empty() {
        return quote!();
    }
    let mut pattern = quote!(value);
    for _ in 0..layers {
        pattern = quote!(::core::option::Option::Some(#pattern));
    }
    quote! {
        if let #pattern = &#name {
            #(#checks)*
        }
    }
}

fn field_docs(field: &FieldDef) -> TokenStream {
    match &field.docs {
        Some(doc) => doc_attrs(&[doc]),
        None => quote!(),
    }
}

/// The declared default as a value of the field's type, if any.
pub fn default_value(field: &FieldDef) -> Option<TokenStream> {
    let value = match (&field.options.default, &field.options.default_variant) {
        (Some((_, lit @ syn::Lit::Str(_))), _) => quote!(::std::string::String::from(#lit)),
        (Some((_, lit)), _) => quote!(#lit),
        (None, Some((_, path))) => quote!(#path),
        (None, None) => return None,
    };
    Some(if field.nullable {
        quote!(::core::option::Option::Some(#value))
    } else {
        value
    })
}

fn kind_path(field: &FieldDef) -> TokenStream {
    let kind = field.kind.expect("checked");
    let variant = format_ident!("{}", kind.runtime_variant());
    if kind == crate::ast::ScalarKind::Choice {
        let inner = &field.inner;
        quote!(::ferrobridge::schema::Expected::choices::<#inner>())
    } else {
        quote!(::ferrobridge::model::FieldKind::#variant)
    }
}

/// Generates the three types, their body parsers and `From` for the read type.
pub fn generate(model: &ModelDef) -> TokenStream {
    let ident = &model.ident;
    let vis = &model.vis;
    let module = super::entity::module_ident(model);
    let names = SchemaNames::of(model);
    let (create, update, read) = (&names.create, &names.update, &names.read);
    let has_secret = model.fields.iter().any(|f| f.is_secret());
    let derives = derive_attrs(true, !has_secret);
    let read_derives = derive_attrs(false, true);
    let (create_debug, update_debug) = if has_secret {
        (
            super::debug_impl(
                quote!(#create),
                &create.to_string(),
                writable_fields(model),
                |n| quote!(self.#n),
            ),
            super::debug_impl(
                quote!(#update),
                &update.to_string(),
                patchable_fields(model),
                |n| quote!(self.#n),
            ),
        )
    } else {
        (quote!(), quote!())
    };
    let plural = &model.plural;
    let reject_unknown = !model.ignore_unknown_fields;
    let deny_unknown = if model.ignore_unknown_fields {
        quote!()
    } else {
        quote!(, deny_unknown_fields)
    };
    let patterns = model.fields.iter().filter_map(|f| {
        let (_, lit) = f.options.regex.as_ref()?;
        let name = regex_static(ident, f);
        let doc = format!(" The `regex` of `{}::{}`, compiled once.", ident, f.name());
        Some(quote! {
            #[doc = #doc]
            static #name: ::std::sync::LazyLock<::ferrobridge::__private::regex::Regex> =
                ::std::sync::LazyLock::new(|| {
                    ::ferrobridge::__private::regex::Regex::new(#lit)
                        .expect("checked by #[derive(Model)]")
                });
        })
    });

    // --- Create ---------------------------------------------------------
    let mut default_fns = Vec::new();
    let create_fields: Vec<_> = writable_fields(model)
        .map(|f| {
            let name = &f.ident;
            let ty = field_type(f);
            let docs = field_docs(f);
            let validate = validate_attr(ident, f);
            let serde = if let Some(value) = default_value(f) {
                let fn_name = format_ident!("default_{}", f.name());
                let fn_path = format!("{create}::{fn_name}");
                let doc = format!(
                    " The default of `{}` when a request leaves it out.",
                    f.name()
                );
                default_fns.push(quote! {
                    #[doc = #doc]
                    pub fn #fn_name() -> #ty { #value }
                });
                quote!(#[serde(default = #fn_path)])
            } else if f.nullable {
                quote!(#[serde(default)])
            } else {
                quote!()
            };
            quote!(#docs #serde #validate pub #name: #ty)
        })
        .collect();
    let create_reads = writable_fields(model).map(|f| {
        let name = &f.ident;
        let key = f.name();
        let ty = field_type(f);
        let kind = kind_path(f);
        let read = if f.has_default() {
            let fn_name = format_ident!("default_{}", f.name());
            quote!(let #name = reader.optional::<#ty>(#key, #kind, #create::#fn_name);)
        } else if f.nullable {
            quote!(let #name = reader.optional::<#ty>(#key, #kind, ::core::option::Option::default);)
        } else {
            quote!(let #name = reader.required::<#ty>(#key, #kind);)
        };
        let checks = check_block(name, 1 + usize::from(f.nullable), &constraint_checks(ident, f));
        quote!(#read #checks)
    });
    let create_names: Vec<_> = writable_fields(model).map(|f| &f.ident).collect();
    let create_doc = doc_attrs(&[
        format!(
            "The body that creates a `{ident}` (`POST /api/{plural}`) or replaces one (`PUT`)."
        ),
        String::new(),
        "Server-set fields (auto primary key, `read_only`, `auto_now*`) are not accepted.".into(),
    ]);
    let create_keys = writable_fields(model).map(FieldDef::name);

    // --- Update ---------------------------------------------------------
    let update_fields = patchable_fields(model).map(|f| {
        let name = &f.ident;
        let ty = field_type(f);
        let docs = field_docs(f);
        let validate = validate_attr(ident, f);
        // Readable in `cargo expand`: `::std::string::String`, not `:: std :: ...`.
        let ty_text = quote!(#ty)
            .to_string()
            .replace(" :: ", "::")
            .replace(":: ", "::")
            .replace(" < ", "<")
            .replace(" >", ">");
        let serde = if f.nullable {
            // `null` clears the value; an absent key leaves it unchanged.
            quote!(#[serde(
                default,
                skip_serializing_if = "::core::option::Option::is_none",
                deserialize_with = "::ferrobridge::__private::double_option"
            )])
        } else {
            // Absent is allowed, `null` is not (the reader answers 422
            // `*_type`), so the schema is the field's own, not nullable.
            quote!(
                #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
                #[schemars(with = #ty_text)]
            )
        };
        quote!(#docs #serde #validate pub #name: ::core::option::Option<#ty>)
    });
    let update_reads = patchable_fields(model).map(|f| {
        let name = &f.ident;
        let key = f.name();
        let ty = field_type(f);
        let kind = kind_path(f);
        let checks = check_block(
            name,
            2 + usize::from(f.nullable),
            &constraint_checks(ident, f),
        );
        quote!(let #name = reader.patch::<#ty>(#key, #kind); #checks)
    });
    let update_names: Vec<_> = patchable_fields(model).map(|f| &f.ident).collect();
    let update_keys = patchable_fields(model).map(FieldDef::name);
    let update_doc = doc_attrs(&[format!(
        "The body of a partial update of a `{ident}` (`PATCH /api/{plural}/{{pk}}`): absent fields stay unchanged."
    )]);

    // --- Read -----------------------------------------------------------
    let shown = model.read_fields();
    let read_fields = shown.iter().map(|(key, f)| {
        let ty = field_type(f);
        let docs = field_docs(f);
        let read_only = if f.is_server_set() {
            quote!(#[schemars(extend("readOnly" = true))])
        } else {
            quote!()
        };
        quote!(#docs #read_only pub #key: #ty)
    });
    let read_names: Vec<_> = shown.iter().map(|(key, _)| key).collect();
    let read_values: Vec<_> = shown
        .iter()
        .map(|(_, f)| super::entity::read_value(f))
        .collect();
    let read_doc = doc_attrs(&[format!(
        "A `{ident}` as the API returns it{}.",
        if model.api.read.is_some() {
            " (the fields of `#[api(read(...))]`)"
        } else if model.fields.iter().any(|f| f.is_secret()) {
            " (write-only fields left out)"
        } else {
            ""
        }
    )]);

    quote! {
        #(#patterns)*

        #create_doc
        #derives
        #[serde(crate = "::ferrobridge::__private::serde" #deny_unknown)]
        #vis struct #create {
            #(#create_fields,)*
        }

        impl #create {
            #(#default_fns)*
        }

        #create_debug
        #update_debug

        impl ::ferrobridge::schema::FromJsonBody for #create {
            fn from_json_body(
                body: ::ferrobridge::__private::serde_json::Value,
            ) -> ::core::result::Result<Self, ::ferrobridge::error::ValidationError> {
                let mut reader = ::ferrobridge::schema::ObjectReader::new(body, &[#(#create_keys),*], #reject_unknown)?;
                #(#create_reads)*
                match (#(#create_names,)*) {
                    (#(::core::option::Option::Some(#create_names),)*) if reader.is_clean() => {
                        ::core::result::Result::Ok(#create { #(#create_names),* })
                    }
                    _ => ::core::result::Result::Err(reader.into_error()),
                }
            }
        }

        #update_doc
        #derives
        #[serde(crate = "::ferrobridge::__private::serde" #deny_unknown)]
        #vis struct #update {
            #(#update_fields,)*
        }

        impl ::ferrobridge::schema::FromJsonBody for #update {
            fn from_json_body(
                body: ::ferrobridge::__private::serde_json::Value,
            ) -> ::core::result::Result<Self, ::ferrobridge::error::ValidationError> {
                let mut reader = ::ferrobridge::schema::ObjectReader::new(body, &[#(#update_keys),*], #reject_unknown)?;
                #(#update_reads)*
                match (#(#update_names,)*) {
                    (#(::core::option::Option::Some(#update_names),)*) if reader.is_clean() => {
                        ::core::result::Result::Ok(#update { #(#update_names),* })
                    }
                    _ => ::core::result::Result::Err(reader.into_error()),
                }
            }
        }

        #read_doc
        #read_derives
        #[serde(crate = "::ferrobridge::__private::serde")]
        #vis struct #read {
            #(#read_fields,)*
        }

        impl ::core::convert::From<#module::Model> for #read {
            fn from(row: #module::Model) -> Self {
                #read { #(#read_names: #read_values),* }
            }
        }
    }
}
