//! What a failed derive emits beside its errors: the items it would have
//! generated, as stand-ins from `ferrobridge::__private::fallback`, so code
//! using the model reports no further errors (thiserror does the same).

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::ast::{ident_for, name_of};

/// `mod post`, `PostCreate`/`PostUpdate`/`PostRead` and `impl Model for
/// Post`, all stand-ins; nothing here reads the (invalid) attributes.
pub fn generate(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let name = name_of(ident);
    let module = ident_for(&name.to_snake_case(), proc_macro2::Span::call_site());
    let create = format_ident!("{}Create", name);
    let update = format_ident!("{}Update", name);
    let read = format_ident!("{}Read", name);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    // Generic structs are refused; the bound keeps this impl well-formed anyway.
    where_clause
        .predicates
        .push(syn::parse_quote!(Self: ::core::marker::Send + ::core::marker::Sync + 'static));
    let fb = quote!(::ferrobridge::__private::fallback);
    let never = quote!(::core::unreachable!(
        "#[derive(Model)] failed: this crate does not build"
    ));
    quote! {
        #[doc(hidden)]
        #vis mod #module {
            pub use ::ferrobridge::__private::fallback::{
                ActiveModel, Column, Entity, Model, PrimaryKey, Relation,
            };
            pub use ::ferrobridge::__private::fallback::perms;
        }
        #[doc(hidden)]
        #vis type #create = #fb::Body;
        #[doc(hidden)]
        #vis type #update = #fb::Body;
        #[doc(hidden)]
        #vis type #read = #fb::Read;

        impl #impl_generics ::core::convert::From<#fb::Model> for #ident #ty_generics #where_clause {
            fn from(_: #fb::Model) -> Self {
                #never
            }
        }

        impl #impl_generics ::ferrobridge::Model for #ident #ty_generics #where_clause {
            type Entity = #fb::Entity;
            type ActiveModel = #fb::ActiveModel;
            type Create = #fb::Body;
            type Update = #fb::Body;
            type Read = #fb::Read;
            type Key = i64;
            fn meta() -> &'static ::ferrobridge::model::ModelMeta { #never }
            fn primary_key_column() -> #fb::Column { #fb::Column::Id }
            fn primary_key(_: &#fb::Model) -> i64 { #never }
            fn insert_from(_: #fb::Body) -> #fb::ActiveModel { #never }
            fn replace_with(_: &mut #fb::ActiveModel, _: #fb::Body) { #never }
            fn patch_with(_: &mut #fb::ActiveModel, _: #fb::Body) { #never }
            fn read_from_row(
                _: &dyn ::ferrobridge::model::ColumnRow,
            ) -> ::core::result::Result<#fb::Read, ::ferrobridge::__private::sea_orm::DbErr> {
                #never
            }
        }
    }
}
