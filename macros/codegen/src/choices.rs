//! `#[derive(Choices)]`: a unit-only Rust enum stored as a string column,
//! serialized as that string and listed as `enum` choices in JSON Schema.
//!
//! Each variant is stored as its name in snake_case (`InReview` ->
//! `"in_review"`) unless `#[choice(rename = "...")]` says otherwise; its
//! human label is its doc comment, or its name split into words.

use heck::{ToSnakeCase, ToTitleCase};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::attr::doc_lines;
use crate::ctxt::{Ctxt, suggest};

struct Choice {
    ident: syn::Ident,
    value: String,
    label: String,
}

/// Expands `#[derive(Choices)]`.
pub fn expand_choices(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let choices = parse_choices(&cx, input);
    if let Err(err) = cx.check() {
        return err.to_compile_error();
    }
    let name = &input.ident;
    let choices_impl = choices_impl(name, &choices);
    let serde_impls = serde_impls(name);
    let schema_impl = schema_impl(input, &choices);
    let sea_orm_impls = sea_orm_impls(name);
    quote! {
        #choices_impl

        const _: () = {
            use ::ferrobridge::__private::sea_orm;
            use ::ferrobridge::Choices as _;

            #serde_impls

            #schema_impl

            #sea_orm_impls
        };
    }
}

/// The enum's variants as choices, each misuse (not an enum, a variant
/// with fields, an unknown key, a value stored twice, generics) recorded in `cx`.
fn parse_choices(cx: &Ctxt, input: &DeriveInput) -> Vec<Choice> {
    let mut choices = Vec::new();
    match &input.data {
        Data::Enum(data) => {
            if data.variants.is_empty() {
                cx.error_spanned_by(&input.ident, "#[derive(Choices)] needs at least one variant");
            }
            for variant in &data.variants {
                if !matches!(variant.fields, Fields::Unit) {
                    cx.error_spanned_by(
                        &variant.fields,
                        "a choice is a unit variant: remove the fields, or store this data in its own model",
                    );
                    continue;
                }
                let value = stored_value(cx, variant);
                if choices.iter().any(|c: &Choice| c.value == value) {
                    cx.error_spanned_by(&variant.ident, format!("two variants are stored as \"{value}\": rename one with #[choice(rename = \"...\")]"));
                }
                choices.push(Choice {
                    ident: variant.ident.clone(),
                    value,
                    label: label(variant),
                });
            }
        }
        _ => cx.error_spanned_by(
            &input.ident,
            "#[derive(Choices)] works on enums with unit variants, e.g. `enum Status { Draft, Published }`",
        ),
    }
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(Choices)] does not support generic parameters",
        );
    }
    choices
}

/// The string a variant is stored as: its `#[choice(rename = "...")]`, or
/// its name in snake_case.
fn stored_value(cx: &Ctxt, variant: &syn::Variant) -> String {
    let mut value = variant.ident.to_string().to_snake_case();
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("choice")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                value = lit.value();
                Ok(())
            } else {
                let key = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                cx.error_spanned_by(
                    &meta.path,
                    format!(
                        "unknown #[choice(...)] attribute `{key}`: {}",
                        suggest(&key, &["rename"])
                    ),
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    value
}

/// A variant's human label: its first doc line, or its name as words.
fn label(variant: &syn::Variant) -> String {
    doc_lines(&variant.attrs)
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            let words = variant.ident.to_string().to_title_case();
            let mut chars = words.chars();
            match chars.next() {
                Some(first) => first.to_string() + &chars.as_str().to_lowercase(),
                None => words,
            }
        })
}

/// `impl Choices`: the stored values, their labels and the moves between
/// a variant and its value.
fn choices_impl(name: &syn::Ident, choices: &[Choice]) -> TokenStream {
    let idents: Vec<_> = choices.iter().map(|c| &c.ident).collect();
    let values: Vec<_> = choices.iter().map(|c| &c.value).collect();
    let labels: Vec<_> = choices.iter().map(|c| &c.label).collect();
    quote! {
        impl ::ferrobridge::Choices for #name {
            const VARIANTS: &'static [&'static str] = &[#(#values),*];
            const LABELS: &'static [&'static str] = &[#(#labels),*];

            fn as_choice(&self) -> &'static str {
                match self {
                    #(Self::#idents => #values,)*
                }
            }

            fn from_choice(value: &str) -> ::core::option::Option<Self> {
                match value {
                    #(#values => ::core::option::Option::Some(Self::#idents),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

/// `Serialize`/`Deserialize` as the stored string.
fn serde_impls(name: &syn::Ident) -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::ferrobridge::__private::serde::Serialize for #name {
            fn serialize<S: ::ferrobridge::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_choice())
            }
        }

        #[automatically_derived]
        impl<'de> ::ferrobridge::__private::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::ferrobridge::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                ::ferrobridge::__private::deserialize_choice(deserializer)
            }
        }
    }
}

/// `JsonSchema`: a string schema listing the stored values as `enum`.
fn schema_impl(input: &DeriveInput, choices: &[Choice]) -> TokenStream {
    let name = &input.ident;
    let name_str = name.to_string();
    let description = doc_lines(&input.attrs).join(" ");
    let values: Vec<_> = choices.iter().map(|c| &c.value).collect();
    let schema_description = if description.is_empty() {
        quote!()
    } else {
        quote!("description": #description,)
    };
    quote! {
        #[automatically_derived]
        impl ::ferrobridge::__private::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#name_str)
            }

            // Two enums of one name in different modules are different schemas.
            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(::core::concat!(::core::module_path!(), "::", #name_str))
            }

            fn json_schema(
                _: &mut ::ferrobridge::__private::schemars::SchemaGenerator,
            ) -> ::ferrobridge::__private::schemars::Schema {
                ::ferrobridge::__private::schemars::json_schema!({
                    "title": #name_str,
                    #schema_description
                    "type": "string",
                    "enum": [#(#values),*],
                })
            }
        }
    }
}

/// SeaORM's value traits, so the enum is a string column.
fn sea_orm_impls(name: &syn::Ident) -> TokenStream {
    let name_str = name.to_string();
    quote! {
        #[automatically_derived]
        impl ::core::convert::From<#name> for sea_orm::Value {
            fn from(value: #name) -> Self {
                sea_orm::Value::String(::core::option::Option::Some(value.as_choice().into()))
            }
        }

        #[automatically_derived]
        impl sea_orm::TryGetable for #name {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                index: I,
            ) -> ::core::result::Result<Self, sea_orm::TryGetError> {
                let stored = <::std::string::String as sea_orm::TryGetable>::try_get_by(res, index)?;
                #name::from_choice(&stored).ok_or_else(|| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(::std::format!(
                        "{:?} is not a choice of {}", stored, #name_str
                    )))
                })
            }
        }

        #[automatically_derived]
        impl sea_orm::sea_query::ValueType for #name {
            fn try_from(
                value: sea_orm::Value,
            ) -> ::core::result::Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let stored = <::std::string::String as sea_orm::sea_query::ValueType>::try_from(value)?;
                #name::from_choice(&stored).ok_or(sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> ::std::string::String {
                ::std::string::String::from(#name_str)
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        #[automatically_derived]
        impl sea_orm::sea_query::Nullable for #name {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(::core::option::Option::None)
            }
        }

        #[automatically_derived]
        impl sea_orm::sea_query::postgres_array::NotU8 for #name {}
    }
}
